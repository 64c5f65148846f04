#!/usr/bin/env bash
# Makes DEST a kernel headers tree like a distribution's linux-headers package, from the
# cached guest kernel build (or KDIR): what the kernel's own packaging installs for external
# modules (scripts/package/install-extmod-build: Makefiles, include/, scripts/,
# Module.symvers), plus what a Rust module needs and 6.12's packaging does not ship yet: the
# .config, the Rust crates' metadata (rust/*.rmeta), the macros crate (rust/libmacros.so) and
# scripts/target.json. omx_mod then builds with KDIR=DEST (tests/vm/12-install.sh does).
#   scripts/headers-tree.sh DEST
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dest=${1:?usage: scripts/headers-tree.sh DEST}
kdir=${KDIR:-$(kernel_build_dir)}
src=$(kernel_src_dir)
[ -f "$kdir/Module.symvers" ] || die "$kdir is not a built kernel tree (make kernel)"
rm -rf "$dest"
(cd "$kdir" && srctree=$src SRCARCH=x86 CC=clang HOSTCC=clang MAKE=make \
	sh "$src/scripts/package/install-extmod-build" "$dest")
install -m 644 "$kdir/.config" "$dest/.config"
install -m 644 "$kdir/scripts/target.json" "$dest/scripts/target.json"
install -d "$dest/rust"
install -m 644 "$kdir"/rust/*.rmeta "$kdir/rust/libmacros.so" "$dest/rust/"
