/*
 * Framing and JSON-RPC validation. Everything here treats the peer as
 * hostile: lengths are checked before any allocation, and a frame is parsed
 * only once it is complete and within the cap.
 */
#include "proto.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void proto_conn_init(struct proto_conn *c, int fd, size_t max_frame)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->max_frame = max_frame ? max_frame : PROTO_MAX_FRAME;
    /* room for one whole frame and its header, plus what read() may bring */
    buf_init(&c->in, c->max_frame + 4 + 65536);
    buf_init(&c->out, (size_t)256 << 20);
    c->next_id = 1;
}

void proto_conn_release(struct proto_conn *c)
{
    buf_release(&c->in);
    buf_release(&c->out);
}

int proto_conn_read(struct proto_conn *c)
{
    char chunk[65536];

    for (;;) {
        ssize_t n = read(c->fd, chunk, sizeof chunk);
        if (n > 0) {
            if (buf_add(&c->in, chunk, (size_t)n) < 0) {
                snprintf(c->err, sizeof c->err, "input over %zu bytes without a complete frame",
                         c->max_frame);
                return -1;
            }
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 1;
        snprintf(c->err, sizeof c->err, "read: %s", strerror(errno));
        return -1;
    }
}

static int proto_check(struct proto_conn *c, json_t *m)
{
    json_t *v = json_object_get(m, "jsonrpc"), *id, *method;

    if (!json_is_object(m)) {
        snprintf(c->err, sizeof c->err, "frame is not a JSON object");
        return -1;
    }
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
        snprintf(c->err, sizeof c->err, "frame lacks \"jsonrpc\": \"2.0\"");
        return -1;
    }
    id = json_object_get(m, "id");
    if (id && !json_is_integer(id) && !json_is_string(id) && !json_is_null(id)) {
        snprintf(c->err, sizeof c->err, "frame has an id that is not a number or string");
        return -1;
    }
    method = json_object_get(m, "method");
    if (method) {
        json_t *params = json_object_get(m, "params");
        if (!json_is_string(method)) {
            snprintf(c->err, sizeof c->err, "frame has a method that is not a string");
            return -1;
        }
        if (params && !json_is_object(params) && !json_is_array(params)) {
            snprintf(c->err, sizeof c->err, "frame has params that are not an object or array");
            return -1;
        }
    } else if (!id ||
               (!json_object_get(m, "result") && !json_is_object(json_object_get(m, "error")))) {
        snprintf(c->err, sizeof c->err, "frame is neither a request nor a response");
        return -1;
    }
    return 0;
}

int proto_conn_next(struct proto_conn *c, json_t **msg)
{
    const unsigned char *p = (const unsigned char *)c->in.data;
    json_error_t jerr;
    uint32_t len;
    json_t *m;

    *msg = NULL;
    if (c->in.len < 4)
        return 0;
    len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (len > c->max_frame) {
        snprintf(c->err, sizeof c->err, "frame of %u bytes is over the %zu-byte maximum", len,
                 c->max_frame);
        return -1;
    }
    if (len == 0) {
        snprintf(c->err, sizeof c->err, "empty frame");
        return -1;
    }
    if (c->in.len - 4 < len)
        return 0;
    m = json_loadb((const char *)p + 4, len, JSON_REJECT_DUPLICATES, &jerr);
    memmove(c->in.data, c->in.data + 4 + len, c->in.len - 4 - len);
    c->in.len -= 4 + len;
    if (!m) {
        snprintf(c->err, sizeof c->err, "frame is not valid JSON: %.120s", jerr.text);
        return -1;
    }
    if (proto_check(c, m) < 0) {
        json_decref(m);
        return -1;
    }
    *msg = m;
    return 1;
}

int proto_conn_queue(struct proto_conn *c, const json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    size_t n;
    unsigned char hdr[4];
    int rc = 0;

    if (!s) {
        snprintf(c->err, sizeof c->err, "cannot encode a message");
        return -1;
    }
    n = strlen(s);
    if (n > c->max_frame) {
        snprintf(c->err, sizeof c->err, "message of %zu bytes is over the frame maximum", n);
        free(s);
        return -1;
    }
    hdr[0] = (unsigned char)(n >> 24);
    hdr[1] = (unsigned char)(n >> 16);
    hdr[2] = (unsigned char)(n >> 8);
    hdr[3] = (unsigned char)n;
    if (buf_add(&c->out, hdr, 4) < 0 || buf_add(&c->out, s, n) < 0) {
        snprintf(c->err, sizeof c->err, "output queue full");
        rc = -1;
    }
    free(s);
    return rc;
}

int proto_conn_flush(struct proto_conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        snprintf(c->err, sizeof c->err, "write: %s", n < 0 ? strerror(errno) : "closed");
        return -1;
    }
    buf_reset(&c->out);
    c->out_off = 0;
    return 0;
}

/* ---- building messages --------------------------------------------------------- */

