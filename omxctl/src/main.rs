//! omxctl: control tool of the omx remote-memory kernel module.
//!
//! Dispatches the command line to the netlink client and prints the result;
//! errors go to stderr as `omxctl: <cause>` with exit code 1 (2 for usage
//! errors, as clap does).

use std::process::ExitCode;
use std::time::Duration;

use clap::{error::ErrorKind, CommandFactory, Parser};

use omxctl::cli::ConfArgs;
use omxctl::cli::{
    ByteOrderArg, Cli, Command, DevCommand, IntegrityArg, LendCommand, NodeCommand, VersionArg,
};
use omxctl::error::{Error, Result};
use omxctl::model::{Overview, StatsReport};
use omxctl::netlink::attrs::{ByteOrder, Integrity, Version, DEVNAME_MAX, IFNAME_MAX};
use omxctl::netlink::{DevAddRequest, LendAddRequest, NodeAddRequest, Omx};
use omxctl::{conf, monitor, prometheus, show, units};

/// Reads and parses a configuration file.
fn read_conf(path: &std::path::Path) -> Result<conf::Config> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(&format!("reading {}", path.display()), e))?;
    conf::parse(&text, &path.display().to_string()).map_err(Error::Invalid)
}

/// Exit with a clap-style usage error (exit code 2), showing the usage of
/// subcommand `path` (e.g. `["node", "add"]`).
fn usage_error(path: &[&str], msg: impl std::fmt::Display) -> ! {
    let mut cmd = Cli::command();
    cmd.build();
    let mut sub = &mut cmd;
    for name in path {
        sub = sub
            .find_subcommand_mut(name)
            .expect("usage_error path names a subcommand");
    }
    sub.error(ErrorKind::ValueValidation, msg).exit()
}

/// Check arguments that clap cannot (MAC, sizes, name lengths) and build
/// the requests; bad values end the program with a usage error.
enum Action {
    NodeAdd(NodeAddRequest),
    NodeDel(u32),
    NodeShow(Option<u32>),
    LendAdd(LendAddRequest),
    LendDel(u32),
    LendShow(Option<u32>),
    DevAdd(DevAddRequest),
    DevDel(String),
    DevShow(Option<String>),
    Show,
    Monitor,
    Stats {
        watch: Option<u64>,
        prometheus: bool,
    },
    Up(ConfArgs),
    Down(ConfArgs),
    Showconf,
}

fn check_name(path: &[&str], kind: &str, name: &str, max: usize) {
    if name.is_empty() || name.len() > max {
        usage_error(
            path,
            format!("invalid {kind} '{name}': must be 1 to {max} bytes long"),
        );
    }
    if name.contains(['\0', '/']) || name.chars().any(char::is_whitespace) {
        usage_error(
            path,
            format!("invalid {kind} '{name}': must not contain '/', NUL or whitespace"),
        );
    }
}

fn validate(cmd: Command) -> Action {
    match cmd {
        Command::Node(NodeCommand::Add(a)) => {
            check_name(&["node", "add"], "interface name", &a.iface, IFNAME_MAX);
            let peer_mac = omx_args::parse_unicast_mac(&a.mac)
                .unwrap_or_else(|e| usage_error(&["node", "add"], e));
            let size = units::parse_block_size(&a.size)
                .unwrap_or_else(|e| usage_error(&["node", "add"], e));
            Action::NodeAdd(NodeAddRequest {
                ifname: a.iface,
                peer_mac,
                size,
                byte_order: match a.byte_order {
                    ByteOrderArg::Spec => ByteOrder::Spec,
                    ByteOrderArg::Raw => ByteOrder::Raw,
                },
                version: match a.omx_version {
                    VersionArg::V1_1 => Version::V1_1,
                    VersionArg::V1_0_3 => Version::V1_0_3,
                },
                mtu: a.mtu,
                integrity: match a.integrity {
                    IntegrityArg::None => Integrity::None,
                    IntegrityArg::Crc32c => Integrity::Crc32c,
                    IntegrityArg::Xxh64 => Integrity::Xxh64,
                },
                io_timeout_ms: a.io_timeout,
            })
        }
        Command::Node(NodeCommand::Del { id }) => Action::NodeDel(id),
        Command::Node(NodeCommand::Show { id }) => Action::NodeShow(id),
        Command::Lend(LendCommand::Add(a)) => {
            check_name(&["lend", "add"], "interface name", &a.iface, IFNAME_MAX);
            let client_mac = omx_args::parse_unicast_mac(&a.mac)
                .unwrap_or_else(|e| usage_error(&["lend", "add"], e));
            let size = units::parse_block_size(&a.size)
                .unwrap_or_else(|e| usage_error(&["lend", "add"], e));
            Action::LendAdd(LendAddRequest {
                ifname: a.iface,
                client_mac,
                size,
            })
        }
        Command::Lend(LendCommand::Del { id }) => Action::LendDel(id),
        Command::Lend(LendCommand::Show { id }) => Action::LendShow(id),
        Command::Dev(DevCommand::Add(a)) => {
            check_name(&["dev", "add"], "device name", &a.name, DEVNAME_MAX);
            let size = units::parse_block_size(&a.size)
                .unwrap_or_else(|e| usage_error(&["dev", "add"], e));
            let nodes = a.nodes;
            if let Some(dup) = nodes
                .iter()
                .enumerate()
                .find(|(i, id)| nodes[..*i].contains(id))
            {
                usage_error(
                    &["dev", "add"],
                    format!("--nodes lists node {} twice", dup.1),
                );
            }
            Action::DevAdd(DevAddRequest {
                name: a.name,
                size,
                nodes,
                replicas: a.replicas,
            })
        }
        Command::Dev(DevCommand::Del { name }) => {
            check_name(&["dev", "del"], "device name", &name, DEVNAME_MAX);
            Action::DevDel(name)
        }
        Command::Dev(DevCommand::Show { name }) => {
            if let Some(n) = &name {
                check_name(&["dev", "show"], "device name", n, DEVNAME_MAX);
            }
            Action::DevShow(name)
        }
        Command::Show => Action::Show,
        Command::Monitor => Action::Monitor,
        Command::Up(a) => Action::Up(a),
        Command::Down(a) => Action::Down(a),
        Command::Showconf => Action::Showconf,
        Command::Stats(s) => Action::Stats {
            watch: s.watch,
            prometheus: s.prometheus,
        },
    }
}

