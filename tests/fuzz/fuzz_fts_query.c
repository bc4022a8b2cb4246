/* Fuzz target: kb_fts_query must never emit a query FTS5 rejects. */
#include "buf.h"
#include "kb.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sqlite3 *db;
    static sqlite3_stmt *st;
    struct buf q = BUF_INIT;
    char *text;

    if (!db) {
        sqlite3_open(":memory:", &db);
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='porter unicode61 "
                     "remove_diacritics 2'); INSERT INTO t VALUES ('bank holiday', 'payroll');",
                     NULL, NULL, NULL);
        sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?", -1, &st, NULL);
    }
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (kb_fts_query(text, &q) == 0) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, buf_str(&q), -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            abort(); /* the builder let FTS5 syntax through */
    }
    buf_release(&q);
    free(text);
    return 0;
}
