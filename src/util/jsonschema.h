#ifndef TRAWL_JSONSCHEMA_H
#define TRAWL_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

/**
 * Checks value against the subset of JSON Schema that tool parameters and
 * toolkit sections use: type (a name or an array of names: object, array,
 * string, integer, number, boolean, null), properties, required,
 * additionalProperties (false or a schema), items, minItems, enum, const,
 * minimum, maximum, exclusiveMinimum, minLength, maxLength, and $ref ("#/..."
 * inside schema), allOf, oneOf, not. Returns 0, or -1 with "at /pointer:
 * problem" in err.
 */
int jsonschema_check(const json_t *schema, const json_t *value, char *err, size_t errlen);

/** Like jsonschema_check; where also gets the JSON pointer of the failing value ("" at the top). */
int jsonschema_check_at(const json_t *schema, const json_t *value, char *where, size_t wherelen,
                        char *err, size_t errlen);

#endif
