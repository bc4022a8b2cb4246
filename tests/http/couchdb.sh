#!/usr/bin/env bash
# The couchdb toolkit against a real CouchDB-compatible server: npm's
# pouchdb-server, pinned by tests/http/couchdb/package-lock.json and installed
# under .cache/ with `npm ci`, in memory on a free port with an admin. Asserts
# key-based _all_docs paging, attachments as their own documents, the _changes
# feed of a second run (an edit, a deletion, a new document, a removed
# attachment) and a wrong basic-auth password as a clear error.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/../cli/lib.sh" "$@"

PKG=$ROOT/.cache/couchdb
if ! cmp -s "$HERE/couchdb/package-lock.json" "$PKG/package-lock.json" ||
    [ ! -x "$PKG/node_modules/.bin/pouchdb-server" ]; then
    mkdir -p "$PKG"
    cp "$HERE/couchdb/package.json" "$HERE/couchdb/package-lock.json" "$PKG/"
    if ! npm ci --prefix "$PKG" --no-audit --no-fund >"$SCRATCH/npm.log" 2>&1; then
        rm -f "$PKG/package-lock.json"
        echo "1..0 # SKIP npm ci of pouchdb-server failed: $(tail -1 "$SCRATCH/npm.log")"
        exit 0
    fi
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p srv
(cd srv && exec "$PKG/node_modules/.bin/pouchdb-server" --in-memory --host 127.0.0.1 --port "$PORT" \
    --config "$SCRATCH/srv/config.json" --no-stdout-logs) >srv/out.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
C=http://127.0.0.1:$PORT
for _ in $(seq 150); do curl -sf "$C/" >/dev/null && break; sleep 0.1; done
like "$(curl -s "$C/")" '"version":"4.2.0"' "pouchdb-server 4.2.0 answers"
export COUCH_PW=c0uch-admin-pw COUCH_BAD=not-the-password
curl -s -XPUT "$C/_config/admins/admin" -d "\"$COUCH_PW\"" >/dev/null
cj() { curl -s -u "admin:$COUCH_PW" -H 'Content-Type: application/json' "$@"; }
like "$(curl -s -u admin:wrong "$C/_all_dbs")" "unauthorized" "the admin's password is required"
cj -XPUT "$C/licences" >/dev/null

# ---- 13 documents from real text, 4 with an attachment ------------------------
python3 - "$C" "$COUCH_PW" <<'PY' >docs.json
import base64, json, os, sys
docs = []
names = ["Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.3", "GPL-2", "GPL-3", "LGPL-2.1",
         "LGPL-3", "MPL-1.1", "MPL-2.0", "GPL-1", "LGPL-2"]
for i, n in enumerate(names):
    text = open("/usr/share/common-licenses/" + n, errors="replace").read()
    d = {"_id": "lic-%s" % n.lower(), "name": n, "summary": text[:1500], "lines": text.count("\n")}
    if i % 3 == 0:
        d["_attachments"] = {"full-%s.txt" % n: {"content_type": "text/plain",
                             "data": base64.b64encode(text.encode()).decode()}}
    docs.append(d)
print(json.dumps({"docs": docs}))
PY
cj -XPOST "$C/licences/_bulk_docs" -d @docs.json >bulk.json
NDOCS=$("$JQ" '[.[] | select(.ok)] | length' bulk.json)
NATT=$("$JQ" '[.docs[] | select(._attachments)] | length' docs.json)
is "$NDOCS,$NATT" "13,5" "13 documents stored, 5 with an attachment"

docs() { sqlite3 "$TRAWL_DB" "SELECT count(*) FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.name = '$1' AND d.deleted = 0"; }
reqs() { grep -c "$1" srv/log.txt; }
cat >sources.json <<JSON
{"client": "acme", "sources": [
  {"name": "couch", "type": "couchdb", "url": "$C", "db": "licences", "user": "admin", "password_env": "COUCH_PW", "page_size": 4}
]}
JSON

