#!/usr/bin/env bash
# A pool node's life seen from the client: `omxctl node add` against omx-node on another VM
# brings the node up; SIGKILL of the daemon makes it "connecting" once the connection is lost
# (keepalive 0.5 s + 11 retransmit timeouts of 200 ms) and dead once its I/O timeout (3 s here)
# has passed too; a restarted daemon brings it back up with no command; `omxctl monitor`
# reports each change.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/lifecycle-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
vm_wait

for f in t-up t-dead t-up-again; do
	[ -s "$SHARED/$f" ] || fail "missing $f"
	echo "$f: $(cat "$SHARED/$f") s"
done
jq -e '.io_timeout_ms == 3000' "$SHARED/node-up.json" >/dev/null || fail "node show does not report --io-timeout 3"
# The bound is 2.7 s + 3 s plus timer slack; allow for slow emulation, but not for a hang.
awk '{ exit !($1 < 15) }' "$SHARED/t-dead" || fail "dead node detected only after $(cat "$SHARED/t-dead") s"
states=$(jq -r 'select(.event == "node-state") | .node.state' "$SHARED/monitor.jsonl" | tr '\n' ' ')
echo "events: $states"
[[ $states == *"up connecting dead up"* ]] || fail "monitor did not report up, connecting, dead, up: $states"
jq -e '.stats.reconnects >= 1' "$SHARED/node-final.json" >/dev/null || fail "no reconnect counted"
