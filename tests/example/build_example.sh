#!/usr/bin/env bash
# Installs this build into a temporary prefix and builds examples/selector-tags against the
# installed SDK alone, as a team outside this repository would.
#   build_example.sh <ctxmgr build dir> <example source dir> <work dir>
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build"
test -f "$work/build/selector-tags.so"
# Only the two entry points are exported from the plugin.
exported=$(nm -D --defined-only "$work/build/selector-tags.so" | awk '{print $3}' | grep ctxmgr_ | sort | tr '\n' ' ')
[[ "$exported" == "ctxmgr_plugin_abi_v1 ctxmgr_plugin_create_v1 " ]] || {
  echo "unexpected exports: $exported" >&2; exit 1; }
