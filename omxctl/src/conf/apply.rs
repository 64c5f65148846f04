//! Carries out the steps of [`super::plan`]: netlink requests for nodes and devices,
//! `mkswap`, `swapon` and `swapoff` (util-linux) for swap. Each step is printed before it
//! runs (`[#] swapon /dev/omx0`, as wg-quick does); `--dry-run` prints them only.

use std::process::Command;
use std::time::{Duration, Instant};

use super::plan::{self, dev_path, parse_swaps, registered, ActiveSwap, Step};
use super::{render, Config};
use crate::error::{Error, Result};
use crate::netlink::attrs::NodeState;
use crate::netlink::{DevAddRequest, Omx};

/// The active swap areas.
pub fn active_swaps() -> Result<Vec<ActiveSwap>> {
    let text =
        std::fs::read_to_string("/proc/swaps").map_err(|e| Error::io("reading /proc/swaps", e))?;
    Ok(parse_swaps(&text))
}

/// `omxctl up`: brings the module to the configuration; `wait` bounds the wait for nodes.
pub fn up(omx: &mut Omx, conf: &Config, dry_run: bool, wait: Duration) -> Result<()> {
    let steps = plan::up(conf, &omx.node_dump()?, &omx.dev_dump()?, &active_swaps()?)
        .map_err(Error::Invalid)?;
    run(omx, conf, &steps, dry_run, wait)
}

/// `omxctl down`: undoes the configuration.
pub fn down(omx: &mut Omx, conf: &Config, dry_run: bool) -> Result<()> {
    let steps = plan::down(conf, &omx.node_dump()?, &omx.dev_dump()?, &active_swaps()?);
    run(omx, conf, &steps, dry_run, Duration::ZERO)
}

/// `omxctl showconf`: what the module has now, as a configuration file.
pub fn showconf(omx: &mut Omx) -> Result<String> {
    Ok(render(&plan::current(
        &omx.node_dump()?,
        &omx.dev_dump()?,
        &active_swaps()?,
    )))
}

fn run(omx: &mut Omx, conf: &Config, steps: &[Step], dry_run: bool, wait: Duration) -> Result<()> {
    if steps.is_empty() {
        println!("nothing to do");
    }
    for step in steps {
        println!("[#] {step}");
        if dry_run {
            continue;
        }
        match step {
            Step::NodeAdd { req, .. } => {
                omx.node_add(req)?;
            }
            Step::WaitUp { names } => wait_up(omx, conf, names, wait)?,
            Step::DevAdd { dev } => {
                let nodes = omx.node_dump()?;
                let members: Vec<&str> = if dev.nodes.is_empty() {
                    conf.nodes.iter().map(|n| n.name.as_str()).collect()
                } else {
                    dev.nodes.iter().map(String::as_str).collect()
                };
                let mut ids = Vec::new();
                for name in members {
                    let n = conf
                        .nodes
                        .iter()
                        .find(|n| n.name == name)
                        .and_then(|n| registered(&nodes, n));
                    ids.push(n.map(|n| n.id).ok_or_else(|| {
                        Error::Invalid(format!(
                            "device {}: node {name} is not registered",
                            dev.name
                        ))
                    })?);
                }
                omx.dev_add(&DevAddRequest {
                    name: dev.name.clone(),
                    size: dev.size,
                    nodes: ids,
                    replicas: dev.replicas,
                })?;
            }
            Step::MkSwap { dev } => exec("mkswap", &[&dev_path(dev)])?,
            Step::SwapOn { dev, swap } => {
                let mut args = Vec::new();
                if let Some(p) = swap.priority {
                    args.push(format!("--priority={p}"));
                }
                if let Some(d) = swap.discard.policy() {
                    args.push(format!("--discard={d}"));
                }
                args.push(dev_path(dev));
                exec(
                    "swapon",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                )?;
            }
            Step::SwapOff { dev } => exec("swapoff", &[&dev_path(dev)])?,
            Step::DevDel { dev } => omx.dev_del(dev)?,
            Step::NodeDel { id, .. } => omx.node_del(*id)?,
        }
    }
    Ok(())
}

/// Waits until the named nodes of the file are up, at most `wait`.
fn wait_up(omx: &mut Omx, conf: &Config, names: &[String], wait: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        let nodes = omx.node_dump()?;
        let down: Vec<String> = conf
            .nodes
            .iter()
            .filter(|n| names.contains(&n.name))
            .filter_map(|n| match registered(&nodes, n).and_then(|x| x.state) {
                Some(NodeState::Up) => None,
                Some(s) => Some(format!("{} ({s})", n.name)),
                None => Some(format!("{} (not registered)", n.name)),
            })
            .collect();
        if down.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= wait {
            return Err(Error::Invalid(format!(
                "node(s) not up after {} s: {}",
                wait.as_secs(),
                down.join(", ")
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs a util-linux command; a failure names it and its exit status.
fn exec(program: &str, args: &[&str]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| Error::io(&format!("running {program}"), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{program} {} failed ({status})",
            args.join(" ")
        )))
    }
}
