#ifndef TRAWL_KB_H
#define TRAWL_KB_H

/*
 * kb: the knowledge base store. One SQLite file (WAL, FTS5) holds clients,
 * runs, sources, documents, the knowledge tree, its entries and the agent
 * forum. The handle is opaque; every function returns 0 or a negative
 * KB_E* code and leaves a one-line message on the handle (kb_errmsg).
 */

#include <stdint.h>
#include <stdio.h>

struct kb;

enum kb_status {
    KB_OK = 0,
    KB_ERROR = -1,     /* anything else: see kb_errmsg */
    KB_ENOTFOUND = -2, /* no such client, path, entry */
    KB_EBUSY = -3,     /* another writer holds the database */
    KB_EINVAL = -4,    /* bad argument or input, e.g. a query with no words */
    KB_ENEWER = -5,    /* the file was made by a newer trawl */
    KB_ECORRUPT = -6,  /* not a database, or a damaged one */
    KB_EFULL = -7,     /* a tree node has no room for another child or entry */
};

enum kb_open_flags {
    KB_OPEN_READONLY = 1 << 0, /* query only; the file must exist */
    KB_OPEN_NOCREATE = 1 << 1, /* read-write, but the file must exist */
};

/**
 * Opens (creating if allowed) the database at path, applies pending
 * migrations in one transaction each, and sets WAL mode and a busy timeout.
 * *kbp is set even on failure so kb_errmsg() can say why; kb_close() it.
 */
int kb_open(const char *path, unsigned flags, struct kb **kbp);

/** Closes the handle (NULL is fine). Uncommitted work is rolled back. */
void kb_close(struct kb *kb);

/** The message of the last failure on this handle: lowercase, one line. */
const char *kb_errmsg(const struct kb *kb);

/** The file the handle was opened on (for a second, read-only handle). */
const char *kb_path(const struct kb *kb);

/**
 * WAL checkpoints: with on 0 this handle's commits no longer copy the
 * write-ahead log into the database (another handle does it with
 * kb_wal_checkpoint); on 1 restores the automatic checkpoint kb_open sets:
 * once the log holds KB_WAL_CHECKPOINT_BYTES.
 */
#define KB_WAL_CHECKPOINT_BYTES (256 << 20)
void kb_wal_autocheckpoint(struct kb *kb, int on);

/** Copies what the write-ahead log holds into the database, without waiting for locks. */
int kb_wal_checkpoint(struct kb *kb);

/** The schema version of the open database. */
int kb_schema_version(struct kb *kb);

/** Highest schema version this build knows. */
int kb_schema_latest(void);

/** Transactions: the master commits in batches. Nested begin is an error. */
int kb_begin(struct kb *kb);
int kb_commit(struct kb *kb);
int kb_rollback(struct kb *kb);

/* ---- clients, runs, sources -------------------------------------------- */

/** Looks up a client by name; with create, makes it if missing. */
int kb_client_id(struct kb *kb, const char *name, int create, int64_t *id);

/** Starts a run record of the given kind (onboard, import) with status running. */
int kb_run_start(struct kb *kb, int64_t client_id, const char *kind, int64_t *run_id);

/**
 * Marks the client's runs of this kind still 'running' as interrupted: their
 * process died without ending them (SIGKILL, power loss). Call it only while
 * holding the client's onboarding lock. Returns how many, or a KB_E code.
 */
int kb_runs_abandoned(struct kb *kb, int64_t client_id, const char *kind);

/** Ends a run: status is ok, failed or interrupted; stats_json may be NULL. */
int kb_run_finish(struct kb *kb, int64_t run_id, const char *status, const char *stats_json);

struct kb_run {
    int64_t id;
    const char *client, *kind, *status, *started_at, *finished_at, *stats_json;
};
typedef int (*kb_run_fn)(const struct kb_run *run, void *arg);

/** Calls fn for each run, newest first; client NULL means all clients. */
int kb_runs_list(struct kb *kb, const char *client, kb_run_fn fn, void *arg);

/** Finds or creates the source (client, name) and updates its type and config. */
int kb_source_upsert(struct kb *kb, int64_t client_id, const char *name, const char *type,
                     const char *config_json, int64_t *source_id);

/** Stores a source's checkpoint JSON: call only after the data it covers is written. */
int kb_source_checkpoint_set(struct kb *kb, int64_t source_id, const char *checkpoint_json);

/** Reads the checkpoint into a malloc'd string (NULL when none); caller frees. */
int kb_source_checkpoint_get(struct kb *kb, int64_t source_id, char **checkpoint_json);

/* ---- documents ----------------------------------------------------------- */

