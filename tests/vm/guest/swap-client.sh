# Client side of the swap tests (VM 1, 256 MiB): swaps to /dev/omx0 on the pool nodes of
# VMs 2 (and 3). Args: working set in MiB, node size, device size, nodes (1 or 2), replicas
# (1 or 2), and "kill" to SIGKILL VM 3's daemon halfway through writing the working set
# (defaults: 512, 768M, 640M, 1, 1).
ws=${1:-512} node_size=${2:-768M} dev_size=${3:-640M} nodes=${4:-1} replicas=${5:-1} kill=${6:-}
# On the way out, swap off before telling the pool nodes to stop (done): a run that failed
# leaves swapped-out pages that this shell and init still need.
trap 'swapoff -a 2>/dev/null || true; touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

insmod "$OMX_ROOT/omx_mod.ko"
for i in $(seq "$nodes"); do
	wait_file "$S/vm$((i + 1)).daemon-up"
	"$C" node add eth0 "52:54:00:0a:aa:0$((i + 1))" --size "$node_size"
	wait_up "$i"
done
"$C" dev add omx0 --size "$dev_size" --replicas "$replicas"
mkswap /dev/omx0
swapon /dev/omx0
cat /proc/swaps
free -m
cp /proc/vmstat "$S/vmstat-before"
halfway=()
[ "$kill" = kill ] && halfway=("$S/kill-vm3")
# Kernel memory that frames and requests use, to see whether any of it builds up.
slabs() { echo "--- slabs $1"; grep -E '^(kmalloc-2k|kmalloc-4k|skbuff_head_cache|kmemleak_object) ' /proc/slabinfo | awk '{printf "%s %d objects (%d KiB)\n", $1, $2, $2 * $4 / 1024}'; }
slabs before
start=$(date +%s.%N)
progress_every 30 &
progress=$!
# The verifier's own status, not tee's: a wrong page (exit 1) or a signal (SIGBUS when a
# swap-in fails: 128 + 7) fails the test here, before swap.ok.
rc=0
swap_workload $((ws / 3)) python3 "$OMX_ROOT/tests/vm/guest/swap-check.py" "$ws" 7 "${halfway[@]}" |
	tee "$S/swap-result.txt" || rc=$?
if [ $rc != 0 ]; then
	echo "swap workload failed: exit status $rc$( [ $rc -gt 128 ] && echo " (signal $(kill -l $((rc - 128))))")"
	"$C" dev show omx0 || true
	exit 1
fi
kill $progress
echo "swap run: $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$S/swap-result.txt"
cp /proc/vmstat "$S/vmstat-after"
grep -E '^pswp(in|out) ' /proc/vmstat | tee -a "$S/swap-result.txt"
slabs after
free -m
"$C" dev show omx0 | tee -a "$S/swap-result.txt"
"$C" -j dev show omx0 >"$S/dev-after.json"
touch "$S/swap.ok"

# rmmod is refused while swapped on; swapoff brings the pages back.
if rmmod omx_mod 2>/dev/null; then echo "rmmod succeeded while swapped on"; exit 1; fi
swapoff /dev/omx0
"$C" dev del omx0
for i in $(seq "$nodes"); do "$C" node del "$i"; done
rmmod omx_mod
slabs "after rmmod"
