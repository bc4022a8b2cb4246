/* Helpers shared by the kb unit tests (test_kb, test_champ). */
#ifndef TRAWL_TESTS_KB_TEST_H
#define TRAWL_TESTS_KB_TEST_H

#include "schema.h"

#include <sqlite3.h>
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

#endif
