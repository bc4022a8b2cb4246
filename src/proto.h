#ifndef TRAWL_PROTO_H
#define TRAWL_PROTO_H

/*
 * The master ⇄ child protocol: JSON-RPC 2.0 objects, one per frame. A frame
 * is a 4-byte big-endian length and that many bytes of UTF-8 JSON, optionally
 * followed by a NUL byte and a raw UTF-8 text attachment (params.text). Frames
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
    /* calls sent with proto_call_send whose answers have not arrived yet, and
     * the first of them that failed (children) */
    long ahead;
    int ahead_failed;
    char ahead_err[160];
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
 * Like proto_conn_queue, with a text attachment: tlen bytes of UTF-8 without
 * NUL sent raw after the JSON and a NUL byte, so a large text is neither
 * escaped nor parsed as JSON. The receiver's proto_conn_next checks it and
 * hands it over as the string params.text (msg must have a params object
 * without "text").
 */
int proto_conn_queue_text(struct proto_conn *c, const json_t *msg, const char *text, size_t tlen);

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

/**
 * Queues a request without sending or waiting (params consumed): it leaves
 * with the next flush, and its answer is taken by the proto_call_wait that
 * waits for it, or by any later one (an error answer then sets ahead_failed
 * and ahead_err). first puts it before the batched notifications still
 * unsent, so the master answers it before it handles them. Returns its id, or
 * -1 with c->err.
 */
long proto_call_send(struct proto_conn *c, const char *method, json_t *params, int first);

/**
 * Flushes the output and waits for the answer to request id (see proto_call);
 * answers to other requests sent before it are taken on the way.
 */
int proto_call_wait(struct proto_conn *c, long id, const char *method, json_t **result, int *code);

/** Sends a notification (blocking). Returns 0 or -1. */
int proto_notify(struct proto_conn *c, const char *method, json_t *params);
/** Sends a notification whose params.text travels as a text attachment (see proto_conn_queue_text).
 */
int proto_notify_text(struct proto_conn *c, const char *method, json_t *params, const char *text,
                      size_t tlen);

/** Batched notifications wait in the output buffer until this many bytes are queued. */
#define PROTO_BATCH ((size_t)64 << 10)

/**
 * Like proto_notify_text, but the frame may wait in the output buffer (up to
 * PROTO_BATCH bytes) and leave with the next call or notification, or
 * proto_flush: a run of small notifications (one document each) then costs
 * one write and one wakeup of the master instead of one each. text NULL: no
 * attachment.
 */
int proto_notify_text_batched(struct proto_conn *c, const char *method, json_t *params,
                              const char *text, size_t tlen);

/** Writes what batched notifications left in the output buffer (blocking). Returns 0 or -1. */
int proto_flush(struct proto_conn *c);

#endif
