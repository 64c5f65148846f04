# The pool VM of `make bench` (VM 2, 10.77.0.2). Arg: the phase, "blk" or "swap".
# Serves, on one Ethernet segment, everything the client VM compares:
#   omx's pool    RAM over OmniXtend (raw Ethernet): omx_mod's in-kernel pool node (POOL=kernel,
#                 `omxctl lend`) or omx-node (POOL=node), made again at MTU 9000 on request
#   rawpp echo    the raw-frame responder for the link's own limit
#   nbd-server    a file on tmpfs (RAM) over TCP
#   nvmet (blk)   NVMe-over-TCP to the brd RAM disk /dev/ram0 (configfs)
# then answers the client's commands (bench/guest/ctl.py) until it says quit.
set +e
phase=${1:-blk}
S=/mnt/shared
. "$S/bench.env"
log() { echo "bench-pool: $*"; }

ip link set eth0 mtu 1500
ip addr add 10.77.0.2/24 dev eth0
"$TOOLS/rawpp" echo eth0 &
rawpp_pid=$!

# nbd: a sparse file on its own tmpfs, so its pages are RAM and nothing else.
mkdir -p /mnt/nbd
mount -t tmpfs -o size=$((NBD_MB + 16))m tmpfs /mnt/nbd
truncate -s "${NBD_MB}M" /mnt/nbd/export.img
cat >/run/nbd.conf <<EOF
[generic]
    listenaddr = 10.77.0.2
[bench]
    exportname = /mnt/nbd/export.img
EOF
nbd-server -C /run/nbd.conf -p /run/nbd-server.pid && log "nbd-server: ${NBD_MB} MiB on tmpfs" ||
	log "nbd-server failed"

if [ "$phase" = blk ]; then
	# NVMe-over-TCP target on brd (built in; its size comes from brd.rd_size on the command line).
	mount -t configfs none /sys/kernel/config 2>/dev/null
	N=/sys/kernel/config/nvmet
	if [ -b /dev/ram0 ] && [ -d $N ]; then
		mkdir $N/subsystems/bench &&
			echo 1 >$N/subsystems/bench/attr_allow_any_host &&
			mkdir $N/subsystems/bench/namespaces/1 &&
			echo -n /dev/ram0 >$N/subsystems/bench/namespaces/1/device_path &&
			echo 1 >$N/subsystems/bench/namespaces/1/enable &&
			mkdir $N/ports/1 &&
			echo 10.77.0.2 >$N/ports/1/addr_traddr &&
			echo tcp >$N/ports/1/addr_trtype &&
			echo 4420 >$N/ports/1/addr_trsvcid &&
			echo ipv4 >$N/ports/1/addr_adrfam &&
			ln -s $N/subsystems/bench $N/ports/1/subsystems/bench &&
			log "nvmet: /dev/ram0 ($(($(blockdev --getsize64 /dev/ram0) >> 20)) MiB) on 10.77.0.2:4420" ||
			log "nvmet setup failed"
	else
		log "no /dev/ram0 or no nvmet in configfs: no NVMe-over-TCP target"
	fi
fi

# Daemons start slowly under TCG (nbd-server spends its first ~10 s on the CPU): measure nothing
# until this VM is idle.
settle() {
	local a b i
	for i in $(seq 60); do
		a=($(head -1 /proc/stat))
		sleep 1
		b=($(head -1 /proc/stat))
		local tot=0 k
		for k in 1 2 3 4 5 6 7 8; do tot=$((tot + b[k] - a[k])); done
		[ $tot -gt 0 ] && [ $(((b[4] - a[4]) * 100 / tot)) -ge 90 ] && { log "idle after $i s"; return 0; }
	done
	log "still busy after 60 s"
}
settle
free -m
log "ready"
[ "$POOL" = kernel ] && insmod "$TOOLS/omx_mod.ko"
POOL=$POOL TOOLS=$TOOLS OMX_MB=$OMX_MB python3 "$OMX_ROOT/bench/guest/ctl.py" 10.77.0.2 \
	"$TOOLS/omx-node" --iface eth0 --size "${OMX_MB}M" --first-come --log-level warn \
	--stats-file /run/omx-node-stats.json
kill "$rawpp_pid" 2>/dev/null
[ -f /run/nbd-server.pid ] && kill "$(cat /run/nbd-server.pid)" 2>/dev/null
exit 0
