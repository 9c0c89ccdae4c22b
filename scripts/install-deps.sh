#!/usr/bin/env bash
# Installs what Context Manager needs to build, run and test, from Debian 12's packages only.
# Installs nothing that is already there; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsoci-dev libsqlite3-dev libpq-dev sqlite3
  libyaml-cpp-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev
  libcurl4-openssl-dev libssl-dev
  postgresql curl
  pgbouncer         # the listener behind a transaction-mode pooler (tests/e2e/pooler_e2e_test.cpp)
  libstemmer-dev libunistring-dev zlib1g-dev
  libhnswlib-dev    # the HNSW graph of the vector index (header-only)
  dict-freedict-spa-eng dict-freedict-eng-spa
  lttoolbox-dev apertium-eng-spa   # Apertium's Spanish-English dictionary, read with lttoolbox
  mythes-es mythes-en-us   # thesauri for synonyms (off by default; the relevance test loads them)
  python3-botocore  # the S3 tests recompute SigV4 signatures with AWS's own code
  chromium          # the console's browser tests (tests/console, driven by npm's playwright-core)
  python3-httpx     # the Python client's AsyncClient (clients/python), tested with it
  python3-venv python3-pip python3-wheel  # clients/python is pip-installed into a venv by its test
  help2man lintian  # the Debian package's manual page, and its check
  clang             # the libFuzzer targets (scripts/fuzz.sh)
)
# The benches' load tools, and the Python peer of bench/production.sh (Flask, psycopg2, gunicorn).
if [[ "${1:-}" == "--with-bench" ]]; then
  packages+=(wrk hyperfine time gnuplot-nox python3-flask python3-psycopg2 gunicorn)
fi

# Node.js and npm run the MCP tests with the official client; any Node >= 18 will do, so an
# existing one (not necessarily Debian's) is kept.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
