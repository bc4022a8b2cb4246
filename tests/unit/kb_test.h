/* Helpers shared by the kb unit tests (test_kb, test_champ). */
#ifndef TRAWL_TESTS_KB_TEST_H
#define TRAWL_TESTS_KB_TEST_H

#include "schema.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

/* Applies the embedded migrations up to version on db with the plain sqlite3
 * library, as an older trawl left the file. */
static inline void kb_test_schema_upto(sqlite3 *db, int version)
{
    char sql[64];

    for (int i = 0; i < schema_migration_count && schema_migrations[i].version <= version; i++) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", schema_migrations[i].version);
        sqlite3_exec(db, schema_migrations[i].sql, NULL, NULL, NULL);
        sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
}

/* FTS5's integrity-check of entries_fts on the database at path. */
static inline int kb_test_fts_intact(const char *path)
{
    sqlite3 *db;
    int rc;

    sqlite3_open(path, &db);
    rc =
        sqlite3_exec(db, "INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 1)",
                     NULL, NULL, NULL);
    sqlite3_close(db);
    return rc == SQLITE_OK;
}

/* The first column of the first row of sql on the database at path, or -1. */
static inline int64_t kb_test_count(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t n = -1;

    sqlite3_open(path, &db);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#endif
