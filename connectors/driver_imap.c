/*
 * IMAP and Gmail driver: mailboxes read through libcurl inside the master's
 * netloop. Only EXAMINE (read-only select), LIST, UID SEARCH and UID FETCH
 * BODY.PEEK[] are sent, so nothing is ever marked read or changed.
 *
 * Items are "FOLDER/UIDVALIDITY/UID" (UID zero-padded so paths sort in UID
 * order): a changed UIDVALIDITY makes every item of the folder new (clean
 * refetch) and the old ones absent (marked deleted by present()).
 */
#include "driver.h"
#include "imap_parse.h"
#include "netloop.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum step { ST_IDLE, ST_LIST, ST_EXAMINE, ST_SEARCH, ST_FETCH_EXAMINE, ST_FETCH };

struct imap_item {
    char *path; /* FOLDER/UIDVALIDITY/UID */
};

struct imap_src {
    CURL *easy; /* one handle, one connection per source, reused */
    char *url;  /* imap[s]://host:port/ */
    char errbuf[CURL_ERROR_SIZE];
    struct imap_buf resp;
    enum step step;
    struct driver_source *s;
    struct driver_call *call;
    json_t *args;
    /* the index */
    char **folders;
    int nfolders, cur;
    char *selected; /* folder currently EXAMINEd */
    unsigned long uidvalidity;
    struct imap_item *items;
    long n, alloc;
    int indexed;
    int gmail;
    int overflow;   /* the answer did not fit */
    char cmd[1400]; /* the command in flight, for a retry */
    int tries;      /* transport failures of it so far */
    /* fetch in progress */
    char *fetch_path;
    unsigned long fetch_uid;
};

/* libcurl passes only the untagged lines of a custom command's answer to
 * the write callback, dropping FETCH literals; every line the server sends
 * reaches the debug callback as CURLINFO_HEADER_IN, so the answer is read
 * there and the write callback discards its copy. */
static size_t on_data(char *p, size_t sz, size_t nm, void *arg)
{
    (void)p;
    (void)arg;
    return sz * nm;
}

static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *arg)
{
    struct imap_src *im = arg;
    (void)easy;
    if (type == CURLINFO_HEADER_IN && imap_buf_add(&im->resp, data, size) < 0)
        im->overflow = 1;
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct imap_item *)a)->path, ((const struct imap_item *)b)->path);
}

static void start(struct imap_src *im, enum step st, const char *cmd);

static void fail(struct imap_src *im, const char *what, CURLcode rc)
{
    char err[512];
    struct driver_call *call = im->call;

    /* transport failures say "connection": the explorer then stops and the
     * source fails (resumable) instead of skipping every later message */
    int transport = rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR ||
                    rc == CURLE_SEND_ERROR || rc == CURLE_OPERATION_TIMEDOUT ||
                    rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CONNECT_ERROR ||
                    rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_WEIRD_SERVER_REPLY;
    snprintf(err, sizeof err, "IMAP %s: %s%s%s%s", what, transport ? "connection failed: " : "",
             curl_easy_strerror(rc), im->errbuf[0] ? ": " : "", im->errbuf);
    im->step = ST_IDLE;
    im->call = NULL;
    json_decref(im->args);
    im->args = NULL;
    im->s->complete(call, NULL, err);
}

static void examine_next(struct imap_src *im);

