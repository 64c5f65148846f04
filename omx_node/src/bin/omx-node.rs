//! omx-node: the pool-node daemon. Lends `--size` bytes of this machine's
//! RAM to omx clients over OmniXtend on `--iface`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use omx_node::log::{set_level, Level};
use omx_node::memory::{Memory, MemoryConfig, HUGEPAGES_WITH_FILE};
use omx_node::server::{self, LoopOptions, Server, ServerConfig};
use omx_node::sys::{self, PacketSocket};
use omx_node::util::{fmt_size, format_mac, parse_mac, parse_size, Mac};
use omx_node::{error, info, warn};
use omx_proto::serve::VersionPolicy;

/// Data byte order on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Order {
    /// OmniXtend spec / hardware order (default).
    Spec,
    /// Raw memory order (ETRI software, omnixtend-rs).
    Raw,
}

/// Protocol versions accepted from new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Protocol {
    /// 1.1 when the first frame is OpenConnection, else 1.0.3 (seq 0).
    Auto,
    /// Only 1.1 (OpenConnection required).
    #[value(name = "1.1")]
    V11,
    /// Only 1.0.3.
    #[value(name = "1.0.3")]
    V103,
}

/// omx pool node: lends RAM to omx clients over OmniXtend (raw Ethernet,
/// EtherType 0xAAAA) from userspace.
#[derive(Debug, Parser)]
#[command(name = "omx-node", version, about, long_about = None)]
struct Args {
    /// Network interface to serve on (e.g. eth1).
    #[arg(long, short = 'i')]
    iface: String,
    /// Total memory lent, e.g. 8G, 512M.
    #[arg(long, short = 's')]
    size: String,
    /// Allowlisted client and its region size, MAC=SIZE (repeatable): only these MACs get
    /// memory (and a connection). Either --client or --first-come is required.
    #[arg(long = "client", value_name = "MAC=SIZE")]
    clients: Vec<String>,
    /// Without --client: hand out regions of --region-size to whichever MAC opens first.
    /// RISK: any machine on the segment, including one that forges its source MAC, can
    /// take a region (and a client's region while it is away), and take them all.
    #[arg(long, conflicts_with = "clients")]
    first_come: bool,
    /// Region size for first-come clients (--first-come; default: 1G, at most --size).
    #[arg(long)]
    region_size: Option<String>,
    /// Data byte order on the wire.
    #[arg(long, value_enum, default_value_t = Order::Spec)]
    byte_order: Order,
    /// Protocol versions accepted.
    #[arg(long, value_enum, default_value_t = Protocol::Auto)]
    protocol: Protocol,
    /// Back the memory with huge pages (MAP_HUGETLB); falls back to normal
    /// pages with a log line when none are reserved.
    #[arg(long)]
    hugepages: bool,
    /// Lock the memory into RAM (mlock).
    #[arg(long)]
    mlock: bool,
    /// Keep the lent memory in this file (shared mapping; on tmpfs such as /dev/shm or /run,
    /// on hugetlbfs for huge pages, or on a disk) instead of anonymous memory, together with
    /// the regions' assignments and contents identities: a restarted daemon (upgrade, crash,
    /// SIGKILL) resumes every region with its data and identity. A missing file, or one laid
    /// out for another --size / --region-size / --client list, starts empty. Not with
    /// --hugepages.
    #[arg(long, value_name = "PATH")]
    memory_file: Option<PathBuf>,
    /// Free the memory of a client that has been gone this many seconds
    /// (default: keep it until it comes back).
    #[arg(long, value_name = "SECS")]
    forget_after: Option<f64>,
    /// MTU to use (default: the interface's).
    #[arg(long)]
    mtu: Option<usize>,
    /// Frames taken from the receive ring per round (up to 8 rounds before the responses
    /// go out); the receive ring holds at least 16 times as many, the transmit ring 4 times
    /// (1 disables batching).
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Maximum simultaneous client connections.
    #[arg(long, default_value_t = 64)]
    max_clients: usize,
    /// Retransmit timeout in milliseconds; it doubles per unanswered
    /// retransmission up to 32 times this, and a client that answers
    /// none of 11 is dropped (its memory is kept): 11 s at the default.
    #[arg(long, default_value_t = 50.0)]
    rto_ms: f64,
    /// Write JSON counters to this file on SIGUSR1, every
    /// --stats-interval and at exit.
    #[arg(long)]
    stats_file: Option<PathBuf>,
    /// Seconds between stats-file and metrics-file updates.
    #[arg(long, value_name = "SECS")]
    stats_interval: Option<f64>,
    /// Write the counters in the Prometheus text format (for node_exporter's
    /// textfile collector: a *.prom file in its directory) to this file on
    /// SIGUSR1, every --stats-interval (15 s without it) and at exit.
    #[arg(long)]
    metrics_file: Option<PathBuf>,
    /// Print JSON counters to stdout on SIGUSR1 and at exit.
    #[arg(long)]
    stats_json: bool,
    /// Log level.
    #[arg(long, value_enum, default_value_t = Level::Info)]
    log_level: Level,
}

