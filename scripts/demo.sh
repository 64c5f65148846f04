#!/usr/bin/env bash
# The omx demo: swap to remote memory. VM 2 lends 768 MiB with omx-node; VM 1 has 256 MiB of
# RAM, loads omx_mod, registers VM 2 as a pool node, creates /dev/omx0 over it, swaps on it and
# runs a workload whose working set (512 MiB) is twice its RAM, checking every byte; then it
# prints what went out to and came back from the pool node, and the run's throughput.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --in-netns ]; then
	kdir=$(kernel_build_dir)
	export OMX_KERNEL=$kdir/arch/x86/boot/bzImage OMX_ROOT
	export OMX_TEST_DIR=$OMX_CACHE/demo/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OMX_TEST_DIR"
	exec unshare --net bash "$0" --in-netns
fi

VM_TIMEOUT=900
. "$OMX_ROOT/tests/vm/lib.sh"
echo "demo: booting 2 VMs (QEMU, TCG) on a bridge in a private network namespace; about 3 minutes"
segment_up
VM_MEM=256 vm_start 1 "$OMX_ROOT/tests/vm/guest/swap-client.sh"
VM_MEM=1024 vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "768M"
vm_wait || { echo "demo: FAILED, logs in $OMX_TEST_DIR" >&2; exit 1; }
# The tests' verdict: every one of the 512 MiB's pages read back intact, swap used both ways.
(check_swap_run 512 >/dev/null) || { echo "demo: the swap check failed, logs in $OMX_TEST_DIR" >&2; exit 1; }
echo "--- vm1 ($(vm_mac 1), 256 MiB RAM), the client:"
grep -a -E 'omx_mod:|swap on /dev/omx0|^/dev/omx0|^Filename|^(Mem|Swap):' "$OMX_TEST_DIR/vm1.log" | sed 's/^/    /'
echo "--- vm2 ($(vm_mac 2)), the pool node:"
grep -a 'omx-node:' "$OMX_TEST_DIR/vm2.log" | sed 's/^/    /'
echo "--- the workload (512 MiB written, then read back and compared byte for byte):"
sed 's/^/    /' "$SHARED/swap-result.txt"
out=$(awk '$1 == "pswpout" {print $2}' "$SHARED/vmstat-after")
in=$(awk '$1 == "pswpin" {print $2}' "$SHARED/vmstat-after")
secs=$(awk '/^swap run:/ {print $3}' "$SHARED/swap-result.txt")
echo "--- swapped out $((out / 256)) MiB and in $((in / 256)) MiB over OmniXtend in ${secs%.*} s:" \
	"$(echo "($out + $in) * 4096 / 1048576 / $secs" | bc) MiB/s of swap traffic"
echo "demo: OK (logs in $OMX_TEST_DIR)"
