# Pool side of the node-death test (VM 2): serves $1 (default 256 MiB), is killed with
# SIGKILL when the client asks (kill-daemon), restarted on restart-daemon, and stops when
# the client is done.
N=$OMX_ROOT/target/release/omx-node
S=/mnt/shared
"$N" --iface eth0 --size "${1:-256M}" 2>"$S/node.log" &
pid=$!
sleep 1
touch "$S/daemon-up"
for _ in $(seq 3000); do [ -e "$S/kill-daemon" ] || [ -e "$S/done" ] && break; sleep 0.1; done
kill -KILL "$pid"
wait "$pid" || true
date +%s.%N >"$S/daemon-killed"
for _ in $(seq 3000); do [ -e "$S/restart-daemon" ] || [ -e "$S/done" ] && break; sleep 0.1; done
[ -e "$S/done" ] && exit 0
"$N" --iface eth0 --size "${1:-256M}" 2>"$S/node-2.log" &
pid=$!
for _ in $(seq 3000); do [ -e "$S/done" ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid" || true
