/* Mail extraction: encoded words, dates, thread keys, and hostile messages
 * that must give a document with a note, never a crash or lost text. */
#include "extract.h"
#include "extract_mail.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/trawl-test-mail-XXXXXX";

struct got {
    int n;
    char part[8][64], title[8][128], mime[8][40], parent[8][64];
    json_t *meta[8];
    char text[8][2048];
};

static int collect(const struct extract_doc *d, void *arg)
{
    struct got *g = arg;
    if (g->n >= 8)
        return 0;
    snprintf(g->part[g->n], 64, "%s", d->part ? d->part : "");
    snprintf(g->parent[g->n], 64, "%s", d->parent_part ? d->parent_part : "");
    snprintf(g->title[g->n], 128, "%s", d->title ? d->title : "");
    snprintf(g->mime[g->n], 40, "%s", d->mime ? d->mime : "");
    snprintf(g->text[g->n], 2048, "%.*s", (int)d->text_len, d->text);
    g->meta[g->n] = d->metadata ? json_deep_copy(d->metadata) : NULL;
    g->n++;
    return 0;
}

static void release(struct got *g)
{
    for (int i = 0; i < g->n; i++)
        json_decref(g->meta[i]);
    memset(g, 0, sizeof *g);
}

static long run(const char *name, const char *content, struct got *g, int mbox)
{
    char path[300], err[300] = "";
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(content, f);
    fclose(f);
    memset(g, 0, sizeof *g);
    return mbox ? extract_mbox(path, name, NULL, collect, g, err, sizeof err)
                : extract_mail(path, name, NULL, collect, g, err, sizeof err);
}

static const char *meta_s(json_t *m, const char *k)
{
    return json_string_value(json_object_get(m, k));
}

