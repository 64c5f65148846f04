# A pool node VM whose omx-node keeps its memory in a file (--memory-file): pool.sh with
# POOL_MEMORY_FILE. Args: size (128M), memory file (/run/omx-pool.mem), then extra omx-node
# options.
POOL_MEMORY_FILE=${2:-/run/omx-pool.mem}
size=${1:-128M}
shift 2 || shift $#
set -- "$size" "$@"
. "$OMX_ROOT/tests/vm/guest/pool.sh"
