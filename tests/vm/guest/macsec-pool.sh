# Pool side of the MACsec test (VM 2): omx-node on macsec0 toward VM 1. Args as pool.sh.
. "$OMX_ROOT/tests/vm/guest/macsec-up.sh" 1
POOL_IFACE=macsec0
. "$OMX_ROOT/tests/vm/guest/pool.sh"
