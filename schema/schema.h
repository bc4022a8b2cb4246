#ifndef TRAWL_SCHEMA_H
#define TRAWL_SCHEMA_H

/** One numbered migration: applied in order, each in its own transaction. */
struct schema_migration {
    int version;
    const char *name;
    const char *sql;
};

/** The migrations embedded at build time from schema/NNN_*.sql, sorted by version. */
extern const struct schema_migration schema_migrations[];
extern const int schema_migration_count;

#endif
