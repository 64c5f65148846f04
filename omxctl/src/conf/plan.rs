//! What `omxctl up` and `down` must do to bring the module from what it has to what a
//! configuration says (or back): a list of steps, computed from the current state before
//! anything is done, so `--dry-run` prints exactly what would run, and running `up` twice
//! does nothing the second time.

use std::fmt;

use omx_args::format_mac;

use super::{Config, DevConf, Discard, NodeConf, SwapConf};
use crate::model::{Dev, Node};
use crate::netlink::attrs::{ByteOrder, Integrity, NodeState, Version};
use crate::netlink::NodeAddRequest;
use crate::units::format_size;

/// One step, printed as the command it amounts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    NodeAdd {
        name: String,
        req: NodeAddRequest,
    },
    /// Wait until these nodes of the file are up.
    WaitUp {
        names: Vec<String>,
    },
    DevAdd {
        dev: DevConf,
    },
    MkSwap {
        dev: String,
    },
    SwapOn {
        dev: String,
        swap: SwapConf,
    },
    SwapOff {
        dev: String,
    },
    DevDel {
        dev: String,
    },
    NodeDel {
        id: u32,
        name: String,
    },
}

/// An active swap area (`/proc/swaps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveSwap {
    pub path: String,
    pub priority: i32,
}

/// The device node of a device.
pub fn dev_path(name: &str) -> String {
    format!("/dev/{name}")
}

/// The module's node that is this file's node (same interface and peer MAC).
pub fn registered<'a>(nodes: &'a [Node], n: &NodeConf) -> Option<&'a Node> {
    nodes.iter().find(|x| {
        x.ifname.as_deref() == Some(n.req.ifname.as_str()) && x.peer_mac == Some(n.req.peer_mac)
    })
}

fn swapping(swaps: &[ActiveSwap], dev: &str) -> bool {
    swaps.iter().any(|s| s.path == dev_path(dev))
}

/// Steps from the current state to the configuration: nodes added, waited for, devices
/// added, swap made and turned on, each only where missing. A node or device that exists
/// with another size is an error (it would mean dropping data: `down` first).
pub fn up(
    conf: &Config,
    nodes: &[Node],
    devs: &[Dev],
    swaps: &[ActiveSwap],
) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for n in &conf.nodes {
        match registered(nodes, n) {
            Some(x) if x.size != Some(n.req.size) => {
                return Err(format!(
                    "node {} ({} {}) is registered (id {}) with {}, the configuration says {}: run omxctl down (or node del {}) first",
                    n.name,
                    n.req.ifname,
                    format_mac(&n.req.peer_mac),
                    x.id,
                    x.size.map_or("no size".into(), format_size),
                    format_size(n.req.size),
                    x.id
                ))
            }
            Some(_) => {}
            None => steps.push(Step::NodeAdd { name: n.name.clone(), req: n.req.clone() }),
        }
    }
    let waiting: Vec<String> = conf
        .nodes
        .iter()
        .filter(|n| registered(nodes, n).is_none_or(|x| x.state != Some(NodeState::Up)))
        .map(|n| n.name.clone())
        .collect();
    if !waiting.is_empty() {
        steps.push(Step::WaitUp { names: waiting });
    }
    for d in &conf.devices {
        match devs.iter().find(|x| x.name == d.name) {
            Some(x) if x.size != Some(d.size) => {
                return Err(format!(
                    "device {} exists with {}, the configuration says {}: run omxctl down (or dev del {}) first",
                    d.name,
                    x.size.map_or("no size".into(), format_size),
                    format_size(d.size),
                    d.name
                ))
            }
            Some(_) => {}
            None => steps.push(Step::DevAdd { dev: d.clone() }),
        }
        if let Some(swap) = d.swap {
            if !swapping(swaps, &d.name) {
                steps.push(Step::MkSwap {
                    dev: d.name.clone(),
                });
                steps.push(Step::SwapOn {
                    dev: d.name.clone(),
                    swap,
                });
            }
        }
    }
    Ok(steps)
}

