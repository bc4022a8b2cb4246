#!/usr/bin/env python3
"""Writes every message of the SpamAssassin corpus (scripts/fetch-corpus) into
one maildir: half in cur/ (seen), half in new/.

    maildir.py PACKAGE_DATA_DIR MAILDIR
"""
import json
import os
import sys

data, out = sys.argv[1], sys.argv[2]
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
files = sorted(os.path.join(data, d, f) for d in os.listdir(data) if os.path.isdir(os.path.join(data, d))
               for f in os.listdir(os.path.join(data, d)) if f.endswith(".txt"))
n = 0
for i, f in enumerate(files):
    raw = open(f, "rb").read()
    first, _, body = raw.partition(b"\n")
    if not first.startswith(b"From "):
        body = raw
    if not body.strip():
        continue
    sub = "new" if i % 2 else "cur"
    flags = "" if sub == "new" else ":2,S"
    name = "%d.M%dP1.bench%s" % (1000000000 + i, i, flags)
    open(os.path.join(out, sub, name), "wb").write(body)
    n += 1
print(n)
