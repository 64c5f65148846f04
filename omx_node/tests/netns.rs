//! Host-side integration tests: omx-node and the client library in network
//! namespaces joined by veth pairs or a bridge (through the impairing omx-relay: the
//! `omx_testtools` crate's tests).
//! They need root and `ip netns`; otherwise they print SKIPPED and pass.

mod common;

use std::time::Duration;

use common::*;
use omx_node::client::{Client, ClientError, ClientOptions};
use omx_proto::tilelink::Opcode;
use omx_proto::{ByteOrder, Version};

#[test]
fn random_patterns_mtu1500_spec_order() {
    require_netns!();
    let p = pair(1500);
    let _node = start_node(&p.node_ns, &p.node_if, &["--size", "16M"]);
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    assert_eq!(c.max_msg(), 1024);
    random_rw(&mut c, 1, 256 << 10, 60);
    c.close().unwrap();
}

#[test]
fn random_patterns_jumbo_raw_order() {
    require_netns!();
    let p = pair(9000);
    let _node = start_node(
        &p.node_ns,
        &p.node_if,
        &["--size", "16M", "--byte-order", "raw"],
    );
    let opts = ClientOptions {
        order: ByteOrder::Raw,
        ..ClientOptions::default()
    };
    let mut c = connect(&p.client_ns, &p.client_if, opts);
    assert_eq!(c.max_msg(), 8192);
    assert_eq!(c.max_partial(), 4096);
    random_rw(&mut c, 2, 256 << 10, 60);
}

#[test]
fn protocol_1_0_3_client() {
    require_netns!();
    let p = pair(1500);
    let _node = start_node(&p.node_ns, &p.node_if, &["--size", "4M"]);
    let opts = ClientOptions {
        version: Version::V1_0_3,
        ..ClientOptions::default()
    };
    let mut c = connect(&p.client_ns, &p.client_if, opts);
    random_rw(&mut c, 3, 64 << 10, 20);
}

/// The byte-order switch changes what is on the wire: a node in raw order
/// stores wire bytes as they come, so a spec-order client sees every 8-byte
/// group reversed relative to a raw-order client.
#[test]
fn byte_order_raw_interop_on_the_wire() {
    require_netns!();
    let p = pair(1500);
    let _node = start_node(
        &p.node_ns,
        &p.node_if,
        &["--size", "4M", "--byte-order", "raw"],
    );
    let data: Vec<u8> = (0u8..32).collect();
    {
        let raw = ClientOptions {
            order: ByteOrder::Raw,
            ..ClientOptions::default()
        };
        let mut c = connect(&p.client_ns, &p.client_if, raw);
        c.write(0x100, &data).unwrap();
        let mut back = [0u8; 32];
        c.read(0x100, &mut back).unwrap();
        assert_eq!(&back[..], &data[..]);
        c.close().unwrap();
    }
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    let mut seen = [0u8; 32];
    c.read(0x100, &mut seen).unwrap();
    let expect: Vec<u8> = data
        .chunks(8)
        .flat_map(|g| g.iter().rev().copied().collect::<Vec<_>>())
        .collect();
    assert_eq!(
        &seen[..],
        &expect[..],
        "spec client must see byte-reversed words"
    );
    // And a spec-order write comes back reversed to nobody but the raw view.
    c.write(0x200, &data[..8]).unwrap();
    let mut b = [0u8; 8];
    c.read(0x200, &mut b).unwrap();
    assert_eq!(&b[..], &data[..8]);
}

