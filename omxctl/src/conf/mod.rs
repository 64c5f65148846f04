//! A client's declarative configuration (`/etc/omx/omx.conf`), as `omxctl up`/`down` apply it
//! and `omxctl showconf` prints it: pool nodes, devices over them, and swap on the devices,
//! in the spirit of `wg-quick` and `/etc/nbdtab`.
//!
//! ```text
//! [Node pool1]
//! Interface = eth1
//! MAC = 02:00:00:00:00:02
//! Size = 4G
//!
//! [Device omx0]
//! Size = 2G
//! Nodes = pool1
//! SwapPriority = 10
//! ```
//!
//! Sections are `[Node NAME]` and `[Device NAME]`; keys are case-insensitive; `#` starts a
//! comment. Node keys: `Interface`, `MAC`, `Size` (required), `MTU`, `Version` (1.1, 1.0.3),
//! `ByteOrder` (spec, raw), `Integrity` (xxh64, crc32c, none), `IoTimeout` (seconds), as the
//! options of `omxctl node add`. Device keys: `Size` (required), `Nodes` (names of this file's
//! nodes, comma-separated; default all of them), `Replicas` (1, 2), `Swap` (yes, no; default
//! yes), `SwapPriority` (-1 to 32767; default the kernel's), `Discard` (pages, once, both, no;
//! default pages: freed swap goes back to the nodes).
//! A node name is this file's own (the module numbers nodes itself): a node is matched by
//! interface and MAC.

pub mod apply;
pub mod plan;

use omx_args::format_mac;

use crate::cli::parse_io_timeout;
use crate::netlink::attrs::{ByteOrder, Integrity, Version, DEVNAME_MAX, IFNAME_MAX};
use crate::netlink::NodeAddRequest;
use crate::units::parse_block_size;

pub use crate::cli::DEFAULT_CONF as DEFAULT_PATH;

/// A pool node of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConf {
    pub name: String,
    pub req: NodeAddRequest,
}

/// How swap discards freed pages (`swapon --discard=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discard {
    Pages,
    Once,
    Both,
    No,
}

/// Swap on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwapConf {
    pub priority: Option<i32>,
    pub discard: Discard,
}

/// A device of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevConf {
    pub name: String,
    pub size: u64,
    /// Member nodes by name; empty: all nodes of the file.
    pub nodes: Vec<String>,
    pub replicas: Option<u32>,
    /// `None`: no swap on it.
    pub swap: Option<SwapConf>,
}

/// A whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub nodes: Vec<NodeConf>,
    pub devices: Vec<DevConf>,
}

enum Section {
    Node(NodeDraft),
    Device(DevDraft),
}

struct NodeDraft {
    name: String,
    line: usize,
    iface: Option<String>,
    mac: Option<[u8; 6]>,
    size: Option<u64>,
    req: NodeAddRequest,
}

struct DevDraft {
    line: usize,
    dev: DevConf,
    size: Option<u64>,
    swap: bool,
    swap_conf: SwapConf,
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && !s.contains(['\0', '/', ',', '[', ']']) && !s.chars().any(char::is_whitespace)
}

