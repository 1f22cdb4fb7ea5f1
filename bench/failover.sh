#!/usr/bin/env bash
# bench/failover.sh — the failover drill: walletd under load on a PostgreSQL primary with a
# synchronous streaming standby, behind HAProxy; the primary is killed (-9, every process of it, as
# when its machine dies), the standby promoted, and walletd carries on without a restart
# (bench/README.md, README "A primary and a standby").
#
# Makes both clusters in a temporary directory on spare ports (initdb, `pg_basebackup -R`,
# `synchronous_standby_names`; as the postgres user when run as root), HAProxy in front routing
# only to the server that is not in recovery (an external check asking `pg_is_in_recovery()`),
# walletd on the proxy's port, and runs walletd-load with --acked and --retries (each request sent
# again after a 503 or no answer, with the same idempotency key). Then checks that
#   - every acknowledged request is in the promoted standby, and the ledger is sound;
#   - every request succeeded in the end (the load's errors are 0), and no transaction was
#     created twice by a retry (transactions in the database = transactions acknowledged);
#   - the attempts during the switch were answered 503 `temporarily_unavailable` (JSON) or
#     succeeded: none otherwise, none without an answer, none longer than BENCH_BOUND_MS;
#   - the same walletd process served before and after.
# Prints the load's two JSON lines, then one summary line; exits non-zero if a check fails.
#
# Environment: BENCH_SECONDS [14] length of the load run; BENCH_KILL_AFTER [4] seconds of load
# before the kill; BENCH_PROMOTE_AFTER [1] seconds between the kill and `pg_ctl promote`;
# BENCH_TILLS [8]; BENCH_PORT [18080] walletd's port; BENCH_BOUND_MS [5000] the longest an
# attempt may take; BENCH_PROFILE [dev] the build (a drill checks correctness, not speed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
export BENCH_PROFILE=${BENCH_PROFILE:-dev}

seconds=${BENCH_SECONDS:-14}
kill_after=${BENCH_KILL_AFTER:-4}
promote_after=${BENCH_PROMOTE_AFTER:-1}
tills=${BENCH_TILLS:-8}
bound_ms=${BENCH_BOUND_MS:-5000}

command -v haproxy >/dev/null || {
    echo "haproxy is not installed (apt-get install haproxy)" >&2
    exit 2
}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$pg_bin/initdb" ] || {
    echo "initdb not found under /usr/lib/postgresql" >&2
    exit 2
}

# initdb refuses to run as root: the clusters are then the postgres user's.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_build walletd walletd-load
bench_tmp walletd-failover
[ "$(id -u)" != 0 ] || chown postgres "$tmp"
primary_port=$(free_port)
standby_port=$(free_port)
proxy_port=$(free_port)

failover_cleanup() {
    stop_walletd
    for cluster in primary standby; do
        [ ! -f "$tmp/$cluster/postmaster.pid" ] ||
            as_pg "$pg_bin/pg_ctl" -D "$tmp/$cluster" -m immediate stop >/dev/null 2>&1 || true
    done
    bench_cleanup
}
trap failover_cleanup EXIT

# The primary: commits wait until the standby named `standby` has them on disk.
as_pg "$pg_bin/initdb" -D "$tmp/primary" -U postgres -A trust >/dev/null
cat >>"$tmp/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $primary_port
unix_socket_directories = '$tmp'
synchronous_standby_names = 'standby'
synchronous_commit = on
EOF
as_pg "$pg_bin/pg_ctl" -D "$tmp/primary" -l "$tmp/primary.log" -w start >/dev/null
primary="postgres://postgres@127.0.0.1:$primary_port"

# The standby: a base backup streaming from the primary. Once promoted it runs alone (no standby of
# its own yet), so it must not wait for one: its synchronous_standby_names is empty. Appended to
# postgresql.auto.conf, after what `-R` wrote there (the later setting wins).
as_pg "$pg_bin/pg_basebackup" -d "$primary/postgres" -D "$tmp/standby" -X stream -R
cat >>"$tmp/standby/postgresql.auto.conf" <<EOF
port = $standby_port
synchronous_standby_names = ''
primary_conninfo = 'host=127.0.0.1 port=$primary_port user=postgres application_name=standby'
EOF
as_pg "$pg_bin/pg_ctl" -D "$tmp/standby" -l "$tmp/standby.log" -w start >/dev/null
for _ in $(seq 1 100); do
    state=$(psql "$primary/postgres" -XtAc "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")
    [ "$state" = sync ] && break
    sleep 0.1
