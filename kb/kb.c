/*
 * kb: opening, migrations, transactions, clients, runs, sources, documents.
 * The tree and entries are in kb_tree.c, searches in kb_search.c, JSONL in
 * kb_jsonl.c.
 */
#include "kb_internal.h"

#include "buf.h"
#include "schema.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define KB_APPLICATION_ID 0x7472776c /* 'trwl' */

int kb_fail(struct kb *kb, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(kb->err, sizeof kb->err, fmt, ap);
    va_end(ap);
    return code;
}

int kb_sqlfail(struct kb *kb, const char *what)
{
    int rc = sqlite3_errcode(kb->db) & 0xff;
    const char *msg = sqlite3_errmsg(kb->db);

    switch (rc) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return kb_fail(kb, KB_EBUSY,
                       "database '%s' is locked by another writer (%s); try again when it "
                       "finishes",
                       kb->path, what);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return kb_fail(kb, KB_ECORRUPT,
                       "database '%s' is not a trawl database or is damaged (%s: %s); restore "
                       "it from an export or point --db elsewhere",
                       kb->path, what, msg);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return kb_fail(kb, KB_ERROR,
                       "database '%s' cannot be written (%s: %s); check its permissions", kb->path,
                       what, msg);
    case SQLITE_FULL:
        return kb_fail(kb, KB_ERROR, "database '%s': disk full (%s)", kb->path, what);
    default:
        return kb_fail(kb, KB_ERROR, "database '%s': %s: %s", kb->path, what, msg);
    }
}

