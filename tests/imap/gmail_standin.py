#!/usr/bin/env python3
"""A small stand-in for Gmail's IMAP server, on 127.0.0.1, for tests.

Dovecot has no X-GM-EXT-1, so the Gmail path of trawl's imap driver is
proven against this: real messages (from the SpamAssassin corpus tarball)
served with the shapes Google documents for Gmail's IMAP extensions
(https://developers.google.com/gmail/imap/imap-extensions):

  * CAPABILITY with X-GM-EXT-1, AUTH=PLAIN and AUTH=XOAUTH2 (SASL-IR);
  * LIST with the special-use \\All flag on "[Gmail]/All Mail" (and, for
    the second user, the older XLIST flag \\AllMail on a localised name),
    one folder per label holding the same messages under other UIDs;
  * UID FETCH answering X-GM-THRID, X-GM-MSGID and X-GM-LABELS before UID
    and the BODY[] literal, labels as atoms (\\Inbox), quoted strings,
    literals and modified UTF-7.

usage: gmail_standin.py CORPUS.tgz PER_USER WORKDIR CERT.pem KEY.pem
Listens twice: IMAPS (as Gmail: imap.gmail.com:993) and plain IMAP (to try
libcurl's answer cap without TLS records bounding its reads). Writes
WORKDIR/ports ("TLS_PORT PLAIN_PORT") once listening, WORKDIR/expected.json (per user: the
Message-ID, labels and thread id of every message in All Mail) and logs
every command to WORKDIR/commands.log ("user<TAB>command", auth redacted).
"""
import base64
import hashlib
import json
import os
import re
import socketserver
import ssl
import sys
import tarfile
import threading

CAPS = ("IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 XYZZY "
        "SASL-IR AUTH=XOAUTH2 AUTH=PLAIN AUTH=PLAIN-CLIENTTOKEN")
USERS = {"gina@example.com": {"password": "gina-secret", "token": "ya29.gina-token"},
         "gunter@example.de": {"password": "gunter-secret", "token": "ya29.gunter-token"}}
# (label as Gmail sends it, how it is sent, the label decoded)
LABELS = [("\\Inbox", "atom", "\\Inbox"),
          ("\\Important", "atom", "\\Important"),
          ("Some label", "quoted", "Some label"),
          ('Say "hi"', "quoted", 'Say "hi"'),
          ("Entw&APw-rfe", "atom", "Entw\u00fcrfe"),
          ("Projects/2002 (old)", "literal", "Projects/2002 (old)"),
          ("\\Starred", "atom", "\\Starred")]


