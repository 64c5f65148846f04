# Pool side of the MACsec test (VM 2): omx-node on macsec0 toward VM 1, lending memory only
# to VM 1's macsec0 (`--client`; macsec0 keeps eth0's MAC). Args: size (128M), then extra
# omx-node options; the rest as pool.sh. A file /mnt/shared/snap-vm2-NAME asks for a
# snapshot: the daemon's counters (SIGUSR1) in vm2-NAME.node.json and macsec0's
# (`ip -s macsec show`) in vm2-NAME.macsec, answered by vm2.snap-NAME-done.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. "$OMX_ROOT/tests/vm/guest/macsec-up.sh" 1
size=${1:-128M}
shift || true
set -- "$size" --client "$(node_mac 1)=$size" --stats-file /tmp/node-stats.json "$@"
(
	while [ ! -e "$S/done" ]; do
		for f in "$S"/snap-vm2-*; do
			[ -e "$f" ] || continue
			name=${f##*/snap-vm2-}
			rm -f "$f" /tmp/node-stats.json
			kill -USR1 "$(pidof omx-node)"
			wait_file /tmp/node-stats.json
			cp /tmp/node-stats.json "$S/vm2-$name.node.json"
			ip -s macsec show macsec0 >"$S/vm2-$name.macsec"
			touch "$S/vm2.snap-$name-done"
		done
		sleep 0.1
	done
) &
POOL_IFACE=macsec0
. "$OMX_ROOT/tests/vm/guest/pool.sh"
