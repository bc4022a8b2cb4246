#ifndef TRAWL_EXTRACT_CSV_H
#define TRAWL_EXTRACT_CSV_H

/*
 * CSV and TSV (RFC 4180: quoted fields, doubled quotes, embedded newlines,
 * CRLF or LF), with delimiter sniffing, BOMs and non-UTF-8 charsets converted
 * with iconv. The header row names the columns; the text is one "column:
 * value" line per field, rows separated by a blank line.
 */

#include "extract.h"
#include "extract_office.h" /* EXTRACT_NOT_MINE */

#define CSV_MAX_INPUT ((size_t)64 << 20)
#define CSV_MAX_ROWS 200000L

/** Extracts CSV/TSV bytes (name for type hints). Returns the number of documents (1). */
long extract_csv_memory(const char *data, size_t n, const char *name,
                        const struct extract_limits *lim, extract_emit_fn fn, void *arg, char *err,
                        size_t errlen);

/** For a file named *.csv, *.tsv or *.tab; EXTRACT_NOT_MINE for anything else. */
long extract_csv_file(const char *path, const char *name, const struct extract_limits *lim,
                      extract_emit_fn fn, void *arg, char *err, size_t errlen);

#endif
