//! `omx-node --memory-file`: the lent memory, its assignments and its contents identity
//! survive a daemon that is killed and started again on the same file; a lost file means a
//! new identity. Needs root and `ip netns` (prints SKIPPED otherwise).

mod common;

use std::path::PathBuf;

use common::*;
use omx_node::client::{Client, ClientOptions};
use omx_proto::identity::{self, Identity};

/// A memory file path in the temporary directory, removed on drop.
struct MemPath(PathBuf);

impl MemPath {
    fn new(tag: &str) -> MemPath {
        let p = std::env::temp_dir().join(format!("omxt-{tag}-{}.mem", std::process::id()));
        let _ = std::fs::remove_file(&p);
        MemPath(p)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for MemPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn identity_of(c: &mut Client) -> Identity {
    let mut b = [0u8; identity::LEN];
    c.read(identity::ADDR, &mut b).unwrap();
    Identity::from_bytes(&b).unwrap()
}

#[test]
fn killed_node_resumes_from_its_memory_file() {
    require_netns!();
    let p = pair(1500);
    let file = MemPath::new("resume");
    let args = [
        "--size",
        "8M",
        "--region-size",
        "2M",
        "--memory-file",
        file.arg(),
    ];
    let node = start_node(&p.node_ns, &p.node_if, &args);
    assert!(
        node.stderr()
            .contains("starting with empty memory (new file)"),
        "{}",
        node.stderr()
    );
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    let pattern: Vec<u8> = (0..70_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    c.write(0x1_0003, &pattern).unwrap();
    let before = identity_of(&mut c);
    std::mem::forget(c); // the client just vanishes

    // SIGKILL (dropping a Proc kills it), then a new daemon on the same file.
    drop(node);
    let node = start_node(&p.node_ns, &p.node_if, &args);
    assert!(
        node.stderr().contains("resuming 4 regions from"),
        "{}",
        node.stderr()
    );
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    assert_eq!(identity_of(&mut c), before, "same contents, same identity");
    let mut back = vec![0u8; pattern.len()];
    c.read(0x1_0003, &mut back).unwrap();
    assert!(back == pattern, "the data survived the restart");
    c.write(0x40, b"after the restart").unwrap();
    c.close().unwrap();

    // A clean stop, and again.
    let mut node = node;
    assert!(node.stop().success());
    assert!(node.stderr().contains("saved"), "{}", node.stderr());
    let node = start_node(&p.node_ns, &p.node_if, &args);
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    assert_eq!(identity_of(&mut c), before);
    let mut b = [0u8; 17];
    c.read(0x40, &mut b).unwrap();
    assert_eq!(&b, b"after the restart");
    std::mem::forget(c);

    // The file is lost (deleted, or a machine restart on tmpfs): a new identity, and no
    // stale data.
    drop(node);
    std::fs::remove_file(&file.0).unwrap();
    let node = start_node(&p.node_ns, &p.node_if, &args);
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    let after = identity_of(&mut c);
    assert_ne!(
        after.boot, before.boot,
        "a lost memory never repeats an identity"
    );
    c.read(0x1_0003, &mut back).unwrap();
    assert!(back.iter().all(|x| *x == 0));
    c.close().unwrap();

    // Another layout for the same file: it starts over too.
    drop(node);
    let args2 = [
        "--size",
        "8M",
        "--region-size",
        "4M",
        "--memory-file",
        file.arg(),
    ];
    let node = start_node(&p.node_ns, &p.node_if, &args2);
    assert!(
        node.stderr().contains("--region-size changed"),
        "{}",
        node.stderr()
    );
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    assert_ne!(identity_of(&mut c).boot, after.boot);
    c.close().unwrap();
}

#[test]
fn memory_file_errors_say_what_is_wrong() {
    require_netns!();
    let ns = Ns::new();
    let run = |args: &[&str]| {
        let o = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                node_bin(),
                "--iface",
                "lo",
                "--first-come",
            ])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let file = MemPath::new("errors");
    let (code, err) = run(&["--size", "1M", "--hugepages", "--memory-file", file.arg()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--hugepages does not apply to --memory-file"),
        "{err}"
    );
    assert!(!file.0.exists(), "nothing created on a usage error");
    std::fs::write(&file.0, b"not lent memory").unwrap();
    let (code, err) = run(&["--size", "1M", "--memory-file", file.arg()]);
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("not an omx-node memory file"), "{err}");
    assert_eq!(std::fs::read(&file.0).unwrap(), b"not lent memory");
    std::fs::remove_file(&file.0).unwrap();
    // One daemon per file.
    let _node = start_node(&ns, "lo", &["--size", "1M", "--memory-file", file.arg()]);
    let (code, err) = run(&["--size", "1M", "--memory-file", file.arg()]);
    assert_eq!(code, Some(5), "{err}");
    assert!(err.contains("in use by another process"), "{err}");
}