sqlite3_stmt *kb_prepare(struct kb *kb, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int i;

    /* SQL texts are string literals: their address identifies them. */
    for (i = 0; i < kb->nstmts; i++) {
        if (kb->stmts[i].sql == sql) {
            st = kb->stmts[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    if (sqlite3_prepare_v3(kb->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        kb_sqlfail(kb, "prepare");
        return NULL;
    }
    if (kb->nstmts < KB_STMT_CACHE) {
        kb->stmts[kb->nstmts].sql = sql;
        kb->stmts[kb->nstmts].st = st;
        kb->nstmts++;
    } else {
        /* Full cache: should not happen with our fixed statement set. Keep the
         * statement alive until close so callers may treat it like a cached one. */
        sqlite3_finalize(kb->stmts[KB_STMT_CACHE - 1].st);
        kb->stmts[KB_STMT_CACHE - 1].sql = sql;
        kb->stmts[KB_STMT_CACHE - 1].st = st;
    }
    return st;
}

int kb_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (!s)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

const char *kb_col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

const char *kb_col_null(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

void kb_hash_hex(const void *p, size_t len, char out[33])
{
    XXH128_hash_t h = XXH3_128bits(p, len);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

const char *kb_errmsg(const struct kb *kb)
{
    if (!kb)
        return "out of memory";
    return kb->err[0] ? kb->err : "no error";
}

const char *kb_path(const struct kb *kb)
{
    return kb ? kb->path : NULL;
}

void kb_wal_autocheckpoint(struct kb *kb, int on)
{
    sqlite3_wal_autocheckpoint(kb->db, on ? KB_WAL_CHECKPOINT_BYTES / kb->page_size : 0);
}

int kb_wal_checkpoint(struct kb *kb)
{
    int rc = sqlite3_wal_checkpoint_v2(kb->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return rc == SQLITE_OK || rc == SQLITE_BUSY ? 0 : kb_sqlfail(kb, "checkpoint");
}

int kb_schema_latest(void)
{
    return schema_migrations[schema_migration_count - 1].version;
}

static int kb_pragma_int(struct kb *kb, const char *sql, int *out)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(kb->db, sql, -1, &st, NULL) != SQLITE_OK)
        return kb_sqlfail(kb, "read header");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "read header");
    return 0;
}

int kb_schema_version(struct kb *kb)
{
    int v = -1;
    kb_pragma_int(kb, "PRAGMA user_version", &v);
    return v;
}

static int kb_exec(struct kb *kb, const char *sql, const char *what)
{
    char *msg = NULL;

    if (sqlite3_exec(kb->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = kb_sqlfail(kb, what);
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

static int kb_migrate(struct kb *kb, int readonly)
{
    int version = 0, appid = 0, ntables = 0, rc;
    char sql[64];

    if ((rc = kb_pragma_int(kb, "PRAGMA user_version", &version)) < 0)
        return rc;
    if ((rc = kb_pragma_int(kb, "PRAGMA application_id", &appid)) < 0)
        return rc;
    if ((rc = kb_pragma_int(kb, "SELECT count(*) FROM sqlite_schema", &ntables)) < 0)
        return rc;
    if (appid != KB_APPLICATION_ID && (version != 0 || ntables != 0 || appid != 0))
        return kb_fail(kb, KB_ECORRUPT,
                       "database '%s' is an SQLite file but not a trawl knowledge base; point "
                       "--db elsewhere",
                       kb->path);
    if (version > kb_schema_latest())
        return kb_fail(kb, KB_ENEWER,
                       "database '%s' has schema version %d but this trawl knows versions up to "
                       "%d; upgrade trawl to open it",
                       kb->path, version, kb_schema_latest());
    for (int i = 0; i < schema_migration_count; i++) {
        const struct schema_migration *m = &schema_migrations[i];
        if (m->version <= version)
            continue;
        if (readonly)
            return kb_fail(kb, KB_EINVAL,
                           "database '%s' needs migration to schema version %d; open it once "
                           "without read-only mode",
                           kb->path, kb_schema_latest());
        if ((rc = kb_exec(kb, "BEGIN IMMEDIATE", "migration")) < 0)
            return rc;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
        if ((rc = kb_exec(kb, m->sql, m->name)) < 0 || (rc = kb_exec(kb, sql, m->name)) < 0 ||
            (rc = kb_exec(kb, "COMMIT", m->name)) < 0) {
            char keep[sizeof kb->err];
            memcpy(keep, kb->err, sizeof keep);
            sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
            memcpy(kb->err, keep, sizeof keep);
            return rc;
        }
    }
    return 0;
}

int kb_open(const char *path, unsigned flags, struct kb **kbp)
{
    struct kb *kb = calloc(1, sizeof *kb);
    int oflags, rc, readonly = (flags & KB_OPEN_READONLY) != 0;
    const char *env;
    int timeout_ms = 5000;

    *kbp = kb;
    if (!kb)
        return KB_ERROR;
    kb->path = strdup(path);
    if (!kb->path)
        return kb_fail(kb, KB_ERROR, "out of memory");
    if ((readonly || (flags & KB_OPEN_NOCREATE)) && access(path, F_OK) != 0)
        return kb_fail(kb, KB_ENOTFOUND,
                       "database '%s' does not exist; create it with 'trawl onboard' or "
                       "'trawl import', or point --db / TRAWL_DB at an existing one",
                       path);
    oflags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &kb->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (!kb->db)
            return kb_fail(kb, KB_ERROR, "out of memory");
        return kb_fail(kb, KB_ERROR, "cannot open database '%s': %s", path, sqlite3_errmsg(kb->db));
    }
    if ((env = getenv("TRAWL_BUSY_TIMEOUT_MS")) && *env)
        timeout_ms = atoi(env);
    sqlite3_busy_timeout(kb->db, timeout_ms);
    sqlite3_extended_result_codes(kb->db, 1);
    /* SQLite's 2 MiB page cache until the handle writes (see kb_begin).
     * Pages are read through a memory map of the file (as far as SQLite's
     * limit, 2 GiB in Debian's build): a page read with read() is a copy
     * and an allocation. A first touch of a mapped page costs a fault
     * instead (about 3 us for 16 pages here, against 1.6 us for one
     * pread). bench/kb --search-only at 1M with both files locked in
     * memory: map and read() are within noise of each other (whole KB,
     * rare terms p50/p95 0.49/0.74 and 0.53/0.67 ms; all queries 0.40/3.27
     * and 0.40/3.61). Earlier figures that favoured the map were taken
     * while the VM's reclaim sent some reads to disk (bench/kb/README.md). */
    if ((rc = kb_exec(kb,
                      "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; "
                      "PRAGMA mmap_size = 17179869184",
                      "pragmas")) < 0)
        return rc;
    if ((rc = kb_champ_open(kb)) < 0)
        return rc;
    /* Check (and migrate) before changing anything: a file we refuse stays as it was. */
    if ((rc = kb_migrate(kb, readonly)) < 0)
        return rc;
    if (!readonly && (rc = kb_exec(kb, "PRAGMA journal_mode = WAL", "set WAL mode")) < 0)
        return rc;
    /* The log is copied into the database once it holds 256 MiB, not 4 MiB
     * (SQLite's default). Entry ids are tree positions, so a commit of many
     * entries touches pages all over the entry table, its key index and
     * FTS5's docsize table, and the next commit touches most of them again:
     * each copy wrote every one of them once more. bench/kb/run.sh,
     * 1,000,000 entries: 3 GB less written (15.5 -> 12.5 GB) and 3 GB
     * less read. */
    if ((rc = kb_pragma_int(kb, "PRAGMA page_size", &kb->page_size)) < 0)
        return rc;
    if (kb->page_size <= 0)
        kb->page_size = 4096;
    kb_wal_autocheckpoint(kb, 1);
    kb->err[0] = '\0';
    return 0;
}

void kb_close(struct kb *kb)
{
    if (!kb)
        return;
    for (int i = 0; i < kb->nstmts; i++)
        sqlite3_finalize(kb->stmts[i].st);
    if (kb->db) {
        if (kb->in_tx)
            sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(kb->db); /* before the tokenizer's state goes */
    }
    kb_champ_close(kb);
    kb_pending_clear(kb);
    free(kb->pend);
    free(kb->pend_set);
    free(kb->path);
    kb_node_memo_clear(kb);
    free(kb->memo);
    free(kb);
}

int kb_begin(struct kb *kb)
{
    int rc;

    if (kb->in_tx)
        return kb_fail(kb, KB_EINVAL, "a transaction is already open");
    /* A writer gets a 64 MiB page cache: FTS5 segment merges during a bulk
     * load re-read recent pages, and with SQLite's 2 MiB default they went
     * to the kernel each time. A handle that only reads keeps the default:
     * a search reads a few dozen pages once, and a large cache made it pay
     * for a fresh allocation and page fault per page it read (the whole-KB
     * rare-term searches of bench/kb/run.sh took a third longer). */
    if (!kb->big_cache) {
        if ((rc = kb_exec(kb, "PRAGMA cache_size = -65536", "set the page cache size")) < 0)
            return rc;
        kb->big_cache = 1;
    }
    if ((rc = kb_exec(kb, "BEGIN IMMEDIATE", "begin transaction")) < 0)
        return rc;
    kb->in_tx = 1;
    return 0;
}

static uint64_t kb_id_hash(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

int kb_pending_has(const struct kb *kb, int64_t id)
{
    if (!kb->npend)
        return 0;
    for (size_t i = kb_id_hash(id) & (kb->pend_setcap - 1); kb->pend_set[i];
         i = (i + 1) & (kb->pend_setcap - 1))
        if (kb->pend_set[i] == id)
            return 1;
    return 0;
}

static void kb_pending_set_put(int64_t *set, size_t cap, int64_t id)
{
    size_t i;

    for (i = kb_id_hash(id) & (cap - 1); set[i]; i = (i + 1) & (cap - 1))
        ;
    set[i] = id;
}

int kb_pending_add(struct kb *kb, int64_t id, const char *title, const char *body)
{
    size_t nt = strlen(title), nb = strlen(body);
    char *p;

    if (nt > INT_MAX || nb > INT_MAX)
        return kb_fail(kb, KB_EINVAL, "entry too large");
    if (kb->npend == kb->apend) {
        size_t na = kb->apend ? 2 * kb->apend : 1024;
        struct kb_pending *nv = realloc(kb->pend, na * sizeof *nv);
        if (!nv)
            return kb_fail(kb, KB_ERROR, "out of memory");
        kb->pend = nv;
        kb->apend = na;
    }
    if (2 * (kb->npend + 1) > kb->pend_setcap) {
        size_t ncap = kb->pend_setcap ? 2 * kb->pend_setcap : 4096;
        int64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return kb_fail(kb, KB_ERROR, "out of memory");
        for (size_t i = 0; i < kb->npend; i++)
            kb_pending_set_put(ns, ncap, kb->pend[i].id);
        free(kb->pend_set);
        kb->pend_set = ns;
        kb->pend_setcap = ncap;
    }
    if (!(p = malloc(nt + nb + 2)))
        return kb_fail(kb, KB_ERROR, "out of memory");
    memcpy(p, title, nt + 1);
    memcpy(p + nt + 1, body, nb + 1);
    kb->pend[kb->npend++] = (struct kb_pending){id, p, p + nt + 1, (int)nt, (int)nb};
    kb_pending_set_put(kb->pend_set, kb->pend_setcap, id);
    kb->pend_bytes += nt + nb + 2;
    return 0;
}

void kb_pending_clear(struct kb *kb)
{
    for (size_t i = 0; i < kb->npend; i++)
        free(kb->pend[i].title);
    if (kb->npend)
        memset(kb->pend_set, 0, kb->pend_setcap * sizeof *kb->pend_set);
    kb->npend = 0;
    kb->pend_bytes = 0;
}

static int kb_pending_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct kb_pending *)a)->id, y = ((const struct kb_pending *)b)->id;
    return x < y ? -1 : x > y;
}

int kb_fts_flush(struct kb *kb)
{
    sqlite3_stmt *ins;
    int rc = 0;

    if (!kb->npend)
        return 0;
    if ((rc = kb_champ_write_begin(kb)) < 0 ||
        !(ins = kb_prepare(kb, "INSERT INTO entries_fts(rowid, title, body) VALUES (?, ?, ?)"))) {
        kb_pending_clear(kb);
        return rc < 0 ? rc : KB_ERROR;
    }
    qsort(kb->pend, kb->npend, sizeof *kb->pend, kb_pending_cmp);
    /* One row at a time, so that the champion lists learn each entry's terms. */
    for (size_t i = 0; i < kb->npend; i++) {
        const struct kb_pending *p = &kb->pend[i];
        sqlite3_bind_int64(ins, 1, p->id);
        sqlite3_bind_text(ins, 2, p->title, p->ntitle, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, p->body, p->nbody, SQLITE_STATIC);
        kb_champ_capture(kb);
        rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc != SQLITE_DONE || (rc = kb_champ_apply(kb, p->id, KB_CHAMP_INSERT)) < 0) {
            rc = rc < 0 ? rc : kb_sqlfail(kb, "index new entries");
            sqlite3_clear_bindings(ins);
            kb_champ_reset(kb);
            kb_pending_clear(kb);
            return rc;
        }
    }
    sqlite3_clear_bindings(ins); /* the texts go now */
    kb_pending_clear(kb);
    if (!kb->in_tx) /* each statement was its own transaction */
        return kb_champ_commit(kb);
    return 0;
}

int kb_commit(struct kb *kb)
{
    int rc;

    if (!kb->in_tx)
        return kb_fail(kb, KB_EINVAL, "no transaction is open");
    if ((rc = kb_fts_flush(kb)) < 0)
        return rc;
    if ((rc = kb_champ_commit(kb)) < 0)
        return rc;
    if ((rc = kb_exec(kb, "COMMIT", "commit")) < 0) {
        kb_champ_reset(kb);
        return rc;
    }
    kb->in_tx = 0;
    return 0;
}

int kb_rollback(struct kb *kb)
{
    kb->in_tx = 0;
    kb_pending_clear(kb);   /* the queued entries are rolled back */
    kb_champ_reset(kb);     /* and so are the stored lists */
    kb_node_memo_clear(kb); /* a remembered node may have been rolled back */
    if (sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
        return kb_sqlfail(kb, "rollback");
    return 0;
}

/* ---- clients ---------------------------------------------------------------- */

static int kb_client_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return name[0] != '-' && name[0] != '.';
}

int kb_client_id(struct kb *kb, const char *name, int create, int64_t *id)
{
    sqlite3_stmt *st;
    int rc;

    if (!kb_client_name_ok(name))
        return kb_fail(kb, KB_EINVAL,
                       "client name '%.64s' is invalid: use 1 to 64 letters, digits, '.', '_' or "
                       "'-', not starting with '-' or '.'",
                       name);
    if (!(st = kb_prepare(kb, "SELECT id FROM clients WHERE name = ?")))
        return KB_ERROR;
    kb_bind_text(st, 1, name);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "look up client");
    if (!create)
        return kb_fail(kb, KB_ENOTFOUND,
                       "unknown client '%.64s'; 'trawl runs' lists the clients this database has",
                       name);
    if (!(st = kb_prepare(kb, "INSERT INTO clients(id, name) VALUES "
                              "((SELECT coalesce(max(id), 0) + 1 FROM clients), ?) RETURNING id")))
        return KB_ERROR;
    kb_bind_text(st, 1, name);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        if ((sqlite3_errcode(kb->db) & 0xff) == SQLITE_CONSTRAINT)
            return kb_fail(kb, KB_EFULL, "database '%s' holds the maximum of %d clients", kb->path,
                           KB_CLIENT_MAX);
        return kb_sqlfail(kb, "create client");
    }
    return 0;
}

/* ---- runs ------------------------------------------------------------------- */

int kb_run_start(struct kb *kb, int64_t client_id, const char *kind, int64_t *run_id)
{
    sqlite3_stmt *st = kb_prepare(kb, "INSERT INTO runs(client_id, kind) VALUES (?, ?)");
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, kind);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "start run");
    *run_id = sqlite3_last_insert_rowid(kb->db);
    return 0;
}