struct kb_document {
    const char *external_id; /* required, unique per source */
    const char *mime, *title, *author, *created_at, *modified_at;
    const char *text;
    const char *metadata_json;
    const char *version; /* driver-defined version (size+mtime, UID, ETag); may be NULL */
    int deleted;
};

enum kb_upsert_result { KB_UNCHANGED = 0, KB_INSERTED = 1, KB_UPDATED = 2 };

/**
 * Inserts or updates a document of a source. The content hash (XXH3-128 of
 * every field) decides: an unchanged document is not rewritten. result (may
 * be NULL) gets a kb_upsert_result.
 */
int kb_document_upsert(struct kb *kb, int64_t source_id, int64_t run_id,
                       const struct kb_document *doc, int64_t *doc_id, int *result);

/**
 * Reads a document's version string (malloc'd, NULL when it has none) and
 * deleted flag. KB_ENOTFOUND when the source has no such document.
 */
int kb_document_version(struct kb *kb, int64_t source_id, const char *external_id, char **version,
                        int *deleted);

/**
 * Marks every live document of a source whose external id keep() rejects as
 * deleted; returns how many were marked in *count.
 */
int kb_documents_sweep(struct kb *kb, int64_t source_id, int (*keep)(const char *ext, void *arg),
                       void *arg, long *count);

/** Finds a document id by source and external id. */
int kb_document_find(struct kb *kb, int64_t source_id, const char *external_id, int64_t *doc_id);

/* ---- knowledge tree ------------------------------------------------------ */

/**
 * Ensures the node at path ("domain", "domain/skill" or "domain/skill/group";
 * slugs of [a-z0-9-], at most 3 levels) exists, creating missing ancestors.
 * title and summary (either may be NULL) are set on the last node when given.
 */
int kb_node_ensure(struct kb *kb, int64_t client_id, const char *path, const char *title,
                   const char *summary, int64_t *node_id);

/** Checks a tree path and returns KB_EINVAL with a message naming the problem. */
int kb_path_check(struct kb *kb, const char *path);

struct kb_node {
    int64_t id, parent_id;
    int level;
    const char *slug, *title, *path, *summary;
    int64_t entries;       /* entries placed on this node itself */
    int64_t entries_total; /* entries in the whole subtree */
};
typedef int (*kb_node_fn)(const struct kb_node *node, void *arg);

/**
 * Calls fn for the subtree at path (NULL or "" = the client's whole tree) in
 * depth-first order, down to depth levels below it (0 = unlimited). Nodes
 * come from one range scan of the (client, path) index.
 */
int kb_subtree(struct kb *kb, int64_t client_id, const char *path, int depth, kb_node_fn fn,
               void *arg);

/* ---- for the structure phase (kb_structure.c) ---------------------------- */

struct kb_stored_doc {
    const char *source, *source_type, *external_id, *title, *text, *metadata_json;
};
typedef int (*kb_stored_doc_fn)(const struct kb_stored_doc *d, void *arg);

/**
 * Calls fn for every stored, not deleted document of the client, ordered by
 * (source name, external id); fn returning non-zero stops with that value.
 * The strings live until fn returns.
 */
int kb_documents_each(struct kb *kb, int64_t client_id, kb_stored_doc_fn fn, void *arg);

/**
 * Like kb_documents_each, for the documents no entry links to yet (the
 * structure phase did not get to them: it failed, or the run was stopped).
 */
int kb_documents_unplaced_each(struct kb *kb, int64_t client_id, kb_stored_doc_fn fn, void *arg);

/**
 * Deletes the client's tree nodes left with no entries and no children
 * (entry groups, then skills, then domains); removed (may be NULL) gets how many.
 */
int kb_tree_prune(struct kb *kb, int64_t client_id, int64_t *removed);

/* ---- entries -------------------------------------------------------------- */

struct kb_doc_ref {
    const char *source;      /* source name */
    const char *external_id; /* document id within the source */
};

struct kb_entry {
    const char *key;  /* stable identity; NULL = derived from path, title and body */
    const char *path; /* tree node the entry hangs on; created if missing */
    const char *title, *body, *summary, *metadata_json;
    const struct kb_doc_ref *docs; /* documents the entry comes from */
    size_t ndocs;
};

/**
 * Inserts or updates an entry by (client, key). An entry that moves to
 * another node gets a new id (ids encode the tree position).
 */
int kb_entry_upsert(struct kb *kb, int64_t client_id, const struct kb_entry *e, int64_t *entry_id,
                    int *result);

/** Deletes the entry with this key (its document links go with it); absent is fine. */
int kb_entry_delete(struct kb *kb, int64_t client_id, const char *key);