static json_t *page(struct imap_src *im)
{
    const char *after = json_string_value(json_object_get(im->args, "after"));
    json_t *lim = json_object_get(im->args, "limit");
    int limit = lim ? (int)json_integer_value(lim) : 200;
    long lo = 0, hi = im->n;
    json_t *arr = json_array(), *out = json_object();

    if (limit < 1 || limit > 1000)
        limit = 200;
    if (after) {
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (strcmp(im->items[mid].path, after) <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    long i;
    for (i = lo; i < im->n && i < lo + limit; i++)
        json_array_append_new(
            arr, json_pack("{s:s,s:I,s:b}", "path", im->items[i].path, "size", (json_int_t)0,
                           "known", im->s->known(im->s->known_arg, im->items[i].path, "1")));
    json_object_set_new(out, "files", arr);
    if (i < im->n && i > lo)
        json_object_set_new(out, "next", json_string(im->items[i - 1].path));
    return out;
}

static void answer(struct imap_src *im, json_t *out)
{
    struct driver_call *call = im->call;
    im->step = ST_IDLE;
    im->call = NULL;
    json_decref(im->args);
    im->args = NULL;
    im->s->complete(call, out, NULL);
}

static void examine_next(struct imap_src *im)
{
    char cmd[1200], q[1100];

    if (im->cur >= im->nfolders) {
        qsort(im->items, (size_t)im->n, sizeof *im->items, cmp_item);
        im->indexed = 1;
        answer(im, page(im));
        return;
    }
    imap_quote(im->folders[im->cur], q, sizeof q);
    snprintf(cmd, sizeof cmd, "EXAMINE %s", q);
    free(im->selected);
    im->selected = strdup(im->folders[im->cur]);
    start(im, ST_EXAMINE, cmd);
}

static int add_item(struct imap_src *im, const char *folder, unsigned long uv, unsigned long uid)
{
    char p[1200];
    if (im->n == im->alloc) {
        long na = im->alloc ? im->alloc * 2 : 1024;
        struct imap_item *ni = realloc(im->items, (size_t)na * sizeof *ni);
        if (!ni)
            return -1;
        im->items = ni;
        im->alloc = na;
    }
    snprintf(p, sizeof p, "%s/%lu/%010lu", folder, uv, uid);
    im->items[im->n].path = strdup(p);
    if (!im->items[im->n].path)
        return -1;
    im->n++;
    return 0;
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
    struct imap_src *im = arg;
    char err[256];

    (void)easy;
    if ((rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
         rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CONNECT_ERROR) &&
        im->tries < 2) {
        /* a dropped connection: try the command again once or twice on a
         * fresh one (TODO: timer-based exponential backoff with jitter) */
        im->tries++;
        im->resp.len = 0;
        if ((im->step == ST_FETCH || im->step == ST_SEARCH) && im->selected) {
            /* a new connection has no folder selected: EXAMINE it again */
            char q[1100];
            imap_quote(im->selected, q, sizeof q);
            snprintf(im->cmd, sizeof im->cmd, "EXAMINE %s", q);
            im->step = im->step == ST_FETCH ? ST_FETCH_EXAMINE : ST_EXAMINE;
        }
        curl_easy_setopt(im->easy, CURLOPT_FRESH_CONNECT, 1L);
        if (netloop_add(im->s->net, im->easy, on_done, im) == 0)
            return;
    }
    curl_easy_setopt(im->easy, CURLOPT_FRESH_CONNECT, 0L);
    if (rc != CURLE_OK) {
        static const char *const what[] = {"",           "LIST",    "EXAMINE",
                                           "UID SEARCH", "EXAMINE", "UID FETCH"};
        if (im->step == ST_EXAMINE || im->step == ST_FETCH_EXAMINE) {
            char w[600];
            snprintf(w, sizeof w, "EXAMINE of folder '%.500s'", im->selected ? im->selected : "?");
            free(im->selected);
            im->selected = NULL;
            fail(im, w, rc);
        } else {
            fail(im, what[im->step], rc);
        }
        return;
    }
    switch (im->step) {
    case ST_LIST:
        if (imap_parse_list(im->resp.data, im->resp.len, &im->folders, &im->nfolders, im->gmail) <
            0) {
            struct driver_call *call = im->call;
            im->step = ST_IDLE;
            im->call = NULL;
            im->s->complete(call, NULL, "IMAP LIST: unreadable answer");
            return;
        }
        im->cur = 0;
        examine_next(im);
        return;
    case ST_EXAMINE:
        im->uidvalidity = imap_parse_uidvalidity(im->resp.data, im->resp.len);
        start(im, ST_SEARCH, "UID SEARCH ALL");
        return;
    case ST_SEARCH: {
        unsigned long *uids = NULL;
        long nu = imap_parse_search(im->resp.data, im->resp.len, &uids);
        for (long i = 0; i < nu; i++)
            if (add_item(im, im->folders[im->cur], im->uidvalidity, uids[i]) < 0) {
                free(uids);
                struct driver_call *call = im->call;
                im->step = ST_IDLE;
                im->call = NULL;
                im->s->complete(call, NULL, "out of memory");
                return;
            }
        free(uids);
        im->cur++;
        examine_next(im);
        return;
    }
    case ST_FETCH_EXAMINE: {
        char cmd[64];
        unsigned long uv = imap_parse_uidvalidity(im->resp.data, im->resp.len);
        const char *p = strrchr(im->fetch_path, '/');
        const char *q = p;
        while (q > im->fetch_path && q[-1] != '/')
            q--;
        if (uv != strtoul(q, NULL, 10)) {
            struct driver_call *call = im->call;
            im->step = ST_IDLE;
            im->call = NULL;
            im->indexed = 0; /* list again: the folder was recreated */
            im->s->complete(call, NULL, "IMAP: the folder's UIDVALIDITY changed since the listing");
            return;
        }
        im->uidvalidity = uv;
        snprintf(cmd, sizeof cmd, "UID FETCH %lu (UID BODY.PEEK[])", im->fetch_uid);
        start(im, ST_FETCH, cmd);
        return;
    }
    case ST_FETCH: {
        const char *msg;
        size_t len;
        char name[32], rel[64];
        int fd;
        if (imap_parse_fetch_body(im->resp.data, im->resp.len, &msg, &len) < 0) {
            struct driver_call *call = im->call;
            snprintf(err, sizeof err,
                     "IMAP: message %s is gone, unreadable or has a line over 10 MB",
                     im->fetch_path);
            im->step = ST_IDLE;
            im->call = NULL;
            im->s->complete(call, NULL, err);
            return;
        }
        snprintf(name, sizeof name, "m%06ld.eml", ++im->s->payload_seq);
        snprintf(rel, sizeof rel, "%.20s/%s", im->s->payload_dir, name);
        fd = openat(im->s->payload_dirfd, name,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, msg, len) != (ssize_t)len) {
            if (fd >= 0)
                close(fd);
            struct driver_call *call = im->call;
            im->step = ST_IDLE;
            im->call = NULL;
            im->s->complete(call, NULL, "cannot write the payload file");
            return;
        }
        close(fd);
        answer(im,
               json_pack("{s:s,s:I,s:s}", "file", rel, "size", (json_int_t)len, "version", "1"));
        return;
    }
    default:
        return;
    }
}

static void start(struct imap_src *im, enum step st, const char *cmd)
{
    im->step = st;
    im->tries = 0;
    snprintf(im->cmd, sizeof im->cmd, "%s", cmd);
    im->resp.len = 0;
    im->overflow = 0;
    im->errbuf[0] = '\0';
    curl_easy_setopt(im->easy, CURLOPT_URL, im->url);
    curl_easy_setopt(im->easy, CURLOPT_CUSTOMREQUEST, im->cmd);
    if (netloop_add(im->s->net, im->easy, on_done, im) < 0)
        fail(im, cmd, CURLE_FAILED_INIT);
}

static int imap_open(struct driver_source *s, char *err, size_t errlen)
{
    const json_t *st = s->settings;
    const char *host = json_string_value(json_object_get(st, "host"));
    const char *user = json_string_value(json_object_get(st, "user"));
    const char *ca = json_string_value(json_object_get(st, "ca_file"));
    const char *type = json_string_value(json_object_get(st, "type"));
    int tls = !json_is_false(json_object_get(st, "tls"));
    long port = (long)json_integer_value(json_object_get(st, "port"));
    struct imap_src *im;
    char url[600];
    char *pw = NULL, *tok = NULL;

    if (!host)
        host = (type && strcmp(type, "gmail") == 0) ? "imap.gmail.com" : NULL;
    if (!host || !user) {
        snprintf(err, errlen, "the IMAP source needs \"host\" and \"user\"");
        return -1;
    }
    if (json_object_get(st, "token_env") || json_object_get(st, "token_file")) {
        tok = s->secret(s->secret_arg, "token", err, errlen);
        if (!tok)
            return -1;
    } else {
        pw = s->secret(s->secret_arg, "password", err, errlen);
        if (!pw)
            return -1;
    }
    im = calloc(1, sizeof *im);
    im->s = s;
    im->gmail = type && strcmp(type, "gmail") == 0;
    if (port > 0)
        snprintf(url, sizeof url, "%s://%.500s:%ld/", tls ? "imaps" : "imap", host, port);
    else
        snprintf(url, sizeof url, "%s://%.500s/", tls ? "imaps" : "imap", host);
    im->url = strdup(url);
    im->easy = curl_easy_init();
    curl_easy_setopt(im->easy, CURLOPT_USERNAME, user);
    if (pw)
        curl_easy_setopt(im->easy, CURLOPT_PASSWORD, pw);
    if (tok)
        curl_easy_setopt(im->easy, CURLOPT_XOAUTH2_BEARER, tok);
    if (ca)
        curl_easy_setopt(im->easy, CURLOPT_CAINFO, ca);
    curl_easy_setopt(im->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(im->easy, CURLOPT_WRITEDATA, im);
    curl_easy_setopt(im->easy, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(im->easy, CURLOPT_DEBUGDATA, im);
    curl_easy_setopt(im->easy, CURLOPT_VERBOSE, 1L);
    /* libcurl strips answer lines longer than its buffer: take the largest
     * (10 MB); a message with a longer line fails with a precise error */
    curl_easy_setopt(im->easy, CURLOPT_BUFFERSIZE, (long)CURL_MAX_READ_SIZE);
    curl_easy_setopt(im->easy, CURLOPT_ERRORBUFFER, im->errbuf);
    curl_easy_setopt(im->easy, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(im->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(im->easy, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(im->easy, CURLOPT_NOSIGNAL, 1L);
    if (pw) {
        memset(pw, 0, strlen(pw));
        free(pw);
    }
    if (tok) {
        memset(tok, 0, strlen(tok));
        free(tok);
    }
    s->state = im;
    return 0;
}

static int imap_call(struct driver_source *s, struct driver_call *call, const char *op,
                     json_t *args, json_t **out, char *err, size_t errlen)
{
    struct imap_src *im = s->state;

    if (im->step != ST_IDLE) {
        snprintf(err, errlen, "one IMAP call at a time per source");
        return -1;
    }
    if (strcmp(op, "list") == 0) {
        if (im->indexed) {
            im->args = json_incref(args);
            *out = page(im);
            json_decref(im->args);
            im->args = NULL;
            return 0;
        }
        for (long i = 0; i < im->n; i++)
            free(im->items[i].path);
        im->n = 0;
        for (int i = 0; i < im->nfolders; i++)
            free(im->folders[i]);
        free(im->folders);
        im->folders = NULL;
        im->nfolders = 0;
        im->call = call;
        im->args = json_incref(args);
        start(im, ST_LIST, "LIST \"\" \"*\"");
        return DRIVER_PENDING;
    }
    if (strcmp(op, "fetch") == 0) {
        const char *path = json_string_value(json_object_get(args, "path"));
        const char *u = path ? strrchr(path, '/') : NULL, *v;
        char folder[1100], q[1200], cmd[1300];
        if (!u || u == path)
            goto bad;
        v = u - 1;
        while (v > path && *v != '/')
            v--;
        if (v == path || (size_t)(v - path) >= sizeof folder)
            goto bad;
        memcpy(folder, path, (size_t)(v - path));
        folder[v - path] = '\0';
        free(im->fetch_path);
        im->fetch_path = strdup(path);
        im->fetch_uid = strtoul(u + 1, NULL, 10);
        im->call = call;
        im->args = json_incref(args);
        free(im->selected);
        im->selected = strdup(folder);
        imap_quote(folder, q, sizeof q);
        snprintf(cmd, sizeof cmd, "EXAMINE %s", q);
        start(im, ST_FETCH_EXAMINE, cmd);
        return DRIVER_PENDING;
    bad:
        snprintf(err, errlen, "not a message path: '%s'", path ? path : "");
        return -1;
    }
    snprintf(err, errlen, "the imap driver has no operation '%s'", op);
    return -1;
}

static int imap_present(struct driver_source *s, const char *external_id)
{
    struct imap_src *im = s->state;
    const char *hash = strchr(external_id, '#');
    size_t n = hash ? (size_t)(hash - external_id) : strlen(external_id);
    long lo = 0, hi = im->n;

    if (!im->indexed)
        return -1;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        int c = strncmp(im->items[mid].path, external_id, n);
        if (c == 0 && im->items[mid].path[n] != '\0')
            c = 1;
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void imap_close(struct driver_source *s)
{
    struct imap_src *im = s->state;
    if (!im)
        return;
    if (im->step != ST_IDLE)
        netloop_cancel(s->net, im->easy);
    curl_easy_cleanup(im->easy);
    for (long i = 0; i < im->n; i++)
        free(im->items[i].path);
    free(im->items);
    for (int i = 0; i < im->nfolders; i++)
        free(im->folders[i]);
    free(im->folders);
    json_decref(im->args);
    free(im->selected);
    free(im->fetch_path);
    free(im->url);
    free(im->resp.data);
    free(im);
    s->state = NULL;
}

static const char *const imap_operations[] = {"list", "fetch", NULL};

const struct driver_ops driver_imap_ops = {"imap",       imap_open,  imap_call,
                                           imap_present, imap_close, imap_operations};