int kb_runs_abandoned(struct kb *kb, int64_t client_id, const char *kind)
{
    sqlite3_stmt *st = kb_prepare(
        kb, "UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, "
            "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')), stats = coalesce(stats, "
            "'{\"error\":\"the process running it died before it ended\"}') "
            "WHERE client_id = ? AND kind = ? AND status = 'running'");
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, kind);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "mark abandoned runs");
    return sqlite3_changes(kb->db);
}

int kb_run_finish(struct kb *kb, int64_t run_id, const char *status, const char *stats_json)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "UPDATE runs SET status = ?, stats = ?, "
                       "finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, status);
    kb_bind_text(st, 2, stats_json);
    sqlite3_bind_int64(st, 3, run_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "finish run");
    if (sqlite3_changes(kb->db) == 0)
        return kb_fail(kb, KB_ENOTFOUND, "no run %lld", (long long)run_id);
    return 0;
}

int kb_runs_list(struct kb *kb, const char *client, kb_run_fn fn, void *arg)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT r.id, c.name, r.kind, r.status, r.started_at, "
                                      "r.finished_at, r.stats FROM runs r JOIN clients c ON "
                                      "c.id = r.client_id WHERE ?1 IS NULL OR c.name = ?1 "
                                      "ORDER BY r.id DESC");
    int rc, stop = 0;
    int64_t cid;

    if (client && (rc = kb_client_id(kb, client, 0, &cid)) < 0)
        return rc;
    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, client);
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct kb_run r = {sqlite3_column_int64(st, 0),
                           kb_col(st, 1),
                           kb_col(st, 2),
                           kb_col(st, 3),
                           kb_col(st, 4),
                           kb_col_null(st, 5),
                           kb_col_null(st, 6)};
        stop = fn(&r, arg);
    }
    sqlite3_reset(st);
    if (!stop && rc != SQLITE_DONE)
        return kb_sqlfail(kb, "list runs");
    return 0;
}

