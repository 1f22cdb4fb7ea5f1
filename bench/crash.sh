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
. "$(dirname "$0")/lib.sh"
bench_store "${1:-}"

seconds=${BENCH_SECONDS:-12}
kill_after=${BENCH_KILL_AFTER:-5}

bench_build walletd walletd-load
bench_tmp walletd-crash

if [ "$store" = sqlite ]; then
    db="sqlite://$tmp/walletd.db"
else
    fresh_postgres_database "walletd_crash_$(date +%s)_$$"
fi

start_server() {
    # shellcheck disable=SC2086 # $cpu_flag is empty or two words
    start_walletd "$db" "$tmp/walletd.log" $cpu_flag
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
cat "$tmp/load.log" >&2
cat "$tmp/load.json"
stop_walletd
"$bin/walletd-load" --database "$db" --verify-acked "$tmp/acked"
