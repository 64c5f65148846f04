# Client side of the link-fault test (VM 1): /dev/omx0 over omx-node on VM 2
# (guest/fault-pool.sh) runs verified I/O under one link fault after another, with the counters
# of both ends recorded before and after each (tests/vm/64-link-faults.sh says what and why).
# Results for the host: /mnt/shared/results.jsonl (a line per scenario) and
# /mnt/shared/r/<scenario>-<what>-<before|after>.json. A failing scenario is recorded, not
# fatal: the others still run and the host reports them all.
# Args: MiB of I/O per scenario (default 4); the scenarios to run, separated by '+' (all).
# Runs under bash -euo pipefail (qemu/guest-init.sh).
. "$OMX_ROOT/tests/vm/guest/lib.sh"
trap 'touch "$S/done"' EXIT
mib=${1:-4}
only=${2:-}
G=$OMX_ROOT/tests/vm/guest
R=$S/r
mkdir -p "$R"
canary=4 # MiB at the start of the device: written once, compared after every scenario
dev_mib=$((canary + mib))

selected() { [ -z "$only" ] || [[ "+$only+" == *"+$1+"* ]]; }
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }'; }
canary_ok() {
	dd if=/dev/omx0 of=/tmp/canary-back bs=1M count=$canary iflag=direct status=none &&
		cmp -s /tmp/canary /tmp/canary-back
}
# pool CMD ARGS...: a command to guest/fault-pool.sh on VM 2; waits for it to be carried out.
pool() {
	local cmd=$1
	shift
	rm -f "$S/vm2.$cmd-done" "$S/vm2.$cmd-failed"
	echo "$*" >"$S/.$cmd-vm2"
	mv "$S/.$cmd-vm2" "$S/$cmd-vm2"
	wait_file "$S/vm2.$cmd-done"
	[ ! -e "$S/vm2.$cmd-failed" ]
}
# snapshot TAG PHASE: this end's node, device and module counters, and the pool daemon's.
snapshot() {
	"$C" -j node show 1 >"$R/$1-client-$2.json"
	"$C" -j dev show omx0 >"$R/$1-dev-$2.json"
	"$C" -j stats >"$R/$1-module-$2.json"
	pool nstats "$1-$2"
	mv "$S/node-$1-$2.json" "$R/$1-node-$2.json"
}
# netem on this VM's eth0 (frames to the node) and on VM 2's (frames to this client).
netem_on() { # TAG ARGS...
	local tag=$1
	shift
	tc qdisc replace dev eth0 root netem "$@"
	pool netem "$tag" "$@"
}
netem_off() { # TAG; keeps both qdiscs' counters
	tc -s -j qdisc show dev eth0 >"$R/$1-netem-vm1.json"
	tc qdisc del dev eth0 root
	pool netem "$1" off
	mv "$S/netem-vm2-$1.json" "$R/$1-netem-vm2.json"
}
result() { # TAG KIND DETAIL RC SECONDS MIB
	local canary_state=true
	canary_ok || canary_state=false
	jq -cn --arg name "$1" --arg kind "$2" --arg detail "$3" --argjson rc "$4" --argjson secs "$5" \
		--argjson mib "$6" --argjson canary "$canary_state" \
		'{name: $name, kind: $kind, detail: $detail, rc: $rc, seconds: $secs, mib: $mib, canary_ok: $canary}' \
		>>"$S/results.jsonl"
	echo "scenario $1 ($3): rc $4, $5 s, canary intact: $canary_state"
	"$C" node show 1 | grep -E 'retransmits|naks|malformed|timeouts|reconnects|integrity' | tr -s ' \n' ' ' || true
	echo
}

# poll TAG: the node's state and counters every second (how a scenario unfolded, for the log).
poll() {
	while :; do
		"$C" -j node show 1 | jq -c --arg t "$(date +%s.%N)" '{t: $t, state} + .stats' >>"$R/$1-poll.jsonl"
		sleep 1
	done
}

# probe TAG: 200 reads of 4 KiB one at a time (nothing else does I/O meanwhile), with the
# node's latency histograms before and after, and what omxctl stats prints of them then: the
# host checks that the reads were all counted and that their latency follows the link's delay.
# Every other block, so that no read continues the last one: the device's read-ahead would
# answer those from its buffer (and its fetches would be counted instead).
probe() {
	local i
	"$C" -j node show 1 >"$R/$1-probe-before.json"
	for i in $(seq 0 199); do
		dd if=/dev/omx0 of=/dev/null bs=4k count=1 skip=$((2 * i)) iflag=direct status=none
	done
	"$C" -j node show 1 >"$R/$1-probe-after.json"
	"$C" stats >"$R/$1-probe-stats.txt"
	"$C" stats --prometheus >"$R/$1-probe.prom"
}

