# Sourced: link faults inside a guest. The host kernel may lack sch_netem, so faults are put
# on the guests' own egress: each VM shapes what it sends, and together both directions.
# apply_netem ARGS|off: `tc qdisc ... netem ARGS` on eth0, or remove it.
apply_netem() {
	if [ "$1" = off ]; then
		tc qdisc del dev eth0 root 2>/dev/null || true
	else
		# shellcheck disable=SC2086 # the arguments are words for tc
		tc qdisc replace dev eth0 root netem $1
	fi
}
# netem_watch: in the background, applies /mnt/shared/netem-<vm> whenever it appears.
netem_watch() {
	local f=/mnt/shared/netem-$(hostname)
	while [ ! -e /mnt/shared/done ]; do
		if [ -e "$f" ]; then
			apply_netem "$(cat "$f")"
			rm -f "$f"
		fi
		sleep 0.2
	done
}
