#include "registry.h"

#include "buf.h"
#include "driver.h"
#include "jsonpos.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGISTRY_MAX 256

struct registry {
    struct {
        char *type;
        char *toolkit;
    } map[REGISTRY_MAX];
    size_t nmap;
    struct toolkit kits[REGISTRY_MAX];
    size_t nkits;
    struct buf types;
};

static int name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_'))
            return 0;
    return 1;
}

json_t *registry_read_json(const char *path, struct buf *text, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j;

    buf_init(text, (size_t)4 << 20);
    if (buf_read_file(text, path) < 0) {
        if (errno == EFBIG)
            snprintf(err, errlen, "connector file '%s' is over 4 MiB", path);
        else
            snprintf(err, errlen, "cannot read connector file '%s': %s", path, strerror(errno));
        return NULL;
    }
    j = json_loadb(text->data ? text->data : "", text->len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        snprintf(err, errlen, "%s line %d column %d: %s", path, je.line, je.column, je.text);
    return j;
}

struct tkcheck {
    const char *path, *text;
    size_t len;
    char *err;
    size_t errlen;
};

static int tk_fail(struct tkcheck *c, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int tk_fail(struct tkcheck *c, const char *ptr, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return jsonpos_fail(c->err, c->errlen, c->path, c->text, c->len, ptr, "%s", msg);
}

static int tool_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

int toolkit_check(const char *path, const char *text, size_t len, const json_t *doc, char *err,
                  size_t errlen)
{
    struct tkcheck c = {path, text, len, err, errlen};
    const struct driver_ops *d;
    const char *driver, *k;
    json_t *tools, *t, *v, *settings, *explore;
    char ptr[96];
    size_t i;

    if (!json_is_object(doc))
        return tk_fail(&c, "",
                       "a toolkit is an object with \"driver\", \"description\" and "
                       "\"tools\"");
    driver = json_string_value(json_object_get(doc, "driver"));
    if (!driver)
        return tk_fail(&c, json_object_get(doc, "driver") ? "/driver" : "",
                       "\"driver\" must name a driver (known: %s)", driver_names());
    if (!(d = driver_find(driver)))
        return tk_fail(&c, "/driver", "unknown driver '%s' (known: %s)", driver, driver_names());
    if (!json_is_string(json_object_get(doc, "description")))
        return tk_fail(&c, json_object_get(doc, "description") ? "/description" : "",
                       "\"description\" must say what the source is, for people and agents");
    settings = json_object_get(doc, "settings");
    if (settings) {
        json_t *req = json_object_get(settings, "required"), *props;
        if (!json_is_object(settings))
            return tk_fail(&c, "/settings", "\"settings\" must be an object");
        if (req && !json_is_array(req))
            return tk_fail(&c, "/settings/required", "\"required\" must be an array of names");
        json_array_foreach(req, i, v) if (!json_is_string(v))
        {
            snprintf(ptr, sizeof ptr, "/settings/required/%zu", i);
            return tk_fail(&c, ptr, "a required setting is named by a string");
        }
        props = json_object_get(settings, "properties");
        if (props && !json_is_object(props))
            return tk_fail(&c, "/settings/properties", "\"properties\" must be an object");
    }
    tools = json_object_get(doc, "tools");
    if (!json_is_array(tools) || json_array_size(tools) == 0)
        return tk_fail(&c, tools ? "/tools" : "", "\"tools\" must be a non-empty array");
    json_array_foreach(tools, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *desc = json_string_value(json_object_get(t, "description"));
        const char *op = json_string_value(json_object_get(t, "operation"));
        json_t *params = json_object_get(t, "parameters");
        snprintf(ptr, sizeof ptr, "/tools/%zu", i);
        if (!json_is_object(t))
            return tk_fail(&c, ptr, "a tool is an object");
        if (!tool_name_ok(name)) {
            snprintf(ptr, sizeof ptr, "/tools/%zu%s", i, json_object_get(t, "name") ? "/name" : "");
            return tk_fail(&c, ptr, "a tool needs a \"name\" of 1 to 64 of a-z, 0-9, '_'");
        }
        for (size_t q = 0; q < i; q++)
            if (strcmp(json_string_value(json_object_get(json_array_get(tools, q), "name")),
                       name) == 0) {
                snprintf(ptr, sizeof ptr, "/tools/%zu/name", i);
                return tk_fail(&c, ptr, "tool '%s' is defined twice", name);
            }
        if (!desc || strlen(desc) < 10) {
            snprintf(ptr, sizeof ptr, "/tools/%zu%s", i,
                     json_object_get(t, "description") ? "/description" : "");
            return tk_fail(&c, ptr,
                           "tool '%s' needs a \"description\" that tells an agent when to use it",
                           name);
        }
        if (!json_is_object(params) ||
            strcmp(json_string_value(json_object_get(params, "type")) ?: "", "object") != 0) {
            snprintf(ptr, sizeof ptr, "/tools/%zu%s", i, params ? "/parameters" : "");
            return tk_fail(
                &c, ptr, "tool '%s' needs \"parameters\": a JSON Schema with \"type\": \"object\"",
                name);
        }
        if (json_object_get(params, "properties") &&
            !json_is_object(json_object_get(params, "properties"))) {
            snprintf(ptr, sizeof ptr, "/tools/%zu/parameters/properties", i);
            return tk_fail(&c, ptr, "\"properties\" must be an object");
        }
        if (!op) {
            snprintf(ptr, sizeof ptr, "/tools/%zu%s", i,
                     json_object_get(t, "operation") ? "/operation" : "");
            return tk_fail(&c, ptr, "tool '%s' needs an \"operation\" of driver '%s'", name,
                           driver);
        }
        if (d->operations) {
            int found = 0;
            char known[200] = "";
            size_t off = 0;
            for (const char *const *o = d->operations; *o; o++) {
                found |= strcmp(*o, op) == 0;
                off += (size_t)snprintf(known + off, off < sizeof known ? sizeof known - off : 0,
                                        "%s%s", o == d->operations ? "" : ", ", *o);
            }
            if (!found) {
                snprintf(ptr, sizeof ptr, "/tools/%zu/operation", i);
                return tk_fail(&c, ptr, "driver '%s' has no operation '%s' (it has: %s)", driver,
                               op, known);
            }
        }
    }
    explore = json_object_get(doc, "explore");
    if (explore && !json_is_object(explore))
        return tk_fail(&c, "/explore",
                       "\"explore\" must be an object naming the list and fetch tools");
    json_object_foreach(explore, k, v)
    {
        const char *tn = json_string_value(v);
        int found = 0;
        snprintf(ptr, sizeof ptr, "/explore/%.40s", k);
        if (strcmp(k, "list") != 0 && strcmp(k, "fetch") != 0)
            return tk_fail(&c, ptr, "\"explore\" names only \"list\" and \"fetch\", not '%s'", k);
        json_array_foreach(tools, i, t) found |=
            tn && strcmp(json_string_value(json_object_get(t, "name")), tn) == 0;
        if (!found)
            return tk_fail(&c, ptr, "explore.%s names '%s', which is not a tool of this toolkit", k,
                           tn ? tn : "(not a string)");
    }
    if (explore && (!json_object_get(explore, "list") || !json_object_get(explore, "fetch")))
        return tk_fail(&c, "/explore", "\"explore\" needs both \"list\" and \"fetch\"");
    { /* the driver's own section (the http driver's "http") */
        char where[600], msg[300];
        if (driver_check_toolkit(driver, doc, where, sizeof where, msg, sizeof msg) < 0)
            return tk_fail(&c, where, "%s", msg);
    }
    return 0;
}

static struct toolkit *find_kit(struct registry *r, const char *name)
{
    for (size_t i = 0; i < r->nkits; i++)
        if (strcmp(r->kits[i].name, name) == 0)
            return &r->kits[i];
    return NULL;
}

static int load_toolkit(struct registry *r, const char *dir, const char *name, char *err,
                        size_t errlen)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    struct toolkit *tk;
    json_t *j, *tools;
    const char *driver;

    buf_addf(&path, "%s/%s.json", dir, name);
    j = registry_read_json(buf_str(&path), &text, err, errlen);
    if (!j)
        goto fail;
    if (toolkit_check(buf_str(&path), text.data ? text.data : "", text.len, j, err, errlen) < 0)
        goto fail;
    driver = json_string_value(json_object_get(j, "driver"));
    tools = json_object_get(j, "tools");
    tk = find_kit(r, name);
    if (!tk) {
        if (r->nkits == REGISTRY_MAX) {
            snprintf(err, errlen, "more than %d toolkits", REGISTRY_MAX);
            goto fail;
        }
        tk = &r->kits[r->nkits++];
        tk->name = strdup(name);
    } else {
        json_decref(tk->json);
    }
    tk->json = j;
    tk->driver = driver;
    tk->tools = tools;
    free((char *)tk->dir);
    tk->dir = strdup(dir);
    buf_release(&path);
    buf_release(&text);
    return 0;
fail:
    json_decref(j);
    buf_release(&path);
    buf_release(&text);
    return -1;
}

static int load_dir(struct registry *r, const char *dir, char *err, size_t errlen)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    json_t *map;
    const char *type;
    json_t *v;
    int rc = 0;

    buf_addf(&path, "%s/toolkits.json", dir);
    map = registry_read_json(buf_str(&path), &text, err, errlen);
    buf_release(&text);
    if (!map) {
        buf_release(&path);
        return -1;
    }
    if (!json_is_object(map)) {
        snprintf(err, errlen, "'%s' must map source types to toolkit names", buf_str(&path));
        rc = -1;
    }
    json_object_foreach(map, type, v)
    {
        const char *kit = json_string_value(v);
        size_t k;
        if (rc < 0)
            break;
        if (!name_ok(type) || !kit || !name_ok(kit)) {
            snprintf(err, errlen,
                     "'%s': source type '%s' must map to a toolkit name (a-z, 0-9, '-', '_')",
                     buf_str(&path), type);
            rc = -1;
            break;
        }
        if (load_toolkit(r, dir, kit, err, errlen) < 0) {
            rc = -1;
            break;
        }
        for (k = 0; k < r->nmap; k++)
            if (strcmp(r->map[k].type, type) == 0)
                break;
        if (k == r->nmap) {
            if (r->nmap == REGISTRY_MAX) {
                snprintf(err, errlen, "more than %d source types", REGISTRY_MAX);
                rc = -1;
                break;
            }
            r->map[r->nmap++].type = strdup(type);
        } else {
            free(r->map[k].toolkit);
        }
        r->map[k].toolkit = strdup(kit);
    }
    json_decref(map);
    buf_release(&path);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct registry *registry_load(const char *const *dirs, char *err, size_t errlen)
{
    struct registry *r = calloc(1, sizeof *r);
    const char *sorted[REGISTRY_MAX];

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    buf_init(&r->types, 1 << 16);
    for (size_t i = 0; dirs[i]; i++) {
        if (load_dir(r, dirs[i], err, errlen) < 0) {
            registry_free(r);
            return NULL;
        }
    }
    for (size_t i = 0; i < r->nmap; i++)
        sorted[i] = r->map[i].type;
    qsort(sorted, r->nmap, sizeof sorted[0], cmp_str);
    for (size_t i = 0; i < r->nmap; i++)
        buf_addf(&r->types, "%s%s", i ? ", " : "", sorted[i]);
    return r;
}

void registry_free(struct registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nmap; i++) {
        free(r->map[i].type);
        free(r->map[i].toolkit);
    }
    for (size_t i = 0; i < r->nkits; i++) {
        free((char *)r->kits[i].name);
        free((char *)r->kits[i].dir);
        json_decref(r->kits[i].json);
    }
    buf_release(&r->types);
    free(r);
}

