#!/usr/bin/env bash
# make bench: omx against the alternatives, in one run, on one virtual Ethernet segment.
#
# Two QEMU VMs (TCG) on a bridge in a private network namespace: VM 1 is the client, VM 2 the
# pool. Two phases, each a fresh boot of both VMs:
#   blk   the link's own limits (raw-frame ping-pong, bench/rawpp.c; one way, pktgen) and fio
#         on the client's block devices: /dev/omx0 at MTU 1500 (also without its CRC
#         trailer, and over MACsec), nbd over TCP to a RAM-backed nbd-server,
#         NVMe over TCP to a brd RAM disk (nvmet), zram, brd (local RAM: the upper bound), a
#         virtio-blk disk (a raw image file on the host, cache=none), /dev/omx0 at MTU 9000
#   swap  a decode-shaped LLM workload (bench/llm-decode.c) and a memcached-shaped key-value
#         workload (bench/kv.c) in a memory cgroup: all-local, and with RAM limited (70 % and
#         50 % of the weights; half the key-value data) swapping to the disk, zram, nbd and omx
# then scripts/bench/report.py prints a summary (every figure also as a ratio to all-local
# and to the disk) and writes CSV, JSON and PNG plots.
#
# Environment (defaults for the full run, about 30-40 min under TCG; BENCH_QUICK=1: tiny
# sizes, a few seconds per job, about 10 min):
#   BENCH_PHASES="blk swap"   BENCH_AREA_MB=128 (fio area per device)
#   BENCH_BLK_CFGS="..."      only these of the blk phase (default all): link omx-1500
#                             omx-1500-nocrc omx-1500-macsec nbd nvme-tcp zram brd disk omx-9000
#                             (link: the raw link at MTU 1500; omx-9000 measures it at 9000 too)
#   BENCH_SWAP_CFGS="..."     only these of the swap phase (default all): local disk zram nbd
#                             omx-1500 omx-9000
#   BENCH_FIO_JOBS="..."      only these fio jobs (default all, names as FIO_JOBS in
#                             bench/guest/client.sh): randread-4k-qd1 randwrite-4k-qd1
#                             randread-4k-qd32 randwrite-4k-qd32 read-64k-qd8 write-64k-qd8
#                             read-1m-qd8 write-1m-qd8
#     e.g. a few minutes for the sequential bars of issue #17:
#     BENCH_PHASES=blk BENCH_BLK_CFGS="link omx-1500 omx-9000 nbd" BENCH_FIO_JOBS="read-1m-qd8 write-1m-qd8" make bench
#   BENCH_FIO_SECS=10 BENCH_FIO_RAMP=2 BENCH_LINK_SECS=5
#   BENCH_WEIGHTS_MB=128 BENCH_DECODE_PCTS="70 50" BENCH_DECODE_SECS=30 BENCH_DECODE_MAX_SECS=120
#   BENCH_KV_MB=128 BENCH_KV_SECS=20   BENCH_DISK_CACHE=none (QEMU cache mode of the disk)
#   BENCH_PAGE_CLUSTER=3      the client's vm.page-cluster in the swap phase, the same for every
#                             swap device (swap-in reads up to 2^N pages per fault)
#   BENCH_OUT=Documentation/bench (quick or partial runs: the run directory, so full results stay)
#   BENCH_POOL=kernel         how the pool VM lends omx's memory: kernel (omx_mod's in-kernel
#                             pool node, `omxctl lend`) or node (the omx-node daemon)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

quick=${BENCH_QUICK:-0}
q() { if [ "$quick" = 1 ]; then echo "$2"; else echo "$1"; fi; }
AREA_MB=${BENCH_AREA_MB:-$(q 128 32)}
FIO_SECS=${BENCH_FIO_SECS:-$(q 10 2)}
FIO_RAMP=${BENCH_FIO_RAMP:-$(q 2 1)}
LINK_SECS=${BENCH_LINK_SECS:-$(q 5 2)}
WEIGHTS_MB=${BENCH_WEIGHTS_MB:-$(q 128 48)}
DECODE_PCTS=${BENCH_DECODE_PCTS:-70 50}
DECODE_SECS=${BENCH_DECODE_SECS:-$(q 30 5)}
DECODE_MAX_SECS=${BENCH_DECODE_MAX_SECS:-$(q 120 30)}
KV_MB=${BENCH_KV_MB:-$(q 128 48)}
KV_SECS=${BENCH_KV_SECS:-$(q 20 4)}
DISK_CACHE=${BENCH_DISK_CACHE:-none}
PAGE_CLUSTER=${BENCH_PAGE_CLUSTER:-3}
PHASES=${BENCH_PHASES:-blk swap}
POOL=${BENCH_POOL:-kernel}
case $POOL in kernel | node) ;; *) echo "BENCH_POOL: kernel or node, not '$POOL'" >&2; exit 2 ;; esac
[[ $PAGE_CLUSTER =~ ^([0-9]|[12][0-9]|3[01])$ ]] ||
	{ echo "BENCH_PAGE_CLUSTER: 0 to 31 (the kernel's vm.page-cluster), not '$PAGE_CLUSTER'" >&2; exit 2; }
