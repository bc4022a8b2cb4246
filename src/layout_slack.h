#ifndef TRAWL_LAYOUT_SLACK_H
#define TRAWL_LAYOUT_SLACK_H

/*
 * Slack workspace exports: users.json, channels.json (and groups.json,
 * mpims.json, dms.json), and one folder per conversation holding a JSON array
 * of messages per day (general/2024-01-15.json). The layout gives one
 * document per channel-day (top-level messages, author names resolved from
 * users.json, mentions and links made readable, files named) and one per
 * thread, rebuilt from thread_ts across days.
 */

#include "extract.h"

#include <jansson.h>
#include <stddef.h>

struct slack;

/**
 * A Slack state when the sorted member names are a Slack export's (a
 * channels.json or users.json beside folders of YYYY-MM-DD.json files), else
 * NULL. preloaded maps member paths to the contents of the index files.
 */
struct slack *slack_begin(const char *const *names, size_t n, json_t *preloaded);

/** 1 when path is a day file of this export (root/<channel>/YYYY-MM-DD.json). */
int slack_is_day(const struct slack *s, const char *path);

/**
 * Turns one day file into its document (given to fn with part = path) and
 * keeps its thread replies for slack_finish. Invalid JSON gives a document
 * with "extract_error". Returns fn's non-zero answer, else 0.
 */
int slack_day(struct slack *s, const char *path, const char *data, size_t len, const char *mtime,
              extract_emit_fn fn, void *arg);

/** Emits one document per thread gathered so far. Returns fn's non-zero answer, else 0. */
int slack_finish(struct slack *s, extract_emit_fn fn, void *arg);

void slack_free(struct slack *s);

#endif
