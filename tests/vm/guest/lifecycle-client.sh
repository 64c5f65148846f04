# Client side of the node lifecycle test (VM 1): registers the pool node on VM 2 and follows
# its state while the host-coordinated script kills and restarts the daemon there.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
# Prints the seconds it took until node 1 is in state $1 (gives up after 30 s).
time_to_state() {
	local start=$(date +%s.%N)
	for _ in $(seq 300); do
		if [ "$("$C" -j node show 1 | jq -r .state)" = "$1" ]; then
			echo "$(date +%s.%N) - $start" | bc
			return 0
		fi
		sleep 0.1
	done
	echo "node never became $1: $("$C" node show 1)"
	return 1
}

insmod "$OMX_ROOT/omx_mod.ko"
"$C" -j monitor >"$S/monitor.jsonl" &
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size 64M --io-timeout 3
time_to_state up >"$S/t-up"
"$C" -j node show 1 >"$S/node-up.json"
touch "$S/kill-vm2"
wait_file "$S/vm2.kill-done"
time_to_state dead >"$S/t-dead"
touch "$S/restart-vm2"
time_to_state up >"$S/t-up-again"
"$C" -j node show 1 >"$S/node-final.json"
"$C" node del 1
sleep 0.3
touch "$S/done"
rmmod omx_mod
