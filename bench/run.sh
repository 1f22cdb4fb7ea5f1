#!/usr/bin/env bash
# bench/run.sh sqlite|postgres [--instances N] — walletd beside the limit of its store (bench/README.md).
#
# Builds release, then for each mode (spread, one-wallet) starts walletd (N instances of it on
# PostgreSQL) on a fresh database,
# runs walletd-load against it and stops it; then runs walletd-limit (the naive SQL of the flow,
# one durable commit per API call) in both modes on another fresh database. Prints the JSON lines
# and, last, the ratios walletd / limit of flows_per_s. Only 127.0.0.1 traffic; everything it
# creates (temporary files, databases) is removed at the end.
#
# Environment (defaults in brackets):
#   BENCH_SECONDS [20]   seconds per run        BENCH_TILLS [32]     concurrent tills / clients
#   BENCH_WALLETS [1000] payer wallets (spread)  BENCH_PORT [18080]   walletd's port
#   BENCH_POSTGRES [postgres://postgres@127.0.0.1:5432]  server for the postgres runs (trust auth)
#   BENCH_MODES ["spread one-wallet"]            which walletd modes to run
#   BENCH_INSTANCES [1]  walletd instances on the one database, on ports BENCH_PORT, BENCH_PORT+1, …
#                        (also `--instances N` after the store); the load's till i goes to instance i mod N
#   BENCH_PERF [unset]   if set, `perf record -g` walletd (every instance) during the spread run into $BENCH_PERF
#   BENCH_CPU [the last CPU on sqlite, all on postgres]  `walletd serve --cpu`: the CPU walletd serves requests on (its commits run on another), or all
#   BENCH_SQLX_LIMIT [unset]  sqlite: if set, also run the limit through sqlx (mode limit-sqlx)
#   CARGO_BUILD_JOBS [1]
# PostgreSQL runs need psql and pgbench (Debian: `apt-get install -y postgresql`, which ships both).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_store "${1:-}"
instances=${BENCH_INSTANCES:-1}
if [ "${2:-}" = --instances ] && [ -n "${3:-}" ]; then
    instances=$3
elif [ -n "${2:-}" ]; then
    echo "usage: $0 sqlite|postgres [--instances N]" >&2
    exit 2
fi
[ "$instances" -ge 1 ] 2>/dev/null || {
    echo "--instances must be a number, at least 1" >&2
    exit 2
}
[ "$instances" = 1 ] || [ "$store" = postgres ] || {
    echo "several instances share a PostgreSQL database only" >&2
    exit 2
}

seconds=${BENCH_SECONDS:-20}
wallets=${BENCH_WALLETS:-1000}
modes=${BENCH_MODES:-spread one-wallet}

if [ "$store" = postgres ]; then
    for tool in psql pgbench; do
        command -v "$tool" >/dev/null || {
            echo "$tool is missing: apt-get install -y postgresql (Debian ships pgbench in it)" >&2
            exit 1
        }
    done
fi

bench_build walletd walletd-load walletd-limit
bench_tmp walletd-bench
results=$tmp/results
: >"$results"

fresh_database() { # $1: a tag; sets $db to the URL (not in a subshell: cleanup needs $databases)
    if [ "$store" = sqlite ]; then
        db="sqlite://$tmp/walletd-$1.db"
    else
        fresh_postgres_database "walletd_bench_$(date +%s)_$$_${1//-/_}"
    fi
}

run_walletd() { # $1: mode
    local mode=$1 i targets=()
    fresh_database "$mode"
    for i in $(seq 0 $((instances - 1))); do
        # shellcheck disable=SC2086 # $cpu_flag is empty or two words
        RUST_LOG=${RUST_LOG:-info} instance_port=$((port + i)) \
            start_walletd "$db" "$tmp/walletd-$mode-$i.log" $cpu_flag
        targets+=(--url "http://127.0.0.1:$((port + i))" --server-pid "$server_pid")
    done
    local perf_pid=
    if [ -n "${BENCH_PERF:-}" ] && [ "$mode" = spread ]; then
        perf record -g -F 999 -p "$(IFS=,; echo "${server_pids[*]}")" -o "$BENCH_PERF" -- sleep "$((seconds + 5))" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    "$bin/walletd-load" "${targets[@]}" --database "$db" --mode "$mode" \
        --tills "$tills" --wallets "$wallets" --seconds "$seconds" |
        tee -a "$results"
    [ -z "$perf_pid" ] || wait "$perf_pid" || true
    stop_walletd
}

for mode in $modes; do
    run_walletd "$mode"
done

limit_args=(--tills "$tills" --seconds "$seconds" --wallets "$wallets")
if [ "$store" = postgres ]; then
    limit_args=(postgres --admin-url "$pg/postgres" "${limit_args[@]}")
else
    limit_args=(sqlite "${limit_args[@]}")
fi
"$bin/walletd-limit" "${limit_args[@]}" | tee -a "$results"
"$bin/walletd-limit" "${limit_args[@]}" --one-wallet | tee -a "$results"
if [ "$store" = sqlite ] && [ -n "${BENCH_SQLX_LIMIT:-}" ]; then
    "$bin/walletd-limit" "${limit_args[@]}" --driver sqlx | tee -a "$results"
fi

# The ratios, from the JSON lines: walletd spread / limit, walletd one-wallet / limit-one-wallet.
flows_per_s() { # $1: mode
    sed -n "s/.*\"mode\":\"$1\".*\"flows_per_s\":\([0-9.eE+-]*\).*/\1/p" "$results" | tail -n 1
}
ratio() { # $1 walletd mode, $2 limit mode
    local w l
    w=$(flows_per_s "$1")
    l=$(flows_per_s "$2")
    if [ -n "$w" ] && [ -n "$l" ]; then
        awk -v w="$w" -v l="$l" 'BEGIN { if (l > 0) printf "%.3f", w / l; else print "null" }'
    else
        echo null
    fi
}
echo "{\"store\":\"$store\",\"ratio\":$(ratio spread limit),\"ratio_one_wallet\":$(ratio one-wallet limit-one-wallet)}"
