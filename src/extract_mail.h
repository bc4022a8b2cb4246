#ifndef TRAWL_EXTRACT_MAIL_H
#define TRAWL_EXTRACT_MAIL_H

/*
 * Mail: RFC 5322 messages with MIME (RFC 2045-2047, 2231) and mbox files.
 * A message gives one document (headers and readable body, HTML turned into
 * text), its attachments one each (through extract_file, so a zip or an
 * office file attached is expanded too), a nested message/rfc822 one of its
 * own. Metadata carries what the structurers thread on: message_id,
 * in_reply_to, references, thread_key (the normalised subject), from, to, cc,
 * date (ISO 8601 UTC), subject, list_id, labels, attachments.
 */

#include "extract.h"

/** 1 when the file looks like one message (.eml, or RFC 5322 headers). */
int extract_mail_detect(const char *name, const unsigned char *head, size_t n);

/** 1 when the file looks like an mbox (.mbox, or a "From " line then headers). */
int extract_mbox_detect(const char *name, const unsigned char *head, size_t n);

/** Extracts one message file; arguments and result as extract_file. */
long extract_mail(const char *path, const char *name, const struct extract_limits *lim,
                  extract_emit_fn fn, void *arg, char *err, size_t errlen);

/**
 * Extracts an mbox, streamed: one message at a time is held in memory (at
 * most EXTRACT_MAIL_MAX_MESSAGE bytes; a longer one is cut and says so).
 * Message k (from 1) is part "k", its attachments "k/1", "k/2", ...
 */
long extract_mbox(const char *path, const char *name, const struct extract_limits *lim,
                  extract_emit_fn fn, void *arg, char *err, size_t errlen);

#define EXTRACT_MAIL_MAX_MESSAGE ((size_t)64 << 20)

/**
 * Decodes RFC 2047 encoded words in a header value into UTF-8 (appended to
 * out); text outside encoded words is taken as UTF-8, else Windows-1252.
 */
void mail_decode_header(const char *s, size_t n, struct buf *out);

/** Normalised subject for threading: no Re:/Fwd:/AW:/[list] prefixes, lower case. */
void mail_thread_key(const char *subject, struct buf *out);

/** RFC 5322 date to ISO 8601 UTC ("2002-08-22T18:26:25Z") in out[32]; 0 or -1. */
int mail_date_iso(const char *s, char out[32]);

#endif
