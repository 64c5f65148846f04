//! Network-namespace fixtures for the host-side integration tests.
//!
//! Every namespace and veth is created with a unique name
//! (`omxt-<pid>-<n>`) and removed on drop; nothing touches the host's own
//! interfaces. Clients run in the test thread after `setns` into their
//! namespace; daemons run as child processes via `ip netns exec`.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use omx_node::client::{Client, ClientOptions, Op};
use omx_node::util::{parse_mac, Mac};
use omx_rng::Rng;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Why the tests cannot run here, if they cannot.
pub fn skip_reason() -> Option<String> {
    if omx_node::sys::euid() != 0 {
        return Some("not root".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => None,
        _ => Some("`ip netns` unavailable".into()),
    }
}

/// Returns early from a test (with a message) when it cannot run.
#[macro_export]
macro_rules! require_netns {
    () => {
        if let Some(why) = common::skip_reason() {
            eprintln!("SKIPPED: netns integration test needs root and `ip netns`: {why}");
            return;
        }
    };
}

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{prefix}{}-{n}", std::process::id() % 100_000)
}

/// Runs `ip ARGS`, panicking with its stderr on failure.
pub fn ip(args: &[&str]) {
    let o = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        o.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A network namespace, deleted on drop.
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new() -> Ns {
        let name = unique("omxt-");
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Ns { name }
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Creates a veth pair with one end in each namespace, sets MACs and MTU,
/// brings both up. Returns the interface names.
pub fn veth(a: &Ns, mac_a: &str, b: &Ns, mac_b: &str, mtu: u32) -> (String, String) {
    let base = unique("ox");
    let (ia, ib) = (format!("{base}a"), format!("{base}b"));
    ip(&[
        "link", "add", &ia, "netns", &a.name, "type", "veth", "peer", "name", &ib, "netns", &b.name,
    ]);
    let mtu = mtu.to_string();
    for (ns, i, m) in [(a, &ia, mac_a), (b, &ib, mac_b)] {
        ip(&[
            "-n", &ns.name, "link", "set", i, "address", m, "mtu", &mtu, "up",
        ]);
    }
    (ia, ib)
}

/// A bridge in `sw` with the given ports attached.
pub fn bridge(sw: &Ns, ports: &[&str], mtu: u32) {
    ip(&[
        "-n",
        &sw.name,
        "link",
        "add",
        "br0",
        "mtu",
        &mtu.to_string(),
        "type",
        "bridge",
    ]);
    ip(&["-n", &sw.name, "link", "set", "br0", "up"]);
    for p in ports {
        ip(&["-n", &sw.name, "link", "set", p, "master", "br0", "up"]);
    }
}

pub const NODE_MAC: &str = "02:00:00:00:00:01";

pub fn mac(s: &str) -> Mac {
    parse_mac(s).unwrap()
}

/// A child process run inside a namespace, killed on drop.
pub struct Proc {
    child: Option<Child>,
    pub stderr_path: PathBuf,
    pub stdout_path: PathBuf,
}

impl Proc {
    /// Runs `bin args` in `ns`; waits until stderr contains `ready`.
    pub fn start(ns: &Ns, bin: &str, args: &[&str], ready: &str) -> Proc {
        Self::start_env(ns, bin, args, ready, &[])
    }

    /// [`Proc::start`] with `env` added to the environment.
    pub fn start_env(ns: &Ns, bin: &str, args: &[&str], ready: &str, env: &[(&str, &str)]) -> Proc {
        let tag = unique("omxt-log-");
        let stderr_path = std::env::temp_dir().join(format!("{tag}.err"));
        let stdout_path = std::env::temp_dir().join(format!("{tag}.out"));
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, bin])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path).unwrap())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("spawn");
        let mut p = Proc {
            child: Some(child),
            stderr_path,
            stdout_path,
        };
        let t = Instant::now();
        while !p.stderr().contains(ready) {
            if let Some(c) = p.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    panic!("{bin} exited early ({st}): {}", p.stderr());
                }
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{bin} not ready: {}",
                p.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        p
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub fn stderr(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.stderr_path) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    pub fn signal(&self, sig: i32) {
        omx_node::sys::kill(self.pid(), sig).unwrap();
    }

    /// SIGTERM and wait (up to 5 s).
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        let mut c = self.child.take().unwrap();
        let t = Instant::now();
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                return st;
            }
            if t.elapsed() > Duration::from_secs(5) {
                let _ = c.kill();
                panic!("process did not stop on SIGTERM: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.stderr_path);
        let _ = std::fs::remove_file(&self.stdout_path);
    }
}

