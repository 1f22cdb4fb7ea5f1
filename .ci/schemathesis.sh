#!/usr/bin/env bash
# .ci/schemathesis.sh sqlite|postgres — property-based API tests: Schemathesis against walletd's
# own OpenAPI document (`GET /openapi.json`), on a fresh store.
#
# Builds release walletd (unless WALLETD_BIN names a binary), starts `walletd serve` on a fresh
# SQLite file or PostgreSQL database with an admin token, makes the demo client with
# `walletd demo --json`, and runs Schemathesis (pinned below, installed with pip into a venv under
# ~/.cache) with every request MAC-signed as walletd verifies it (.ci/schemathesis_hooks.py) and
# the admin routes given the admin token. Checks: no 5xx; response schemas, status codes, content
# types and headers as documented; authentication enforced; 405 with `Allow` for other methods; a
# created object can be read (docs/decisions.md, "The OpenAPI document", says which are left out
# and why).
# Exits non-zero on any failure. Only 127.0.0.1 traffic; what it creates is removed at the end,
# except the report: target/schemathesis/STORE/ (JUnit XML, walletd's log).
#
# Environment (defaults in brackets):
#   SCHEMATHESIS_MAX_EXAMPLES [100]  test cases per operation and phase
#   SCHEMATHESIS_WORKERS [2]        concurrent Schemathesis workers
#   SCHEMATHESIS_SEED [random]      Hypothesis seed (the run prints the one it used)
#   SCHEMATHESIS_TIMEOUT [900]      seconds before the run is stopped and counted as failed
#   SCHEMATHESIS_SCHEMA [http://127.0.0.1:PORT/openapi.json]  another document (file or URL)
#   SCHEMATHESIS_PORT [a free one]  walletd's port
#   SCHEMATHESIS_VENV [~/.cache/walletd-schemathesis/venv-VERSION]
#   BENCH_POSTGRES [postgres://postgres@127.0.0.1:5432]  server for postgres (trust auth), as bench/
#   WALLETD_BIN [target/release/walletd, built]
# Extra arguments after the store go to `st run` as they are (e.g. --include-path-regex '^/rest').
set -euo pipefail
. "$(dirname "$0")/../bench/lib.sh" # cd to the repository root; fresh databases, start/stop walletd
store=${1:-}
case "$store" in
sqlite | postgres) shift ;;
*)
    echo "usage: $0 sqlite|postgres [st run options…]" >&2
    exit 2
    ;;
esac

schemathesis_version=4.32.5
venv=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/walletd-schemathesis/venv-$schemathesis_version}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
workers=${SCHEMATHESIS_WORKERS:-2}
seed=${SCHEMATHESIS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
run_timeout=${SCHEMATHESIS_TIMEOUT:-900}
report=target/schemathesis/$store
# The checks (docs/decisions.md, "Operations", says why the others are left out), and the hooks'
# own mac_signature_accepted.
checks=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance
checks+=,response_headers_conformance,missing_required_header,ignored_auth,unsupported_method
checks+=,allow_header_conformance,ensure_resource_availability,mac_signature_accepted

# Schemathesis, pinned, in its own venv (made once, checked every run).
if [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version $schemathesis_version" ]; then
    echo "installing schemathesis==$schemathesis_version into $venv…" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$schemathesis_version"
fi
"$venv/bin/python" .ci/schemathesis_hooks.py --self-test

bench_tmp walletd-schemathesis # removed on exit, with the server and the database
if [ -n "${WALLETD_BIN:-}" ]; then
    bin=$tmp/bin # start_walletd runs $bin/walletd
    mkdir "$bin"
    ln -s "$(realpath "$WALLETD_BIN")" "$bin/walletd"
else
    bench_build walletd # sets $bin
fi
walletd=$bin/walletd
rm -rf "$report"
mkdir -p "$report"
port=${SCHEMATHESIS_PORT:-$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
if [ "$store" = sqlite ]; then
    db="sqlite://$tmp/walletd.db"
else
    fresh_postgres_database "walletd_schemathesis_$(date +%s)_$$"
fi

admin_token=$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(24))')
# The rate limit is lifted (lib.sh): one client makes every request, most of them invalid.
RUST_LOG=${RUST_LOG:-info} start_walletd "$db" "$report/walletd.log" --admin-token "$admin_token"

"$walletd" demo --json --database "$db" >"$tmp/demo.json"
read -r mac_id mac_secret < <("$venv/bin/python" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["client"]["mac_id"], d["client"]["mac_secret"])
' "$tmp/demo.json")
# Transactions in each state, payments and an active allowance, for path parameters to name.
"$venv/bin/python" .ci/schemathesis_hooks.py --fixtures "http://127.0.0.1:$port" "$tmp/demo.json" >"$tmp/fixtures.json"

schema=${SCHEMATHESIS_SCHEMA:-http://127.0.0.1:$port/openapi.json}
config=$report/schemathesis.toml
cat >"$config" <<EOF
# No automatic sign-up: the hooks authenticate every request.
[auth]
auto-signup = false

# Failures kept for \`st replay\` go to the report, not to .schemathesis/ in the work tree.
[cache]
directory = "$report/cache"
EOF

echo "schemathesis $schemathesis_version on $store: $schema, seed $seed, $max_examples examples per operation" >&2
status=0
started=$(date +%s)
WALLET_MAC_ID=$mac_id WALLET_MAC_SECRET=$mac_secret WALLETD_ADMIN_TOKEN=$admin_token \
    WALLETD_FIXTURES=$tmp/fixtures.json SCHEMATHESIS_HOOKS=.ci/schemathesis_hooks.py \
    HYPOTHESIS_STORAGE_DIRECTORY=$report/hypothesis \
    timeout --signal=INT --kill-after=30 "$run_timeout" \
    "$venv/bin/st" --config-file "$config" run "$schema" \
    --url "http://127.0.0.1:$port" \
    --checks "$checks" \
    --max-examples "$max_examples" \
    --workers "$workers" \
    --seed "$seed" \
    --generation-database none \
    --request-timeout 10 \
    --no-color \
    --report junit --report-junit-path "$report/junit.xml" \
    "$@" || status=$?
echo "schemathesis on $store: exit $status after $(($(date +%s) - started)) s (report: $report/)" >&2
if [ "$status" = 124 ] || [ "$status" = 130 ]; then
    echo "schemathesis did not finish within $run_timeout s" >&2
fi
# What walletd itself logged as errors (a 500's cause), each distinct one once, without backtraces.
"$venv/bin/python" - "$report/walletd.log" <<'EOF' >&2
import json, sys
seen = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        event = json.loads(line)
    except ValueError:
        if "panicked" in line:
            seen.setdefault(line.strip()[:300], 0)
        continue
    if event.get("level") == "ERROR":
        what = f'{event.get("message", "")}: {str(event.get("error", "")).splitlines()[0][:300]}'
        seen[what] = seen.get(what, 0) + 1
if seen:
    print("walletd logged errors:")
    for what, n in seen.items():
        print(f"  {n} x {what}")
EOF
exit "$status"
