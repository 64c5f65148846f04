# The client VM of `make bench` (VM 1, 10.77.0.1). Arg: the phase.
#   blk   the link's own limits (bench/rawpp.c, bench/guest/pktgen.sh) and fio on every block
#         device: omx at MTU 1500 (with and without its CRC-32C frame trailer, and over
#         MACsec), nbd over TCP, NVMe over TCP, zram, brd, the virtio-blk disk, then omx at
#         MTU 9000; BLK_CFGS picks some
#   swap  the decode-shaped workload (bench/llm-decode.c) and the key-value workload
#         (bench/kv.c) in a memory cgroup, all-local and swapping to each backend
# Results go to /mnt/shared/res (fio JSON, one JSON line per other test, CPU counters of
# both VMs before and after every test); scripts/bench/report.py reads them on the host.
# A step that fails is recorded in res/errors.txt and the run goes on.
set +e
phase=${1:-blk}
S=/mnt/shared
. "$S/bench.env"
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. "$OMX_ROOT/bench/guest/pktgen.sh"
C=$TOOLS/omxctl # the run's snapshot (scripts/bench.sh), also used by wait_up
R=$S/res
mkdir -p "$R/fio" "$R/stat" "$R/json"
POOL=10.77.0.2
POOL_MAC=52:54:00:0a:aa:02
CLIENT_MAC=52:54:00:0a:aa:01
node_id=

log() { echo "bench: $*"; }
err() { echo "bench: ERROR: $*"; echo "$phase: $*" >>"$R/errors.txt"; }

# One command to the pool's control server (bench/guest/ctl.py); prints its answer.
ctl() {
	exec 5<>"/dev/tcp/$POOL/7777" || return 1
	echo "$1" >&5
	cat <&5
	exec 5<&-
}
finish() {
	ctl quit >/dev/null 2>&1
	touch "$S/done"
}
trap finish EXIT

# CPU counters of both VMs (and this VM's vmstat), NAME.{a,b} around a test.
# With an omx node in use, also both sides' omx counters (frames sent, retransmits,
# timeouts): the client node's (NAME.omx) and omx-node's (NAME.pool-omx), taken outside the
# CPU counters' window (before .a's, after .b's), as the pool needs a moment to write them.
snap() {
	[ -n "$node_id" ] && [[ $1 == *.a ]] && ctl nodestats >"$R/stat/$1.pool-omx"
	{ printf 'uptime '; cat /proc/uptime /proc/stat /proc/net/dev; cat /proc/[0-9]*/stat 2>/dev/null | sed 's/^/proc /'; } >"$R/stat/$1.client"
	cat /proc/vmstat >"$R/stat/$1.vmstat"
	ctl stat >"$R/stat/$1.pool"
	[ -z "$node_id" ] || "$C" -j node show "$node_id" >"$R/stat/$1.omx"
	[ -z "$node_id" ] || [ ! -b /dev/omx0 ] || "$C" -j dev show omx0 >"$R/stat/$1.dev"
	[ -n "$node_id" ] && [[ $1 == *.b ]] && ctl nodestats >"$R/stat/$1.pool-omx"
	return 0
}

# The link's one-way limit at the current MTU (bench/guest/pktgen.sh): full frames from the
# pool to this VM (what reads and swap-in move) and from this VM to the pool (writes), each
# direction's frames counted by the receiver over LINK_SECS after a second of warm-up.
link_stream() { # MTU
	local mtu=$1 j rx
	j=$R/json/stream-$mtu
	[ "$(ctl "pktgen $CLIENT_MAC $((mtu + 14)) $((LINK_SECS + 2))")" = ok ] || { err "pool's pktgen"; return 1; }
	rx_rate eth0 1 "$LINK_SECS" >"$j.pull.json"
	sleep 2
	ctl "rxrate 1 $LINK_SECS" >"$j.push.json" &
	rx=$!
	pktgen_send eth0 "$POOL_MAC" $((mtu + 14)) $((LINK_SECS + 2)) || err "pktgen to the pool"
	wait $rx || err "pool's rxrate"
	log "link one-way at MTU $mtu: pool to client $(cat "$j.pull.json"), client to pool $(cat "$j.push.json")"
}