/// Parses a configuration; `origin` names it in errors (`omx.conf:7: ...`).
pub fn parse(text: &str, origin: &str) -> Result<Config, String> {
    let mut conf = Config::default();
    let mut current: Option<Section> = None;
    let mut node_lines: Vec<usize> = Vec::new();
    let mut dev_lines: Vec<usize> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let at = |msg: String| format!("{origin}:{n}: {msg}");
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_prefix('[') {
            let head = head
                .strip_suffix(']')
                .ok_or_else(|| at(format!("'{line}': a section header ends with ']'")))?;
            finish(
                current.take(),
                &mut conf,
                &mut node_lines,
                &mut dev_lines,
                origin,
            )?;
            let mut words = head.split_whitespace();
            let (kind, name) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            if words.next().is_some() || !valid_name(name) {
                return Err(at(format!("'[{head}]': expected [Node NAME] or [Device NAME], NAME without spaces, '/' or ','")));
            }
            current = Some(match kind.to_ascii_lowercase().as_str() {
                "node" => Section::Node(NodeDraft {
                    name: name.to_string(),
                    line: n,
                    iface: None,
                    mac: None,
                    size: None,
                    req: NodeAddRequest {
                        ifname: String::new(),
                        peer_mac: [0; 6],
                        size: 0,
                        byte_order: ByteOrder::Spec,
                        version: Version::V1_1,
                        mtu: None,
                        integrity: Integrity::Xxh64,
                        io_timeout_ms: None,
                    },
                }),
                "device" => {
                    if name.len() > DEVNAME_MAX {
                        return Err(at(format!(
                            "device name '{name}' is longer than {DEVNAME_MAX} bytes"
                        )));
                    }
                    Section::Device(DevDraft {
                        line: n,
                        dev: DevConf {
                            name: name.to_string(),
                            size: 0,
                            nodes: Vec::new(),
                            replicas: None,
                            swap: None,
                        },
                        size: None,
                        swap: true,
                        swap_conf: SwapConf {
                            priority: None,
                            discard: Discard::Pages,
                        },
                    })
                }
                _ => {
                    return Err(at(format!(
                        "unknown section '[{head}]' (expected [Node NAME] or [Device NAME])"
                    )))
                }
            });
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| at(format!("'{line}': expected KEY = VALUE")))?;
        let bad = |what: &str| at(format!("{key} = {value}: {what}"));
        match current.as_mut() {
            None => return Err(at(format!("'{key}' outside a section (start with [Node NAME] or [Device NAME])"))),
            Some(Section::Node(d)) => match key.to_ascii_lowercase().as_str() {
                "interface" => {
                    if value.is_empty() || value.len() > IFNAME_MAX || !valid_name(value) {
                        return Err(bad(&format!("not an interface name (1 to {IFNAME_MAX} bytes)")));
                    }
                    d.iface = Some(value.to_string());
                }
                "mac" => d.mac = Some(omx_args::parse_unicast_mac(value).map_err(|e| bad(&e.to_string()))?),
                "size" => d.size = Some(parse_block_size(value).map_err(|e| bad(&e.to_string()))?),
                "mtu" => d.req.mtu = Some(value.parse().map_err(|_| bad("not a number"))?),
                "version" => {
                    d.req.version = match value {
                        "1.1" => Version::V1_1,
                        "1.0.3" => Version::V1_0_3,
                        _ => return Err(bad("expected 1.1 or 1.0.3")),
                    }
                }
                "byteorder" => {
                    d.req.byte_order = match value.to_ascii_lowercase().as_str() {
                        "spec" => ByteOrder::Spec,
                        "raw" => ByteOrder::Raw,
                        _ => return Err(bad("expected spec or raw")),
                    }
                }
                "integrity" => {
                    d.req.integrity = match value.to_ascii_lowercase().as_str() {
                        "xxh64" => Integrity::Xxh64,
                        "crc32c" => Integrity::Crc32c,
                        "none" => Integrity::None,
                        _ => return Err(bad("expected xxh64, crc32c or none")),
                    }
                }
                "iotimeout" => d.req.io_timeout_ms = Some(parse_io_timeout(value).map_err(|e| bad(&e))?),
                _ => return Err(at(format!("unknown key '{key}' in [Node {}] (Interface, MAC, Size, MTU, Version, ByteOrder, Integrity, IoTimeout)", d.name))),
            },
            Some(Section::Device(d)) => match key.to_ascii_lowercase().as_str() {
                "size" => d.size = Some(parse_block_size(value).map_err(|e| bad(&e.to_string()))?),
                "nodes" => {
                    d.dev.nodes = value.split(',').map(|s| s.trim().to_string()).collect();
                    if d.dev.nodes.iter().any(|s| s.is_empty()) {
                        return Err(bad("expected node names separated by commas"));
                    }
                }
                "replicas" => {
                    d.dev.replicas = Some(match value {
                        "1" => 1,
                        "2" => 2,
                        _ => return Err(bad("expected 1 or 2")),
                    })
                }
                "swap" => {
                    d.swap = match value.to_ascii_lowercase().as_str() {
                        "yes" | "true" | "on" => true,
                        "no" | "false" | "off" => false,
                        _ => return Err(bad("expected yes or no")),
                    }
                }
                "swappriority" => {
                    let p: i32 = value.parse().map_err(|_| bad("not a number"))?;
                    if !(-1..=32767).contains(&p) {
                        return Err(bad("out of range (-1 to 32767)"));
                    }
                    d.swap_conf.priority = Some(p);
                }
                "discard" => {
                    d.swap_conf.discard = match value.to_ascii_lowercase().as_str() {
                        "pages" => Discard::Pages,
                        "once" => Discard::Once,
                        "both" => Discard::Both,
                        "no" => Discard::No,
                        _ => return Err(bad("expected pages, once, both or no")),
                    }
                }
                _ => return Err(at(format!("unknown key '{key}' in [Device {}] (Size, Nodes, Replicas, Swap, SwapPriority, Discard)", d.dev.name))),
            },
        }
    }
    finish(current, &mut conf, &mut node_lines, &mut dev_lines, origin)?;
    for (d, line) in conf.devices.iter().zip(&dev_lines) {
        for m in &d.nodes {
            if !conf.nodes.iter().any(|n| &n.name == m) {
                return Err(format!("{origin}:{line}: [Device {}] names node '{m}', which no [Node] section defines", d.name));
            }
        }
        if let Some(dup) = d
            .nodes
            .iter()
            .enumerate()
            .find(|(i, m)| d.nodes[..*i].contains(m))
        {
            return Err(format!(
                "{origin}:{line}: [Device {}] lists node '{}' twice",
                d.name, dup.1
            ));
        }
    }
    Ok(conf)
}