/* ---- sources ---------------------------------------------------------------- */

int kb_source_upsert(struct kb *kb, int64_t client_id, const char *name, const char *type,
                     const char *config_json, int64_t *source_id)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "INSERT INTO sources(client_id, name, type, config) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (client_id, name) DO UPDATE SET type = excluded.type, "
                       "config = coalesce(excluded.config, config) RETURNING id");
    int rc;

    if (!st)
        return KB_ERROR;
    if (!name || !*name)
        return sqlite3_reset(st), kb_fail(kb, KB_EINVAL, "a source needs a name");
    sqlite3_bind_int64(st, 1, client_id);
    kb_bind_text(st, 2, name);
    kb_bind_text(st, 3, type ? type : "unknown");
    kb_bind_text(st, 4, config_json);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *source_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "store source");
    return 0;
}

int kb_source_checkpoint_set(struct kb *kb, int64_t source_id, const char *checkpoint_json)
{
    sqlite3_stmt *st = kb_prepare(kb, "UPDATE sources SET checkpoint = ?, checkpoint_at = "
                                      "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, checkpoint_json);
    sqlite3_bind_int64(st, 2, source_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "store checkpoint");
    if (sqlite3_changes(kb->db) == 0)
        return kb_fail(kb, KB_ENOTFOUND, "no source %lld", (long long)source_id);
    return 0;
}

int kb_source_checkpoint_get(struct kb *kb, int64_t source_id, char **checkpoint_json)
{
    sqlite3_stmt *st = kb_prepare(kb, "SELECT checkpoint FROM sources WHERE id = ?");
    int rc;

    *checkpoint_json = NULL;
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, source_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && kb_col_null(st, 0))
        *checkpoint_json = strdup(kb_col(st, 0));
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return kb_fail(kb, KB_ENOTFOUND, "no source %lld", (long long)source_id);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "read checkpoint");
    return 0;
}

