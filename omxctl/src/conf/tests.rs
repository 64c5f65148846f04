use super::plan::{self, parse_swaps, ActiveSwap, Step};
use super::*;
use crate::model::{Dev, Node};
use crate::netlink::attrs::NodeState;

const EXAMPLE: &str = "\
# two pool nodes, one mirrored swap device
[Node pool1]
Interface = eth1
MAC = 02:00:00:00:00:02
Size = 4G

[Node pool2]
interface = eth1       # keys in any case
mac = 02:00:00:00:00:03
size = 4G
MTU = 9000
Integrity = crc32c
IoTimeout = 30

[Device omx0]
Size = 2G
Nodes = pool1, pool2
Replicas = 2
SwapPriority = 10

[Device omx1]
Size = 1G
Swap = no
";

fn node(id: u32, ifname: &str, mac: [u8; 6], size: u64, state: NodeState) -> Node {
    Node {
        id,
        ifname: Some(ifname.into()),
        peer_mac: Some(mac),
        size: Some(size),
        state: Some(state),
        ..Node::default()
    }
}

fn dev(name: &str, size: u64) -> Dev {
    Dev {
        name: name.into(),
        size: Some(size),
        ..Dev::default()
    }
}

#[test]
fn parses_nodes_devices_and_swap() {
    let c = parse(EXAMPLE, "omx.conf").unwrap();
    assert_eq!(c.nodes.len(), 2);
    assert_eq!(c.nodes[1].name, "pool2");
    assert_eq!(c.nodes[1].req.peer_mac, [2, 0, 0, 0, 0, 3]);
    assert_eq!(c.nodes[1].req.mtu, Some(9000));
    assert_eq!(c.nodes[1].req.integrity, Integrity::Crc32c);
    assert_eq!(c.nodes[1].req.io_timeout_ms, Some(30_000));
    assert_eq!(c.devices[0].nodes, ["pool1", "pool2"]);
    assert_eq!(c.devices[0].replicas, Some(2));
    assert_eq!(
        c.devices[0].swap,
        Some(SwapConf {
            priority: Some(10),
            discard: Discard::Pages
        })
    );
    assert_eq!(c.devices[1].swap, None);
    // What render writes, parse reads back the same.
    assert_eq!(parse(&render(&c), "rendered").unwrap(), c);
}

#[test]
fn errors_name_the_line_and_the_fault() {
    let cases = [
        ("Size = 4G\n", "omx.conf:1: 'Size' outside a section"),
        (
            "[Node a]\nInterface = eth1\nMAC = 02:00:00:00:00:02\n",
            "omx.conf:1: [Node a] needs Size",
        ),
        (
            "[Node a]\nSise = 4G\n",
            "omx.conf:2: unknown key 'Sise' in [Node a]",
        ),
        (
            "[Node a]\nSize = 4Q\n",
            "omx.conf:2: Size = 4Q: invalid size",
        ),
        (
            "[Node a]\nMAC = ff:ff:ff:ff:ff:ff\n",
            "omx.conf:2: MAC = ff:ff:ff:ff:ff:ff:",
        ),
        ("[Disk omx0]\n", "omx.conf:1: unknown section '[Disk omx0]'"),
        (
            "[Device omx0]\nSize = 1G\nNodes = pool9\n",
            "omx.conf:1: [Device omx0] names node 'pool9'",
        ),
        (
            "[Device omx0]\nSize = 1G\n[Device omx0]\nSize = 1G\n",
            "omx.conf:3: [Device omx0] is defined twice",
        ),
        (
            "[Device omx0]\nSize = 1G\nReplicas = 3\n",
            "omx.conf:3: Replicas = 3: expected 1 or 2",
        ),
        (
            "[Device omx0]\nSwapPriority = 99999\n",
            "omx.conf:2: SwapPriority = 99999: out of range",
        ),
        ("[Node a]\nkey\n", "omx.conf:2: 'key': expected KEY = VALUE"),
    ];
    for (text, want) in cases {
        let e = parse(text, "omx.conf").unwrap_err();
        assert!(e.starts_with(want), "{text:?}: got {e:?}, want {want:?}");
    }
}

