#!/usr/bin/env bash
# Failure handling: crashes, hangs, protocol violations, forbidden tools,
# interruption and --resume, and SIGKILL of the master.
. "$(dirname "$0")/../cli/lib.sh" "$@"

mkdir -p a b
for i in $(seq 1 450); do printf 'alpha document %d about payroll\n' "$i" >a/doc$i.txt; done
for i in $(seq 1 30); do printf 'beta document %d\n' "$i" >b/doc$i.txt; done
cat >sources.json <<JSON
{"sources": [
   {"name": "a", "type": "folder", "path": "$SCRATCH/a"},
   {"name": "b", "type": "folder", "path": "$SCRATCH/b"}]}
JSON
count() { sqlite3 "$1" "select count(*) from documents d join sources s on s.id = d.source_id where s.name = '$2' and d.deleted = 0"; }
dups() { sqlite3 "$1" "select count(*) - count(distinct source_id || '/' || external_id) from documents"; }

# A crash once: restarted from the checkpoint, nothing lost, nothing twice.
TRAWL_FAULT=a:crash:once run --db crash1.db onboard acme sources.json --json
is "$RC" 0 "run survives a crash"
jq_ok '.sources.a.attempts == 2 and .sources.a.status == "ok"' "crashed explorer restarted once"
is "$(count crash1.db a)" 450 "all documents of the crashed source"
is "$(dups crash1.db)" 0 "no duplicates after the restart"

# A crash every time: the source fails, the other completes.
TRAWL_FAULT=a:crash run --db crash.db onboard acme sources.json --json
is "$RC" 1 "a source that keeps crashing fails the run"
jq_ok '.sources.a.status == "failed" and .sources.a.attempts == 3 and (.sources.a.error | test("crashed"))' "recorded as a crash after 3 attempts"
jq_ok '.sources.b.status == "ok"' "the other source completes"
is "$(count crash.db b)" 30 "the other source's documents are all there"

# A hang: killed at the deadline.
TRAWL_FAULT=a:hang run --db hang.db onboard acme sources.json --json --deadline 2
jq_ok '.sources.a.status == "failed" and (.sources.a.error | test("deadline"))' "hanging explorer killed at the deadline"
jq_ok '.sources.b.status == "ok"' "the other source completes despite the hang"

# Protocol violations: killed, recorded, not retried.
for f in oversize garbage; do
    TRAWL_FAULT=a:$f run --db $f.db onboard acme sources.json --json
    jq_ok ".sources.a.status == \"failed\" and .sources.a.violations == 1 and .sources.a.attempts == 1 and (.sources.a.error | test(\"protocol violation\"))" "$f frame: violation recorded, no retry"
    jq_ok '.sources.b.status == "ok"' "$f: the other source completes"
done

# A tool outside the toolkit: refused and counted, the explorer goes on.
TRAWL_FAULT=a:forbidden run --db forbidden.db onboard acme sources.json --json
jq_ok '.sources.a.refused_calls == 1 and .sources.a.status == "ok"' "forbidden tool refused and counted"
like "$(err)" "refused a call to tool 'delete_everything'" "refusal is logged"

# SIGINT mid-run: interrupted, then --resume ends with the KB of a clean run.
# (sorted: the explorers' forum findings are exported in the order they were posted,
# which follows the order the explorers finished)
run --db clean.db onboard acme sources.json
"$TRAWL" --db clean.db export acme | "$JQ" -c 'del(.created)' | sort >clean.jsonl
TRAWL_FAULT=a:hang "$TRAWL" --db int.db onboard acme sources.json >"$OUT" 2>"$ERR" &
pid=$!
for _ in $(seq 1 100); do [ "$(count int.db b 2>/dev/null)" = 30 ] && break; sleep 0.1; done
kill -INT $pid
wait $pid
is "$?" 1 "interrupted run exits 1"
is "$(sqlite3 int.db 'select status from runs order by id desc limit 1')" "interrupted" "run marked interrupted"
before=$(count int.db a)
ok $([ "$before" -ge 1 ] && [ "$before" -lt 450 ]; echo $?) "part of source a was stored before the interrupt ($before)"
run --db int.db onboard acme sources.json --resume --json
is "$RC" 0 "--resume completes"
jq_ok '.sources.b.status == "skipped" and .sources.b.items == 0' "completed source is not explored again"
"$TRAWL" --db int.db export acme | "$JQ" -c 'del(.created)' | sort >int.jsonl
ok $(cmp -s clean.jsonl int.jsonl; echo $?) "interrupted + resumed KB equals the uninterrupted one"

# SIGKILL of the master: explorers die with it; --resume finishes the job.
TRAWL_FAULT=a:hang "$TRAWL" --db kill.db onboard acme sources.json >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ "$(count kill.db b 2>/dev/null)" = 30 ] && break; sleep 0.1; done
kill -KILL $pid
wait $pid 2>/dev/null
# The kernel delivers the children's death signals asynchronously: on a
# loaded machine they can take a moment to go. Wait up to 10 s.
for _ in $(seq 1 100); do [ "$(pgrep -f "trawl --db kill.db" | wc -l)" = 0 ] && break; sleep 0.1; done
is "$(pgrep -f "trawl --db kill.db" | wc -l)" 0 "no explorer outlives a killed master"
is "$(sqlite3 kill.db "select status from runs")" "running" "the killed run was left 'running'"
run --db kill.db onboard acme sources.json --resume
is "$RC" 0 "--resume after SIGKILL completes"
is "$(sqlite3 kill.db "select group_concat(status, ' ') from runs order by id")" "interrupted ok" "the next run marks the dead one interrupted"
like "$(sqlite3 kill.db "select stats from runs where id = 1")" "died before it ended" "and says why"
"$TRAWL" --db kill.db export acme | "$JQ" -c 'del(.created)' | sort >kill.jsonl
ok $(cmp -s clean.jsonl kill.jsonl; echo $?) "killed + resumed KB equals the uninterrupted one"

# Two onboardings of one client on one database: the second is refused.
TRAWL_FAULT=a:hang "$TRAWL" --db lock.db onboard acme sources.json >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ "$(count lock.db b 2>/dev/null)" = 30 ] && break; sleep 0.1; done
run --db lock.db onboard acme sources.json
is "$RC" 1 "a second onboarding of the same client is refused"
like "$(err)" "another 'trawl onboard acme' is running" "with a message saying why"
run --db lock.db onboard other sources.json --json
is "$RC" 0 "another client on the same database may run meanwhile"
kill -INT $pid
wait $pid 2>/dev/null
is "$(sqlite3 lock.db "select count(*) from runs where status = 'running'")" 0 "no run left running"

done_testing
