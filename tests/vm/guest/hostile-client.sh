# Client side of the hostile-frames test (VM 1): /dev/omx0 on the pool node of VM 2, written
# and verified by fio in rounds until the host's frame fuzzer is done; module counters
# before and after; a pattern written before the storm must read back intact after it.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

one_node_device 128M 96M
head -c $((8 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M seek=80 oflag=direct status=none
"$C" -j stats >"$S/mod-stats-before.json"
"$C" -j node show 1 >"$S/node-before.json"
# Live counters for the fuzzer's pacing (it slows down when we count fewer than it sent).
(
	while [ ! -e "$S/fuzz-done" ]; do
		"$C" -j stats >"$S/mod-live.tmp" && mv "$S/mod-live.tmp" "$S/mod-live.json"
		sleep 1
	done
) &
touch "$S/fuzz-go"

# Verified writes (crc32c on every block, read back at the end of each round) in 16 MiB
# rounds over the first 64 MiB, at least one round, until the host has sent every frame.
round=0
while :; do
	round=$((round + 1))
	LD_PRELOAD=$S/noshm.so fio --name="round$round" --thread --filename=/dev/omx0 --direct=1 \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --verify_state_save=0 --rw=randwrite \
		--bs=4k-64k --size=16M --offset=$(((round % 4) * 16))M --ioengine=libaio --iodepth=16 \
		--output-format=json --output="$S/fio-$round.json" ||
		{ echo "fio round $round failed"; exit 1; }
	[ -e "$S/fuzz-done" ] && break
done
echo "$round" >"$S/fio-rounds"
"$C" -j stats >"$S/mod-stats-after.json"
"$C" -j node show 1 >"$S/node-after.json"
dd if=/dev/omx0 of=/tmp/back bs=1M skip=80 count=8 iflag=direct status=none
cmp /tmp/pattern /tmp/back
touch "$S/pattern.ok"
"$C" -j dev show omx0 >"$S/dev-final.json"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
