# A pool node VM (see pool.sh) on a jumbo-frame segment: 9000-byte MTU, so pages travel in
# 8 KiB messages (two pages each). Args: size.
ip link set eth0 mtu 9000
. "$OMX_ROOT/tests/vm/guest/pool.sh"
