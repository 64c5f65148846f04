#!/usr/bin/env bash
# Benchmark omx-node on the host: node and client in two network namespaces
# joined by a veth pair (nothing touches the host's own interfaces).
# Prints 4 KiB read and write rates and p50/p99 latency at queue depth 1
# and 32, for MTU 1500 and 9000.
#
# usage: omx_node/bench/bench-node.sh [--secs N] [--batch N] [--json] [--no-build]
# needs: root, ip netns; builds the release binaries unless --no-build.
set -euo pipefail

secs=3
batch=64
json=""
build=1
mtus="1500 9000"
qds="1,32"
while [ $# -gt 0 ]; do
    case "$1" in
        --secs) secs="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --mtu) mtus="$2"; shift 2 ;;
        --qd) qds="$2"; shift 2 ;;
        --json) json="--json"; shift ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" = 0 ] || { echo "bench-node.sh: needs root (network namespaces, raw sockets)" >&2; exit 1; }
here="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "$build" = 1 ]; then
    (cd "$here" && cargo build --release -q -p omx_node)
fi
bin="${CARGO_TARGET_DIR:-$here/target}/release"

tag="omxb-$$"
ns_n="$tag-n"
ns_c="$tag-c"
node_pid=""
cleanup() {
    [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
    ip netns del "$ns_n" 2>/dev/null || true
    ip netns del "$ns_c" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$ns_n"
ip netns add "$ns_c"
ip link add "$tag-a" netns "$ns_n" type veth peer name "$tag-b" netns "$ns_c"
ip -n "$ns_n" link set "$tag-a" address 02:00:00:00:00:01 up
ip -n "$ns_c" link set "$tag-b" address 02:00:00:00:00:02 up

echo "omx-node bench: veth between two namespaces, $(nproc) CPUs, ${secs}s per run, batch $batch"
for mtu in $mtus; do
    ip -n "$ns_n" link set "$tag-a" mtu "$mtu"
    ip -n "$ns_c" link set "$tag-b" mtu "$mtu"
    ip netns exec "$ns_n" "$bin/omx-node" --iface "$tag-a" --size 256M --first-come --batch "$batch" \
        --log-level warn &
    node_pid=$!
    sleep 0.3
    echo "== MTU $mtu"
    ip netns exec "$ns_c" "$bin/omx-node-probe" -i "$tag-b" -n 02:00:00:00:00:01 \
        bench --block 4K --qd "$qds" --secs "$secs" --span 64M $json
    kill "$node_pid"; wait "$node_pid" 2>/dev/null || true
    node_pid=""
done
