#ifndef TRAWL_EXTRACT_OFFICE_H
#define TRAWL_EXTRACT_OFFICE_H

/*
 * Office documents: OOXML (docx, xlsx, pptx) and ODF (odt, ods, odp). The zip
 * is read with libarchive under size and ratio limits, each XML part is
 * streamed with libxml2's xmlReader with no network and no DTD, so neither a
 * zip bomb nor a billion-laughs part gets past the limits.
 */

#include "extract.h"

#define EXTRACT_NOT_MINE (-2)

/**
 * Extracts an office file from memory (data, n; name for type hints). Emits
 * the file's document (core properties, text in reading order) and, for
 * spreadsheets, one part per sheet. Returns the number of documents,
 * EXTRACT_NOT_MINE when the bytes are not an office file, or -1 with err set
 * when it is one that cannot be read at all.
 */
long extract_office_memory(const void *data, size_t n, const char *name,
                           const struct extract_limits *lim, extract_emit_fn fn, void *arg,
                           char *err, size_t errlen);

/** Same for the file at path; reads at most the expansion limits' worth. */
long extract_office_file(const char *path, const char *name, const struct extract_limits *lim,
                         extract_emit_fn fn, void *arg, char *err, size_t errlen);

#endif
