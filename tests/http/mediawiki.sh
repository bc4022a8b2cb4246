#!/usr/bin/env bash
# The mediawiki toolkit against a real MediaWiki (Debian's mediawiki package,
# SQLite backend) installed offline into the scratch directory and served by
# `php -S`: every page becomes a document, a second run fetches only the page
# edited since, the bot password logs in and a wrong one is a clear error
# while the run goes on.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../cli/lib.sh" "$@"

MW=${TRAWL_MEDIAWIKI:-/usr/share/mediawiki}
if [ ! -f "$MW/maintenance/install.php" ] || ! php -m 2>/dev/null | grep -qx pdo_sqlite; then
    echo "1..0 # SKIP mediawiki or php-sqlite3 is not installed (scripts/install-deps)"
    exit 0
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
W=$SCRATCH/wiki
mkdir -p "$W/data" "$W/pages"
export MW_CONFIG_FILE=$W/LocalSettings.php
mw() { php "$MW/maintenance/$1.php" "${@:2}"; }

# ---- a wiki with real text: the licences Debian ships ------------------------
mw install --dbtype=sqlite --dbpath="$W/data" --dbname=wiki --confpath="$W" \
    --server="http://127.0.0.1:$PORT" --scriptpath= --pass='Adm1n-pass-word!' --lang=en \
    TrawlWiki Admin >"$W/install.log" 2>&1
is "$?" 0 "mediawiki installed offline (sqlite)" "$(tail -5 "$W/install.log")"
cat >>"$W/LocalSettings.php" <<'PHP'
$wgEnableBotPasswords = true;
$wgCacheDirectory = false;
PHP
for f in GPL-3 Apache-2.0 MPL-2.0 BSD Artistic LGPL-2.1 CC0-1.0; do
    [ -f "/usr/share/common-licenses/$f" ] && cp "/usr/share/common-licenses/$f" "$W/pages/Licence $f"
done
mw importTextFiles --bot --summary "import" "$W/pages"/* >"$W/import.log" 2>&1
like "$(tail -1 "$W/import.log")" "succeeded, 0 skipped" "pages imported with importTextFiles.php"
BOTPW=trawlbotpass0123456789abcdefghij
mw createBotPassword --appid trawl --grants basic Admin "$BOTPW" >"$W/bot.log" 2>&1
like "$(cat "$W/bot.log")" "Success" "bot password created (Admin@trawl)"

php -S "127.0.0.1:$PORT" -t "$MW" >"$W/php.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
A=http://127.0.0.1:$PORT/api.php
for _ in $(seq 100); do curl -sf "$A?action=query&format=json" >/dev/null && break; sleep 0.1; done
pages() { curl -s "$A?action=query&list=allpages&aplimit=max&format=json&formatversion=2" | "$JQ" '.query.allpages | length'; }
N=$(pages)
ok "$([ "${N:-0}" -ge 5 ]; echo $?)" "the wiki answers: $N pages"

docs() { sqlite3 "$TRAWL_DB" "SELECT count(*) FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.name = '$1' AND d.deleted = 0"; }
export WIKI_PW=$BOTPW WIKI_BAD=not-the-bot-password
cat >sources.json <<JSON
{"client": "acme", "sources": [
  {"name": "wiki", "type": "mediawiki", "url": "$A", "user": "Admin@trawl", "password_env": "WIKI_PW", "page_size": 2}
]}
JSON

# ---- first run: every page --------------------------------------------------------
run onboard acme sources.json --json
is "$RC" 0 "first onboard exits 0" "$(tail -5 "$ERR")"
jq_ok '.sources.wiki.status == "ok"' "the wiki source is ok"
is "$(docs wiki)" "$N" "every page of the wiki (allpages: $N) is a document"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id = 'Licence GPL-3.wiki'")" \
    "GNU GENERAL PUBLIC LICENSE" "a page's wikitext is the document's text"
is "$(sqlite3 "$TRAWL_DB" "SELECT count(*) FROM documents WHERE external_id = 'Main Page.wiki'")" 1 \
    "the installer's Main Page too"
is "$(grep -c 'titles=' "$W/php.log")" 0 "the listing (generator + revisions) carried every page's wikitext: no request per page"

# ---- second run: only what changed -------------------------------------------------
sleep 1 # MediaWiki timestamps have one-second resolution
printf 'Relicensed: this page now reads zanzibar quokka.\n' |
    mw edit --user Admin --summary "trawl test edit" "Licence BSD" >"$W/edit.log" 2>&1
like "$(cat "$W/edit.log")" "done" "one page edited with edit.php"
L0=$(wc -l <"$W/php.log")
run onboard acme sources.json --json
is "$RC" 0 "second onboard exits 0" "$(tail -5 "$ERR")"
tail -n +$((L0 + 1)) "$W/php.log" >run2.log
is "$(grep -c 'generator=allpages' run2.log)" 0 "the second run lists no pages (allpages)"
ok "$(grep -q 'list=recentchanges.*rcstart=20' run2.log; echo $?)" "it reads recent changes since the stored time"
is "$(grep -c 'prop=revisions' run2.log)" 1 "and fetches exactly one page's content"
jq_ok '.sources.wiki.documents_updated == 1 and .sources.wiki.documents_new == 0' \
    "exactly one updated document, nothing new"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id = 'Licence BSD.wiki'")" \
    "zanzibar quokka" "the edited page's new text"
is "$(docs wiki)" "$N" "no page lost by the incremental run"

# ---- a wrong bot password: a clear error, the run goes on ------------------------
cat >bad.json <<JSON
{"client": "acme", "sources": [
  {"name": "wikibad", "type": "mediawiki", "url": "$A", "user": "Admin@trawl", "password_env": "WIKI_BAD"},
  {"name": "wiki2", "type": "mediawiki", "url": "$A", "user": "Admin@trawl", "password_env": "WIKI_PW", "page_size": 50}
]}
JSON
run onboard acme bad.json --json
isnt "$RC" 0 "a run with a failed source does not exit 0"
jq_ok '.sources.wikibad.status == "failed" and .sources.wiki2.status == "ok"' \
    "the source with the wrong password fails, the other finishes"
"$JQ" -e '.sources.wikibad.attempts == 1' "$OUT" >/dev/null
ok $? "a refused login is not retried"
like "$("$JQ" -r '.sources.wikibad.error' "$OUT")" "login as 'Admin@trawl' failed: .*(Incorrect username or password|WrongPass|Failed)" \
    "the run record names the user and the wiki's reason"
is "$(docs wiki2)" "$N" "the other source has every page"
run runs acme --json
like "$(cat "$OUT")" "login as 'Admin@trawl' failed" "the error is kept in the run record (trawl runs)"

done_testing
