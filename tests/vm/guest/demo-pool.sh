# Pool VM of the demo: lends 128 MiB with omx-node until the client is done.
S=/mnt/shared
"$OMX_ROOT/target/release/omx-node" --iface eth0 --size 128M &
pid=$!
sleep 1
touch "$S/daemon-up"
for _ in $(seq 1200); do [ -e "$S/done" ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
