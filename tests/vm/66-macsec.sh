#!/usr/bin/env bash
# Authenticated links: omx unchanged over kernel MACsec (802.1AE, GCM-AES-128 with encryption,
# replay protection on, window 0): omx_mod on VM 1's macsec0, omx-node on VM 2's macsec0,
# lending its memory only to VM 1's MAC (--client). Asserted:
# - a pattern and fio with crc32c verification pass; on the wire every frame VM 1 sends is
#   MACsec (EtherType 0x88E5), none plain OmniXtend;
# - 500 well-formed OmniXtend frames spoofed from the host in VM 2's name never reach the
#   node's connection (MACsec only delivers what it authenticated): the module counts them as
#   from an unknown peer, and the data is intact;
# - replay: with the client away (node del after connection 1), the first frames VM 1 sent in
#   connection 1 (its OpenConnection, its first PutFullData) are sent again, byte for byte, to
#   VM 2: its macsec0 counts every one as late (InPktsLate), omx-node receives none of them;
# - forged Open: a stranger on the segment (the host) runs omx-node-probe with VM 1's MAC to
#   open a connection and read the client's region in plain OmniXtend: it gets no answer,
#   VM 2's macsec0 counts its frames as untagged (InPktsNoTag), omx-node receives none;
# - the client reconnects and reads its region as connection 1 left it: all zeros, since
#   dev del released it (a replayed PutFullData would have put the pattern's bytes back).
. "$(dirname "$0")/lib.sh"
# Frames of connection 1 replayed: its OpenConnection and the pattern's first PutFullData, all
# inside the first MiB, zeros since dev del (with replay protection off, omx-node took 385
# PutFullData of the 400: Documentation/reliability-hostile.md).
REPLAY=${OMX_MACSEC_REPLAY_FRAMES:-400}

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/macsec-client.sh"
# Everything VM 1 sends and receives (tap1 carries no frame the host sends to VM 2); vm_wait
# ends the capture.
tcpdump -i tap1 -U -w "$OMX_TEST_DIR/vm1.pcap" >/dev/null 2>&1 &
CAPTURE_PID=$!
vm_start 2 "$OMX_ROOT/tests/vm/guest/macsec-pool.sh" "128M"
wait_for_files "$SHARED/spoof-now"
python3 "$OMX_ROOT/tests/tools/send-frames.py" br0 vc0 500 52:54:00:0a:aa:02 52:54:00:0a:aa:01
touch "$SHARED/spoof-done"

# VM 2's counters now (the client is away: nothing else reaches omx-node).
snap() { touch "$SHARED/snap-vm2-$1"; wait_for_files "$SHARED/vm2.snap-$1-done"; }
wait_for_files "$SHARED/away"
snap away
# Replay: the first $REPLAY MACsec frames VM 1 sent VM 2, as recorded, paced so that no tap
# queue drops any.
replayed=$(python3 - "$OMX_TEST_DIR/vm1.pcap" "$REPLAY" "$(vm_mac 1)" "$(vm_mac 2)" <<'PY'
import socket, struct, sys, time
path, want = sys.argv[1], int(sys.argv[2])
src, dst = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[3:5])
frames = []
with open(path, "rb") as f:
    assert struct.unpack("<I", f.read(24)[:4])[0] == 0xA1B2C3D4, "not a little-endian pcap"
    while len(frames) < want:
        rec = f.read(16)
        if len(rec) < 16:
            break
        _, _, incl, orig = struct.unpack("<IIII", rec)
        frame = f.read(incl)
        if len(frame) == incl == orig and frame[:6] == dst and frame[6:12] == src and frame[12:14] == b"\x88\xe5":
            frames.append(frame)
sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sock.bind(("br0", 0))
for i, frame in enumerate(frames):
    sock.send(frame)
    if i % 50 == 49:
        time.sleep(0.05)
print(len(frames))
PY
)
echo "replayed $replayed MACsec frames of connection 1 to VM 2"
snap replayed
# Forged Open: plain OmniXtend in VM 1's name; the bridge passes every frame up to br0
# (promiscuous), so the stranger would hear the node's answers.
ip link set br0 promisc on
tcpdump -i tap2 -U -w "$OMX_TEST_DIR/forged.pcap" "ether proto 0xaaaa and ether src $(vm_mac 1)" >/dev/null 2>&1 &
forged_capture=$!
sleep 0.5
probe_rc=0
"$OMX_ROOT/target/release/omx-node-probe" --iface br0 --node "$(vm_mac 2)" --src-mac "$(vm_mac 1)" \
	--timeout 2 read 0 64 >"$OMX_TEST_DIR/probe.out" 2>&1 || probe_rc=$?
sleep 0.5
kill "$forged_capture"
wait "$forged_capture" || true
snap forged
echo "the stranger's omx-node-probe (exit $probe_rc): $(tr '\n' ' ' <"$OMX_TEST_DIR/probe.out" | cut -c1-300)"
touch "$SHARED/back"
vm_wait

