# A pool node VM: lends memory with omx-node, tells the host (/mnt/shared/<vm>.daemon-up) and
# serves until a client writes /mnt/shared/done, then stops with SIGTERM. Args: size (128M).
S=/mnt/shared
"$OMX_ROOT/target/release/omx-node" --iface eth0 --size "${1:-128M}" &
pid=$!
sleep 1
touch "$S/$(hostname).daemon-up"
for _ in $(seq 3000); do [ -e "$S/done" ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
