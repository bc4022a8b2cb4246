#!/usr/bin/env python3
"""Writes realistic export trees the way the services lay them out:

  gen_exports.py slack DIR     a Slack workspace export (users.json,
                               channels.json, <channel>/YYYY-MM-DD.json)
  gen_exports.py notion DIR    a Notion "Markdown & CSV" export
  gen_exports.py takeout DIR   a Google Takeout (Mail mbox, Drive files)

Deterministic: the same tree every run, so tests can assert exact counts.
The shapes follow the services' documented exports (Slack's "Exporting
workspace data" help page, Notion's export format, Takeout's folders).
"""
import json
import os
import random
import sys

rnd = random.Random(20240115)

USERS = [
    ("U01ADA", "ada", "Ada Lovelace"),
    ("U02BOB", "bob", "Bob Marley"),
    ("U03CAR", "carol", "Carol Shaw"),
    ("U04DAN", "dan", "Dan Abramov"),
]
WORDS = ("payroll invoice deploy outage roadmap budget review customer release "
         "migration backlog sprint retro onboarding contract renewal forecast").split()


def sentence(n=8):
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + "."


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


def slack(root):
    users = [{"id": i, "team_id": "T0ACME", "name": n, "deleted": False,
              "real_name": r, "profile": {"real_name": r, "display_name": n,
                                          "email": n + "@acme.test"}, "is_bot": False}
             for i, n, r in USERS]
    channels = [
        {"id": "C01GEN", "name": "general", "created": 1700000000, "creator": "U01ADA",
         "is_archived": False, "is_general": True, "members": [u[0] for u in USERS],
         "topic": {"value": "Company-wide announcements", "creator": "U01ADA", "last_set": 0},
         "purpose": {"value": "Everyone, everything", "creator": "U01ADA", "last_set": 0}},
        {"id": "C02ENG", "name": "engineering", "created": 1700000100, "creator": "U02BOB",
         "is_archived": False, "is_general": False, "members": ["U01ADA", "U02BOB", "U04DAN"],
         "topic": {"value": "Deploys and outages", "creator": "U02BOB", "last_set": 0},
         "purpose": {"value": "Build and run the product", "creator": "U02BOB", "last_set": 0}},
        {"id": "C03RND", "name": "random", "created": 1700000200, "creator": "U03CAR",
         "is_archived": False, "is_general": False, "members": ["U03CAR", "U04DAN"],
         "topic": {"value": "", "creator": "", "last_set": 0},
         "purpose": {"value": "Water cooler", "creator": "U03CAR", "last_set": 0}},
    ]
    write(os.path.join(root, "users.json"), json.dumps(users, indent=4))
    write(os.path.join(root, "channels.json"), json.dumps(channels, indent=4))
    write(os.path.join(root, "integration_logs.json"), json.dumps({"logs": []}))
    day0 = 1705305600  # 2024-01-15T08:00:00Z
    days = {}  # (channel, date) -> messages

    def post(ch, t, user, text, **kw):
        date = __import__("time").strftime("%Y-%m-%d", __import__("time").gmtime(t))
        m = {"client_msg_id": "%08x" % rnd.getrandbits(32), "type": "message",
             "text": text, "user": user, "ts": "%d.%06d" % (t, rnd.randrange(1000000)),
             "team": "T0ACME",
             "user_profile": {"real_name": dict((u[0], u[2]) for u in USERS)[user],
                              "display_name": dict((u[0], u[1]) for u in USERS)[user]}}
        m.update(kw)
        days.setdefault((ch, date), []).append(m)
        return m

    for d in range(5):
        for ch in ("general", "engineering", "random"):
            for k in range(3):
                t = day0 + d * 86400 + k * 1800 + (hash(ch) % 7) * 60
                u = rnd.choice(USERS)[0]
                post(ch, t, u, sentence())
    # a thread whose replies span two days, with a mention and a link
    parent = post("engineering", day0 + 3600, "U02BOB",
                  "Deploy of <https://ci.acme.test/run/42|run 42> failed, <@U01ADA> can you look?",
                  thread_ts=None, reply_count=3,
                  reply_users=["U01ADA", "U04DAN"], latest_reply=None)
    parent["thread_ts"] = parent["ts"]
    r1 = post("engineering", day0 + 3700, "U01ADA", "Looking now: the zebraquartz migration timed out",
              thread_ts=parent["ts"], parent_user_id="U02BOB")
    r2 = post("engineering", day0 + 86400 + 600, "U04DAN", "Fixed by raising the lock timeout",
              thread_ts=parent["ts"], parent_user_id="U02BOB")
    r3 = post("engineering", day0 + 86400 + 700, "U01ADA", "Confirmed, closing &amp; moving on",
              thread_ts=parent["ts"], parent_user_id="U02BOB", subtype="thread_broadcast")
    parent["latest_reply"] = r3["ts"]
    parent["replies"] = [{"user": r["user"], "ts": r["ts"]} for r in (r1, r2, r3)]
    # a message with a file and a bot message
    post("general", day0 + 7200, "U03CAR", "Here is the Q1 budget",
         files=[{"id": "F01BUD", "name": "budget-q1.xlsx", "title": "Budget Q1",
                 "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "url_private": "https://files.slack.com/files-pri/T0ACME-F01BUD/budget-q1.xlsx",
                 "permalink": "https://acme.slack.com/files/U03CAR/F01BUD/budget-q1.xlsx"}])
    days[("general", "2024-01-15")].append(
        {"type": "message", "subtype": "bot_message", "text": "Payroll run completed for <#C01GEN|general>",
         "ts": "%d.000100" % (day0 + 9000), "username": "payroll-bot", "bot_id": "B01PAY"})
    # a direct message: its folder is named by the conversation's id
    write(os.path.join(root, "dms.json"), json.dumps(
        [{"id": "D01ADABOB", "created": 1700000300, "members": ["U01ADA", "U02BOB"]}], indent=4))
    post("D01ADABOB", day0 + 86400 + 3000, "U01ADA", "Can you send me the renewal contract draft?")
    post("D01ADABOB", day0 + 86400 + 3100, "U02BOB", "Sent, it is in the shared drive")
    for (ch, date), msgs in sorted(days.items()):
        msgs.sort(key=lambda m: float(m["ts"]))
        write(os.path.join(root, ch, date + ".json"), json.dumps(msgs, indent=4))


