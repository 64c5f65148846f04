#!/usr/bin/env bash
# The omx demo: two VMs on a private Ethernet segment. VM 2 lends memory with omx-node; VM 1
# loads omx_mod, registers VM 2 as a pool node with omxctl, and shows the OmniXtend connection
# up with its counters. (Grows into the swap demo once the block device lands.)
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
vm_start 1 "$OMX_ROOT/tests/vm/guest/demo-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
vm_wait || { echo "demo: FAILED, logs in $OMX_TEST_DIR" >&2; exit 1; }
echo "--- vm1 ($(vm_mac 1)), the client:"
sed -n '/^demo\$ insmod/,/^omx-guest: exit/p' "$OMX_TEST_DIR/vm1.log" | grep -v '^omx-guest' | sed 's/^/    /'
echo "--- vm2 ($(vm_mac 2)), the pool node:"
grep -a 'omx-node:' "$OMX_TEST_DIR/vm2.log" | sed 's/^/    /'
echo "--- the segment, as captured on the bridge: $(tcpdump -r "$OMX_TEST_DIR/segment.pcap" 'ether proto 0xaaaa' 2>/dev/null | wc -l) OmniXtend frames, the first ones:"
tcpdump -e -nn -r "$OMX_TEST_DIR/segment.pcap" 'ether proto 0xaaaa and ether[14:1] & 0xe0 == 0' 2>/dev/null | head -4 | sed 's/^/    /'
echo "demo: OK (logs and capture in $OMX_TEST_DIR)"
