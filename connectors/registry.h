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
};

/**
 * Loads toolkits.json and the toolkits it names from each directory in dirs
 * (NULL-terminated; later directories add to and override earlier ones).
 * Returns NULL with a message in err (file, line, column) on failure.
 */
struct registry *registry_load(const char *const *dirs, char *err, size_t errlen);

void registry_free(struct registry *r);

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
