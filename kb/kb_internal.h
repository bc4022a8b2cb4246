#ifndef TRAWL_KB_INTERNAL_H
#define TRAWL_KB_INTERNAL_H

/* Shared between the kb module files only; callers use kb.h. */

#include "kb.h"

#include <sqlite3.h>

/* Bit layout of entry ids, see schema/001_init.sql. */
#define KB_CLIENT_SHIFT 49
#define KB_DOMAIN_SHIFT 40
#define KB_SKILL_SHIFT 30
#define KB_GROUP_SHIFT 16
/* A node's own entries are the ids base + 1 .. base + KB_SEQ_MAX (the SQL
 * spells it 65535): queries for them are rowid ranges, no index needed. */
#define KB_SEQ_MAX ((1 << 16) - 1)
#define KB_CLIENT_MAX 16383

#define KB_STMT_CACHE 64

struct kb {
    sqlite3 *db;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } stmts[KB_STMT_CACHE];
    int nstmts;
    char *path;
    int in_tx;
    int big_cache; /* the writer's page cache is set: see kb_begin */
    int page_size;
    /* New entries of the open transaction, indexed by kb_fts_flush */
    struct kb_pending *pend;
    size_t npend, apend, pend_bytes;
    int64_t *pend_set; /* their ids, open addressing (0 = free) */
    size_t pend_setcap;
    char err[1024];
    /* the nodes kb_node_ensure resolved: kb_tree.c */
    struct kb_node_memo *memo;
    size_t nmemo, memocap;
    int64_t memo_version;    /* PRAGMA data_version they were read at */
    struct kb_champ *champ;  /* champion lists: kb_champ.c */
    const char *search_path; /* how the last kb_search was answered */
};

/** Records a message and returns code. */
int kb_fail(struct kb *kb, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Records what SQLite said about `what` and maps it to a KB_E code. */
int kb_sqlfail(struct kb *kb, const char *what);

/**
 * Returns the prepared statement for sql, a string literal, reset and with
 * bindings cleared; cached on the handle, so callers sqlite3_reset() it when
 * done and never finalize it. NULL on error, with the message set.
 */
sqlite3_stmt *kb_prepare(struct kb *kb, const char *sql);

/** Binds text or NULL. */
int kb_bind_text(sqlite3_stmt *st, int i, const char *s);

/** Column text as "" when NULL. */
const char *kb_col(sqlite3_stmt *st, int i);

/** Column text, NULL when NULL. */
const char *kb_col_null(sqlite3_stmt *st, int i);

/* A new entry waiting to be indexed: its id, title and body (one allocation). */
struct kb_pending {
    int64_t id;
    char *title, *body;
    int ntitle, nbody;
};

/* Pending text held in memory before kb_entry_insert indexes it early. */
#define KB_PENDING_BYTES (64 << 20)

/**
 * Queues entry id for indexing with a copy of its title and body. Entries
 * are indexed at commit, in id order (see schema/003_entries_fts_from_c.sql);
 * the queue is in memory (entries_fts_pending before schema version 8), so
 * indexing does not read back what the transaction just wrote. The update
 * and delete triggers take an entry out of the index, so an entry in the
 * queue must be indexed before it is changed or deleted: see kb_pending_has.
 */
int kb_pending_add(struct kb *kb, int64_t id, const char *title, const char *body);

/** 1 when entry id waits in the queue. */
int kb_pending_has(const struct kb *kb, int64_t id);

/** Empties the queue without indexing (rollback, close). */
void kb_pending_clear(struct kb *kb);

/**
 * Indexes the queued entries, in id order, and empties the queue. kb_commit
 * calls it; so do readers of entries_fts in an open transaction, so that a
 * search sees what the same transaction wrote, and writers about to change
 * or delete a queued entry. After a failure the queue is empty and the
 * transaction must be rolled back.
 */
int kb_fts_flush(struct kb *kb);

/* ---- champion lists (kb_champ.c, schema/005_entry_champions.sql) ---- */

#define KB_CHAMP_INSERT 1
#define KB_CHAMP_DELETE 2
#define KB_CHAMP_UPDATE 3

/** Wraps FTS5's porter tokenizer on this connection; before entries_fts is first used. */
int kb_champ_open(struct kb *kb);
void kb_champ_close(struct kb *kb);
/** Forgets the lists held in memory (after a rollback); they are read again when needed. */
void kb_champ_reset(struct kb *kb);
/** Before a statement that changes entries_fts: lists loaded and still current. */
int kb_champ_write_begin(struct kb *kb);
/** Records the terms of the entries the next statement indexes or removes. */
void kb_champ_capture(struct kb *kb);
/** After that statement: applies what it captured to entry id (KB_CHAMP_*). */
int kb_champ_apply(struct kb *kb, int64_t id, int kind);
/** Tracks newly common terms and stores the changed lists; before COMMIT. */
int kb_champ_commit(struct kb *kb);
/**
 * Ranked search of the FTS query fts in rowid range [lo, hi] from the lists
 * or by ranking with known document frequencies. Returns 1 when it answered,
 * 0 when the query is not one it handles (FTS5 then does it), <0 on error.
 */
int kb_champ_search(struct kb *kb, const char *fts, int64_t lo, int64_t hi, int limit,
                    const struct kb_search_opts *opts, kb_hit_fn fn, void *arg);
/** Test hook: smaller thresholds (min df, list size kmin + df/kdiv, df >= entries/tdiv). */
void kb_champ_tune(struct kb *kb, int min_df, int kmin, int kdiv, int tdiv);
/* Most rows of a subtree one pass keeps for a term without a list (tests). */
void kb_champ_scan_cap(struct kb *kb, int cap);

/** Forgets the nodes kb_node_ensure remembers (rollback, pruning, close). */
void kb_node_memo_clear(struct kb *kb);

/** Hex XXH3-128 of len bytes into out[33]. */
void kb_hash_hex(const void *p, size_t len, char out[33]);

#endif
