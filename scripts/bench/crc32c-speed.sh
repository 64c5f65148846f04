#!/usr/bin/env bash
# Speed of omx's integrity checks (XXH64, CRC-32C by slicing-by-8) and of the SSE4.2 crc32
# instruction, on this host and in a test guest (TCG): which check is cheapest in the VMs.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

if [ "${1:-}" != --in-netns ]; then
	cargo build --release --quiet --example crc32c-speed
	echo "host: $("$OMX_ROOT/target/release/examples/crc32c-speed" 1 | paste -sd' ')"
	kdir=$(kernel_build_dir)
	export OMX_KERNEL=$kdir/arch/x86/boot/bzImage OMX_ROOT
	export OMX_TEST_DIR=$OMX_CACHE/crc32c-speed/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OMX_TEST_DIR"
	exec unshare --net bash "$0" --in-netns
fi
. "$OMX_ROOT/tests/vm/lib.sh"
segment_up
vm_start 1 "$OMX_ROOT/scripts/bench/crc32c-speed-guest.sh"
vm_wait
echo "guest (TCG): $(paste -sd' ' "$SHARED/crc32c-speed.txt")"
