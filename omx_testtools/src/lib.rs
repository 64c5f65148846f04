//! omx's test tools, kept out of the product crates (`omx_node`, `omxctl`): nothing here is
//! installed on a pool node or a client. The binaries keep their names, so tests and scripts
//! run them as `target/release/<name>`:
//!
//! - `omx-fuzz-frames` (`src/bin/omx-fuzz-frames/`): hostile OmniXtend frames against omx_mod
//!   and omx-node (`tests/vm/60-hostile-frames.sh`, `61-node-flood.sh`).
//! - `omx-relay`: an impairing Ethernet relay, [`relay`].
//! - `omx-pcap-check`: decodes every OmniXtend frame of a capture (`tests/vm/40-blk-fio.sh`).
#![deny(unsafe_code)]

pub mod relay;