struct kb_entry_view {
    int64_t id;
    const char *key, *path, *title, *body, *summary, *metadata_json;
};
struct kb_doc_view {
    int64_t id;
    const char *source, *source_type, *external_id, *mime, *title, *author, *created_at,
        *modified_at;
    int deleted;
    const char *metadata_json; /* the document's metadata object as JSON, or NULL */
};
typedef int (*kb_doc_fn)(const struct kb_doc_view *doc, void *arg);

/**
 * Calls fn for every entry on the node at path and below it, ordered by
 * (path, id); fn returning non-zero stops with that value. Used by
 * `trawl tree --explain`. KB_EINVAL for a malformed path.
 */
int kb_entries_under(struct kb *kb, int64_t client_id, const char *path,
                     int (*fn)(const struct kb_entry_view *e, void *arg), void *arg);

/** Fetches one entry; fn (may be NULL) is called for each linked document. */
int kb_entry_show(struct kb *kb, int64_t client_id, int64_t entry_id,
                  int (*entry_fn)(const struct kb_entry_view *e, void *arg), kb_doc_fn fn,
                  void *arg);

/* ---- search --------------------------------------------------------------- */

struct kb_hit {
    int64_t id;
    const char *path, *title;
    const char *snippet; /* matches between the caller's markers */
    double score;        /* bm25: lower is better */
};
typedef int (*kb_hit_fn)(const struct kb_hit *hit, void *arg);

struct kb_search_opts {
    const char *under;                  /* subtree path, NULL = whole KB of the client */
    int limit;                          /* 0 = 20 */
    const char *mark_open, *mark_close; /* snippet highlight, NULL = none */
};

/**
 * Ranked full-text search of a client's entries, restricted to a subtree by
 * an id range (see schema/001_init.sql). query is user text, made safe by
 * kb_fts_query(): no input causes an SQL error.
 */
int kb_search(struct kb *kb, int64_t client_id, const char *query,
              const struct kb_search_opts *opts, kb_hit_fn fn, void *arg);

/**
 * How the last kb_search was answered: "champions" (from a common term's
 * list of best entries), "ranked" (matches ranked with known document
 * frequencies), "fts5" (FTS5's own ranking), "none". For tests and --explain.
 */
const char *kb_search_path(const struct kb *kb);

/* ---- forum ---------------------------------------------------------------- */

struct kb_forum_entry {
    int64_t id;
    int64_t client_id;  /* 0 = global pattern */
    int64_t run_id;     /* 0 = none */
    const char *client; /* name, filled in by searches */
    const char *agent, *source_type, *phase, *file_type, *title, *body, *created_at;
    const char *snippet;
    double score;
};
typedef int (*kb_forum_fn)(const struct kb_forum_entry *f, void *arg);

/** Posts a finding. phase must be explore or structure. */
int kb_forum_post(struct kb *kb, const struct kb_forum_entry *f, int64_t *id);

struct kb_forum_filter {
    int64_t client_id;       /* 0 = any; else this client's findings and global ones */
    int global_only;         /* only client-less patterns */
    const char *source_type; /* NULL = any */
    const char *phase;
    const char *file_type;
    int limit; /* 0 = 20 */
    const char *mark_open, *mark_close;
};

/** FTS search of the forum; the filters are matched inside the FTS index. */
int kb_forum_search(struct kb *kb, const char *query, const struct kb_forum_filter *flt,
                    kb_forum_fn fn, void *arg);

/* ---- import / export ------------------------------------------------------ */

struct kb_import_stats {
    long lines, sources, nodes, documents, entries, forum;
};

/**
 * Imports a JSONL stream (format in README "JSONL format") for client in one
 * transaction: any bad line rolls everything back and the message names
 * fname, the line and what is wrong.
 */
int kb_import_jsonl(struct kb *kb, const char *client, FILE *in, const char *fname,
                    struct kb_import_stats *stats);

/** Writes the client's KB as JSONL in a deterministic order (import gives it back). */
int kb_export_jsonl(struct kb *kb, const char *client, FILE *out);

/** Writes the client's tree with entries as a Markdown document. */
int kb_export_markdown(struct kb *kb, const char *client, FILE *out);

/* ---- FTS query building (kb_query.c) ------------------------------------- */

struct buf;

/**
 * Turns free text into a safe FTS5 query: words and "quoted phrases" are
 * ANDed, OR between terms is kept, a trailing * makes a prefix, a leading -
 * excludes. Every term is emitted quoted, so operators, parentheses, column
 * filters and bad UTF-8 in the input can never reach FTS5's parser.
 * Returns 0, or KB_EINVAL when no searchable word is left (out has a reason).
 */
int kb_fts_query(const char *text, struct buf *out);

#endif
