/* kb_fts_query: user text to a safe FTS5 query. */
#include "buf.h"
#include "kb.h"
#include "tap.h"

#include <sqlite3.h>
#include <stdlib.h>

static void check(const char *in, int want_rc, const char *want)
{
    struct buf b = BUF_INIT;
    int rc = kb_fts_query(in, &b);

    is_int(rc, want_rc, "rc for [%s]", in);
    if (want)
        is_str(buf_str(&b), want, "query for [%s]", in);
    buf_release(&b);
}

/* Whatever the builder emits must parse in FTS5. */
static int fts_accepts(sqlite3 *db, const char *in)
{
    struct buf b = BUF_INIT;
    sqlite3_stmt *st;
    int rc;

    if (kb_fts_query(in, &b) < 0) {
        buf_release(&b);
        return 1; /* refused: fine, never reaches SQL */
    }
    sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, buf_str(&b), -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    buf_release(&b);
    return rc == SQLITE_ROW;
}

int main(void)
{
    sqlite3 *db;
    static const char *hostile[] = {"\"",
                                    "(",
                                    ")",
                                    "*",
                                    "AND",
                                    "OR",
                                    "NOT",
                                    "a:b",
                                    "title:x",
                                    "NEAR(a b)",
                                    "^x",
                                    "\"unbal",
                                    "a OR",
                                    "OR a",
                                    "-",
                                    "--",
                                    "- -x",
                                    "a AND AND b",
                                    "{title}:x",
                                    "x*y*",
                                    "'; DROP TABLE t; --",
                                    "\xff\xfe",
                                    "caf\xc3",
                                    "\xe2\x82",
                                    "a\x01b",
                                    "(((((a",
                                    "a NOT",
                                    "NOT NOT a",
                                    "\"\"",
                                    "\"*\"",
                                    "a + b",
                                    "a - b",
                                    "x\"y",
                                    "*a",
                                    "a**",
                                    "\xed\xa0\x80 surrogate",
                                    "\xf4\x90\x80\x80",
                                    "é ü 中文 😀",
                                    "a\"b\"c",
                                    "a OR OR b"};

    check("payroll", 0, "\"payroll\"");
    check("payroll bank", 0, "\"payroll\" AND \"bank\"");
    check("payroll OR bank", 0, "\"payroll\" OR \"bank\"");
    check("\"bank holiday\" pay*", 0, "\"bank holiday\" AND \"pay\"*");
    check("invoice -draft", 0, "(\"invoice\") NOT (\"draft\")");
    check("invoice NOT draft NOT old", 0, "(\"invoice\") NOT (\"draft\" OR \"old\")");
    check("e-mail", 0, "\"e\" AND \"mail\"");
    check("title:secret", 0, "\"title\" AND \"secret\"");
    check("NEAR(a b)", 0, "\"NEAR\" AND \"a\" AND \"b\"");
    check("café", 0, "\"café\"");
    check("a\xffz", 0, "\"a\" AND \"z\"");
    check("", KB_EINVAL, "the query has no searchable words");
    check("  ()*:^ ", KB_EINVAL, NULL);
    check("-draft", KB_EINVAL, "a query needs at least one word that is not excluded");
    check("OR AND NOT", KB_EINVAL, NULL);

    /* More than 32 terms are cut, never an error. */
    {
        struct buf big = BUF_INIT, q = BUF_INIT;
        for (int i = 0; i < 100; i++)
            buf_addf(&big, "w%d ", i);
        is_int(kb_fts_query(buf_str(&big), &q), 0, "100 words accepted");
        ok(strstr(buf_str(&q), "\"w31\"") && !strstr(buf_str(&q), "\"w32\""), "terms capped at 32");
        buf_release(&big);
        buf_release(&q);
    }

    sqlite3_open(":memory:", &db);
    sqlite3_exec(db,
                 "CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61');"
                 "INSERT INTO t VALUES ('the payroll of bank holiday');",
                 NULL, NULL, NULL);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
        ok(fts_accepts(db, hostile[i]), "FTS5 accepts the query built from hostile input #%zu", i);
    {
        struct buf b = BUF_INIT;
        sqlite3_stmt *st;
        kb_fts_query("bank holiday", &b);
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?", -1, &st, NULL);
        sqlite3_bind_text(st, 1, buf_str(&b), -1, SQLITE_STATIC);
        sqlite3_step(st);
        is_int(sqlite3_column_int(st, 0), 1, "built query matches the row");
        sqlite3_finalize(st);
        buf_release(&b);
    }
    sqlite3_close(db);
    return tap_done();
}
