#!/usr/bin/env bash
# The declarative http driver and its toolkits against a local server that
# answers with the providers' response shapes (tests/http/fakeapi.py): every
# record becomes a document, pagination is complete without duplicates, the
# second run is incremental, OAuth tokens are refreshed by the master and
# never reach a workspace, 429/5xx are retried with Retry-After honoured, the
# per-host budget holds, and a dead host trips the breaker while the other
# sources finish.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../cli/lib.sh" "$@"

python3 "$HERE/fakeapi.py" "$SCRATCH/port" "$SCRATCH" 2>"$SCRATCH/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$SCRATCH/port" ] && break; sleep 0.1; done
P=$(cat "$SCRATCH/port")
B=http://127.0.0.1:$P
ctl() { curl -s -XPOST "$B/__control" -d "$1" >/dev/null; }
stats() { curl -s "$B/__stats" >"$SCRATCH/stats.json"; }
stat() { "$JQ" -r "$1" "$SCRATCH/stats.json"; }
docs() { sqlite3 "$TRAWL_DB" "SELECT count(*) FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.name = '$1' AND d.deleted = 0"; }

mkdir -p sec tmp
printf '1//refresh-abc\n' >sec/refresh
printf 's3cr3t-client\n' >sec/client_secret
export TMPDIR=$SCRATCH/tmp
export SLACK_TOKEN=xoxb-test-slack-token-123 NOTION_TOKEN=secret_notion_integration_456
export COUCH_PW=couch-pass-7 WIKI_PW=wiki-bot-password-9
# every service of the test server is one host: one budget, generous here
R='{"requests": 2000, "window_s": 1}'
G='"token_url": "'$B'/token", "client_id": "trawl-test.apps.example", "refresh_token_file": "'$SCRATCH'/sec/refresh", "client_secret_file": "'$SCRATCH'/sec/client_secret"'
cat >sources.json <<JSON
{"client": "acme", "sources": [
  {"name": "drive", "type": "gdrive", "url": "$B", $G, "page_size": 7, "rate": $R},
  {"name": "mail", "type": "gmail_api", "url": "$B", $G, "page_size": 4, "rate": $R},
  {"name": "sheet", "type": "gsheets", "url": "$B", $G, "spreadsheet": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms", "rate": $R},
  {"name": "chat", "type": "slack", "url": "$B", "token_env": "SLACK_TOKEN", "page_size": 2, "rate": $R},
  {"name": "pages", "type": "notion", "url": "$B", "token_env": "NOTION_TOKEN", "page_size": 5, "rate": $R},
  {"name": "couch", "type": "couchdb", "url": "$B/couch", "db": "licences", "user": "admin", "password_env": "COUCH_PW", "page_size": 9, "rate": $R},
  {"name": "wiki", "type": "mediawiki", "url": "$B/wiki/api.php", "user": "Bot@trawl", "password_env": "WIKI_PW", "page_size": 8, "rate": $R}
]}
JSON
curl -s "$B/__counts" >counts.json
want() { "$JQ" -r ".$1" counts.json; }

# ---- every http toolkit matches schema/http-toolkit.schema.json ----------------------
if python3 -c 'import jsonschema' 2>/dev/null; then
    bad=$(python3 - "$HERE/../../schema/http-toolkit.schema.json" "$HERE"/../../connectors/*.json "$HERE"/connectors/*.json <<'PY'
import json, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
for f in sys.argv[2:]:
    d = json.load(open(f))
    if isinstance(d, dict) and d.get("driver") == "http":
        for e in v.iter_errors(d.get("http")):
            print("%s: http.%s: %s" % (f, ".".join(map(str, e.path)), e.message[:200]))
PY
)
    is "$bad" "" "every http toolkit's section matches the schema"
fi

# ---- trawl connectors check reads the http section against that schema too ---------
badkit() {
    cat >badkit.json <<JSON
{"name": "bad", "driver": "http", "description": "a toolkit with a mistake",
 "http": $1,
 "tools": [{"name": "list", "description": "List the records.", "parameters": {"type": "object"}, "operation": "list"}]}
JSON
    run connectors check badkit.json
}
badkit '{"base_url": "{{settings.url}}", "list": {"request": {"path": "/x"}, "records": "data"},
   "fetch": {"inline_max": "lots"}}'
is "$RC" 1 "connectors check refuses a content spec whose inline_max is not a number"
like "$(cat "$ERR")" "badkit.json line 3 column 28: http.fetch.inline_max: expected integer" \
    "the error names the line, the column and the setting"
badkit '{"base_url": "x", "list": {"request": {}, "records": "data"}, "auth": {"type": "bearr"}}'
like "$(cat "$ERR")" "line 2 column 89: http.auth.type: must be one of none, bearer, basic" \
    "an unknown authenticator is named with the known ones"
badkit '{"base_url": "x", "list": {"request": {}, "records": "data"}, "fetch": {"variants": [{"when": {"field": "a", "exists": 1}}]}}'
like "$(cat "$ERR")" "http.fetch.variants.0.when.exists: expected boolean" "when.exists is a boolean"

# ---- first run: everything ----------------------------------------------------
ctl '{"expire_after": 9}' # Google access tokens die after 9 requests: refreshes
run onboard acme sources.json --json --keep-workspaces
is "$RC" 0 "first onboard exits 0"
jq_ok '.status == "ok" and .sources_ok == 7' "all seven http sources ok"
for s in drive:drive mail:gmail sheet:sheets chat:slack pages:notion couch:couch wiki:wiki; do
    is "$(docs "${s%%:*}")" "$(want "${s##*:}")" "${s%%:*}: every record is a document"
done
is "$(sqlite3 "$TRAWL_DB" "SELECT count(*) - count(DISTINCT source_id || external_id) FROM documents")" 0 \
    "no document twice"
stats
is "$(stat '[.log[] | select(startswith("/drive/v3/files?"))] | length')" \
    "$(( ($(want drive) + 6) / 7 ))" "drive: every files.list page requested once (pageSize 7)"
is "$(stat '[.log[] | select(startswith("/drive/v3/files?")) | capture("pageToken=(?<t>[0-9]+)").t] | (length == (unique | length))')" \
    true "drive: no page token requested twice"
is "$(stat '[.log[] | select(test("/export\\?mimeType=application%2Fvnd.openxmlformats"))] | unique | length')" \
    "$(( ($(want drive) + 4) / 5 ))" "drive: Google Docs exported to docx"
is "$(stat '[.log[] | select(test("alt=media"))] | unique | length')" "$(( $(want drive) - ($(want drive) + 4) / 5 - ($(want drive) + 3) / 5 ))" \
    "drive: binary files downloaded with alt=media"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id LIKE '%.eml' LIMIT 1")" \
    "licence review" "gmail: raw messages decoded (base64url) into mail text"
like "$(sqlite3 "$TRAWL_DB" "SELECT group_concat(external_id) FROM documents WHERE external_id LIKE '%.docx'")" \
    "notes" "drive: exported docs are named .docx"
is "$(stat '[.log[] | select(startswith("/notion/v1/search"))] | length')" \
    "$(( ($(want notion) + 4) / 5 ))" "notion: search paged with start_cursor (5 a page)"
ok "$([ "$(stat '[.log[] | select(test("/slack/api/conversations.history"))] | length')" -ge 100 ]; echo $?)" \
    "slack: history followed through next_cursor pages"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id LIKE 'C00%'")" \
    "\\[1700000000.000000\\] <U000>" "slack: the oldest message of a channel is in its document"
is "$(stat '[.log[] | select(test("gapcontinue="))] | length')" "$(( ($(want wiki) + 7) / 8 - 1 ))" \
    "wiki: allpages continuation objects merged into each next request"
is "$(stat '[.log[] | select(startswith("/wiki/") and test("[?&]titles="))] | length')" 0 \
    "wiki: the pages' wikitext came with the listing (generator + revisions), no request per page"
ok "$([ "$(stat .refreshes)" -ge 3 ]; echo $?)" "oauth: expired tokens refreshed by the master ($(stat .refreshes) refreshes)"
is "$(stat .bad_auth)" 0 "no request went out without valid credentials"
# the credentials appear nowhere but in the server's view
leak=$(grep -rlaE 'ya29\.|1//refresh-abc|s3cr3t-client|xoxb-test|secret_notion|couch-pass-7|wiki-bot-password' \
    tmp "$TRAWL_DB" 2>/dev/null | head -3)
is "$leak" "" "no token, refresh token or password in a workspace or the knowledge base"
# the explorer's process never had them either: its environment is scrubbed
TODO= is "$(grep -c 'Bearer' "$TRAWL_DB" 2>/dev/null || true)" 0 "no Authorization header stored"

# ---- second run: incremental ------------------------------------------------------
ctl '{"mutate": 1, "clear": 1, "expire_after": 0}'
run onboard acme sources.json --json
is "$RC" 0 "second onboard exits 0"
jq_ok '.sources.drive.documents_new == 1 and .sources.drive.documents_updated == 1' \
    "drive: only the added and the edited file"
jq_ok '.sources.couch.documents_new == 1 and .sources.couch.documents_updated == 1 and .sources.couch.documents_deleted == 1' \
    "couch: _changes gives the new, the edited and the deleted document"
jq_ok '.sources.wiki.documents_new == 1 and .sources.wiki.documents_updated == 1' "wiki: recent changes only"
jq_ok '.sources.mail.documents_new == 2 and .sources.mail.documents_updated == 0 and .sources.mail.documents_deleted == 1' \
    "gmail: the history gives the two new messages and the deleted one"
jq_ok '.sources.pages.documents_new == 1 and .sources.pages.documents_updated == 1 and .sources.pages.documents_deleted == 0' \
    "notion: the added and the edited page"
stats
is "$(stat '[.log[] | select(startswith("/gmail/v1/users/me/messages?"))] | length')" 0 "gmail: no messages.list"
is "$(stat '[.log[] | select(startswith("/gmail/v1/users/me/history?startHistoryId=5000&"))] | length')" 1 \
    "gmail: history since the historyId the profile gave at the start of the first run (one page)"
is "$(stat '[.log[] | select(test("/gmail/v1/users/me/messages/.*format=raw"))] | length')" 2 "gmail: two downloads"
is "$(sqlite3 "$TRAWL_DB" "SELECT count(*) FROM documents WHERE external_id LIKE '18d%' AND text LIKE '%wombats%'")" 2 \
    "gmail: the new messages' text"
is "$(stat '[.log[] | select(startswith("/notion/v1/search"))] | length')" 1 \
    "notion: search newest-edited first stops at the first page older than the cursor"
is "$(stat '[.log[] | select(test("/notion/v1/blocks/")) | capture("blocks/(?<id>[^/]+)/").id] | unique | length')" 2 \
    "notion: blocks of two pages read"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id LIKE '59833787-2cf9-4fdf-8782-e53db2076803/%'")" \
    "edited: platypus" "notion: the edited page's new text"
is "$(stat '[.log[] | select(startswith("/drive/v3/files?"))] | map(test("modifiedTime")) | all')" true \
    "drive: the listing asked only for files modified since the cursor"
is "$(stat '[.log[] | select(test("/_all_docs"))] | length')" 0 "couch: no full listing"
ok "$([ "$(stat '[.log[] | select(test("/_changes\\?since=[1-9]"))] | length')" -ge 1 ]; echo $?)" \
    "couch: _changes since the stored sequence"
is "$(stat '[.log[] | select(test("generator=allpages"))] | length')" 0 "wiki: no allpages listing"
is "$(stat '[.log[] | select(startswith("/wiki/") and test("[?&]titles="))] | length')" 2 \
    "wiki: recent changes carry no text: the two changed pages fetched one by one"
is "$(stat '[.log[] | select(test("alt=media|/export"))] | length')" 2 "drive: two downloads, nothing else"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id = 'doc-0002.json'")" zanzibar \
    "couch: the edited document's new text"
is "$(sqlite3 "$TRAWL_DB" "SELECT deleted FROM documents WHERE external_id = 'doc-0005.json'")" 1 \
    "couch: the deleted document is marked deleted"

# ---- an expired Gmail history: a full listing instead ---------------------------------
cat >mail.json <<JSON
{"client": "acme", "sources": [{"name": "mail", "type": "gmail_api", "url": "$B", $G, "page_size": 4, "rate": $R}]}
JSON
ctl '{"clear": 1, "history_expired": 1}'
run onboard acme mail.json --json
ctl '{"history_expired": 0}'
is "$RC" 0 "gmail: an onboard whose history has expired exits 0"
stats
is "$(stat '[.log[] | select(startswith("/gmail/v1/users/me/history?"))] | length'),$(stat '[.log[] | select(startswith("/gmail/v1/users/me/messages?"))] | length')" \
    "1,$(( ($(curl -s "$B/__counts" | "$JQ" .gmail) + 3) / 4 ))" \
    "gmail: one history request answered 404, then a full messages.list (4 a page)"
jq_ok '.sources.mail.documents_new == 0 and .sources.mail.documents_deleted == 0' "gmail: nothing new, nothing lost"

# ---- faults: 429 with Retry-After, a 500 burst, resets, slow answers ---------------
cat >faults.json <<JSON
{"client": "acme", "sources": [
  {"name": "drive2", "type": "gdrive", "url": "$B", $G, "page_size": 10, "rate": $R}
]}
JSON
ctl '{"clear": 1, "fault_prefix": "/drive", "fail429": 2, "retry_after": 1, "fail500": 3, "reset": 1, "slow_ms": 20}'
run onboard acme faults.json --json
cp "$ERR" faults.err
ctl '{"fault_prefix": "", "fail429": 0, "fail500": 0, "reset": 0, "slow_ms": 0}'
is "$RC" 0 "onboard through 429s, a 500 burst and resets exits 0"
is "$(docs drive2)" "$(curl -s "$B/__counts" | "$JQ" .drive)" "every drive file arrives despite the faults"
stats
is "$(stat .served429),$(stat .served500)" "2,3" "the server refused twice with 429 and 3 times with 500"
jq_ok '.sources.drive2.attempts == 1' "retried inside the driver: the explorer never saw a failure"
is "$(stat '[.after429[] | select(. < 0.95)] | length')" 0 \
    "after each 429 the next request waited for Retry-After (gaps: $("$JQ" -c '[.after429[] | .*100 | floor / 100]' "$SCRATCH/stats.json"))"

# ---- budget: two sources on one host share 10 requests per 0.5 s ------------------
export TRAWL_CONNECTORS=$HERE/connectors
cat >budget.json <<JSON
{"client": "acme", "sources": [
  {"name": "b1", "type": "paged", "url": "$B", "n": 1500, "rate": {"requests": 10, "window_s": 0.5}},
  {"name": "b2", "type": "paged", "url": "$B", "n": 1200, "rate": {"requests": 10, "window_s": 0.5}}
]}
JSON
ctl '{"clear": 1}'
run onboard acme budget.json --json
is "$RC" 0 "budgeted onboard exits 0"
is "$(docs b1),$(docs b2)" "1500,1200" "both budgeted sources complete"
stats
is "$(stat '.times["/budget"] | length')" 29 "one request per page (15 + 12, plus one empty last page each)"
# sliding window: any 11 consecutive requests span at least the window
worst=$(stat '.times["/budget"] | sort | [range(0; length - 10) as $i | .[$i + 10] - .[$i]] | min')
ok "$(python3 -c "import sys; sys.exit(0 if $worst >= 0.45 else 1)"; echo $?)" \
    "never more than 10 requests in 0.5 s across both sources (tightest 11: $worst s)"

# ---- API key in the query, Link-header pages --------------------------------------
cat >linked.json <<JSON
{"client": "acme", "sources": [{"name": "gh", "type": "linked", "url": "$B", "n": 250, "key_env": "LINKED_KEY"}]}
JSON
ctl '{"clear": 1}'
LINKED_KEY=k-linked-789 run onboard acme linked.json --json
is "$RC" 0 "Link-header source exits 0"
is "$(docs gh)" 250 "every record of every rel=next page"
stats
is "$(stat '[.log[] | select(startswith("/budget/linked"))] | length')" 9 "9 pages of 30, each once"
leak=$(grep -rla 'k-linked-789' tmp "$TRAWL_DB" 2>/dev/null | head -1)
is "$leak" "" "the API key is in no workspace and not in the knowledge base"

# ---- breaker: a dead host fails fast while a live source finishes -----------------
DEAD=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >dead.json <<JSON
{"client": "acme", "sources": [
  {"name": "dead", "type": "paged", "url": "http://127.0.0.1:$DEAD"},
  {"name": "alive", "type": "paged", "url": "$B", "n": 300}
]}
JSON
run onboard acme dead.json --json
isnt "$RC" 0 "a dead host fails the run"
jq_ok '.sources.dead.status == "failed" and .sources.alive.status == "ok"' "the live source finishes"
like "$(grep -o 'circuit breaker open[^"]*' "$ERR" | head -1)" "circuit breaker open for http://127.0.0.1:$DEAD" \
    "later attempts meet an open breaker instead of hammering the host"
is "$(docs alive)" 300 "all records of the live source"

# ---- wrong wiki password: a clear error ---------------------------------------------
WIKI_PW=wrong run onboard acme sources.json --json
jq_ok '.sources.wiki.status == "failed" and (.sources.wiki.error // "" | length > 0)' "wrong bot password fails the wiki source"
like "$(cat "$ERR")" "login as 'Bot@trawl' failed: Incorrect username or password" \
    "the error names the user and the wiki's reason"

done_testing
