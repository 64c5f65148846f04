//! omxctl: placeholder until the control-plane issue lands.
fn main() {
    eprintln!("omxctl: not implemented yet");
    std::process::exit(1);
}
