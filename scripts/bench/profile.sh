#!/usr/bin/env bash
# Where omx's time goes: two VMs (client with omx_mod, pool lending from the kernel or with omx-node) on the test segment,
# fio jobs on /dev/omx0 while perf samples both VMs; prints each job's IOPS, the top symbols on
# each side, the node's counters over the job and both guests' doorbells (virtio-net kicks,
# when the host has ethtool). For Documentation/benchmarks.md's profile section.
#   scripts/bench/profile.sh [JOBS]     JOBS: "rw:bs:qd ..." (default: randread:4k:32
#                                        randread:4k:1 read:1m:8; "decode:PCT:1": bench/llm-decode
#                                        swapping to /dev/omx0 with RAM for PCT % of its weights;
#                                        "probe:BS:QD": a sequential read of BS at QD and beside
#                                        it a 4 KiB random read at QD1)
# PROFILE_SECS (15) per job, PROFILE_MTU (1500: the segment's and both guests'),
# PROFILE_POOL (kernel: omx_mod's in-kernel pool node, `omxctl lend`; node: omx-node),
# PROFILE_INTEGRITY (xxh64|crc32c|none), PROFILE_CALLERS="SYM ..." (the
# client's call chains into these symbols, e.g. __memcpy), PROFILE_CHILDREN=1 (the client's
# functions by inclusive share: each with all it calls), PROFILE_UNDER=REGEX (the client's
# samples under the functions matching REGEX, by the function they fell in).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
if [ "${1:-}" != --inside ]; then
	kdir=$(kernel_build_dir)
	export OMX_KERNEL=$kdir/arch/x86/boot/bzImage OMX_ROOT
	export PROFILE_JOBS=${1:-${PROFILE_JOBS:-randread:4k:32 randread:4k:1 read:1m:8}}
	export PROFILE_TOOLS=$OMX_CACHE/profile-tools
	mkdir -p "$PROFILE_TOOLS"
	gcc -shared -fPIC -O2 -o "$PROFILE_TOOLS/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
	gcc -O2 -o "$PROFILE_TOOLS/llm-decode" "$OMX_ROOT/bench/llm-decode.c"
	export OMX_TEST_DIR=$OMX_CACHE/profile/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OMX_TEST_DIR"
	exec unshare --net bash "$0" --inside
fi
. "$OMX_ROOT/tests/vm/lib.sh"
segment_up "${PROFILE_MTU:-1500}"
# The guests' environment comes from their kernel command line: settings go through a file.
printf 'export %s\n' "PROFILE_JOBS='$PROFILE_JOBS'" "PROFILE_TOOLS=$PROFILE_TOOLS" \
	"PROFILE_SECS=${PROFILE_SECS:-15}" "PROFILE_MTU=${PROFILE_MTU:-1500}" "PROFILE_POOL=${PROFILE_POOL:-kernel}" "PROFILE_INTEGRITY=${PROFILE_INTEGRITY:-xxh64}" \
	"PROFILE_CALLERS='${PROFILE_CALLERS:-}'" "PROFILE_UNDER='${PROFILE_UNDER:-}'" "PROFILE_CHILDREN='${PROFILE_CHILDREN:-}'" >"$SHARED/profile.env"
vm_start 1 "$OMX_ROOT/bench/guest/profile-client.sh"
vm_start 2 "$OMX_ROOT/bench/guest/profile-pool.sh"
vm_wait
# kicks PREFIX: the virtio-net doorbells rung between PREFIX.a and PREFIX.b (`ethtool -S`).
kicks() {
	[ -s "$1.a" ] && [ -s "$1.b" ] || { printf 'not counted'; return; }
	join <(sort "$1.a") <(sort "$1.b") 2>/dev/null |
		awk '$1 == "tx_kicks:" { t = $3 - $2 } $1 == "rx_kicks:" { r = $3 - $2 } END { printf "%d transmit, %d receive", t, r }'
}
for job in $PROFILE_JOBS; do
	IFS=: read -r rw bs qd <<<"$job"
	name=$rw-$bs-qd$qd
	if [ "$rw" = decode ]; then
		echo "== $name: $(jq -r '"\(.tokens_per_s // .) tokens/s"' "$SHARED/$name.decode.json" 2>/dev/null), $(join "$SHARED/$name.vmstat.a" "$SHARED/$name.vmstat.b" 2>/dev/null | awk '{printf "%s %d MiB ", $1, ($3 - $2) / 256}')"
	else
		echo "== $name: $(jq -r '[.jobs[] | (if .read.io_bytes > 0 then .read else .write end) as $d | "\(.jobname) \(.read.iops + .write.iops | floor) IOPS, p50 \($d.clat_ns.percentile["50.000000"] / 1000 | floor) us, p99 \($d.clat_ns.percentile["99.000000"] / 1000 | floor) us"] | join("; ")' "$SHARED/$name.fio.json" 2>/dev/null)"
	fi
	# The node's counters over the job (they count from `node add`, the prefill included).
	jq -rs '(.[0].stats) as $a | (.[1].stats | with_entries(.value -= $a[.key])) | "   node: \(.tx_frames) frames out, \(.rx_frames) in, \(.retransmits) retransmits, \(.timeouts) timeouts, \(.naks_sent)/\(.naks_received) NAKs sent/received"' "$SHARED/$name.node-a.json" "$SHARED/$name.node.json" 2>/dev/null || true
	[ ! -e "$SHARED/$name.nic.b" ] || echo "   doorbells (virtio-net kicks): client $(kicks "$SHARED/$name.nic"), pool $(kicks "$SHARED/$name.pool-nic")"
	echo "-- client (by DSO):"; cat "$SHARED/$name.client-dso.txt" 2>/dev/null || true
	echo "-- client:"; head -25 "$SHARED/$name.client.txt" 2>/dev/null || true
	echo "-- pool:"; head -25 "$SHARED/$name.pool.txt" 2>/dev/null || true
	[ -z "${PROFILE_CALLERS:-}" ] || { echo "-- client, callers:"; cat "$SHARED/$name.client-callers.txt"; }
	[ -z "${PROFILE_CHILDREN:-}" ] || { echo "-- client, inclusive:"; cat "$SHARED/$name.client-children.txt"; }
	[ -z "${PROFILE_UNDER:-}" ] || { echo "-- client, under $PROFILE_UNDER:"; cat "$SHARED/$name.client-under.txt"; }
done
echo "(full reports: $SHARED)"