size_t registry_count(const struct registry *r)
{
    return r->nmap;
}

static int cmp_type(const void *a, const void *b, void *arg)
{
    const struct registry *r = arg;
    return strcmp(r->map[*(const size_t *)a].type, r->map[*(const size_t *)b].type);
}

const char *registry_type_at(const struct registry *r, size_t i, const struct toolkit **tk)
{
    size_t order[REGISTRY_MAX];

    if (i >= r->nmap)
        return NULL;
    for (size_t k = 0; k < r->nmap; k++)
        order[k] = k;
    qsort_r(order, r->nmap, sizeof order[0], cmp_type, (void *)r);
    if (tk)
        *tk = find_kit((struct registry *)r, r->map[order[i]].toolkit);
    return r->map[order[i]].type;
}

const struct toolkit *registry_toolkit(const struct registry *r, const char *source_type)
{
    for (size_t i = 0; i < r->nmap; i++)
        if (strcmp(r->map[i].type, source_type) == 0)
            return find_kit((struct registry *)r, r->map[i].toolkit);
    return NULL;
}

const char *registry_types(const struct registry *r)
{
    return buf_str(&r->types);
}

json_t *toolkit_tool(const struct toolkit *tk, const char *name)
{
    size_t i;
    json_t *t;

    json_array_foreach(tk->tools, i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return t;
    }
    return NULL;
}

json_t *toolkit_tools_list(const struct toolkit *tk)
{
    json_t *out = json_array(), *t;
    size_t i;

    json_array_foreach(tk->tools, i, t)
    {
        json_t *o = json_object();
        json_object_set(o, "name", json_object_get(t, "name"));
        json_object_set(o, "description", json_object_get(t, "description"));
        json_object_set(o, "inputSchema", json_object_get(t, "parameters"));
        json_array_append_new(out, o);
    }
    return out;
}

const char *const *registry_default_dirs(const char *extra)
{
    static const char *dirs[18];
    static char *env_copy;
    size_t n = 0;
    const char *env = getenv("TRAWL_CONNECTORS");

    dirs[n++] = TRAWL_CONNECTORS_DIR;
    if (env && *env) {
        free(env_copy);
        env_copy = strdup(env);
        for (char *p = env_copy, *save = NULL; p && n < 16; p = save) {
            save = strchr(p, ':');
            if (save)
                *save++ = '\0';
            if (*p)
                dirs[n++] = p;
        }
    }
    if (extra && n < 17)
        dirs[n++] = extra;
    dirs[n] = NULL;
    return dirs;
}
