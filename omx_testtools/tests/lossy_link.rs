//! omx-relay between omx-node and a client library user, in network namespaces (the fixtures
//! of omx_node's tests). Needs root and `ip netns`; otherwise it prints SKIPPED and passes.

#[path = "../../omx_node/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::*;
use omx_node::client::ClientOptions;

/// 2% loss, 2% reordering, 2% duplication in both directions: every byte
/// must still be right.
#[test]
fn lossy_link_every_byte_correct() {
    require_netns!();
    let node_ns = Ns::new();
    let relay_ns = Ns::new();
    let client_ns = Ns::new();
    let (node_if, r_n) = veth(&node_ns, NODE_MAC, &relay_ns, "02:00:00:00:ee:01", 1500);
    let (r_c, client_if) = veth(
        &relay_ns,
        "02:00:00:00:ee:02",
        &client_ns,
        "02:00:00:00:00:02",
        1500,
    );
    let mut relay = Proc::start(
        &relay_ns,
        relay_bin(),
        &[
            "--a",
            &r_n,
            "--b",
            &r_c,
            "--loss",
            "0.02",
            "--reorder",
            "0.02",
            "--duplicate",
            "0.02",
            "--seed",
            "7",
        ],
        "relaying",
    );
    let stats = std::env::temp_dir().join(format!("omxt-stats-{}-lossy.json", std::process::id()));
    let stats_s = stats.to_str().unwrap().to_string();
    let mut node = start_node(
        &node_ns,
        &node_if,
        &["--size", "16M", "--rto-ms", "10", "--stats-file", &stats_s],
    );
    let opts = ClientOptions {
        rto: Duration::from_millis(10),
        ..ClientOptions::default()
    };
    let mut c = connect(&client_ns, &client_if, opts);
    random_rw(&mut c, 11, 256 << 10, 60);
    let ls = c.link_stats();
    c.close().unwrap();
    node.signal(libc::SIGUSR1);
    let json = wait_file(&stats, "\"clients\"");
    let node_recovery = json_u64(&json, "retransmits") + json_u64(&json, "duplicates");
    assert!(
        ls.frames_retx + ls.duplicates + node_recovery > 0,
        "the impairments should have forced recovery: {ls:?} {json}"
    );
    assert!(node.stop().success());
    assert!(relay.stop().success());
    let rs = relay.stderr();
    assert!(rs.contains("lost") && !rs.contains("lost 0,"), "{rs}");
    let _ = std::fs::remove_file(&stats);
}
