#!/usr/bin/env bash
# Hostile full-text queries never reach SQLite as syntax: exit 0 with results or
# "no entries match", or exit 1 with "no searchable words"; the db stays intact.
. "$(dirname "$0")/lib.sh" "$@"

SQLITE3=${SQLITE3:-$(command -v sqlite3 || echo /usr/bin/sqlite3)}
[ -x "$SQLITE3" ] || { echo "Bail out! the sqlite3 shell is required"; exit 1; }
DB=$SCRATCH/kb.db
export TRAWL_DB=$DB
import_fixture "$DB" acme "$DATA/acme.jsonl"
import_fixture "$DB" globex "$DATA/globex.jsonl"
BEFORE=$("$TRAWL" export acme; "$TRAWL" export globex; "$SQLITE3" "$DB" "SELECT type, name FROM sqlite_schema ORDER BY name")

long_words=$(printf 'invoice %.0s' $(seq 1 1280))     # 10 KB, far more terms than the cap
long_word=$(printf 'a%.0s' $(seq 1 10240))             # one 10 KB word
long_parens=$(printf '((%.0s' $(seq 1 5120))           # 10 KB of operators
QUERIES=(
    '"' '""' '" "' '(' ')' '()' '*' '**' 'AND' 'OR' 'NOT' 'OR OR' 'NOT x' 'a:b' 'col:term'
    'title:invoice' '{title}:invoice' 'NEAR(a b)' 'NEAR(invoice hosting, 3)' '^x' '^invoice'
    '"unbalanced' 'unbalanced"' 'a OR' 'OR a' 'a AND' 'AND a' 'a NOT' '-' '--' '- -' '-invoice'
    '--help' '-x' 'x*y' 'invoice*' '*invoice' '+invoice' 'invoice -' '"invoice" *' '"a" "b'
    "'; DROP TABLE knowledge_entries; --" "invoice'; DROP TABLE x; --" "' OR 1=1 --"
    '"); DELETE FROM knowledge_entries; --' 'x UNION SELECT * FROM clients'
    $'\xff\xfe' $'invoice\xff' $'\xc3' $'\xed\xa0\x80' $'caf\xc3\xa9' $'a\x01b' $'tab\there'
    '%' '_' '\' '\"' '$(id)' '`id`' '<script>' '[a]' '{a}' '@@' '#1' '&&' '||' ';'
    "$long_words" "$long_word" "$long_parens"
)

# check DESC RC: the rules every hostile query must satisfy.
check()
{
    local desc=$1 why=
    if [ "$RC" -eq 0 ]; then
        [ -s "$OUT" ] || why="exit 0 with no output"
    elif [ "$RC" -eq 1 ]; then
        grep -Eq "the query has no searchable words|a query needs at least one word that is not excluded" "$ERR" ||
            why="exit 1 without 'no searchable words'"
        [ "$(wc -l <"$ERR")" -eq 1 ] || why="$why; message is not one line"
    else
        why="exit $RC"
    fi
    grep -Eqi "$SQL_LEAK" "$ERR" "$OUT" && why="$why; SQL error text leaked"
    if [ -z "$why" ]; then pass "$desc"; else fail "$desc" "$why" "stderr: $(err | head -c 300)"; fi
}

i=0
for q in "${QUERIES[@]}"; do
    i=$((i + 1))
    shown=$(printf '%s' "$q" | head -c 40 | od -An -c | tr -s ' \n' ' ')
    TODO=

    run search acme -- "$q"
    check "search #$i [$shown]"
    if [ "$RC" -eq 0 ]; then
        if grep -q '^no entries match ' "$OUT" || grep -Eq '  #[0-9]+$' "$OUT"; then
            pass "search #$i prints hits or 'no entries match'"
        else
            fail "search #$i prints hits or 'no entries match'" "$(out | head -c 300)"
        fi
    fi
    run search --json acme -- "$q"
    check "search --json #$i"
    [ "$RC" -ne 0 ] || jq_ok '(.hits|type) == "array"' "search --json #$i prints valid JSON"
    run search --under finance acme -- "$q"
    check "search --under #$i"
    run forum search --client acme -- "$q"
    check "forum search --client #$i"
done
TODO=

# What the safe query builder makes of some of them.
ids() { "$TRAWL" search --json --limit 100 acme -- "$1" | jq -r '.hits[].id' | sort | tr '\n' ' '; }
INV=$(ids invoice)
isnt "$INV" "" "baseline: 'invoice' has hits"
for q in '(invoice)' 'invoice"' '"invoice' 'invoice AND' 'AND invoice' '^invoice' '+invoice' 'invoice OR' \
    "'invoice'; --" $'invoice\xff' 'invoice:' '{invoice}' "$long_words"; do
    is "$(ids "$q")" "$INV" "[$(printf '%s' "$q" | head -c 30 | od -An -c | tr -s ' \n' ' ')] finds what 'invoice' finds"
done
run search acme -- '"'
is "$RC" 1 "a lone quote: exit 1"
like "$(err)" "^trawl: search '\"': the query has no searchable words$" "a lone quote: 'no searchable words' naming the query"
run search acme -- 'NOT x'
like "$RC $(err)" "^1 trawl: search 'NOT x': a query needs at least one word that is not excluded$" \
    "'NOT x': exit 1, every word is excluded"
run search acme -- "$long_parens"
is "$RC" 1 "10 KB of parentheses: exit 1"
like "$(err)" "no searchable words$" "10 KB of parentheses: the message still ends with the reason"
run search acme -- '--help'
is "$RC" 0 "'--help' after '--' is a query, not a help request"
is "$(ids 'NEAR(invoice hosting, 3)')" "$(ids 'near invoice hosting 3')" "NEAR(...) is searched as plain words"
is "$(ids 'title:hosting')" "$(ids 'title hosting')" "a column filter is searched as plain words"
is "$(ids "'; DROP TABLE entries; --")" "$(ids 'drop table entries')" "an SQL injection is searched as plain words"
is "$(ids 'hosting:invoice')" "$(ids 'hosting invoice')" "'a:b' is two words"
isnt "$(ids 'hosting invoice')" "" "'hosting invoice' has hits"

# The database is intact and unchanged.
is "$("$SQLITE3" "$DB" "PRAGMA integrity_check")" "ok" "integrity_check is ok after the hostile queries"
"$SQLITE3" "$DB" "INSERT INTO entries_fts(entries_fts) VALUES('integrity-check');" 2>"$ERR"
ok $? "the entries FTS index passes its integrity-check"
"$SQLITE3" "$DB" "INSERT INTO forum_fts(forum_fts) VALUES('integrity-check');" 2>"$ERR"
ok $? "the forum FTS index passes its integrity-check"
AFTER=$("$TRAWL" export acme; "$TRAWL" export globex; "$SQLITE3" "$DB" "SELECT type, name FROM sqlite_schema ORDER BY name")
is "$AFTER" "$BEFORE" "exports and schema are unchanged"
run tree acme --json
is "$(jqv '[.nodes[].entries_total]|add')" 30 "all 30 entries are still there"

done_testing
