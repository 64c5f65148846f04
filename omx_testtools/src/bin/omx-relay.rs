//! omx-relay: bridges two interfaces frame by frame with random loss,
//! reordering and duplication (a userspace stand-in for netem).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use omx_node::sys::{self, PacketSocket, ETH_P_ALL};
use omx_node::{error, info};
use omx_testtools::relay::{self, RelayOptions};

/// Impairing Ethernet relay between two interfaces.
#[derive(Debug, Parser)]
#[command(name = "omx-relay", version, about)]
struct Args {
    /// First interface.
    #[arg(long)]
    a: String,
    /// Second interface.
    #[arg(long)]
    b: String,
    /// Probability of dropping a frame.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Probability of holding a frame back behind the next one.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Probability of sending a frame twice.
    #[arg(long, default_value_t = 0.0)]
    duplicate: f64,
    /// Longest a reordered frame is held, in microseconds.
    #[arg(long, default_value_t = 1000)]
    reorder_delay_us: u64,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn open(ifname: &str) -> Result<PacketSocket, ExitCode> {
    match PacketSocket::open(ifname, ETH_P_ALL) {
        Ok(s) => {
            s.set_buffers(8 << 20);
            if let Err(e) = s.set_promiscuous() {
                error!("cannot make {ifname} promiscuous: {e}");
            }
            Ok(s)
        }
        Err(e) => {
            match e.raw_os_error() {
                Some(libc::ENODEV) => error!("no such interface {ifname}"),
                Some(libc::EPERM) => error!("needs CAP_NET_RAW: run as root"),
                _ => error!("cannot open {ifname}: {e}"),
            }
            Err(ExitCode::from(3))
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    for (n, p) in [
        ("loss", args.loss),
        ("reorder", args.reorder),
        ("duplicate", args.duplicate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            error!("--{n} must be a probability between 0 and 1");
            return ExitCode::from(2);
        }
    }
    let a = match open(&args.a) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let b = match open(&args.b) {
        Ok(s) => s,
        Err(c) => return c,
    };
    if let Err(e) = sys::install_signal_handlers() {
        error!("signals: {e}");
        return ExitCode::from(1);
    }
    info!(
        "relaying {} <-> {}: loss {} reorder {} duplicate {} seed {}",
        args.a, args.b, args.loss, args.reorder, args.duplicate, args.seed
    );
    let opts = RelayOptions {
        loss: args.loss,
        reorder: args.reorder,
        duplicate: args.duplicate,
        reorder_delay: Duration::from_micros(args.reorder_delay_us),
        seed: args.seed,
        batch: 64,
    };
    match relay::run(&a, &b, &opts) {
        Ok(st) => {
            info!("stopped: {st}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("relay failed: {e}");
            ExitCode::from(1)
        }
    }
}
