#ifndef TRAWL_EXTRACT_LAYOUT_H
#define TRAWL_EXTRACT_LAYOUT_H

/*
 * Export layouts inside archives: a Slack workspace export, a Notion export,
 * a Google Takeout. The archive module (extract_archive.c) reads the member
 * names in a first pass, offers them to each layout, and in the second pass
 * lets the chosen layout read members itself or add metadata to the generic
 * extraction of a member. One layout is one table row and one layout_*.c file.
 */

#include "buf.h"
#include "extract.h"

#include <jansson.h>
#include <stddef.h>

struct arc; /* the archive being read */

struct layout_ops {
    const char *name; /* "slack", "notion", "takeout": metadata "layout" */
    /** Pass 1: 1 when this member's bytes are wanted before pass 2 (small index files). */
    int (*preload)(const char *path);
    /**
     * After pass 1: the state for this archive when the sorted member names
     * (and the preloaded files: an object path -> string) say it is this
     * layout's, else NULL.
     */
    void *(*begin)(const char *const *names, size_t n, json_t *preloaded);
    /**
     * Pass 2, one regular member: 1 when the layout emitted its documents
     * (reading it with arc_read_member), 0 to have it extracted generically
     * with meta (an object) added to its documents, -1 to stop the archive.
     */
    int (*member)(void *st, struct arc *a, const char *path, json_t *meta);
    /** Optional: adjusts the metadata of each generically extracted document. */
    void (*adjust)(void *st, const char *path, json_t *meta);
    /** Optional: after the last member (threads gathered across days). */
    int (*finish)(void *st, struct arc *a);
    void (*free)(void *st);
};

extern const struct layout_ops layout_slack_ops, layout_notion_ops, layout_takeout_ops;

/**
 * Reads the current member into out (reset first; out's cap bounds it),
 * counting against the archive's limits. Returns 0, or -1 with a message in
 * err (a damaged entry, out's cap, or a limit: then arc_stopped() is true).
 */
int arc_read_member(struct arc *a, struct buf *out, char *err, size_t errlen);

/**
 * Reads the next bytes of the current member into block, counting against
 * the limits. Returns the byte count (0 at its end), or -1 with err.
 */
long arc_read(struct arc *a, char *block, size_t n, char *err, size_t errlen);

/**
 * Extracts len bytes (a piece of a member the layout cut out, e.g. one
 * message of an mbox) through extract_file's type dispatch as part `part`
 * inside `parent` (or NULL); name is the type hint, title the fallback title.
 * meta is added to its documents. Returns non-zero when the extraction must
 * stop.
 */
int arc_extract_buffer(struct arc *a, const char *part, const char *parent, const char *name,
                       const char *title, const char *data, size_t len, json_t *meta);

/**
 * Emits a document whose part id (required) and parent are relative to the
 * archive; duplicate part ids get a "~2" suffix. Returns non-zero when the
 * extraction must stop.
 */
int arc_emit(struct arc *a, const struct extract_doc *d);

/** True once a limit was hit or the receiver asked to stop. */
int arc_stopped(const struct arc *a);

/** The current member's modification time as ISO 8601, or NULL. */
const char *arc_member_mtime(const struct arc *a);

/** Text helpers shared by the layouts. */
/** "2024-01-15T09:30:00Z" for seconds since the epoch into dst (21+ bytes). */
void layout_iso_time(double t, char *dst, size_t n);

/**
 * Gmail's X-Gmail-Labels value as an array of labels: split on the commas
 * outside double quotes, quotes removed, blanks trimmed (new reference).
 */
json_t *takeout_gmail_labels(const char *header);

/** The last path component. */
const char *layout_basename(const char *path);

#endif
