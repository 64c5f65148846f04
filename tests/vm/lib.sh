# VM test harness for omx, sourced by tests/vm/*.sh (WireGuard's netns.sh is the model).
#
# A test runs on the host inside its own network namespace (the runner uses `unshare -n`),
# builds a segment there (a Linux bridge with one tap per VM), boots QEMU guests (TCG, never
# user-mode networking) that run a guest script from the host's read-only file system, and
# then checks their serial logs. Functions:
#   segment_up [MTU]                  create br0 in this namespace
#   vm_start N GUEST_SCRIPT [ARGS]    boot VM N (MAC 52:54:00:0a:aa:0N) running GUEST_SCRIPT;
#                                     VM_MEM, VM_CPUS, VM_TIMEOUT and VM_QEMU_ARGS (extra QEMU
#                                     arguments, e.g. a virtio-blk disk) apply to it; with
#                                     VM_INIT=systemd it boots systemd and udev, which run
#                                     GUEST_SCRIPT as a unit (qemu/guest-init.sh), with
#                                     net.ifnames=0 so that udev leaves eth0 its name
#   vm_poweroff N                     pull VM N's plug (QEMU terminated: no shutdown, no goodbye)
#   vm_wait                           wait for all VMs; fail unless every guest script exited 0
#                                     (VMs powered off need not)
#   capture_start FILE                record the segment into a pcap
#   wait_for_files FILE...            wait until guests created these (in $SHARED)
#   log_grep N PATTERN                succeed if VM N's log matches
# Guests see the host's file system read-only, but with fresh tmpfs on /tmp, /var/tmp and /mnt;
# OMX_ROOT, OMX_CACHE and the paths in OMX_VM_KEEP (colon-separated) stay visible there.
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
set -euo pipefail

: "${OMX_KERNEL:?OMX_KERNEL (bzImage) must be set by the runner}"
: "${OMX_TEST_DIR:?OMX_TEST_DIR must be set by the runner}"
VM_MEM=${VM_MEM:-512}
VM_CPUS=${VM_CPUS:-1}
VM_TIMEOUT=${VM_TIMEOUT:-300}
SHARED=$OMX_TEST_DIR/shared
# Under TCG the TSC follows the host clock, but on a busy host the clocksource watchdog sees
# skew against the emulated HPET, marks the TSC unstable and moves to the HPET, where a debug
# kernel's boot stalls: trust the TSC (tsc=reliable, as for VMs with a stable TSC).
# The debug kernel (KASAN, lockdep, kmemleak) boots so slowly under TCG that the soft-lockup
# and RCU stall detectors fire during its own init (ACPI under KASAN); give them long thresholds.
# Its ACPI interpreter is so slow there that evaluating the PCI routing table (_PRT) can hit
# ACPI's 30 s loop limit on a busy host, leaving virtio without an interrupt ("PCI INT A: no
# GSI") and the 9p root unmounted: route PCI interrupts from the PIRQ table (acpi=noirq).
# Under swap it needs two more things that guest-init.sh does when OMX_DEBUG_KERNEL is set: a
# reserve for atomic allocations (vm.min_free_kbytes), and a trimmed KASAN quarantine.
KERNEL_EXTRA_ARGS=
[ "${KERNEL_VARIANT:-normal}" = debug ] &&
	KERNEL_EXTRA_ARGS="watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300 acpi=noirq OMX_DEBUG_KERNEL=1"
# The RAM of a swap client VM. The debug kernel keeps about 130 MiB of a guest for
# itself (KASAN shadow and quarantine, lockdep, kmemleak): its clients get 128 MiB more.
SWAP_CLIENT_MEM=${SWAP_CLIENT_MEM:-$([ "${KERNEL_VARIANT:-normal}" = debug ] && echo 384 || echo 256)}
# The swap tests' working set: 3x the client's RAM, or on the debug kernel 3x the memory
# cgroup its workload runs in (tests/vm/guest/lib.sh swap_workload), smaller there because
# that kernel swaps slowly under TCG: 256 MiB took 440 s to write and 1536 s to read back.
SWAP_WS_MIB=${SWAP_WS_MIB:-$([ "${KERNEL_VARIANT:-normal}" = debug ] && echo 128 || echo 768)}
# The striped and mirrored swap tests (52, 55) add layouts to what 50-swap covers; they swap
# 2x the client's RAM, which keeps them within their time on a slow CI host (the soak swaps
# 3x RAM on a mirror for half an hour). On the debug kernel they run three guests on the host's
# two cores: 128 MiB took 499 s to write and 1684 s to read back there, so they swap 64 MiB.
SWAP_WS_SHORT_MIB=${SWAP_WS_SHORT_MIB:-$([ "${KERNEL_VARIANT:-normal}" = debug ] && echo 64 || echo 512)}
mkdir -p "$SHARED"
declare -a VM_PIDS=()
declare -A VM_OFF=()
CAPTURE_PID=
SEGMENT_MTU=1500

