#!/usr/bin/env bash
# The systemd units omx ships (Documentation/omx-node.service, omx-node@.service,
# omx-client.service) pass
# `systemd-analyze verify` without a complaint: a misspelt key or value is only a warning to
# systemd, which then ignores the line, so any output fails here. ExecStart points at the
# built omx-node and omxctl (verify wants the binaries to exist), the template is verified as
# an instance.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v systemd-analyze >/dev/null || { echo "scripts/checks/units.sh:1: systemd-analyze not found (package systemd)"; exit 1; }
bin=$PWD/target/release
for b in omx-node omxctl; do
	[ -x "$bin/$b" ] || { echo "scripts/checks/units.sh:1: $bin/$b not built (make userspace)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 bad=0
for unit in Documentation/omx-node.service Documentation/omx-node@.service Documentation/omx-client.service; do
	[ -f "$unit" ] || { echo "$unit:1: missing"; bad=1; continue; }
	name=$(basename "$unit")
	[ "$name" = omx-node@.service ] && name=omx-node@eth1.service
	sed "s|/usr/local/bin/omx|$bin/omx|" "$unit" >"$tmp/$name"
	out=$(cd "$tmp" && systemd-analyze verify "./$name" 2>&1 || true)
	if [ -n "$out" ]; then
		echo "$out" | sed "s|$tmp/$name|$unit|"
		bad=1
	fi
	n=$((n + 1))
done
[ "$n" = 3 ] || { echo "scripts/checks/units.sh:1: verified $n units, expected 3"; exit 1; }
exit $bad