done
[ "$state" = sync ] || {
    echo "the standby did not become synchronous" >&2
    exit 1
}
psql "$primary/postgres" -XqAtc "CREATE DATABASE walletd"

# HAProxy: a connection goes to the server that is not in recovery; one to a server marked down
# is cut. A standby accepts connections too, so a TCP or pgsql check alone would not do.
cat >"$tmp/is-primary" <<'EOF'
#!/bin/sh
# HAProxy's external check: succeeds only on a server that is not in recovery (a primary).
answer=$(psql "host=$HAPROXY_SERVER_ADDR port=$HAPROXY_SERVER_PORT user=postgres dbname=postgres connect_timeout=1" \
    -XtAc 'SELECT pg_is_in_recovery()' 2>/dev/null)
[ "$answer" = f ]
EOF
chmod +x "$tmp/is-primary"
cat >"$tmp/haproxy.cfg" <<EOF
global
    external-check
    insecure-fork-wanted
    log stderr format short local0
defaults
    mode tcp
    log global
    option log-health-checks
    timeout connect 1s
    timeout check 3s
    timeout client 1h
    timeout server 1h
listen postgres
    bind 127.0.0.1:$proxy_port
    option external-check
    external-check path "/usr/bin:/bin"
    external-check command $tmp/is-primary
    default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
    server primary 127.0.0.1:$primary_port check
    server standby 127.0.0.1:$standby_port check
EOF
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
db="postgres://postgres@127.0.0.1:$proxy_port/walletd"
for _ in $(seq 1 100); do
    # HAProxy takes a server for up until its checks fail: wait for the standby's to.
    grep -q "postgres/standby is DOWN" "$tmp/haproxy.log" && psql "$db" -XqAtc "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.1
done

start_walletd "$db" "$tmp/walletd.log"
walletd_pid=$server_pid
"$bin/walletd-load" --url "http://127.0.0.1:$port" --database "$db" --tills "$tills" \
    --seconds "$seconds" --codes $((seconds * 1000)) --timeout 10 --retries 30 --acked "$tmp/acked" \
    >"$tmp/load.json" 2>"$tmp/load.log" &
load_pid=$!
for _ in $(seq 1 600); do
    grep -q "set up" "$tmp/load.log" 2>/dev/null && break
    sleep 0.1
done
sleep "$kill_after"
postmaster=$(head -n 1 "$tmp/primary/postmaster.pid")
# shellcheck disable=SC2046 # one PID a word
kill -KILL "$postmaster" $(ps -o pid= --ppid "$postmaster")
echo "killed the primary (SIGKILL, every process) after ${kill_after} s of load" >&2
sleep "$promote_after"
as_pg "$pg_bin/pg_ctl" -D "$tmp/standby" -w promote >/dev/null
echo "promoted the standby ${promote_after} s later" >&2
wait "$load_pid"
cat "$tmp/load.log" >&2
cat "$tmp/load.json"

kill -0 "$walletd_pid" 2>/dev/null && [ "$server_pid" = "$walletd_pid" ] || {
    echo "walletd did not survive the failover" >&2
    cat "$tmp/walletd.log" >&2
    exit 1
}
stop_walletd
verified=$("$bin/walletd-load" --database "$db" --verify-acked "$tmp/acked") || {
    echo "$verified"
    exit 1
}
# The answers walletd gave but 2xx, for the log.
grep -v '"status":2' "$tmp/walletd.log" | grep '"status"' | cut -c1-400 >&2 || true
read -r transactions confirmed < <(psql "$db" -XtA -F ' ' \
    -c "SELECT count(*), count(*) FILTER (WHERE status = 'confirmed') FROM transactions")
python3 - "$tmp/load.json" "$verified" "$transactions" "$confirmed" "$bound_ms" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
load, attempts = json.loads(lines[0]), json.loads(lines[1])["attempts"]
verified = json.loads(sys.argv[2])
transactions, confirmed, bound = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
checks = {
    "every request succeeded in the end": load["errors"] == 0,
    "no transaction created twice": transactions == verified["acked"],
    "every flow confirmed once": confirmed == load["flows"],
    "the switch was seen (503s)": attempts["unavailable"] > 0,
    "no answer but 2xx or a JSON 503": attempts["other"] == 0,
    "no attempt without an answer": attempts["no_answer"] == 0,
    "no attempt past the bound": attempts["longest_attempt_ms"] <= bound,
}
summary = dict(verified, transactions=transactions, confirmed=confirmed, **attempts)
summary["failed"] = [name for name, ok in checks.items() if not ok]
print(json.dumps(summary))
sys.exit(1 if summary["failed"] or verified["lost"] else 0)
EOF
