/* The IMAP answer parsers: FETCH items in every documented shape (Gmail's
 * X-GM-LABELS / X-GM-MSGID / X-GM-THRID included), modified UTF-7 labels,
 * and the listing's search windows. */
#include "imap_parse.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define MAXM 8

struct got {
    int n;
    unsigned long seq[MAXM], uid[MAXM];
    char body[MAXM][64];
    int has_body[MAXM], has_labels[MAXM];
    unsigned long long msgid[MAXM], thrid[MAXM];
    char labels[MAXM][256]; /* joined with '|' */
};

static int collect(void *arg, const struct imap_msg *m)
{
    struct got *g = arg;
    int i = g->n++;
    if (i >= MAXM)
        return -1;
    g->seq[i] = m->seq;
    g->uid[i] = m->uid;
    g->has_body[i] = m->has_body;
    if (m->has_body)
        snprintf(g->body[i], sizeof g->body[i], "%.*s", (int)m->len, m->body);
    g->msgid[i] = m->gm_msgid;
    g->thrid[i] = m->gm_thrid;
    g->has_labels[i] = m->has_labels;
    g->labels[i][0] = '\0';
    for (int k = 0; k < m->nlabels; k++) {
        size_t o = strlen(g->labels[i]);
        snprintf(g->labels[i] + o, sizeof g->labels[i] - o, "%s%s", k ? "|" : "", m->labels[k]);
    }
    return 0;
}

static long parse(const char *s, struct got *g)
{
    memset(g, 0, sizeof *g);
    /* an exact-size copy: ASan sees a read past the answer */
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    long r = imap_parse_fetch_msgs(p, n, collect, g);
    free(p);
    return r;
}

static void test_gmail_fetch(void)
{
    struct got g;
    long r = parse("* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334866 "
                   "X-GM-LABELS (\\Inbox \"Some label\" \\Important) UID 7 BODY[]<0> {12}\r\n"
                   "Hello world!)\r\n"
                   "C004 OK Success\r\n",
                   &g);
    is_int(r, 1, "gmail FETCH: one message");
    is_int(g.uid[0], 7, "gmail FETCH: UID after the Gmail items");
    is_str(g.body[0], "Hello world!", "gmail FETCH: the body literal");
    ok(g.thrid[0] == 1278455344230334865ULL, "gmail FETCH: X-GM-THRID (64-bit)");
    ok(g.msgid[0] == 1278455344230334866ULL, "gmail FETCH: X-GM-MSGID (64-bit)");
    is_str(g.labels[0], "\\Inbox|Some label|\\Important", "gmail FETCH: atoms and quoted labels");

    r = parse("* 2 FETCH (UID 9 X-GM-LABELS ({5}\r\nab cd \"say \\\"hi\\\"\" &AOk-t&AOk- "
              "\"Entw&APw-rfe\" NIL) BODY[]<0> {3}\r\nabc)\r\n",
              &g);
    is_int(r, 1, "labels with a literal, escapes, modified UTF-7 and NIL");
    is_str(g.labels[0], "ab cd|say \"hi\"|\xc3\xa9t\xc3\xa9|Entw\xc3\xbcrfe",
           "labels: literal, unescaped quoted, UTF-8 from modified UTF-7, NIL dropped");
    is_str(g.body[0], "abc", "labels with a literal: the body after them is still found");

    r = parse("* 3 FETCH (X-GM-LABELS () UID 4 BODY[] {2}\r\nhi)\r\n", &g);
    is_int(r, 1, "empty label list");
    ok(g.has_labels[0] && g.labels[0][0] == '\0', "empty label list: labels given, none");
}

static void test_fetch_shapes(void)
{
    struct got g;
    long r = parse("* 1 FETCH (UID 5 BODY[]<0> {12}\r\nHello world!)\r\n"
                   "* 2 FETCH (BODY[]<0> {3}\r\nabc UID 9)\r\n"
                   "* 3 FETCH (FLAGS (\\Seen $Forwarded) RFC822.SIZE 44 "
                   "BODY[HEADER.FIELDS (FROM TO)] {6}\r\nFrom:x UID 11 BODY[] \"q\\\"b\")\r\n",
                   &g);
    is_int(r, 3, "three messages, items in any order");
    is_int(g.uid[1], 9, "UID after the literal");
    is_str(g.body[1], "abc", "body before UID");
    is_int(g.uid[2], 11, "UID after a section with a parenthesised field list");
    is_str(g.body[2], "q\"b", "a quoted body is unescaped; a header section is not the body");
    ok(!g.has_labels[0], "no X-GM-LABELS: none recorded");

    /* a message whose text looks like FETCH answers stays text */
    r = parse("* 1 FETCH (UID 5 BODY[] {40}\r\n* 2 FETCH (UID 6 BODY[] {3}\r\nabc)\r\nxxxxx)\r\n",
              &g);
    is_int(r, 1, "FETCH answers inside a literal are not answers");
    is_int(g.uid[0], 5, "the real message");

    r = parse("* 1 FETCH (UID 5 BODY[] {999}\r\nshort)\r\n", &g);
    is_int(r, -1, "a literal longer than the answer: cut short");

    r = parse("* 1 FETCH (UID 5 BODY[] {3}\r\nabc\r\n* 2 FETCH (UID 6 BODY[] {2}\r\nok)\r\n", &g);
    is_int(r, 1, "a malformed message is skipped, the next one read");
    is_int(g.uid[0], 6, "the well-formed one");

    r = parse("* 20000 FETCH (UID 20012)\r\n* 40000 FETCH (UID 40100)\r\n", &g);
    is_int(r, 2, "UID-only answers");
    ok(g.seq[0] == 20000 && g.uid[0] == 20012 && g.seq[1] == 40000 && g.uid[1] == 40100,
       "UID-only answers: sequence numbers and UIDs");
    ok(!g.has_body[0], "UID-only answers: no body");

    r = parse("* 1 FETCH (UID 99999999999 BODY[] {1}\r\nx)\r\n", &g);
    is_int(g.uid[0], 0, "a UID over 32 bits is not a UID");
    r = parse("* 1 FETCH (UID 5 BODY[] {1+}\r\nx)\r\n", &g);
    is_str(g.body[0], "x", "non-synchronising literal {n+}");
}

