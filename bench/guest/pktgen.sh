# The link's one-way limit for `make bench` (sourced by client.sh and by ctl.py's commands):
# the kernel's own packet generator (pktgen) puts frames on the link straight into the driver,
# 32 per doorbell, with no socket and no process in the way, and the receiving VM counts what
# its interface delivers. A stronger reference than rawpp's request/response (bench/rawpp.c),
# which omx's streaming passed at MTU 9000: nothing that crosses the link gets more through.

# pktgen_send IFACE DST_MAC FRAME_BYTES SECS: full frames of FRAME_BYTES (Ethernet header
# included, FCS not) from IFACE to DST_MAC, as fast as the driver takes them, for SECS seconds.
pktgen_send() {
	local iface=$1 mac=$2 size=$3 secs=$4 p=/proc/net/pktgen line
	[ -d $p ] || { echo "no $p: the guest kernel lacks CONFIG_NET_PKTGEN" >&2; return 1; }
	echo rem_device_all >$p/kpktgend_0
	echo "add_device $iface" >$p/kpktgend_0
	for line in "count 0" "pkt_size $size" "dst_mac $mac" "burst 32" "delay 0"; do
		echo "$line" >"$p/$iface" || { echo "pktgen: '$line' refused" >&2; return 1; }
	done
	# Runs until stopped: `start` returns when the thread stops.
	echo start >$p/pgctrl &
	local writer=$!
	sleep "$secs"
	echo stop >$p/pgctrl
	wait "$writer" || true
	echo rem_device_all >$p/kpktgend_0
}

# rx_rate IFACE SKIP SECS: after SKIP seconds (the sender's start), what IFACE received in the
# next SECS seconds, as JSON: frames/s, and MB/s of their Ethernet payload (MTU-sized for full
# frames: the bytes a protocol above Ethernet can use).
rx_rate() {
	local s=/sys/class/net/$1/statistics t0 t1 p0 p1 b0 b1
	sleep "$2"
	read -r t0 _ </proc/uptime
	p0=$(<$s/rx_packets) b0=$(<$s/rx_bytes)
	sleep "$3"
	read -r t1 _ </proc/uptime
	p1=$(<$s/rx_packets) b1=$(<$s/rx_bytes)
	awk -v t0="$t0" -v t1="$t1" -v p="$((p1 - p0))" -v b="$((b1 - b0))" 'BEGIN {
		dt = t1 - t0
		printf "{\"frames_per_s\": %.1f, \"mb_per_s\": %.2f, \"secs\": %.2f}\n", p / dt, (b - 14 * p) / dt / 1e6, dt
	}'
}
