#!/usr/bin/env bash
# Swap on /dev/omx0: a 256 MiB client (384 MiB on the debug kernel, see lib.sh) swaps a
# checksummed 768 MiB working set (3x RAM; 6x the memory cgroup it runs in, guest/lib.sh
# swap_workload) to the pool node on VM 2 (1.5 GiB of RAM, lending 1100 MiB) and reads it back. Asserted (check_swap_run): the verifier compared every page of
# the working set and found none wrong (it exits non-zero on a wrong page or a signal such as
# SIGBUS), pages went out and came in (pswpout, pswpin), the device counted no failed request,
# nothing was OOM-killed; swapoff, dev del and rmmod work afterwards.
# SWAP_WS_MIB sets another working set (default: lib.sh).
# Two passes over 768 MiB through swap take about 4 minutes under TCG; leave room for a slow host.
VM_TIMEOUT=${VM_TIMEOUT:-1200}
. "$(dirname "$0")/lib.sh"

segment_up
VM_MEM=$SWAP_CLIENT_MEM vm_start 1 "$OMX_ROOT/tests/vm/guest/swap-client.sh" "$SWAP_WS_MIB,1100M,1024M"
VM_MEM=1536 vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "1100M"
vm_wait
check_swap_run "$SWAP_WS_MIB"
