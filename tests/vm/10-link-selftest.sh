#!/usr/bin/env bash
# Three VMs on one segment load omx_mod; each one's probes (EtherType 0xAAAA) must be echoed
# by the others' modules, counted, reported in dmesg, and rmmod must be clean.
. "$(dirname "$0")/lib.sh"

segment_up
capture_start "$OMX_TEST_DIR/segment.pcap"
for n in 1 2 3; do
	vm_start "$n" "$OMX_ROOT/tests/vm/guest/selftest.sh" 3
done
vm_wait

for n in 1 2 3; do
	log_grep "$n" 'omx_mod: loaded: OmniXtend on EtherType 0xaaaa' || fail "vm$n: omx_mod did not load"
	log_grep "$n" 'omx_mod: self-test passed on eth0: [0-9]+ echoes' || fail "vm$n: no echoes received"
	log_grep "$n" 'omx_mod: unloaded: rx [1-9][0-9]* frames \([1-9][0-9]* probes, [1-9][0-9]* echoes' ||
		fail "vm$n: unload counters show no probes/echoes"
done
frames=$(tcpdump -r "$OMX_TEST_DIR/segment.pcap" 'ether proto 0xaaaa' 2>/dev/null | wc -l)
[ "$frames" -gt 0 ] || fail "capture of the segment has no 0xAAAA frames"
echo "segment capture: $frames OmniXtend frames"
