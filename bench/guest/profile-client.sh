# Client VM of scripts/bench/profile.sh: fio on /dev/omx0 while perf samples the whole VM
# (cpu-clock: TCG has no PMU), then perf's report of where the time went, per job, into
# /mnt/shared. The pool VM samples itself over the same window (profile-pool.sh).
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. /mnt/shared/profile.env
trap 'touch $S/done' EXIT
set -u
secs=${PROFILE_SECS:-15}
ip link set eth0 mtu "${PROFILE_MTU:-1500}"
insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size 256M --integrity "${PROFILE_INTEGRITY:-xxh64}"
wait_up
"$C" dev add omx0 --size 256M
fio_run() { # NAME RW BS QD SECS [perf...]
	local name=$1 rw=$2 bs=$3 qd=$4 t=$5
	shift 5
	LD_PRELOAD=$PROFILE_TOOLS/noshm.so "$@" fio --thread --filename=/dev/omx0 --direct=1 \
		--ioengine=libaio --size=128M --time_based --runtime="$t" --randrepeat=0 \
		--output-format=json --output="$S/$name.fio.json" $(fio_jobs "$name" "$rw" "$bs" "$qd") >/dev/null
}
# fio_jobs NAME RW BS QD: the job, or for RW=probe a sequential read of BS at QD and beside it
# a 4 KiB random read at QD1 (the probe: how long a lone read waits behind a stream).
fio_jobs() {
	if [ "$2" = probe ]; then
		echo "--name=stream --rw=read --bs=$3 --iodepth=$4 --name=probe --rw=randread --bs=4k --iodepth=1"
	else
		echo "--name=$1 --rw=$2 --bs=$3 --iodepth=$4"
	fi
}
# decode_run NAME PCT SECS [perf...]: bench/llm-decode on 128 MiB of weights in a memory cgroup
# of PCT % of them, swapping to /dev/omx0 (as make bench's decode-shaped workload).
decode_run() {
	local name=$1 pct=$2 t=$3 cg=/sys/fs/cgroup
	shift 3
	mountpoint -q $cg || mount -t cgroup2 none $cg
	echo +memory >$cg/cgroup.subtree_control
	mkdir -p $cg/profile
	echo $((128 * pct / 100 << 20)) >$cg/profile/memory.max
	mkswap /dev/omx0 >/dev/null
	swapon /dev/omx0
	grep -E '^pswp(in|out) ' /proc/vmstat >"$S/$name.vmstat.a"
	"$@" bash -c 'echo $$ >'$cg'/profile/cgroup.procs && exec "$0" "$@"' \
		"$PROFILE_TOOLS/llm-decode" 128 "$t" "$((2 * t))" >"$S/$name.decode.json"
	grep -E '^pswp(in|out) ' /proc/vmstat >"$S/$name.vmstat.b"
	swapoff /dev/omx0
}
LD_PRELOAD=$PROFILE_TOOLS/noshm.so fio --name=prefill --thread --filename=/dev/omx0 --direct=1 \
	--rw=write --bs=1M --iodepth=8 --ioengine=libaio --size=128M --output=/dev/null >/dev/null
for job in ${PROFILE_JOBS:-randread:4k:32 randread:4k:1 read:1m:8}; do
	IFS=: read -r rw bs qd <<<"$job"
	name=$rw-$bs-qd$qd
	: >"$S/profile-$name"
	"$C" -j node show 1 >"$S/$name.node-a.json"
	! command -v ethtool >/dev/null || ethtool -S eth0 >"$S/$name.nic.a"
	if [ "$rw" = decode ]; then
		decode_run "$name" "$bs" "$secs" perf record -q -a -g -e cpu-clock -F 1000 -o "/tmp/$name.data" --
	else
		fio_run "$name" "$rw" "$bs" "$qd" "$secs" perf record -q -a -g -e cpu-clock -F 1000 -o "/tmp/$name.data" --
	fi
	! command -v ethtool >/dev/null || ethtool -S eth0 >"$S/$name.nic.b"
	perf report -i "/tmp/$name.data" --no-children --sort sym --stdio 2>/dev/null |
		grep -v '^$' | grep -E '^ +[0-9.]+%' | sed -n 1,40p >"$S/$name.client.txt"
	# Inclusive shares (a function with all it calls): what a path costs in all.
	[ -z "${PROFILE_CHILDREN:-}" ] ||
		perf report -i "/tmp/$name.data" --children --sort sym -g none --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | sed -n 1,100p >"$S/$name.client-children.txt" || true
	perf report -i "/tmp/$name.data" --no-children --sort dso --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | sed -n 1,10p >"$S/$name.client-dso.txt"
	: >"$S/$name.client-callers.txt"
	for sym in ${PROFILE_CALLERS:-}; do
		perf report -i "/tmp/$name.data" --no-children --sort sym -S "$sym" -G --stdio 2>/dev/null |
			grep -v -e '^$' -e '^#' | sed -n 1,40p >>"$S/$name.client-callers.txt"
	done
	# Self time spent under the functions matching PROFILE_UNDER (a regex), by function.
	[ -z "${PROFILE_UNDER:-}" ] ||
		perf report -i "/tmp/$name.data" --no-children -p "$PROFILE_UNDER" --sort parent,sym -g none --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | grep -v '\[other\]' | sed -n 1,40p >"$S/$name.client-under.txt" || true
	wait_file "$S/$name.pool.txt"
	"$C" -j node show 1 >"$S/$name.node.json"
done
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
