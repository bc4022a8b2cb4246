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
 * Calls fn for each message of a FETCH answer that has a UID and a body
 * (see imap_parse_fetch_msgs). Returns how many, or -1 as that does.
 */
long imap_parse_fetch_each(const char *p, size_t n, imap_fetch_fn fn, void *arg);

/** One message of a FETCH answer, as imap_parse_fetch_msgs() read it. */
struct imap_msg {
    unsigned long seq, uid; /* uid 0: not in the answer */
    const char *body;       /* BODY[] / BODY[]<n> / RFC822, when has_body */
    size_t len;
    int has_body;
    unsigned long long gm_msgid, gm_thrid; /* X-GM-MSGID, X-GM-THRID; 0: absent */
    int has_labels;                        /* X-GM-LABELS was in the answer */
    char **labels; /* its members (atoms, quoted, literals), modified UTF-7 decoded */
    int nlabels;
};

/** Called once per message; m and everything it points to last until it returns. */
typedef int (*imap_msg_fn)(void *arg, const struct imap_msg *m);

/**
 * Walks the "* N FETCH (item value ...)" answers item by item: numbers,
 * quoted strings, literals ({n} and {n+}), NIL and nested lists, whatever
 * the order of the items, and calls fn for each well-formed message. A
 * malformed message is skipped up to the end of what was read (never into a
 * literal). Returns how many, or -1 when a literal runs past the answer or
 * fn fails.
 */
long imap_parse_fetch_msgs(const char *p, size_t n, imap_msg_fn fn, void *arg);

/**
 * A mailbox name or Gmail label in modified UTF-7 (RFC 3501 5.1.3) as a
 * malloc'd UTF-8 string; a name that is not valid modified UTF-7 is copied
 * as it is. NULL when out of memory.
 */
char *imap_mutf7_decode(const char *s);

/** Whether a "* CAPABILITY" line or a [CAPABILITY ...] code names cap (any case). */
int imap_has_capability(const char *p, size_t n, const char *cap);

/*
 * Listing a large folder: libcurl 7.88 caps a command's answer near 300 KiB,
 * so one "UID SEARCH ALL" over tens of thousands of messages fails. The
 * folder is cut into windows of at most per messages each, whatever its
 * UIDs: one "FETCH per,2*per,...,EXISTS (UID)" gives the UID that ends each
 * window, then "UID SEARCH UID lo:hi" lists one window. UIDs only grow, so
 * the windows cover every message present at EXAMINE exactly once, and
 * none can hold more than per messages, even when some are expunged meanwhile.
 */

/**
 * Writes "FETCH after+per,after+2*per,...(UID)" into out: at most max
 * sequence numbers, the last one exists when reached. Returns the last
 * sequence number asked (the after of the next call), 0 when after >= exists.
 */
unsigned long imap_bounds_cmd(unsigned long after, unsigned long per, unsigned long exists, int max,
                              char *out, size_t outlen);

/**
 * The window ends of a FETCH (UID) answer: at most max UIDs into uids, in
 * sequence order, each above after and the one before it. Returns how many.
 */
long imap_parse_bounds(const char *p, size_t n, unsigned long after, unsigned long *uids, long max);

/** The UIDNEXT of an EXAMINE answer, 0 when absent. */
unsigned long imap_parse_uidnext(const char *p, size_t n);

#endif
