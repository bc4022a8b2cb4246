#ifndef TRAWL_DRIVER_H
#define TRAWL_DRIVER_H

/*
 * Drivers execute a toolkit's tools for explorers, in the master (the only
 * process with the network, the credentials and the source itself). A driver
 * is a row in the table of connectors/driver.c; a toolkit names its driver
 * and maps each tool to one of the driver's operations.
 */

#include <jansson.h>
#include <stddef.h>

/** One source as a driver sees it. */
struct driver_source {
    const char *name;        /* the source's name */
    const json_t *settings;  /* its object from the sources file (references, no secrets) */
    int payload_dirfd;       /* fetched content goes here: the explorer's workspace inbox */
    const char *payload_dir; /* the same directory as the explorer names it ("in") */
    long payload_seq;        /* for unique payload file names */
    /* Asks the master whether the knowledge base already holds this version
     * of an item (1) or not (0): unchanged items are not fetched again. */
    int (*known)(void *arg, const char *external_id, const char *version);
    void *known_arg;
    void *state; /* the driver's own */
};

struct driver_ops {
    const char *name;
    /** Prepares the source (opens the folder, the connection). */
    int (*open)(struct driver_source *s, char *err, size_t errlen);
    /**
     * Runs operation op with args (already checked against the tool's JSON
     * Schema). On success *out is the tool's structured result; a fetched
     * payload is a file in payload_dir named by the result's "file", and
     * "version" names the version the explorer got. -1 with err on failure.
     */
    int (*call)(struct driver_source *s, const char *op, json_t *args, json_t **out, char *err,
                size_t errlen);
    /**
     * After a complete listing: 1 when the item with this external id (or its
     * container, the part before '#') is still in the source, 0 when it is
     * gone, -1 when the driver cannot tell (nothing is then marked deleted).
     */
    int (*present)(struct driver_source *s, const char *external_id);
    void (*close)(struct driver_source *s);
};

/** The driver called name, or NULL. */
const struct driver_ops *driver_find(const char *name);

/** Largest payload a driver writes for one item. */
#define DRIVER_MAX_PAYLOAD ((int64_t)256 << 20)

#endif
