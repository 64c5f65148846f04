#!/usr/bin/env bash
# Three VMs on one segment load omx_mod; each one's probes (EtherType 0xAAAA) must be echoed
# by the others' modules and reported in dmesg. Malformed frames and frames from unknown peers
# injected on the segment must be counted (omxctl stats) and dropped; rmmod must be clean.
. "$(dirname "$0")/lib.sh"

segment_up
capture_start "$OMX_TEST_DIR/segment.pcap"
for n in 1 2 3; do
	vm_start "$n" "$OMX_ROOT/tests/vm/guest/selftest.sh"
done
wait_for_files "$SHARED"/vm{1,2,3}.passed
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 short 20
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 unaligned 10
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 vc0 7
sleep 1
touch "$SHARED/unload"
vm_wait

for n in 1 2 3; do
	log_grep "$n" 'omx_mod: loaded: OmniXtend on EtherType 0xaaaa, self-test on eth0' || fail "vm$n: omx_mod did not load"
	log_grep "$n" 'omx_mod: self-test passed on eth0: [0-9]+ echoes, the last from 52:54:00:0a:aa:0[123]' ||
		fail "vm$n: no echoes received"
	log_grep "$n" 'omx_mod: unloaded: self-test saw [0-9]+ probes and [1-9][0-9]* echoes' ||
		fail "vm$n: unload counters wrong: $(grep -a 'omx_mod: unloaded' "$OMX_TEST_DIR/vm$n.log")"
	stats=$SHARED/vm$n.stats.json
	[ "$(jq .module.rx_malformed "$stats")" = 30 ] || fail "vm$n: expected 30 malformed frames counted: $(cat "$stats")"
	[ "$(jq .module.rx_unknown_peer "$stats")" = 7 ] || fail "vm$n: expected 7 frames from unknown peers: $(cat "$stats")"
done
frames=$(tcpdump -r "$OMX_TEST_DIR/segment.pcap" 'ether proto 0xaaaa' 2>/dev/null | wc -l)
[ "$frames" -gt 37 ] || fail "capture of the segment has too few 0xAAAA frames ($frames)"
echo "segment capture: $frames OmniXtend frames"
