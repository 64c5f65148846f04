# Client side of the client-stall test (VM 1): fio writes and verifies /dev/omx0 until the
# host has frozen this VM three times. A reader keeps requests in flight between fio's phases
# and passes, so every freeze leaves the node with answers to retransmit (an idle connection
# at the freeze would give the node nothing to time out).
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

one_node_device 128M 64M
LD_PRELOAD=$S/noshm.so fio --name=reader --thread --filename=/dev/omx0 --direct=1 --rw=randread \
	--bs=4k --ioengine=libaio --iodepth=4 --time_based --runtime=3600 >/dev/null &
reader=$!
# The node's counters every 0.5 s, for the host to see what each freeze did. A rename can
# fail when the host removes the old file at that moment (9p: "No such file or directory");
# the next round writes it again, rather than the loop ending and the host waiting in vain.
(
	while [ ! -e "$S/thawed" ]; do
		{ "$C" -j node show 1 >"$S/node-live.tmp" && mv "$S/node-live.tmp" "$S/node-live.json"; } || true
		sleep 0.5
	done
) &
touch "$S/freeze-me"
pass=0
while [ ! -e "$S/thawed" ] || [ $pass -lt 2 ]; do
	pass=$((pass + 1))
	LD_PRELOAD=$S/noshm.so fio --name=stall$pass --thread --filename=/dev/omx0 --direct=1 --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --verify_state_save=0 --rw=randwrite --bs=64k --size=32M \
		--offset=$(((pass % 2) * 32))M --ioengine=libaio --iodepth=16 --randseed=$pass \
		--output="$S/fio-$pass.txt" >/dev/null || { echo "fio pass $pass failed"; cat "$S/fio-$pass.txt"; exit 1; }
	echo "fio pass $pass verified"
done
kill $reader
wait $reader || true
touch "$S/fio.ok"
"$C" -j dev show omx0 >"$S/dev-final.json"
"$C" -j node show 1 >"$S/node-final.json"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
