#ifndef TRAWL_REGISTRY_H
#define TRAWL_REGISTRY_H

/*
 * The connector registry: source types mapped to toolkits by
 * toolkits.json, each toolkit a JSON file naming its driver and its tools in
 * the MCP / function-calling format. Adding a source type is a new toolkit
 * file and one line in the mapping, never C code.
 */

#include <jansson.h>
#include <stddef.h>

struct registry;

struct toolkit {
    const char *name;   /* file name without .json */
    const char *driver; /* fs, archive, mail, imap, http */
    json_t *json;       /* the whole toolkit document */
    json_t *tools;      /* array of {name, description, parameters, operation, ...} */
    const char *dir;    /* the directory its file came from */
};

/**
 * Loads toolkits.json and the toolkits it names from each directory in dirs
 * (NULL-terminated; later directories add to and override earlier ones).
 * Returns NULL with a message in err (file, line, column) on failure.
 */
struct registry *registry_load(const char *const *dirs, char *err, size_t errlen);

void registry_free(struct registry *r);

/** Number of source types; registry_type_at(r, i) for i below it, sorted by type. */
size_t registry_count(const struct registry *r);

/** The i-th source type (sorted) and its toolkit, or NULL past the end. */
const char *registry_type_at(const struct registry *r, size_t i, const struct toolkit **tk);

struct buf;

/**
 * Reads a connector file (at most 4 MiB) into text, which keeps the bytes for
 * line and column numbers, and parses it. NULL with "FILE line L column C:
 * problem" in err. text is set up here; the caller releases it.
 */
json_t *registry_read_json(const char *path, struct buf *text, char *err, size_t errlen);

/**
 * Checks a toolkit document (parsed from text, len bytes, of file path) for
 * what the registry and the master rely on: a known driver, tools in the
 * function-calling format with unique names and JSON Schema parameters,
 * operations the driver has, explore tools that exist, settings in shape.
 * Returns 0, or -1 with "FILE line L column C: problem" in err.
 */
int toolkit_check(const char *path, const char *text, size_t len, const json_t *doc, char *err,
                  size_t errlen);

/** The toolkit a source type maps to, or NULL for an unknown type. */
const struct toolkit *registry_toolkit(const struct registry *r, const char *source_type);

/** The known source types, comma-separated in sorted order (for messages). */
const char *registry_types(const struct registry *r);

/** The tool named name in toolkit tk, or NULL. */
json_t *toolkit_tool(const struct toolkit *tk, const char *name);

/** The tools/list result for tk: [{name, description, inputSchema}] (new reference). */
json_t *toolkit_tools_list(const struct toolkit *tk);

/**
 * The directories to load, in order: the built-in one (TRAWL_CONNECTORS_DIR),
 * then each of $TRAWL_CONNECTORS (colon-separated), then extra (may be NULL).
 * Returns a static NULL-terminated array.
 */
const char *const *registry_default_dirs(const char *extra);

#endif
