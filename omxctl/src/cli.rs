// Command-line definition of omxctl.
//
// This file is shared with build.rs through `include!` (to generate the man
// pages and shell completions), so it must stay self-contained: only clap's
// derive API and std, no `crate::` paths and no inner doc comments.

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Control remote memory over OmniXtend (the omx kernel module)";

const LONG_ABOUT: &str = "\
omxctl drives the omx kernel module (omx_mod) through its generic netlink \
family \"omx\": it registers pool nodes (peers that lend memory over raw \
Ethernet with OmniXtend), creates block devices (/dev/omxN) striped over \
them, shows their state and counters, and follows events. On a pool node, \
it lends this host's memory to a client from the kernel (lend), the \
in-kernel alternative to the omx-node daemon.

Commands that change state need CAP_NET_ADMIN (run them as root) and must \
run in the host's initial network namespace, where pool nodes and their \
interfaces live: from a container's namespace they are refused (use e.g. \
nsenter -t 1 -n omxctl ...). Read commands (show, node show, dev show, stats) \
answer from any namespace with the host's view; monitor receives events only \
in the initial namespace.";

const AFTER_HELP: &str = "\
Examples:
  omxctl node add eth1 02:00:00:00:00:02 --size 4G
  omxctl dev add omx0 --size 8G --nodes 1,2 --replicas 2
  omxctl lend add eth1 02:00:00:00:00:01 --size 4G   (on the pool node)
  omxctl show
  omxctl -j node show 1
  omxctl monitor
  omxctl stats --watch 1";

/// Top-level command line.
#[derive(Parser, Debug)]
#[command(
    name = "omxctl",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Print machine-readable JSON instead of tables (read commands, monitor,
    /// stats and node add), one line per object
    #[arg(short = 'j', long = "json", global = true)]
    pub json: bool,

    /// Indent the JSON for reading (implies --json; monitor and stats --watch stay one line
    /// per object)
    #[arg(short = 'p', long = "pretty", global = true)]
    pub pretty: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The top-level subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage pool nodes (peers that lend memory)
    #[command(subcommand)]
    Node(NodeCommand),

    /// Manage remote-memory block devices (/dev/omxN)
    #[command(subcommand)]
    Dev(DevCommand),

    /// Lend this host's memory to clients from the kernel (an in-kernel pool node)
    #[command(subcommand)]
    Lend(LendCommand),

    /// Show all nodes and devices, and the memory this host lends (like `wg show`)
    #[command(after_help = "Example:\n  omxctl show\n  omxctl -j show")]
    Show,

    /// Print node state changes and device errors as they happen, until killed
    #[command(
        long_about = "Subscribe to the \"events\" multicast group of the omx family and print \
one line per event (node-state-ntf: a node's connection changed state; dev-error-ntf: a \
device failed I/O). With -j each event is one JSON object per line. Runs until killed. \
Events are sent in the initial network namespace only: in another one monitor prints nothing.",
        after_help = "Example:\n  omxctl monitor\n  omxctl -j monitor | jq -c ."
    )]
    Monitor,

    /// Show module-wide, per-node and per-device counters and each node's page-in and
    /// page-out latency percentiles
    #[command(after_help = "\
Percentiles are the upper bounds of doubling buckets (8 us, 16 us, ...): P99 <=512us means
above 256 and at most 512 microseconds.

Examples:
  omxctl stats
  omxctl stats --watch 2
  omxctl stats --prometheus > omx.prom.tmp && mv omx.prom.tmp omx.prom")]
    Stats(StatsArgs),

    /// Register the pool nodes and devices of a configuration file and turn swap on, each
    /// only where missing (run at boot by omx-client.service)
    #[command(after_help = "\
The file (default /etc/omx/omx.conf) has [Node NAME] and [Device NAME] sections; see
omxctl.md or `omxctl showconf` for the format. Each step is printed before it runs.

Examples:
  omxctl up
  omxctl up --dry-run /etc/omx/omx.conf")]
    Up(ConfArgs),

    /// Turn swap off and remove the devices and nodes of a configuration file (their memory
    /// on the nodes is released)
    #[command(after_help = "Example:\n  omxctl down\n  omxctl down --dry-run")]
    Down(ConfArgs),

    /// Print the nodes, devices and swap the module has now as a configuration file
    #[command(after_help = "Example:\n  omxctl showconf > /etc/omx/omx.conf")]
    Showconf,
}

