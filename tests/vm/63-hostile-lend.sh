#!/usr/bin/env bash
# Hostile frames at the pool node in the kernel (`omxctl lend`), which parses each of them in
# its receive softirq. VM 2 lends 128 MiB to VM 1 and 32 MiB to a hostile client's MAC; VM 1
# writes /dev/omx0 with fio and crc32c verification in rounds throughout. Two phases:
#   1. 60-hostile-frames' storm: random, truncated, mutated and replayed OmniXtend frames,
#      30 % of them with the source MAC each VM trusts;
#   2. 61-node-flood's flood: OpenConnections and frames full of Gets whose answers need
#      more credits than the sender ever grants, never acknowledging anything, as the hostile
#      client and as 2000 random MACs.
# No data may be corrupted and no kernel may warn; VM 2 must count the garbage (malformed, or
# from an unknown peer), hold the hostile client back (its waiting frames bounded:
# back-pressure drops), keep its kernel memory within the lendings' documented bound, and
# remove both lendings cleanly.
#   OMX_FUZZ_SECONDS  length of phase 1 (default 60, 200 on the debug kernel); OMX_FUZZ_RATE
#                     (20000) and OMX_FUZZ_SEED as for 60-hostile-frames
#   OMX_FLOOD_SECONDS length of phase 2 (default 30); OMX_FLOOD_RATE (4000)
VM_TIMEOUT=${VM_TIMEOUT:-600}
. "$(dirname "$0")/lib.sh"
seconds=${OMX_FUZZ_SECONDS:-$([ "${KERNEL_VARIANT:-normal}" = debug ] && echo 200 || echo 60)}
rate=${OMX_FUZZ_RATE:-20000}
seed=${OMX_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
flood_seconds=${OMX_FLOOD_SECONDS:-30}
flood_rate=${OMX_FLOOD_RATE:-4000}
hostile=02:00:00:66:66:66
# The most VM 2's slab and vmalloc memory may grow (KiB): each lending's waiting frames
# (omx_proto::serve::max_waiting(1500) = 4096 copies in 2 KiB allocations: 8 MiB;
# admin-guide.md, "In the kernel"), and 8 MiB for skbs in flight and the rings' refills
# (4-5 MiB in all were seen). The 20,000 frames the flood makes wait would take 40 MiB if
# their copies were not freed.
MEM_GROWTH_MAX_KIB=$((2 * 8 * 1024 + 8 * 1024))

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/hostile-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/hostile-lend-pool.sh" "$hostile"
wait_for_files "$SHARED/fuzz-go" "$SHARED/pool-live.json"
echo "phase 1: fuzzing at most $rate/s for ${seconds}s, seed $seed"
storm "$SHARED/pool-live.json:rx_frames" 100000000 "$rate" "$seconds" "$seed"
touch "$SHARED/fuzz-over"
wait_for_files "$SHARED/mid.ok"
echo "phase 2: flooding at $flood_rate/s for ${flood_seconds}s"
flood "$(vm_mac 2)" "$hostile" "$flood_rate" "$flood_seconds"
touch "$SHARED/fuzz-done"
vm_wait

hostile_client_data_ok
delta() { # FROM TO JQ-PATH: growth of a counter between two of VM 2's snapshots
	echo $(($(jq "$3 // 0" "$SHARED/$2.json") - $(jq "$3 // 0" "$SHARED/$1.json")))
}
module() { delta "pool-stats-$1" "pool-stats-$2" ".module.$3"; }
lending() { # FROM TO MAC COUNTER
	delta "lends-$1" "lends-$2" "(.[] | select(.client_mac == \"$3\") | .stats.$4)"
}
sent=$(jq .sent "$SHARED/fuzz.json")
to2=$(jq --arg m "$(vm_mac 2)" '.per_target[$m]' "$SHARED/fuzz.json")
p_frames=$(module before mid rx_frames)
p_malformed=$(module before mid rx_malformed)
p_unknown=$(module before mid rx_unknown_peer)
l_frames=$(lending before mid "$(vm_mac 1)" rx_frames)
l_malformed=$(lending before mid "$(vm_mac 1)" malformed)
echo "phase 1: sent $sent frames, $to2 to vm2; vm2 received $p_frames (with the client's)," \
	"malformed $p_malformed, unknown peer $p_unknown; the lending took $l_frames from the" \
	"client's MAC and found $l_malformed malformed"
flood_sent=$(jq .sent "$SHARED/flood.json")
f_unknown=$(module mid after rx_unknown_peer)
h_frames=$(lending mid after "$hostile" rx_frames)
h_drops=$(lending mid after "$hostile" backpressure_drops)
h_deferred=$(lending mid after "$hostile" deferred)
echo "phase 2: sent $flood_sent frames; unknown peer $f_unknown; the hostile client's lending:" \
	"$h_frames frames, $h_deferred deferred, $h_drops back-pressure drops"
mem_before=$(cat "$SHARED/pool-mem-before") mem_peak=$(cat "$SHARED/pool-mem-peak")
echo "vm2's kernel memory (slab + vmalloc): $mem_before KiB before, $mem_peak KiB at the peak" \
	"(growth at most $MEM_GROWTH_MAX_KIB KiB)"

[ "$sent" -ge 20000 ] || fail "phase 1: only $sent frames sent"
[ "$p_frames" -ge $((to2 / 2)) ] || fail "vm2 received only $p_frames of the $to2 frames sent to it"
# Like omx-node in 60-hostile-frames: most frames counted as hostile, a tenth as malformed.
[ $(((p_malformed + p_unknown + l_malformed) * 2)) -ge "$to2" ] ||
	fail "vm2 counted only $((p_malformed + p_unknown + l_malformed)) of $to2 frames as hostile"
[ $((l_malformed * 10)) -ge "$to2" ] || fail "the lending counted only $l_malformed of $to2 frames as malformed"
[ "$flood_sent" -ge $((flood_seconds * flood_rate / 4)) ] || fail "phase 2: only $flood_sent frames sent"
[ "$f_unknown" -gt 0 ] || fail "phase 2: no frame counted as from an unknown peer"
[ "$h_drops" -gt 0 ] || fail "phase 2: the hostile client was never held back (no back-pressure drops)"
[ $((mem_peak - mem_before)) -le $MEM_GROWTH_MAX_KIB ] ||
	fail "vm2's kernel memory grew by $((mem_peak - mem_before)) KiB, above $MEM_GROWTH_MAX_KIB"
[ -e "$SHARED/pool.ok" ] || fail "the lendings were not removed and the module not unloaded cleanly"
