#!/usr/bin/env bash
# The agent forum: search with every filter, post, and client scoping.
. "$(dirname "$0")/lib.sh" "$@"

DB=$SCRATCH/kb.db
export TRAWL_DB=$DB
import_fixture "$DB" acme "$DATA/acme.jsonl"
import_fixture "$DB" globex "$DATA/globex.jsonl"

# fs ARGS...: forum search 'attachments' with ARGS; prints sorted "title" lines.
fs() { "$TRAWL" forum search attachments --json "$@" | jq -r '.hits[].title' | sort; }
# Oracle from the fixtures: titles of forum lines matching a jq condition.
want() { cat "$DATA/acme.jsonl" "$DATA/globex.jsonl" | jq -r "select(.kind==\"forum\") | select($1) | .title" | sort; }
GLOBEX_POST='(.title|test("Globex"))'

run forum search attachments --json
is "$RC" 0 "forum search --json exits 0"
jq_ok '.query == "attachments" and (.hits|length) == 9' "forum search without filters finds all 9 posts"
jq_ok 'all(.hits[]; (.id|type) == "number" and (.agent|type) == "string" and (.source_type|type) == "string"
       and (.phase == "explore" or .phase == "structure") and (.file_type|type) == "string"
       and (.body|type) == "string" and (.created|test("^2023-")) and (.score|type) == "number"
       and (.snippet|test("\\*\\*attachments\\*\\*")))' \
    "forum hits carry agent, source, phase, file type, body, created, score, **marked** snippet"
jq_ok '[.hits[].score] as $s | $s == ($s|sort)' "forum hits are ranked best first"
jq_ok '[.hits[] | select(.client == null)] | length == 3' "3 global posts have client null"

is "$(fs --client acme)" "$(want '(.global == true) or ((.title|test("Globex"))|not)')" \
    "--client acme: acme's posts and the global ones"
run forum search attachments --client acme --json
jq_ok 'all(.hits[]; .client == "acme" or .client == null) and any(.hits[]; .client == null)
       and any(.hits[]; .client == "acme")' "--client acme: every hit is acme's or global, both present"
unlike "$(out)" 'Globex' "--client acme never shows globex's posts"
is "$(fs --client globex)" "$(want "(.global == true) or $GLOBEX_POST")" "--client globex: globex's and the global posts"
is "$(fs --global)" "$(want '.global == true')" "--global: only the global patterns"
run forum search attachments --global --json
jq_ok '(.hits|length) == 3 and all(.hits[]; .client == null)' "--global hits all have client null"
is "$(fs --source gmail)" "$(want '.source_type == "gmail"')" "--source gmail"
is "$(fs --source folder)" "$(want '.source_type == "folder"')" "--source folder"
is "$(fs --source imap)" "" "--source with no posts finds nothing"
is "$(fs --phase structure)" "$(want '.phase == "structure"')" "--phase structure"
is "$(fs --phase explore)" "$(want '.phase == "explore"')" "--phase explore"
is "$(fs --file-type pdf)" "$(want '.file_type == "pdf"')" "--file-type pdf"
is "$(fs --file-type .pdf)" "$(fs --file-type pdf)" "--file-type .pdf equals --file-type pdf"
is "$(fs --file-type zip)" "Nested zip archives hide attachments" "--file-type zip"
is "$(fs --client acme --source folder --phase structure)" \
    "$(want '.source_type == "folder" and .phase == "structure" and ((.global == true) or ((.title|test("Globex"))|not))')" \
    "--client acme --source folder --phase structure"
is "$(fs --global --source archive --file-type zip)" "Nested zip archives hide attachments" \
    "--global --source archive --file-type zip"
is "$(fs --client globex --file-type pdf --phase structure)" \
    "$(want '.file_type == "pdf" and .phase == "structure" and ((.global == true) or (.title|test("Globex")))')" \
    "--client globex --file-type pdf --phase structure"
