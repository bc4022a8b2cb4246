/* trawl connectors list | show TYPE | check FILE: the registry by configuration. */
#include "cli.h"
#include "registry.h"

#include "buf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct registry *load(const char *extra, struct registry **out)
{
    char err[600];

    *out = registry_load(registry_default_dirs(extra), err, sizeof err);
    if (!*out)
        cli_fail("%s", err);
    return *out;
}

static int conn_list(const struct registry *r, int json)
{
    json_t *arr = json_array();
    const struct toolkit *tk;
    const char *type;

    for (size_t i = 0; (type = registry_type_at(r, i, &tk)); i++) {
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "type", json_string(type));
            json_object_set_new(o, "toolkit", json_string(tk->name));
            json_object_set_new(o, "driver", json_string(tk->driver));
            json_object_set_new(o, "tools", json_integer((json_int_t)json_array_size(tk->tools)));
            json_object_set_new(o, "dir", json_string(tk->dir));
            json_array_append_new(arr, o);
        } else {
            printf("%-16s toolkit %-10s driver %-8s %2zu tools  %s\n", type, tk->name, tk->driver,
                   json_array_size(tk->tools), tk->dir);
        }
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "types", arr);
        return cli_print_json(o);
    }
    json_decref(arr);
    return EXIT_OK;
}

static int conn_show(const struct registry *r, const char *type, int json)
{
    const struct toolkit *tk = registry_toolkit(r, type);
    size_t i;
    json_t *t;

    if (!tk)
        return cli_fail("unknown source type '%s' (known: %s)", type, registry_types(r));
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(type));
        json_object_set_new(o, "toolkit", json_string(tk->name));
        json_object_set_new(o, "driver", json_string(tk->driver));
        json_object_set(o, "description", json_object_get(tk->json, "description"));
        json_object_set(o, "settings", json_object_get(tk->json, "settings"));
        json_object_set_new(o, "tools", toolkit_tools_list(tk));
        return cli_print_json(o);
    }
    printf("%s: toolkit %s, driver %s\n%s\n", type, tk->name, tk->driver,
           json_string_value(json_object_get(tk->json, "description")));
    json_t *req = json_object_get(json_object_get(tk->json, "settings"), "required");
    if (json_array_size(req)) {
        printf("\nrequired settings:");
        json_array_foreach(req, i, t) printf(" %s", json_string_value(t));
        printf("\n");
    }
    printf("\ntools an explorer of this type gets:\n");
    json_array_foreach(tk->tools, i, t)
    {
        char *params = json_dumps(json_object_get(t, "parameters"), JSON_COMPACT | JSON_SORT_KEYS);
        printf("\n  %s\n    %s\n    parameters: %s\n",
               json_string_value(json_object_get(t, "name")),
               json_string_value(json_object_get(t, "description")), params ? params : "{}");
        free(params);
    }
    return EXIT_OK;
}

/* Checks one toolkit file, or a toolkits.json mapping and the toolkits it names. */
static int conn_check(const char *path, int json)
{
    struct buf text = BUF_INIT;
    char err[600] = "";
    json_t *doc, *res = json_object();
    int rc = 0;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

    doc = registry_read_json(path, &text, err, sizeof err);
    if (!doc)
        rc = -1;
    if (!rc && strcmp(base, "toolkits.json") == 0) {
        /* the mapping: load its directory as the registry would */
        char dir[4096];
        const char *dirs[2] = {dir, NULL};
        struct registry *r;
        snprintf(dir, sizeof dir, "%.*s", base == path ? 1 : (int)(base - path - 1),
                 base == path ? "." : path);
        if (!(r = registry_load(dirs, err, sizeof err)))
            rc = -1;
        else
            json_object_set_new(res, "types", json_integer((json_int_t)registry_count(r)));
        registry_free(r);
    } else if (!rc) {
        rc = toolkit_check(path, text.data ? text.data : "", text.len, doc, err, sizeof err);
        if (!rc) {
            json_object_set(res, "driver", json_object_get(doc, "driver"));
            json_object_set_new(
                res, "tools",
                json_integer((json_int_t)json_array_size(json_object_get(doc, "tools"))));
        }
    }
    json_decref(doc);
    buf_release(&text);
    json_object_set_new(res, "file", json_string(path));
    json_object_set_new(res, "ok", json_boolean(rc == 0));
    if (rc)
        json_object_set_new(res, "error", json_string(err));
    if (json) {
        cli_print_json(res);
        return rc ? EXIT_FAIL : EXIT_OK;
    }
    if (rc) {
        json_decref(res);
        return cli_fail("%s", err);
    }
    if (json_object_get(res, "types"))
        printf("%s: ok, %lld source types\n", path,
               (long long)json_integer_value(json_object_get(res, "types")));
    else
        printf("%s: ok, driver %s, %lld tools\n", path,
               json_string_value(json_object_get(res, "driver")),
               (long long)json_integer_value(json_object_get(res, "tools")));
    json_decref(res);
    return EXIT_OK;
}

int cmd_connectors(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'J'},
                                         {"connectors", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const struct cli_command *cmd = cli_find("connectors");
    const char *extra = NULL, *sub;
    struct registry *r = NULL;
    int json = 0, c, rc;

    (void)cli;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'J':
            json = 1;
            break;
        case 'c':
            extra = optarg;
            break;
        case 'h':
            return cli_help(cmd);
        default:
            return cli_usage(cmd, "unknown option");
        }
    }
    if (optind >= argc)
        return cli_usage(cmd, "missing list, show TYPE or check FILE");
    sub = argv[optind++];
    /* options may also follow the subcommand */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'J')
            json = 1;
        else if (c == 'c')
            extra = optarg;
        else if (c == 'h')
            return cli_help(cmd);
        else
            return cli_usage(cmd, "unknown option");
    }
    if (strcmp(sub, "check") == 0) {
        if (argc - optind != 1)
            return cli_usage(cmd, "check needs one FILE");
        return conn_check(argv[optind], json);
    }
    if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0)
        return cli_usage(cmd, "unknown subcommand '%s' (list, show, check)", sub);
    if (strcmp(sub, "show") == 0 && argc - optind != 1)
        return cli_usage(cmd, "show needs one TYPE");
    if (strcmp(sub, "list") == 0 && argc - optind != 0)
        return cli_usage(cmd, "list takes no arguments");
    if (!load(extra, &r))
        return EXIT_FAIL;
    rc = strcmp(sub, "list") == 0 ? conn_list(r, json) : conn_show(r, argv[optind], json);
    registry_free(r);
    return rc;
}