# fio writes SIZE MiB of the work area in random blocks of 4-64 KiB, 16 in flight, each with a
# crc32c header, then reads every block back and verifies it: both directions carry data under
# netem.
run_netem() { # TAG SIZE_MIB [NETEM ARGS...] (none: no fault, the reference)
	local tag=$1 size=$2 rc=0 start secs
	shift 2
	selected "$tag" || return 0
	snapshot "$tag" before
	[ $# = 0 ] || netem_on "$tag" "$@"
	start=$(date +%s.%N)
	poll "$tag" &
	poller=$!
	LD_PRELOAD=$S/noshm.so timeout $((300 + 120 * size)) fio --name="$tag" --thread --filename=/dev/omx0 --direct=1 \
		--offset="${canary}M" --size="${size}M" --rw=randwrite --bsrange=4k-64k --ioengine=libaio \
		--iodepth=16 --verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
		--output-format=json --output="$R/$tag-fio.json" 2>"$R/$tag-fio.err" || rc=$?
	secs=$(elapsed "$start")
	kill "$poller" 2>/dev/null || true
	wait "$poller" 2>/dev/null || true
	[ "$rc" = 0 ] || head -c 2000 "$R/$tag-fio.err"
	case $tag in none | delay) probe "$tag" ;; esac
	[ $# = 0 ] || netem_off "$tag"
	snapshot "$tag" after
	result "$tag" netem "${*:-none}" "$rc" "$secs" "$size"
}

# The host takes this VM's tap down for SECONDS while guest/fault-io.py writes and verifies
# 256 KiB slots back to back (I/O is in flight when the link goes); once the link is back and
# the node up, every slot is verified.
run_flap() { # TAG SECONDS [--tolerate-eio]
	local tag=$1 secs=$2 rc=0 start io
	shift 2
	selected "$tag" || return 0
	snapshot "$tag" before
	rm -f "$S/host.flap-done" /tmp/recovered
	start=$(date +%s.%N)
	python3 "$G/fault-io.py" /dev/omx0 "$canary" "$mib" "$S/host.flap-done" --final-after /tmp/recovered \
		"$@" >"$R/$tag-io.json" &
	io=$!
	sleep 1
	echo "$secs" >"$S/.flap"
	mv "$S/.flap" "$S/flap"
	wait_file "$S/host.flap-done"
	wait_up || { echo "node 1 did not come back after $tag"; "$C" node show 1; exit 1; }
	touch /tmp/recovered
	wait "$io" || rc=$?
	cat "$R/$tag-io.json"
	snapshot "$tag" after
	result "$tag" flap "VM 1's tap down for $secs s" "$rc" "$(elapsed "$start")" "$mib"
}

# path_mtu N: the whole path to MTU N, in this order: the host's taps and bridge
# (64-link-faults.sh, which also records the frames the taps pass on while the MTU scenario
# runs), VM 2's eth0 (guest/fault-pool.sh), this VM's eth0. path_mtu end: the host stops
# recording.
path_mtu() {
	rm -f "$S/host.path-mtu-done"
	echo "$1" >"$S/.path-mtu"
	mv "$S/.path-mtu" "$S/path-mtu"
	wait_file "$S/host.path-mtu-done"
	[ "$1" != end ] || return 0
	pool mtu "$1"
	ip link set eth0 mtu "$1"
}

# The MTU of the whole path (both VMs' eth0, the host's taps and bridge) goes 1500 -> 576 ->
# 9000 -> 1500 while guest/fault-io.py writes and verifies; tcpdump on eth0 records the size of
# the frames omx_mod sends and receives in each phase (the host records what its taps pass
# on). omx_mod keeps the frame size it chose at node add: at 576 its data frames are dropped
# by the path (the host's bridge, and VM 2's AF_PACKET socket refuses omx-node's), so I/O
# stalls and is retransmitted until the MTU is back; at 9000 its frames stay as they were.
run_mtu() {
	local tag=mtu rc=0 start io td t0 e0 t1 e1 t2 e2 t3 t4
	selected "$tag" || return 0
	snapshot "$tag" before
	rm -f /tmp/mtu-done
	tcpdump -Z root -i eth0 -nn -s 64 -w /tmp/mtu.pcap 'ether proto 0xaaaa' 2>/tmp/tcpdump.err &
	td=$!
	for _ in $(seq 100); do grep -q listening /tmp/tcpdump.err && break; sleep 0.1; done
	grep -q listening /tmp/tcpdump.err || { echo "tcpdump did not start:"; cat /tmp/tcpdump.err; exit 1; }
	path_mtu 1500 # the host starts recording
	start=$(date +%s.%N)
	t0=$start
	python3 "$G/fault-io.py" /dev/omx0 "$canary" "$mib" /tmp/mtu-done >"$R/$tag-io.json" &
	io=$!
	sleep 2
	e0=$(date +%s.%N)
	path_mtu 576
	t1=$(date +%s.%N)
	"$C" -j node show 1 >"$R/$tag-node-at-576.json"
	sleep 3
	e1=$(date +%s.%N)
	path_mtu 9000
	t2=$(date +%s.%N)
	sleep 4
	e2=$(date +%s.%N)
	path_mtu 1500
	t3=$(date +%s.%N)
	sleep 1
	touch /tmp/mtu-done
	wait "$io" || rc=$?
	t4=$(date +%s.%N)
	path_mtu end
	cat "$R/$tag-io.json"
	kill "$td"
	wait "$td" || true
	# "TIME SRC-MAC LENGTH" per frame (LENGTH includes the 14-byte Ethernet header).
	tcpdump -r /tmp/mtu.pcap -tt -e -nn 2>/dev/null |
		sed -n 's/^\([0-9.]*\) \([0-9a-f:]*\) > .*, length \([0-9]*\): .*/\1 \2 \3/p' >/tmp/mtu-frames
	# Per phase (from 0.2 s after the whole path changed, frames already queued are not
	# counted, to the start of the next change), the frames this VM sent and received, and the
	# largest of each.
	awk -v me="$(node_mac 1)" -v t0="$t0" -v e0="$e0" -v t1="$t1" -v e1="$e1" -v t2="$t2" -v e2="$e2" -v t3="$t3" -v t4="$t4" '
		function note(p) { if ($2 == me) { sn[p]++; if ($3 > sl[p]) sl[p] = $3 } else { rn[p]++; if ($3 > rl[p]) rl[p] = $3 } }
		$1 >= t0 && $1 < e0 { note("at1500") }
		$1 >= t1 + 0.2 && $1 < e1 { note("at576") }
		$1 >= t2 + 0.2 && $1 < e2 { note("at9000") }
		$1 >= t3 + 0.2 && $1 < t4 { note("back1500") }
		END {
			printf "{"
			split("at1500 at576 at9000 back1500", ps, " ")
			for (i = 1; i <= 4; i++)
				printf "%s\"%s\": {\"sent\": %d, \"sent_largest\": %d, \"received\": %d, \"received_largest\": %d}", (i > 1 ? ", " : ""), ps[i], sn[ps[i]], sl[ps[i]], rn[ps[i]], rl[ps[i]]
			print "}"
		}' /tmp/mtu-frames | tee "$R/$tag-frames.json"
	snapshot "$tag" after
	result "$tag" mtu "path MTU 1500 -> 576 -> 9000 -> 1500" "$rc" "$(elapsed "$start")" "$mib"
}

insmod "$OMX_ROOT/omx_mod.ko"
"$C" -j monitor >"$S/monitor.jsonl" &
mon=$!
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 "$(node_mac 2)" --size "$((dev_mib + 4))M"
wait_up
"$C" dev add omx0 --size "${dev_mib}M"
head -c $((canary << 20)) /dev/urandom >/tmp/canary
dd if=/tmp/canary of=/dev/omx0 bs=1M oflag=direct status=none
canary_ok || { echo "the canary did not read back as written, before any fault"; exit 1; }
: >"$S/results.jsonl"

# The slowest faults move less data (Go-Back-N resends the whole window for every gap).
half=$(((mib + 1) / 2)) quarter=$(((mib + 3) / 4))
run_netem none "$mib"
run_netem loss-0.1 "$mib" loss 0.1%
run_netem loss-2 "$half" loss 2%
run_netem loss-10 "$quarter" loss 10%
run_netem reorder "$quarter" delay 2ms reorder 25% 50%
run_netem duplicate "$mib" duplicate 5%
run_netem corrupt "$mib" corrupt 1%
# Jitter on an ordered link (with a rate, netem keeps frames in order, as a wire or a switch
# port does), then the same jitter as netem applies it without a rate: each frame delayed on
# its own, so frames overtake each other all the time.
run_netem delay "$mib" delay 5ms 2ms rate 1gbit
run_netem delay-reorder "$quarter" delay 5ms 2ms
run_flap flap-short 1
run_flap flap-long 6
# Down past the I/O timeout (10 s): the node is declared dead and the I/O in flight fails with
# EIO, then the node comes back with its memory, and what was acknowledged is still there.
run_flap flap-dead 16 --tolerate-eio
run_mtu

"$C" -j dev show omx0 | tee "$S/dev-final.json"
touch "$S/scenarios.done"
kill "$mon"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
