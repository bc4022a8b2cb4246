/* Unit tests for src/textstat.c: tokeniser, stop words, stemming, term
 * vectors, BM25 weights, SimHash near-duplicates, summaries, slugs. */
#include "tap.h"
#include "textstat.h"

#include <stdlib.h>

struct toks {
    char list[1024];
    size_t n;
};

static int add_tok(const char *t, size_t len, size_t off, void *ud)
{
    struct toks *k = ud;
    size_t l = strlen(k->list);

    (void)off;
    snprintf(k->list + l, sizeof k->list - l, "%s%.*s", l ? "|" : "", (int)len, t);
    k->n++;
    return 0;
}

static const char *toks(const char *s)
{
    static struct toks k;

    memset(&k, 0, sizeof k);
    ts_tokenize(s, strlen(s), add_tok, &k);
    return k.list;
}

int main(void)
{
    struct ts_doc d, a, b, c;
    struct buf out = BUF_INIT;
    char stem[64], slug[32];
    const char *base = "The payroll run for March failed because the bank holiday moved the "
                       "settlement date. Finance asked treasury to resend the payroll file. "
                       "Employees were paid one day late and HR sent an apology.";
    const char *near = "The payroll run for March failed because the bank holiday moved the "
                       "settlement date. Finance asked treasury to resend the payroll file. "
                       "Employees were paid one day late and HR sent an apology today.";
    const char *other = "Kubernetes cluster upgrade notes: drain nodes, bump the control plane, "
                        "watch the etcd quorum and roll the ingress controllers one by one.";

    /* tokeniser */
    is_str(toks("Hello, World! x 42 a1 2024-01-02"), "hello|world|a1",
           "splits, lowercases, drops 1-char and digit-only");
    is_str(toks(""), "", "empty text gives no tokens");
    is_str(toks("caf\xc3\xa9 na\xc3\xafve"), "caf\xc3\xa9|na\xc3\xafve",
           "UTF-8 letters stay inside words");
    {
        char longw[200];
        memset(longw, 'q', 100);
        strcpy(longw + 100, " ok");
        is_str(toks(longw), "ok", "runs longer than TS_TOKEN_MAX are skipped");
    }

    /* stop words and stemming */
    ok(ts_is_stopword("the", 3) && ts_is_stopword("yourselves", 10), "stop words found");
    ok(!ts_is_stopword("payroll", 7) && !ts_is_stopword("th", 2),
       "content words are not stop words");
    ts_stem("running", 7, stem, sizeof stem);
    is_str(stem, "run", "running stems to run");
    ts_stem("invoices", 8, stem, sizeof stem);
    is_str(stem, "invoic", "invoices stems to invoic");
    ts_stem("\xff\xfe", 2, stem, sizeof stem);
    ok(strlen(stem) <= 2, "invalid UTF-8 does not crash the stemmer");

    /* term vectors */
    ok(ts_doc_build(&d, base, strlen(base)) == 0, "doc builds");
    is_int(ts_doc_count(&d, "payrol"), 2, "payroll counted twice (stemmed)");
    is_int(ts_doc_count(&d, "the"), 0, "stop words not counted");
    is_int(ts_doc_count(&d, "zzz"), 0, "absent term is 0");
    {
        size_t i, sorted = 1;
        for (i = 1; i < d.n; i++)
            if (strcmp(d.terms[i - 1].term, d.terms[i].term) >= 0)
                sorted = 0;
        ok(sorted, "terms sorted and distinct");
    }
    ts_doc_free(&d);
    ok(ts_doc_build(&d, "", 0) == 0 && d.n == 0 && d.ntokens == 0, "empty doc");
    ts_doc_free(&d);

    /* BM25 */
    ok(ts_bm25_weight(3, 100, 100, 1, 1000) > ts_bm25_weight(3, 100, 100, 500, 1000),
       "rarer term weighs more");
    ok(ts_bm25_weight(10, 100, 100, 5, 1000) > ts_bm25_weight(1, 100, 100, 5, 1000),
       "more occurrences weigh more");
    ok(ts_bm25_weight(10, 100, 100, 5, 1000) < 2.3 * ts_bm25_weight(1, 100, 100, 5, 1000),
       "term frequency saturates");
    is_int(ts_bm25_weight(0, 100, 100, 5, 1000) == 0, 1, "zero tf weighs zero");

    /* SimHash */
    ts_doc_build(&a, base, strlen(base));
    ts_doc_build(&b, near, strlen(near));
    ts_doc_build(&c, other, strlen(other));
    ok(ts_simhash(&a) == ts_simhash(&a), "SimHash deterministic");
    ok(ts_hamming(ts_simhash(&a), ts_simhash(&b)) <= 10, "near duplicate within 10 bits (%d)",
       ts_hamming(ts_simhash(&a), ts_simhash(&b)));
    ok(ts_hamming(ts_simhash(&a), ts_simhash(&c)) >= 16, "unrelated text far apart (%d)",
       ts_hamming(ts_simhash(&a), ts_simhash(&c)));
    ts_doc_free(&a);
    ts_doc_free(&b);
    ts_doc_free(&c);

    /* summaries */
    {
        const char *t = "Hi all.\n\nThe payroll file for March failed at the bank. The payroll "
                        "file was resent to the bank and the payroll run finished. Cheers.";
        ok(ts_summary(t, strlen(t), 1, 500, &out) == 0, "summary built");
        is_str(buf_str(&out),
               "The payroll file was resent to the bank and the payroll run finished.",
               "the most central sentence is chosen");
        buf_reset(&out);
        ts_summary(t, strlen(t), 2, 500, &out);
        is_str(buf_str(&out),
               "The payroll file for March failed at the bank. The payroll file was resent to the "
               "bank and the payroll run finished.",
               "two sentences in original order");
        buf_reset(&out);
        ts_summary(t, strlen(t), 2, 20, &out);
        is_int(out.len, 20, "summary capped at max_bytes");
        buf_reset(&out);
        ts_summary("", 0, 3, 100, &out);
        is_int(out.len, 0, "empty text, empty summary");
        buf_reset(&out);
        ts_summary("\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9.", 14, 1, 5, &out);
        ok(out.len == 4, "cut at a UTF-8 boundary (%zu)", out.len);
    }
    buf_release(&out);

    /* slugs */
    ts_slug("  Payroll & HR -- 2024 ", slug, sizeof slug);
    is_str(slug, "payroll-hr-2024", "slug collapses separators");
    ts_slug("!!!", slug, sizeof slug);
    is_str(slug, "untitled", "empty slug becomes untitled");
    ts_slug("abcdefghij klmnopqrst uvwxyz0123456789", slug, 16);
    ok(strlen(slug) <= 15 && slug[strlen(slug) - 1] != '-', "slug truncated cleanly: %s", slug);
    return tap_done();
}
