#!/usr/bin/env bash
# Builds omx_mod.ko (out of tree) against the cached guest kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kdir=$(kernel_build_dir)
[ -f "$kdir/.omx-built" ] || die "guest kernel not built yet (make kernel)"
# shellcheck disable=SC2046
make -s -C "$kdir" M="$OMX_ROOT" $(kernel_make_args) -j"$(nproc)" modules
