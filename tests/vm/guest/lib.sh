# Helpers for guest scripts (sourced): omxctl, the shared directory, and waits with timeouts.
C=$OMX_ROOT/target/release/omxctl
S=/mnt/shared
# wait_file FILE: until FILE exists (a marker of the host or another VM), at most 300 s (a
# debug kernel under TCG on a busy host takes minutes to boot).
wait_file() { for _ in $(seq 3000); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "timeout waiting for $1"; return 1; }
# wait_state STATE [ID]: until node ID (default 1) is in STATE (up, dead, ...), at most 30 s.
wait_state() {
	for _ in $(seq 300); do
		[ "$("$C" -j node show "${2:-1}" | jq -r .state)" = "$1" ] && return 0
		sleep 0.1
	done
	echo "node ${2:-1} never became $1"; return 1
}
# wait_up [ID]: until node ID (default 1) is up.
wait_up() { wait_state up "${1:-1}"; }
# refused WANT COMMAND...: COMMAND must fail with a message containing WANT.
refused() {
	local want=$1 out
	shift
	if out=$("$@" 2>&1); then echo "unexpectedly succeeded: $*"; exit 1; fi
	echo "refused as expected: $* -> $out"
	[[ $out == *"$want"* ]] || { echo "expected '$want'"; exit 1; }
}
# must_fail COMMAND...: COMMAND must fail (a bare `! COMMAND` never stops a `set -e` script).
must_fail() { if "$@"; then echo "unexpectedly succeeded: $*"; exit 1; fi; }
# node_mac N: the MAC address of VM N (the host's vm_mac).
node_mac() { printf '52:54:00:0a:aa:%02x' "$1"; }
# one_node_device NODE_SIZE DEV_SIZE: the common start of a client with one pool node (VM 2):
# load the module, add the node once its daemon is up, wait for it, create omx0 on it.
one_node_device() {
	insmod "$OMX_ROOT/omx_mod.ko"
	wait_file "$S/vm2.daemon-up"
	"$C" node add eth0 "$(node_mac 2)" --size "$1"
	wait_up
	"$C" dev add omx0 --size "$2"
}
# in_memory_cgroup LIMIT_MIB CMD...: runs CMD in a memory cgroup limited to LIMIT_MIB, as
# container runtimes and systemd's MemoryMax= run workloads: its reclaim takes the workload's
# own pages and leaves the kernel's free memory (and the receive ring's refills) alone.
in_memory_cgroup() {
	local limit=$1 cg=/sys/fs/cgroup
	shift
	mountpoint -q $cg || mount -t cgroup2 none $cg
	echo +memory >$cg/cgroup.subtree_control
	mkdir -p $cg/swap
	echo $((limit << 20)) >$cg/swap/memory.max
	echo "workload in a memory cgroup of $limit MiB"
	bash -c "echo \$\$ >$cg/swap/cgroup.procs && exec \"\$@\"" _ "$@"
}
# swap_workload LIMIT_MIB CMD...: runs a workload that swaps, in a memory cgroup, as the admin
# guide advises and container runtimes and systemd's MemoryMax= do: its reclaim takes the
# workload's own pages and leaves the kernel's free memory, and so virtio-net's atomic
# receive-ring refills, alone. Under global pressure on a 256 MiB TCG guest the refills failed
# for seconds at a time: frames stopped arriving while reclaim kept sending swap-outs, and
# about one run in three crawled (a 768 MiB write taking 200-700 s instead of 40, requests
# outliving four block-layer timeouts; Documentation/reliability.md, "Not (yet) guaranteed").
# The limit is half the guest's RAM on the normal kernel (the working sets are 4-6 times it)
# and LIMIT_MIB on the debug kernel (the callers pass a third of the working set: that kernel
# keeps 130 MiB of the guest for itself).
swap_workload() {
	local limit=$1
	shift
	if [ -z "${OMX_DEBUG_KERNEL:-}" ]; then
		limit=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 2048))
	fi
	in_memory_cgroup "$limit" "$@"
}
# progress_every SECONDS: in the background, one line per SECONDS while swap runs (so a slow or
# stalled run shows where its time went even if the harness kills it): free memory, pages
# swapped, frames the interface dropped, and the nodes' recovery counters summed.
progress_every() {
	local t0=$SECONDS
	while sleep "$1"; do
		local free swp drops rec
		free=$(awk '/^MemFree:/ {print $2}' /proc/meminfo)
		swp=$(awk '/^pswp(in|out) / {printf "%s %s ", $1, $2}' /proc/vmstat)
		drops=$(cat /sys/class/net/eth0/statistics/rx_dropped)
		rec=$("$C" -j stats 2>/dev/null | jq -r '[.nodes[].stats] as $n |
			"omx rx dropped \(.module.rx_dropped), retransmits \($n | map(.retransmits) | add) timeouts \($n | map(.timeouts) | add) naks sent \($n | map(.naks_sent) | add) received \($n | map(.naks_received) | add), out of order \($n | map(.out_of_order) | add), duplicates \($n | map(.duplicates) | add)"' 2>/dev/null || echo "no stats")
		echo "progress $((SECONDS - t0)) s: free ${free} kB, ${swp}eth0 rx dropped $drops, $rec"
	done
}
