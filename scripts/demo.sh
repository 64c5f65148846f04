#!/usr/bin/env bash
# The omx demo: two VMs on a private Ethernet segment load omx_mod and exchange OmniXtend
# frames (EtherType 0xAAAA); prints what each guest kernel reported.
# (Grows into the swap demo once the block device lands.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --in-netns ]; then
	kdir=$(kernel_build_dir)
	export OMX_KERNEL=$kdir/arch/x86/boot/bzImage OMX_ROOT
	export OMX_TEST_DIR=$OMX_CACHE/demo/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OMX_TEST_DIR"
	exec unshare --net bash "$0" --in-netns
fi

. "$OMX_ROOT/tests/vm/lib.sh"
echo "demo: booting 2 VMs (QEMU, TCG) on a bridge in a private network namespace"
segment_up
capture_start "$OMX_TEST_DIR/segment.pcap"
for n in 1 2; do
	vm_start "$n" "$OMX_ROOT/tests/vm/guest/selftest.sh"
done
wait_for_files "$SHARED"/vm{1,2}.passed
touch "$SHARED/unload"
vm_wait || { echo "demo: FAILED, logs in $OMX_TEST_DIR" >&2; exit 1; }
for n in 1 2; do
	echo "--- vm$n ($(vm_mac "$n")) kernel log:"
	grep -a 'omx_mod:' "$OMX_TEST_DIR/vm$n.log" | sed 's/^/    /'
done
echo "--- the segment, as captured on the bridge (first frames):"
tcpdump -e -nn -r "$OMX_TEST_DIR/segment.pcap" 'ether proto 0xaaaa' 2>/dev/null | head -6 | sed 's/^/    /'
echo "demo: OK (logs and capture in $OMX_TEST_DIR)"
