#!/usr/bin/env python3
"""bench/structure helper on the SpamAssassin public corpus's ham.

  ham.py prep DATA_DIR OUT_DIR     writes OUT_DIR/mail/*.eml with the headers
                                   and footers that give the labels away
                                   removed, and OUT_DIR/truth.json
  ham.py score TRUTH EXPORT BASE   prints purity / NMI / pair-F1 of trawl's
                                   tree (EXPORT: trawl export JSONL) and of
                                   the k-means baseline (BASE: structure_bench
                                   output, columns k_domain, k_skill, k_group)

Labels: a message's mailing list (List-Id or X-Mailing-List; the RSS feed
gateway's items by their sender) is its skill; lists of one project or
community make a domain (exmh-users + exmh-workers, ilug + social + webdev
of linux.ie, razor + spamassassin lists); threads are the union-find of
Message-ID / In-Reply-To / References over the original headers. Messages
of lists with fewer than 20 messages, and unlabelled ones, are left out.
"""
import collections
import email
import email.policy
import json
import math
import os
import re
import sys

FAMILY = {
    "fork.xent.com": "fork",
    "rssfeeds": "rssfeeds",
    "ilug.linux.ie": "linux-ie", "social.linux.ie": "linux-ie", "webdev.linux.ie": "linux-ie",
    "rpm-zzzlist.freshrpms.net": "rpm",
    "razor-users.example.sourceforge.net": "antispam",
    "spamassassin-talk.example.sourceforge.net": "antispam",
    "spamassassin-devel.example.sourceforge.net": "antispam",
    "spamassassin-commits.example.sourceforge.net": "antispam",
    "zzzzteana": "forteana",
    "exmh-workers.spamassassin.taint.org": "exmh", "exmh-users.spamassassin.taint.org": "exmh",
    "secprog.list-id.securityfocus.com": "secprog",
    "iiu.iiu.taint.org": "iiu",
}
HIDE = re.compile(r"^(list-[a-z-]+|x-beenthere|x-mailman-version|x-mailing-list|mailing-list|sender|"
                  r"errors-to|delivered-to|return-path|received|x-loop|x-original-to|to|cc|"
                  r"x-egroups-[a-z-]+|x-yahoo-[a-z-]+|x-apparently-to|reply-to)$", re.I)
FOOT = re.compile(r"(mailing list|listinfo|unsubscribe|subscription|yahoo! groups|egroups|"
                  r"lists\.sf\.net|lists\.sourceforge\.net|linux\.ie/mailman|xent\.com/mailman|"
                  r"freshrpms\.net|forteana|zzzzteana|rssfeeds|@linux\.ie)", re.I)


def label(m):
    lid = m.get("List-Id") or ""
    mm = re.search(r"<([^>]+)>", lid)
    if mm:
        return mm.group(1)
    x = m.get("X-Mailing-List") or m.get("Mailing-List") or ""
    if "zzzzteana" in x:
        return "zzzzteana"
    if "rssfeeds@" in (m.get("From") or ""):
        return "rssfeeds"
    return None


def ids(v):
    return re.findall(r"<[^<>\s]+>", v or "")


def prep(data, out):
    os.makedirs(os.path.join(out, "mail"), exist_ok=True)
    rows = []
    for g in ("easy-ham-1", "easy-ham-2"):
        for f in sorted(os.listdir(os.path.join(data, g))):
            if not f.endswith(".txt"):
                continue
            raw = open(os.path.join(data, g, f), "rb").read()
            if raw.startswith(b"From "):
                raw = raw.split(b"\n", 1)[1]
            m = email.message_from_bytes(raw, policy=email.policy.compat32)
            lab = label(m)
            if lab not in FAMILY:
                continue
            head, sep, body = raw.partition(b"\n\n")
            lines, keep = head.split(b"\n"), []
            skip = False
            for ln in lines:
                if ln[:1] in (b" ", b"\t"):
                    if not skip:
                        keep.append(ln)
                    continue
                name = ln.split(b":", 1)[0].decode("latin-1").strip()
                skip = bool(HIDE.match(name))
                if not skip and name.lower() == "subject":
                    ln = re.sub(rb"\[[^\]]{1,40}\]\s*", b"", ln)
                if not skip:
                    keep.append(ln)
            # the list footers name the list: drop their lines
            body = b"\n".join(ln for ln in body.split(b"\n")
                              if not FOOT.search(ln.decode("latin-1")))
            name = "%s-%s.eml" % (g, f.split(".")[0])
            open(os.path.join(out, "mail", name), "wb").write(b"\n".join(keep) + b"\n\n" + body)
            rows.append({"file": name, "list": lab, "domain": FAMILY[lab],
                         "mid": (ids(m.get("Message-ID")) or [None])[0],
                         "refs": ids(m.get("In-Reply-To")) + ids(m.get("References"))})
    cnt = collections.Counter(r["list"] for r in rows)
    rows = [r for r in rows if cnt[r["list"]] >= 20]
    keepf = {r["file"] for r in rows}
    for f in os.listdir(os.path.join(out, "mail")):
        if f not in keepf:
            os.unlink(os.path.join(out, "mail", f))
    # true threads: union-find over message ids
    par = {}

    def find(x):
        while par.setdefault(x, x) != x:
            par[x] = par[par[x]]
            x = par[x]
        return x
    for r in rows:
        node = "f:" + r["file"]
        for i in ([r["mid"]] if r["mid"] else []) + r["refs"]:
            a, b = find(node), find("i:" + i)
            if a != b:
                par[a] = b
    for r in rows:
        r["thread"] = find("f:" + r["file"])
    json.dump(rows, open(os.path.join(out, "truth.json"), "w"))
    print("%d messages, %d lists, %d domains, %d threads (%d with more than one message)" % (
        len(rows), len({r["list"] for r in rows}), len({r["domain"] for r in rows}),
        len({r["thread"] for r in rows}),
        sum(1 for c in collections.Counter(r["thread"] for r in rows).values() if c > 1)))


