# Helpers for guest scripts (sourced): omxctl, the shared directory, and waits with timeouts.
C=$OMX_ROOT/target/release/omxctl
S=/mnt/shared
# wait_file FILE: until FILE exists (a marker of the host or another VM), at most 300 s (a
# debug kernel under TCG on a busy host takes minutes to boot).
wait_file() { for _ in $(seq 3000); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "timeout waiting for $1"; return 1; }
# wait_up [ID]: until node ID (default 1) is up, at most 30 s.
wait_up() {
	for _ in $(seq 300); do
		[ "$("$C" -j node show "${1:-1}" | jq -r .state)" = up ] && return 0
		sleep 0.1
	done
	echo "node ${1:-1} never came up"; return 1
}
