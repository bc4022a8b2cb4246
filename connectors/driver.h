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

struct netloop;
struct driver_call; /* a tools/call the master is waiting to answer */

/** call() returns this when the result comes later, through complete(). */
#define DRIVER_PENDING 1

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
    /* The master's libcurl multi loop: network drivers add their transfers
     * here and answer with complete() when they finish. */
    struct netloop *net;
    /* Finishes a call that returned DRIVER_PENDING: out (consumed) is the
     * structured result, or err says why it failed. Call it exactly once. */
    void (*complete)(struct driver_call *call, json_t *out, const char *err);
    /* Reads the credential the sources file references as FIELD_env or
     * FIELD_file. Returns a malloc'd string (wipe and free it) or NULL with
     * err. Only the master ever holds it; it never reaches an explorer. */
    char *(*secret)(void *arg, const char *field, char *err, size_t errlen);
    void *secret_arg;
    void *state;           /* the driver's own */
    const json_t *toolkit; /* the toolkit's JSON (declarative drivers read their section) */
    /* Incremental sync: the cursor the driver left at the end of the source's
     * last complete run (borrowed, may be NULL), and the one it leaves for the
     * next run (the driver sets it; the master stores it with the checkpoint
     * once this run is complete and frees it). */
    const json_t *cursor;
    json_t *cursor_next;
    /* Set by the driver when a failure cannot be cured by trying again
     * (credentials refused, certificate rejected): the master then fails
     * the source at once instead of restarting its explorer. */
    int permanent;
    /* Set by the driver when the explorer completes but part of what the
     * source names cannot be read (an IMAP folder the server lacks): the
     * master keeps everything stored and checkpointed, and records the
     * source as failed with this error instead of ok. */
    char failure[600];
};

struct driver_ops {
    const char *name;
    /** Prepares the source (opens the folder, the connection). */
    int (*open)(struct driver_source *s, char *err, size_t errlen);
    /**
     * Runs operation op with args (already checked against the tool's JSON
     * Schema). Returns 0 with *out the tool's structured result; a fetched
     * payload is a file in payload_dir named by the result's "file", and
     * "version" names the version the explorer got. An item of a listing
     * ("files") may carry its "content" (UTF-8 text without NUL, small): the
     * explorer then extracts it without fetching it, and the documents made
     * of it get the item's "version". Returns DRIVER_PENDING
     * when the answer comes later through s->complete(call, ...), or -1 with
     * err. A driver must never block: the master serves every explorer.
     */
    int (*call)(struct driver_source *s, struct driver_call *call, const char *op, json_t *args,
                json_t **out, char *err, size_t errlen);
    /**
     * After a complete listing: 1 when the item with this external id (or its
     * container, the part before '#') is still in the source, 0 when it is
     * gone, -1 when the driver cannot tell (nothing is then marked deleted).
     */
    int (*present)(struct driver_source *s, const char *external_id);
    /** Releases the source; pending calls are cancelled without complete(). */
    void (*close)(struct driver_source *s);
    /** The operations a toolkit may map its tools to (NULL-terminated), for
     * 'trawl connectors check'; NULL when the driver does not say. */
    const char *const *operations;
};

/** The driver called name, or NULL. */
const struct driver_ops *driver_find(const char *name);

/**
 * Checks a driver's own part of a toolkit (the http driver's "http" section
 * against schema/http-toolkit.schema.json), for 'trawl connectors check' and
 * the registry. Returns 0 (also when the driver has nothing of its own), or
 * -1 with err and where, the JSON pointer of the offending value.
 */
int driver_check_toolkit(const char *driver, const json_t *toolkit, char *where, size_t wherelen,
                         char *err, size_t errlen);

/** The names of the drivers this build has, comma-separated (for messages). */
const char *driver_names(void);

/** Largest payload a driver writes for one item. */
#define DRIVER_MAX_PAYLOAD ((int64_t)256 << 20)

#endif