fail() { echo "FAIL: $*" >&2; exit 1; }

vm_mac() { printf '52:54:00:0a:aa:%02x' "$1"; }

segment_up() {
	local mtu=${1:-1500}
	SEGMENT_MTU=$mtu
	[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] ||
		fail "refusing to build the test segment in the host's network namespace"
	ip link set lo up
	ip link add br0 mtu "$mtu" type bridge stp_state 0 forward_delay 0
	ip link set br0 up
}

vm_start() {
	local n=$1 script=$2 args=${3:-}
	local tap=tap$n log=$OMX_TEST_DIR/vm$n.log
	ip tuntap add "$tap" mode tap
	ip link set "$tap" mtu "$SEGMENT_MTU" master br0 up
	timeout --kill-after=10 "$VM_TIMEOUT" qemu-system-x86_64 \
		-accel tcg -cpu max -m "$VM_MEM" -smp "$VM_CPUS" \
		-nodefaults -no-user-config -display none -no-reboot -monitor none \
		-serial "file:$log" \
		-kernel "$OMX_KERNEL" \
		-append "console=ttyS0 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,cache=loose ro init=$OMX_ROOT/qemu/guest-init.sh panic=-1 tsc=reliable $KERNEL_EXTRA_ARGS OMX_NAME=vm$n OMX_RUN=$script OMX_ARGS=$args OMX_ROOT=$OMX_ROOT OMX_KEEP=$OMX_CACHE${OMX_VM_KEEP:+:$OMX_VM_KEEP}${VM_INIT:+ OMX_INIT=$VM_INIT net.ifnames=0}" \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=/dev/root \
		-fsdev local,id=shared,path="$SHARED",security_model=none \
		-device virtio-9p-pci,fsdev=shared,mount_tag=omxshare \
		-netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
		-device virtio-net-pci,netdev=n0,mac="$(vm_mac "$n")" \
		${VM_QEMU_ARGS:-} \
		>"$OMX_TEST_DIR/vm$n.qemu.log" 2>&1 &
	VM_PIDS[$n]=$!
}

vm_poweroff() {
	VM_OFF[$1]=1
	# `timeout` passes SIGTERM on to QEMU, which exits at once: the guest just stops.
	kill -TERM "${VM_PIDS[$1]}"
}

capture_start() {
	tcpdump -i br0 -U -w "$1" >/dev/null 2>&1 &
	CAPTURE_PID=$!
	sleep 0.5
}

# Kernel messages that fail any test: the module must never warn, oops or hang a task.
BAD_KERNEL_LOG='WARNING:|BUG:|Oops|Kernel panic|blocked for more than|KASAN|UBSAN|possible circular locking|inconsistent lock state|sleeping function called from invalid context|rust_panic|panicked at|^unreferenced object'

vm_wait() {
	local n status=0
	# VM 1 is the client. Once it is gone (finished, or crashed: a client whose swapped pages
	# were lost panics), the pool VMs have nothing left to serve: tell them (`done`) instead
	# of letting them wait for VM_TIMEOUT.
	if [ -n "${VM_PIDS[1]:-}" ]; then
		wait "${VM_PIDS[1]}" || true
		touch "$SHARED/done"
	fi
	for n in "${!VM_PIDS[@]}"; do
		wait "${VM_PIDS[$n]}" || true
	done
	[ -z "$CAPTURE_PID" ] || { kill "$CAPTURE_PID" 2>/dev/null; wait "$CAPTURE_PID" 2>/dev/null || true; }
	# Frames a guest did not take in time (its receive ring full or unfilled) are dropped at
	# its tap: a count that explains retransmissions and slow runs.
	for n in "${!VM_PIDS[@]}"; do
		echo "vm$n: $(ip -j -s link show dev "tap$n" | jq '.[0].stats64.tx.dropped') frames dropped at tap$n (not taken by the guest)"
	done
	for n in "${!VM_PIDS[@]}"; do
		local log=$OMX_TEST_DIR/vm$n.log
		if grep -qE "$BAD_KERNEL_LOG" "$log"; then
			echo "vm$n: kernel reported a problem:" >&2
			grep -E -A3 "$BAD_KERNEL_LOG" "$log" | head -30 >&2
			status=1
		fi
		if [ -z "${VM_OFF[$n]:-}" ] && ! grep -q '^omx-guest: exit 0' "$log"; then
			echo "vm$n: guest script did not finish cleanly ($(grep -a '^omx-guest: exit' "$log" || echo 'no exit line: timeout or crash')); last lines:" >&2
			tail -15 "$log" >&2
			status=1
		fi
	done
	VM_PIDS=()
	return $status
}

