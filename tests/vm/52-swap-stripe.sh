#!/usr/bin/env bash
# Swap on /dev/omx0 striped over two pool nodes (VMs 2 and 3, 1 MiB chunks): as 50-swap, a
# 256 MiB client swaps a checksummed 512 MiB working set (2x RAM) and reads it back intact,
# with pages swapped out and in, no OOM kill, and swapoff, dev del and rmmod afterwards.
VM_TIMEOUT=${VM_TIMEOUT:-1200}
. "$(dirname "$0")/lib.sh"

segment_up
VM_MEM=$SWAP_CLIENT_MEM vm_start 1 "$OMX_ROOT/tests/vm/guest/swap-client.sh" "$SWAP_WS_SHORT_MIB",600M,1024M,2,1
VM_MEM=1024 vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "600M"
VM_MEM=1024 vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh" "600M"
vm_wait
check_swap_run "$SWAP_WS_SHORT_MIB"
jq -e '.nodes == [1, 2] and .stats.errors == 0' "$SHARED/dev-after.json" >/dev/null ||
	fail "unexpected device: $(cat "$SHARED/dev-after.json")"
