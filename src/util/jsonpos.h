#ifndef TRAWL_JSONPOS_H
#define TRAWL_JSONPOS_H

#include <stddef.h>

/**
 * Finds where the value at a JSON Pointer (RFC 6901, e.g. "/sources/2/type")
 * starts in a JSON text, so a semantic error found after parsing with jansson
 * can still name the line and column of the offending value. line and column
 * are 1-based. Returns 0, or -1 when the pointer does not resolve (then the
 * position is that of the deepest value reached).
 */
int jsonpos_find(const char *text, size_t len, const char *pointer, int *line, int *column);

/**
 * Writes "LABEL line L column C: message" into err, with the position of the
 * value at pointer in text. Returns -1, for callers that fail with it.
 */
int jsonpos_fail(char *err, size_t errlen, const char *label, const char *text, size_t len,
                 const char *pointer, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

#endif
