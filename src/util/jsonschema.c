#include "jsonschema.h"

#include <stdio.h>
#include <stdlib.h>
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

/* "#/$defs/name" (or any "#/a/b" pointer) inside the root schema; NULL otherwise. */
static const json_t *resolve(const json_t *root, const char *ref)
{
    const json_t *at = root;
    char key[128];

    if (!ref || ref[0] != '#')
        return NULL;
    for (const char *p = ref + 1; *p == '/' && at;) {
        size_t n = strcspn(p + 1, "/");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p + 1, n);
        key[n] = '\0';
        at = json_object_get(at, key);
        p += 1 + n;
    }
    return at;
}

static int check(const json_t *root, const json_t *s, const json_t *v, char *ptr, size_t plen,
                 char *err, size_t errlen, int depth);

/* The keywords that combine schemas: $ref, allOf, oneOf, not. */
static int check_combined(const json_t *root, const json_t *s, const json_t *v, char *ptr,
                          size_t plen, char *err, size_t errlen, int depth)
{
    const json_t *x, *sub;
    size_t base = strlen(ptr), i;

    if ((x = json_object_get(s, "$ref"))) {
        const json_t *target = resolve(root, json_string_value(x));
        if (target && check(root, target, v, ptr, plen, err, errlen, depth + 1) < 0)
            return -1;
    }
    json_array_foreach(json_object_get(s, "allOf"), i, sub)
    {
        if (check(root, sub, v, ptr, plen, err, errlen, depth + 1) < 0)
            return -1;
    }
    if (json_is_array(x = json_object_get(s, "oneOf")) && json_array_size(x) && json_is_object(v)) {
        /* alternatives told apart by one member's const ({"type": "bearer"}):
         * the one the value names says what is wrong */
        const char *k;
        const json_t *p0;
        json_object_foreach((json_t *)json_object_get(json_array_get(x, 0), "properties"), k, p0)
        {
            int all = json_object_get(p0, "const") != NULL;
            const json_t *pick = NULL;
            json_array_foreach(x, i, sub)
            {
                const json_t *c = json_object_get(
                    json_object_get(json_object_get(sub, "properties"), k), "const");
                all &= c != NULL;
                if (c && json_object_get(v, k) && json_equal((json_t *)c, json_object_get(v, k)))
                    pick = sub;
            }
            if (!all)
                continue;
            if (pick)
                return check(root, pick, v, ptr, plen, err, errlen, depth + 1);
            char names[200] = "";
            json_array_foreach(x, i, sub)
            {
                const json_t *c = json_object_get(
                    json_object_get(json_object_get(sub, "properties"), k), "const");
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                         json_string_value(c) ? json_string_value(c) : "?");
            }
            snprintf(ptr + base, plen - base, "/%.64s", k);
            snprintf(err, errlen, "at '%s': must be one of %s", ptr, names);
            return -1;
        }
    }
    if (json_is_array(x = json_object_get(s, "oneOf")) && json_array_size(x)) {
        /* none matching: the alternative that went deepest says what is wrong */
        char best[512] = "", bestptr[512] = "", e[512];
        size_t matches = 0, bestlen = 0;
        json_array_foreach(x, i, sub)
        {
            if (check(root, sub, v, ptr, plen, e, sizeof e, depth + 1) == 0) {
                matches++;
            } else if (!best[0] || strlen(ptr) > bestlen) {
                bestlen = strlen(ptr);
                snprintf(best, sizeof best, "%s", e);
                snprintf(bestptr, sizeof bestptr, "%s", ptr);
            }
            ptr[base] = '\0';
        }
        if (matches != 1) {
            if (matches == 0) {
                snprintf(ptr, plen, "%s", bestptr);
                snprintf(err, errlen, "%s", best);
            } else {
                snprintf(err, errlen, "at '%s': matches more than one of the alternatives",
                         *ptr ? ptr : "/");
            }
            return -1;
        }
    }
    if ((x = json_object_get(s, "not")) && json_is_object(x)) {
        char e[512];
        if (check(root, x, v, ptr, plen, e, sizeof e, depth + 1) == 0) {
            const json_t *req = json_object_get(x, "required");
            if (json_array_size(req) > 1)
                snprintf(err, errlen, "at '%s': '%s' and '%s' do not go together", *ptr ? ptr : "/",
                         json_string_value(json_array_get(req, 0)),
                         json_string_value(json_array_get(req, 1)));
            else
                snprintf(err, errlen, "at '%s': a value that is not allowed here",
                         *ptr ? ptr : "/");
            return -1;
        }
        ptr[base] = '\0';
    }
    return 0;
}