[ -e "$SHARED/macsec.ok" ] || fail "the MACsec client did not finish"
jq -r '.jobs[] | "over MACsec: read \(.read.iops | floor) IOPS, write \(.write.iops | floor) IOPS, errors \(.error)"' "$SHARED/fio-macsec.json"
jq -e '.ifname == "macsec0" and .mtu < 1500' "$SHARED/node-up.json" >/dev/null || fail "node not on macsec0: $(cat "$SHARED/node-up.json")"
before=$(jq .module.rx_unknown_peer "$SHARED/stats-before.json") after=$(jq .module.rx_unknown_peer "$SHARED/stats-after.json")
echo "spoofed frames counted as from an unknown peer: $((after - before)) of 500"
# Every frame is dispatched once: 500 counted at the door is all of them, so none reached the
# node's connection. (The node's own `malformed` is no witness: it also counts late answers to
# a connection lost and reopened, which a slow debug guest sees.)
[ $((after - before)) -eq 500 ] || fail "spoofed frames were not all refused at the door: $before -> $after"
mb=$(jq .module.rx_malformed "$SHARED/stats-before.json") ma=$(jq .module.rx_malformed "$SHARED/stats-after.json")
[ "$mb" = "$ma" ] || fail "frames arrived malformed over MACsec ($mb -> $ma)"
# count_frames PCAP [FILTER]: frames in PCAP (tcpdump adds hex lines for unknown EtherTypes:
# count the lines that start with a time stamp).
count_frames() { tcpdump -r "$1" -tt ${2:+"$2"} 2>/dev/null | grep -c '^[0-9]' || true; }
plain=$(count_frames "$OMX_TEST_DIR/vm1.pcap" "ether proto 0xaaaa and ether src $(vm_mac 1)")
secured=$(tcpdump -r "$OMX_TEST_DIR/vm1.pcap" "ether proto 0x88e5 and ether src $(vm_mac 1)" 2>/dev/null | grep -c ' 802.1AE MACsec' || true)
echo "on the wire: $secured MACsec frames, $plain plain OmniXtend frames from VM 1"
[ "$plain" = 0 ] && [ "$secured" -gt 1000 ] || fail "traffic not protected by MACsec"

# macsec_stat FILE NAME: counter NAME of `ip -s macsec show` (the first table that has it).
macsec_stat() {
	local v
	v=$(awk -v k="$2" 'want { print $col; exit } $1 == "stats:" { for (i = 2; i <= NF; i++) if ($i == k) { col = i - 1; want = 1 } }' "$1")
	[[ $v =~ ^[0-9]+$ ]] || fail "no counter $2 in $1"
	echo "$v"
}
node_delta() { echo $(($(jq "$3" "$SHARED/vm2-$2.node.json") - $(jq "$3" "$SHARED/vm2-$1.node.json"))); }
late=$(($(macsec_stat "$SHARED/vm2-replayed.macsec" InPktsLate) - $(macsec_stat "$SHARED/vm2-away.macsec" InPktsLate)))
replay_rx=$(node_delta away replayed .frames_rx) replay_opened=$(node_delta away replayed .connections_opened)
replay_put=$(node_delta away replayed .requests.put_full)
echo "replay: VM 2's macsec0 counted $late late; omx-node received $replay_rx frames, opened $replay_opened connections, took $replay_put PutFullData"
forged=$(count_frames "$OMX_TEST_DIR/forged.pcap")
notag=$(($(macsec_stat "$SHARED/vm2-forged.macsec" InPktsNoTag) - $(macsec_stat "$SHARED/vm2-replayed.macsec" InPktsNoTag)))
forged_rx=$(node_delta replayed forged .frames_rx) forged_opened=$(node_delta replayed forged .connections_opened)
echo "forged Open: $forged plain OmniXtend frames in VM 1's name reached VM 2; its macsec0 counted $notag untagged; omx-node received $forged_rx frames, opened $forged_opened connections"
echo "late frames in live traffic (window 0): VM 1 $(macsec_stat "$SHARED/vm1-end.macsec" InPktsLate), VM 2 $(($(macsec_stat "$SHARED/vm2-forged.macsec" InPktsLate) - late)) (connection 1)"

[ "$replayed" -gt 100 ] || fail "only $replayed frames of connection 1 found to replay"
[ "$late" -ge "$replayed" ] || fail "VM 2's macsec0 counted $late of $replayed replayed frames as late: replay protection off?"
[ "$replay_rx" = 0 ] && [ "$replay_opened" = 0 ] || fail "replayed frames reached omx-node ($replay_rx frames, $replay_opened connections opened)"
[ "$probe_rc" != 0 ] || fail "a stranger with the client's MAC read its region: $(cat "$OMX_TEST_DIR/probe.out")"
[ "$forged" -ge 1 ] && [ "$notag" -ge "$forged" ] || fail "the forged frames were not refused by VM 2's macsec0 ($forged sent, $notag untagged)"
[ "$forged_rx" = 0 ] && [ "$forged_opened" = 0 ] || fail "the forged Open reached omx-node ($forged_rx frames, $forged_opened connections opened)"
[ -e "$SHARED/reconnect-data.ok" ] || fail "after the replay and the forged Open, the client's region does not read as dev del left it (zeros)"
rm -f "$OMX_TEST_DIR/vm1.pcap" "$OMX_TEST_DIR/forged.pcap"
