#!/usr/bin/env bash
# Runs VM tests matching PATTERN on the debug guest kernel (KASAN, PROVE_LOCKING,
# DEBUG_ATOMIC_SLEEP, KMEMLEAK: qemu/kernel-debug.config), with omx_mod built against it.
# The module is built in a copy of the tree ($OMX_CACHE/debug-tree), so the normal build in
# the repository stays as it is. Ends with run-tests.sh's "N passed, M failed".
#   scripts/debug-tests.sh PATTERN
set -euo pipefail
. "$(dirname "$0")/lib.sh"
pattern=${1:?usage: debug-tests.sh PATTERN}
export KERNEL_VARIANT=debug
bash "$OMX_ROOT/scripts/build-kernel.sh"
tree=$OMX_CACHE/debug-tree
rm -rf "$tree"
mkdir -p "$tree"
tar -C "$OMX_ROOT" --exclude=./target --exclude=./.git --exclude='*.ko' --exclude='*.o' -cf - . | tar -C "$tree" -xf -
rm -f "$tree/.omx-module-kdir"
# The userspace tools are the same for both kernels. The guests must see the clone they live
# in even where it hides under a guest's tmpfs (a clone in /tmp).
ln -s "$OMX_ROOT/target" "$tree/target"
export OMX_VM_KEEP=$OMX_ROOT${OMX_VM_KEEP:+:$OMX_VM_KEEP}
bash "$tree/scripts/build-module.sh"
# A KASAN kernel under TCG boots in about two minutes and runs several times slower.
export VM_TIMEOUT=${DEBUG_VM_TIMEOUT:-2400} TEST_TIMEOUT=${DEBUG_TEST_TIMEOUT:-3000}
unset DEBUG_TESTS
exec bash "$tree/scripts/run-tests.sh" "$pattern"