/// Ends a section: checks what it needs and adds it.
fn finish(
    section: Option<Section>,
    conf: &mut Config,
    node_lines: &mut Vec<usize>,
    dev_lines: &mut Vec<usize>,
    origin: &str,
) -> Result<(), String> {
    match section {
        None => Ok(()),
        Some(Section::Node(mut d)) => {
            let at = |msg: &str| format!("{origin}:{}: [Node {}] {msg}", d.line, d.name);
            if conf.nodes.iter().any(|n| n.name == d.name) {
                return Err(at("is defined twice"));
            }
            d.req.ifname = d.iface.take().ok_or_else(|| at("needs Interface"))?;
            d.req.peer_mac = d.mac.ok_or_else(|| at("needs MAC"))?;
            d.req.size = d.size.ok_or_else(|| at("needs Size"))?;
            if let Some(other) = conf
                .nodes
                .iter()
                .find(|n| n.req.ifname == d.req.ifname && n.req.peer_mac == d.req.peer_mac)
            {
                return Err(at(&format!("is the same peer as [Node {}]", other.name)));
            }
            conf.nodes.push(NodeConf {
                name: d.name,
                req: d.req,
            });
            node_lines.push(d.line);
            Ok(())
        }
        Some(Section::Device(mut d)) => {
            let at = |msg: &str| format!("{origin}:{}: [Device {}] {msg}", d.line, d.dev.name);
            if conf.devices.iter().any(|x| x.name == d.dev.name) {
                return Err(at("is defined twice"));
            }
            d.dev.size = d.size.ok_or_else(|| at("needs Size"))?;
            d.dev.swap = d.swap.then_some(d.swap_conf);
            conf.devices.push(d.dev);
            dev_lines.push(d.line);
            Ok(())
        }
    }
}

impl Discard {
    /// The `swapon --discard=` policy, or `None` for no discards.
    pub fn policy(self) -> Option<&'static str> {
        match self {
            Discard::Pages => Some("pages"),
            Discard::Once => Some("once"),
            Discard::Both => Some("both"),
            Discard::No => None,
        }
    }
}

/// The configuration as a file `parse` reads back.
pub fn render(conf: &Config) -> String {
    let mut out = String::new();
    for n in &conf.nodes {
        let r = &n.req;
        out += &format!(
            "[Node {}]\nInterface = {}\nMAC = {}\nSize = {}\n",
            n.name,
            r.ifname,
            format_mac(&r.peer_mac),
            size_text(r.size)
        );
        if let Some(mtu) = r.mtu {
            out += &format!("MTU = {mtu}\n");
        }
        if r.version != Version::V1_1 {
            out += &format!("Version = {}\n", r.version);
        }
        if r.byte_order != ByteOrder::Spec {
            out += &format!("ByteOrder = {}\n", r.byte_order);
        }
        if r.integrity != Integrity::Xxh64 {
            out += &format!("Integrity = {}\n", r.integrity);
        }
        if let Some(ms) = r.io_timeout_ms {
            out += &format!("IoTimeout = {}\n", ms as f64 / 1000.0);
        }
        out.push('\n');
    }
    for d in &conf.devices {
        out += &format!("[Device {}]\nSize = {}\n", d.name, size_text(d.size));
        if !d.nodes.is_empty() {
            out += &format!("Nodes = {}\n", d.nodes.join(", "));
        }
        if let Some(r) = d.replicas {
            out += &format!("Replicas = {r}\n");
        }
        match d.swap {
            None => out += "Swap = no\n",
            Some(s) => {
                if let Some(p) = s.priority {
                    out += &format!("SwapPriority = {p}\n");
                }
                if s.discard != Discard::Pages {
                    out += &format!("Discard = {}\n", s.discard.policy().unwrap_or("no"));
                }
            }
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// A size as `Size =` takes it: whole KiB/MiB/GiB/TiB when exact, else bytes.
fn size_text(bytes: u64) -> String {
    for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests;
