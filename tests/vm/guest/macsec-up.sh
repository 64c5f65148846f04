# Sourced: puts macsec0 (IEEE 802.1AE, GCM-AES-128, encrypting) over eth0 toward VM $1, with
# static test keys (one per sending VM; a real set-up would use MKA, e.g. wpa_supplicant).
macsec_key() { printf '%032x' "$((0x0a0a0000 + $1))"; }
me=$(hostname | tr -dc 0-9) peer=$1
ip link add link eth0 macsec0 type macsec encrypt on
ip macsec add macsec0 tx sa 0 pn 1 on key 0"$me" "$(macsec_key "$me")"
ip macsec add macsec0 rx port 1 address "52:54:00:0a:aa:0$peer"
ip macsec add macsec0 rx port 1 address "52:54:00:0a:aa:0$peer" sa 0 pn 1 on key 0"$peer" "$(macsec_key "$peer")"
ip link set macsec0 up
ip -d link show macsec0
