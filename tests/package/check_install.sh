#!/usr/bin/env bash
# `cmake --install` lays the tree out as the FHS expects and the installed binary finds its
# config, plugins and schemas there without flags:
#   check_install.sh <ctxmgr build dir>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/serve_check.sh"
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/opt/ctxmgr
cmake --install "$build" --prefix "$prefix" >/dev/null

for f in bin/ctxmgr etc/ctxmgr/ctxmgr.yaml lib/ctxmgr/plugins/storage-sqlite.so \
         lib/ctxmgr/plugins/storage-postgres.so lib/ctxmgr/plugins/transport-http.so \
         lib/ctxmgr/plugins/transport-mcp.so share/ctxmgr/schemas/sqlite/00_base.sql \
         share/ctxmgr/schemas/postgres/00_base.sql include/ctxmgr/sdk/storage.hpp; do
  [[ -e $prefix/$f ]] || fail "missing $prefix/$f"
done
ls "$prefix"/lib*/libctxmgr-sdk.so.1 >/dev/null || fail "missing libctxmgr-sdk.so.1"
ls "$prefix"/lib*/cmake/ctxmgr-sdk/ctxmgr-sdkConfig.cmake >/dev/null || fail "missing the SDK's CMake package"
# No test plugin is installed.
[[ $(ls "$prefix/lib/ctxmgr/plugins" | grep -cv -E '^(storage|selector|provider|transport|embedder)-') == 0 ]] ||
  fail "unexpected files in the plugin folder: $(ls "$prefix/lib/ctxmgr/plugins")"

# From a folder without ./config and without flags: <prefix>/etc/ctxmgr/ctxmgr.yaml and
# <prefix>/lib/ctxmgr/plugins are found from the binary's own place.
mkdir -p "$work/elsewhere"
check=$(cd "$work/elsewhere" && env -u CTXMGR_CONFIG CTXMGR_DATA_DIR="$work/data" "$prefix/bin/ctxmgr" config check 2>&1) ||
  fail "config check failed: $check"
grep -q "$prefix/etc/ctxmgr/ctxmgr.yaml" <<<"$check" || fail "config check did not use the installed config: $check"
list=$(cd "$work/elsewhere" && "$prefix/bin/ctxmgr" plugins list)
grep -q "ok  *$prefix/lib/ctxmgr/plugins/storage-sqlite.so" <<<"$list" || fail "plugins list: $list"

serve_check "$prefix/bin/ctxmgr" "$prefix/etc/ctxmgr/ctxmgr.yaml" "$work/data" "$prefix/lib/ctxmgr/plugins"
echo "install layout ok: $prefix"
