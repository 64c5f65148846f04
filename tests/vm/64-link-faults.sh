#!/usr/bin/env bash
# Link faults: omx loses nothing when the link between a client and its pool node drops,
# reorders, duplicates, corrupts or delays frames, goes down for a moment or for longer than the
# dead-node bound, or changes its MTU under I/O; and each fault was really hit (the counters of
# both ends moved). One client (VM 1, guest/fault-client.sh) and one pool node (VM 2,
# guest/fault-pool.sh), scenarios in sequence, every byte written verified:
#   none, loss-0.1, loss-2, loss-10, reorder, duplicate, corrupt, delay (5 ms +- 2 ms, in
#     order), delay-reorder (the same jitter per frame: frames overtake each other): tc netem
#     while fio writes the work area (OMX_FAULT_MIB MiB; a half or a quarter of it for the slow
#     loss and reordering cases) in 4-64 KiB blocks with crc32c headers and reads every block
#     back. netem runs inside the guests, on each VM's eth0: the client's egress
#     impairs the requests (writes' data), the node's egress the answers (reads' data), so both
#     directions are hit, by the same qdisc code whatever the host kernel (the host's tap would
#     do too, but sch_netem is a module that hosts and CI kernels often lack; the guest kernel
#     has it built in).
#   flap-short: the host takes VM 1's tap down for 1 s (under the dead-node bound, ~2.7 s)
#     while 256 KiB slots are written and read back: nothing may fail.
#   flap-long: the tap is down for 6 s: the connection is lost and reopened, but within the
#     node's I/O timeout (10 s by default): the I/O in flight waits and is sent again once
#     the node is back with the same contents identity; nothing may fail.
#   flap-dead: the tap is down for 16 s, past the I/O timeout: the node is declared dead and
#     the I/O waiting for it fails with EIO (when is printed); once the link is back the node
#     reconnects with its memory kept: every write that succeeded reads back intact, and the
#     slots whose writes failed can be written again.
#   mtu: the path's MTU (both VMs' eth0, the host's taps and bridge) goes 1500 -> 576 -> 9000
#     -> 1500 under verified I/O: omx_mod keeps the frame size it chose at node add, so at 576
#     the path drops its data frames and I/O waits (within the I/O timeout), at 9000 its frames
#     stay as they were; nothing may fail (Documentation/reliability-netem.md).
# A 4 MiB canary at the start of the device is written once and compared after every scenario.
# OMX_FAULT_MIB (default 4; 1 on the debug kernel) scales the I/O per scenario (a soak: about
# 50 s per MiB under TCG on a busy host, so raise the runner's TEST_TIMEOUT too);
# OMX_FAULT_SCENARIOS ('+'-separated names) runs only those.
MIB=${OMX_FAULT_MIB:-$([ "${KERNEL_VARIANT:-normal}" = debug ] && echo 1 || echo 4)}
VM_TIMEOUT=${VM_TIMEOUT:-$((600 + 60 * MIB))}
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up
# OMX_FAULT_CAPTURE=1 records the segment (large: keep OMX_FAULT_MIB small), for debugging.
[ -z "${OMX_FAULT_CAPTURE:-}" ] || capture_start "$OMX_TEST_DIR/segment.pcap"
vm_start 1 "$OMX_ROOT/tests/vm/guest/fault-client.sh" "$MIB,${OMX_FAULT_SCENARIOS:-}"
pool_mem=$((MIB + 384))
VM_MEM=$((pool_mem > 512 ? pool_mem : 512)) vm_start 2 "$OMX_ROOT/tests/vm/guest/fault-pool.sh" "$((MIB + 8))M"

