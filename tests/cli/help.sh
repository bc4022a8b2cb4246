#!/usr/bin/env bash
# Help texts, usage errors and exit codes (0 ok, 1 failure, 2 usage).
. "$(dirname "$0")/lib.sh" "$@"

COMMANDS="tree search show forum runs import export doctor"

run --help
is "$RC" 0 "trawl --help exits 0"
is "$(err)" "" "trawl --help writes nothing to stderr"
for c in $COMMANDS; do
    like "$(out)" "^  $c +[a-z]" "trawl --help lists '$c' with a summary"
done
like "$(out)" '--db PATH' "trawl --help documents --db"
# Commands added later get their --help checked too.
LISTED=$(sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$OUT")
ALL=$(printf '%s\n' $COMMANDS $LISTED | sort -u)

run help
is "$RC" 0 "trawl help exits 0"
like "$(out)" '^  search ' "trawl help lists the commands"

run --version
is "$RC" 0 "trawl --version exits 0"
like "$(out)" '^trawl [^ ]+$' "trawl --version prints 'trawl VERSION'"

for c in $ALL; do
    run "$c" --help
    if [ "$RC" -eq 0 ] && grep -q "^usage: trawl \[--db PATH\] $c " "$OUT" && [ ! -s "$ERR" ] &&
        [ "$(wc -l <"$OUT")" -ge 3 ]; then
        pass "trawl $c --help: exit 0, usage line and help on stdout"
    else
        fail "trawl $c --help: exit 0, usage line and help on stdout" "exit $RC" "$(out)" "$(err)"
    fi
    run help "$c"
    is "$(out)" "$(cd "$SCRATCH" && "$TRAWL" "$c" --help)" "trawl help $c equals trawl $c --help"
done
# --help is honoured anywhere after the command, even with other bad arguments.
run search acme --limit x --help
is "$RC" 0 "trawl search ... --help wins over a bad option value"
run forum search --help
like "$(out)" 'forum post' "trawl forum search --help shows both forum forms"
like "$(cat "$OUT")" '--phase explore\|structure' "forum help lists the phases"
run tree -h
is "$RC" 0 "trawl tree -h exits 0"
[ ! -e default.db ]
ok $? "help never creates the database"

# ---- usage errors: exit 2, the message names the culprit --------------------
expect_fail 2 "unknown command 'frobnicate'" "unknown command is named, exit 2" frobnicate
known=$(sed -n 's/.*(known: \(.*\))$/\1/p' "$ERR")
for c in $ALL; do
    like " $known " " $c " "unknown command message lists '$c' among the known commands"
done
expect_fail 2 "unknown option '--frob'" "unknown global option is named, exit 2" --frob tree acme
expect_fail 2 "usage: trawl" "no command at all: usage, exit 2"
expect_fail 2 "usage: trawl" "--db without a command: exit 2" --db x.db
expect_fail 2 "needs a path" "--db= with an empty path: exit 2" --db= tree acme

for c in tree search show runs import export; do
    expect_fail 2 "unrecognized option '--bogus'" "trawl $c --bogus: exit 2 naming the option" \
        "$c" --bogus acme
    expect_stderr_match "^usage: trawl $c " "trawl $c --bogus prints the $c usage line"
done
expect_fail 2 "unrecognized option '--bogus'" "trawl forum search --bogus: exit 2" forum search --bogus q
expect_fail 2 "unrecognized option '--bogus'" "trawl forum post --bogus: exit 2" forum post --bogus

expect_fail 2 "missing CLIENT" "tree without CLIENT: exit 2" tree
expect_fail 2 "too many arguments" "tree with three arguments: exit 2" tree acme finance extra
expect_fail 2 "missing CLIENT or QUERY" "search without QUERY: exit 2" search acme
expect_fail 2 "missing CLIENT or QUERY" "search without anything: exit 2" search
expect_fail 2 "too many arguments \(quote the query\)" "search with an unquoted query: exit 2" \
    search acme two words
expect_fail 2 "missing CLIENT or ENTRY_ID" "show without ENTRY_ID: exit 2" show acme
expect_fail 2 "ENTRY_ID must be a positive number, not 'abc'" "show with a non-numeric id: exit 2" \
    show acme abc
expect_fail 2 "ENTRY_ID must be a positive number, not '-5'" "show with a negative id: exit 2" \
    show acme -- -5
expect_fail 2 "ENTRY_ID must be a positive number, not '12x'" "show with a trailing junk id: exit 2" \
    show acme 12x
expect_fail 2 "too many arguments" "runs with two clients: exit 2" runs a b
expect_fail 2 "missing CLIENT or FILE" "import without FILE: exit 2" import acme
expect_fail 2 "missing CLIENT" "export without CLIENT: exit 2" export
expect_fail 2 "unknown format 'pdf' \(known: jsonl, markdown\)" "export --format pdf: exit 2" \
    export acme --format pdf
expect_fail 2 "missing 'search' or 'post'" "forum without a subcommand: exit 2" forum
expect_fail 2 "unknown forum command 'list'" "forum list: exit 2 naming it" forum list
expect_fail 2 "missing QUERY" "forum search without QUERY: exit 2" forum search
expect_fail 2 "--client and --global exclude each other" "forum search --client --global: exit 2" \
    forum search x --client acme --global
expect_fail 2 "needs --agent, --source, --phase and --title" "forum post without fields: exit 2" \
    forum post --agent a --source gmail --phase explore
expect_fail 2 "exactly one of --client C and --global" "forum post without scope: exit 2" \
    forum post --agent a --source gmail --phase explore --title t --body b
expect_fail 2 "exactly one of --client C and --global" "forum post with both scopes: exit 2" \
    forum post --agent a --source gmail --phase explore --title t --body b --client acme --global
expect_fail 2 "--depth needs a positive number, not '0'" "tree --depth 0: exit 2" tree acme --depth 0
expect_fail 2 "--depth needs a positive number, not 'two'" "tree --depth two: exit 2" tree acme --depth two
expect_fail 2 "--limit needs a positive number, not '-1'" "search --limit -1: exit 2" search acme q --limit -1
expect_fail 2 "--limit needs a positive number, not '0'" "forum search --limit 0: exit 2" \
    forum search q --limit 0
expect_fail 2 "requires an argument" "search --under without a value: exit 2" search acme q --under
[ ! -e default.db ]
ok $? "usage errors never create the database"

done_testing