def nid():
    return "%032x" % rnd.getrandbits(128)


def notion(root):
    home, projects, roadmap, tasks = nid(), nid(), nid(), nid()
    top = os.path.join(root, "Workspace Home %s" % home)
    write(top + ".md", "# Workspace Home\n\nWelcome to the ACME wiki. See [Projects](Workspace%%20Home%%20%s/Projects%%20%s.md).\n" % (home, projects))
    write(os.path.join(top, "Projects %s.md" % projects),
          "# Projects\n\nAll current projects and their owners.\n\n- Roadmap\n- Tasks\n")
    write(os.path.join(top, "Projects %s" % projects, "Roadmap %s.md" % roadmap),
          "# Roadmap 2024\n\nOwner: Ada Lovelace\nStatus: Active\n\n## Q1\n\nShip the zebraquartz billing migration.\n\n"
          "![diagram](diagram.png)\n")
    write(os.path.join(top, "Projects %s" % projects, "diagram.png"),
          bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(rnd.getrandbits(8) for _ in range(200)))
    rows = [("Name", "Status", "Assignee", "Due", "Tags")]
    titles = ["Fix login timeout", "Renew vendor contract", "Write Q1 forecast",
              "Migrate payroll export", 'Review "quoted, tricky" invoice']
    for i, t in enumerate(titles):
        rows.append((t, rnd.choice(["Not started", "In progress", "Done"]),
                     rnd.choice(USERS)[2], "2024-0%d-1%d" % (1 + i % 3, i), "ops, q1"))

    def csv(rs):
        out = []
        for r in rs:
            out.append(",".join('"%s"' % c.replace('"', '""') if any(x in c for x in ',"\n') else c
                                for c in r))
        return "\ufeff" + "\r\n".join(out) + "\r\n"
    dbdir = os.path.join(top, "Projects %s" % projects)
    write(os.path.join(dbdir, "Tasks %s.csv" % tasks), csv(rows[:4]))  # the view: 3 rows
    write(os.path.join(dbdir, "Tasks %s_all.csv" % tasks), csv(rows))  # every row
    for t in titles[:2]:
        write(os.path.join(dbdir, "Tasks %s" % tasks, "%s %s.md" % (t, nid())),
              "# %s\n\nStatus: In progress\n\n%s\n" % (t, sentence(12)))


def takeout(root):
    mbox = []
    for i, (labels, subj) in enumerate([
            ('Inbox,Important,Category Updates', "Payroll for January"),
            ('"Work, 2024",Opened', "Invoice 1042 overdue"),
            ("Sent", "Re: zebraquartz migration plan")]):
        body = "Hello,\n\n%s\n\n>From the archive: %s\n\nRegards\n" % (sentence(14), subj)
        mbox.append("From 1789%07d@xxx Mon Jan 15 09:0%d:00 +0000 2024\n"
                    "X-GM-THRID: 1789%07d\nX-Gmail-Labels: %s\n"
                    "Message-ID: <m%d@acme.test>\nDate: Mon, 15 Jan 2024 09:0%d:00 +0000\n"
                    "From: Ada Lovelace <ada@acme.test>\nTo: bob@acme.test\nSubject: %s\n"
                    "Content-Type: text/plain; charset=UTF-8\n\n%s\n"
                    % (i, i, i, labels, i, i, subj, body.replace("\nFrom ", "\n>From ")))
    write(os.path.join(root, "Takeout", "Mail", "All mail Including Spam and Trash.mbox"), "".join(mbox))
    write(os.path.join(root, "Takeout", "Drive", "Finance", "Q1", "budget notes.txt"),
          "Q1 budget: payroll 120k, tooling 8k. Owner: Carol.\n")
    write(os.path.join(root, "Takeout", "Drive", "readme.txt"), "Shared drive of ACME ops.\n")
    write(os.path.join(root, "Takeout", "archive_browser.html"),
          "<html><body><h1>Your Google data</h1></body></html>\n")


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    {"slack": slack, "notion": notion, "takeout": takeout}[kind](out)
