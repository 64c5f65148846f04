# Client side of the swap test (VM 1, 256 MiB): swaps to /dev/omx0 on the pool node.
# Args: working set in MiB, node size, device size (defaults: 512, 768M, 640M).
ws=${1:-512} node_size=${2:-768M} dev_size=${3:-640M}
C=$OMX_ROOT/target/release/omxctl
S=/mnt/shared
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size "$node_size"
wait_up
"$C" dev add omx0 --size "$dev_size"
mkswap /dev/omx0
swapon /dev/omx0
cat /proc/swaps
free -m
cp /proc/vmstat "$S/vmstat-before"
start=$(date +%s.%N)
python3 "$OMX_ROOT/tests/vm/guest/swap-check.py" "$ws" 7 | tee "$S/swap-result.txt"
echo "swap run: $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$S/swap-result.txt"
cp /proc/vmstat "$S/vmstat-after"
grep -E '^pswp(in|out) ' /proc/vmstat | tee -a "$S/swap-result.txt"
free -m
"$C" dev show omx0 | tee -a "$S/swap-result.txt"
touch "$S/swap.ok"

# rmmod is refused while swapped on; swapoff brings the pages back.
if rmmod omx_mod 2>/dev/null; then echo "rmmod succeeded while swapped on"; exit 1; fi
swapoff /dev/omx0
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
