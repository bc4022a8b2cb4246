#ifndef TRAWL_EXTRACT_HTML_H
#define TRAWL_EXTRACT_HTML_H

/*
 * HTML to readable text with libxml2's HTML parser (recovering, no network):
 * scripts, styles and the head are dropped, block elements become line
 * breaks, runs of white space collapse, link text is kept.
 */

#include "buf.h"

#include <stddef.h>

/**
 * Appends the text of the HTML document (n bytes) to out, as UTF-8. encoding
 * names the bytes' charset when the caller knows it (a mail part after
 * conversion: "UTF-8"), NULL lets libxml2 read it from the document. When
 * title is not NULL it receives the <title> (malloc'd, or NULL). Returns 0,
 * or -1 when nothing could be parsed.
 */
int html_to_text(const char *html, size_t n, const char *encoding, struct buf *out, char **title);

/** 1 when the first bytes look like an HTML document. */
int html_sniff(const unsigned char *p, size_t n);

#endif
