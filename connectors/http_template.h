#ifndef TRAWL_HTTP_TEMPLATE_H
#define TRAWL_HTTP_TEMPLATE_H

/*
 * The declarative HTTP driver's small languages, kept apart from the network
 * so they can be fuzzed: templates ("/files/{{record.id}}", with alternatives
 * "{{args.limit|settings.page_size|'100'}}") filled from a context object
 * (args, settings, record, page, cursor), and JSON paths ("query.pages.*")
 * that select records from a response.
 */

#include <jansson.h>
#include <stddef.h>

/** How a filled-in value is encoded. */
enum http_enc {
    HTTP_ENC_RAW, /* as is (headers, JSON bodies) */
    HTTP_ENC_URL, /* percent-encoded: every byte but A-Z a-z 0-9 - . _ ~ */
};

/**
 * Fills tpl from ctx. Returns a malloc'd string, or NULL with err on a syntax
 * error. *missing (if given) is set when a placeholder found no value (the
 * caller then usually leaves the parameter out).
 */
char *http_render(const char *tpl, const json_t *ctx, enum http_enc enc, int *missing, char *err,
                  size_t errlen);

/** The value at a dotted path ("a.b.0.c") inside j, or NULL. Borrowed. */
json_t *http_path(const json_t *j, const char *path);

/**
 * Appends the values a selector picks to out: a dotted path where "*" stands
 * for every element of an array or every value of an object; "" or "." is j
 * itself (each element when it is an array). Returns how many were added.
 */
size_t http_select(const json_t *j, const char *path, json_t *out);

/**
 * A JSON template: strings are rendered (a string that is exactly one
 * placeholder keeps the value's JSON type), objects and arrays recursively;
 * members whose placeholders found no value are left out. New reference, or
 * NULL with err.
 */
json_t *http_render_json(const json_t *tpl, const json_t *ctx, char *err, size_t errlen);

/** A scalar as text (strings as is, numbers, booleans); NULL for null, objects, arrays. */
char *http_scalar(const json_t *v);

/** Decodes base64 or base64url (padding optional) in place; returns the length or -1. */
long http_base64_decode(char *s, size_t n);

#endif
