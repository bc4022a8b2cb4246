#!/usr/bin/env python3
"""Local stand-ins for the REST APIs trawl's http toolkits talk to, with the
response shapes of the providers' API references: Google Drive v3, Gmail v1,
Sheets v4, the OAuth 2 token endpoint, Slack Web API, Notion, CouchDB and the
MediaWiki Action API. Data is real text (the licence texts of this system).

Fault injection and request accounting through /__control and /__stats:
  POST /__control {"fail429": N, "retry_after": S, "fail500": N,
                   "slow_ms": M, "reset": N, "expire_after": K, ...}
  GET  /__stats   {"requests": {path: n}, "times": {prefix: [t...]},
                   "refreshes": n, "auth_seen": [...], "bad_auth": n}
Usage: fakeapi.py PORTFILE DATADIR
"""
import base64
import email.utils
import glob
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"fail429": 0, "retry_after": 1, "fail500": 0, "slow_ms": 0, "reset": 0,
         "expire_after": 0, "fault_prefix": "", "budget_prefix": "/budget"}
STATS = {"requests": {}, "times": {}, "refreshes": 0, "bad_auth": 0, "served429": 0,
         "served500": 0, "after429": [], "log": [], "auth_headers": []}
TOKENS = {}  # access token -> requests left (None: unlimited)
CLIENT = {"id": "trawl-test.apps.example", "secret": "s3cr3t-client", "refresh": "1//refresh-abc"}
WIKI_USER = ("Bot@trawl", "wiki-bot-password-9")
COUCH_USER = ("admin", "couch-pass-7")
SLACK_TOKEN = "xoxb-test-slack-token-123"
NOTION_TOKEN = "secret_notion_integration_456"


def texts():
    out = []
    for p in sorted(glob.glob("/usr/share/common-licenses/*")):
        if os.path.isfile(p) and not os.path.islink(p):
            with open(p, "rb") as f:
                out.append((os.path.basename(p), f.read().decode("utf-8", "replace")))
    return out


TEXTS = texts()


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