/// Where `omxctl up`, `down` and omx-client.service read the configuration.
pub const DEFAULT_CONF: &str = "/etc/omx/omx.conf";

/// Arguments of `omxctl up` and `down`.
#[derive(Args, Debug)]
pub struct ConfArgs {
    /// Configuration file
    #[arg(value_name = "FILE", default_value = DEFAULT_CONF)]
    pub file: std::path::PathBuf,
    /// Print the steps without carrying them out
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Seconds `up` waits for the nodes to come up
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub wait: u64,
}

/// Arguments of `omxctl stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Repeat every SECS seconds until interrupted
    #[arg(short, long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub watch: Option<u64>,
    /// Print the counters and latency histograms in the Prometheus text format (for
    /// node_exporter's textfile collector) instead of tables or JSON
    #[arg(long, conflicts_with = "watch")]
    pub prometheus: bool,
}

/// `omxctl node ...`
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Register a pool node and open an OmniXtend connection to it; prints the new node id
    #[command(after_help = "\
Examples:
  omxctl node add eth1 02:00:00:00:00:02 --size 4G
  omxctl node add eth1 02:00:00:00:00:03 --size 512M --version 1.0.3 --byte-order raw --mtu 1500")]
    Add(NodeAddArgs),

    /// Close the connection to a node and forget it (refused while a device uses it)
    #[command(after_help = "Example:\n  omxctl node del 1")]
    Del {
        /// Node id (as printed by `node add` / `node show`)
        id: u32,
    },

    /// List pool nodes, or show one
    #[command(after_help = "Examples:\n  omxctl node show\n  omxctl -j node show 1")]
    Show {
        /// Only this node
        id: Option<u32>,
    },
}

/// Arguments of `omxctl node add`.
#[derive(Args, Debug)]
pub struct NodeAddArgs {
    /// Network interface the node is reached on (e.g. eth1), a name in the initial
    /// network namespace
    #[arg(value_name = "IFACE")]
    pub iface: String,

    /// Ethernet address of the pool node, aa:bb:cc:dd:ee:ff
    #[arg(value_name = "MAC")]
    pub mac: String,

    /// Memory the node lends: bytes, or with a K/M/G/T suffix (1024-based), e.g. 4G
    #[arg(short, long, value_name = "SIZE")]
    pub size: String,

    /// Byte order of data in TileLink data flits
    #[arg(long, value_enum, default_value_t = ByteOrderArg::Spec)]
    pub byte_order: ByteOrderArg,

    /// OmniXtend protocol version of the connection
    #[arg(long = "version", value_enum, default_value_t = VersionArg::V1_1, value_name = "VERSION")]
    pub omx_version: VersionArg,

    /// Largest frame payload to use (default: the interface MTU)
    #[arg(long, value_name = "N")]
    pub mtu: Option<u32>,

    /// End-to-end check of every frame, in a trailer omx-node recognizes and follows: xxh64
    /// (cheapest), crc32c, or none (plain OmniXtend, for peers without the omx extension)
    #[arg(long, value_enum, default_value_t = IntegrityArg::Xxh64)]
    pub integrity: IntegrityArg,

    /// How long block I/O waits for the node to come back once its connection is lost (it
    /// stopped answering for 2.2 s, 2.7 s when idle, or its daemon said goodbye) before
    /// failing with EIO: seconds, 0 to 300, fractions allowed; 0 fails at once [default: 10]
    #[arg(long, value_name = "SECS", value_parser = parse_io_timeout)]
    pub io_timeout: Option<u32>,
}

/// `--io-timeout` in seconds (0..=300, fractions to the millisecond) -> milliseconds.
pub fn parse_io_timeout(s: &str) -> Result<u32, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !(0.0..=300.0).contains(&secs) {
        return Err(format!("{s} s is out of range (0 to 300 seconds)"));
    }
    Ok((secs * 1000.0).round() as u32)
}

