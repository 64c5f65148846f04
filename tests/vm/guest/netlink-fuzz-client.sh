# Guest side of the netlink fuzz test (VM 1): a node (the pool on VM 2) and /dev/omx0, then
# tests/tools/genl-fuzz.py as root and as nobody against the omx family while an event
# monitor listens; afterwards the node, the device and its data must still be fine.
# Args: seed, messages as root, messages as nobody.
seed=${1:-1} root_msgs=${2:-12000} nobody_msgs=${3:-6000}
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
# A copy nobody can read wherever the tree lives (the debug runs' copy is under /root).
F=/tmp/genl-fuzz.py
cp "$OMX_ROOT/tests/tools/genl-fuzz.py" $F
chmod 644 $F

one_node_device 64M 32M
head -c $((4 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
"$C" -j monitor >"$S/monitor.jsonl" &
monitor=$!
# Held open, so the fuzzer's dev-del requests for omx0 (and node-del of its node) are refused.
exec 3</dev/omx0

start=$(date +%s.%N)
python3 "$F" --seed "$seed" --messages "$root_msgs" --keep-node 1 --keep-dev omx0 >"$S/genl-root.json"
mid=$(date +%s.%N)
setpriv --reuid=65534 --regid=65534 --clear-groups \
	python3 "$F" --seed "$((seed + 1))" --messages "$nobody_msgs" --unprivileged >"$S/genl-nobody.json"
echo "netlink fuzzing: root $(echo "$mid - $start" | bc) s, nobody $(echo "$(date +%s.%N) - $mid" | bc) s"

exec 3<&-
kill "$monitor"
# Everything still works: the node and the device answer, the data is intact and new data
# goes through; only what we created is left.
"$C" -j node show 1 >"$S/node-after.json"
"$C" -j dev show omx0 >"$S/dev-after.json"
"$C" -j show >"$S/show-after.json"
"$C" -j stats >"$S/stats-after.json"
dd if=/dev/omx0 of=/tmp/back bs=1M count=4 iflag=direct status=none
cmp /tmp/pattern /tmp/back
head -c $((4 << 20)) /dev/urandom >/tmp/pattern2
dd if=/tmp/pattern2 of=/dev/omx0 bs=1M seek=8 oflag=direct status=none
dd if=/dev/omx0 of=/tmp/back2 bs=1M skip=8 count=4 iflag=direct status=none
cmp /tmp/pattern2 /tmp/back2
touch "$S/data.ok"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
