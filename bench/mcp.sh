#!/usr/bin/env bash
# MCP tool-call throughput and latency: ctxmgr over stdio and Streamable HTTP beside the reference
# memory server (@modelcontextprotocol/server-memory, pinned in bench/mcp/package-lock.json), at
# 1 000 and 20 000 stored items, in one run (bench/mcp/mcp_bench.mjs). Prints a Markdown table.
#   bench/mcp.sh [sizes..., default 1000 20000]
# Run it on an otherwise idle machine, never while a build runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
bench_setup
npm ci --prefix bench/mcp --no-audit --no-fund >/dev/null
work=$(mktemp -d /tmp/ctxmgr-mcp-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# --no-warnings: the SDK client's HTTP transport adds an abort listener per request to one
# signal, and Node warns about it on every call past 1 500 (a client-side matter).
node --no-warnings bench/mcp/mcp_bench.mjs "$PWD/build/release/bin/ctxmgr" "$PWD/build/release/lib/ctxmgr/plugins" \
  "$work" "$@"