/// `--integrity` values (spec enum `integrity`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrityArg {
    /// Plain OmniXtend frames
    None,
    /// A CRC-32C trailer on every frame (omx extension)
    Crc32c,
    /// The low 32 bits of XXH64 in the same trailer: 3.5-4x cheaper to compute than the CRC
    /// (omx extension)
    Xxh64,
}

/// `--byte-order` values (spec enum `byte-order`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrderArg {
    /// OmniXtend 1.0.3 order (each 8-byte word byte-reversed vs memory)
    Spec,
    /// Plain memory order, as ETRI's newer software sends
    Raw,
}

/// `--version` values (spec enum `version`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionArg {
    /// OmniXtend 1.1, with OpenConnection/CloseConnection handshake
    #[value(name = "1.1")]
    V1_1,
    /// OmniXtend 1.0.3, no connection management
    #[value(name = "1.0.3")]
    V1_0_3,
}

/// `omxctl lend ...`
#[derive(Subcommand, Debug)]
pub enum LendCommand {
    /// Lend memory to one client: the memory is allocated (and zeroed) now, and the client's
    /// requests are served from the kernel's receive path; prints the new lending's id
    #[command(after_help = "\
Only frames from the client's MAC on that interface are served; the client registers this
host as a pool node (omxctl node add IFACE THIS-HOST-MAC --size SIZE) and speaks
OmniXtend 1.1 or 1.0.3, with or without omx's integrity trailer, in spec byte order.

Example:
  omxctl lend add eth1 02:00:00:00:00:01 --size 4G")]
    Add(LendAddArgs),

    /// Close the client's connection and free the memory lent to it
    #[command(after_help = "Example:\n  omxctl lend del 1")]
    Del {
        /// Lending id (as printed by `lend add` / `lend show`)
        id: u32,
    },

    /// List the memory this host lends, or show one lending
    #[command(after_help = "Examples:\n  omxctl lend show\n  omxctl -j lend show 1")]
    Show {
        /// Only this lending
        id: Option<u32>,
    },
}

/// Arguments of `omxctl lend add`.
#[derive(Args, Debug)]
pub struct LendAddArgs {
    /// Network interface the client is reached on (e.g. eth1), a name in the initial
    /// network namespace
    #[arg(value_name = "IFACE")]
    pub iface: String,

    /// Ethernet address of the client, aa:bb:cc:dd:ee:ff
    #[arg(value_name = "MAC")]
    pub mac: String,

    /// Memory lent: bytes, or with a K/M/G/T suffix (1024-based), e.g. 4G; a multiple of 4096
    #[arg(short, long, value_name = "SIZE")]
    pub size: String,
}

/// `omxctl dev ...`
#[derive(Subcommand, Debug)]
pub enum DevCommand {
    /// Create a block device striped (and optionally mirrored) over pool nodes
    #[command(after_help = "\
Examples:
  omxctl dev add omx0 --size 8G
  omxctl dev add omx1 --size 2G --nodes 1,2 --replicas 2")]
    Add(DevAddArgs),

    /// Remove a block device (refused while it is open or swapped on); its data is discarded,
    /// so its pool nodes free the memory
    #[command(after_help = "Example:\n  omxctl dev del omx0")]
    Del {
        /// Device name, e.g. omx0
        name: String,
    },

    /// List block devices, or show one
    #[command(after_help = "Examples:\n  omxctl dev show\n  omxctl -j dev show omx0")]
    Show {
        /// Only this device
        name: Option<String>,
    },
}

/// Arguments of `omxctl dev add`.
#[derive(Args, Debug)]
pub struct DevAddArgs {
    /// Block device name, e.g. omx0
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Capacity: bytes, or with a K/M/G/T suffix (1024-based); a multiple of 4096
    #[arg(short, long, value_name = "SIZE")]
    pub size: String,

    /// Member node ids, comma-separated (default: all nodes)
    #[arg(short, long, value_name = "ID,...", value_delimiter = ',')]
    pub nodes: Vec<u32>,

    /// Copies of each 1 MiB chunk (1 or 2). With 2, every chunk lives on two different
    /// nodes (at least two needed; each lends 2 x SIZE / nodes): writes complete when both
    /// copies are written, reads fail over to the other copy, and a node that dies leaves
    /// the mirror while I/O goes on with the survivor
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=2))]
    pub replicas: Option<u32>,
}
