# A pool node VM: lends memory with omx-node and tells the others (/mnt/shared/<vm>.daemon-up),
# then obeys commands until a client writes /mnt/shared/done, and stops the daemon with
# SIGTERM. A command is a file /mnt/shared/<cmd>-<vm>, answered by <vm>.<cmd>-done once
# carried out: kill (SIGKILL), stop (SIGSTOP), cont (SIGCONT), restart (a new daemon, whose
# memory starts empty), netem (the file holds `tc netem` arguments for eth0's egress, or
# "off"; see netem-watch.sh). Args: size (128M), then extra omx-node options; POOL_IFACE (eth0)
# names the interface.
S=/mnt/shared
vm=$(hostname)
size=${1:-128M}
shift || true
# shellcheck source=netem-watch.sh
. "$OMX_ROOT/tests/vm/guest/netem-watch.sh"
start_daemon() {
	"$OMX_ROOT/target/release/omx-node" --iface "${POOL_IFACE:-eth0}" --size "$size" "$@" &
	pid=$!
}
start_daemon "$@"
sleep 1
touch "$S/$vm.daemon-up"
for _ in $(seq 9000); do
	[ -e "$S/done" ] && break
	for cmd in kill stop cont restart netem; do
		[ -e "$S/$cmd-$vm" ] || continue
		[ $cmd = netem ] && apply_netem "$(cat "$S/$cmd-$vm")"
		rm -f "$S/$cmd-$vm"
		case $cmd in
		kill) kill -KILL "$pid"; wait "$pid" || true ;;
		stop) kill -STOP "$pid" ;;
		cont) kill -CONT "$pid" ;;
		restart) start_daemon "$@" ;;
		netem) ;;
		esac
		echo "pool: $cmd done"
		touch "$S/$vm.$cmd-done"
	done
	sleep 0.1
done
kill -CONT "$pid" 2>/dev/null || true
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
