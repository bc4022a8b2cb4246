#!/usr/bin/env bash
# trawl connectors list/show/check, and a source type added by configuration
# alone: a toolkit file and a line in a mapping in a directory of our own,
# onboarded without any rebuild.
. "$(dirname "$0")/lib.sh" "$@"

run connectors list
is "$RC" 0 "list exits 0"
like "$(out)" "folder +toolkit fs +driver fs" "folder maps to the fs toolkit"
like "$(out)" "mbox +toolkit mail" "mbox maps to the mail toolkit"
run connectors list --json
jq_ok '[.types[].type] | index("folder") != null and index("maildir") != null' "list --json has the types"
run connectors show folder --json
jq_ok '[.tools[].name] == ["list_files","fetch_file"] and (.tools[0].inputSchema.type == "object")' "show: the tools an explorer gets, with schemas"
run connectors show gmial
is "$RC" 1 "unknown type fails"
like "$(err)" "unknown source type 'gmial' \\(known: .*folder" "and lists the known types"
run connectors check "$CLI_DIR/../../connectors/fs.json"
like "$(out)" "ok, driver fs, 2 tools" "a shipped toolkit checks"
run connectors check "$CLI_DIR/../../connectors/toolkits.json"
like "$(out)" "ok, [0-9]+ source types" "the shipped mapping checks"

printf '{\n  "driver": "fs",\n  "description": "x",\n  "tools": [\n    {"name": "ok_tool", "description": "lists things for you", "parameters": {"type": "object"}, "operation": "list"},\n    {"name": "bad", "description": "fetches things for you", "parameters": {"type": "object"}, "operation": "download"}\n  ]\n}\n' >bad-op.json
run connectors check bad-op.json
is "$RC" 1 "an unknown operation fails the check"
like "$(err)" "bad-op.json line 6 column [0-9]+: driver 'fs' has no operation 'download' \\(it has: list, fetch\\)" "with line, column and the alternatives"
printf '{"driver": "ftp", "description": "d", "tools": []}' >bad-driver.json
run connectors check bad-driver.json --json
jq_ok '.ok == false and (.error | test("line 1 column 12: unknown driver .ftp. \\(known: fs"))' "unknown driver, as JSON"
printf '{"driver": "fs", "tools": [' >broken.json
run connectors check broken.json
like "$(err)" "broken.json line 1 column [0-9]+:" "broken JSON: line and column"
sed 's/"fetch": "fetch_file"/"fetch": "get_file"/' "$CLI_DIR/../../connectors/fs.json" >bad-explore.json
run connectors check bad-explore.json
like "$(err)" "explore.fetch names 'get_file', which is not a tool" "explore must name real tools"

# A new source type by configuration: no C code, no rebuild.
mkdir -p kits notes/sub
printf '{"notes": "notes"}\n' >kits/toolkits.json
sed -e 's/"name": "fs"/"name": "notes"/' \
    -e 's/"description": "Files in a local directory tree[^"]*"/"description": "A folder of meeting notes."/' \
    "$CLI_DIR/../../connectors/fs.json" >kits/notes.json
printf 'standup: the zephyrine migration slips a week\n' >notes/sub/monday.txt
printf 'retro: fewer meetings\n' >notes/friday.txt
run connectors check kits/notes.json
is "$RC" 0 "the new toolkit checks"
TRAWL_CONNECTORS=$SCRATCH/kits run connectors list
like "$(out)" "notes +toolkit notes +driver fs .*kits" "the new type is listed, from its directory"
cat >sources.json <<JSON
{"sources": [{"name": "meetings", "type": "notes", "path": "$SCRATCH/notes"}]}
JSON
run onboard acme sources.json
is "$RC" 1 "without the directory the type is unknown"
like "$(err)" "unknown source type 'notes'" "and says so"
TRAWL_CONNECTORS=$SCRATCH/kits run onboard acme sources.json --json
is "$RC" 0 "with TRAWL_CONNECTORS the new type onboards"
jq_ok '.sources.meetings.documents_new == 2 and .sources.meetings.type == "notes"' "both notes are documents"
run onboard acme sources.json --connectors "$SCRATCH/kits" --json
is "$RC" 0 "--connectors DIR works as well"
run search acme zephyrine
like "$(out)" "monday.txt" "the new source's text is searchable"
done_testing