is "$(fs --client acme --source gmail --phase structure)" "" "a combination no post satisfies finds nothing"
is "$("$TRAWL" forum search 'ocr scanned' --json | jq -r '.hits[].title')" "Scanned contracts need OCR" \
    "the query words narrow the hits"
run forum search attachments --limit 2 --json
jq_ok '(.hits|length) == 2' "forum search --limit 2"
run forum search attachments --global
is "$RC" 0 "forum search (text) exits 0"
like "$(out)" '^Nested zip archives hide attachments  #[0-9]+  \[archive explore \.zip\] global explorer-archive$' \
    "forum text line: title, #id, [source phase .type], scope, agent"
unlike "$(out)" $'\\*\\*|\033' "forum text has no markers when stdout is not a terminal"
run forum search zyzzyva
is "$RC:$(out)" "0:no findings match 'zyzzyva'" "forum search without a match: exit 0 and a message"
expect_fail 1 "unknown client 'nobody'" "forum search --client unknown: exit 1" forum search x --client nobody
expect_fail 1 "forum phase 'build' is unknown \(known: explore, structure\)" \
    "forum search --phase build: exit 1 naming the phase" forum search x --phase build
expect_fail 1 "the query has no searchable words" "forum search with no words: exit 1" forum search '()'

# ---- post --------------------------------------------------------------------
run forum post --agent tester --source gmail --phase explore --file-type .ics --client acme \
    --title "Calendar invites carry attachments" --body "Meeting invites embed agendas as ICS attachments."
is "$RC" 0 "forum post exits 0"
like "$(out)" '^posted finding #[0-9]+$' "forum post prints the new id"
POST_ID=$(sed 's/.*#//' "$OUT")
run forum search 'calendar invites' --client acme --json
jq_ok "(.hits|length) == 1 and .hits[0].id == $POST_ID and .hits[0].client == \"acme\" and
       .hits[0].agent == \"tester\" and .hits[0].file_type == \"ics\" and .hits[0].source_type == \"gmail\"
       and .hits[0].phase == \"explore\"" "the posted finding is found with its fields (file type without dot)"
is "$(fs --client globex | grep -c Calendar)" 0 "acme's new finding is not visible to globex"
is "$(fs --file-type ics --client acme)" "Calendar invites carry attachments" "the new finding is filtered by its file type"

printf 'Shared drives keep old versions of attachments\nin hidden folders.\n' >body.txt
run_in body.txt forum post --agent tester --source folder --phase structure --global --title "Hidden version folders" --json
is "$RC" 0 "forum post --global with the body on stdin exits 0"
G_ID=$(jqv .id)
run forum search 'hidden version folders' --client globex --json
jq_ok "(.hits|length) == 1 and .hits[0].id == $G_ID and .hits[0].client == null and
       .hits[0].file_type == \"\" and (.hits[0].body|test(\"old versions.*\\n.*hidden\"))" \
    "a global post is visible to every client, body read from stdin"
run_in body.txt forum post --agent tester --source folder --phase structure --global --title "Dash body" --body -
is "$RC" 0 "forum post --body - reads stdin"
is "$("$TRAWL" forum search dash --global --json | jq -r '.hits[0].body')" "$(cat body.txt)" "--body - stores stdin verbatim"

before=$(fs | wc -l)
expect_fail 1 "forum phase 'run' is unknown" "forum post with a bad phase: exit 1" \
    forum post --agent a --source gmail --phase run --global --title t --body b
is "$(fs | wc -l)" "$before" "the refused post stored nothing"

run forum post --agent a --source gmail --phase explore --client newco --title "First finding" --body "Attachments everywhere."
is "$RC" 1 "forum post for an unknown client fails (a typo must not create a client)"
like "$(err)" "unknown client 'newco'" "and names the client"
run runs newco
is "$RC" 1 "no client was created"

done_testing