#[test]
fn up_adds_only_what_is_missing_and_twice_does_nothing() {
    let c = parse(EXAMPLE, "omx.conf").unwrap();
    let steps = plan::up(&c, &[], &[], &[]).unwrap();
    let text: Vec<String> = steps.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        text,
        [
            "omxctl node add eth1 02:00:00:00:00:02 --size 4294967296   # pool1",
            "omxctl node add eth1 02:00:00:00:00:03 --size 4294967296 --mtu 9000 --integrity crc32c --io-timeout 30   # pool2",
            "wait until node(s) pool1, pool2 are up",
            "omxctl dev add omx0 --size 2147483648 --nodes <ids of pool1,pool2> --replicas 2",
            "mkswap /dev/omx0",
            "swapon --priority 10 --discard=pages /dev/omx0",
            "omxctl dev add omx1 --size 1073741824",
        ]
    );
    // Everything in place: nothing to do.
    let nodes = [
        node(1, "eth1", [2, 0, 0, 0, 0, 2], 4 << 30, NodeState::Up),
        node(2, "eth1", [2, 0, 0, 0, 0, 3], 4 << 30, NodeState::Up),
    ];
    let devs = [dev("omx0", 2 << 30), dev("omx1", 1 << 30)];
    let swaps = [ActiveSwap {
        path: "/dev/omx0".into(),
        priority: 10,
    }];
    assert_eq!(plan::up(&c, &nodes, &devs, &swaps).unwrap(), []);
    // A node still connecting is waited for; swap off is turned on again.
    let nodes2 = [
        nodes[0].clone(),
        node(
            2,
            "eth1",
            [2, 0, 0, 0, 0, 3],
            4 << 30,
            NodeState::Connecting,
        ),
    ];
    let steps = plan::up(&c, &nodes2, &devs, &[]).unwrap();
    assert_eq!(
        steps[0],
        Step::WaitUp {
            names: vec!["pool2".into()]
        }
    );
    assert!(matches!(steps[1], Step::MkSwap { .. }) && matches!(steps[2], Step::SwapOn { .. }));
    assert_eq!(steps.len(), 3);
}

#[test]
fn up_refuses_a_node_or_device_of_another_size() {
    let c = parse(EXAMPLE, "omx.conf").unwrap();
    let nodes = [node(7, "eth1", [2, 0, 0, 0, 0, 2], 1 << 30, NodeState::Up)];
    let e = plan::up(&c, &nodes, &[], &[]).unwrap_err();
    assert!(
        e.contains("node pool1 (eth1 02:00:00:00:00:02) is registered (id 7) with 1 GiB"),
        "{e}"
    );
    let e = plan::up(&c, &[], &[dev("omx0", 1 << 30)], &[]).unwrap_err();
    assert!(
        e.starts_with("device omx0 exists with 1 GiB, the configuration says 2 GiB"),
        "{e}"
    );
}

#[test]
fn down_undoes_in_reverse_only_what_is_there() {
    let c = parse(EXAMPLE, "omx.conf").unwrap();
    let nodes = [
        node(3, "eth1", [2, 0, 0, 0, 0, 2], 4 << 30, NodeState::Up),
        node(4, "eth1", [2, 0, 0, 0, 0, 3], 4 << 30, NodeState::Dead),
    ];
    let devs = [dev("omx0", 2 << 30), dev("omx1", 1 << 30)];
    let swaps = [ActiveSwap {
        path: "/dev/omx0".into(),
        priority: -2,
    }];
    let text = |nodes: &[Node], devs: &[Dev], swaps: &[ActiveSwap]| -> Vec<String> {
        plan::down(&c, nodes, devs, swaps)
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    assert_eq!(
        text(&nodes, &devs, &swaps),
        [
            "omxctl dev del omx1",
            "swapoff /dev/omx0",
            "omxctl dev del omx0",
            "omxctl node del 4   # pool2",
            "omxctl node del 3   # pool1",
        ]
    );
    // Only what is there: pool1 gone already, no device, no swap.
    assert_eq!(text(&nodes[1..], &[], &[]), ["omxctl node del 4   # pool2"]);
    assert_eq!(plan::down(&c, &[], &[], &[]), []);
}

#[test]
fn showconf_is_a_configuration_up_accepts_as_done() {
    let nodes = [node(3, "eth1", [2, 0, 0, 0, 0, 2], 4 << 30, NodeState::Up)];
    let mut d = dev("omx0", 2 << 30);
    d.nodes = vec![3];
    d.replicas = Some(1);
    let swaps = parse_swaps(
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/omx0                               partition\t2097148\t\t0\t\t5\n",
    );
    assert_eq!(
        swaps,
        [ActiveSwap {
            path: "/dev/omx0".into(),
            priority: 5
        }]
    );
    let text = render(&plan::current(&nodes, &[d.clone()], &swaps));
    assert_eq!(
        text,
        "[Node node3]\nInterface = eth1\nMAC = 02:00:00:00:00:02\nSize = 4G\n\n[Device omx0]\nSize = 2G\nNodes = node3\nSwapPriority = 5\n"
    );
    let c = parse(&text, "showconf").unwrap();
    assert_eq!(plan::up(&c, &nodes, &[d], &swaps).unwrap(), []);
}