static void test_mutf7(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"INBOX", "INBOX"},
        {"&-", "&"},
        {"Tom &- Jerry", "Tom & Jerry"},
        {"&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"},
        {"&2D3eAQ-", "\xf0\x9f\x98\x81"}, /* a surrogate pair */
        {"&AOk", "&AOk"},                 /* unterminated: as sent */
        {"&2D0-", "&2D0-"},               /* a lone surrogate: as sent */
        {"a&AOk-&AOk-b", "a\xc3\xa9\xc3\xa9"
                         "b"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = imap_mutf7_decode(cases[i].in);
        is_str(s, cases[i].out, "modified UTF-7 '%s'", cases[i].in);
        free(s);
    }
}

static void test_capability(void)
{
    const char *gm =
        "* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN "
        "X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE\r\nA1 OK Thats all she wrote!\r\n";
    const char *dv = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
                     "LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n";
    ok(imap_has_capability(gm, strlen(gm), "X-GM-EXT-1"), "Gmail's CAPABILITY has X-GM-EXT-1");
    ok(imap_has_capability(gm, strlen(gm), "move"), "capabilities match in any case");
    ok(!imap_has_capability(dv, strlen(dv), "X-GM-EXT-1"), "Dovecot's has no X-GM-EXT-1");
    ok(imap_has_capability(dv, strlen(dv), "AUTH=PLAIN"), "[CAPABILITY ...] in a greeting");
    ok(!imap_has_capability(dv, strlen(dv), "AUTH"), "a prefix of a capability is not one");
}

static void test_windows(void)
{
    char cmd[256];
    unsigned long u[8];
    unsigned long last;

    last = imap_bounds_cmd(0, 20000, 45000, 500, cmd, sizeof cmd);
    is_str(cmd, "FETCH 20000,40000,45000 (UID)", "45,000 messages: three windows");
    is_int(last, 45000, "... the last one ends at EXISTS");
    is_int(imap_bounds_cmd(last, 20000, 45000, 500, cmd, sizeof cmd), 0, "... then nothing");
    last = imap_bounds_cmd(0, 20000, 40000, 500, cmd, sizeof cmd);
    is_str(cmd, "FETCH 20000,40000 (UID)", "an exact multiple: no empty window");
    last = imap_bounds_cmd(0, 20000, 100000, 2, cmd, sizeof cmd);
    is_str(cmd, "FETCH 20000,40000 (UID)", "at most max numbers per command");
    last = imap_bounds_cmd(last, 20000, 100000, 2, cmd, sizeof cmd);
    is_str(cmd, "FETCH 60000,80000 (UID)", "the next command goes on");
    last = imap_bounds_cmd(last, 20000, 100000, 2, cmd, sizeof cmd);
    is_str(cmd, "FETCH 100000 (UID)", "... to the end");
    last = imap_bounds_cmd(0, 20000, 45000, 2, cmd, sizeof cmd);
    last = imap_bounds_cmd(last, 20000, 45000, 2, cmd, sizeof cmd);
    is_str(cmd, "FETCH 45000 (UID)", "a last window shorter than per after a full command");
    is_int(imap_bounds_cmd(0, 4000000000UL, 4294967295UL, 10, cmd, sizeof cmd), 4294967295UL,
           "no overflow near 2^32");
    is_str(cmd, "FETCH 4000000000,4294967295 (UID)", "... the last message still ends a window");

    const char *a = "* 40000 FETCH (UID 40100)\r\n* 20000 FETCH (UID 20012)\r\n"
                    "* 45000 FETCH (UID 3000000000)\r\nA9 OK Fetch completed.\r\n";
    is_int(imap_parse_bounds(a, strlen(a), 0, u, 8), 3, "three window ends");
    ok(u[0] == 20012 && u[1] == 40100 && u[2] == 3000000000UL,
       "... in sequence order, sparse UIDs");
    const char *b = "* 2 FETCH (UID 50)\r\n* 1 FETCH (UID 60)\r\n* 3 FETCH (UID 70)\r\n";
    is_int(imap_parse_bounds(b, strlen(b), 55, u, 8), 2,
           "an end not above the previous is dropped");
    ok(u[0] == 60 && u[1] == 70, "... the windows stay disjoint");
    is_int(imap_parse_bounds(b, strlen(b), 0, u, 1), 1, "at most max");
}

int main(void)
{
    test_windows();
    test_capability();
    test_gmail_fetch();
    test_fetch_shapes();
    test_mutf7();
    return tap_done();
}
