# Pool side of the link test (VMs 2 and 3): omx-node until the client is done.
S=/mnt/shared
"$OMX_ROOT/target/release/omx-node" --iface eth0 --size 128M &
pid=$!
sleep 1
touch "$S/$(hostname).daemon-up"
for _ in $(seq 1800); do [ -e "$S/done" ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
