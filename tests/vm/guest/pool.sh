# A pool node VM: lends memory with omx-node, tells the host (/mnt/shared/<vm>.daemon-up) and
# serves until a client writes /mnt/shared/done, then stops with SIGTERM. A client that
# writes /mnt/shared/kill-<vm> gets the daemon SIGKILLed (<vm>.killed answers). Args: size (128M).
S=/mnt/shared
vm=$(hostname)
"$OMX_ROOT/target/release/omx-node" --iface eth0 --size "${1:-128M}" &
pid=$!
sleep 1
touch "$S/$vm.daemon-up"
for _ in $(seq 6000); do [ -e "$S/done" ] || [ -e "$S/kill-$vm" ] && break; sleep 0.1; done
if [ -e "$S/kill-$vm" ]; then
	kill -KILL "$pid"
	wait "$pid" || true
	touch "$S/$vm.killed"
	for _ in $(seq 6000); do [ -e "$S/done" ] && break; sleep 0.1; done
	exit 0
fi
kill -TERM "$pid"
wait "$pid"
