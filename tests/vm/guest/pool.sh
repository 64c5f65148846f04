# A pool node VM: lends memory with omx-node and tells the others (/mnt/shared/<vm>.daemon-up),
# then obeys commands until a client writes /mnt/shared/done, and stops the daemon with
# SIGTERM. A command is a file /mnt/shared/<cmd>-<vm>, answered by <vm>.<cmd>-done once
# carried out: kill (SIGKILL), term (SIGTERM, waiting for the clean exit), stop (SIGSTOP),
# cont (SIGCONT), restart (a new daemon: its memory starts empty unless it is kept in a file),
# rmfile (delete the memory file: its contents are lost), netem (the file holds `tc netem`
# arguments for eth0's egress, or "off"; see netem-watch.sh), rss (the daemon's resident
# memory in kB into <vm>.rss). A client that repeats a command
# removes the old <vm>.<cmd>-done first. Args: size (128M), then extra omx-node options;
# POOL_IFACE (eth0) names the interface, POOL_MEMORY_FILE a --memory-file to keep memory in.
# Without a --client among the options, the daemon hands out regions --first-come.
S=/mnt/shared
vm=$(hostname)
size=${1:-128M}
shift || true
# shellcheck source=netem-watch.sh
. "$OMX_ROOT/tests/vm/guest/netem-watch.sh"
# The daemon's log lines get the guest's uptime, to be lined up with the client's kernel log.
stamp() { while IFS= read -r line; do read -r up _ </proc/uptime; printf '[%11s] %s\n' "$up" "$line"; done; }
first_come=--first-come
case " $* " in *" --client "*) first_come= ;; esac
start_daemon() {
	"$OMX_ROOT/target/release/omx-node" --iface "${POOL_IFACE:-eth0}" --size "$size" \
		${POOL_MEMORY_FILE:+--memory-file "$POOL_MEMORY_FILE"} $first_come "$@" 2> >(stamp >&2) &
	pid=$!
}
start_daemon "$@"
sleep 1
touch "$S/$vm.daemon-up"
# Until the client is done: the host bounds every VM's lifetime (VM_TIMEOUT), and a count
# here once ended the daemon 33 minutes into a 30-minute soak.
while [ ! -e "$S/done" ]; do
	for cmd in kill term stop cont restart rmfile netem rss; do
		[ -e "$S/$cmd-$vm" ] || continue
		[ $cmd = netem ] && apply_netem "$(cat "$S/$cmd-$vm")"
		rm -f "$S/$cmd-$vm"
		case $cmd in
		kill) kill -KILL "$pid"; wait "$pid" || true ;;
		term) kill -TERM "$pid"; wait "$pid" || true ;;
		stop) kill -STOP "$pid" ;;
		cont) kill -CONT "$pid" ;;
		restart) start_daemon "$@" ;;
		rmfile) rm -f "${POOL_MEMORY_FILE:-}" ;;
		rss) awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" >"$S/$vm.rss" ;;
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
