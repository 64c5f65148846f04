# Pool side of the block tests (VM 2): serves $1 (default 256 MiB) until the client is done.
N=$OMX_ROOT/target/release/omx-node
S=/mnt/shared
"$N" --iface eth0 --size "${1:-256M}" 2>"$S/node.log" &
pid=$!
sleep 1
touch "$S/daemon-up"
for _ in $(seq 3000); do [ -e "$S/done" ] && break; sleep 0.2; done
kill -TERM "$pid"
wait "$pid" || true
