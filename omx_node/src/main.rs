//! omx-node: placeholder until the pool-node issue lands.
fn main() {
    eprintln!("omx-node: not implemented yet");
    std::process::exit(1);
}
