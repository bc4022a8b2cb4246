#ifndef TRAWL_IMAP_PARSE_H
#define TRAWL_IMAP_PARSE_H

/* Parsers for the IMAP server answers the imap driver reads (hostile input). */

#include <stddef.h>

struct imap_buf {
    char *data;
    size_t len, alloc;
};

/** Appends n bytes. Returns 0, or -1 when out of memory or over 512 MiB. */
int imap_buf_add(struct imap_buf *b, const char *p, size_t n);

/** Writes s as an IMAP quoted string into out (truncated to fit). */
void imap_quote(const char *s, char *out, size_t outlen);

/**
 * Folder names of "* LIST" lines, skipping \Noselect ones. With gmail, only
 * the \All folder (or "[Gmail]/All Mail") is kept. Returns 0 or -1.
 */
int imap_parse_list(const char *p, size_t n, char ***folders, int *nfolders, int gmail);

/** The UIDVALIDITY of an EXAMINE answer, 0 when absent. */
unsigned long imap_parse_uidvalidity(const char *p, size_t n);

/** The UIDs of "* SEARCH" lines, malloc'd into *uids; returns how many. */
long imap_parse_search(const char *p, size_t n, unsigned long **uids);

/** The literal of the first BODY[] in a FETCH answer. Returns 0 or -1. */
int imap_parse_fetch_body(const char *p, size_t n, const char **body, size_t *len);

/** The N of a "* N EXISTS" line (*found set to 1), or 0 with *found 0. */
unsigned long imap_parse_exists(const char *p, size_t n, int *found);

/** Called once per message of a FETCH answer: its UID and BODY[] literal. */
typedef int (*imap_fetch_fn)(void *arg, unsigned long uid, const char *body, size_t len);

/**
 * Walks the "* N FETCH (... UID u ... BODY[] {len}" answers of a UID FETCH
 * for several messages, calling fn for each message whose UID is given.
 * Returns how many, or -1 when a literal runs past the answer or fn fails.
 */
long imap_parse_fetch_each(const char *p, size_t n, imap_fetch_fn fn, void *arg);

/** The UIDNEXT of an EXAMINE answer, 0 when absent. */
unsigned long imap_parse_uidnext(const char *p, size_t n);

#endif