# ---- first run: every document and every attachment ---------------------------
run onboard acme sources.json --json
is "$RC" 0 "first onboard exits 0" "$(tail -5 "$ERR")"
is "$(docs couch)" $((NDOCS + NATT)) "every document and every attachment is a document"
is "$(reqs 'GET /licences/_all_docs')" 4 "_all_docs paged 4 at a time: 4 requests for 13 rows"
is "$(grep -o 'startkey=[^& ]*&skip=1' srv/log.txt | tr '\n' ' ')" \
    "startkey=%22lic-cc0-1.0%22&skip=1 startkey=%22lic-gpl-3%22&skip=1 startkey=%22lic-mpl-1.1%22&skip=1 " \
    "each next page starts after the last key of the one before (startkey, skip=1)"
is "$(sqlite3 "$TRAWL_DB" "SELECT external_id FROM documents WHERE external_id LIKE 'lic-apache-2.0.json/%'")" \
    "lic-apache-2.0.json/full-Apache-2.0.txt" "an attachment's path is its document's, '/', its name"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id = 'lic-gpl-3.json/full-GPL-3.txt'")" \
    "TERMS AND CONDITIONS" "the attachment's bytes were downloaded and extracted"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id = 'lic-bsd.json'")" \
    "Redistribution" "a document's JSON is extracted"

# ---- second run: the _changes feed ------------------------------------------------
rev() { cj "$C/licences/$1" | "$JQ" -r ._rev; }
cj -XPUT "$C/licences/lic-bsd" -d "{\"_rev\": \"$(rev lic-bsd)\", \"name\": \"BSD\", \"summary\": \"edited: quokka clause\"}" >/dev/null
cj -XDELETE "$C/licences/lic-apache-2.0?rev=$(rev lic-apache-2.0)" >/dev/null
GPL3=$(cj "$C/licences/lic-gpl-3" | "$JQ" -c 'del(._attachments)')
cj -XPUT "$C/licences/lic-gpl-3" -d "$GPL3" >/dev/null
cj -XPUT "$C/licences/notes" -d '{"name": "notes", "_attachments": {"todo.txt": {"content_type": "text/plain", "data": "'"$(printf 'check the zanzibar licence\n' | base64)"'"}}}' >/dev/null
L0=$(wc -l <srv/log.txt)
run onboard acme sources.json --json
is "$RC" 0 "second onboard exits 0" "$(tail -5 "$ERR")"
tail -n +$((L0 + 1)) srv/log.txt >run2.log
is "$(grep -c '_all_docs' run2.log)" 0 "no full listing"
ok "$(grep -q '_changes?since=[1-9]' run2.log; echo $?)" "the _changes feed since the stored sequence"
jq_ok '.sources.couch.documents_new == 2 and .sources.couch.documents_updated == 2 and .sources.couch.documents_deleted == 3' \
    "2 new (a document, its attachment), 2 updated, 3 deleted ($("$JQ" -c '.sources.couch | [.documents_new, .documents_updated, .documents_deleted]' "$OUT"))"
gone() { sqlite3 "$TRAWL_DB" "SELECT deleted FROM documents WHERE external_id = '$1'"; }
is "$(gone lic-apache-2.0.json),$(gone lic-apache-2.0.json/full-Apache-2.0.txt)" "1,1" \
    "a deleted document is marked deleted, with its attachment"
is "$(gone lic-gpl-3.json),$(gone lic-gpl-3.json/full-GPL-3.txt)" "0,1" \
    "an attachment removed from a document is marked deleted"
like "$(sqlite3 "$TRAWL_DB" "SELECT text FROM documents WHERE external_id = 'notes.json/todo.txt'")" \
    "zanzibar" "the new document's attachment"
is "$(docs couch)" $((NDOCS + NATT - 3 + 2)) "the knowledge base matches the database"

# ---- a wrong password: a clear error --------------------------------------------------
cat >bad.json <<JSON
{"client": "acme", "sources": [
  {"name": "badcouch", "type": "couchdb", "url": "$C", "db": "licences", "user": "admin", "password_env": "COUCH_BAD"}
]}
JSON
run onboard acme bad.json --json
isnt "$RC" 0 "a wrong password fails the run"
jq_ok '.sources.badcouch.status == "failed"' "the source failed"
"$JQ" -e '.sources.badcouch.attempts == 1' "$OUT" >/dev/null
ok $? "refused credentials are not retried"
like "$("$JQ" -r '.sources.badcouch.error' "$OUT")" "HTTP 401 \\(the credentials were refused\\).*Name or password is incorrect" \
    "the run record has the server's reason ($("$JQ" -r '.sources.badcouch.error' "$OUT" | head -c 200))"

done_testing
