# Pool side of the link-fault test (VM 2): omx-node lends SIZE (arg 1, default 128M) on eth0 and
# carries out guest/fault-client.sh's commands until the client writes /mnt/shared/done. A
# command is a file /mnt/shared/<cmd>-<vm> (written with a rename, so it is whole), answered by
# <vm>.<cmd>-done (and <vm>.<cmd>-failed if it failed):
#   netem-<vm>  "TAG ARGS..."  tc netem with ARGS on eth0's egress: the node's answers to the
#                              client (the client puts the same on its own eth0 for the requests)
#   netem-<vm>  "TAG off"      saves the qdisc's counters to netem-<vm>-TAG.json, removes netem
#   nstats-<vm> "TAG"          the daemon's counters (SIGUSR1 -> --stats-file) to node-TAG.json
#   mtu-<vm>    "N"            eth0's MTU to N (omx-node keeps the frame size it chose at start)
# Runs under bash -euo pipefail (qemu/guest-init.sh).
S=/mnt/shared
vm=$(hostname)
size=${1:-128M}
stats=/tmp/node-stats.json
"$OMX_ROOT/target/release/omx-node" --iface eth0 --size "$size" --first-come --stats-file "$stats" &
pid=$!
sleep 1
touch "$S/$vm.daemon-up"

netem() { # TAG ARGS... | TAG off
	local tag=$1; shift
	if [ "$*" = off ]; then
		tc -s -j qdisc show dev eth0 >"$S/netem-$vm-$tag.json"
		tc qdisc del dev eth0 root
	else
		tc qdisc replace dev eth0 root netem "$@"
	fi
}
mtu() { # N
	ip link set eth0 mtu "$1"
}
nstats() { # TAG
	rm -f "$stats"
	kill -USR1 "$pid"
	for _ in $(seq 100); do [ -e "$stats" ] && break; sleep 0.1; done
	[ -e "$stats" ] || { echo "pool: omx-node wrote no stats"; return 1; }
	cp "$stats" "$S/node-$1.json"
}

while [ ! -e "$S/done" ]; do
	for cmd in netem nstats mtu; do
		f=$S/$cmd-$vm
		[ -e "$f" ] || continue
		read -r line <"$f" || true
		rm -f "$f"
		# shellcheck disable=SC2086 # the arguments are words
		if ! $cmd $line; then
			echo "pool: $cmd $line failed"
			touch "$S/$vm.$cmd-failed"
		fi
		touch "$S/$vm.$cmd-done"
	done
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || true
