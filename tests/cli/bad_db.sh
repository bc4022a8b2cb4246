#!/usr/bin/env bash
# Bad databases: missing, corrupt, not trawl's, from a newer trawl, locked.
. "$(dirname "$0")/lib.sh" "$@"

SQLITE3=${SQLITE3:-$(command -v sqlite3 || echo /usr/bin/sqlite3)}
[ -x "$SQLITE3" ] || { echo "Bail out! the sqlite3 shell is required"; exit 1; }
FIX=$DATA/acme.jsonl
QUERIES=("tree acme" "search acme invoice" "show acme 1" "runs" "export acme" "forum search invoice")

# ---- missing -----------------------------------------------------------------
for q in "${QUERIES[@]}"; do
    # shellcheck disable=SC2086
    expect_fail 1 "database '$SCRATCH/missing.db' does not exist" "missing db: '$q' fails naming the file" \
        --db "$SCRATCH/missing.db" $q
done
[ ! -e missing.db ]; ok $? "query commands never create a missing database"
expect_fail 1 "cannot open 'nope.jsonl'" "import of a missing file: exit 1 naming it" --db new.db import acme nope.jsonl
[ ! -e new.db ]; ok $? "a failed import of a missing file creates no database"

mkdir -p adir
expect_fail 1 "cannot open database '$SCRATCH/adir'" "a directory as database: exit 1 naming it" --db "$SCRATCH/adir" tree acme
expect_fail 1 "cannot open database '$SCRATCH/no/such/x.db'" "import into a missing directory: exit 1" \
    --db "$SCRATCH/no/such/x.db" import acme "$FIX"

# ---- random bytes -------------------------------------------------------------
head -c 65536 /dev/urandom >corrupt.db
cp corrupt.db corrupt.orig
for q in "${QUERIES[@]}" "import acme $FIX"; do
    # shellcheck disable=SC2086
    expect_fail 1 "database '$SCRATCH/corrupt.db' is not a trawl database or is damaged" \
        "random bytes: '${q%% $FIX}' fails with a one-line message" --db "$SCRATCH/corrupt.db" $q
done
cmp -s corrupt.db corrupt.orig; ok $? "the corrupt file is left untouched"
printf 'SQLite format 3\0' >truncated.db
head -c 3000 /dev/urandom >>truncated.db
expect_fail 1 "is not a trawl database or is damaged" "an SQLite header followed by garbage: exit 1" \
    --db "$SCRATCH/truncated.db" tree acme

# ---- an SQLite database that is not trawl's ----------------------------------------
"$SQLITE3" other.db "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('keep me');"
mode_before=$("$SQLITE3" other.db "PRAGMA journal_mode")
for q in "tree acme" "search acme x" "runs" "import acme $FIX"; do
    # shellcheck disable=SC2086
    expect_fail 1 "database '$SCRATCH/other.db' is an SQLite file but not a trawl knowledge base" \
        "non-trawl SQLite db: '${q%% $FIX}' is refused" --db "$SCRATCH/other.db" $q
done
is "$("$SQLITE3" other.db "SELECT group_concat(name, ' ') FROM sqlite_schema")" "notes" \
    "the foreign database gets no trawl tables"
is "$("$SQLITE3" other.db "SELECT body FROM notes")" "keep me" "the foreign database keeps its data"
is "$("$SQLITE3" other.db "PRAGMA journal_mode")" "$mode_before" "the foreign database keeps its journal mode"
TODO=

# An empty file is a new database, not an error.
: >empty.db
run --db "$SCRATCH/empty.db" import acme "$FIX"
is "$RC" 0 "an empty file is initialised as a new knowledge base"

# ---- made by a newer trawl -------------------------------------------------------
import_fixture newer.db acme "$FIX"
"$SQLITE3" newer.db "PRAGMA user_version = 999"
for q in "${QUERIES[@]}" "import acme $FIX"; do
    # shellcheck disable=SC2086
    expect_fail 1 "database '$SCRATCH/newer.db' has schema version 999 .*upgrade trawl" \
        "newer schema: '${q%% $FIX}' is refused with 'upgrade trawl'" --db "$SCRATCH/newer.db" $q
done
is "$("$SQLITE3" newer.db "PRAGMA user_version")" 999 "the newer database's version is untouched"
is "$("$SQLITE3" newer.db "SELECT count(*) FROM runs")" 1 "no run was added to the newer database"

# ---- locked by another writer ------------------------------------------------------
import_fixture locked.db acme "$FIX"
rm -f lock.fifo && mkfifo lock.fifo
"$SQLITE3" locked.db <lock.fifo >lock.out 2>&1 &
LOCKER=$!
exec 9>lock.fifo
# With a busy timeout: a probe below may hold the lock for a moment just as
# this BEGIN IMMEDIATE runs, and without one the shell gave up at once.
echo ".timeout 10000" >&9
echo "BEGIN IMMEDIATE; INSERT INTO clients(id, name) VALUES (900, 'locker');" >&9
held=1
for _ in $(seq 1 100); do
    if ! "$SQLITE3" -cmd ".timeout 0" locked.db "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; then
        held=0
        break
    fi
    sleep 0.05
done
is "$held" 0 "a background sqlite3 shell holds the write lock"
start=$(date +%s%N)
TRAWL_BUSY_TIMEOUT_MS=200 run --db "$SCRATCH/locked.db" import globex "$DATA/globex.jsonl"
elapsed=$((($(date +%s%N) - start) / 1000000))
is "$RC" 1 "import into a locked database exits 1"
like "$(err)" "database '$SCRATCH/locked.db' is locked by another writer.*try again" "the message says the database is locked"
is "$(wc -l <"$ERR")" 1 "the locked message is one line"
[ "$elapsed" -lt 3000 ]; ok $? "TRAWL_BUSY_TIMEOUT_MS=200 bounds the wait (${elapsed} ms)"
TRAWL_BUSY_TIMEOUT_MS=200 expect_fail 1 "locked by another writer" "forum post into a locked database: exit 1" \
    --db "$SCRATCH/locked.db" forum post --agent a --source gmail --phase explore --global --title t --body b
TRAWL_BUSY_TIMEOUT_MS=200 run --db "$SCRATCH/locked.db" tree acme --depth 1
is "$RC" 0 "readers still work while another process writes (WAL)"
echo "COMMIT;" >&9
exec 9>&-
wait "$LOCKER"
is "$?" 0 "the locking shell committed and exited"
run --db "$SCRATCH/locked.db" runs --json
jq_ok '(.runs|length) == 1 and .runs[0].client == "acme"' "the refused import left no run behind"
TRAWL_BUSY_TIMEOUT_MS=200 run --db "$SCRATCH/locked.db" import globex "$DATA/globex.jsonl"
is "$RC" 0 "after the lock is released the import succeeds"
run --db "$SCRATCH/locked.db" search globex invoice --json
jq_ok '(.hits|length) == 2' "the late import is searchable"

# ---- unknown client on a good database ----------------------------------------------
for q in "tree nobody" "search nobody invoice" "show nobody 1" "runs nobody" "export nobody" \
    "forum search invoice --client nobody"; do
    # shellcheck disable=SC2086
    expect_fail 1 "unknown client 'nobody'; 'trawl runs' lists the clients" "unknown client: '$q' exits 1" \
        --db "$SCRATCH/locked.db" $q
done

done_testing