omx_up() { # MTU [INTEGRITY: xxh64 (default), crc32c or none] [INTERFACE: eth0 (default)]
	node_id=$("$C" node add "${3:-eth0}" "$POOL_MAC" --size "${OMX_MB}M" --mtu "$1" --integrity "${2:-xxh64}") ||
		{ err "omx node add"; return 1; }
	wait_up "$node_id" || { err "omx node $node_id not up"; return 1; }
	"$C" dev add omx0 --size "${OMX_MB}M" --nodes "$node_id" || { err "omx dev add"; return 1; }
	"$C" -j node show "$node_id" >"$R/json/omx-node-up-mtu$1-${2:-xxh64}.json"
	log "omx: node $node_id up on ${3:-eth0} at MTU $1, integrity ${2:-xxh64}, /dev/omx0 $(($(blockdev --getsize64 /dev/omx0) >> 20)) MiB"
}
omx_down() {
	"$C" -j dev show omx0 >"$R/json/omx-dev-$1.json"
	"$C" -j node show "$node_id" >"$R/json/omx-node-$1.json"
	"$C" dev del omx0 || err "omx dev del"
	"$C" node del "$node_id" || err "omx node del"
	node_id=
}
# omx over MACsec (802.1AE, GCM-AES-128, encrypting) at the same link MTU: macsec0 on both VMs,
# omx-node restarted on the pool's. Its frames are 32 bytes longer, so macsec0's MTU is 1468
# and pages still travel as 1 KiB messages. The pool goes back to plain eth0 afterwards.
omx_macsec() {
	[ "$(ctl macsec)" = ok ] || { err "pool did not set up MACsec"; return 1; }
	. "$OMX_ROOT/tests/vm/guest/macsec-up.sh" 2 >/dev/null
	omx_up 1468 xxh64 macsec0 && fio_dev omx-1500-macsec /dev/omx0 && omx_down mtu1500-macsec
	ip link del macsec0
	[ "$(ctl plain)" = ok ] || err "pool did not leave MACsec"
}
# Both VMs to MTU 9000 (the pool restarts omx-node on it).
jumbo() {
	[ "$(ctl jumbo)" = ok ] || { err "pool did not switch to MTU 9000"; return 1; }
	ip link set eth0 mtu 9000
}

ip link set eth0 mtu 1500
ip addr add 10.77.0.1/24 dev eth0
wait_file "$S/pool.ready" || { err "pool not ready"; exit 0; }
insmod "$TOOLS/omx_mod.ko" || { err "insmod omx_mod"; exit 0; }
uname -r >"$R/kernel.txt"

# ---------------------------------------------------------------- the link's own limit
# MODE BYTES FRAG QD per line: a 4 KiB operation in 1 KiB (MTU 1500) or 4 KiB (9000)
# frames as omx sends pages, and bulk transfers in the largest frames.
link_tests() { # MTU
	local mtu=$1 frag bulk
	if [ "$mtu" = 9000 ]; then frag=4096 bulk=8976; else frag=1024 bulk=1480; fi
	while read -r mode bytes fr qd; do
		local name="link-$mtu.$mode-$bytes-qd$qd"
		snap "$name.a"
		"$TOOLS/rawpp" "$mode" eth0 "$POOL_MAC" "$bytes" "$fr" "$qd" "$LINK_SECS" >"$R/json/$name.json" ||
			err "rawpp $name"
		snap "$name.b"
		log "$name: $(cat "$R/json/$name.json")"
	done <<-EOF
		ping 0 0 1
		pull 4096 $frag 1
		push 4096 $frag 1
		pull 4096 $frag 32
		push 4096 $frag 32
		pull 65536 $bulk 8
		push 65536 $bulk 8
	EOF
}

# ---------------------------------------------------------------- fio
FIO_JOBS="randread-4k-qd1:randread:4k:1
randwrite-4k-qd1:randwrite:4k:1
randread-4k-qd32:randread:4k:32
randwrite-4k-qd32:randwrite:4k:32
read-64k-qd8:read:64k:8
write-64k-qd8:write:64k:8
read-1m-qd8:read:1m:8
write-1m-qd8:write:1m:8"

# Whether to run fio job NAME (FIO_ONLY: names as above, default all).
want_job() {
	[ -z "${FIO_ONLY:-}" ] || [[ " $FIO_ONLY " == *" $1 "* ]]
}