static int check(const json_t *root, const json_t *s, const json_t *v, char *ptr, size_t plen,
                 char *err, size_t errlen, int depth)
{
    const json_t *t = json_object_get(s, "type"), *x;
    size_t base = strlen(ptr);

    if (!json_is_object(s) || depth > 32)
        return 0;
    if (json_is_string(t) && !type_is(json_string_value(t), v)) {
        snprintf(err, errlen, "at '%s': expected %s", *ptr ? ptr : "/", json_string_value(t));
        return -1;
    }
    if (json_is_array(t)) { /* one of several types */
        size_t i;
        const json_t *e;
        int found = 0;
        char names[128] = "";
        json_array_foreach(t, i, e)
        {
            found |= json_is_string(e) && type_is(json_string_value(e), v);
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? " or " : "",
                     json_string_value(e) ? json_string_value(e) : "?");
        }
        if (!found) {
            snprintf(err, errlen, "at '%s': expected %s", *ptr ? ptr : "/", names);
            return -1;
        }
    }
    if ((x = json_object_get(s, "const")) && !json_equal((json_t *)x, (json_t *)v)) {
        char *want = json_dumps(x, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(err, errlen, "at '%s': must be %.64s", *ptr ? ptr : "/", want ? want : "?");
        free(want);
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
        if ((x = json_object_get(s, "exclusiveMinimum")) && json_is_number(x) &&
            d <= json_number_value(x)) {
            snprintf(err, errlen, "at '%s': must be above %g", *ptr ? ptr : "/",
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
                const json_t *ap = json_object_get(s, "additionalProperties");
                if (json_is_false(ap)) {
                    snprintf(err, errlen, "at '%s': unknown property '%.64s'", *ptr ? ptr : "/", k);
                    return -1;
                }
                if (!json_is_object(ap))
                    continue;
                ps = ap; /* a schema for every other member */
            }
            snprintf(ptr + base, plen - base, "/%.64s", k);
            if (check(root, ps, pv, ptr, plen, err, errlen, depth + 1) < 0)
                return -1;
            ptr[base] = '\0';
        }
    }
    if (json_is_array(v) && (x = json_object_get(s, "minItems")) && json_is_integer(x) &&
        (json_int_t)json_array_size(v) < json_integer_value(x)) {
        snprintf(err, errlen, "at '%s': needs at least %lld items", *ptr ? ptr : "/",
                 (long long)json_integer_value(x));
        return -1;
    }
    if (json_is_array(v) && (x = json_object_get(s, "items"))) {
        size_t i;
        const json_t *it;
        json_array_foreach(v, i, it)
        {
            snprintf(ptr + base, plen - base, "/%zu", i);
            if (check(root, x, it, ptr, plen, err, errlen, depth + 1) < 0)
                return -1;
            ptr[base] = '\0';
        }
    }
    return check_combined(root, s, v, ptr, plen, err, errlen, depth);
}

int jsonschema_check(const json_t *schema, const json_t *value, char *err, size_t errlen)
{
    char ptr[512] = "";
    return check(schema, schema, value, ptr, sizeof ptr, err, errlen, 0);
}

int jsonschema_check_at(const json_t *schema, const json_t *value, char *where, size_t wherelen,
                        char *err, size_t errlen)
{
    char ptr[512] = "";
    int rc = check(schema, schema, value, ptr, sizeof ptr, err, errlen, 0);

    snprintf(where, wherelen, "%s", rc < 0 ? ptr : "");
    return rc;
}
