# bench/lib.sh — what bench/run.sh, crash.sh and wal-pages.sh share; sourced, not run.
#
# The settings they have in common, the store argument, the release build, a temporary directory
# and PostgreSQL databases removed on exit, and starting and stopping walletd.

# The scripts run from the repository root (cargo, target/), wherever they are started from.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# BENCH_TILLS, BENCH_PORT and BENCH_POSTGRES, as each script's header describes them.
tills=${BENCH_TILLS:-32}
port=${BENCH_PORT:-18080}
pg=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}

server_pid=
server_pids=()
databases=()
tmp=

# The store argument: sets $store to sqlite or postgres (or prints the usage and exits 2), and
# $cpu_flag for `walletd serve` on it. SQLite: requests on one CPU, commits on another (`serve
# --cpu`, bench/README.md "Where the time goes"); BENCH_CPU=all: every CPU.
bench_store() { # $1: the script's first argument
    store=${1:-}
    case "$store" in
    sqlite | postgres) ;;
    *)
        echo "usage: $0 sqlite|postgres" >&2
        exit 2
        ;;
    esac
    local cpu=${BENCH_CPU:-$([ "$store" = sqlite ] && echo $(($(nproc) - 1)) || echo all)}
    cpu_flag=
    [ "$cpu" = all ] || cpu_flag="--cpu $cpu"
}

# Builds the packages in release (BENCH_PROFILE=dev: a debug build, for a check of correctness
# rather than speed), one job at a time unless CARGO_BUILD_JOBS says; sets $bin.
bench_build() { # $@: packages
    export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
    local profile=${BENCH_PROFILE:-release}
    echo "building ($profile)…" >&2
    local packages=() package
    for package in "$@"; do
        packages+=(-p "$package")
    done
    cargo build --profile "$profile" --quiet "${packages[@]}" >&2
    bin=${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")
}

# Sets $tmp to a new temporary directory, and from then on cleans up however the script ends
# (bench_cleanup on exit, exit status 130 on SIGINT or SIGTERM).
bench_tmp() { # $1: what the run is, for the directory's name
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Creates the database $1 on the PostgreSQL at $pg, dropped by bench_cleanup; sets $db to its URL.
# Not in a subshell: bench_cleanup needs $databases.
fresh_postgres_database() { # $1: the database's name
    psql "$pg/postgres" -qAtc "CREATE DATABASE $1" >/dev/null
    databases+=("$1")
    db="$pg/$1"
}

# Starts walletd on 127.0.0.1:${instance_port:-$port} with the database $1, durable as shipped,
# with only the per-client rate limit lifted (one client makes every request), appending its
# output to $2; sets $server_pid and adds it to $server_pids (every instance started).
# Returns once it answers; exits with its log if it does not within 30 s.
start_walletd() { # $1: database URL, $2: log file, then more `walletd serve` arguments
    local database=$1 log=$2 listen=${instance_port:-$port}
    shift 2
    "$bin/walletd" serve --listen "127.0.0.1:$listen" --database "$database" \
        --rate-limit-per-minute 1000000000 "$@" >>"$log" 2>&1 &
    server_pid=$!
    server_pids+=("$server_pid")
    for _ in $(seq 1 300); do
        curl -fs -o /dev/null "http://127.0.0.1:$listen/publickey" && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    echo "walletd did not start" >&2
    exit 1
}

# Stops every walletd started that still runs: SIGTERM, and SIGKILL if one has not exited 10 s later.
stop_walletd() {
    local pid
    # shellcheck disable=SC2086 # one PID a word
    [ ${#server_pids[@]} = 0 ] || kill -TERM ${server_pids[*]} 2>/dev/null || true
    for pid in "${server_pids[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    server_pid=
    server_pids=()
}

# Stops walletd, then the script's other background processes (the load, a reader, perf), drops
# the PostgreSQL databases and removes the temporary directory.
bench_cleanup() {
    stop_walletd
    local others
    others=$(jobs -p)
    # shellcheck disable=SC2086 # one PID a word
    [ -z "$others" ] || kill $others 2>/dev/null || true
    for database in "${databases[@]}"; do
        psql "$pg/postgres" -qAtc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    done
    [ -z "$tmp" ] || rm -rf "$tmp"
}