# Waits (up to VM_TIMEOUT) until all FILES exist, e.g. guests' markers in $SHARED.
wait_for_files() {
	local deadline=$((SECONDS + VM_TIMEOUT)) f
	for f in "$@"; do
		while [ ! -e "$f" ]; do
			[ $SECONDS -lt $deadline ] || fail "timed out waiting for $f"
			sleep 0.5
		done
	done
}

log_grep() { grep -qaE "$2" "$OMX_TEST_DIR/vm$1.log"; }

# check_swap_run WS_MIB: the verdict of guest/swap-client.sh on VM 1: the verifier ran to its
# end over all WS_MIB MiB and found every page intact, pages were swapped out and in, the
# device counted no failed request, and nothing was OOM-killed.
check_swap_run() {
	local ws_mib=$1 out in verified
	[ -e "$SHARED/swap-result.txt" ] || fail "the swap workload never ran"
	cat "$SHARED/swap-result.txt"
	[ -e "$SHARED/swap.ok" ] || fail "swap check did not pass"
	verified=$(grep -E '^[0-9]+ pages verified, [0-9]+ wrong$' "$SHARED/swap-result.txt" || true)
	[ "$verified" = "$((ws_mib * 256)) pages verified, 0 wrong" ] ||
		fail "the verifier did not check all $((ws_mib * 256)) pages intact: '${verified:-no final line}'"
	out=$(awk '$1 == "pswpout" {print $2}' "$SHARED/vmstat-after")
	in=$(awk '$1 == "pswpin" {print $2}' "$SHARED/vmstat-after")
	[ "${out:-0}" -gt 0 ] || fail "no pages swapped out"
	[ "${in:-0}" -gt 0 ] || fail "no pages swapped in"
	jq -e '.stats.errors == 0' "$SHARED/dev-after.json" >/dev/null ||
		fail "the device counted failed requests: $(cat "$SHARED/dev-after.json")"
	! log_grep 1 'Out of memory|oom-kill|invoked oom-killer' || fail "the OOM killer ran"
}

# After guest/hostile-client.sh (60, 63): every fio round verified, the pattern written
# before the storm intact, the device without errors; prints what fio moved.
hostile_client_data_ok() {
	local j written
	for j in "$SHARED"/fio-*.json; do
		jq -e '.jobs[0].error == 0' "$j" >/dev/null || fail "fio reported an error in $j"
	done
	written=$(jq -s '[.[].jobs[0].write.io_kbytes] | add' "$SHARED"/fio-*.json)
	[ -e "$SHARED/pattern.ok" ] || fail "the pattern written before the storm did not read back"
	jq -e '.stats.errors == 0 and .stats.in_flight == 0' "$SHARED/dev-final.json" >/dev/null ||
		fail "device errors: $(cat "$SHARED/dev-final.json")"
	echo "fio: $(cat "$SHARED/fio-rounds") verified rounds, $((written / 1024)) MiB written and verified"
}

# storm POOL_RX FRAMES RATE SECONDS SEED [OPTION...] (60, 63): omx-fuzz-frames' hostile frames
# at VM 1 and VM 2, each with the other as the peer it trusts, paced by what they count (VM 1:
# its module counters in $SHARED/mod-live.json; VM 2: POOL_RX, FILE:KEY), until FRAMES,
# SECONDS or $SHARED/done; summary in $SHARED/fuzz.json.
storm() {
	local pool_rx=$1 frames=$2 rate=$3 seconds=$4 seed=$5
	shift 5
	"$OMX_ROOT/target/release/omx-fuzz-frames" --iface br0 --sniff --watch tap1,tap2 \
		--watch-rx "$SHARED/mod-live.json:rx_frames=$(vm_mac 1)" --watch-rx "$pool_rx=$(vm_mac 2)" \
		--target "$(vm_mac 1)=$(vm_mac 2)" --target "$(vm_mac 2)=$(vm_mac 1)" --frames "$frames" \
		--rate "$rate" --seconds "$seconds" --stop-file "$SHARED/done" --seed "$seed" --progress 10 \
		--summary "$SHARED/fuzz.json" "$@" >/dev/null ||
		fail "omx-fuzz-frames failed"
}

# flood POOL_MAC HOSTILE_MAC RATE SECONDS (61, 63): omx-fuzz-frames --flood at POOL_MAC, as
# HOSTILE_MAC and 2000 random MACs, until SECONDS or $SHARED/done; summary in
# $SHARED/flood.json.
flood() {
	"$OMX_ROOT/target/release/omx-fuzz-frames" --iface br0 --target "$1" --flood \
		--flood-macs 2000 --flood-as "$2" --rate "$3" --seconds "$4" \
		--stop-file "$SHARED/done" --summary "$SHARED/flood.json" >/dev/null ||
		fail "omx-fuzz-frames --flood failed"
}
