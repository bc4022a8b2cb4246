#ifndef TRAWL_EXTRACT_ARCHIVE_H
#define TRAWL_EXTRACT_ARCHIVE_H

/*
 * Archives (zip, tar with any compression, 7z, cpio, ISO 9660, rar, ar, cab,
 * xar, lha) expanded with libarchive inside the explorer. Every member goes
 * back through extract_file's type dispatch, so an mbox or an office file in
 * a zip is read like one on disk, and a nested archive is expanded in turn to
 * extract_limits.max_depth. Member names are sanitised into part ids; links
 * and devices are never followed or materialised; entry count, expanded bytes
 * and expansion ratio are limited across all levels; export layouts (Slack,
 * Notion, Google Takeout) are recognised from the member names.
 */

#include "extract.h"

/**
 * 1 when the file at path is an archive this module expands, 0 when it is
 * not (plain or compressed single files, office documents by their name).
 */
int extract_archive_detect(const char *path, const char *name);

/**
 * Expands the archive at path like extract_file: one document per member
 * (part id = its sanitised path, nested parts joined with '/'), then one for
 * the archive itself (part NULL) listing its members, what was skipped and
 * why, and in "extract_error" a limit that stopped it. An archive that cannot
 * be opened at all gives one document with the reason in "extract_error".
 * Returns the number of documents.
 */
long extract_archive(const char *path, const char *name, const struct extract_limits *lim,
                     extract_emit_fn fn, void *arg, char *err, size_t errlen);

#endif
