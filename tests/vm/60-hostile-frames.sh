#!/usr/bin/env bash
# Hostile frames on the data plane: while VM 1 writes /dev/omx0 (served by omx-node on VM 2)
# with fio and crc32c verification, omx-fuzz-frames on the host's bridge sends random,
# truncated, mutated and replayed OmniXtend frames at both VMs, 30 % of them with the source
# MAC of the peer each VM trusts. No data may be corrupted, no kernel may warn, the module
# and the daemon must count the garbage, and the daemon must keep serving.
#   OMX_FUZZ_FRAMES   frames to send (default 1000000)
#   OMX_FUZZ_SECONDS  ... or stop after this long (default 150, 400 on the debug kernel, whose
#                     guests take frames several times slower; 0: no limit): the pacing
#                     follows the guests, which are slow on a loaded host
#   OMX_FUZZ_RATE     highest rate in frames/s (default 20000; lowered while a tap drops
#                     frames or a guest counts fewer frames than it was sent)
#   OMX_FUZZ_SEED     PRNG seed (default: random, printed)
#   OMX_FUZZ_SPOOF_OPEN=1  malformed spoofed frames may also say OpenConnection
#   OMX_FUZZ_NODE_LOG the daemon's --log-level (default error: it warns once per refused
#                     frame, and on a serial console that stalls it; see
#                     Documentation/reliability-hostile.md)
VM_TIMEOUT=${VM_TIMEOUT:-900}
. "$(dirname "$0")/lib.sh"
frames=${OMX_FUZZ_FRAMES:-1000000}
seconds=${OMX_FUZZ_SECONDS:-$([ "${KERNEL_VARIANT:-normal}" = debug ] && echo 400 || echo 150)}
rate=${OMX_FUZZ_RATE:-20000}
seed=${OMX_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
spoof_open=()
[ "${OMX_FUZZ_SPOOF_OPEN:-0}" = 1 ] && spoof_open=(--spoof-open)

# fio needs System V shm, which the guest kernel lacks: see tests/tools/noshm.c.
gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/hostile-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/hostile-pool.sh" "128M,--stats-file,/mnt/shared/node-stats.json,--stats-interval,1,--log-level,${OMX_FUZZ_NODE_LOG:-error}"
wait_for_files "$SHARED/fuzz-go" "$SHARED/node-stats.json"
cp "$SHARED/node-stats.json" "$SHARED/node-stats-before.json"
echo "fuzzing: $frames frames, at most $rate/s and ${seconds}s, seed $seed ${spoof_open[*]}"
start=$SECONDS
storm "$SHARED/node-stats.json:frames_rx" "$frames" "$rate" "$seconds" "$seed" "${spoof_open[@]}"
fuzz_s=$((SECONDS - start))
touch "$SHARED/fuzz-done"
vm_wait

hostile_client_data_ok

# What was sent, and what each side counted.
delta() { # file-before file-after jq-path
	echo $(($(jq "$3" "$2") - $(jq "$3" "$1")))
}
sent=$(jq .sent "$SHARED/fuzz.json")
to1=$(jq --arg m "$(vm_mac 1)" '.per_target[$m]' "$SHARED/fuzz.json")
to2=$(jq --arg m "$(vm_mac 2)" '.per_target[$m]' "$SHARED/fuzz.json")
bcast=$(jq .broadcast "$SHARED/fuzz.json")
b=$SHARED/mod-stats-before.json a=$SHARED/mod-stats-after.json
m_frames=$(delta "$b" "$a" .module.rx_frames)
m_short=$(delta "$b" "$a" .module.rx_malformed)
m_unknown=$(delta "$b" "$a" .module.rx_unknown_peer)
m_node=$(delta "$SHARED/node-before.json" "$SHARED/node-after.json" .stats.malformed)
b=$SHARED/node-stats-before.json a=$SHARED/node-stats.json
n_frames=$(delta "$b" "$a" .frames_rx)
n_malformed=$(delta "$b" "$a" .malformed)
n_noconn=$(delta "$b" "$a" .no_connection)
n_noregion=$(delta "$b" "$a" '(.no_region // 0)')
n_dup=$(( $(delta "$b" "$a" .duplicates) + $(delta "$b" "$a" .out_of_order) ))
n_denied=$(delta "$b" "$a" .denied)
echo "sent $sent frames in ${fuzz_s}s ($to1 to vm1, $to2 to vm2, $bcast broadcast); $(jq -c '{spoofed, dropped, final_rate, rtt_worst_ms, rtt_samples}' "$SHARED/fuzz.json")"
echo "omx_mod (vm1): $m_frames frames received; malformed $m_short (short/unaligned) + $m_node (from the node's MAC), unknown peer $m_unknown"
echo "omx-node (vm2): $n_frames frames received; malformed $n_malformed, no connection $n_noconn, no region $n_noregion, duplicate/out of order $n_dup, denied $n_denied; peak RSS $(awk '{print $2, $3}' "$SHARED/node-hwm" 2>/dev/null)"

m_hostile=$((m_short + m_node + m_unknown))
n_hostile=$((n_malformed + n_noconn + n_noregion + n_dup + n_denied))
echo "counted as hostile: omx_mod $m_hostile of $to1 (+$bcast broadcast), omx-node $n_hostile of $to2 (+$bcast)"

[ "$sent" -ge 50000 ] || fail "only $sent frames sent"
# Most frames must have arrived and been counted as hostile (the rate adapts to the guests).
[ $((m_hostile * 2)) -ge "$to1" ] || fail "omx_mod counted only $m_hostile of $to1 hostile frames"
[ $((n_hostile * 2)) -ge "$to2" ] || fail "omx-node counted only $n_hostile of $to2 hostile frames"
[ $((n_malformed * 10)) -ge "$to2" ] || fail "omx-node counted only $n_malformed of $to2 frames as malformed"
[ "$n_frames" -ge $((to2 / 2)) ] || fail "omx-node received only $n_frames of $to2 frames"
# The daemon survived to a clean SIGTERM shutdown (it prints its counters) after serving the
# final read.
log_grep 2 '(^|\] )frames rx [0-9]+ tx' || fail "omx-node did not shut down cleanly"
