#!/usr/bin/env bash
# The test command of the README: installs what is missing, builds, starts a throwaway PostgreSQL
# and runs every test suite against SQLite and PostgreSQL; the PostgreSQL server is stopped
# whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${CTXMGR_TEST_PRESET:-debug}

scripts/install-deps.sh
# The MCP client tests use npm's @modelcontextprotocol/sdk, pinned by tests/mcp/package-lock.json.
npm ci --prefix tests/mcp --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix tests/openapi --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix tests/s3 --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix tests/console --no-audit --no-fund --loglevel=error >/dev/null
npm ci --prefix clients/typescript --no-audit --no-fund --loglevel=error >/dev/null
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"

eval "$(scripts/pg-temp.sh start)"
trap 'scripts/pg-temp.sh stop "$CTXMGR_TEST_PG_DIR"' EXIT
echo "PostgreSQL for the tests: $CTXMGR_TEST_PG_DSN"

ctest --preset "$preset" -j2 --timeout 600

# The Debian package: a release build for /usr, then lintian, systemd-analyze and the unpacked
# server (tests/package/check_deb.sh).
cmake --preset package >/dev/null
cmake --build --preset package
tests/package/check_deb.sh build/package
