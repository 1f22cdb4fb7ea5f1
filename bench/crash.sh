#!/usr/bin/env bash
# bench/crash.sh sqlite|postgres — no acknowledged request is lost when walletd is killed (-9)
# under load (bench/README.md).
#
# Starts walletd on a fresh database, runs walletd-load with --acked (every answered create,
# reserve and confirm is written down), kills walletd with SIGKILL in the middle of the run,
# restarts it on the same database while the tills keep going, then checks with
# `walletd-load --verify-acked` that every acknowledged transaction is in the database at least
# as far as its last answer said, and that the ledger is sound (money neither created nor lost).
# Prints the load's JSON line, then {"acked": N, "lost": M, "ledger_sound": true}; exits non-zero
# if anything was lost or the ledger is not sound.
#
# Environment: BENCH_SECONDS [12] length of the load run; BENCH_KILL_AFTER [5] seconds before
# the kill; BENCH_TILLS [32]; BENCH_PORT [18080]; BENCH_POSTGRES [postgres://postgres@127.0.0.1:5432];
# BENCH_CPU [the last CPU on sqlite, all on postgres] (`walletd serve --cpu`).
set -euo pipefail

store=${1:-}
case "$store" in
sqlite | postgres) ;;
*)
    echo "usage: $0 sqlite|postgres" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."

# SQLite: requests on one CPU, commits on another (`serve --cpu`, bench/README.md "One CPU", "Commits off the request CPU"); BENCH_CPU=all: every CPU.
cpu=${BENCH_CPU:-$([ "$store" = sqlite ] && echo $(($(nproc) - 1)) || echo all)}
cpu_flag=
[ "$cpu" = all ] || cpu_flag="--cpu $cpu"

seconds=${BENCH_SECONDS:-12}
kill_after=${BENCH_KILL_AFTER:-5}
tills=${BENCH_TILLS:-32}
port=${BENCH_PORT:-18080}
pg=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}

echo "building (release)…" >&2
cargo build --release --quiet -p walletd -p walletd-load >&2
bin=${CARGO_TARGET_DIR:-target}/release

tmp=$(mktemp -d "${TMPDIR:-/tmp}/walletd-crash.XXXXXX")
server_pid=
load_pid=
database=
cleanup() {
    [ -z "$load_pid" ] || kill "$load_pid" 2>/dev/null || true
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    [ -z "$database" ] || psql "$pg/postgres" -qAtc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$store" = sqlite ]; then
    db="sqlite://$tmp/walletd.db"
else
    database="walletd_crash_$(date +%s)_$$"
    psql "$pg/postgres" -qAtc "CREATE DATABASE $database" >/dev/null
    db="$pg/$database"
fi

start_server() {
    # shellcheck disable=SC2086 # $cpu_flag is empty or two words
    "$bin/walletd" serve --listen "127.0.0.1:$port" --database "$db" \
        --rate-limit-per-minute 1000000000 $cpu_flag >>"$tmp/walletd.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
        curl -fs -o /dev/null "http://127.0.0.1:$port/publickey" && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$tmp/walletd.log" >&2
    echo "walletd did not start" >&2
    exit 1
}

start_server
"$bin/walletd-load" --url "http://127.0.0.1:$port" --database "$db" --tills "$tills" \
    --seconds "$seconds" --timeout 5 --acked "$tmp/acked" >"$tmp/load.json" 2>"$tmp/load.log" &
load_pid=$!
# The set-up runs before the timed part; wait for the first acknowledged requests.
for _ in $(seq 1 600); do
    grep -q "set up" "$tmp/load.log" 2>/dev/null && break
    sleep 0.1
done
sleep "$kill_after"
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null || true
echo "killed walletd (SIGKILL) after ${kill_after} s of load; restarting" >&2
start_server
wait "$load_pid"
load_pid=
cat "$tmp/load.log" >&2
cat "$tmp/load.json"
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=
"$bin/walletd-load" --database "$db" --verify-acked "$tmp/acked"