/* ---- documents -------------------------------------------------------------- */

/* Hash of every stored field, each prefixed by its length so no two field
 * splits of the same bytes hash alike. */
static int kb_document_hash(const struct kb_document *d, char out[33])
{
    const char *f[] = {d->mime,        d->title, d->author,        d->created_at,
                       d->modified_at, d->text,  d->metadata_json, d->deleted ? "1" : "0"};
    XXH3_state_t *s = XXH3_createState();

    if (!s)
        return -1;
    XXH3_128bits_reset(s);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        uint64_t n = f[i] ? strlen(f[i]) : UINT64_MAX;
        XXH3_128bits_update(s, &n, sizeof n);
        if (f[i])
            XXH3_128bits_update(s, f[i], n);
    }
    XXH128_hash_t h = XXH3_128bits_digest(s);
    XXH3_freeState(s);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
    return 0;
}

int kb_document_find(struct kb *kb, int64_t source_id, const char *external_id, int64_t *doc_id)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "SELECT id FROM documents WHERE source_id = ? AND external_id = ?");
    int rc;

    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, source_id);
    kb_bind_text(st, 2, external_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *doc_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return kb_fail(kb, KB_ENOTFOUND, "no document '%s'", external_id);
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "find document");
    return 0;
}

int kb_document_upsert(struct kb *kb, int64_t source_id, int64_t run_id,
                       const struct kb_document *doc, int64_t *doc_id, int *result)
{
    char hash[33];
    sqlite3_stmt *st;
    int rc, res;
    int64_t id = 0;

    if (!doc->external_id || !*doc->external_id)
        return kb_fail(kb, KB_EINVAL, "a document needs an external id");
    if (kb_document_hash(doc, hash) < 0)
        return kb_fail(kb, KB_ERROR, "out of memory");
    if (!(st = kb_prepare(kb, "SELECT id, content_hash FROM documents WHERE source_id = ? AND "
                              "external_id = ?")))
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, source_id);
    kb_bind_text(st, 2, doc->external_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        res = strcmp(kb_col(st, 1), hash) == 0 ? KB_UNCHANGED : KB_UPDATED;
    } else {
        res = KB_INSERTED;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return kb_sqlfail(kb, "look up document");
    if (res == KB_UNCHANGED)
        goto out;
    if (res == KB_INSERTED)
        st = kb_prepare(kb, "INSERT INTO documents(content_hash, mime, title, author, created_at, "
                            "modified_at, text, metadata, deleted, run_id, version, source_id, "
                            "external_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
    else
        st = kb_prepare(kb, "UPDATE documents SET content_hash=?, mime=?, title=?, author=?, "
                            "created_at=?, modified_at=?, text=?, metadata=?, deleted=?, "
                            "run_id=?, version=? WHERE source_id=? AND external_id=?");
    if (!st)
        return KB_ERROR;
    kb_bind_text(st, 1, hash);
    kb_bind_text(st, 2, doc->mime);
    kb_bind_text(st, 3, doc->title);
    kb_bind_text(st, 4, doc->author);
    kb_bind_text(st, 5, doc->created_at);
    kb_bind_text(st, 6, doc->modified_at);
    kb_bind_text(st, 7, doc->text);
    kb_bind_text(st, 8, doc->metadata_json);
    sqlite3_bind_int(st, 9, doc->deleted != 0);
    if (run_id > 0)
        sqlite3_bind_int64(st, 10, run_id);
    else
        sqlite3_bind_null(st, 10);
    kb_bind_text(st, 11, doc->version);
    sqlite3_bind_int64(st, 12, source_id);
    kb_bind_text(st, 13, doc->external_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kb_sqlfail(kb, "store document");
    if (res == KB_INSERTED)
        id = sqlite3_last_insert_rowid(kb->db);
out:
    if (doc_id)
        *doc_id = id;
    if (result)
        *result = res;
    return 0;
}

int kb_document_version(struct kb *kb, int64_t source_id, const char *external_id, char **version,
                        int *deleted)
{
    sqlite3_stmt *st = kb_prepare(
        kb, "SELECT version, deleted FROM documents WHERE source_id = ? AND external_id = ?");
    int rc;

    *version = NULL;
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, source_id);
    kb_bind_text(st, 2, external_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (kb_col_null(st, 0))
            *version = strdup(kb_col(st, 0));
        if (deleted)
            *deleted = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return KB_ENOTFOUND;
    if (rc != SQLITE_ROW)
        return kb_sqlfail(kb, "read document version");
    return 0;
}

int kb_documents_sweep(struct kb *kb, int64_t source_id, int (*keep)(const char *ext, void *arg),
                       void *arg, long *count)
{
    sqlite3_stmt *st =
        kb_prepare(kb, "SELECT id, external_id FROM documents WHERE source_id = ? AND deleted = 0");
    int64_t *gone = NULL;
    size_t n = 0, alloc = 0;
    int rc;

    *count = 0;
    if (!st)
        return KB_ERROR;
    sqlite3_bind_int64(st, 1, source_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (keep(kb_col(st, 1), arg))
            continue;
        if (n == alloc) {
            int64_t *ng = realloc(gone, (alloc = alloc ? alloc * 2 : 64) * sizeof *ng);
            if (!ng) {
                sqlite3_reset(st);
                free(gone);
                return kb_fail(kb, KB_ERROR, "out of memory");
            }
            gone = ng;
        }
        gone[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(gone);
        return kb_sqlfail(kb, "sweep documents");
    }
    /* The content hash covers the flag, so a later undelete is seen as a change. */
    st = kb_prepare(kb, "UPDATE documents SET deleted = 1, content_hash = 'deleted' WHERE id = ?");
    for (size_t i = 0; st && i < n; i++) {
        sqlite3_bind_int64(st, 1, gone[i]);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            free(gone);
            return kb_sqlfail(kb, "mark document deleted");
        }
    }
    free(gone);
    if (!st)
        return KB_ERROR;
    *count = (long)n;
    return 0;
}
