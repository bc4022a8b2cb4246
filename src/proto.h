#ifndef TRAWL_PROTO_H
#define TRAWL_PROTO_H

/*
 * The master ⇄ child protocol: JSON-RPC 2.0 objects, one per frame. A frame
 * is a 4-byte big-endian length and that many bytes of UTF-8 JSON. Frames
 * over the connection's maximum are protocol violations, never buffered.
 */

#include "buf.h"

#include <jansson.h>
#include <stddef.h>

#define PROTO_VERSION 1
#define PROTO_MAX_FRAME ((size_t)8 << 20)

/* JSON-RPC error codes used on the wire. */
enum {
    PROTO_EPARSE = -32700,
    PROTO_EINVALID = -32600,
    PROTO_ENOMETHOD = -32601,
    PROTO_EPARAMS = -32602,
    PROTO_EINTERNAL = -32603,
    PROTO_EREFUSED = -32001, /* tool not in this source's toolkit, or a forced filter */
    PROTO_ETOOL = -32002,    /* the tool ran and failed */
};

/** One end of a connection, with capped input and output buffers. */
struct proto_conn {
    int fd;
    size_t max_frame;
    struct buf in, out;
    size_t out_off;
    long next_id;
    char err[160]; /* why the last call failed */
};

/** Sets up a connection over fd (not owned). */
void proto_conn_init(struct proto_conn *c, int fd, size_t max_frame);

/** Frees the buffers. */
void proto_conn_release(struct proto_conn *c);

/**
 * Reads what fd has now (fd should be non-blocking). Returns 1 when bytes
 * arrived, 0 at end of file, -1 on error or when unparsed input would exceed
 * one maximum frame (message in c->err).
 */
int proto_conn_read(struct proto_conn *c);

/**
 * Takes the next complete frame from the input buffer as a JSON-RPC object.
 * Returns 1 with *msg set (caller owns it), 0 when no complete frame is
 * buffered, or -1 for a protocol violation: oversized frame, invalid JSON,
 * or not a JSON-RPC 2.0 object (message in c->err).
 */
int proto_conn_next(struct proto_conn *c, json_t **msg);

/** Appends msg as a frame to the output buffer (msg is not consumed). */
int proto_conn_queue(struct proto_conn *c, const json_t *msg);

/**
 * Writes buffered output without blocking. Returns 0 when all is written, 1
 * when some remains (wait for POLLOUT), -1 on error.
 */
int proto_conn_flush(struct proto_conn *c);

/* ---- building messages ---------------------------------------------------- */

/** {"jsonrpc":"2.0","id":id,"method":method,"params":params} (params consumed; NULL = none). */
json_t *proto_request(long id, const char *method, json_t *params);

/** A notification: a request without id. */
json_t *proto_notification(const char *method, json_t *params);

/** {"jsonrpc":"2.0","id":<id of req>,"result":result} (result consumed). */
json_t *proto_result(const json_t *id, json_t *result);

/** {"jsonrpc":"2.0","id":...,"error":{"code":code,"message":message}}. */
json_t *proto_error(const json_t *id, int code, const char *message);

/* ---- the blocking client side (children) ----------------------------------- */

/**
 * Sends a request and waits for its response (blocking fd). Returns 0 with
 * *result set (caller owns it), or -1 with the reason in c->err: an error
 * response (its code in *code when code is not NULL), a broken connection,
 * or a bad frame.
 */
int proto_call(struct proto_conn *c, const char *method, json_t *params, json_t **result,
               int *code);

/** Sends a notification (blocking). Returns 0 or -1. */
int proto_notify(struct proto_conn *c, const char *method, json_t *params);

/* Queued notifications are sent at the latest when this many bytes wait. */
#define PROTO_LATER_MAX ((size_t)256 << 10)

/**
 * Queues a notification to go out with the next call (or proto_flush_blocking):
 * the peer wakes once for both. Sends at once when PROTO_LATER_MAX bytes wait.
 * Consumes params. Returns 0 or -1.
 */
int proto_notify_later(struct proto_conn *c, const char *method, json_t *params);

/**
 * proto_call with the request sent ahead of the notifications still queued (in the
 * same write): the peer answers it first and handles them while this side works.
 * For calls that do not depend on those notifications (a fetch after the previous
 * file's documents).
 */
int proto_call_ahead(struct proto_conn *c, const char *method, json_t *params, json_t **result,
                     int *code);

/** Writes everything queued, blocking. Returns 0 or -1. */
int proto_flush_blocking(struct proto_conn *c);

#endif