/// A workspace binary: the one cargo built for this package's tests, else the one beside the
/// test in `target/<profile>/` (these fixtures also serve `omx_testtools`' tests, which run
/// omx-node; `cargo test --workspace` builds every package's binaries).
fn workspace_bin(built: Option<&'static str>, name: &str) -> &'static str {
    if let Some(path) = built {
        return path;
    }
    let exe = std::env::current_exe().expect("the test's own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo test --workspace` (or `cargo build --workspace`, same profile) first",
        path.display()
    );
    Box::leak(path.to_string_lossy().into_owned().into_boxed_str())
}

pub fn node_bin() -> &'static str {
    workspace_bin(option_env!("CARGO_BIN_EXE_omx-node"), "omx-node")
}

pub fn relay_bin() -> &'static str {
    workspace_bin(option_env!("CARGO_BIN_EXE_omx-relay"), "omx-relay")
}

pub fn probe_bin() -> &'static str {
    workspace_bin(
        option_env!("CARGO_BIN_EXE_omx-node-probe"),
        "omx-node-probe",
    )
}

/// Starts omx-node in `ns` on `iface` with extra arguments (`--first-come` unless they name
/// `--client`s).
pub fn start_node(ns: &Ns, iface: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["--iface", iface];
    args.extend_from_slice(extra);
    if !extra.contains(&"--client") {
        args.push("--first-come");
    }
    Proc::start(ns, node_bin(), &args, "serving")
}

/// Connects from the current thread, which moves into `ns` first.
pub fn connect(ns: &Ns, iface: &str, opts: ClientOptions) -> Client {
    omx_node::sys::enter_netns(&ns.name).expect("setns");
    Client::connect(iface, mac(NODE_MAC), opts).expect("connect")
}

/// Node and one client on a direct veth link.
pub struct Pair {
    pub node_ns: Ns,
    pub client_ns: Ns,
    pub node_if: String,
    pub client_if: String,
}

pub fn pair(mtu: u32) -> Pair {
    let node_ns = Ns::new();
    let client_ns = Ns::new();
    let (node_if, client_if) = veth(&node_ns, NODE_MAC, &client_ns, "02:00:00:00:00:02", mtu);
    Pair {
        node_ns,
        client_ns,
        node_if,
        client_if,
    }
}

/// Reads a JSON number field (flat search; good enough for our keys).
pub fn json_u64(json: &str, key: &str) -> u64 {
    let pat = format!("\"{key}\":");
    let i = json
        .find(&pat)
        .unwrap_or_else(|| panic!("{key} missing in {json}"))
        + pat.len();
    json[i..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Waits until `path` exists and contains `needle`, returns its text.
pub fn wait_file(path: &std::path::Path, needle: &str) -> String {
    let t = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.contains(needle) {
                return s;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{} never had {needle}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Random writes (8 B .. 4 KiB, also tiny and unaligned, so PutPartialData
/// with masks) and reads over `span` bytes, checked against a shadow copy.
/// Each round pipelines a batch of writes, then a batch of reads.
pub fn random_rw(c: &mut Client, seed: u64, span: usize, rounds: usize) {
    let mut rng = Rng(seed);
    let mut shadow = vec![0u8; span];
    // Start from a known state.
    let mut init = vec![0u8; span];
    rng.fill(&mut init);
    c.write(0, &init).unwrap();
    shadow.copy_from_slice(&init);
    let pick = |rng: &mut Rng| -> (usize, usize) {
        let len = match rng.below(4) {
            0 => 1 + rng.below(8) as usize,
            1 => 8 << rng.below(10),
            _ => 8 + rng.below(4089) as usize,
        };
        let off = rng.below((span - len) as u64) as usize;
        let off = if rng.below(3) == 0 {
            off & !(len.next_power_of_two().min(4096) - 1)
        } else {
            off
        };
        (off, len)
    };
    for _ in 0..rounds {
        let n = 1 + rng.below(24) as usize;
        let mut data = Vec::new();
        for _ in 0..n {
            let (off, len) = pick(&mut rng);
            let mut d = vec![0u8; len];
            rng.fill(&mut d);
            shadow[off..off + len].copy_from_slice(&d);
            data.push((off, d));
        }
        let mut ops: Vec<Op<'_>> = data
            .iter()
            .map(|(o, d)| Op::Write {
                addr: *o as u64,
                data: d,
            })
            .collect();
        let st = c.execute(&mut ops).unwrap();
        assert!(st.iter().all(|s| !s.denied));
        let mut reads: Vec<(usize, Vec<u8>)> = (0..n)
            .map(|_| {
                let (off, len) = pick(&mut rng);
                (off, vec![0u8; len])
            })
            .collect();
        let mut ops: Vec<Op<'_>> = reads
            .iter_mut()
            .map(|(o, b)| Op::Read {
                addr: *o as u64,
                buf: b,
            })
            .collect();
        c.execute(&mut ops).unwrap();
        for (off, b) in &reads {
            assert!(
                b[..] == shadow[*off..*off + b.len()],
                "mismatch reading {} bytes at {off:#x}",
                b.len()
            );
        }
    }
    let mut all = vec![0u8; span];
    c.read(0, &mut all).unwrap();
    assert!(all == shadow, "final full read differs");
}
