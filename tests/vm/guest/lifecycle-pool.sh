# Pool side of the node lifecycle test (VM 2): serves memory with omx-node, is killed with
# SIGKILL, restarted, and stopped with SIGTERM at the end.
N=$OMX_ROOT/target/release/omx-node
S=/mnt/shared
. "$OMX_ROOT/tests/vm/guest/lib.sh"
"$N" --iface eth0 --size 128M 2>"$S/node-1.log" &
pid=$!
sleep 1
touch "$S/daemon-up"
wait_file "$S/kill-daemon"
kill -KILL "$pid"
wait "$pid" || true
touch "$S/daemon-killed"
wait_file "$S/restart-daemon"
"$N" --iface eth0 --size 128M 2>"$S/node-2.log" &
pid=$!
wait_file "$S/done"
kill -TERM "$pid"
wait "$pid"