big=$((WEIGHTS_MB > KV_MB ? WEIGHTS_MB : KV_MB))
SWAP_MB=$((2 * big))

if [ "${1:-}" != --phase ]; then
	kdir=$(kernel_build_dir)
	export OMX_KERNEL=$kdir/arch/x86/boot/bzImage OMX_ROOT
	[ -f "$OMX_KERNEL" ] || die "no guest kernel at $OMX_KERNEL (make kernel)"
	[ -f "$OMX_ROOT/omx_mod.ko" ] || die "omx_mod.ko not built (make module)"
	for b in omx-node omxctl; do
		[ -x "$OMX_ROOT/target/release/$b" ] || die "target/release/$b not built (make userspace)"
	done
	/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || die "python3-matplotlib is missing (make deps)"
	run=$OMX_CACHE/bench/$(date +%Y%m%d-%H%M%S)
	# Only a full run of everything replaces the published results.
	for j in ${BENCH_FIO_JOBS:-}; do
		grep -qE "^(FIO_JOBS=\")?$j:" "$OMX_ROOT/bench/guest/client.sh" || die "BENCH_FIO_JOBS: no fio job $j (see FIO_JOBS in bench/guest/client.sh)"
	done
	partial=$([ "$quick" = 1 ] || [ -n "${BENCH_BLK_CFGS:-}${BENCH_SWAP_CFGS:-}${BENCH_FIO_JOBS:-}" ] || [ "$PHASES" != "blk swap" ] && echo 1 || echo 0)
	out=${BENCH_OUT:-$([ "$partial" = 1 ] && echo "$run/report" || echo "$OMX_ROOT/Documentation/bench")}
	tools=$run/tools
	mkdir -p "$tools"
	# Built on the host, run in the guests (their root file system is the host's).
	gcc -O2 -o "$tools/rawpp" "$OMX_ROOT/bench/rawpp.c"
	gcc -O2 -o "$tools/llm-decode" "$OMX_ROOT/bench/llm-decode.c"
	gcc -O2 -o "$tools/kv" "$OMX_ROOT/bench/kv.c"
	# fio needs System V shm, which the guest kernel lacks: see tests/tools/noshm.c.
	gcc -shared -fPIC -O2 -o "$tools/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
	# A snapshot of the module and the daemons, so a rebuild during the run cannot mix versions.
	cp "$OMX_ROOT/omx_mod.ko" "$OMX_ROOT/target/release/omx-node" "$OMX_ROOT/target/release/omxctl" "$tools/"
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "bench: run directory $run; results to $out; $([ "$quick" = 1 ] && echo quick || echo full) mode"
	echo "bench: host load average $load_before ($(nproc) CPUs)"
	awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 0.5) }' &&
		echo "bench: warning: the host is busy (load > 0.5): figures will be noisy"
	cat >"$run/meta.json" <<-EOF
		{"date": "$(date -u +%FT%TZ)", "quick": $quick, "host_cpu": "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)",
		 "host_cpus": $(nproc), "load_before": "$load_before", "qemu": "$(qemu-system-x86_64 --version | head -1)",
		 "guest_kernel": "$KERNEL_VERSION", "git": "$(git -C "$OMX_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)",
		 "omx_mod_ko": "$(sha256sum "$tools/omx_mod.ko" | cut -c1-16), built $(date -u -r "$tools/omx_mod.ko" +%FT%TZ)",
		 "area_mb": $AREA_MB, "fio_secs": $FIO_SECS, "fio_ramp": $FIO_RAMP, "link_secs": $LINK_SECS,
		 "weights_mb": $WEIGHTS_MB, "decode_pcts": "$DECODE_PCTS", "decode_secs": $DECODE_SECS,
		 "kv_mb": $KV_MB, "kv_secs": $KV_SECS, "page_cluster": $PAGE_CLUSTER, "swap_mb": $SWAP_MB, "disk_cache": "$DISK_CACHE",
		 "phases": "$PHASES", "pool": "$POOL", "blk_cfgs": "${BENCH_BLK_CFGS:-}", "swap_cfgs": "${BENCH_SWAP_CFGS:-}", "fio_jobs": "${BENCH_FIO_JOBS:-}", "partial": $partial}
	EOF
	start=$SECONDS
	status=0
	for phase in $PHASES; do
		export OMX_TEST_DIR=$run/$phase
		mkdir -p "$OMX_TEST_DIR"
		echo "bench: phase $phase ($(date +%T))"
		BENCH_TOOLS=$tools unshare --net bash "$0" --phase "$phase" || status=1
	done
	echo "bench: VMs done in $(((SECONDS - start) / 60)) min; host load average now $(cut -d' ' -f1-3 /proc/loadavg)"
	jq --arg l "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson m $(((SECONDS - start) / 60)) \
		'. + {load_after: $l, minutes: $m}' "$run/meta.json" >"$run/meta.json.new" && mv "$run/meta.json.new" "$run/meta.json"
	/usr/bin/python3 "$OMX_ROOT/scripts/bench/report.py" "$run" "$out" || status=1
	[ $status = 0 ] || echo "bench: some steps failed (see above and $run)"
	exit $status