# Link flaps on request of the client: $SHARED/flap holds the seconds VM 1's tap stays down
# (the bridge port is disabled and the tap refuses QEMU's frames: both directions are cut).
# Path MTU changes likewise: $SHARED/path-mtu holds the MTU for both taps and the bridge (the
# bridge drops a frame larger than the MTU of the port it leaves by), or "end". From the first
# request to "end", tcpdump records the frames each tap passes on to its VM, and
# $OMX_TEST_DIR/mtu-phases the host's times just before and just after each change ("START END
# MTU"): a frame sent while the three links change belongs to neither MTU.
mtu_caps=()
while kill -0 "${VM_PIDS[1]}" 2>/dev/null; do
	if [ -e "$SHARED/path-mtu" ]; then
		m=$(cat "$SHARED/path-mtu")
		rm -f "$SHARED/path-mtu"
		if [ "$m" = end ]; then
			kill "${mtu_caps[@]}" 2>/dev/null || true
			wait "${mtu_caps[@]}" 2>/dev/null || true
			mtu_caps=()
		else
			if [ ${#mtu_caps[@]} = 0 ]; then
				for n in 1 2; do
					tcpdump -i "tap$n" -Q out -nn -s 64 -U -w "$OMX_TEST_DIR/mtu-tap$n.pcap" 'ether proto 0xaaaa' \
						2>"$OMX_TEST_DIR/mtu-tap$n.err" &
					mtu_caps+=($!)
				done
				for _ in $(seq 100); do
					grep -q listening "$OMX_TEST_DIR/mtu-tap1.err" && grep -q listening "$OMX_TEST_DIR/mtu-tap2.err" && break
					sleep 0.1
				done
			fi
			start=$(date +%s.%N)
			ip link set tap1 mtu "$m"
			ip link set tap2 mtu "$m"
			ip link set br0 mtu "$m"
			echo "$start $(date +%s.%N) $m" >>"$OMX_TEST_DIR/mtu-phases"
			echo "host: taps and bridge at MTU $m"
		fi
		touch "$SHARED/host.path-mtu-done"
	fi
	if [ -e "$SHARED/flap" ]; then
		secs=$(cat "$SHARED/flap")
		rm -f "$SHARED/flap"
		ip link set tap1 down
		sleep "$secs"
		ip link set tap1 up
		echo "host: tap1 was down for $secs s"
		touch "$SHARED/host.flap-done"
	fi
	sleep 0.1
done
[ ${#mtu_caps[@]} = 0 ] || { kill "${mtu_caps[@]}" 2>/dev/null || true; }
# The summary is printed whatever happened to the VMs; their verdict counts at the end.
vm_status=0
vm_wait || vm_status=$?
[ -s "$SHARED/results.jsonl" ] || fail "no scenario results (see vm1.log)"
R=$SHARED/r
# v FILE JQ-PATH: a number from a snapshot (0 if absent).
v() { jq -r "($2) // 0" "$1" 2>/dev/null || echo 0; }
# d TAG WHAT JQ-PATH: after - before.
d() { echo $(($(v "$R/$1-$2-after.json" "$3") - $(v "$R/$1-$2-before.json" "$3"))); }
drops() { v "$R/$1-netem-$2.json" '[.[] | select(.kind == "netem") | .drops] | add'; }
# has FILE JQ-PATH: the snapshot has this counter (an omxctl or omx-node without it must not
# pass for one that counted nothing).
has() { jq -e "($2) | numbers" "$1" >/dev/null 2>&1; }
# tap_phases N: per MTU phase (from $OMX_TEST_DIR/mtu-phases: 0.1 s after a change ended, until
# the next one started), "MTU FRAMES LARGEST" of the frames tap N passed on to VM N (length with
# the Ethernet header).
tap_phases() {
	tcpdump -r "$OMX_TEST_DIR/mtu-tap$1.pcap" -tt -nn -e 2>/dev/null |
		sed -n 's/^\([0-9.]*\) .*, length \([0-9]*\): .*/\1 \2/p' |
		awk 'NR == FNR { s[NR] = $1; t[NR] = $2; mtu[NR] = $3; np = NR; next }
			{ for (i = np; i >= 1; i--) if ($1 >= t[i]) break
			  if (i >= 1 && $1 >= t[i] + 0.1 && (i == np || $1 < s[i + 1])) { n[i]++; if ($2 > big[i]) big[i] = $2 } }
			END { for (i = 1; i <= np; i++) print mtu[i], n[i] + 0, big[i] + 0 }' "$OMX_TEST_DIR/mtu-phases" -
}

failures=() netem_passed=0 link_passed=0
bad() { failures+=("$1: $2"); echo "  FAIL $1: $2"; }

while read -r line; do
	name=$(jq -r .name <<<"$line") kind=$(jq -r .kind <<<"$line") detail=$(jq -r .detail <<<"$line")
	rc=$(jq -r .rc <<<"$line") secs=$(jq -r .seconds <<<"$line")
	rtx=$(d "$name" client .stats.retransmits) nsent=$(d "$name" client .stats.naks_sent)
	nrecv=$(d "$name" client .stats.naks_received) mal=$(d "$name" client .stats.malformed)
	tmo=$(d "$name" client .stats.timeouts) rec=$(d "$name" client .stats.reconnects)
	errs=$(d "$name" dev .stats.errors) unknown=$(d "$name" module .module.rx_unknown_peer)
	n_rtx=$(d "$name" node .retransmits) n_tmo=$(d "$name" node .timeouts) n_nak=$(d "$name" node .naks_tx)
	n_dup=$(d "$name" node .duplicates) n_ooo=$(d "$name" node .out_of_order)
	c_dup=$(d "$name" client .stats.duplicates) c_ooo=$(d "$name" client .stats.out_of_order)
	n_mal=$(($(d "$name" node .malformed) + $(d "$name" node .link_rx_errors)))
	c_rx=$(d "$name" client .stats.rx_frames) n_tx=$(d "$name" node .frames_tx)
	# Frames the integrity trailer's check rejected, at the client (frames from the node) and at
	# the node (frames from the client).
	c_int=$(d "$name" client .stats.integrity_errors) n_int=$(d "$name" node .integrity_errors)
	if [ "$kind" = netem ]; then
		verified=$(v "$R/$name-fio.json" '.jobs[0].read.io_bytes')
		written=$(v "$R/$name-fio.json" '.jobs[0].write.io_bytes')
	else
		verified=$(v "$R/$name-io.json" .bytes_verified)
		written=$(v "$R/$name-io.json" .bytes_written)
	fi
	printf '%-10s %-34s %9d B verified %6.1f s | client: retransmits +%d naks sent +%d received +%d duplicates +%d out-of-order +%d malformed +%d integrity errors +%d timeouts +%d reconnects +%d errors +%d | node: retransmits +%d timeouts +%d naks +%d duplicates +%d out-of-order +%d malformed +%d integrity errors +%d' \
		"$name" "$detail" "$verified" "$secs" "$rtx" "$nsent" "$nrecv" "$c_dup" "$c_ooo" "$mal" "$c_int" "$tmo" "$rec" "$errs" \
		"$n_rtx" "$n_tmo" "$n_nak" "$n_dup" "$n_ooo" "$n_mal" "$n_int"
	[ "$kind" != netem ] || [ "$name" = none ] ||
		printf ' | netem drops %d (to node) %d (to client)' "$(drops "$name" vm1)" "$(drops "$name" vm2)"
	echo
	nfail=${#failures[@]}

	# Every byte written was read back and matched; the canary is intact.
	if [ "$rc" != 0 ]; then
		bad "$name" "verified I/O failed (exit $rc; see $R/$name-*)"
		grep -h -m3 -E 'verify failed|error' "$R/$name-fio.err" 2>/dev/null | sed 's/^/    /' || true
	fi
	[ "$(jq -r .canary_ok <<<"$line")" = true ] || bad "$name" "the canary changed"
	[ "$verified" -ge $(($(jq -r .mib <<<"$line") << 20)) ] || bad "$name" "only $verified bytes verified"
	case $name in
	none | loss-0.1 | loss-2 | loss-10 | reorder | duplicate | corrupt | delay | delay-reorder | flap-short | flap-long | mtu)
		[ "$errs" = 0 ] || bad "$name" "$errs requests failed" ;;
	esac
	# The integrity trailer is checked at both ends, and rejects only frames that were corrupted.
	if has "$R/$name-client-after.json" .stats.integrity_errors && has "$R/$name-node-after.json" .integrity_errors; then
		[ "$name" = corrupt ] || [ $((c_int + n_int)) = 0 ] ||
			bad "$name" "the integrity check rejected frames nothing corrupted (client +$c_int, node +$n_int)"
	else
		bad "$name" "no integrity_errors counter in omxctl's or omx-node's statistics"
	fi
	# The faults were hit (only where the counters must move, whatever the timing).
	case $name in
	loss-0.1)
		# ~10 of some 10^4 frames dropped; a lost AckOnly frame needs no retransmission, so
		# insist only when enough were lost.
		lost=$(($(drops "$name" vm1) + $(drops "$name" vm2)))
		[ "$lost" -lt 5 ] || [ $((rtx + n_rtx)) -gt 0 ] || bad "$name" "$lost frames dropped, none retransmitted" ;;
	loss-2 | loss-10)
		[ "$(drops "$name" vm1)" -gt 0 ] && [ "$(drops "$name" vm2)" -gt 0 ] || bad "$name" "netem dropped nothing"
		[ "$rtx" -gt 0 ] || bad "$name" "the client retransmitted nothing"
		[ "$n_rtx" -gt 0 ] || bad "$name" "the node retransmitted nothing"
		# Frames after a lost one arrive "ahead" at the client: counted, dropped and NAKed.
		[ "$c_ooo" -gt 0 ] || bad "$name" "the client counted no frame after a gap" ;;
	reorder | delay-reorder)
		# A frame overtaken is "ahead" at the receiver: dropped and NAKed.
		[ $((nsent + nrecv + n_ooo + c_ooo)) -gt 0 ] || bad "$name" "no frame arrived out of order" ;;
	duplicate)
		[ "$n_dup" -gt 0 ] || bad "$name" "the node saw no duplicate"
		[ "$c_dup" -gt 0 ] || bad "$name" "the client counted no duplicate"
		echo "  frames the client received beyond those the node sent (duplicates): $((c_rx - n_tx))"
		[ "$c_rx" -gt "$n_tx" ] || bad "$name" "the client received no more frames than the node sent: no duplicate reached it" ;;
	corrupt)
		# netem corrupts each VM's egress: the client's frames are checked by the node, the
		# node's by the client. Each end's own integrity counter must have caught some.
		[ "$(jq -r .integrity "$R/$name-client-after.json")" = xxh64 ] || bad "$name" "node 1 does not use the integrity trailer"
		[ "$n_int" -gt 0 ] || bad "$name" "the node's integrity check caught none of the frames netem corrupted on the client's egress"
		[ "$c_int" -gt 0 ] || bad "$name" "the client's integrity check caught none of the frames netem corrupted on the node's egress" ;;
	flap-short)
		[ "$tmo" -gt 0 ] || bad "$name" "no retransmit timeout while the link was down"
		[ "$(v "$R/$name-io.json" '.eio_writes + .eio_reads')" = 0 ] || bad "$name" "I/O failed" ;;
	flap-long)
		[ "$rec" -gt 0 ] || bad "$name" "the connection was never lost and reopened"
		[ "$(v "$R/$name-io.json" '.eio_writes + .eio_reads')" = 0 ] || bad "$name" "I/O failed" ;;
	flap-dead)
		[ "$rec" -gt 0 ] || bad "$name" "the connection was never lost and reopened"
		eio=$(v "$R/$name-io.json" '.eio_writes + .eio_reads')
		[ "$eio" -gt 0 ] || bad "$name" "nothing failed although the link was down past the I/O timeout"
		echo "  $eio requests failed with EIO, the first $(v "$R/$name-io.json" '.first_eio_s - 1') s after the link went down;" \
			"$(v "$R/$name-io.json" .rewritten_after_eio) slots rewritten after recovery" ;;
	mtu)
		# omx_mod keeps the frame size it chose at node add; the path (both eth0, the host's
		# taps and bridge) drops what is larger than its MTU.
		F=$R/mtu-frames.json over=$((576 + 14)) limit=$((576 + 18)) # a VLAN tag's 4 bytes are let through
		attr_add=$(v "$R/mtu-client-before.json" .mtu) attr_576=$(v "$R/mtu-node-at-576.json" .mtu)
		echo "  node 1's mtu attribute: $attr_add at node add, $attr_576 with the path at 576"
		[ "$attr_576" = "$attr_add" ] || bad "$name" "node 1's mtu changed from $attr_add to $attr_576 with the interface's"
		jq -r 'to_entries[] | "  client eth0 \(.key): sent \(.value.sent) frames (largest \(.value.sent_largest) B), received \(.value.received) (largest \(.value.received_largest) B)"' "$F" ||
			bad "$name" "no record of the frames eth0 carried ($F)"
		sent576=$(v "$F" .at576.sent_largest) recv576=$(v "$F" .at576.received_largest)
		# Printed only: whether omx_mod had a data frame to send in those 3 s depends on what
		# fault-io was doing (a read phase sends only small requests). That its frame size did
		# not follow the MTU is asserted by the mtu attribute above and the 9000 phase below.
		echo "  largest frame omx_mod sent at MTU 576: $sent576 B"
		[ "$recv576" -le "$limit" ] || bad "$name" "the client received a $recv576-byte frame while the path's MTU was 576"
		big=$(v "$F" .at9000.sent_largest)
		[ "$big" -gt "$over" ] && [ "$big" -le $((1500 + 14)) ] ||
			bad "$name" "at MTU 9000 the largest frame omx_mod sent was $big B, not a data frame of the size chosen at MTU 1500"
		if [ "$(wc -l <"$OMX_TEST_DIR/mtu-phases" 2>/dev/null || echo 0)" = 4 ]; then
			for n in 1 2; do
				to=$([ $n = 1 ] && echo client || echo node)
				tp=$(tap_phases $n) || tp=
				f576=$(awk 'NR == 2 { print $2 }' <<<"$tp") b576=$(awk 'NR == 2 { print $3 }' <<<"$tp")
				f9000=$(awk 'NR == 3 { print $2 }' <<<"$tp") b9000=$(awk 'NR == 3 { print $3 }' <<<"$tp")
				f576=${f576:-0} b576=${b576:-0} f9000=${f9000:-0} b9000=${b9000:-0}
				echo "  host tap$n passed on to the $to: at MTU 576 $f576 frames (largest $b576 B), at 9000 $f9000 (largest $b9000 B)"
				[ "$b576" -le "$limit" ] || bad "$name" "tap$n passed a $b576-byte frame on to the $to at MTU 576: the path did not drop it"
				[ "$b9000" -gt "$over" ] || bad "$name" "no data frame reached the $to at MTU 9000 (largest $b9000 B)"
			done
		else
			bad "$name" "the host did not record the four MTU phases"
		fi
		# Frames the path dropped at 576 were sent again, and nothing failed (checked above). Whether
		# omx_mod sent a large frame in those 3 s depends on fault-io's phase (a run sent only
		# 70-byte frames): judged only when it did.
		if [ "$sent576" -gt "$limit" ]; then
			[ "$rtx" -gt 0 ] || bad "$name" "the client retransmitted nothing although the path dropped its $sent576-byte frames"
		else
			echo "  omx_mod sent no frame above $limit B at MTU 576: its retransmissions not judged"
		fi ;;
	esac
	if [ ${#failures[@]} = "$nfail" ]; then
		if [ "$kind" = netem ]; then [ "$name" = none ] || netem_passed=$((netem_passed + 1)); else link_passed=$((link_passed + 1)); fi
	fi
done <"$SHARED/results.jsonl"

# The latency histograms (omxctl stats): 200 reads one at a time, without a fault and with 5 ms
# (+-2) of netem delay each way, so at least 6 ms a read. Each probe's reads were all counted;
# the median of the delayed ones is in a bucket above 4096 us, and above the undelayed one's.
# median_bound TAG: the bucket bound (us) of the median of the reads between the probe's
# snapshots, then their count.
median_bound() {
	jq -rn --slurpfile b "$R/$1-probe-before.json" --slurpfile a "$R/$1-probe-after.json" '
		def buckets(h): [h | to_entries[] | select(.key | test("^le_[0-9]+us$|^longer$"))
			| {bound: (if .key == "longer" then infinite else (.key | ltrimstr("le_") | rtrimstr("us") | tonumber) end), n: .value}]
			| sort_by(.bound);
		[buckets($a[0].read_latency), buckets($b[0].read_latency)] | transpose
		| map({bound: .[0].bound, n: (.[0].n - .[1].n)}) as $d
		| ($d | map(.n) | add) as $total
		| [foreach $d[] as $x (0; . + $x.n; {bound: $x.bound, seen: .})]
		| map(select(.seen * 2 >= $total)) | first | "\(.bound) \($total)"'
}
if [ -z "${OMX_FAULT_SCENARIOS:-}" ] || [[ "+$OMX_FAULT_SCENARIOS+" == *+none+* && "+$OMX_FAULT_SCENARIOS+" == *+delay+* ]]; then
	for tag in none delay; do
		if [ ! -s "$R/$tag-probe-after.json" ]; then
			bad latency "no latency probe in the $tag scenario"
			continue
		fi
		read -r bound count <<<"$(median_bound "$tag" || echo "0 0")"
		echo "latency probe ($tag): $count reads counted, median at most $bound us; omxctl stats printed:"
		grep -A5 '^latency' "$R/$tag-probe-stats.txt" | sed 's/^/    /' || true
		[ "$count" = 200 ] || bad latency "$tag: the read histogram counted $count of the probe's 200 reads"
		eval "median_$tag=\$bound"
		# omxctl stats shows percentiles for node 1's reads, and the Prometheus histogram the
		# same count as the JSON.
		grep -Eq '^  1 +read +[0-9]+ +[0-9.]+(us|ms|s) +<=[0-9.]+(us|ms|s) ' "$R/$tag-probe-stats.txt" ||
			bad latency "$tag: omxctl stats shows no read percentiles for node 1"
		json_count=$(jq '[.read_latency | to_entries[] | select(.key != "sum_us") | .value] | add' "$R/$tag-probe-after.json")
		grep -qx "omx_node_read_latency_seconds_count{node=\"1\",ifname=\"eth0\"} $json_count" "$R/$tag-probe.prom" ||
			bad latency "$tag: omxctl stats --prometheus does not count the $json_count reads omxctl -j node show does"
	done
	if [ -n "${median_none:-}" ] && [ -n "${median_delay:-}" ]; then
		[ "$median_delay" != null ] && [ "$median_delay" -gt 4096 ] ||
			bad latency "reads over a link delayed by 6 ms or more have their median at most $median_delay us"
		[ "$median_delay" -gt "$median_none" ] ||
			bad latency "the median read latency did not move with the link's delay ($median_none us without, $median_delay us with)"
	fi
fi

echo "$netem_passed netem scenarios passed"
echo "$link_passed link scenarios passed (flaps, MTU)"
[ "$vm_status" = 0 ] || bad vm "a VM reported a problem (above)"
if [ -e "$SHARED/scenarios.done" ]; then
	jq -r '"device at the end: \(.stats.errors) failed requests, \(.stats.in_flight) in flight"' "$SHARED/dev-final.json"
	[ "$(jq .stats.in_flight "$SHARED/dev-final.json")" = 0 ] || bad device "requests still in flight at the end"
else
	bad client "the client did not get through its scenarios (see vm1.log)"
fi
[ ${#failures[@]} = 0 ] || fail "${#failures[@]} check(s) failed: ${failures[*]}"