const EXIT_USAGE: u8 = 2;
const EXIT_NO_IFACE: u8 = 3;
const EXIT_PERM: u8 = 4;
const EXIT_MEMORY: u8 = 5;

fn fail(code: u8, msg: &str) -> ExitCode {
    error!("{msg}");
    ExitCode::from(code)
}

fn parse_client(s: &str) -> Result<(Mac, u64), String> {
    let (m, sz) = s
        .split_once('=')
        .ok_or_else(|| format!("bad --client '{s}': use MAC=SIZE, e.g. 02:00:00:00:00:01=2G"))?;
    Ok((parse_mac(m)?, parse_size(sz)?))
}

fn main() -> ExitCode {
    let args = Args::parse();
    set_level(args.log_level);
    let size = match parse_size(&args.size) {
        Ok(0) => {
            return fail(
                EXIT_USAGE,
                "invalid size '0': --size must be greater than 0",
            )
        }
        Ok(s) => s,
        Err(e) => return fail(EXIT_USAGE, &e.to_string()),
    };
    let region_size = match args.region_size.as_deref().map(parse_size) {
        None => (1u64 << 30).min(size),
        Some(Ok(0)) => {
            return fail(
                EXIT_USAGE,
                "invalid size '0': --region-size must be greater than 0",
            )
        }
        Some(Ok(s)) => s.min(size),
        Some(Err(e)) => return fail(EXIT_USAGE, &e.to_string()),
    };
    let mut clients = Vec::new();
    for c in &args.clients {
        match parse_client(c) {
            Ok(x) => clients.push(x),
            Err(e) => return fail(EXIT_USAGE, &e),
        }
    }
    if clients.is_empty() && !args.first_come {
        return fail(
            EXIT_USAGE,
            "no --client MAC=SIZE given: name the clients that may use this node's memory, or pass --first-come to give it to whichever MAC asks first (any machine on the segment, including one that forges its MAC)",
        );
    }
    if args.batch == 0 {
        return fail(EXIT_USAGE, "--batch must be at least 1");
    }
    if args.hugepages && args.memory_file.is_some() {
        return fail(EXIT_USAGE, HUGEPAGES_WITH_FILE);
    }
    let sock = match PacketSocket::open(&args.iface, omx_proto::ETHERTYPE_OMNIXTEND) {
        Ok(s) => s,
        Err(e) => {
            return match e.raw_os_error() {
                Some(libc::ENODEV) | Some(libc::ENXIO) => {
                    fail(EXIT_NO_IFACE, &format!("no such interface {}", args.iface))
                }
                Some(libc::EPERM) | Some(libc::EACCES) => fail(
                    EXIT_PERM,
                    &format!(
                        "needs CAP_NET_RAW: run as root (or grant the capability); opening a raw socket on {} failed: {e}",
                        args.iface
                    ),
                ),
                _ => fail(1, &format!("cannot open {}: {e}", args.iface)),
            };
        }
    };
    sock.set_buffers(8 << 20);
    let info = sock.info();
    if !info.up {
        warn!(
            "interface {} is down: bring it up with `ip link set {} up`",
            args.iface, args.iface
        );
    }
    let mtu = args.mtu.unwrap_or(info.mtu);
    if mtu < 64 {
        return fail(EXIT_USAGE, &format!("bad MTU {mtu}"));
    }
    let mem = match Memory::new(&MemoryConfig {
        size,
        region_size,
        clients: clients.clone(),
        hugepages: args.hugepages,
        mlock: args.mlock,
        file: args.memory_file.clone(),
    }) {
        Ok(m) => m,
        Err(e) => {
            let code = if e.starts_with("bad size") || e.starts_with("bad option") {
                EXIT_USAGE
            } else {
                EXIT_MEMORY
            };
            return fail(code, &e);
        }
    };
    let mut cfg = ServerConfig::new(info.mac, mtu);
    cfg.serve.order = match args.byte_order {
        Order::Spec => omx_proto::ByteOrder::Spec,
        Order::Raw => omx_proto::ByteOrder::Raw,
    };
    cfg.serve.versions = match args.protocol {
        Protocol::Auto => VersionPolicy::Auto,
        Protocol::V11 => VersionPolicy::V1_1,
        Protocol::V103 => VersionPolicy::V1_0_3,
    };
    cfg.serve.rto_ns = (args.rto_ms.max(0.01) * 1e6) as u64;
    cfg.forget_after_ns = args.forget_after.map(|s| (s.max(0.0) * 1e9) as u64);
    cfg.max_peers = args.max_clients.max(1);
    if let Err(e) = sys::install_signal_handlers() {
        return fail(1, &format!("cannot install signal handlers: {e}"));
    }
    #[cfg(feature = "mutation-drop-write")]
    warn!("{}", omx_node::mutation::NOTICE);
    info!(
        "serving {} on {} ({}, MTU {}, byte order {:?}, protocol {:?}, batch {})",
        fmt_size(size),
        args.iface,
        format_mac(&info.mac),
        mtu,
        args.byte_order,
        args.protocol,
        args.batch
    );
    if clients.is_empty() {
        warn!(
            "--first-come: clients get {} each ({} regions), whoever asks first (any MAC on the segment, forged ones too)",
            fmt_size(region_size),
            mem.regions().len()
        );
    } else {
        for (m, s) in &clients {
            info!("client {} may use {}", format_mac(m), fmt_size(*s));
        }
    }
    // Only a MAC that holds a region gets a connection.
    let conns = cfg.max_peers.min(mem.regions().len());
    let lent = mem.mapped_len() as u64;
    let ceiling = server::Ceiling::new(lent, conns, mtu, args.batch);
    let mib = |v: u64| format!("{:.1} MiB", v as f64 / f64::from(1u32 << 20));
    info!(
        "memory ceiling {} bytes ({}): lent {} + {} connections x {} + base {}",
        ceiling.total(),
        mib(ceiling.total()),
        mib(ceiling.lent),
        ceiling.connections,
        mib(ceiling.per_connection),
        mib(ceiling.base)
    );
    let mut server = Server::new(cfg, mem);
    let opts = LoopOptions {
        batch: args.batch,
        stats_file: args.stats_file.clone(),
        stats_json: args.stats_json,
        stats_interval: args
            .stats_interval
            .map(|s| Duration::from_secs_f64(s.max(0.01))),
        metrics_file: args.metrics_file.clone(),
    };
    // Set up and listening: a `Type=notify` unit counts as started from here.
    if let Err(e) = omx_node::notify::notify(&format!(
        "READY=1\nSTATUS=serving {} on {}",
        fmt_size(size),
        args.iface
    )) {
        warn!("cannot tell the service manager we are ready: {e}");
    }
    let result = server::run(&sock, &mut server, &opts);
    // Written back and marked complete: resumed even after the machine restarts.
    if let Err(e) = server.memory_mut().close() {
        warn!("{e}");
    }
    match result {
        Ok(()) => {
            info!("stopped");
            eprint!("{}", server.stats_text());
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &format!("socket error on {}: {e}", args.iface)),
    }
}