fi

# ---- one phase, inside a private network namespace
phase=$2
VM_TIMEOUT=${BENCH_VM_TIMEOUT:-$(q 5400 2400)}
. "$OMX_ROOT/tests/vm/lib.sh"
segment_up 9000

case $phase in
blk)
	omx_mb=$AREA_MB nbd_mb=$AREA_MB disk_mb=$AREA_MB
	client_mem=$((2 * AREA_MB + 384)) pool_mem=$((3 * AREA_MB + 384))
	# brd is built into the guest kernel, so its size is a kernel parameter. lib.sh has no
	# hook for kernel arguments; vm_start pastes its ARGS into -append, so they ride along.
	kargs=" brd.rd_size=$((AREA_MB * 1024))"
	;;
swap)
	omx_mb=$SWAP_MB nbd_mb=$SWAP_MB disk_mb=$SWAP_MB
	client_mem=$((big + big / 2 + 320)) pool_mem=$((SWAP_MB + 512))
	kargs=
	;;
*) fail "unknown phase $phase" ;;
esac
cat >"$SHARED/bench.env" <<EOF
TOOLS=$BENCH_TOOLS
AREA_MB=$AREA_MB
OMX_MB=$omx_mb
POOL=$POOL
NBD_MB=$nbd_mb
FIO_SECS=$FIO_SECS
FIO_RAMP=$FIO_RAMP
LINK_SECS=$LINK_SECS
WEIGHTS_MB=$WEIGHTS_MB
DECODE_PCTS="$DECODE_PCTS"
DECODE_SECS=$DECODE_SECS
DECODE_MAX_SECS=$DECODE_MAX_SECS
KV_MB=$KV_MB
KV_SECS=$KV_SECS
SWAP_MB=$SWAP_MB
PAGE_CLUSTER=$PAGE_CLUSTER
BLK_CFGS="${BENCH_BLK_CFGS:-}"
SWAP_CFGS="${BENCH_SWAP_CFGS:-}"
FIO_ONLY="${BENCH_FIO_JOBS:-}"
EOF
# The virtio-blk disk: a raw image on the host's file system, written once so that it is
# allocated (no sparse holes), opened with O_DIRECT (cache=none) as a real disk would be.
disk=$OMX_TEST_DIR/disk.img
dd if=/dev/zero of="$disk" bs=1M count="$disk_mb" oflag=direct status=none
echo "bench: $phase: client VM ${client_mem} MiB, pool VM ${pool_mem} MiB, 1 vCPU each, MTU 9000 bridge"
aio=threads
[ "$DISK_CACHE" = none ] && aio=native # Linux AIO on O_DIRECT, as libvirt's io=native
mkdir -p "$SHARED/res"
VM_MEM=$client_mem VM_CPUS=1 \
	VM_QEMU_ARGS="-drive file=$disk,if=none,id=bd0,format=raw,cache=$DISK_CACHE,aio=$aio -device virtio-blk-pci,drive=bd0" \
	vm_start 1 "$OMX_ROOT/bench/guest/client.sh" "$phase$kargs"
VM_MEM=$pool_mem VM_CPUS=1 vm_start 2 "$OMX_ROOT/bench/guest/pool.sh" "$phase$kargs"
# Every test writes files into res/: when nothing has changed there for BENCH_STALL_MIN minutes,
# a guest is stuck (seen once: fio waiting for a virtio-blk completion that never came). Stop
# the VMs, so the run goes on with what was measured, instead of waiting for VM_TIMEOUT.
stall_min=${BENCH_STALL_MIN:-10}
(
	while sleep 30; do
		[ -n "$(find "$SHARED/res" -mmin -"$stall_min" -print -quit)" ] && continue
		echo "bench: $phase: no progress for $stall_min min: stopping the VMs (see $OMX_TEST_DIR/vm1.log)"
		echo "$phase: no progress for $stall_min min after $(ls -t "$SHARED/res/stat" | head -1): VMs stopped" >>"$SHARED/res/errors.txt"
		kill "${VM_PIDS[@]}" 2>/dev/null
		break
	done
) &
watchdog=$!
rc=0
vm_wait || rc=$?
kill "$watchdog" 2>/dev/null || true
# Frames the host dropped on the way (a tap's TX is toward its VM: drops there mean the VM did
# not take frames fast enough).
ip -s -j link show >"$SHARED/res/host-links.json" 2>/dev/null || true
rm -f "$disk"
grep -a -E '^bench(-pool)?:' "$OMX_TEST_DIR/vm1.log" "$OMX_TEST_DIR/vm2.log" | sed 's/^[^:]*://' | grep -E 'ERROR|ready|nvmet|nbd-server' || true
[ -s "$SHARED/res/errors.txt" ] && { echo "bench: $phase: errors:"; sed 's/^/    /' "$SHARED/res/errors.txt"; rc=1; }
exit $rc