/// Steps that undo the configuration: swap off, devices removed (their memory released),
/// nodes removed, each only where present, in the reverse order.
pub fn down(conf: &Config, nodes: &[Node], devs: &[Dev], swaps: &[ActiveSwap]) -> Vec<Step> {
    let mut steps = Vec::new();
    for d in conf.devices.iter().rev() {
        if swapping(swaps, &d.name) {
            steps.push(Step::SwapOff {
                dev: d.name.clone(),
            });
        }
        if devs.iter().any(|x| x.name == d.name) {
            steps.push(Step::DevDel {
                dev: d.name.clone(),
            });
        }
    }
    for n in conf.nodes.iter().rev() {
        if let Some(x) = registered(nodes, n) {
            steps.push(Step::NodeDel {
                id: x.id,
                name: n.name.clone(),
            });
        }
    }
    steps
}

/// What the module has now, as a configuration (`omxctl showconf`): nodes named `nodeID`,
/// swap as `/proc/swaps` shows it (which does not say the discard policy: shown as the
/// default).
pub fn current(nodes: &[Node], devs: &[Dev], swaps: &[ActiveSwap]) -> Config {
    let name = |id: u32| format!("node{id}");
    Config {
        nodes: nodes
            .iter()
            .map(|n| NodeConf {
                name: name(n.id),
                req: NodeAddRequest {
                    ifname: n.ifname.clone().unwrap_or_default(),
                    peer_mac: n.peer_mac.unwrap_or_default(),
                    size: n.size.unwrap_or_default(),
                    byte_order: n.byte_order.unwrap_or(ByteOrder::Spec),
                    version: n.version.unwrap_or(Version::V1_1),
                    mtu: n.mtu.filter(|&m| m != 0),
                    integrity: n.integrity.unwrap_or(Integrity::Xxh64),
                    io_timeout_ms: n.io_timeout_ms,
                },
            })
            .collect(),
        devices: devs
            .iter()
            .map(|d| DevConf {
                name: d.name.clone(),
                size: d.size.unwrap_or_default(),
                nodes: d.nodes.iter().map(|&id| name(id)).collect(),
                replicas: d.replicas.filter(|&r| r != 1),
                swap: swaps
                    .iter()
                    .find(|s| s.path == dev_path(&d.name))
                    .map(|s| SwapConf {
                        priority: Some(s.priority),
                        discard: Discard::Pages,
                    }),
            })
            .collect(),
    }
}

/// Active swap areas from the text of `/proc/swaps`.
pub fn parse_swaps(text: &str) -> Vec<ActiveSwap> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some(ActiveSwap {
                path: f.first()?.to_string(),
                priority: f.last()?.parse().ok()?,
            })
        })
        .collect()
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::NodeAdd { name, req } => {
                write!(
                    f,
                    "omxctl node add {} {} --size {}",
                    req.ifname,
                    format_mac(&req.peer_mac),
                    req.size
                )?;
                if let Some(m) = req.mtu {
                    write!(f, " --mtu {m}")?;
                }
                if req.version != Version::V1_1 {
                    write!(f, " --version {}", req.version)?;
                }
                if req.byte_order != ByteOrder::Spec {
                    write!(f, " --byte-order {}", req.byte_order)?;
                }
                if req.integrity != Integrity::Xxh64 {
                    write!(f, " --integrity {}", req.integrity)?;
                }
                if let Some(ms) = req.io_timeout_ms {
                    write!(f, " --io-timeout {}", ms as f64 / 1000.0)?;
                }
                write!(f, "   # {name}")
            }
            Step::WaitUp { names } => write!(f, "wait until node(s) {} are up", names.join(", ")),
            Step::DevAdd { dev } => {
                write!(f, "omxctl dev add {} --size {}", dev.name, dev.size)?;
                if !dev.nodes.is_empty() {
                    write!(f, " --nodes <ids of {}>", dev.nodes.join(","))?;
                }
                if let Some(r) = dev.replicas {
                    write!(f, " --replicas {r}")?;
                }
                Ok(())
            }
            Step::MkSwap { dev } => write!(f, "mkswap {}", dev_path(dev)),
            Step::SwapOn { dev, swap } => {
                f.write_str("swapon")?;
                if let Some(p) = swap.priority {
                    write!(f, " --priority {p}")?;
                }
                if let Some(d) = swap.discard.policy() {
                    write!(f, " --discard={d}")?;
                }
                write!(f, " {}", dev_path(dev))
            }
            Step::SwapOff { dev } => write!(f, "swapoff {}", dev_path(dev)),
            Step::DevDel { dev } => write!(f, "omxctl dev del {dev}"),
            Step::NodeDel { id, name } => write!(f, "omxctl node del {id}   # {name}"),
        }
    }
}
