#!/usr/bin/env python3
"""The bare-FTS5 lower bound: every file's raw text (gzip undone, bytes decoded
as UTF-8 with replacement) inserted into one FTS5 table in one transaction.
No type detection, no MIME, no metadata: what indexing the bytes costs.

    fts5_bound.py DATA_DIR DB
"""
import gzip
import os
import sqlite3
import sys

data, db = sys.argv[1], sys.argv[2]
if os.path.exists(db):
    os.remove(db)
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE VIRTUAL TABLE docs USING fts5(path, body)")
n = 0
with con:
    for d, _, files in os.walk(data):
        for f in files:
            p = os.path.join(d, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as fh:
                raw = fh.read()
            if raw[:2] == b"\x1f\x8b":
                try:
                    raw = gzip.decompress(raw)
                except (OSError, EOFError):
                    pass
            con.execute("INSERT INTO docs VALUES (?, ?)", (p, raw.decode("utf-8", "replace")))
            n += 1
con.close()
print(n)
