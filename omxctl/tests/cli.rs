//! Runs the omxctl binary: argument errors (exit 2, clap-style), the
//! "module not loaded" error on a host without omx_mod (exit 1), and the
//! generated man pages and completions. None of this needs the module.

use std::path::Path;
use std::process::{Command, Output};

fn omxctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omxctl"))
        .args(args)
        .output()
        .expect("run omxctl")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn module_loaded() -> bool {
    Path::new("/sys/module/omx_mod").exists()
}

#[test]
fn bad_mac_is_a_usage_error_naming_the_value() {
    let o = omxctl(&["node", "add", "eth0", "02:00:00:00:00:zz", "--size", "4G"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("invalid MAC address '02:00:00:00:00:zz'"),
        "stderr: {e}"
    );
    assert!(e.contains("aa:bb:cc:dd:ee:ff"), "stderr: {e}");
    assert!(e.contains("Usage: omxctl node add"), "stderr: {e}");
    assert!(o.stdout.is_empty());

    let o = omxctl(&["node", "add", "eth0", "02:00:00:00:00", "--size", "4G"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("invalid MAC address '02:00:00:00:00': 5 bytes, not six"),
        "stderr: {e}"
    );

    let o = omxctl(&["node", "add", "eth0", "ff:ff:ff:ff:ff:ff", "--size", "4G"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("multicast/broadcast address is not a station"));
}

#[test]
fn bad_size_is_a_usage_error_naming_the_value() {
    let o = omxctl(&["node", "add", "eth0", "02:00:00:00:00:01", "--size", "4X"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("invalid size '4X'"), "stderr: {e}");

    let o = omxctl(&["dev", "add", "omx0", "--size", "4097"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("invalid size '4097': sizes must be a multiple of 4096 bytes"),
        "stderr: {e}"
    );

    let o = omxctl(&["node", "add", "eth0", "02:00:00:00:00:01", "--size", "1000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid size '1000': sizes must be a multiple of 4096"));

    let o = omxctl(&["dev", "add", "omx0", "--size", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("greater than zero"));
}

#[test]
fn bad_io_timeout_is_a_usage_error_naming_the_range() {
    for (value, says) in [
        ("301", "out of range"),
        ("-1", "out of range"),
        ("soon", "not a number"),
    ] {
        let arg = format!("--io-timeout={value}");
        let o = omxctl(&["node", "add", "eth0", "02:00:00:00:00:01", "-s", "1G", &arg]);
        assert_eq!(o.status.code(), Some(2), "{value}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{value}: {}", stderr(&o));
    }
}

#[test]
fn other_argument_errors_exit_2() {
    for args in [
        vec!["node", "add", "eth0", "02:00:00:00:00:01"], // no --size
        vec!["node", "del", "x"],
        vec!["dev", "add", "omx0", "--size", "4G", "--replicas", "3"],
        vec!["dev", "add", "omx0", "--size", "4G", "--nodes", "1,1"],
        vec![
            "dev",
            "add",
            "a-name-that-is-longer-than-31-bytes",
            "--size",
            "4G",
        ],
        vec![
            "node",
            "add",
            "eth0",
            "02:00:00:00:00:01",
            "-s",
            "1G",
            "--version",
            "2",
        ],
        vec![
            "node",
            "add",
            "eth0",
            "02:00:00:00:00:01",
            "-s",
            "1G",
            "--byte-order",
            "big",
        ],
        vec!["stats", "--watch", "0"],
        vec!["frobnicate"],
    ] {
        let o = omxctl(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("error:"), "{args:?}");
    }
}

#[test]
fn without_the_module_says_it_is_not_loaded() {
    if module_loaded() {
        eprintln!("omx_mod is loaded on this host; skipping");
        return;
    }
    let want = "omxctl: omx_mod is not loaded (no generic netlink family 'omx'); \
                load it with: modprobe omx_mod / insmod omx_mod.ko\n";
    for args in [
        vec!["node", "show"],
        vec!["-j", "show"],
        vec!["dev", "show", "omx0"],
        vec!["node", "add", "eth0", "02:00:00:00:00:01", "--size", "4G"],
        // The MAC and size forms omx-node also takes: past argument checking.
        vec![
            "node",
            "add",
            "eth0",
            "02-00-00-00-00-01",
            "--size",
            "1.5GiB",
        ],
        vec!["monitor"],
        vec!["stats"],
    ] {
        let o = omxctl(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&o), want, "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_lists_every_command() {
    let o = omxctl(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for c in ["node", "dev", "show", "monitor", "stats", "--json"] {
        assert!(out.contains(c), "missing {c} in:\n{out}");
    }
    let o = omxctl(&["node", "add", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for c in [
        "--size",
        "--byte-order",
        "--version",
        "--mtu",
        "1.0.3",
        "raw",
        "Examples:",
    ] {
        assert!(out.contains(c), "missing {c} in:\n{out}");
    }
    let o = omxctl(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("omxctl "));
}

#[test]
fn man_pages_and_completions_are_generated() {
    let out = Path::new(env!("OUT_DIR"));
    for page in [
        "omxctl.1",
        "omxctl-node.1",
        "omxctl-node-add.1",
        "omxctl-node-del.1",
        "omxctl-node-show.1",
        "omxctl-dev.1",
        "omxctl-dev-add.1",
        "omxctl-dev-del.1",
        "omxctl-dev-show.1",
        "omxctl-show.1",
        "omxctl-monitor.1",
        "omxctl-stats.1",
    ] {
        let text = std::fs::read_to_string(out.join("man").join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page} is not a man page");
    }
    let add = std::fs::read_to_string(out.join("man/omxctl-node-add.1")).unwrap();
    assert!(add.contains("byte\\-order"), "{add}");
    for (file, marker) in [
        ("omxctl.bash", "_omxctl()"),
        ("_omxctl", "#compdef omxctl"),
        ("omxctl.fish", "complete -c omxctl"),
    ] {
        let text = std::fs::read_to_string(out.join("completions").join(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(text.contains(marker), "{file}");
        assert!(text.contains("monitor"), "{file}");
    }
}
