//! omx-node-probe: talks to a pool node without the kernel module: probe,
//! read, write and benchmark its memory.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use omx_node::client::{Client, ClientError, ClientOptions, Op};
use omx_node::util::{format_mac, parse_mac, parse_size};
use omx_proto::{ByteOrder, Version};
use omx_rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Order {
    Spec,
    Raw,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Proto {
    #[value(name = "1.1")]
    V11,
    #[value(name = "1.0.3")]
    V103,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum BenchOp {
    Read,
    Write,
    Both,
}

/// Read, write and benchmark an omx pool node's memory from userspace.
#[derive(Debug, Parser)]
#[command(name = "omx-node-probe", version, about)]
struct Args {
    /// Interface facing the node.
    #[arg(long, short = 'i')]
    iface: String,
    /// The node's MAC address.
    #[arg(long, short = 'n')]
    node: String,
    /// Data byte order (must match the node).
    #[arg(long, value_enum, default_value_t = Order::Spec)]
    byte_order: Order,
    /// Protocol version.
    #[arg(long, value_enum, default_value_t = Proto::V11)]
    protocol: Proto,
    /// Use this source MAC instead of the interface's.
    #[arg(long)]
    src_mac: Option<String>,
    /// MTU (default: the interface's).
    #[arg(long)]
    mtu: Option<usize>,
    /// Largest data per request in bytes (power of two).
    #[arg(long)]
    max_msg: Option<usize>,
    /// Seconds to wait for the node.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Connect, read 8 bytes at 0 and report round trip and limits.
    Probe,
    /// Read LEN bytes at ADDR and hex-dump them.
    Read {
        /// Address (0x... or decimal).
        addr: String,
        /// Length (e.g. 64, 4K).
        len: String,
    },
    /// Write hex bytes at ADDR.
    Write {
        /// Address (0x... or decimal).
        addr: String,
        /// Data as hex, e.g. deadbeef.
        hexdata: String,
    },
    /// Measure throughput and latency.
    Bench {
        /// Operation.
        #[arg(long, value_enum, default_value_t = BenchOp::Both)]
        op: BenchOp,
        /// Bytes per operation.
        #[arg(long, default_value = "4K")]
        block: String,
        /// Queue depths to run (comma separated).
        #[arg(long, default_value = "1,32")]
        qd: String,
        /// Seconds per run.
        #[arg(long, default_value_t = 2.0)]
        secs: f64,
        /// Address span used (random block-aligned offsets).
        #[arg(long, default_value = "64M")]
        span: String,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
}

fn parse_addr(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let r = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else {
        t.parse()
    };
    r.map_err(|_| format!("bad address '{s}'"))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let t: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.strip_prefix("0x").unwrap_or(&t);
    if t.len() % 2 != 0 || t.is_empty() {
        return Err(format!("bad hex data '{s}'"));
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).map_err(|_| format!("bad hex data '{s}'")))
        .collect()
}

fn hexdump(addr: u64, data: &[u8]) {
    for (i, row) in data.chunks(16).enumerate() {
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let asc: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        println!(
            "{:012x}  {:<48} {}",
            addr + (i * 16) as u64,
            hex.join(" "),
            asc
        );
    }
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64 / 1000.0
}

fn bench(
    c: &mut Client,
    write: bool,
    block: usize,
    qd: usize,
    secs: f64,
    span: u64,
    json: bool,
) -> Result<(), ClientError> {
    c.set_queue_depth(qd);
    let blocks = (span / block as u64).max(1);
    let per_call = (qd * 8).max(64);
    let mut bufs = vec![vec![0u8; block]; per_call];
    let mut rng = Rng(42);
    for b in &mut bufs {
        rng.fill(b);
    }
    let mut lat = Vec::new();
    let mut ops_done = 0u64;
    let start = Instant::now();
    let limit = Duration::from_secs_f64(secs);
    let mut denied = 0u64;
    while start.elapsed() < limit {
        let addrs: Vec<u64> = (0..per_call)
            .map(|_| rng.below(blocks) * block as u64)
            .collect();
        let mut ops: Vec<Op<'_>> = if write {
            bufs.iter()
                .zip(&addrs)
                .map(|(b, a)| Op::Write { addr: *a, data: b })
                .collect()
        } else {
            bufs.iter_mut()
                .zip(&addrs)
                .map(|(b, a)| Op::Read { addr: *a, buf: b })
                .collect()
        };
        for st in c.execute(&mut ops)? {
            lat.push(st.latency_ns);
            denied += u64::from(st.denied);
        }
        ops_done += per_call as u64;
    }
    let el = start.elapsed().as_secs_f64();
    let iops = ops_done as f64 / el;
    let mbs = iops * block as f64 / 1e6;
    let p50 = pct(&mut lat, 0.50);
    let p99 = pct(&mut lat, 0.99);
    let name = if write { "write" } else { "read" };
    if json {
        println!(
            "{{\"op\":\"{name}\",\"block\":{block},\"qd\":{qd},\"iops\":{iops:.0},\"mb_s\":{mbs:.1},\"p50_us\":{p50:.1},\"p99_us\":{p99:.1},\"denied\":{denied}}}"
        );
    } else {
        println!(
            "{name:5} bs={block} qd={qd:<3} {mbs:8.1} MB/s {iops:9.0} IOPS  p50 {p50:8.1} us  p99 {p99:8.1} us{}",
            if denied > 0 { format!("  ({denied} denied)") } else { String::new() }
        );
    }
    Ok(())
}

fn run(args: Args) -> Result<(), ClientError> {
    fn bad(e: impl ToString) -> ClientError {
        ClientError::Invalid(e.to_string())
    }
    let node = parse_mac(&args.node).map_err(bad)?;
    let mut opts = ClientOptions {
        order: match args.byte_order {
            Order::Spec => ByteOrder::Spec,
            Order::Raw => ByteOrder::Raw,
        },
        version: match args.protocol {
            Proto::V11 => Version::V1_1,
            Proto::V103 => Version::V1_0_3,
        },
        mtu: args.mtu,
        max_msg: args.max_msg,
        timeout: Duration::from_secs_f64(args.timeout.max(0.01)),
        ..ClientOptions::default()
    };
    if let Some(m) = &args.src_mac {
        opts.src_mac = Some(parse_mac(m).map_err(bad)?);
    }
    let t0 = Instant::now();
    let mut c = Client::connect(&args.iface, node, opts)?;
    let connect = t0.elapsed();
    match args.cmd {
        Cmd::Probe => {
            let mut b = [0u8; 8];
            let t = Instant::now();
            let r = c.read(0, &mut b);
            let rtt = t.elapsed();
            println!(
                "node {} via {} as {}: connected in {:.1} ms, max {} bytes per request",
                format_mac(&node),
                args.iface,
                format_mac(&c.mac()),
                connect.as_secs_f64() * 1e3,
                c.max_msg()
            );
            match r {
                Ok(()) => println!(
                    "read 8 bytes at 0 in {:.1} us: {:02x?}",
                    rtt.as_secs_f64() * 1e6,
                    b
                ),
                Err(ClientError::Denied { .. }) => {
                    println!("read at 0 denied: this client has no memory on the node")
                }
                Err(e) => return Err(e),
            }
        }
        Cmd::Read { addr, len } => {
            let addr = parse_addr(&addr).map_err(bad)?;
            let len = parse_size(&len).map_err(bad)? as usize;
            let mut buf = vec![0u8; len];
            c.read(addr, &mut buf)?;
            hexdump(addr, &buf);
        }
        Cmd::Write { addr, hexdata } => {
            let addr = parse_addr(&addr).map_err(bad)?;
            let data = parse_hex(&hexdata).map_err(bad)?;
            c.write(addr, &data)?;
            println!("wrote {} bytes at {addr:#x}", data.len());
        }
        Cmd::Bench {
            op,
            block,
            qd,
            secs,
            span,
            json,
        } => {
            let block = parse_size(&block).map_err(bad)? as usize;
            let span = parse_size(&span).map_err(bad)?;
            for q in qd.split(',') {
                let q: usize = q
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("bad queue depth '{q}'")))?;
                if op != BenchOp::Read {
                    bench(&mut c, true, block, q, secs, span, json)?;
                }
                if op != BenchOp::Write {
                    bench(&mut c, false, block, q, secs, span, json)?;
                }
            }
        }
    }
    c.close()
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("omx-node-probe: {e}");
            ExitCode::from(match e {
                ClientError::NoSuchInterface(_) => 3,
                ClientError::Permission => 4,
                ClientError::Invalid(_) => 2,
                ClientError::Denied { .. } => 6,
                _ => 1,
            })
        }
    }
}