#[test]
fn atomics_return_old_values() {
    require_netns!();
    let p = pair(1500);
    let _node = start_node(&p.node_ns, &p.node_if, &["--size", "4M"]);
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    c.write(0x40, &100u64.to_le_bytes()).unwrap();
    let old = c
        .atomic(0x40, Opcode::ArithmeticData, 4, &5u64.to_le_bytes())
        .unwrap();
    assert_eq!(old, 100);
    let old = c
        .atomic(0x40, Opcode::ArithmeticData, 0, &(-7i64).to_le_bytes())
        .unwrap();
    assert_eq!(old, 105);
    let old = c
        .atomic(0x40, Opcode::ArithmeticData, 3, &3u64.to_le_bytes())
        .unwrap();
    assert_eq!(old as i64, -7, "MIN stored -7");
    let old = c
        .atomic(0x40, Opcode::LogicalData, 3, &0xabcdu64.to_le_bytes())
        .unwrap();
    assert_eq!(old, u64::MAX - 6, "MAXU kept the unsigned larger -7");
    // 4-byte XOR on the upper half of the word
    let old = c
        .atomic(0x44, Opcode::LogicalData, 0, &0xffff_ffffu32.to_le_bytes())
        .unwrap();
    assert_eq!(old, 0);
    let mut b = [0u8; 8];
    c.read(0x40, &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 0xffff_ffff_0000_abcd);
    // 1-byte ADD wraps in its lane only
    c.write(0x50, &[0xff, 0x11, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(
        c.atomic(0x50, Opcode::ArithmeticData, 4, &[1]).unwrap(),
        0xff
    );
    c.read(0x50, &mut b).unwrap();
    assert_eq!(b[..2], [0x00, 0x11]);
    // out of range atomic is denied
    let r = c.atomic(4 << 20, Opcode::LogicalData, 1, &1u64.to_le_bytes());
    assert!(matches!(r, Err(ClientError::Denied { .. })), "{r:?}");
}

const MAC_A: &str = "02:00:00:00:0a:01";
const MAC_B: &str = "02:00:00:00:0b:01";
const MAC_C: &str = "02:00:00:00:0c:01";

/// Node and three clients on a bridge.
struct Switched {
    _sw: Ns,
    node_ns: Ns,
    node_if: String,
    clients: Vec<(Ns, String)>,
}

fn switched(macs: &[&str]) -> Switched {
    let sw = Ns::new();
    let node_ns = Ns::new();
    let (node_if, sw_n) = veth(&node_ns, NODE_MAC, &sw, "02:00:00:00:ff:00", 1500);
    let mut ports = vec![sw_n];
    let mut clients = Vec::new();
    for (i, m) in macs.iter().enumerate() {
        let ns = Ns::new();
        let (cif, sp) = veth(&ns, m, &sw, &format!("02:00:00:00:ff:{:02x}", i + 1), 1500);
        ports.push(sp);
        clients.push((ns, cif));
    }
    let refs: Vec<&str> = ports.iter().map(String::as_str).collect();
    bridge(&sw, &refs, 1500);
    Switched {
        _sw: sw,
        node_ns,
        node_if,
        clients,
    }
}

fn in_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    std::thread::spawn(f)
}

#[test]
fn clients_isolated_out_of_range_and_unknown_denied() {
    require_netns!();
    let s = switched(&[MAC_A, MAC_B, MAC_C]);
    let stats = std::env::temp_dir().join(format!("omxt-stats-{}-iso.json", std::process::id()));
    let stats_s = stats.to_str().unwrap().to_string();
    let mut node = start_node(
        &s.node_ns,
        &s.node_if,
        &[
            "--size",
            "8M",
            "--client",
            &format!("{MAC_A}=1M"),
            "--client",
            &format!("{MAC_B}=2M"),
            "--stats-file",
            &stats_s,
        ],
    );
    let names: Vec<(String, String)> = s
        .clients
        .iter()
        .map(|(ns, i)| (ns.name.clone(), i.clone()))
        .collect();
    // A and B write different patterns at the same addresses, concurrently.
    let mut hs = Vec::new();
    for (k, (ns, ifn)) in names.iter().take(2).cloned().enumerate() {
        hs.push(in_thread(move || {
            omx_node::sys::enter_netns(&ns).unwrap();
            let mut c = Client::connect(&ifn, mac(NODE_MAC), ClientOptions::default()).unwrap();
            let pat = vec![0xA0 + k as u8; 64 << 10];
            c.write(0, &pat).unwrap();
            c.write(0x1001, &[k as u8; 3]).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            let mut back = vec![0u8; 64 << 10];
            c.read(0, &mut back).unwrap();
            let mut expect = pat.clone();
            expect[0x1001..0x1004].fill(k as u8);
            assert!(back == expect, "client {k} sees foreign data");
            // the last byte of its region is fine, one past it is denied
            let size = if k == 0 { 1u64 << 20 } else { 2 << 20 };
            c.write(size - 1, &[1]).unwrap();
            let mut b = [0u8; 16];
            assert!(matches!(
                c.read(size - 8, &mut b),
                Err(ClientError::Denied { .. })
            ));
            assert!(matches!(
                c.write(size, &[1]),
                Err(ClientError::Denied { .. })
            ));
            assert!(matches!(
                c.read(u64::MAX - 7, &mut b[..8]),
                Err(ClientError::Denied { .. })
            ));
            // a denied op does not poison the connection
            c.read(0, &mut b).unwrap();
            assert_eq!(b[0], 0xA0 + k as u8);
            c.close().unwrap();
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    // C is not on the allowlist: no memory, so not even a connection.
    let (ns, ifn) = names[2].clone();
    in_thread(move || {
        omx_node::sys::enter_netns(&ns).unwrap();
        let opts = ClientOptions {
            timeout: Duration::from_secs(1),
            ..ClientOptions::default()
        };
        assert!(Client::connect(&ifn, mac(NODE_MAC), opts).is_err());
    })
    .join()
    .unwrap();
    node.signal(libc::SIGUSR1);
    let json = wait_file(&stats, "\"clients\"");
    assert!(json_u64(&json, "denied") >= 6, "{json}");
    assert!(json_u64(&json, "no_region") >= 1, "{json}");
    assert!(json_u64(&json, "get") > 0);
    let st = node.stop();
    assert!(st.success(), "{st}: {}", node.stderr());
    assert!(node.stderr().contains("not in the --client list"));
    let _ = std::fs::remove_file(&stats);
}

#[test]
fn first_come_regions_until_memory_runs_out() {
    require_netns!();
    let s = switched(&[MAC_A, MAC_B, MAC_C]);
    let _node = start_node(
        &s.node_ns,
        &s.node_if,
        &["--size", "2M", "--region-size", "1M"],
    );
    let names: Vec<(String, String)> = s
        .clients
        .iter()
        .map(|(ns, i)| (ns.name.clone(), i.clone()))
        .collect();
    in_thread(move || {
        let mut cs = Vec::new();
        for (k, (ns, ifn)) in names.iter().enumerate() {
            omx_node::sys::enter_netns(ns).unwrap();
            if k == 2 {
                // No region left: no connection either.
                let opts = ClientOptions {
                    timeout: Duration::from_secs(1),
                    ..ClientOptions::default()
                };
                assert!(
                    Client::connect(ifn, mac(NODE_MAC), opts).is_err(),
                    "third client must get nothing"
                );
                continue;
            }
            let mut c = Client::connect(ifn, mac(NODE_MAC), ClientOptions::default()).unwrap();
            c.write(0, &[k as u8 + 1; 64]).unwrap();
            assert!(matches!(
                c.write(1 << 20, &[1]),
                Err(ClientError::Denied { .. })
            ));
            cs.push(c);
        }
        for (k, c) in cs.iter_mut().take(2).enumerate() {
            let mut b = [0u8; 64];
            c.read(0, &mut b).unwrap();
            assert_eq!(b, [k as u8 + 1; 64]);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn reconnect_keeps_memory_forget_after_frees_it() {
    require_netns!();
    let p = pair(1500);
    let mut node = start_node(
        &p.node_ns,
        &p.node_if,
        &["--size", "4M", "--forget-after", "0.5"],
    );
    {
        let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
        c.write(0x2000, b"persistent").unwrap();
        // no clean close: the client just vanishes (drop without close
        // still sends CloseConnection; emulate a crash by leaking it)
        std::mem::forget(c);
    }
    // A new connection from the same MAC (a reconnect after a crash).
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    let mut b = [0u8; 10];
    c.read(0x2000, &mut b).unwrap();
    assert_eq!(&b, b"persistent");
    c.close().unwrap();
    // Clean disconnect: kept until forget-after expires.
    std::thread::sleep(Duration::from_millis(900));
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    c.read(0x2000, &mut b).unwrap();
    assert_eq!(
        b, [0u8; 10],
        "memory must be freed (zeroed) after --forget-after"
    );
    c.close().unwrap();
    let st = node.stop();
    assert!(st.success());
    assert!(node.stderr().contains("away too long"), "{}", node.stderr());
}

#[test]
fn usr1_stats_json_and_clean_shutdown() {
    require_netns!();
    let p = pair(1500);
    let stats = std::env::temp_dir().join(format!("omxt-stats-{}-usr1.json", std::process::id()));
    let stats_s = stats.to_str().unwrap().to_string();
    let metrics = std::env::temp_dir().join(format!("omxt-stats-{}-usr1.prom", std::process::id()));
    let metrics_s = metrics.to_str().unwrap().to_string();
    let mut node = start_node(
        &p.node_ns,
        &p.node_if,
        &[
            "--size",
            "4M",
            "--stats-file",
            &stats_s,
            "--stats-json",
            "--metrics-file",
            &metrics_s,
        ],
    );
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    c.write(0, &[7u8; 4096]).unwrap();
    let mut b = [0u8; 4096];
    c.read(0, &mut b).unwrap();
    c.write(3, &[1, 2, 3]).unwrap();
    node.signal(libc::SIGUSR1);
    let json = wait_file(&stats, "\"clients\"");
    for k in [
        "frames_rx",
        "frames_tx",
        "bytes_rx",
        "bytes_tx",
        "retransmits",
        "naks_tx",
        "naks_rx",
        "denied",
        "malformed",
        "put_full",
        "put_partial",
        "get",
    ] {
        json_u64(&json, k);
    }
    assert_eq!(json_u64(&json, "get"), 4);
    assert_eq!(json_u64(&json, "put_full"), 4);
    assert_eq!(json_u64(&json, "put_partial"), 1);
    // The same counters for Prometheus, written with the JSON.
    let prom = wait_file(&metrics, "omx_pool_client_requests_total");
    for line in [
        "omx_pool_requests_total{op=\"get\"} 4",
        "omx_pool_requests_total{op=\"put_full\"} 4",
        "omx_pool_requests_total{op=\"put_partial\"} 1",
    ] {
        assert!(prom.lines().any(|l| l == line), "no {line:?} in\n{prom}");
    }
    assert!(
        node.stderr().contains("requests: get 4"),
        "{}",
        node.stderr()
    );
    let _ = std::fs::remove_file(&metrics);
    // SIGTERM with a client still connected: closes and exits 0.
    let st = node.stop();
    assert!(st.success(), "{st}");
    assert!(
        node.stdout().contains("\"frames_rx\""),
        "final JSON on stdout"
    );
    drop(c);
    let _ = std::fs::remove_file(&stats);
}

/// Frames that find the receive ring full (the node stopped, a burst larger than the ring of
/// `--batch 1`: one 64 KiB block, 39 frames at MTU 1500) are dropped, counted in
/// `rx_dropped`, and the client's resends get the data through.
#[test]
fn a_full_receive_ring_is_counted_and_resent() {
    require_netns!();
    let p = pair(1500);
    let stats = std::env::temp_dir().join(format!("omxt-stats-{}-ring.json", std::process::id()));
    let stats_s = stats.to_str().unwrap().to_string();
    let mut node = start_node(
        &p.node_ns,
        &p.node_if,
        &["--size", "4M", "--batch", "1", "--stats-file", &stats_s],
    );
    let opts = ClientOptions {
        queue_depth: 256,
        ..ClientOptions::default()
    };
    let mut c = connect(&p.client_ns, &p.client_if, opts);
    c.write(0, &[1u8; 1024]).unwrap();
    let data: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    node.signal(libc::SIGSTOP);
    let pid = node.pid().to_string();
    let resume = in_thread(move || {
        std::thread::sleep(Duration::from_millis(300));
        std::process::Command::new("kill")
            .args(["-CONT", &pid])
            .status()
    });
    c.write(0, &data).unwrap();
    assert!(resume.join().unwrap().unwrap().success());
    let mut back = vec![0u8; data.len()];
    c.read(0, &mut back).unwrap();
    assert!(back == data, "the data read back differs");
    node.signal(libc::SIGUSR1);
    let json = wait_file(&stats, "\"clients\"");
    let dropped = json_u64(&json, "rx_dropped");
    assert!(dropped > 0, "no frame counted as dropped: {json}");
    let _ = node.stop();
    let _ = std::fs::remove_file(&stats);
}

/// Under systemd (`Type=notify`): readiness and shutdown reach the service manager through
/// `NOTIFY_SOCKET`; SIGHUP changes nothing, the client keeps its connection and its data.
#[test]
fn notifies_the_service_manager_and_rides_out_sighup() {
    require_netns!();
    let p = pair(1500);
    let path = std::env::temp_dir().join(format!("omxt-notify-{}.sock", std::process::id()));
    let manager = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
    manager
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut node = Proc::start_env(
        &p.node_ns,
        node_bin(),
        &["--iface", &p.node_if, "--size", "4M", "--first-come"],
        "serving",
        &[("NOTIFY_SOCKET", path.to_str().unwrap())],
    );
    let mut buf = [0u8; 256];
    let n = manager.recv(&mut buf).unwrap();
    let ready = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        ready.starts_with("READY=1\nSTATUS=serving 4M on "),
        "{ready}"
    );
    let mut c = connect(&p.client_ns, &p.client_if, ClientOptions::default());
    c.write(0, &[9u8; 4096]).unwrap();
    node.signal(libc::SIGHUP);
    let t = std::time::Instant::now();
    while !node
        .stderr()
        .contains("SIGHUP: options are read only at start")
    {
        assert!(t.elapsed() < Duration::from_secs(5), "{}", node.stderr());
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut b = [0u8; 4096];
    c.read(0, &mut b).unwrap();
    assert_eq!(b, [9u8; 4096]);
    let st = node.stop();
    assert!(st.success(), "{st}");
    let n = manager.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STOPPING=1");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn cli_errors_say_what_is_wrong() {
    require_netns!();
    let ns = Ns::new();
    let run = |args: &[&str], pre: &[&str]| {
        let o = std::process::Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .args(pre)
            .arg(node_bin())
            .args(args)
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--iface", "eth9", "--size", "1G", "--first-come"], &[]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("no such interface eth9"), "{err}");
    let (code, err) = run(&["--iface", "lo", "--size", "8Q"], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("invalid size '8Q': unknown suffix 'Q'"),
        "{err}"
    );
    let (code, err) = run(&["--iface", "lo", "--size", "0"], &[]);
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = run(
        &[
            "--iface",
            "lo",
            "--size",
            "1M",
            "--client",
            "02:00:00:00:00:05=2M",
        ],
        &[],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("bad size"), "{err}");
    if std::path::Path::new("/usr/bin/setpriv").exists() {
        let (code, err) = run(
            &["--iface", "lo", "--size", "1M", "--first-come"],
            &["setpriv", "--inh-caps=-all", "--bounding-set=-net_raw"],
        );
        assert_eq!(code, Some(4), "{err}");
        assert!(err.contains("needs CAP_NET_RAW: run as root"), "{err}");
    }
    // The probe tool reports the same way.
    let o = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            probe_bin(),
            "-i",
            "eth9",
            "-n",
            NODE_MAC,
            "probe",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such interface eth9"));
}

#[test]
fn probe_tool_reads_and_writes() {
    require_netns!();
    let p = pair(1500);
    let _node = start_node(&p.node_ns, &p.node_if, &["--size", "4M"]);
    let probe = |args: &[&str]| {
        let o = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &p.client_ns.name,
                probe_bin(),
                "-i",
                &p.client_if,
                "-n",
                NODE_MAC,
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    assert!(probe(&["probe"]).contains("max 1024 bytes per request"));
    probe(&["write", "0x1003", "48656c6c6f"]);
    let out = probe(&["read", "0x1000", "16"]);
    assert!(
        out.contains("00 00 00 48 65 6c 6c 6f") && out.contains("...Hello"),
        "{out}"
    );
    let out = probe(&["bench", "--secs", "0.2", "--qd", "4", "--span", "1M"]);
    assert!(
        out.contains("read ") && out.contains("write") && out.contains("p99"),
        "{out}"
    );
}

/// Without --client, omx-node gives memory to nobody unless --first-come says so.
#[test]
fn no_client_list_and_no_first_come_is_a_usage_error() {
    let o = std::process::Command::new(node_bin())
        .args(["--iface", "lo", "--size", "1M"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--first-come") && err.contains("--client"),
        "{err}"
    );
}
