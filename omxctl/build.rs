// Generates the man pages and shell completions from the clap definition in
// src/cli.rs (shared with the binary through include!). Output goes to
// $OUT_DIR/{man,completions}, and is also copied to $OMXCTL_GEN_DIR when set.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::{generate_to, Shell};

#[allow(dead_code)]
mod cli {
    include!("src/cli.rs");
}

/// Write the man page of `cmd` as `<prefix>.1`, then recurse into its
/// subcommands (`omxctl-node-add.1`, ...).
fn write_man_pages(cmd: &clap::Command, prefix: &str, dir: &Path) -> io::Result<()> {
    let name = prefix.to_string();
    let cmd = cmd
        .clone()
        .name(name.clone())
        .bin_name(name.replace('-', " "));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    fs::write(dir.join(format!("{name}.1")), buf)?;
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        write_man_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=src/cli.rs");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=OMXCTL_GEN_DIR");

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let man_dir = out.join("man");
    let comp_dir = out.join("completions");
    fs::create_dir_all(&man_dir)?;
    fs::create_dir_all(&comp_dir)?;

    let mut cmd = cli::Cli::command();
    cmd.build();
    write_man_pages(&cmd, "omxctl", &man_dir)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        generate_to(shell, &mut cmd, "omxctl", &comp_dir)?;
    }

    if let Some(gen) = std::env::var_os("OMXCTL_GEN_DIR") {
        let gen = PathBuf::from(gen);
        copy_dir(&man_dir, &gen.join("man"))?;
        copy_dir(&comp_dir, &gen.join("completions"))?;
    }
    Ok(())
}
