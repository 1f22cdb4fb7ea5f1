#!/usr/bin/env bash
# bench/wal-pages.sh — which pages a cash-out flow writes to SQLite's WAL (bench/README.md).
#
# Every page a commit changes is written whole to the WAL (a "frame"), and on SQLite that writing,
# its fsync and the checkpoint that copies it back are most of walletd's I/O. This counts the frames
# of a run, by table and index.
#
# Starts walletd (release build, `--cpu <last CPU>`) on a fresh database, warms it up with 300
# flows, then holds a read transaction open in another process: a reader keeps the WAL from being
# restarted, so every frame of the measured run stays in the file. Runs BENCH_FLOWS flows with
# walletd-load, copies the database and its WAL, and maps each frame's page to its table or index
# (SQLite's `dbstat`). Prints the frames per flow, then per table or index. The load tool's set-up
# (one reservation code per flow, the payers' wallets) is written through the same WAL just before
# the timed flows and is counted too: `reservation_codes` and its index are mostly that.
#
# Needs python3 (its sqlite3 module, with dbstat, as Debian's has). Environment: BENCH_FLOWS [4000];
# BENCH_TILLS [32]; BENCH_PORT [18081]; BENCH_MODE [spread].
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flows=${BENCH_FLOWS:-4000}
port=${BENCH_PORT:-18081} # not lib.sh's 18080
mode=${BENCH_MODE:-spread}
command -v python3 >/dev/null || {
    echo "python3 is missing" >&2
    exit 1
}

bench_build walletd walletd-load
bench_tmp walletd-wal

db="$tmp/w.db"
start_walletd "sqlite://$db" "$tmp/walletd.log" --cpu "$(($(nproc) - 1))"

load() { # $1: flows
    "$bin/walletd-load" --url "http://127.0.0.1:$port" --database "sqlite://$db" --mode "$mode" \
        --tills "$tills" --flows "$1" --server-pid "$server_pid" 2>/dev/null
}
load 300 >/dev/null

# The reader: opens a read transaction, says how many frames the WAL holds, and waits.
python3 - "$db" >"$tmp/reader.out" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM settings").fetchone()
print("ready", flush=True)
time.sleep(3600)
PY
for _ in $(seq 1 100); do
    grep -q ready "$tmp/reader.out" 2>/dev/null && break
    sleep 0.1
done
cp "$db-wal" "$tmp/before.wal"
load "$flows"
cp "$db" "$tmp/copy.db"
cp "$db-wal" "$tmp/copy.db-wal"

python3 - "$tmp" "$flows" <<'PY'
import collections, sqlite3, struct, sys

tmp, flows = sys.argv[1], int(sys.argv[2])

def frames(path):
    """Page numbers of the WAL's valid frames (those with the header's salts), in order."""
    data = open(path, "rb").read()
    if len(data) < 32:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    salts = data[16:24]
    pages, offset = [], 32
    while offset + 24 + page_size <= len(data) and data[offset + 8:offset + 16] == salts:
        pages.append(struct.unpack(">I", data[offset:offset + 4])[0])
        offset += 24 + page_size
    return pages

before = frames(f"{tmp}/before.wal")
after = frames(f"{tmp}/copy.db-wal")
if after[:len(before)] != before:
    sys.exit("the WAL was restarted during the run: no frames to count")
new = after[len(before):]
owner = {page: name for name, page in sqlite3.connect(f"{tmp}/copy.db").execute("SELECT name, pageno FROM dbstat")}
counts = collections.Counter(owner.get(p, "(free)") for p in new)
print(f"{len(new)} frames for {flows} flows: {len(new) / flows:.2f} per flow")
for name, n in counts.most_common():
    print(f"{n / flows:6.2f}  {name}")
PY
