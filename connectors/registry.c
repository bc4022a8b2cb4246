#include "registry.h"

#include "buf.h"

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

static json_t *load_json(const char *path, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);

    if (!j)
        snprintf(err, errlen, "connector file '%s' line %d column %d: %s", path, je.line, je.column,
                 je.text);
    return j;
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
    struct buf path = BUF_INIT;
    struct toolkit *tk;
    json_t *j, *tools;
    const char *driver;
    size_t i;
    json_t *t;

    buf_addf(&path, "%s/%s.json", dir, name);
    j = load_json(buf_str(&path), err, errlen);
    if (!j) {
        buf_release(&path);
        return -1;
    }
    driver = json_string_value(json_object_get(j, "driver"));
    tools = json_object_get(j, "tools");
    if (!json_is_object(j) || !driver || !json_is_array(tools)) {
        snprintf(err, errlen, "toolkit '%s' needs a \"driver\" string and a \"tools\" array",
                 buf_str(&path));
        goto fail;
    }
    json_array_foreach(tools, i, t)
    {
        if (!json_is_string(json_object_get(t, "name")) ||
            !json_is_string(json_object_get(t, "description")) ||
            !json_is_object(json_object_get(t, "parameters"))) {
            snprintf(err, errlen,
                     "toolkit '%s' tool %zu needs a \"name\", a \"description\" and "
                     "\"parameters\" (a JSON Schema object)",
                     buf_str(&path), i);
            goto fail;
        }
    }
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
    buf_release(&path);
    return 0;
fail:
    json_decref(j);
    buf_release(&path);
    return -1;
}

static int load_dir(struct registry *r, const char *dir, char *err, size_t errlen)
{
    struct buf path = BUF_INIT;
    json_t *map;
    const char *type;
    json_t *v;
    int rc = 0;

    buf_addf(&path, "%s/toolkits.json", dir);
    map = load_json(buf_str(&path), err, errlen);
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
        json_decref(r->kits[i].json);
    }
    buf_release(&r->types);
    free(r);
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
