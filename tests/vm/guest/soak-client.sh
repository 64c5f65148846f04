# Client side of the soak (VM 1): a mirrored /dev/omx0 over the pool nodes of VMs 2 and 3,
# swapped on, and swap-soak.py for the given time. Args: working set MiB, seconds, node size,
# device size.
ws=${1:-768} seconds=${2:-1800} node_size=${3:-1100M} dev_size=${4:-1024M}
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. "$OMX_ROOT/tests/vm/guest/netem-watch.sh"
netem_watch &

insmod "$OMX_ROOT/omx_mod.ko"
for i in 1 2; do
	wait_file "$S/vm$((i + 1)).daemon-up"
	"$C" node add eth0 "52:54:00:0a:aa:0$((i + 1))" --size "$node_size"
	wait_up "$i"
done
"$C" dev add omx0 --size "$dev_size" --replicas 2
mkswap /dev/omx0 >/dev/null
swapon /dev/omx0
touch "$S/soak-running"
rc=0
set -o pipefail # the workload's status, not tee's
# In a memory cgroup of three quarters of the RAM, as a deployment runs its workloads (the
# admin guide): with global pressure and netem queueing frames on top, the receive ring's
# atomic refills failed for seconds and both nodes were lost at once.
ram_mib=$(($(awk '/^MemTotal:/ {print $2}' /proc/meminfo) >> 10))
in_memory_cgroup $((ram_mib * 3 / 4)) python3 "$OMX_ROOT/tests/vm/guest/swap-soak.py" "$ws" "$seconds" |
	tee "$S/soak.txt" || rc=$?
grep -E '^pswp(in|out) ' /proc/vmstat | tee "$S/vmstat.txt"
"$C" -j dev show omx0 >"$S/dev.json"
for i in 1 2; do "$C" -j node show "$i" >"$S/node$i.json" || true; done
swapoff /dev/omx0
"$C" dev del omx0
for i in 1 2; do "$C" node del "$i"; done
rmmod omx_mod
exit $rc
