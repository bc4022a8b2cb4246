#include "jsonschema.h"

#include <stdio.h>
#include <string.h>

static int type_is(const char *t, const json_t *v)
{
    if (strcmp(t, "object") == 0)
        return json_is_object(v);
    if (strcmp(t, "array") == 0)
        return json_is_array(v);
    if (strcmp(t, "string") == 0)
        return json_is_string(v);
    if (strcmp(t, "integer") == 0)
        return json_is_integer(v);
    if (strcmp(t, "number") == 0)
        return json_is_number(v);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(t, "null") == 0)
        return json_is_null(v);
    return 1; /* unknown type names constrain nothing */
}

static int check(const json_t *s, const json_t *v, char *ptr, size_t plen, char *err, size_t errlen,
                 int depth)
{
    const json_t *t = json_object_get(s, "type"), *x;
    size_t base = strlen(ptr);

    if (!json_is_object(s) || depth > 32)
        return 0;
    if (json_is_string(t) && !type_is(json_string_value(t), v)) {
        snprintf(err, errlen, "at '%s': expected %s", *ptr ? ptr : "/", json_string_value(t));
        return -1;
    }
    if ((x = json_object_get(s, "enum")) && json_is_array(x)) {
        size_t i;
        const json_t *e;
        int found = 0;
        json_array_foreach(x, i, e) found |= json_equal((json_t *)e, (json_t *)v);
        if (!found) {
            snprintf(err, errlen, "at '%s': value is not one of the allowed ones",
                     *ptr ? ptr : "/");
            return -1;
        }
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if ((x = json_object_get(s, "minimum")) && json_is_number(x) && d < json_number_value(x)) {
            snprintf(err, errlen, "at '%s': below the minimum %g", *ptr ? ptr : "/",
                     json_number_value(x));
            return -1;
        }
        if ((x = json_object_get(s, "maximum")) && json_is_number(x) && d > json_number_value(x)) {
            snprintf(err, errlen, "at '%s': above the maximum %g", *ptr ? ptr : "/",
                     json_number_value(x));
            return -1;
        }
    }
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        if ((x = json_object_get(s, "maxLength")) && json_is_integer(x) &&
            (json_int_t)n > json_integer_value(x)) {
            snprintf(err, errlen, "at '%s': longer than %lld characters", *ptr ? ptr : "/",
                     (long long)json_integer_value(x));
            return -1;
        }
        if ((x = json_object_get(s, "minLength")) && json_is_integer(x) &&
            (json_int_t)n < json_integer_value(x)) {
            snprintf(err, errlen, "at '%s': shorter than %lld characters", *ptr ? ptr : "/",
                     (long long)json_integer_value(x));
            return -1;
        }
    }
    if (json_is_object(v)) {
        const json_t *props = json_object_get(s, "properties"),
                     *req = json_object_get(s, "required");
        const char *k;
        json_t *pv;
        size_t i;
        const json_t *r;
        json_array_foreach(req, i, r)
        {
            if (json_is_string(r) && !json_object_get(v, json_string_value(r))) {
                snprintf(err, errlen, "at '%s': '%s' is required", *ptr ? ptr : "/",
                         json_string_value(r));
                return -1;
            }
        }
        json_object_foreach((json_t *)v, k, pv)
        {
            const json_t *ps = json_object_get(props, k);
            if (!ps) {
                if (json_is_false(json_object_get(s, "additionalProperties"))) {
                    snprintf(err, errlen, "at '%s': unknown property '%.64s'", *ptr ? ptr : "/", k);
                    return -1;
                }
                continue;
            }
            snprintf(ptr + base, plen - base, "/%.64s", k);
            if (check(ps, pv, ptr, plen, err, errlen, depth + 1) < 0)
                return -1;
            ptr[base] = '\0';
        }
    }
    if (json_is_array(v) && (x = json_object_get(s, "items"))) {
        size_t i;
        const json_t *it;
        json_array_foreach(v, i, it)
        {
            snprintf(ptr + base, plen - base, "/%zu", i);
            if (check(x, it, ptr, plen, err, errlen, depth + 1) < 0)
                return -1;
            ptr[base] = '\0';
        }
    }
    return 0;
}

int jsonschema_check(const json_t *schema, const json_t *value, char *err, size_t errlen)
{
    char ptr[512] = "";
    return check(schema, value, ptr, sizeof ptr, err, errlen, 0);
}