class Data:
    def __init__(self, datadir):
        self.datadir = datadir
        base = 1700000000
        # Drive: plain files, Google Docs and Sheets
        self.drive = []
        for i, (name, text) in enumerate(TEXTS * 3):
            kind = i % 5
            fid = "1%s%04d" % ("x" * 20, i)
            if kind == 0:
                f = {"kind": "drive#file", "id": fid, "name": "%s notes %d" % (name, i),
                     "mimeType": "application/vnd.google-apps.document"}
            elif kind == 1:
                f = {"kind": "drive#file", "id": fid, "name": "%s table %d" % (name, i),
                     "mimeType": "application/vnd.google-apps.spreadsheet"}
            else:
                f = {"kind": "drive#file", "id": fid, "name": "%s-%d.txt" % (name, i),
                     "mimeType": "text/plain", "size": str(len(text.encode()))}
            f["modifiedTime"] = iso(base + i * 60)
            f["version"] = str(10 + i)
            f["trashed"] = False
            f["_text"] = text
            self.drive.append(f)
        # Gmail: real RFC 822 messages
        self.gmail = []
        for i, (name, text) in enumerate(TEXTS):
            raw = ("From: Alice Example <alice@example.com>\r\nTo: team@example.com\r\n"
                   "Subject: %s licence review %d\r\nDate: %s\r\nMessage-ID: <m%d@example.com>\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n%s" %
                   (name, i, email.utils.formatdate(base + i * 3600), i, text[:4000]))
            self.gmail.append({"id": "18c%013x" % (i + 1), "threadId": "18c%013x" % (i // 2 + 1),
                               "raw": raw})
        # Gmail history: (historyId, kind, message) after the mailbox's first state
        self.gmail_hist = 5000
        self.gmail_events = []
        # Slack channels and messages
        self.slack = []
        for c in range(5):
            msgs = []
            for k in range(45):
                name, text = TEXTS[(c * 7 + k) % len(TEXTS)]
                line = text.strip().splitlines()[k % max(1, len(text.strip().splitlines()))]
                msgs.append({"type": "message", "user": "U0%d%d" % (c, k % 4),
                             "text": "%s: %s" % (name, line.strip()),
                             "ts": "%d.%06d" % (base + c * 10000 + k * 7, k)})
            msgs.reverse()  # newest first, as conversations.history gives them
            self.slack.append({"id": "C0%dABCDEF" % c, "name": "channel-%d" % c, "is_channel": True,
                               "created": base, "updated": (base + c) * 1000,
                               "num_members": 3 + c, "_messages": msgs})
        # Notion pages with paragraph blocks
        self.notion = []
        for i, (name, text) in enumerate(TEXTS[:12]):
            paras = [p.strip().replace("\n", " ") for p in text.split("\n\n") if p.strip()][:130]
            pid = "59833787-2cf9-4fdf-8782-e53db20768%02d" % i
            blocks = []
            for j, p in enumerate(paras):
                t = "heading_1" if j == 0 else "paragraph"
                blocks.append({"object": "block", "id": "%s-b%03d" % (pid[:30], j), "type": t,
                               "has_children": False,
                               t: {"rich_text": [{"type": "text", "plain_text": p[:1800],
                                                  "text": {"content": p[:1800]}}]}})
            self.notion.append({"object": "page", "id": pid, "created_time": iso(base),
                                "last_edited_time": iso(base + i * 100), "archived": False,
                                "url": "https://www.notion.so/%s" % pid.replace("-", ""),
                                "properties": {"title": {"id": "title", "type": "title", "title": [
                                    {"type": "text", "plain_text": "%s handbook" % name}]}},
                                "_blocks": blocks})
        # Sheets
        self.sheets = {"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms": {
            "Licences": [["name", "lines", "first line"]] +
                        [[n, str(len(t.splitlines())), t.strip().splitlines()[0][:80]]
                         for n, t in TEXTS],
            "Words": [["word", "count"]] + [["w%d" % i, str(i * 3)] for i in range(250)]}}
        # CouchDB
        self.couch_seq = 0
        self.couch = {}  # id -> {"_id","_rev",...}
        self.couch_changes = []  # (seq, id, rev, deleted)
        for i, (name, text) in enumerate(TEXTS * 2):
            self.couch_put("doc-%04d" % i, {"title": "%s %d" % (name, i), "body": text[:3000],
                                            "type": "licence"})
        # MediaWiki pages
        self.wiki = {}
        self.wiki_rc = []
        self.wiki_rev = 100
        self.wiki_clock = base
        for i, (name, text) in enumerate(TEXTS * 2):
            self.wiki_edit("%s %s" % ("Licence" if i < len(TEXTS) else "Copy of", name), text)

    def couch_put(self, did, body, deleted=False):
        self.couch_seq += 1
        old = self.couch.get(did)
        n = int(old["_rev"].split("-")[0]) + 1 if old else 1
        rev = "%d-%032x" % (n, hash((did, self.couch_seq)) & (2 ** 128 - 1))
        if deleted:
            self.couch.pop(did, None)
        else:
            doc = dict(body)
            doc["_id"] = did
            doc["_rev"] = rev
            self.couch[did] = doc
        self.couch_changes = [c for c in self.couch_changes if c[1] != did]
        self.couch_changes.append((self.couch_seq, did, rev, deleted))

    def wiki_edit(self, title, text):
        self.wiki_rev += 1
        self.wiki_clock += 60
        pid = self.wiki[title]["pageid"] if title in self.wiki else len(self.wiki) + 1
        self.wiki[title] = {"pageid": pid, "ns": 0, "title": title, "lastrevid": self.wiki_rev,
                            "touched": iso(self.wiki_clock), "text": text}
        self.wiki_rc.append({"type": "edit", "ns": 0, "title": title, "pageid": pid,
                             "revid": self.wiki_rev, "timestamp": iso(self.wiki_clock)})

    def mutate(self):
        """What changes between the first and the second run."""
        self.drive[3]["modifiedTime"] = iso(1800000000)
        self.drive[3]["version"] = "999"
        self.drive[3]["_text"] = "edited after the first run: quarterly payroll figures"
        self.drive.append({"kind": "drive#file", "id": "1new", "name": "added later.txt",
                           "mimeType": "text/plain", "modifiedTime": iso(1800000100),
                           "version": "1", "trashed": False, "_text": "a file added later"})
        self.couch_put("doc-0002", {"title": "edited", "body": "edited body zanzibar", "type": "x"})
        self.couch_put("doc-0005", {}, deleted=True)
        self.couch_put("doc-new", {"title": "new doc", "body": "fresh couch document", "type": "x"})
        self.wiki_clock = 1800000000
        self.wiki_edit("Licence GPL-3", "rewritten wiki page about quokkas")
        self.wiki_edit("Brand new page", "a page created after the first run")
        # Gmail: two messages arrive, one is deleted, one only gets a label (no document change)
        for k in range(2):
            i = len(self.gmail) + 1
            raw = ("From: Bob Example <bob@example.com>\r\nTo: team@example.com\r\n"
                   "Subject: later message %d\r\nMessage-ID: <later%d@example.com>\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\narrived after the first run, "
                   "about wombats %d\r\n" % (k, k, k))
            m = {"id": "18d%013x" % i, "threadId": "18d%013x" % i, "raw": raw}
            self.gmail.insert(0, m)
            self.gmail_event("messagesAdded", m)
        gone = self.gmail.pop(-1)
        self.gmail_event("messagesDeleted", gone)
        self.gmail_event("labelsAdded", self.gmail[3])
        # Notion: one page edited, one added (search sorts them first)
        p = self.notion[3]
        p["last_edited_time"] = iso(1800000000)
        p["_blocks"] = p["_blocks"][:1] + [{"object": "block", "id": p["id"][:30] + "-bnew",
                                            "type": "paragraph", "has_children": False,
                                            "paragraph": {"rich_text": [{
                                                "type": "text", "plain_text": "edited: platypus",
                                                "text": {"content": "edited: platypus"}}]}}]
        q = dict(self.notion[0])
        q["id"] = "59833787-2cf9-4fdf-8782-e53db20769ff"
        q["last_edited_time"] = iso(1800000100)
        q["properties"] = {"title": {"id": "title", "type": "title", "title": [
            {"type": "text", "plain_text": "added later"}]}}
        self.notion.append(q)

    def gmail_event(self, kind, m):
        self.gmail_hist += 7
        ref = {"id": m["id"], "threadId": m["threadId"], "labelIds": ["INBOX"]}
        ev = {"id": str(self.gmail_hist), "messages": [ref]}
        ev[kind] = [{"message": ref, "labelIds": ["IMPORTANT"]} if kind == "labelsAdded"
                    else {"message": ref}]
        self.gmail_events.append(ev)


D = None


def page_of(items, token, size):
    start = int(token) if token else 0
    chunk = items[start:start + size]
    nxt = str(start + size) if start + size < len(items) else None
    return chunk, nxt


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle holds the body
    # until the client's delayed ACK (40 ms) on every reused keep-alive connection, as
    # no production server does
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def send_json(self, obj, code=200, headers=None):
        b = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(b)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(b)

    def send_bytes(self, b, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def faults(self, path):
        """Returns True when a fault answered the request."""
        with LOCK:
            if STATE["fault_prefix"] and not path.startswith(STATE["fault_prefix"]):
                return False
            if STATE["reset"] > 0:
                STATE["reset"] -= 1
                self.close_connection = True
                self.connection.shutdown(2)
                return True
            if STATE["fail500"] > 0:
                STATE["fail500"] -= 1
                STATS["served500"] += 1
                code = 500
            elif STATE["fail429"] > 0:
                STATE["fail429"] -= 1
                STATS["served429"] += 1
                STATS["last429"] = time.monotonic()
                code = 429
            else:
                code = 0
                if "last429" in STATS:
                    STATS["after429"].append(time.monotonic() - STATS.pop("last429"))
            slow = STATE["slow_ms"]
        if slow:
            time.sleep(slow / 1000)
        if code == 429:
            self.send_json({"error": {"code": 429, "message": "Rate Limit Exceeded",
                                      "status": "RESOURCE_EXHAUSTED"}}, 429,
                           {"Retry-After": str(STATE["retry_after"])})
            return True
        if code == 500:
            self.send_json({"error": {"code": 500, "message": "Backend Error"}}, 500)
            return True
        return False

    def google_auth(self):
        a = self.headers.get("Authorization", "")
        tok = a[7:] if a.startswith("Bearer ") else None
        with LOCK:
            if tok not in TOKENS:
                STATS["bad_auth"] += 1
                ok = False
            elif TOKENS[tok] is not None:
                TOKENS[tok] -= 1
                ok = TOKENS[tok] >= 0
            else:
                ok = True
        if not ok:
            with LOCK:  # the log keeps what was answered; refusals are counted apart
                if self.path in STATS["log"]:
                    del STATS["log"][len(STATS["log"]) - 1 - STATS["log"][::-1].index(self.path)]
                STATS["refused401"] = STATS.get("refused401", 0) + 1
            self.send_json({"error": {"code": 401, "message": "Request had invalid authentication "
                                      "credentials.", "status": "UNAUTHENTICATED"}}, 401,
                           {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
        return ok

    def count(self, path):
        with LOCK:
            STATS["log"].append(self.path)
            if self.headers.get("Authorization"):
                STATS["auth_headers"].append(self.headers.get("Authorization"))
            STATS["requests"][path] = STATS["requests"].get(path, 0) + 1
            for pre in ("/drive", "/gmail", "/sheets", "/slack", "/notion", "/couch", "/wiki",
                        "/token", "/budget"):
                if path.startswith(pre):
                    STATS["times"].setdefault(pre, []).append(time.monotonic())

    def do_POST(self):
        self.route("POST")

    def do_GET(self):
        self.route("GET")

    def route(self, method):
        u = urllib.parse.urlsplit(self.path)
        path, q = u.path, dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        body = self.body() if method == "POST" else b""
        if path == "/__control":
            with LOCK:
                STATE.update(json.loads(body or b"{}"))
                if STATE.pop("mutate", None):
                    D.mutate()
                if STATE.pop("clear", None):
                    STATS.update({"requests": {}, "times": {}, "refreshes": 0, "bad_auth": 0,
                                  "served429": 0, "served500": 0, "after429": [], "log": [],
                                  "auth_headers": []})
            return self.send_json({"ok": True})
        if path == "/__counts":
            return self.send_json({"drive": len([f for f in D.drive if not f["trashed"]]),
                                   "gmail": len(D.gmail), "sheets": 2, "slack": len(D.slack),
                                   "notion": len(D.notion), "couch": len(D.couch),
                                   "wiki": len(D.wiki)})
        if path == "/__stats":
            with LOCK:
                return self.send_json(STATS)
        self.count(path)
        if self.faults(path):
            return
        if path == "/token":
            return self.token(body)
        for pre, fn in (("/drive/", self.drive), ("/gmail/", self.gmail), ("/sheets/", self.sheets),
                        ("/slack/", self.slack), ("/notion/", self.notion), ("/couch/", self.couch),
                        ("/wiki/", self.wiki), ("/budget/", self.budget)):
            if path.startswith(pre):
                return fn(method, path[len(pre) - 1:], q, body)
        self.send_json({"error": "not found"}, 404)

    # ---- OAuth 2 token endpoint (RFC 6749 section 6) ----
    def token(self, body):
        f = dict(urllib.parse.parse_qsl(body.decode()))
        if (f.get("grant_type") != "refresh_token" or f.get("refresh_token") != CLIENT["refresh"] or
                f.get("client_id") != CLIENT["id"] or f.get("client_secret") != CLIENT["secret"]):
            return self.send_json({"error": "invalid_grant", "error_description": "Bad Request"},
                                  400)
        with LOCK:
            STATS["refreshes"] += 1
            tok = "ya29.a0-access-%d-%s" % (STATS["refreshes"], os.urandom(6).hex())
            TOKENS[tok] = STATE["expire_after"] or None
        self.send_json({"access_token": tok, "expires_in": 3599, "scope":
                        "https://www.googleapis.com/auth/drive.readonly", "token_type": "Bearer"})

    # ---- Google Drive v3 ----
    def drive(self, method, path, q, body):
        if not self.google_auth():
            return
        parts = path.strip("/").split("/")  # v3 files [id] [export]
        if parts[:2] != ["v3", "files"]:
            return self.send_json({"error": {"code": 404, "message": "Not Found"}}, 404)
        if len(parts) == 2:
            files = [f for f in D.drive if not f["trashed"]]
            qq = q.get("q", "")
            if "modifiedTime >" in qq:
                since = qq.split("modifiedTime >", 1)[1].strip().split("'")[1]
                files = [f for f in files if f["modifiedTime"] > since]
            size = min(int(q.get("pageSize", 100)), 1000)
            chunk, nxt = page_of(files, q.get("pageToken"), size)
            out = {"kind": "drive#fileList", "incompleteSearch": False,
                   "files": [{k: v for k, v in f.items() if not k.startswith("_")} for f in chunk]}
            if nxt:
                out["nextPageToken"] = nxt
            return self.send_json(out)
        f = next((f for f in D.drive if f["id"] == parts[2]), None)
        if not f:
            return self.send_json({"error": {"code": 404, "message": "File not found: %s." %
                                             parts[2]}}, 404)
        if len(parts) == 4 and parts[3] == "export":
            if not f["mimeType"].startswith("application/vnd.google-apps."):
                return self.send_json({"error": {"code": 403, "message": "Export only supports "
                                                 "Docs Editors files."}}, 403)
            mt = q.get("mimeType", "")
            if mt == "text/csv":
                rows = ["line,text"] + ['%d,"%s"' % (i, l.replace('"', '""'))
                                        for i, l in enumerate(f["_text"].splitlines()[:50])]
                return self.send_bytes("\n".join(rows).encode(), "text/csv")
            return self.send_bytes(("%s\n\n%s" % (f["name"], f["_text"])).encode(),
                                   "text/plain" if mt == "text/plain" else mt)
        if q.get("alt") == "media":
            if f["mimeType"].startswith("application/vnd.google-apps."):
                return self.send_json({"error": {"code": 403, "message": "Only files with binary "
                                                 "content can be downloaded. Use Export with Docs "
                                                 "Editors files."}}, 403)
            return self.send_bytes(f["_text"].encode(), f["mimeType"])
        return self.send_json({k: v for k, v in f.items() if not k.startswith("_")})

    # ---- Gmail v1 ----
    def gmail(self, method, path, q, body):
        if not self.google_auth():
            return
        parts = path.strip("/").split("/")  # v1 users me messages [id]
        if parts == ["v1", "users", "me", "profile"]:
            return self.send_json({"emailAddress": "alice@example.com",
                                   "messagesTotal": len(D.gmail), "threadsTotal": len(D.gmail),
                                   "historyId": str(D.gmail_hist)})
        if parts == ["v1", "users", "me", "history"]:
            start = int(q.get("startHistoryId", "0") or 0)
            if start < 5000 or STATE.get("history_expired"):
                return self.send_json({"error": {"code": 404, "message": "Requested entity was "
                                                 "not found."}}, 404)
            evs = [e for e in D.gmail_events if int(e["id"]) > start]
            chunk, nxt = page_of(evs, q.get("pageToken"), min(int(q.get("maxResults", 100)), 500))
            out = {"historyId": str(D.gmail_hist)}
            if chunk:
                out["history"] = chunk
            if nxt:
                out["nextPageToken"] = nxt
            return self.send_json(out)
        if parts[:4] != ["v1", "users", "me", "messages"]:
            return self.send_json({"error": {"code": 404}}, 404)
        if len(parts) == 4:
            size = min(int(q.get("maxResults", 100)), 500)
            chunk, nxt = page_of(D.gmail, q.get("pageToken"), size)
            out = {"messages": [{"id": m["id"], "threadId": m["threadId"]} for m in chunk],
                   "resultSizeEstimate": len(D.gmail)}
            if nxt:
                out["nextPageToken"] = nxt
            return self.send_json(out)
        m = next((m for m in D.gmail if m["id"] == parts[4]), None)
        if not m:
            return self.send_json({"error": {"code": 404, "message": "Requested entity was not "
                                             "found."}}, 404)
        out = {"id": m["id"], "threadId": m["threadId"], "labelIds": ["INBOX"],
               "sizeEstimate": len(m["raw"]), "historyId": "4242"}
        if q.get("format") == "raw":
            out["raw"] = base64.urlsafe_b64encode(m["raw"].encode()).decode().rstrip("=")
        return self.send_json(out)

    # ---- Sheets v4 ----
    def sheets(self, method, path, q, body):
        if not self.google_auth():
            return
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        ss = D.sheets.get(parts[2]) if len(parts) > 2 else None
        if parts[:2] != ["v4", "spreadsheets"] or ss is None:
            return self.send_json({"error": {"code": 404, "message": "Requested entity was not "
                                             "found.", "status": "NOT_FOUND"}}, 404)
        if len(parts) == 3:
            return self.send_json({"spreadsheetId": parts[2], "properties": {"title": "Inventory"},
                                   "sheets": [{"properties": {"sheetId": i, "title": t, "index": i,
                                                              "sheetType": "GRID",
                                                              "gridProperties": {
                                                                  "rowCount": len(v),
                                                                  "columnCount": len(v[0])}}}
                                              for i, (t, v) in enumerate(ss.items())]})
        rng = parts[4]
        rows = ss.get(rng.split("!")[0])
        if rows is None:
            return self.send_json({"error": {"code": 400, "message": "Unable to parse range: %s" %
                                             rng, "status": "INVALID_ARGUMENT"}}, 400)
        return self.send_json({"range": "%s!A1:C%d" % (rng, len(rows)), "majorDimension": "ROWS",
                               "values": rows})

    # ---- Slack Web API ----
    def slack(self, method, path, q, body):
        if self.headers.get("Authorization") != "Bearer " + SLACK_TOKEN:
            with LOCK:
                STATS["bad_auth"] += 1
            return self.send_json({"ok": False, "error": "invalid_auth"})
        if method == "POST" and body:
            q.update(dict(urllib.parse.parse_qsl(body.decode())))
        meth = path.strip("/").split("/")[-1]
        limit = min(int(q.get("limit", 100)), 200)
        if meth == "conversations.list":
            cur = q.get("cursor")
            chunk, nxt = page_of(D.slack, base64.b64decode(cur).decode() if cur else None, limit)
            return self.send_json({"ok": True, "channels": [
                {k: v for k, v in c.items() if not k.startswith("_")} for c in chunk],
                "response_metadata": {"next_cursor": nxt and base64.b64encode(
                    nxt.encode()).decode() or ""}})
        if meth in ("conversations.history", "conversations.replies"):
            c = next((c for c in D.slack if c["id"] == q.get("channel")), None)
            if not c:
                return self.send_json({"ok": False, "error": "channel_not_found"})
            cur = q.get("cursor")
            cur = base64.b64decode(cur).decode() if cur else None
            msgs = c["_messages"]
            if meth == "conversations.replies":
                msgs = [m for m in msgs if m["ts"] == q.get("ts")]
            chunk, nxt = page_of(msgs, cur, limit)
            return self.send_json({"ok": True, "messages": chunk, "has_more": bool(nxt),
                                   "pin_count": 0, "response_metadata": {
                                       "next_cursor": nxt and base64.b64encode(
                                           nxt.encode()).decode() or ""}})
        return self.send_json({"ok": False, "error": "unknown_method"})

    # ---- Notion ----
    def notion(self, method, path, q, body):
        if self.headers.get("Authorization") != "Bearer " + NOTION_TOKEN:
            with LOCK:
                STATS["bad_auth"] += 1
            return self.send_json({"object": "error", "status": 401, "code": "unauthorized",
                                   "message": "API token is invalid."}, 401)
        if not self.headers.get("Notion-Version"):
            return self.send_json({"object": "error", "status": 400, "code": "missing_version",
                                   "message": "Notion-Version header failed validation"}, 400)
        parts = path.strip("/").split("/")
        if parts == ["v1", "search"] and method == "POST":
            b = json.loads(body or b"{}")
            size = min(int(b.get("page_size", 100)), 100)
            pages = D.notion
            srt = b.get("sort") or {}
            if srt.get("timestamp") == "last_edited_time":
                pages = sorted(pages, key=lambda p: p["last_edited_time"],
                               reverse=srt.get("direction") == "descending")
            chunk, nxt = page_of(pages, b.get("start_cursor"), size)
            return self.send_json({"object": "list", "type": "page_or_database",
                                   "results": [{k: v for k, v in p.items() if not
                                                k.startswith("_")} for p in chunk],
                                   "next_cursor": nxt, "has_more": bool(nxt)})
        if len(parts) == 4 and parts[:2] == ["v1", "blocks"] and parts[3] == "children":
            p = next((p for p in D.notion if p["id"] == parts[2]), None)
            if not p:
                return self.send_json({"object": "error", "status": 404,
                                       "code": "object_not_found"}, 404)
            size = min(int(q.get("page_size", 100)), 100)
            chunk, nxt = page_of(p["_blocks"], q.get("start_cursor"), size)
            return self.send_json({"object": "list", "type": "block", "block": {},
                                   "results": chunk, "next_cursor": nxt, "has_more": bool(nxt)})
        return self.send_json({"object": "error", "status": 400, "code": "invalid_request_url"},
                              400)

    # ---- CouchDB ----
    def couch(self, method, path, q, body):
        a = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(("%s:%s" % COUCH_USER).encode()).decode()
        if a != want:
            with LOCK:
                STATS["bad_auth"] += 1
            return self.send_json({"error": "unauthorized",
                                   "reason": "Name or password is incorrect."}, 401)
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "_all_docs":
            ids = sorted(D.couch)
            if "startkey" in q:
                sk = json.loads(q["startkey"])
                ids = [i for i in ids if i >= sk]
            skip = int(q.get("skip", 0))
            limit = int(q.get("limit", 1000))
            rows = []
            for i in ids[skip:skip + limit]:
                r = {"id": i, "key": i, "value": {"rev": D.couch[i]["_rev"]}}
                if q.get("include_docs") == "true":
                    r["doc"] = D.couch[i]
                rows.append(r)
            out = {"total_rows": len(D.couch), "offset": skip, "rows": rows}
            if q.get("update_seq") == "true":
                out["update_seq"] = "%d-g1AAAA" % D.couch_seq
            return self.send_json(out)
        if len(parts) == 2 and parts[1] == "_changes":
            since = int(str(q.get("since", "0")).split("-")[0] or 0)
            res = []
            for seq, did, rev, deleted in D.couch_changes:
                if seq > since:
                    r = {"seq": "%d-g1AAAA" % seq, "id": did, "changes": [{"rev": rev}]}
                    if deleted:
                        r["deleted"] = True
                    if q.get("include_docs") == "true":
                        r["doc"] = D.couch.get(did, {"_id": did, "_rev": rev, "_deleted": True})
                    res.append(r)
            limit = int(q.get("limit", 10 ** 9))
            res = res[:limit]
            last = res[-1]["seq"] if res else "%d-g1AAAA" % since
            return self.send_json({"results": res, "last_seq": last,
                                   "pending": max(0, len([c for c in D.couch_changes
                                                          if c[0] > since]) - len(res))})
        if len(parts) == 2 and parts[1] in D.couch:
            return self.send_json(D.couch[parts[1]])
        return self.send_json({"error": "not_found", "reason": "missing"}, 404)

    # ---- MediaWiki Action API ----
    def wiki(self, method, path, q, body):
        if method == "POST":
            q.update(dict(urllib.parse.parse_qsl(body.decode())))
        cookie = self.headers.get("Cookie", "")
        act = q.get("action")
        if act == "query" and q.get("meta") == "tokens":
            return self.send_json({"batchcomplete": True, "query": {"tokens": {
                "logintoken": "b2c8e0f1a2+\\"}}}, headers={
                "Set-Cookie": "wikidb_session=pre%s; path=/; HttpOnly" % os.urandom(4).hex()})
        if act == "login":
            if "wikidb_session=pre" not in cookie or q.get("lgtoken") != "b2c8e0f1a2+\\":
                return self.send_json({"login": {"result": "Failed", "reason":
                                                 "Unable to continue login. Your session most "
                                                 "likely timed out."}})
            if (q.get("lgname"), q.get("lgpassword")) != WIKI_USER:
                return self.send_json({"login": {"result": "Failed", "reason":
                                                 "Incorrect username or password entered. "
                                                 "Please try again."}})
            return self.send_json({"login": {"result": "Success", "lguserid": 2,
                                             "lgusername": WIKI_USER[0].split("@")[0]}},
                                  headers={"Set-Cookie": "wikidbUserID=2; path=/; HttpOnly"})
        if "wikidbUserID=2" not in cookie:
            return self.send_json({"error": {"code": "readapidenied", "info":
                                             "You need read permission to use this module."}})
        if act != "query":
            return self.send_json({"error": {"code": "badvalue"}})
        out = {"batchcomplete": True}
        if q.get("curtimestamp"):
            out["curtimestamp"] = iso(D.wiki_clock)
        if q.get("generator") == "allpages":
            titles = sorted(D.wiki)
            if "gapcontinue" in q:
                titles = [t for t in titles if t.replace(" ", "_") >= q["gapcontinue"]]
            lim = int(q.get("gaplimit", 10))
            chunk = titles[:lim]
            out["query"] = {"pages": [{k: v for k, v in D.wiki[t].items() if k != "text"}
                                      for t in chunk]}
            # prop=revisions with content: the latest revision of at most 50 pages (a
            # user's limit); MediaWiki continues the rest with rvcontinue, left out here
            if ("revisions" in q.get("prop", "").split("|") and
                    "content" in q.get("rvprop", "").split("|")):
                for p in out["query"]["pages"][:50]:
                    w = D.wiki[p["title"]]
                    p["revisions"] = [{"revid": w["lastrevid"], "timestamp": w["touched"],
                                       "slots": {"main": {"contentmodel": "wikitext",
                                                          "contentformat": "text/x-wiki",
                                                          "content": w["text"]}}}]
            if len(titles) > lim:
                out.pop("batchcomplete")
                out["continue"] = {"gapcontinue": titles[lim].replace(" ", "_"),
                                   "continue": "gapcontinue||"}
            return self.send_json(out)
        if q.get("list") == "recentchanges":
            start = q.get("rcstart", "")
            rc = [r for r in D.wiki_rc if r["timestamp"] >= start]
            off = int(q.get("rccontinue", "0|0").split("|")[1])
            lim = int(q.get("rclimit", 10))
            out["query"] = {"recentchanges": rc[off:off + lim]}
            if off + lim < len(rc):
                out["continue"] = {"rccontinue": "%s|%d" % (start, off + lim), "continue": "-||"}
            return self.send_json(out)
        if q.get("prop") == "revisions":
            t = q.get("titles", "")
            p = D.wiki.get(t)
            if not p:
                return self.send_json({"query": {"pages": [{"ns": 0, "title": t,
                                                            "missing": True}]}})
            return self.send_json({"batchcomplete": True, "query": {"pages": [{
                "pageid": p["pageid"], "ns": 0, "title": t, "revisions": [{
                    "revid": p["lastrevid"], "timestamp": p["touched"], "slots": {"main": {
                        "contentmodel": "wikitext", "contentformat": "text/x-wiki",
                        "content": p["text"]}}}]}]}})
        return self.send_json({"error": {"code": "badvalue"}})

    # ---- a paged JSON list for the budget test and the benchmark ----
    def budget(self, method, path, q, body):
        if path == "/linked":  # GitHub-style: an API key in the query, Link headers
            if q.get("api_key") != "k-linked-789":
                return self.send_json({"message": "Bad credentials"}, 401)
            n, size, page = int(q.get("n", 250)), 30, int(q.get("page", 1))
            items = [{"id": "L%04d" % i, "title": "linked %d" % i}
                     for i in range((page - 1) * size, min(n, page * size))]
            hdr = {}
            if page * size < n:
                nxt = "<http://%s/budget/linked?n=%d&page=%d>; rel=\"next\"" % (
                    self.headers.get("Host"), n, page + 1)
                hdr["Link"] = nxt + ', <http://%s/budget/linked?page=1>; rel="first"' % (
                    self.headers.get("Host"))
            return self.send_json(items, headers=hdr)
        n = int(q.get("n", 3000))
        size = int(q.get("per_page", 100))
        page = int(q.get("page", 1))
        items = [{"id": "r%06d" % i, "title": "record %d" % i, "updated": i}
                 for i in range((page - 1) * size, min(n, page * size))]
        return self.send_json({"data": items, "page": page, "per_page": size})


def main():
    global D
    D = Data(sys.argv[2] if len(sys.argv) > 2 else ".")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
