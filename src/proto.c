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
#include <sys/socket.h>
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

/* 1 when the input buffer holds at least one complete frame (or a bad header). */
static int frame_buffered(const struct proto_conn *c)
{
    const unsigned char *p = (const unsigned char *)c->in.data;
    uint32_t len;

    if (c->in.len < 4)
        return 0;
    len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return len > c->max_frame || c->in.len - 4 >= len;
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
            /* A large frame (a document's text) arrives in many chunks: take
             * what the socket holds now, without blocking, until one frame is
             * complete, rather than one chunk per wakeup of the event loop. */
            while ((size_t)n == sizeof chunk && !frame_buffered(c)) {
                n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
                if (n <= 0)
                    break; /* nothing more now (or not a socket); EOF shows next time */
                if (buf_add(&c->in, chunk, (size_t)n) < 0) {
                    snprintf(c->err, sizeof c->err, "input over %zu bytes without a complete frame",
                             c->max_frame);
                    return -1;
                }
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

/* 1 when the n bytes are valid UTF-8 without NUL bytes (overlong forms,
 * surrogates and code points past U+10FFFF refused, as jansson does). */
static int utf8_text_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        /* ASCII runs, eight bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) ||
                ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned c = s[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
        } else if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (s[i + 1] & 0xc0) == 0x80) {
            i += 2;
        } else if (c >= 0xe0 && c <= 0xef && i + 2 < n && (s[i + 1] & 0xc0) == 0x80 &&
                   (s[i + 2] & 0xc0) == 0x80) {
            unsigned cp = (c & 0x0f) << 12 | (s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f);
            if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
            i += 3;
        } else if (c >= 0xf0 && c <= 0xf4 && i + 3 < n && (s[i + 1] & 0xc0) == 0x80 &&
                   (s[i + 2] & 0xc0) == 0x80 && (s[i + 3] & 0xc0) == 0x80) {
            unsigned cp = (c & 0x07) << 18 | (s[i + 1] & 0x3f) << 12 | (s[i + 2] & 0x3f) << 6 |
                          (s[i + 3] & 0x3f);
            if (cp < 0x10000 || cp > 0x10ffff)
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* A frame's text attachment becomes params.text of a request or notification. */
static int proto_attach_text(struct proto_conn *c, json_t *m, const char *t, size_t n)
{
    json_t *params = json_object_get(m, "params");

    if (!json_is_object(params) || json_object_get(params, "text")) {
        snprintf(c->err, sizeof c->err,
                 "frame carries a text attachment but no params object free to hold it");
        return -1;
    }
    if (!utf8_text_ok((const unsigned char *)t, n)) {
        snprintf(c->err, sizeof c->err, "frame's text attachment is not UTF-8 without NUL bytes");
        return -1;
    }
    json_t *v = json_stringn_nocheck(t, n);
    if (!v || json_object_set_new(params, "text", v) < 0) {
        snprintf(c->err, sizeof c->err, "out of memory for a text attachment");
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
    /* JSON never holds a raw NUL: one ends the JSON and starts the text */
    const char *body = (const char *)p + 4, *nul = memchr(body, '\0', len);
    size_t jlen = nul ? (size_t)(nul - body) : len;
    m = json_loadb(body, jlen, JSON_REJECT_DUPLICATES, &jerr);
    if (m && proto_check(c, m) < 0) {
        json_decref(m);
        m = NULL;
        jerr.text[0] = '\0';
    } else if (m && nul && proto_attach_text(c, m, nul + 1, len - jlen - 1) < 0) {
        json_decref(m);
        m = NULL;
        jerr.text[0] = '\0';
    }
    memmove(c->in.data, c->in.data + 4 + len, c->in.len - 4 - len);
    c->in.len -= 4 + len;
    if (!m) {
        if (jerr.text[0])
            snprintf(c->err, sizeof c->err, "frame is not valid JSON: %.120s", jerr.text);
        return -1;
    }
    *msg = m;
    return 1;
}

int proto_conn_queue(struct proto_conn *c, const json_t *msg)
{
    return proto_conn_queue_text(c, msg, NULL, 0);
}

int proto_conn_queue_text(struct proto_conn *c, const json_t *msg, const char *text, size_t tlen)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    size_t n, jn;
    unsigned char hdr[4];
    int rc = 0;

    if (!s) {
        snprintf(c->err, sizeof c->err, "cannot encode a message");
        return -1;
    }
    jn = strlen(s);
    n = text ? jn + 1 + tlen : jn;
    if (text && memchr(text, '\0', tlen)) {
        snprintf(c->err, sizeof c->err, "a text attachment cannot hold NUL bytes");
        free(s);
        return -1;
    }
    if (n > c->max_frame) {
        snprintf(c->err, sizeof c->err, "message of %zu bytes is over the frame maximum", n);
        free(s);
        return -1;
    }
    hdr[0] = (unsigned char)(n >> 24);
    hdr[1] = (unsigned char)(n >> 16);
    hdr[2] = (unsigned char)(n >> 8);
    hdr[3] = (unsigned char)n;
    if (buf_add(&c->out, hdr, 4) < 0 || buf_add(&c->out, s, jn) < 0 ||
        (text && (buf_add(&c->out, "", 1) < 0 || buf_add(&c->out, text, tlen) < 0))) {
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

static int proto_send_blocking(struct proto_conn *c, json_t *m, const char *text, size_t tlen)
{
    int rc = proto_conn_queue_text(c, m, text, tlen);

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
    return proto_send_blocking(c, proto_notification(method, params), NULL, 0);
}

int proto_notify_text(struct proto_conn *c, const char *method, json_t *params, const char *text,
                      size_t tlen)
{
    return proto_send_blocking(c, proto_notification(method, params), text ? text : "", tlen);
}

int proto_notify_text_batched(struct proto_conn *c, const char *method, json_t *params,
                              const char *text, size_t tlen)
{
    json_t *m = proto_notification(method, params);
    int rc = proto_conn_queue_text(c, m, text, tlen);

    json_decref(m);
    if (rc < 0)
        return -1;
    return c->out.len - c->out_off >= PROTO_BATCH ? proto_flush(c) : 0;
}

int proto_flush(struct proto_conn *c)
{
    for (;;) {
        int rc = proto_conn_flush(c);
        if (rc <= 0)
            return rc;
        struct pollfd p = {c->fd, POLLOUT, 0};
        poll(&p, 1, -1);
    }
}

long proto_call_send(struct proto_conn *c, const char *method, json_t *params, int first)
{
    long id = c->next_id++;
    json_t *m = proto_request(id, method, params);
    size_t before = c->out.len;
    int rc = proto_conn_queue(c, m);

    json_decref(m);
    if (rc < 0)
        return -1;
    if (first && before > c->out_off) { /* move it before what waits unsent */
        size_t n = c->out.len - before, waiting = before - c->out_off;
        char *frame = malloc(n);
        if (!frame) {
            c->out.len = before;
            snprintf(c->err, sizeof c->err, "out of memory");
            return -1;
        }
        memcpy(frame, c->out.data + before, n);
        memmove(c->out.data + c->out_off + n, c->out.data + c->out_off, waiting);
        memcpy(c->out.data + c->out_off, frame, n);
        free(frame);
    }
    c->ahead++;
    return id;
}

int proto_call_wait(struct proto_conn *c, long id, const char *method, json_t **result, int *code)
{
    json_t *m;
    int rc;

    *result = NULL;
    if (code)
        *code = 0;
    if (proto_flush(c) < 0)
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
        json_t *rid = json_object_get(m, "id"), *err = json_object_get(m, "error");
        if (!json_is_integer(rid) || json_integer_value(rid) >= c->next_id) {
            json_decref(m); /* a stray frame: the master never sends one */
            continue;
        }
        c->ahead--;
        if (json_integer_value(rid) != id) { /* the answer to an earlier proto_call_send */
            if (err && !c->ahead_failed) {
                c->ahead_failed = 1;
                snprintf(c->ahead_err, sizeof c->ahead_err, "%s",
                         json_string_value(json_object_get(err, "message"))
                             ? json_string_value(json_object_get(err, "message"))
                             : "error");
            }
            json_decref(m);
            continue;
        }
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
    long id = proto_call_send(c, method, params, 0);

    *result = NULL;
    if (code)
        *code = 0;
    if (id < 0)
        return -1;
    return proto_call_wait(c, id, method, result, code);
}
