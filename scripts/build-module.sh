#!/usr/bin/env bash
# Builds omx_mod.ko (out of tree) against the cached guest kernel of KERNEL_VARIANT, or against
# KDIR (any Rust-enabled Linux 6.12 build tree built with the same rustc), through clippy (its
# findings are warnings here; scripts/checks/clippy.sh fails on them).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if [ -n "${KDIR:-}" ]; then
	kdir=$KDIR
	[ -f "$kdir/Module.symvers" ] && grep -q '^CONFIG_RUST=y' "$kdir/.config" 2>/dev/null ||
		die "KDIR=$kdir is not a built kernel tree with CONFIG_RUST=y (Module.symvers, .config)"
else
	kdir=$(kernel_build_dir)
	[ -f "$kdir/.omx-built" ] || die "guest kernel not built yet (make kernel)"
fi
# Objects built against another kernel (the other variant) must not be reused.
stamp=$OMX_ROOT/.omx-module-kdir
if [ "$(cat "$stamp" 2>/dev/null)" != "$kdir" ]; then
	# shellcheck disable=SC2046
	make -s -C "$kdir" M="$OMX_ROOT" $(kernel_make_args) clean
	echo "$kdir" >"$stamp"
fi
# shellcheck disable=SC2046
make -s -C "$kdir" M="$OMX_ROOT" $(kernel_make_args) $(module_clippy_args) -j"$(nproc)" modules