fio_dev() { # CONFIG DEVICE
	local cfg=$1 dev=$2 size=$AREA_MB line name rw bs qd
	[ -b "$dev" ] || { err "$cfg: no $dev"; return 1; }
	local devsize=$(($(blockdev --getsize64 "$dev") >> 20))
	[ "$devsize" -lt "$size" ] && size=$devsize
	log "$cfg: fio on $dev, ${size} MiB, ${FIO_SECS}s per job"
	# Every block written once first: reads of never-written blocks are free on zram, brd,
	# sparse files and omx-node alike, and would flatter them.
	LD_PRELOAD=$TOOLS/noshm.so fio --name=prefill --thread --filename="$dev" --direct=1 --rw=write \
		--bs=1M --iodepth=8 --ioengine=libaio --size="${size}M" --output-format=json \
		--output="$R/fio/$cfg.prefill.json" >/dev/null || err "$cfg: prefill failed"
	echo "$FIO_JOBS" | while IFS=: read -r name rw bs qd; do
		want_job "$name" || continue
		snap "fio.$cfg.$name.a"
		LD_PRELOAD=$TOOLS/noshm.so timeout -k 10 $((FIO_SECS + FIO_RAMP + 120)) fio --name="$name" --thread --filename="$dev" --direct=1 \
			--rw="$rw" --bs="$bs" --iodepth="$qd" --ioengine=libaio --size="${size}M" \
			--time_based --runtime="$FIO_SECS" --ramp_time="$FIO_RAMP" --norandommap \
			--randrepeat=0 --output-format=json --output="$R/fio/$cfg.$name.json" >/dev/null ||
			err "$cfg: fio $name failed"
		snap "fio.$cfg.$name.b"
		jq -r --arg c "$cfg" '.jobs[0] | "\($c) \(.jobname): read \(.read.iops|floor) IOPS \(.read.bw) KiB/s, write \(.write.iops|floor) IOPS \(.write.bw) KiB/s"' \
			"$R/fio/$cfg.$name.json" 2>/dev/null
	done
}

nvme_connect() {
	local hostnqn=nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000000b1
	nvme connect -t tcp -a "$POOL" -s 4420 -n bench --hostnqn="$hostnqn" \
		--hostid=00000000-0000-0000-0000-0000000000b1 || return 1
	for _ in $(seq 50); do
		[ -b /dev/nvme0n1 ] && return 0
		sleep 0.2
	done
	return 1
}

# Whether the blk phase measures CFG (BLK_CFGS: names as in the results, default all).
want() {
	[ -z "${BLK_CFGS:-}" ] || [[ " $BLK_CFGS " == *" $1 "* ]]
}
want_swap() {
	[ -z "${SWAP_CFGS:-}" ] || [[ " $SWAP_CFGS " == *" $1 "* ]]
}

fio_nbd() {
	nbd-client -N bench "$POOL" /dev/nbd0 -b 4096 || { err "nbd-client failed"; return 1; }
	fio_dev nbd /dev/nbd0
	nbd-client -d /dev/nbd0
}
fio_nvme() {
	nvme_connect || { err "nvme connect failed"; return 1; }
	fio_dev nvme-tcp /dev/nvme0n1
	nvme disconnect -n bench
}
fio_zram() {
	echo "${AREA_MB}M" >/sys/block/zram0/disksize || { err "zram setup failed"; return 1; }
	fio_dev zram /dev/zram0
	echo 1 >/sys/block/zram0/reset
}

blk_phase() {
	want link && link_tests 1500 && link_stream 1500
	want omx-1500 && omx_up 1500 && fio_dev omx-1500 /dev/omx0 && omx_down mtu1500
	# What the CRC-32C trailer (on by default) costs: the same without it.
	want omx-1500-nocrc && omx_up 1500 none && fio_dev omx-1500-nocrc /dev/omx0 && omx_down mtu1500-nocrc
	# What an authenticated link costs.
	want omx-1500-macsec && omx_macsec
	want nbd && fio_nbd
	want nvme-tcp && fio_nvme
	want zram && fio_zram
	want brd && fio_dev brd /dev/ram0
	want disk && fio_dev disk /dev/vda
	want omx-9000 && jumbo && link_tests 9000 && link_stream 9000 && omx_up 9000 && fio_dev omx-9000 /dev/omx0 && omx_down mtu9000
}

