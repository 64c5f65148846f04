#!/usr/bin/env bash
# Three VMs on one segment: omx_mod on VM 1 opens OmniXtend connections (1.1 and 1.0.3) to
# omx-node on VMs 2 and 3, and both come up. Malformed frames and frames from unknown peers
# injected on the segment are counted and dropped; rmmod is clean; the capture of the
# segment shows OmniXtend frames in both directions.
. "$(dirname "$0")/lib.sh"

segment_up
capture_start "$OMX_TEST_DIR/segment.pcap"
vm_start 1 "$OMX_ROOT/tests/vm/guest/link-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh"
wait_for_files "$SHARED/nodes-up"
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 short 20
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 unaligned 10
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 vc0 7
sleep 1
touch "$SHARED/injected"
vm_wait

log_grep 1 'omx_mod: loaded: OmniXtend on EtherType 0xaaaa' || fail "omx_mod did not load"
log_grep 1 'omx_mod: unloaded' || fail "omx_mod did not unload"
jq -e '[.nodes[] | select(.state == "up")] | length == 2' "$SHARED/show.json" >/dev/null ||
	fail "both nodes should be up: $(cat "$SHARED/show.json")"
jq -e '.nodes[] | select(.id == 2) | .version == "1.0.3"' "$SHARED/show.json" >/dev/null || fail "node 2 is not 1.0.3"
[ "$(jq .module.rx_malformed "$SHARED/stats.json")" = 30 ] || fail "expected 30 malformed frames: $(cat "$SHARED/stats.json")"
[ "$(jq .module.rx_unknown_peer "$SHARED/stats.json")" -ge 7 ] || fail "expected >= 7 frames from unknown peers: $(cat "$SHARED/stats.json")"
for peer in 52:54:00:0a:aa:02 52:54:00:0a:aa:03; do
	to=$(tcpdump -r "$OMX_TEST_DIR/segment.pcap" "ether proto 0xaaaa and ether dst $peer and ether src 52:54:00:0a:aa:01" 2>/dev/null | wc -l)
	from=$(tcpdump -r "$OMX_TEST_DIR/segment.pcap" "ether proto 0xaaaa and ether src $peer and ether dst 52:54:00:0a:aa:01" 2>/dev/null | wc -l)
	echo "$peer: $to frames to it, $from from it"
	[ "$to" -gt 0 ] && [ "$from" -gt 0 ] || fail "no OmniXtend frames both ways with $peer"
done
