# Client side of the block test (VM 1): /dev/omx0 over the pool node on VM 2.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

one_node_device 256M 128M
"$C" dev show omx0
[ -b /dev/omx0 ] || { echo "no /dev/omx0"; exit 1; }
[ "$(blockdev --getsize64 /dev/omx0)" = $((128 << 20)) ]
[ "$(blockdev --getss /dev/omx0)" = 4096 ]

# A pattern through the page cache and back with O_DIRECT.
head -c $((8 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M seek=3 conv=fsync status=none
dd if=/dev/omx0 of=/tmp/back bs=1M skip=3 count=8 iflag=direct status=none
cmp /tmp/pattern /tmp/back
echo 3 >/proc/sys/vm/drop_caches
dd if=/dev/omx0 of=/tmp/back2 bs=1M skip=3 count=8 status=none
cmp /tmp/pattern /tmp/back2
touch "$S/dd.ok"

# Read-ahead: a reader that waits for each read (dd, as swap-in of a sequential scan) has the
# blocks after it fetched and its next reads answered from the device's buffer, with the
# data the node holds; a write after the fetch reads back, never the data fetched before it.
readahead() { "$C" -j dev show omx0 | jq -r ".stats.readahead_$1"; }
hits=$(readahead hits)
dd if=/dev/omx0 of=/tmp/back3 bs=32k skip=96 count=256 iflag=direct status=none
cmp /tmp/pattern /tmp/back3
hits=$(($(readahead hits) - hits))
echo "read-ahead: $hits of 256 reads of 32 KiB answered from the buffer"
# All but a few (the stream's first two, the first of the next swap cluster): a read of a
# block still on its way waits for it (sent instead, 236 were answered).
[ "$hits" -ge 250 ] || { echo "only $hits of 256 sequential reads answered by the read-ahead"; exit 1; }
# [4 MiB, 4.5 MiB) read (a new stream in the swap cluster [4 MiB, 6 MiB)): the blocks of
# [4.5 MiB, 5 MiB) are fetched; then written anew and read.
head -c $((512 << 10)) /dev/urandom >/tmp/fresh
fetches=$(readahead fetches)
dd if=/dev/omx0 of=/dev/null bs=32k skip=128 count=16 iflag=direct status=none
fetches=$(($(readahead fetches) - fetches))
# Blocks [4 MiB, 5 MiB): the window grows to 4 blocks ahead of the stream's reads.
[ "$fetches" -ge 8 ] || { echo "only $fetches blocks fetched from 4 MiB on, not up to 5 MiB"; exit 1; }
dd if=/tmp/fresh of=/dev/omx0 bs=512k seek=9 oflag=direct status=none
dd if=/dev/omx0 of=/tmp/back4 bs=32k skip=144 count=16 iflag=direct status=none
cmp /tmp/fresh /tmp/back4 || { echo "a read after a write returned the data read ahead before it"; exit 1; }
touch "$S/readahead.ok"

# The node must refuse deletion while a device uses it.
if "$C" node del 1; then echo "node del succeeded while omx0 uses it"; exit 1; fi

run_fio() { # name, extra args
	local name=$1; shift
	local start=$(date +%s.%N)
	LD_PRELOAD=$S/noshm.so fio --name="$name" --thread --filename=/dev/omx0 --direct=1 --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --verify_state_save=0 --output-format=json --output="$S/fio-$name.json" "$@"
	echo "fio $name: $(echo "$(date +%s.%N) - $start" | bc) s"
}
run_fio rand4k-qd1 --rw=randwrite --bs=4k --size=4M --ioengine=psync --iodepth=1
run_fio rand4k-qd32 --rw=randwrite --bs=4k --size=8M --offset=16M --ioengine=libaio --iodepth=32
run_fio rand64k-qd32 --rw=randwrite --bs=64k --size=16M --offset=32M --ioengine=libaio --iodepth=32
run_fio mix4k-qd32 --rw=randrw --rwmixread=50 --bs=4k --size=8M --offset=64M --ioengine=libaio --iodepth=32
run_fio mix64k-qd8 --rw=randrw --rwmixread=50 --bs=64k --size=16M --offset=96M --ioengine=libaio --iodepth=8
touch "$S/fio.ok"

# A discard gives the node's memory back (omx's release Intent, Documentation/protocol.md):
# its resident memory falls by at least the 60 MiB written above, less slack, and the
# discarded range reads back as zeros (omx-node's release, not a local shortcut).
pool_rss() { rm -f "$S/vm2.rss-done"; touch "$S/rss-vm2"; wait_file "$S/vm2.rss-done"; cat "$S/vm2.rss"; }
before=$(pool_rss)
blkdiscard /dev/omx0
after=$(pool_rss)
echo "omx-node's RSS: $before kB before the discard, $after kB after"
[ $((before - after)) -ge $((40 << 10)) ] || { echo "the discard gave back only $((before - after)) kB"; exit 1; }
dd if=/dev/omx0 bs=1M skip=3 count=8 iflag=direct status=none | cmp -n $((8 << 20)) - /dev/zero ||
	{ echo "the discarded pattern does not read back as zeros"; exit 1; }
touch "$S/discard.ok"

# rmmod is refused while the disk is open.
exec 3</dev/omx0
if rmmod omx_mod 2>/dev/null; then echo "rmmod succeeded while /dev/omx0 is open"; exit 1; fi
if "$C" dev del omx0; then echo "dev del succeeded while /dev/omx0 is open"; exit 1; fi
exec 3<&-
touch "$S/rmmod-refused.ok"

"$C" -j dev show omx0 >"$S/dev-final.json"
cat "$S/dev-final.json"

# dev del gives the device's memory back too (the module discards the whole device before
# removing it): 32 MiB written, then dev del: omx-node's RSS falls by most of it, and a device
# added again in the same place of the node reads zeros there, not the old data.
dd if=/dev/urandom of=/dev/omx0 bs=1M count=32 seek=8 oflag=direct status=none
before=$(pool_rss)
"$C" dev del omx0
[ ! -e /dev/omx0 ]
after=$(pool_rss)
echo "omx-node's RSS: $before kB before dev del, $after kB after"
[ $((before - after)) -ge $((24 << 10)) ] || { echo "dev del gave back only $((before - after)) kB"; exit 1; }
"$C" dev add omx0 --size 128M
dd if=/dev/omx0 bs=1M skip=8 count=32 iflag=direct status=none | cmp -n $((32 << 20)) - /dev/zero ||
	{ echo "a device added again after dev del reads the old data, not zeros"; exit 1; }
"$C" dev del omx0
touch "$S/dev-del-release.ok"
"$C" node del 1
rmmod omx_mod