def ints(v):
    m = {}
    return [m.setdefault(x, len(m)) for x in v]


def purity(p, t):
    c = collections.Counter(zip(p, t))
    best = collections.defaultdict(int)
    for (a, _), n in c.items():
        best[a] = max(best[a], n)
    return sum(best.values()) / len(p)


def nmi(p, t):
    n = len(p)
    c = collections.Counter(zip(p, t))
    cp, ct = collections.Counter(p), collections.Counter(t)
    mi = sum(x / n * math.log(x * n / (cp[a] * ct[b])) for (a, b), x in c.items())
    hp = -sum(x / n * math.log(x / n) for x in cp.values())
    ht = -sum(x / n * math.log(x / n) for x in ct.values())
    return 1.0 if hp + ht == 0 else 2 * mi / (hp + ht)


def pair_f1(p, t):
    def pairs(cnt):
        return sum(x * (x - 1) // 2 for x in cnt.values())
    tp = pairs(collections.Counter(zip(p, t)))
    pp, tt = pairs(collections.Counter(p)), pairs(collections.Counter(t))
    if not tp:
        return 0.0, 0.0, 0.0
    prec, rec = tp / pp, tp / tt
    return prec, rec, 2 * prec * rec / (prec + rec)


def score(truth, export, base):
    rows = {r["file"]: r for r in json.load(open(truth))}
    path = {}
    for ln in open(export):
        o = json.loads(ln)
        if o.get("kind") == "entry":
            for d in o.get("documents", []):
                f = d["external_id"].split("/")[-1]
                if f in rows and "#" not in d["external_id"]:
                    path[f] = o["path"]
    files = sorted(f for f in rows if f in path)
    bl = {}
    for ln in open(base):
        s, e, *ks = ln.rstrip("\n").split("\t")
        bl[e.split("/")[-1]] = ks
    tdom = [rows[f]["domain"] for f in files]
    tskill = [rows[f]["list"] for f in files]
    tthr = [rows[f]["thread"] for f in files]
    p = [path[f].split("/") for f in files]
    levels = {"domain": ([x[0] for x in p], tdom), "skill": (["/".join(x[:2]) for x in p], tskill),
              "group": (["/".join(x[:3]) for x in p], tthr)}
    out = {"documents": len(files), "placed": len(path)}
    for i, (lv, (pred, tru)) in enumerate(levels.items()):
        b = [bl.get(f, ["-1"] * 3)[i] for f in files]
        pr, rc, f1 = pair_f1(pred, tru)
        bpr, brc, bf1 = pair_f1(b, tru)
        out[lv] = {"clusters": len(set(pred)), "truth": len(set(tru)),
                   "trawl": {"purity": purity(pred, tru), "nmi": nmi(pred, tru), "pair_f1": f1,
                             "pair_precision": pr, "pair_recall": rc},
                   "kmeans": {"purity": purity(b, tru), "nmi": nmi(b, tru), "pair_f1": bf1,
                              "pair_precision": bpr, "pair_recall": brc}}
    print(json.dumps(out))


def ks(export):
    """k for the baseline: trawl's number of domains, skills and groups."""
    d, s, g = set(), set(), set()
    for ln in open(export):
        o = json.loads(ln)
        if o.get("kind") == "entry":
            x = o["path"].split("/")
            d.add(x[0])
            s.add("/".join(x[:2]))
            g.add("/".join(x[:3]))
    print(len(d), len(s), len(g))


if __name__ == "__main__":
    if sys.argv[1] == "prep":
        prep(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "ks":
        ks(sys.argv[2])
    else:
        score(sys.argv[2], sys.argv[3], sys.argv[4])
