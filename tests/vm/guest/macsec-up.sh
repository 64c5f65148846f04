# Sourced: puts macsec0 (IEEE 802.1AE, GCM-AES-128, encrypting, replay protection on with a
# window of 0) over eth0 toward VM $1, with static test keys (one per sending VM; a real set-up
# would use MKA, e.g. wpa_supplicant). macsec0 keeps eth0's MAC.
# Replay protection: OmniXtend's sequence numbers restart at 0 on every connection, so without
# it a frame recorded in an earlier connection (its OpenConnection, its PutFullData) is taken
# in order again; MACsec's packet numbers only grow while the key lives, and `replay on`
# drops every frame whose number is below the next one expected (InPktsLate). Window 0 costs
# omx nothing: its receiver takes only the next sequence number (go-back-N), so a frame
# overtaken by a later one is resent anyway, and a resent frame gets a new packet number.
# (66-macsec replays recorded frames and checks they are dropped.)
macsec_key() { printf '%032x' "$((0x0a0a0000 + $1))"; }
me=$(hostname | tr -dc 0-9) peer=$1
ip link add link eth0 macsec0 type macsec encrypt on replay on window 0
ip macsec add macsec0 tx sa 0 pn 1 on key 0"$me" "$(macsec_key "$me")"
ip macsec add macsec0 rx port 1 address "52:54:00:0a:aa:0$peer"
ip macsec add macsec0 rx port 1 address "52:54:00:0a:aa:0$peer" sa 0 pn 1 on key 0"$peer" "$(macsec_key "$peer")"
ip link set macsec0 up
ip -d link show macsec0
