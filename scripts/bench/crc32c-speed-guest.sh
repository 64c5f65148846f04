#!/bin/bash
# Guest side of crc32c-speed.sh.
"$OMX_ROOT/target/release/examples/crc32c-speed" 2 >/mnt/shared/crc32c-speed.txt
