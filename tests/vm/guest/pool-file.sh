# A pool node VM whose omx-node keeps its memory in a file (--memory-file), like pool.sh
# otherwise: lends memory and tells the others (/mnt/shared/<vm>.daemon-up), then obeys
# commands until a client writes /mnt/shared/done, and stops the daemon with SIGTERM. A
# command is a file /mnt/shared/<cmd>-<vm>, answered by <vm>.<cmd>-done once carried out:
# kill (SIGKILL), term (SIGTERM, waiting for the clean exit), stop (SIGSTOP), cont (SIGCONT),
# restart (a new daemon on the same file), rmfile (delete the memory file: its contents are
# lost). A client that repeats a command removes the old <vm>.<cmd>-done first.
# Args: size (128M), memory file (/run/omx-pool.mem), then extra omx-node options;
# POOL_IFACE (eth0) names the interface.
S=/mnt/shared
vm=$(hostname)
size=${1:-128M}
file=${2:-/run/omx-pool.mem}
shift 2 || shift $#
start_daemon() {
	"$OMX_ROOT/target/release/omx-node" --iface "${POOL_IFACE:-eth0}" --size "$size" \
		--memory-file "$file" "$@" &
	pid=$!
}
start_daemon "$@"
sleep 1
touch "$S/$vm.daemon-up"
for _ in $(seq 9000); do
	[ -e "$S/done" ] && break
	for cmd in kill term stop cont restart rmfile; do
		[ -e "$S/$cmd-$vm" ] || continue
		rm -f "$S/$cmd-$vm"
		case $cmd in
		kill) kill -KILL "$pid"; wait "$pid" || true ;;
		term) kill -TERM "$pid"; wait "$pid" || true ;;
		stop) kill -STOP "$pid" ;;
		cont) kill -CONT "$pid" ;;
		restart) start_daemon "$@" ;;
		rmfile) rm -f "$file" ;;
		esac
		echo "pool: $cmd done"
		touch "$S/$vm.$cmd-done"
	done
	sleep 0.1
done
kill -CONT "$pid" 2>/dev/null || true
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