fn print(s: &str) {
    print!("{s}");
    if !s.ends_with('\n') {
        println!();
    }
}

/// Runs `action`, printing JSON if `json` (indented if `pretty`) or else text.
fn run(action: Action, json: bool, pretty: bool) -> Result<()> {
    let mut omx = Omx::connect()?;
    match action {
        Action::NodeAdd(req) => {
            let id = omx.node_add(&req)?;
            if json {
                print(&show::json(&serde_json::json!({ "id": id }), pretty));
            } else {
                println!("{id}");
            }
        }
        Action::NodeDel(id) => omx.node_del(id)?,
        Action::NodeShow(Some(id)) => {
            let node = omx.node_get(id)?;
            print(&if json {
                show::json(&node, pretty)
            } else {
                show::node_detail(&node)
            });
        }
        Action::NodeShow(None) => {
            let nodes = omx.node_dump()?;
            print(&if json {
                show::json(&nodes, pretty)
            } else {
                show::nodes_table(&nodes)
            });
        }
        Action::LendAdd(req) => {
            let id = omx.lend_add(&req)?;
            if json {
                print(&show::json(&serde_json::json!({ "id": id }), pretty));
            } else {
                println!("{id}");
            }
        }
        Action::LendDel(id) => omx.lend_del(id)?,
        Action::LendShow(Some(id)) => {
            let lend = omx.lend_get(id)?;
            print(&if json {
                show::json(&lend, pretty)
            } else {
                show::lend_detail(&lend)
            });
        }
        Action::LendShow(None) => {
            let lends = omx.lend_dump()?;
            print(&if json {
                show::json(&lends, pretty)
            } else {
                show::lends_table(&lends)
            });
        }
        Action::DevAdd(req) => omx.dev_add(&req)?,
        Action::DevDel(name) => omx.dev_del(&name)?,
        Action::DevShow(Some(name)) => {
            let dev = omx.dev_get(&name)?;
            print(&if json {
                show::json(&dev, pretty)
            } else {
                show::dev_detail(&dev)
            });
        }
        Action::DevShow(None) => {
            let devs = omx.dev_dump()?;
            print(&if json {
                show::json(&devs, pretty)
            } else {
                show::devs_table(&devs)
            });
        }
        Action::Show => {
            let o = Overview {
                nodes: omx.node_dump()?,
                devices: omx.dev_dump()?,
                lendings: omx.lend_dump()?,
            };
            print(&if json {
                show::json(&o, pretty)
            } else {
                show::overview(&o)
            });
        }
        Action::Monitor => monitor::run(&mut omx, json)?,
        Action::Up(a) => {
            let conf = read_conf(&a.file)?;
            conf::apply::up(&mut omx, &conf, a.dry_run, Duration::from_secs(a.wait))?
        }
        Action::Down(a) => {
            let conf = read_conf(&a.file)?;
            conf::apply::down(&mut omx, &conf, a.dry_run)?
        }
        Action::Showconf => print(&conf::apply::showconf(&mut omx)?),
        Action::Stats { watch, prometheus } => loop {
            let module = omx.stats_get()?;
            let nodes = omx.node_dump()?;
            let devs = omx.dev_dump()?;
            let report = StatsReport::new(module, &nodes, &devs);
            if prometheus {
                print(&prometheus::render(&report));
                break;
            }
            match (json, watch) {
                (true, None) => print(&show::json(&report, pretty)),
                (true, Some(_)) => print(&show::json_line(&report)),
                (false, None) => print(&show::stats(&report)),
                (false, Some(_)) => print(&format!("{}\n", show::stats(&report))),
            }
            match watch {
                Some(secs) => std::thread::sleep(Duration::from_secs(secs)),
                None => break,
            }
        },
    }
    Ok(())
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`omxctl monitor | head`), like C tools.
    // SAFETY: restoring the default disposition of SIGPIPE before any
    // thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let action = validate(cli.command);
    // `-p` alone asks for JSON too: indenting is all it is about.
    match run(action, cli.json || cli.pretty, cli.pretty) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(1)
        }
    }
}

fn report(e: &Error) {
    eprintln!("omxctl: {e}");
}