# ---------------------------------------------------------------- swap workloads
CG=/sys/fs/cgroup
cg_setup() {
	mountpoint -q $CG || mount -t cgroup2 none $CG || { err "no cgroup2"; return 1; }
	echo +memory >$CG/cgroup.subtree_control || { err "no memory controller"; return 1; }
	mkdir -p $CG/bench
}
# run_wl NAME LIMIT_MB SWAPDEV CMD...: CMD in the cgroup with memory.max = LIMIT_MB (0: none),
# swapping to SWAPDEV only (none: no swap).
run_wl() {
	local name=$1 limit=$2 dev=$3
	shift 3
	swapoff -a
	if [ "$dev" != none ]; then swapon "$dev" || { err "$name: swapon $dev"; return 1; }; fi
	if [ "$limit" = 0 ]; then echo max >$CG/bench/memory.max; else echo $((limit << 20)) >$CG/bench/memory.max; fi
	echo max >$CG/bench/memory.swap.max
	sync
	echo 3 >/proc/sys/vm/drop_caches
	cp $CG/bench/memory.events "$R/stat/$name.events.a"
	snap "$name.a"
	bash -c 'echo $$ >'$CG'/bench/cgroup.procs && exec "$@"' _ "$@" >"$R/json/$name.json" ||
		err "$name: $* failed"
	snap "$name.b"
	cp $CG/bench/memory.events "$R/stat/$name.events.b"
	log "$name (limit ${limit} MiB, swap $dev): $(cat "$R/json/$name.json")"
}
# The workloads at the RAM limits, with swap on DEV. Configuration name CFG.
wl_set() { # CFG DEV
	local cfg=$1 dev=$2 pct
	mkswap "$dev" >/dev/null || { err "mkswap $dev"; return 1; }
	for pct in $DECODE_PCTS; do
		run_wl "decode.$cfg.$pct" $((WEIGHTS_MB * pct / 100)) "$dev" \
			"$TOOLS/llm-decode" "$WEIGHTS_MB" "$DECODE_SECS" "$DECODE_MAX_SECS"
	done
	run_wl "kv.$cfg" $((KV_MB / 2)) "$dev" "$TOOLS/kv" "$KV_MB" "$KV_SECS"
	swapoff -a
}

swap_phase() {
	cg_setup || return
	# Swap-in's read-ahead, the same for every swap device of the run.
	echo "$PAGE_CLUSTER" >/proc/sys/vm/page-cluster || err "vm.page-cluster $PAGE_CLUSTER refused"
	if want_swap local; then
		run_wl decode.local.100 0 none "$TOOLS/llm-decode" "$WEIGHTS_MB" "$DECODE_SECS" "$DECODE_MAX_SECS"
		run_wl kv.local 0 none "$TOOLS/kv" "$KV_MB" "$KV_SECS"
	fi
	want_swap disk && wl_set disk /dev/vda
	if want_swap zram; then
		if echo "${SWAP_MB}M" >/sys/block/zram0/disksize; then
			wl_set zram /dev/zram0
			echo 1 >/sys/block/zram0/reset
		else
			err "zram setup failed"
		fi
	fi
	if want_swap nbd; then
		if nbd-client -N bench "$POOL" /dev/nbd0 -b 4096 -swap; then
			wl_set nbd /dev/nbd0
			nbd-client -d /dev/nbd0
		else
			err "nbd-client failed"
		fi
	fi
	want_swap omx-1500 && omx_up 1500 && wl_set omx-1500 /dev/omx0 && omx_down swap-mtu1500
	want_swap omx-9000 && jumbo && omx_up 9000 && wl_set omx-9000 /dev/omx0 && omx_down swap-mtu9000
}

ctl ps >"$R/pool-ps-start.txt"
case $phase in
blk) blk_phase ;;
swap) swap_phase ;;
*) err "unknown phase $phase" ;;
esac
ctl ps >"$R/pool-ps-end.txt"
ctl nodestats >"$R/json/pool-node-stats.json"
dmesg >"$R/dmesg.txt"
log "done"
exit 0
