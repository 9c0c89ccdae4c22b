#!/usr/bin/env bash
# The Debian package: builds it (CPack) from a tree configured with the `package` preset, checks
# it with lintian and its systemd unit with systemd-analyze, unpacks it into a scratch root and
# runs the unpacked server with the packaged config against a temporary data directory.
#   check_deb.sh <package build dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve_check.sh"
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$build" && rm -f ctxmgr_*.deb && cpack -G DEB >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$build"/ctxmgr_*_amd64.deb)
echo "package: $deb ($(stat -c %s "$deb") bytes)"

# lintian: any error or warning fails (the few deliberate exceptions are in the package's own
# lintian overrides, each with its reason); info and pedantic tags are shown.
lintian --fail-on error,warning --info --pedantic "$deb" 2>&1 | grep -v "running with root privileges" ||
  true
lintian --fail-on error,warning "$deb" >/dev/null 2>&1 || fail "lintian found errors or warnings"

root=$work/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$work/control"
for script in postinst postrm; do
  sh -n "$work/control/$script" || fail "$script is not valid sh"
done
grep -qx /etc/ctxmgr/ctxmgr.yaml "$work/control/conffiles" || fail "the config is not a conffile"

# The unit, checked where it will run: its commands rewritten to the unpacked binary, which is the
# only change (systemd-analyze checks that ExecStart's program exists). Any message fails.
unit=$root/lib/systemd/system/ctxmgr.service
mkdir -p "$work/unit"
sed "s|/usr/bin/ctxmgr|$root/usr/bin/ctxmgr|g" "$unit" >"$work/unit/ctxmgr.service"
verify=$(systemd-analyze verify "$work/unit/ctxmgr.service" 2>&1) || fail "systemd-analyze verify: $verify"
[[ -z $verify ]] || fail "systemd-analyze verify: $verify"
exposure=$(systemd-analyze security --offline=yes "$work/unit/ctxmgr.service" 2>&1 |
  sed -n 's/.*Overall exposure level for ctxmgr.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure $exposure (0 = fully fenced, 10 = not at all)"
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' || fail "exposure $exposure above 2.0"
grep -q '^u ctxmgr ' "$root/usr/lib/sysusers.d/ctxmgr.conf" || fail "no dedicated user"
grep -q '^User=ctxmgr$' "$unit" || fail "the unit does not run as ctxmgr"

# The unpacked server, with the packaged config. The scratch root is not /, so the loader is told
# where the package's library is (installed, it is in the system's search path).
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
export LD_LIBRARY_PATH=$root/usr/lib/$multiarch
serve_check "$root/usr/bin/ctxmgr" "$root/etc/ctxmgr/ctxmgr.yaml" "$work/data" \
  "$root/usr/lib/ctxmgr/plugins"
man -l "$root/usr/share/man/man1/ctxmgr.1.gz" 2>/dev/null | grep -q "backup" ||
  zcat "$root/usr/share/man/man1/ctxmgr.1.gz" | grep -q "backup" || fail "the manual page lacks the commands"
echo "package ok"
