#ifndef TRAWL_JSONSCHEMA_H
#define TRAWL_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

/**
 * Checks value against the subset of JSON Schema that tool parameters use:
 * type (object, array, string, integer, number, boolean, null), properties,
 * required, additionalProperties: false, items, enum, minimum, maximum,
 * minLength, maxLength. Returns 0, or -1 with "at /pointer: problem" in err.
 */
int jsonschema_check(const json_t *schema, const json_t *value, char *err, size_t errlen);

#endif