json_t *proto_request(long id, const char *method, json_t *params)
{
    json_t *m = json_object();

    json_object_set_new(m, "jsonrpc", json_string("2.0"));
    json_object_set_new(m, "id", json_integer(id));
    json_object_set_new(m, "method", json_string(method));
    if (params)
        json_object_set_new(m, "params", params);
    return m;
}

json_t *proto_notification(const char *method, json_t *params)
{
    json_t *m = json_object();

    json_object_set_new(m, "jsonrpc", json_string("2.0"));
    json_object_set_new(m, "method", json_string(method));
    if (params)
        json_object_set_new(m, "params", params);
    return m;
}

json_t *proto_result(const json_t *id, json_t *result)
{
    json_t *m = json_object();

    json_object_set_new(m, "jsonrpc", json_string("2.0"));
    json_object_set(m, "id", id ? (json_t *)id : json_null());
    json_object_set_new(m, "result", result ? result : json_object());
    return m;
}

json_t *proto_error(const json_t *id, int code, const char *message)
{
    json_t *m = json_object(), *e = json_object();

    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "message", json_string(message));
    json_object_set_new(m, "jsonrpc", json_string("2.0"));
    json_object_set(m, "id", id ? (json_t *)id : json_null());
    json_object_set_new(m, "error", e);
    return m;
}

/* ---- blocking client side ------------------------------------------------------ */

static int proto_send_blocking(struct proto_conn *c, json_t *m)
{
    int rc = proto_conn_queue(c, m);

    json_decref(m);
    if (rc < 0)
        return -1;
    for (;;) {
        rc = proto_conn_flush(c);
        if (rc <= 0)
            return rc;
        struct pollfd p = {c->fd, POLLOUT, 0};
        poll(&p, 1, -1);
    }
}

int proto_notify(struct proto_conn *c, const char *method, json_t *params)
{
    return proto_send_blocking(c, proto_notification(method, params));
}

int proto_notify_later(struct proto_conn *c, const char *method, json_t *params)
{
    json_t *m = proto_notification(method, params);
    int rc = proto_conn_queue(c, m);

    json_decref(m);
    if (rc < 0)
        return -1;
    return c->out.len - c->out_off >= PROTO_LATER_MAX ? proto_flush_blocking(c) : 0;
}

int proto_flush_blocking(struct proto_conn *c)
{
    for (;;) {
        int rc = proto_conn_flush(c);
        if (rc <= 0)
            return rc;
        struct pollfd p = {c->fd, POLLOUT, 0};
        poll(&p, 1, -1);
    }
}

/* Puts the request ahead of the notifications still queued: the peer can answer it
 * before it works through them. */
static int proto_queue_ahead(struct proto_conn *c, json_t *m)
{
    size_t n = c->out.len - c->out_off;
    char *held = n ? malloc(n) : NULL;
    int rc;

    if (n && !held) {
        json_decref(m);
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    if (n)
        memcpy(held, c->out.data + c->out_off, n);
    buf_reset(&c->out);
    c->out_off = 0;
    rc = proto_conn_queue(c, m);
    json_decref(m);
    if (n && buf_add(&c->out, held, n) < 0 && rc == 0) {
        snprintf(c->err, sizeof c->err, "output queue full");
        rc = -1;
    }
    free(held);
    return rc < 0 ? -1 : proto_flush_blocking(c);
}

static int call(struct proto_conn *c, const char *method, json_t *params, json_t **result,
                int *code, int ahead)
{
    long id = c->next_id++;
    json_t *m;
    int rc;

    *result = NULL;
    if (code)
        *code = 0;
    if ((ahead ? proto_queue_ahead(c, proto_request(id, method, params))
               : proto_send_blocking(c, proto_request(id, method, params))) < 0)
        return -1;
    for (;;) {
        while ((rc = proto_conn_next(c, &m)) == 0) {
            struct pollfd p = {c->fd, POLLIN, 0};
            poll(&p, 1, -1);
            rc = proto_conn_read(c);
            if (rc == 0) {
                snprintf(c->err, sizeof c->err, "connection closed by the master");
                return -1;
            }
            if (rc < 0)
                return -1;
        }
        if (rc < 0)
            return -1;
        json_t *rid = json_object_get(m, "id");
        if (!json_is_integer(rid) || json_integer_value(rid) != id) {
            json_decref(m); /* a stray frame: the master never sends one */
            continue;
        }
        json_t *err = json_object_get(m, "error");
        if (err) {
            snprintf(c->err, sizeof c->err, "%s: %s", method,
                     json_string_value(json_object_get(err, "message"))
                         ? json_string_value(json_object_get(err, "message"))
                         : "error");
            if (code)
                *code = (int)json_integer_value(json_object_get(err, "code"));
            json_decref(m);
            return -1;
        }
        *result = json_incref(json_object_get(m, "result"));
        json_decref(m);
        return 0;
    }
}

int proto_call(struct proto_conn *c, const char *method, json_t *params, json_t **result, int *code)
{
    return call(c, method, params, result, code, 0);
}

int proto_call_ahead(struct proto_conn *c, const char *method, json_t *params, json_t **result,
                     int *code)
{
    return call(c, method, params, result, code, 1);
}
