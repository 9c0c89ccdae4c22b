#!/usr/bin/env bash
# The run command of the README: installs what is missing, builds a release and serves on the
# embedded default (SQLite, HTTP on 127.0.0.1:5000). Extra arguments go to `ctxmgr serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
exec build/release/bin/ctxmgr --config config/ctxmgr.yaml serve "$@"
