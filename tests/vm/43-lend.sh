#!/usr/bin/env bash
# The in-kernel pool node: VM 2 loads omx_mod and lends 256 MiB to VM 1 (`omxctl lend add`),
# no omx-node running; VM 1 creates /dev/omx0 (128 MiB) on it and checks the data: a dd
# pattern read back with O_DIRECT, fio with crc32c verification (random 4k and 64k writes
# at iodepth 32, a 1 MiB sequential pass), a discard that must read back as zeros, and data
# written before the link goes down (the node dies and reconnects) read back after; once VM 2
# removed the lending and made it again (another contents identity), a read fails instead of
# returning the new lending's zeros. VM 2 refuses a second lending to the same client, one to
# its own address, a node at the client's MAC and a lending to a node's MAC, reports the
# requests it served (`omxctl -j lend show`), removes the lending and unloads the module.
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"

segment_up 9000
vm_start 1 "$OMX_ROOT/tests/vm/guest/lend-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/lend-pool.sh"
vm_wait

for f in dd.ok fio.ok discard.ok reconnect.ok relend.ok lend-refusals.ok lend-del.ok; do
	[ -e "$SHARED/$f" ] || fail "missing $f"
done
for j in "$SHARED"/fio-*.json; do
	jq -r '.jobs[] | "\(.jobname): read \(.read.bw) KiB/s, write \(.write.bw) KiB/s, errors \(.error)"' "$j"
done
cat "$SHARED/lend.json"
# The pool served this client's requests from the kernel, over two connections (the second
# after the link went down), none refused.
jq -e '.[0] as $l | ($l | .state == "open" and .client_mac == "52:54:00:0a:aa:01")
	and ($l.stats | .gets > 0 and .puts > 0 and .data_read > 0 and .data_written > 0
		and .denied == 0 and .malformed == 0 and .connections == 2)' "$SHARED/lend.json" >/dev/null ||
	fail "unexpected lending: $(cat "$SHARED/lend.json")"
jq -e '.stats.errors == 0 and .stats.reads > 0 and .stats.writes > 0' "$SHARED/dev-final.json" >/dev/null ||
	fail "unexpected device stats: $(cat "$SHARED/dev-final.json")"