def load(tgz, per):
    """PER_USER messages per user from two corpus folders, mbox line dropped."""
    want = {"package/data/easy-ham-1/": "gina@example.com",
            "package/data/easy-ham-2/": "gunter@example.de"}
    out = {u: [] for u in USERS}
    with tarfile.open(tgz) as t:
        for m in t:
            d = m.name[:m.name.rfind("/") + 1]
            u = want.get(d)
            if not u or not m.isfile() or not m.name.endswith(".txt") or len(out[u]) >= per:
                continue
            data = t.extractfile(m).read()
            if data.startswith(b"From "):
                data = data[data.find(b"\n") + 1:]
            out[u].append(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return out


def header(msg, name):
    m = re.search(rb"^" + name.encode() + rb":[ \t]*(.*?)\r\n(?![ \t])", msg,
                  re.I | re.M | re.S)
    return m.group(1).decode("latin-1").replace("\r\n", "") if m else ""


class Mailbox:
    """One user's mail: All Mail plus one folder per label (own UIDs)."""

    def __init__(self, user, msgs):
        self.user = user
        self.msgs = []
        for i, data in enumerate(msgs):
            subj = re.sub(r"^((re|fwd?|aw):\s*)+", "", header(data, "Subject").strip(), flags=re.I)
            thrid = int(hashlib.sha1(subj.lower().encode()).hexdigest()[:15], 16) | (1 << 60)
            # every message some labels; the pattern covers each label
            labels = [LABELS[k] for k in range(len(LABELS)) if (i >> (k % 5)) & 1 or
                      (k == 0 and i % 2 == 0)]
            self.msgs.append({"data": data, "msgid": (1 << 62) + 1000 + i, "thrid": thrid,
                              "labels": labels, "message_id": header(data, "Message-ID").strip()})
        gunter = user.startswith("gunter")
        allname = "[Google Mail]/Alle Nachrichten" if gunter else "[Gmail]/All Mail"
        self.folders = {"INBOX": [], allname: list(range(len(self.msgs)))}
        self.flags = {"INBOX": "\\HasNoChildren", allname: "\\HasNoChildren " +
                      ("\\AllMail" if gunter else "\\All")}
        for i, m in enumerate(self.msgs):
            for raw, _, _ in m["labels"]:
                name = "INBOX" if raw == "\\Inbox" else None if raw.startswith("\\") else raw
                if name:
                    self.folders.setdefault(name, []).append(i)
                    self.flags.setdefault(name, "\\HasNoChildren")
        self.uidnext = not gunter  # gunter's server leaves UIDNEXT out
        self.allname = allname

    def uids(self, folder):
        """(uid, message index) of a folder: UIDs are 3*position+7, sparse."""
        return [(3 * k + 7, i) for k, i in enumerate(self.folders[folder])]


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def uid_set(spec, top):
    """The UIDs of a UID set like "3,5:9,20:*" (top: the largest UID)."""
    out = set()
    for part in spec.split(","):
        a, _, b = part.partition(":")
        a = top if a == "*" else int(a)
        b = a if not b else top if b == "*" else int(b)
        lo, hi = min(a, b), max(a, b)
        out.update(range(lo, hi + 1)) if hi - lo < 10_000_000 else None
    return out


class Handler(socketserver.StreamRequestHandler):
    def send(self, s):
        self.wfile.write(s if isinstance(s, bytes) else s.encode())

    def log(self, line):
        with self.server.lock, open(self.server.logpath, "a") as f:
            f.write("%s\t%s\n" % (self.user or "-", line))

    def handle(self):
        self.user = None
        self.box = None
        self.folder = None
        self.send("* OK Gimap ready for requests from 127.0.0.1 standin\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            line = line.decode("latin-1").rstrip("\r\n")
            tag, _, rest = line.partition(" ")
            cmd, _, args = rest.partition(" ")
            cmd = cmd.upper()
            self.log(line if cmd not in ("LOGIN", "AUTHENTICATE") else
                     " ".join([tag, cmd] + args.split(" ")[:1 if cmd == "AUTHENTICATE" else 0] + ["***"]))
            if cmd == "UID":
                sub, _, args = args.partition(" ")
                cmd = "UID " + sub.upper()
            h = getattr(self, "c_" + cmd.replace(" ", "_"), None)
            if h is None or (self.user is None and cmd not in ("CAPABILITY", "LOGIN", "AUTHENTICATE",
                                                                "LOGOUT", "NOOP")):
                self.send(tag + " BAD Unknown command\r\n")
                continue
            if h(tag, args) == "bye":
                return

    def c_CAPABILITY(self, tag, args):
        self.send("* CAPABILITY " + CAPS + "\r\n" + tag + " OK Thats all she wrote!\r\n")

    def c_NOOP(self, tag, args):
        self.send(tag + " OK Success\r\n")

    def c_LOGOUT(self, tag, args):
        self.send("* BYE LOGOUT Requested\r\n" + tag + " OK 73 good day (Success)\r\n")
        return "bye"

    def login_as(self, tag, user, ok):
        if not ok or user not in USERS:
            self.send(tag + " NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")
            return
        self.user = user
        self.box = self.server.boxes[user]
        self.send(tag + " OK [CAPABILITY " + CAPS + "] " + user + " authenticated (Success)\r\n")

    def c_LOGIN(self, tag, args):
        m = re.match(r'"?([^" ]+)"? "?([^"]*)"?$', args)
        user, pw = (m.group(1), m.group(2)) if m else ("", "")
        self.login_as(tag, user, user in USERS and USERS[user]["password"] == pw)

    def c_AUTHENTICATE(self, tag, args):
        mech, _, ir = args.partition(" ")
        if not ir:
            self.send("+ \r\n")
            ir = self.rfile.readline().decode("latin-1").strip()
        try:
            dec = base64.b64decode(ir).decode("utf-8", "replace")
        except ValueError:
            dec = ""
        if mech.upper() == "PLAIN":
            parts = dec.split("\0")
            user = parts[1] if len(parts) == 3 else ""
            self.login_as(tag, user, user in USERS and parts[2] == USERS[user]["password"])
        elif mech.upper() == "XOAUTH2":
            m = re.match(r"user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01$", dec)
            user = m.group(1) if m else ""
            self.login_as(tag, user, user in USERS and m.group(2) == USERS[user]["token"])
        else:
            self.send(tag + " NO Unsupported mechanism\r\n")

    def c_LIST(self, tag, args):
        self.send('* LIST (\\HasChildren \\Noselect) "/" "[Gmail]"\r\n')
        self.send('* LIST (\\HasNoChildren) "/" "Locked"\r\n')  # EXAMINE refuses it
        for name in sorted(self.box.folders):
            self.send("* LIST (%s) \"/\" %s\r\n" % (self.box.flags[name], quote(name)))
        self.send(tag + " OK Success\r\n")

    def c_EXAMINE(self, tag, args):
        name = args[1:-1].replace('\\"', '"').replace("\\\\", "\\") if args.startswith('"') else args
        if name == "Locked":
            self.folder = None
            self.send(tag + " NO [NOPERM] Permission denied (Failure)\r\n")
            return
        if name not in self.box.folders:
            self.folder = None
            self.send(tag + " NO [NONEXISTENT] Unknown Mailbox: %s (now in authenticated state) "
                      "(Failure)\r\n" % name)
            return
        self.folder = name
        u = self.box.uids(name)
        self.send("* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $NotPhishing $Phishing)\r\n"
                  "* OK [PERMANENTFLAGS ()] Flags permitted.\r\n"
                  "* OK [UIDVALIDITY 11] UIDs valid.\r\n"
                  "* %d EXISTS\r\n* 0 RECENT\r\n" % len(u))
        if self.box.uidnext:
            self.send("* OK [UIDNEXT %d] Predicted next UID.\r\n" % ((u[-1][0] if u else 0) + 1))
        self.send("* OK [HIGHESTMODSEQ 4242]\r\n" + tag + " OK [READ-ONLY] %s selected. (Success)\r\n"
                  % name)

    def c_UID_SEARCH(self, tag, args):
        if self.folder is None:
            self.send(tag + " BAD No mailbox selected\r\n")
            return
        u = self.box.uids(self.folder)
        top = u[-1][0] if u else 0
        m = re.match(r"(?:UID )?([0-9:*,]+)$", args.strip())
        want = None if args.strip().upper() == "ALL" else uid_set(m.group(1), top) if m else set()
        found = [str(uid) for uid, _ in u if want is None or uid in want]
        self.send("* SEARCH" + "".join(" " + x for x in found) + "\r\n" + tag + " OK SEARCH completed (Success)\r\n")

    def fetch_items(self, items, seq, uid, i):
        m = self.box.msgs[i]
        out = []
        items_u = items.upper()
        if "X-GM-THRID" in items_u:
            out.append(b"X-GM-THRID %d" % m["thrid"])
        if "X-GM-MSGID" in items_u:
            out.append(b"X-GM-MSGID %d" % m["msgid"])
        if "X-GM-LABELS" in items_u:
            labs = []
            for raw, how, _ in m["labels"]:
                if how == "quoted":
                    labs.append(quote(raw).encode())
                elif how == "literal":
                    labs.append(b"{%d}\r\n%s" % (len(raw.encode()), raw.encode()))
                else:
                    labs.append(raw.encode())
            out.append(b"X-GM-LABELS (" + b" ".join(labs) + b")")
        out.append(b"UID %d" % uid)
        b = re.search(r"BODY(?:\.PEEK)?\[\](?:<(\d+)\.(\d+)>)?", items, re.I)
        if b:
            data = m["data"]
            if b.group(1):
                o, n = int(b.group(1)), int(b.group(2))
                data = data[o:o + n]
                out.append(b"BODY[]<%d> {%d}\r\n" % (o, len(data)) + data)
            else:
                out.append(b"BODY[] {%d}\r\n" % len(data) + data)
        return b"* %d FETCH (" % seq + b" ".join(out) + b")\r\n"

    def c_UID_FETCH(self, tag, args):
        if self.folder is None:
            self.send(tag + " BAD No mailbox selected\r\n")
            return
        spec, _, items = args.partition(" ")
        u = self.box.uids(self.folder)
        want = uid_set(spec, u[-1][0] if u else 0)
        out = [self.fetch_items(items, seq, uid, i) for seq, (uid, i) in enumerate(u, 1) if uid in want]
        self.send(b"".join(out) + tag.encode() + b" OK Success\r\n")

    def c_FETCH(self, tag, args):
        if self.folder is None:
            self.send(tag + " BAD No mailbox selected\r\n")
            return
        spec, _, items = args.partition(" ")
        u = self.box.uids(self.folder)
        want = uid_set(spec, len(u))
        for seq, (uid, i) in enumerate(u, 1):
            if seq in want:
                self.send(self.fetch_items(items, seq, uid, i))
        self.send(tag + " OK Success\r\n")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    tls = None

    def get_request(self):
        sock, addr = super().get_request()
        return (self.tls.wrap_socket(sock, server_side=True) if self.tls else sock), addr


def main():
    tgz, per, work, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    msgs = load(tgz, per)
    boxes = {u: Mailbox(u, msgs[u]) for u in USERS}
    lock = threading.Lock()
    servers = []
    for tls in (True, False):
        srv = Server(("127.0.0.1", 0), Handler)
        if tls:
            srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            srv.tls.load_cert_chain(cert, key)
        srv.lock = lock
        srv.logpath = os.path.join(work, "commands.log")
        srv.boxes = boxes
        servers.append(srv)
    expected = {u: {"all_mail": b.allname, "messages": [
        {"message_id": m["message_id"], "labels": [d for _, _, d in m["labels"]],
         "gmail_msgid": str(m["msgid"]), "gmail_thread_id": str(m["thrid"])} for m in b.msgs]}
        for u, b in boxes.items()}
    with open(os.path.join(work, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    threading.Thread(target=servers[1].serve_forever, daemon=True).start()
    with open(os.path.join(work, "ports.tmp"), "w") as f:
        f.write("%d %d" % (servers[0].server_address[1], servers[1].server_address[1]))
    os.rename(os.path.join(work, "ports.tmp"), os.path.join(work, "ports"))
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