int main(void)
{
    struct buf b = BUF_INIT;
    char iso[32];
    struct got g;

    if (!mkdtemp(dir))
        return 1;
    const char *h1 = "=?iso-8859-1?q?J=F8rgen?= =?utf-8?B?VGhvbXNlbg==?= <j@x.dk>";
    mail_decode_header(h1, strlen(h1), &b);
    is_str(buf_str(&b), "JørgenThomsen <j@x.dk>",
           "encoded words: Q and B, space between them dropped");
    buf_reset(&b);
    mail_decode_header("Caf\xe9 au lait", 12, &b);
    is_str(buf_str(&b), "Caf\xc3\xa9 au lait", "raw 8-bit header taken as Windows-1252");
    buf_reset(&b);
    mail_decode_header("=?x-unknown?Q?abc?= =?utf-8?Q?broken", 37, &b);
    ok(strstr(buf_str(&b), "abc") != NULL, "unknown charset still gives the bytes");
    buf_reset(&b);
    mail_thread_key("Re: AW: [list] Fwd:  Payroll   for JANUARY", &b);
    is_str(buf_str(&b), "payroll for january", "thread key strips Re/AW/Fwd and list tags");
    buf_reset(&b);
    mail_thread_key("Re[2]: budget", &b);
    is_str(buf_str(&b), "budget", "thread key strips Re[2]:");
    ok(mail_date_iso("Thu, 22 Aug 2002 07:36:16 -0400", iso) == 0 &&
           strcmp(iso, "2002-08-22T11:36:16Z") == 0,
       "date with offset to UTC");
    ok(mail_date_iso("22 Aug 02 07:36 EDT", iso) == 0 && strcmp(iso, "2002-08-22T11:36:00Z") == 0,
       "two-digit year, no seconds, zone name");
    ok(mail_date_iso("yesterday", iso) < 0, "garbage date refused");

    run("a.eml",
        "From: =?utf-8?Q?Ad=C3=A1?= <ada@acme.test>\nTo: bob@acme.test, Carol <carol@acme.test>\n"
        "Subject: =?utf-8?B?UmU6IFBheXJvbGw=?=\nDate: Mon, 15 Jan 2024 10:00:00 +0100\n"
        "Message-ID: <m2@acme.test>\nIn-Reply-To: <m1@acme.test>\n"
        "References: <m0@acme.test>\n <m1@acme.test>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"XX\"\n\npreamble\n--XX\n"
        "Content-Type: multipart/alternative; boundary=YY\n\n--YY\nContent-Type: text/plain; "
        "charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nSal=E6r er "
        "betalt=\n i dag.\n--YY\nContent-Type: text/html\n\n<p>HTML copy</p>\n--YY--\n--XX\n"
        "Content-Type: text/plain; name*=utf-8''r%C3%A9sum%C3%A9.txt\n"
        "Content-Disposition: attachment\nContent-Transfer-Encoding: base64\n\n"
        "bm90ZXMgb24gcGF5cm9sbA==\n--XX\nContent-Type: message/rfc822\n\n"
        "From: x@y.test\nSubject: inner\n\ninner body\n--XX--\n",
        &g, 0);
    is_int(g.n, 3, "message, attachment, nested message, and nothing else");
    is_str(g.title[0], "Re: Payroll", "subject decoded");
    is_str(g.part[0], "", "the message is the file itself");
    ok(strstr(g.text[0], "Sal\xc3\xa6r er betalt i dag.") != NULL,
       "quoted-printable latin-1 body decoded, soft break joined");
    ok(strstr(g.text[0], "HTML copy") == NULL, "alternative: the plain part is read, not both");
    is_str(meta_s(g.meta[0], "thread_key"), "payroll", "thread key");
    is_str(meta_s(g.meta[0], "in_reply_to"), "<m1@acme.test>", "In-Reply-To");
    is_int((int)json_array_size(json_object_get(g.meta[0], "references")), 2, "References");
    is_str(meta_s(g.meta[0], "date"), "2024-01-15T09:00:00Z", "date in UTC");
    is_str(meta_s(g.meta[0], "from_address"), "ada@acme.test", "sender address");
    is_int((int)json_array_size(json_object_get(g.meta[0], "recipients")), 2, "recipients");
    is_str(g.title[1], "r\xc3\xa9sum\xc3\xa9.txt", "RFC 2231 filename");
    is_str(g.part[1], "1", "attachment part id");
    is_str(g.text[1], "notes on payroll", "base64 attachment extracted");
    is_str(g.title[2], "inner", "nested message is a document");
    is_str(g.part[2], "2", "nested message part id");
    release(&g);

    run("bad.eml", "Subject: broken\nContent-Type: multipart/mixed\n\nno boundary here\n", &g, 0);
    is_int(g.n, 1, "multipart without boundary: one document");
    ok(strstr(g.text[0], "no boundary here") != NULL, "its body kept as text");
    ok(meta_s(g.meta[0], "extract_error") != NULL, "and a note says why");
    release(&g);

    run("b64.eml",
        "Subject: junk\nContent-Transfer-Encoding: base64\nContent-Type: text/plain; "
        "charset=bogus-42\n\n!!!!aGVsbG8=\n",
        &g, 0);
    ok(strstr(g.text[0], "hello") != NULL, "broken base64 decoded around the junk");
    ok(strstr(meta_s(g.meta[0], "extract_error"), "bogus-42") != NULL, "unknown charset noted");
    release(&g);

    run("k.eml",
        "Subject: k\nContent-Type: text/plain; "
        "charset=ks_c_5601-1987\n\n\xc7\xd1\xb1\xb9\xbe\xee\n",
        &g, 0);
    ok(strstr(g.text[0], "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4") != NULL,
       "Microsoft's ks_c_5601-1987 label read as CP949 (Korean)");
    ok(meta_s(g.meta[0], "extract_error") == NULL, "a known alias is no error");
    release(&g);

    run("u.eml", "Subject: u\nContent-Type: text/plain; charset=unknown-8bit\n\ncaf\xe9 cr\xe8me\n",
        &g, 0);
    ok(strstr(g.text[0], "caf\xc3\xa9 cr\xc3\xa8me") != NULL,
       "an unknown label on bytes that are not UTF-8: read as Windows-1252");
    ok(strstr(meta_s(g.meta[0], "extract_error"), "Windows-1252") != NULL, "and noted so");
    release(&g);

    {
        /* 40 nested multiparts: depth capped, no stack blow-up */
        struct buf deep = BUF_INIT;
        buf_adds(&deep, "Subject: deep\n");
        for (int i = 0; i < 40; i++)
            buf_addf(&deep, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
        buf_adds(&deep, "Content-Type: text/plain\n\nbottom\n");
        run("deep.eml", buf_str(&deep), &g, 0);
        is_int(g.n, 1, "deep nesting: one document");
        ok(strstr(meta_s(g.meta[0], "extract_error"), "nesting") != NULL, "depth limit noted");
        release(&g);
        buf_release(&deep);
    }

    is_int(
        (int)run("box.mbox",
                 "From a@b Thu Jan  1 00:00:00 2004\nSubject: one\nMessage-ID:\n <one/1@x.test>\n\n"
                 "body\n>From quoted\n\n"
                 "From c@d Thu Jan  1 00:00:00 2004\nSubject: two\n\nsecond\n",
                 &g, 1),
        3, "mbox: two messages and the mbox itself");
    is_str(g.part[0], "one_1@x.test",
           "a message's part id is its Message-ID (folded, '/' made '_')");
    ok(strncmp(g.part[1], "hash-", 5) == 0 && strlen(g.part[1]) == 21,
       "without a Message-ID, a hash of the message");
    ok(strstr(g.text[0], "\nFrom quoted") != NULL, "mboxrd >From unquoted");
    is_str(g.title[1], "two", "second message");
    is_str(g.mime[2], "application/mbox", "the mbox document");
    release(&g);

    buf_release(&b);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    /* file types as the forum and the planner name them (extract_file_type) */
    {
        static const char *const cases[][2] = {
            {"Report.PDF", "pdf"}, {"a/b/x.tar.gz", "gz"},
            {"GPL-3.0", ""},       {"notes.1", ""},
            {"dir.d/README", ""},  {".bashrc", ""},
            {"a/.profile", ""},    {"x.", ""},
            {"mail.mbox#id", ""},  {"Q3.xlsx", "xlsx"},
            {"a.mp3", "mp3"},      {"f.averyveryverylongextension", ""},
        };
        char ft[16];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            extract_file_type(cases[i][0], ft);
            is_str(ft, cases[i][1], "file type of '%s'", cases[i][0]);
        }
    }
    return tap_done();
}
