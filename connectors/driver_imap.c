/*
 * IMAP and Gmail driver: mailboxes read through libcurl inside the master's
 * netloop. Only EXAMINE (read-only select), LIST, UID SEARCH and UID FETCH
 * BODY.PEEK[] are sent, so nothing is ever marked read or changed.
 *
 * Items are "FOLDER/UIDVALIDITY/UID" (UID zero-padded so paths sort in UID
 * order): a changed UIDVALIDITY makes every item of the folder new (clean
 * refetch) and the old ones absent (marked deleted by present()).
 *
 * Messages are fetched in batches: a fetch of one message asks the server for
 * it and the next unknown messages of the listing in one UID FETCH over a UID
 * set; the others wait in the workspace for the explorer's next calls, and the
 * next batch is asked for while the explorer still extracts the current one.
 *
 * Transient failures (connection reset, timeout, [UNAVAILABLE], [INUSE],
 * throttling, an unexpected BYE) are retried on a fresh connection after an
 * exponential backoff with jitter, through a netloop timer: nothing blocks.
 * When the retries run out the error says "connection", the explorer stops
 * and the source fails resumably; a message is never silently skipped. A
 * watchdog abandons a command after "timeout" s without a byte.
 *
 * Gmail (type gmail): only the \All folder; when CAPABILITY (asked after
 * login) has X-GM-EXT-1, the labels and ids come with each message and go
 * back to the explorer as the fetch result's "metadata".
 *
 * Listing: a folder of up to list_window messages is one UID SEARCH ALL; a
 * larger one is cut into windows by the UIDs at every list_window-th
 * sequence number (see imap_bounds_cmd). "folders" restricts the listing;
 * a named folder that cannot be read is recorded in s->failure.
 */
#include "driver.h"
#include "imap_parse.h"
#include "netloop.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum step { ST_IDLE, ST_LIST, ST_EXAMINE, ST_SEARCH, ST_FETCH, ST_PART, ST_CAPA, ST_BOUNDS };

#define IMAP_BATCH_DEFAULT 16
#define IMAP_BATCH_MAX 1000
#define IMAP_RETRIES_DEFAULT 4
#define IMAP_BACKOFF_BASE_MS 250
#define IMAP_BACKOFF_MAX_MS 8000
/* libcurl 7.88 counts every answer line of an IMAP command against its
 * 300 KiB response-header cap ("Too large response headers"; curl PR 11590
 * lifted it in 8.2), with some overhead per line: every command is shaped to
 * stay well under it. A batch asks for the first IMAP_ANSWER_BYTES/batch
 * bytes of each message (BODY.PEEK[]<0.n>); a message that fills its share
 * continues in partial fetches of IMAP_PART_BYTES; listings search windows
 * of UIDs. */
#define IMAP_ANSWER_BYTES (160 * 1024)
#define IMAP_PART_BYTES (150 * 1024)
/* The cap also counts again, for every untagged line, the rest of the chunk
 * libcurl read it in: without TLS (whose records bound a read to 16 KiB) a
 * batch of n messages can count (1 + n/2) times its size. When libcurl says
 * "Too large response headers", the source's batches, shares and parts are
 * halved (down to these floors) and the command is sent again at once. */
#define IMAP_ANSWER_MIN (16 * 1024)
#define IMAP_PART_MIN (16 * 1024)
#define IMAP_LIST_WINDOW 20000
/* window ends asked per FETCH (a 5.5 KB command, a 15 KB answer) */
#define IMAP_BOUNDS_MAX 500

struct imap_item {
    char *path; /* FOLDER/UIDVALIDITY/UID */
    unsigned long size;
};

struct cached {    /* a prefetched message waiting in the workspace */
    char *path;    /* FOLDER/UIDVALIDITY/UID */
    char name[32]; /* its file in payload_dir */
    size_t len;
    json_t *meta; /* what the server said beside it (Gmail labels), or NULL */
};

struct imap_src {
    CURL *easy;         /* one handle, one connection per source, reused */
    CURLSH *conn_share; /* the source's own connection cache (see conn_pool_new) */
    char *url;          /* imap[s]://host:port/ */
    char errbuf[CURL_ERROR_SIZE];
    struct imap_buf resp;
    struct driver_source *s;
    int gmail;
    int gm_ext;       /* the server advertises X-GM-EXT-1: labels and thread ids */
    int overflow;     /* the answer did not fit */
    size_t logout_at; /* resp.len when libcurl sent LOGOUT (SIZE_MAX: not yet) */
    int batch_max, retries_max;
    int batch_cur;              /* batch_max, halved after a too large answer */
    unsigned long answer_bytes; /* IMAP_ANSWER_BYTES, halved likewise */
    unsigned long part_bytes;   /* IMAP_PART_BYTES, halved likewise */
    long batch_from;            /* listing index a prefetch batch started at */
    /* the command in flight: step, text, the folder it needs selected */
    enum step step; /* ST_IDLE: nothing in flight or waiting */
    enum step main; /* the command an EXAMINE was sent for */
    char cmd[16384];
    char *cmd_folder;       /* NULL: needs no folder */
    unsigned long want_uv;  /* expected UIDVALIDITY of cmd_folder, 0: any */
    int force_examine;      /* listing: EXAMINE even if selected (for UIDVALIDITY) */
    char *conn_folder;      /* folder selected on the current connection */
    int attempt;            /* transient failures of this command so far */
    unsigned long long rng; /* jitter: per source, seeded from time and pid */
    int waiting;            /* a backoff timer is set */
    long timeout_ms;        /* a command with no byte from the server for this long is abandoned */
    unsigned long long rx;  /* bytes from the server so far (the watchdog's progress mark) */
    unsigned long long wd_rx;
    int wd_armed;
    /* the explorer's call being served (NULL during a prefetch) */
    struct driver_call *call;
    json_t *args;
    char *want_path; /* fetch: the message the call waits for */
    /* the index */
    const json_t *want_folders; /* the source's "folders" (borrowed), NULL: all */
    char **folders;
    int nfolders, cur;
    char **missing; /* folders asked for that the server lacks or refused */
    int nmissing;
    struct imap_buf missing_why;                        /* "'A' (why), 'B' (why)" */
    struct imap_buf server_folders;                     /* what LIST named, for the error */
    unsigned long uidvalidity, uidnext, win_lo, win_hi; /* listing: the UID window */
    long list_window;                                   /* messages per window (IMAP_LIST_WINDOW) */
    int bounds_max;          /* window ends per FETCH (IMAP_BOUNDS_MAX) */
    int bmode;               /* the folder is listed in windows cut by bounds */
    unsigned long exists;    /* its EXISTS */
    unsigned long bound_seq; /* the last sequence number whose UID was asked */
    unsigned long *bounds;   /* the UIDs ending the windows of that answer */
    long nbounds, ibound;
    struct imap_item *items;
    long n, alloc;
    int indexed;
    /* batches */
    unsigned long *batch; /* UIDs of the UID FETCH in flight */
    long nbatch;
    char *batch_prefix; /* "FOLDER/UIDVALIDITY/" of the batch */
    long next_idx;      /* listing index after the last item asked for */
    struct cached *cache;
    long ncache, acache;
    /* a large message coming in parts */
    unsigned long part_uid;
    unsigned long share; /* bytes asked per message in the batch */
    unsigned long *cont; /* UIDs of the batch that continue in parts */
    char (*cont_name)[32];
    json_t **cont_meta;
    long ncont, icont;
    unsigned long long part_off;
    size_t part_got;
    int part_fd;
    char part_name[32];
};

static void issue(struct imap_src *im);
static void on_done(void *arg, CURL *easy, CURLcode rc);
static void fetch_serve(struct imap_src *im);

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
    if (type == CURLINFO_HEADER_IN || type == CURLINFO_DATA_IN || type == CURLINFO_SSL_DATA_IN)
        im->rx += size;
    if (type == CURLINFO_HEADER_OUT && im->logout_at == SIZE_MAX) {
        const char *sp = memchr(data, ' ', size < 16 ? size : 16);
        if (sp && (size_t)(data + size - sp) >= 7 && strncasecmp(sp + 1, "LOGOUT", 6) == 0)
            im->logout_at = im->resp.len;
    }
    if (type == CURLINFO_HEADER_IN && !im->overflow && imap_buf_add(&im->resp, data, size) < 0)
        im->overflow = 1;
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct imap_item *)a)->path, ((const struct imap_item *)b)->path);
}

static void set_str(char **dst, const char *src)
{
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

/* Ends the explorer's call: out (consumed) or err. */
static void finish(struct imap_src *im, json_t *out, const char *err)
{
    struct driver_call *call = im->call;
    im->step = ST_IDLE;
    im->call = NULL;
    json_decref(im->args);
    im->args = NULL;
    free(im->want_path);
    im->want_path = NULL;
    if (call)
        im->s->complete(call, out, err);
    else
        json_decref(out);
}

/* The first tagged NO/BAD line of the answer (the server's reason), or "". */
static void status_line(const struct imap_src *im, char *out, size_t outlen)
{
    const char *p = im->resp.data, *end = p + im->resp.len;
    out[0] = '\0';
    while (p && p < end) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        const char *e = le ? le : end;
        const char *sp = memchr(p, ' ', (size_t)(e - p));
        if (p[0] != '*' && p[0] != '+' && sp && e - sp > 3 &&
            (strncmp(sp + 1, "NO", 2) == 0 || strncmp(sp + 1, "BAD", 3) == 0)) {
            while (e > sp && (e[-1] == '\r' || e[-1] == '\n'))
                e--;
            snprintf(out, outlen, "%.*s", (int)(e - sp - 1), sp + 1);
            return;
        }
        p = le ? le + 1 : end;
    }
}

/* Whether the server's answer says "try again later". */
static int server_busy(const struct imap_src *im, const char *status)
{
    const char *p = im->resp.data;
    /* an untagged BYE before libcurl's own LOGOUT (whose BYE says anything:
     * "Logging out" from Dovecot, "LOGOUT Requested" from Gmail) */
    const char *end = p + (im->logout_at < im->resp.len ? im->logout_at : im->resp.len);
    if (strstr(status, "[UNAVAILABLE]") || strstr(status, "[INUSE]") || strstr(status, "[LIMIT]") ||
        strstr(status, "hrottl"))
        return 1;
    while (p && p < end) {
        const char *le = memchr(p, '\n', (size_t)(end - p));
        if ((size_t)(end - p) > 6 && strncmp(p, "* BYE ", 6) == 0 &&
            strncmp(p + 6, "Logging out", 11) != 0)
            return 1;
        p = le ? le + 1 : end;
    }
    return 0;
}

static int transport_error(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
           rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING ||
           rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_WEIRD_SERVER_REPLY ||
           rc == CURLE_PARTIAL_FILE || rc == CURLE_AGAIN;
}

static const char *step_name(enum step st)
{
    static const char *const names[] = {"",          "LIST",      "EXAMINE",    "UID SEARCH",
                                        "UID FETCH", "UID FETCH", "CAPABILITY", "FETCH"};
    return names[st];
}

/* Drops the messages of the batch still waiting for their parts. */
static void parts_abandon(struct imap_src *im)
{
    if (im->part_fd >= 0) {
        close(im->part_fd);
        im->part_fd = -1;
    }
    for (; im->icont < im->ncont; im->icont++) {
        unlinkat(im->s->payload_dirfd, im->cont_name[im->icont], 0);
        json_decref(im->cont_meta[im->icont]);
        im->cont_meta[im->icont] = NULL;
    }
}

/* A failure that is not retried (or no longer): the call gets err. */
static void fail(struct imap_src *im, CURLcode rc, const char *status, int gave_up)
{
    char err[1400], what[600];

    if (im->step == ST_EXAMINE)
        snprintf(what, sizeof what, "EXAMINE of folder '%.500s'",
                 im->cmd_folder ? im->cmd_folder : "?");
    else
        snprintf(what, sizeof what, "%s", step_name(im->step));
    /* "connection" makes the explorer stop (the source fails, resumable)
     * instead of skipping every later message */
    snprintf(err, sizeof err, "IMAP %s: %s%s%s%s%s%s", what, gave_up ? "connection failed: " : "",
             curl_easy_strerror(rc), im->errbuf[0] ? ": " : "", im->errbuf, status[0] ? ": " : "",
             status);
    if (gave_up)
        snprintf(err + strlen(err), sizeof err - strlen(err), " (after %d attempts)",
                 im->attempt + 1);
    if (rc == CURLE_LOGIN_DENIED || rc == CURLE_PEER_FAILED_VERIFICATION ||
        rc == CURLE_SSL_CACERT_BADFILE)
        im->s->permanent = 1; /* a new attempt meets the same answer */
    set_str(&im->conn_folder, NULL);
    parts_abandon(im);
    finish(im, NULL, err);
}

/* The source's connections live in a cache of its own (a share handle),
 * never in the netloop's: libcurl gives an idle connection to any transfer
 * with the same host, port and credentials, so two sources of one account
 * (or one source and a Gmail label source) would swap connections, and with
 * them the folder each has selected: a UID SEARCH or UID FETCH would then run
 * in another folder, listing too few messages or storing one folder's
 * messages under another's ids. A new cache also closes the old connections,
 * so a retry is sure to run on a fresh one with nothing selected (what
 * conn_folder says). Only called while no transfer of the source runs. */
static int conn_pool_new(struct imap_src *im)
{
    CURLSH *sh = curl_share_init();

    if (!sh || curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
        if (sh)
            curl_share_cleanup(sh);
        return -1;
    }
    curl_easy_setopt(im->easy, CURLOPT_SHARE, NULL);
    if (im->conn_share)
        curl_share_cleanup(im->conn_share);
    im->conn_share = sh;
    curl_easy_setopt(im->easy, CURLOPT_SHARE, sh);
    set_str(&im->conn_folder, NULL);
    return 0;
}

static void on_timer(void *arg)
{
    struct imap_src *im = arg;
    im->waiting = 0;
    if (conn_pool_new(im) < 0) {
        fail(im, CURLE_OUT_OF_MEMORY, "cannot make a connection cache", 1);
        return;
    }
    issue(im);
}

/* Exponential backoff with jitter before the command is sent again. */
static void retry_later(struct imap_src *im)
{
    long ms = IMAP_BACKOFF_BASE_MS << (im->attempt < 10 ? im->attempt : 10);
    if (ms > IMAP_BACKOFF_MAX_MS)
        ms = IMAP_BACKOFF_MAX_MS;
    im->rng ^= im->rng << 13; /* xorshift64 */
    im->rng ^= im->rng >> 7;
    im->rng ^= im->rng << 17;
    ms = ms / 2 + (long)(im->rng % (unsigned long long)(ms / 2 + 1));
    im->attempt++;
    set_str(&im->conn_folder, NULL); /* a fresh connection has nothing selected */
    if (im->step == ST_EXAMINE)
        im->step = im->main;
    im->waiting = 1;
    if (netloop_timer(im->s->net, ms, on_timer, im) < 0) {
        im->waiting = 0;
        fail(im, CURLE_FAILED_INIT, "cannot set a timer", 1);
    }
}

/* libcurl 7.88 has no working timeout for an IMAP answer that stops coming
 * (CURLOPT_LOW_SPEED_* is not checked while it reads command answers, and
 * nothing wakes the multi handle): a per-command watchdog on the netloop
 * abandons a command after timeout_ms without a byte and retries it. */
static void on_watchdog(void *arg)
{
    struct imap_src *im = arg;
    char status[120];

    im->wd_armed = 0;
    if (im->step == ST_IDLE)
        return;
    if (im->rx != im->wd_rx) { /* still coming: look again later */
        im->wd_rx = im->rx;
        im->wd_armed = netloop_timer(im->s->net, im->timeout_ms, on_watchdog, im) == 0;
        return;
    }
    netloop_cancel(im->s->net, im->easy);
    snprintf(status, sizeof status, "no answer for %ld s", im->timeout_ms / 1000);
    snprintf(im->errbuf, sizeof im->errbuf, "the server stopped answering");
    if (im->attempt < im->retries_max) {
        retry_later(im);
        return;
    }
    fail(im, CURLE_OPERATION_TIMEDOUT, status, 1);
}

static void watchdog_stop(struct imap_src *im)
{
    if (im->wd_armed)
        netloop_timer_cancel(im->s->net, on_watchdog, im);
    im->wd_armed = 0;
}

static void send_now(struct imap_src *im, enum step st, const char *cmd)
{
    im->step = st;
    im->resp.len = 0;
    im->overflow = 0;
    im->logout_at = SIZE_MAX;
    im->errbuf[0] = '\0';
    curl_easy_setopt(im->easy, CURLOPT_URL, im->url);
    curl_easy_setopt(im->easy, CURLOPT_CUSTOMREQUEST, cmd); /* libcurl copies it */
    if (netloop_add(im->s->net, im->easy, on_done, im) < 0) {
        fail(im, CURLE_FAILED_INIT, "libcurl refused the transfer", 0);
        return;
    }
    watchdog_stop(im);
    im->wd_rx = im->rx;
    im->wd_armed = netloop_timer(im->s->net, im->timeout_ms, on_watchdog, im) == 0;
}

/* Sends the current command, after an EXAMINE of its folder when the
 * connection does not have that folder selected. */
static void issue(struct imap_src *im)
{
    if (im->cmd_folder &&
        (im->force_examine || !im->conn_folder || strcmp(im->conn_folder, im->cmd_folder) != 0)) {
        char q[1100], ex[1200];
        imap_quote(im->cmd_folder, q, sizeof q);
        snprintf(ex, sizeof ex, "EXAMINE %s", q);
        set_str(&im->conn_folder, NULL);
        send_now(im, ST_EXAMINE, ex);
        return;
    }
    send_now(im, im->main, im->cmd);
}

/* Starts command cmd of kind st, in folder (NULL: none). */
static void start(struct imap_src *im, enum step st, const char *folder, const char *cmd)
{
    im->main = st;
    im->attempt = 0;
    snprintf(im->cmd, sizeof im->cmd, "%s", cmd);
    set_str(&im->cmd_folder, folder);
    issue(im);
}

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
        json_array_append_new(arr,
                              json_pack("{s:s,s:I,s:b}", "path", im->items[i].path, "size",
                                        (json_int_t)im->items[i].size, "known",
                                        im->s->known(im->s->known_arg, im->items[i].path, "1")));
    json_object_set_new(out, "files", arr);
    if (i < im->n && i > lo)
        json_object_set_new(out, "next", json_string(im->items[i - 1].path));
    return out;
}

static int add_item(struct imap_src *im, const char *folder, unsigned long uv, unsigned long uid,
                    unsigned long size);

/* The listing asks for the UIDs and sizes of one window of UIDs at a time. */
static void size_window(struct imap_src *im)
{
    if (!im->uidnext) { /* the server gave no UIDNEXT: everything at once */
        im->win_hi = 0;
        snprintf(im->cmd, sizeof im->cmd, "UID SEARCH ALL");
        return;
    }
    im->win_hi = im->win_lo + IMAP_LIST_WINDOW - 1;
    snprintf(im->cmd, sizeof im->cmd, "UID SEARCH UID %lu:%lu", im->win_lo, im->win_hi);
}

/* The next FETCH of window ends (see imap_bounds_cmd), as the command. */
static void bounds_cmd(struct imap_src *im)
{
    im->nbounds = im->ibound = 0;
    im->bound_seq = imap_bounds_cmd(im->bound_seq, (unsigned long)im->list_window, im->exists,
                                    im->bounds_max, im->cmd, sizeof im->cmd);
    im->main = ST_BOUNDS;
}

/* The search of the window ending at bounds[ibound], as the command. */
static void bounds_window(struct imap_src *im)
{
    im->win_hi = im->bounds[im->ibound];
    snprintf(im->cmd, sizeof im->cmd, "UID SEARCH UID %lu:%lu", im->win_lo, im->win_hi);
    im->main = ST_SEARCH;
}

/* A folder the listing could not read: remembered (its documents are not
 * marked deleted) and named in the source's failure. */
static void note_missing(struct imap_src *im, const char *folder, const char *why)
{
    char **nm = realloc(im->missing, (size_t)(im->nmissing + 1) * sizeof *nm);
    char line[900];
    int n;

    if (!nm)
        return;
    im->missing = nm;
    if (!(im->missing[im->nmissing] = strdup(folder)))
        return;
    im->nmissing++;
    n = snprintf(line, sizeof line, "%s'%.300s' (%.500s)", im->missing_why.len ? ", " : "", folder,
                 why);
    imap_buf_add(&im->missing_why, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static int is_missing(const struct imap_src *im, const char *folder, size_t len)
{
    for (int i = 0; i < im->nmissing; i++)
        if (strlen(im->missing[i]) == len && strncmp(im->missing[i], folder, len) == 0)
            return 1;
    return 0;
}

/* The source's folders setting applied to what LIST named: the folders to
 * read, in the setting's order; the others named there are missing. */
static int pick_folders(struct imap_src *im)
{
    char **all = im->folders, **pick;
    int nall = im->nfolders, np = 0;
    size_t i;
    const json_t *v;

    for (int k = 0; k < nall; k++) {
        if (im->server_folders.len < 400)
            imap_buf_add(&im->server_folders, k ? ", " : "", k ? 2 : 0);
        if (im->server_folders.len < 400)
            imap_buf_add(&im->server_folders, all[k], strlen(all[k]));
    }
    if (im->server_folders.len >= 400)
        imap_buf_add(&im->server_folders, ", ...", 5);
    if (!im->want_folders)
        return 0;
    pick = calloc(json_array_size(im->want_folders) + 1, sizeof *pick);
    if (!pick)
        return -1;
    json_array_foreach(im->want_folders, i, v)
    {
        const char *want = json_string_value(v);
        int k;
        for (k = 0; k < nall; k++) /* INBOX is case-insensitive (RFC 3501 5.1) */
            if (all[k] && (strcmp(all[k], want) == 0 ||
                           (strcasecmp(want, "INBOX") == 0 && strcasecmp(all[k], "INBOX") == 0)))
                break;
        if (k == nall) {
            note_missing(im, want, "no such folder on the server");
            continue;
        }
        pick[np++] = all[k];
        all[k] = NULL;
    }
    for (int k = 0; k < nall; k++)
        free(all[k]);
    free(all);
    im->folders = pick;
    im->nfolders = np;
    return 0;
}

static void examine_next(struct imap_src *im)
{
    if (im->cur >= im->nfolders) {
        qsort(im->items, (size_t)im->n, sizeof *im->items, cmp_item);
        im->indexed = 1;
        im->force_examine = 0;
        if (im->nmissing)
            snprintf(im->s->failure, sizeof im->s->failure,
                     "IMAP folder%s %.300s; the other folders were read (the server's folders: "
                     "%.200s)",
                     im->nmissing > 1 ? "s" : "", im->missing_why.data,
                     im->server_folders.len ? im->server_folders.data : "none");
        finish(im, page(im), NULL);
        return;
    }
    im->force_examine = 1;
    im->win_lo = 0; /* set once the EXAMINE answered */
    start(im, ST_SEARCH, im->folders[im->cur], "");
}

static int add_item(struct imap_src *im, const char *folder, unsigned long uv, unsigned long uid,
                    unsigned long size)
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
    im->items[im->n].size = size;
    if (!im->items[im->n].path)
        return -1;
    im->n++;
    return 0;
}

/* Index of the first item whose path sorts at or after path. */
static long item_at(const struct imap_src *im, const char *path)
{
    long lo = 0, hi = im->n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (strcmp(im->items[mid].path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Splits FOLDER/UIDVALIDITY/UID; prefix_len covers "FOLDER/UIDVALIDITY/". */
static int split_path(const char *path, char *folder, size_t flen, unsigned long *uv,
                      unsigned long *uid, size_t *prefix_len)
{
    const char *u = path ? strrchr(path, '/') : NULL, *v;
    if (!u || u == path || !u[1])
        return -1;
    v = u - 1;
    while (v > path && *v != '/')
        v--;
    if (v == path || (size_t)(v - path) >= flen)
        return -1;
    memcpy(folder, path, (size_t)(v - path));
    folder[v - path] = '\0';
    *uv = strtoul(v + 1, NULL, 10);
    *uid = strtoul(u + 1, NULL, 10);
    *prefix_len = (size_t)(u + 1 - path);
    return *uid ? 0 : -1;
}

static void cache_drop(struct imap_src *im, long i)
{
    unlinkat(im->s->payload_dirfd, im->cache[i].name, 0);
    free(im->cache[i].path);
    json_decref(im->cache[i].meta);
    im->cache[i] = im->cache[--im->ncache];
}

static long cache_find(const struct imap_src *im, const char *path)
{
    for (long i = 0; i < im->ncache; i++)
        if (strcmp(im->cache[i].path, path) == 0)
            return i;
    return -1;
}

static void part_next(struct imap_src *im)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "UID FETCH %lu (UID BODY.PEEK[]<%llu.%d>)", im->part_uid,
             im->part_off, (int)im->part_bytes);
    snprintf(im->cmd, sizeof im->cmd, "%s", cmd);
    im->main = ST_PART;
    im->attempt = 0;
    issue(im);
}

/* Starts a UID FETCH of the message at listing index from (when given, the
 * explorer's want) and the next unknown messages of the same folder. */
static int batch_start(struct imap_src *im, long from, const char *want)
{
    char folder[1100], *p;
    unsigned long uv, uid;
    size_t plen, o;
    long i, limit = im->batch_cur;
    const char *first = want ? want : (from < im->n ? im->items[from].path : NULL);

    if (!first || split_path(first, folder, sizeof folder, &uv, &uid, &plen) < 0)
        return -1;
    free(im->batch);
    free(im->cont);
    free(im->cont_name);
    free(im->cont_meta);
    im->batch = malloc((size_t)(limit + 1) * sizeof *im->batch);
    im->cont = malloc((size_t)(limit + 1) * sizeof *im->cont);
    im->cont_name = malloc((size_t)(limit + 1) * sizeof *im->cont_name);
    im->cont_meta = calloc((size_t)(limit + 1), sizeof *im->cont_meta);
    im->ncont = im->icont = 0;
    if (!im->batch || !im->cont || !im->cont_name || !im->cont_meta)
        return -1;
    im->nbatch = 0;
    free(im->batch_prefix);
    im->batch_prefix = strndup(first, plen);
    if (want) {
        im->batch[im->nbatch++] = uid;
        i = im->indexed ? item_at(im, want) : im->n;
        if (i < im->n && strcmp(im->items[i].path, want) == 0)
            i++;
    } else {
        i = from;
    }
    im->batch_from = from;
    for (; i < im->n && im->nbatch < limit; i++) {
        const char *ip = im->items[i].path;
        if (strncmp(ip, first, plen) != 0)
            break; /* one folder per batch */
        if (cache_find(im, ip) >= 0 || (want && strcmp(ip, want) == 0) ||
            im->s->known(im->s->known_arg, ip, "1"))
            continue;
        im->batch[im->nbatch++] = strtoul(ip + plen, NULL, 10);
    }
    im->next_idx = i;
    if (!im->nbatch)
        return -1;
    im->share = im->answer_bytes / (unsigned long)im->nbatch;
    /* "UID FETCH 3,5:9 (UID BODY.PEEK[]<0.n>)": runs of UIDs as ranges */
    o = (size_t)snprintf(im->cmd, sizeof im->cmd, "UID FETCH ");
    for (long k = 0; k < im->nbatch && o + 40 < sizeof im->cmd;) {
        long e = k;
        while (e + 1 < im->nbatch && im->batch[e + 1] == im->batch[e] + 1)
            e++;
        if (e > k)
            o += (size_t)snprintf(im->cmd + o, sizeof im->cmd - o, "%s%lu:%lu", k ? "," : "",
                                  im->batch[k], im->batch[e]);
        else
            o += (size_t)snprintf(im->cmd + o, sizeof im->cmd - o, "%s%lu", k ? "," : "",
                                  im->batch[k]);
        k = e + 1;
        if (o + 40 >= sizeof im->cmd)
            im->nbatch = k; /* the command is full: the rest waits */
    }
    /* Gmail: labels and ids with the message (X-GM-EXT-1), one round trip */
    snprintf(im->cmd + o, sizeof im->cmd - o, " (UID %sBODY.PEEK[]<0.%lu>)",
             im->gm_ext ? "X-GM-MSGID X-GM-THRID X-GM-LABELS " : "", im->share);
    p = strdup(im->cmd);
    im->want_uv = uv;
    start(im, ST_FETCH, folder, p);
    free(p);
    return 0;
}

/* The next message of the batch that filled its share: the rest in parts. */
static int cont_next(struct imap_src *im)
{
    if (im->icont >= im->ncont)
        return 0;
    im->part_uid = im->cont[im->icont];
    snprintf(im->part_name, sizeof im->part_name, "%s", im->cont_name[im->icont]);
    im->part_off = im->share;
    im->part_fd =
        openat(im->s->payload_dirfd, im->part_name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (im->part_fd < 0)
        return -1;
    part_next(im);
    return 1;
}

/* Prefetch the next batch while the explorer works on this one. */
static void maybe_prefetch(struct imap_src *im)
{
    if (im->step != ST_IDLE || im->waiting || !im->indexed || im->ncache > im->batch_max / 2)
        return;
    while (im->next_idx < im->n) {
        if (batch_start(im, im->next_idx, NULL) == 0)
            return;
        if (im->next_idx < im->n && im->nbatch == 0)
            continue; /* all known in that folder: on to the next one */
        break;
    }
}

struct write_ctx {
    struct imap_src *im;
    int failed;
};

/* Adds a fetched message to the cache; meta (may be NULL) is consumed. */
static int cache_add(struct imap_src *im, const char *path, const char *name, size_t len,
                     json_t *meta)
{
    if (im->ncache == im->acache) {
        long na = im->acache ? im->acache * 2 : 64;
        struct cached *nc = realloc(im->cache, (size_t)na * sizeof *nc);
        if (!nc) {
            json_decref(meta);
            return -1;
        }
        im->cache = nc;
        im->acache = na;
    }
    struct cached *c = &im->cache[im->ncache];
    c->path = strdup(path);
    if (!c->path) {
        json_decref(meta);
        return -1;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    c->len = len;
    c->meta = meta;
    im->ncache++;
    return 0;
}

/* What Gmail says beside a message (X-GM-EXT-1) as document metadata: its
 * labels, its message and thread ids, and the thread id as a thread hint
 * (64-bit ids as decimal strings: JSON numbers lose them). NULL: nothing. */
static json_t *gmail_meta(const struct imap_msg *m)
{
    json_t *meta;
    char id[32];

    if (!m->has_labels && !m->gm_msgid && !m->gm_thrid)
        return NULL;
    meta = json_object();
    if (m->has_labels) {
        json_t *a = json_array();
        for (int i = 0; i < m->nlabels; i++) /* decoded, but the server's bytes: hostile */
            json_array_append_new(a, json_stringn_nocheck(m->labels[i], strlen(m->labels[i])));
        json_object_set_new(meta, "labels", a);
    }
    if (m->gm_msgid) {
        snprintf(id, sizeof id, "%llu", m->gm_msgid);
        json_object_set_new(meta, "gmail_msgid", json_string(id));
    }
    if (m->gm_thrid) {
        snprintf(id, sizeof id, "%llu", m->gm_thrid);
        json_object_set_new(meta, "gmail_thread_id", json_string(id));
        snprintf(id, sizeof id, "gmail:%llx", m->gm_thrid);
        json_object_set_new(meta, "thread_hint", json_string(id));
    }
    return meta;
}

static int on_message(void *arg, const struct imap_msg *m)
{
    struct write_ctx *w = arg;
    struct imap_src *im = w->im;
    char path[1300], name[32];
    unsigned long uid = m->uid;
    const char *body = m->body;
    size_t len = m->len;
    long k;
    int fd, r;

    if (!uid || !m->has_body)
        return 0;
    if (im->step == ST_PART) {
        if (uid != im->part_uid)
            return 0;
        if (write(im->part_fd, body, len) != (ssize_t)len) {
            w->failed = 1;
            return -1;
        }
        im->part_got = len;
        return 0;
    }
    for (k = 0; k < im->nbatch && im->batch[k] != uid; k++)
        ;
    if (k == im->nbatch)
        return 0; /* not asked for */
    snprintf(path, sizeof path, "%s%010lu", im->batch_prefix, uid);
    if (cache_find(im, path) >= 0)
        return 0;
    for (k = 0; k < im->ncont; k++)
        if (im->cont[k] == uid)
            return 0; /* the server sent it twice */
    snprintf(name, sizeof name, "m%06ld.eml", ++im->s->payload_seq);
    fd = openat(im->s->payload_dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                0644);
    if (fd < 0 || write(fd, body, len) != (ssize_t)len) {
        r = -1;
    } else if (len == im->share) { /* filled its share: more to come */
        snprintf(im->cont_name[im->ncont], sizeof im->cont_name[0], "%s", name);
        im->cont_meta[im->ncont] = gmail_meta(m);
        im->cont[im->ncont++] = uid;
        r = 0;
    } else {
        r = cache_add(im, path, name, len, gmail_meta(m));
    }
    if (r < 0) {
        if (fd >= 0) {
            close(fd);
            unlinkat(im->s->payload_dirfd, name, 0);
        }
        w->failed = 1;
        return -1;
    }
    close(fd);
    return 0;
}

/* The fetch tool's result for a cached message; the explorer owns the file
 * from now on, so the entry leaves the cache. */
static json_t *cache_take(struct imap_src *im, long i)
{
    char rel[64];
    json_t *out;

    snprintf(rel, sizeof rel, "%.20s/%s", im->s->payload_dir, im->cache[i].name);
    out = json_pack("{s:s,s:I,s:s}", "file", rel, "size", (json_int_t)im->cache[i].len, "version",
                    "1");
    if (im->cache[i].meta)
        json_object_set_new(out, "metadata", im->cache[i].meta);
    free(im->cache[i].path);
    im->cache[i] = im->cache[--im->ncache];
    return out;
}

/* Answers the waiting fetch call from the cache, or starts its batch. */
static void fetch_serve(struct imap_src *im)
{
    char err[1400];
    long i = cache_find(im, im->want_path);

    if (i >= 0) {
        finish(im, cache_take(im, i), NULL);
        maybe_prefetch(im);
        return;
    }
    /* the explorer moves on in listing order: what it passed is not wanted */
    for (long k = im->ncache - 1; k >= 0; k--)
        if (strcmp(im->cache[k].path, im->want_path) < 0)
            cache_drop(im, k);
    if (batch_start(im, 0, im->want_path) < 0) {
        snprintf(err, sizeof err, "not a message path: '%.1000s'", im->want_path);
        finish(im, NULL, err);
    }
}

/* libcurl refused a FETCH answer as too large: halve what this source asks
 * for at once and ask again on a fresh connection. 0 when already at the
 * floors (the failure stands). Nothing of the refused answer was stored. */
static int shrink_and_retry(struct imap_src *im)
{
    if (im->answer_bytes <= IMAP_ANSWER_MIN && im->part_bytes <= IMAP_PART_MIN &&
        im->batch_cur <= 1)
        return 0;
    im->answer_bytes =
        im->answer_bytes / 2 > IMAP_ANSWER_MIN ? im->answer_bytes / 2 : IMAP_ANSWER_MIN;
    im->part_bytes = im->part_bytes / 2 > IMAP_PART_MIN ? im->part_bytes / 2 : IMAP_PART_MIN;
    im->batch_cur = im->batch_cur > 1 ? im->batch_cur / 2 : 1;
    set_str(&im->conn_folder, NULL);
    if (conn_pool_new(im) < 0)
        return 0;
    if (im->step == ST_PART) { /* the same part, smaller */
        part_next(im);
        return 1;
    }
    im->step = ST_IDLE;
    if (im->call) {
        if (batch_start(im, 0, im->want_path) < 0)
            finish(im, NULL, "IMAP: cannot fetch the message again");
        return 1;
    }
    im->next_idx = im->batch_from; /* the prefetch again, smaller */
    maybe_prefetch(im);
    return 1;
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
    struct imap_src *im = arg;
    char status[300], err[1400];
    long conns = 0;
    int r;

    watchdog_stop(im);
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns);
    status_line(im, status, sizeof status);
    if (rc != CURLE_OK && (im->step == ST_FETCH || im->step == ST_PART) &&
        strstr(im->errbuf, "Too large response") && shrink_and_retry(im))
        return;
    if (rc == CURLE_QUOTE_ERROR && im->step == ST_EXAMINE && im->main == ST_SEARCH &&
        im->win_lo == 0 && !server_busy(im, status)) {
        /* the server refused to open a listed folder: read the others */
        note_missing(im, im->cmd_folder, status[0] ? status : "EXAMINE refused");
        set_str(&im->conn_folder, NULL);
        im->cur++;
        examine_next(im);
        return;
    }
    if (rc != CURLE_OK) {
        int transient =
            transport_error(rc) || (rc == CURLE_QUOTE_ERROR && server_busy(im, status)) ||
            /* libcurl replaced a dead connection under a command
             * that needs a selected folder */
            (rc == CURLE_QUOTE_ERROR && conns > 0 && im->step != ST_EXAMINE && im->cmd_folder);
        if (transient && im->attempt < im->retries_max) {
            retry_later(im);
            return;
        }
        fail(im, rc, status, transient);
        return;
    }
    if (im->overflow) {
        if (im->step == ST_FETCH && im->nbatch > 1 && im->call) {
            /* too big together: ask for the wanted message alone */
            int b = im->batch_cur;
            im->batch_cur = 1;
            im->step = ST_IDLE;
            if (batch_start(im, 0, im->want_path) < 0)
                finish(im, NULL, "IMAP: cannot fetch the message again");
            im->batch_cur = b;
            return;
        }
        finish(im, NULL, "IMAP: the server's answer is over 512 MiB");
        return;
    }
    switch (im->step) {
    case ST_EXAMINE: {
        int found = 0;
        unsigned long uv = imap_parse_uidvalidity(im->resp.data, im->resp.len);
        unsigned long exists = imap_parse_exists(im->resp.data, im->resp.len, &found);
        set_str(&im->conn_folder, im->cmd_folder);
        im->force_examine = 0;
        if ((im->main == ST_FETCH || im->main == ST_PART) && uv != im->want_uv) {
            im->indexed = 0; /* list again: the folder was recreated */
            snprintf(err, sizeof err,
                     "IMAP: the UIDVALIDITY of folder '%.1000s' changed since the listing "
                     "(list again)",
                     im->cmd_folder);
            finish(im, NULL, err);
            return;
        }
        if (im->main == ST_SEARCH && im->win_lo == 0) { /* not on a retry */
            im->uidvalidity = uv;
            if (found && exists == 0) {
                im->cur++; /* an empty folder: nothing to list */
                examine_next(im);
                return;
            }
            im->uidnext = imap_parse_uidnext(im->resp.data, im->resp.len);
            im->win_lo = 1;
            im->exists = found ? exists : 0;
            im->bmode = found && exists > (unsigned long)im->list_window;
            if (im->bmode) { /* windows of list_window messages, whatever the UIDs */
                im->bound_seq = 0;
                bounds_cmd(im);
            } else if (found) { /* few enough for one answer */
                im->win_hi = 0;
                snprintf(im->cmd, sizeof im->cmd, "UID SEARCH ALL");
            } else {
                size_window(im);
            }
        }
        send_now(im, im->main, im->cmd);
        return;
    }
    case ST_CAPA:
        im->gm_ext = imap_has_capability(im->resp.data, im->resp.len, "X-GM-EXT-1");
        start(im, ST_LIST, NULL, "LIST \"\" \"*\"");
        return;
    case ST_LIST:
        if (imap_parse_list(im->resp.data, im->resp.len, &im->folders, &im->nfolders, im->gmail) <
            0) {
            finish(im, NULL, "IMAP LIST: unreadable answer");
            return;
        }
        if ((im->gmail && !im->nfolders) || im->want_folders) {
            /* no All Mail folder (not Gmail after all), or folders named:
             * every folder, then the named ones */
            for (int k = 0; k < im->nfolders; k++)
                free(im->folders[k]);
            free(im->folders);
            if (imap_parse_list(im->resp.data, im->resp.len, &im->folders, &im->nfolders, 0) < 0) {
                finish(im, NULL, "IMAP LIST: unreadable answer");
                return;
            }
        }
        if (pick_folders(im) < 0) {
            finish(im, NULL, "out of memory");
            return;
        }
        im->cur = 0;
        examine_next(im);
        return;
    case ST_BOUNDS:
        free(im->bounds);
        im->bounds = malloc(IMAP_BOUNDS_MAX * sizeof *im->bounds);
        if (!im->bounds) {
            finish(im, NULL, "out of memory");
            return;
        }
        im->nbounds = imap_parse_bounds(im->resp.data, im->resp.len, im->win_lo - 1, im->bounds,
                                        IMAP_BOUNDS_MAX);
        im->ibound = 0;
        im->attempt = 0;
        if (!im->nbounds) { /* the server named no UID (expunged meanwhile): the rest at once */
            im->win_hi = 0;
            im->bound_seq = im->exists;
            snprintf(im->cmd, sizeof im->cmd, "UID SEARCH UID %lu:*", im->win_lo);
            im->main = ST_SEARCH;
            issue(im);
            return;
        }
        bounds_window(im);
        issue(im);
        return;
    case ST_SEARCH: {
        unsigned long hi = im->win_hi;
        unsigned long *uids = NULL;
        long nu = imap_parse_search(im->resp.data, im->resp.len, &uids);
        for (long i = 0; i < nu; i++) /* "lo:hi" past the last UID means the last one */
            if (uids[i] >= im->win_lo && (!im->win_hi || uids[i] <= im->win_hi) &&
                add_item(im, im->folders[im->cur], im->uidvalidity, uids[i], 0) < 0) {
                free(uids);
                finish(im, NULL, "out of memory");
                return;
            }
        free(uids);
        if (im->bmode) {
            if (hi) { /* the next window, or the next window ends */
                im->win_lo = hi + 1;
                im->attempt = 0;
                if (++im->ibound < im->nbounds) {
                    bounds_window(im);
                    issue(im);
                    return;
                }
                if (im->bound_seq < im->exists) {
                    bounds_cmd(im);
                    issue(im);
                    return;
                }
            }
        } else if (im->uidnext && hi && hi + 1 < im->uidnext) {
            im->win_lo = hi + 1; /* the next UID window of this folder */
            size_window(im);
            im->attempt = 0;
            issue(im);
            return;
        }
        im->cur++;
        examine_next(im);
        return;
    }
    case ST_PART: {
        struct write_ctx w = {im, 0};
        char path[1300];
        im->part_got = 0;
        if (imap_parse_fetch_msgs(im->resp.data, im->resp.len, on_message, &w) < 0) {
            parts_abandon(im);
            finish(im, NULL,
                   w.failed ? "cannot write the payload file"
                            : "IMAP UID FETCH: unreadable answer");
            return;
        }
        im->part_off += im->part_got;
        if (im->part_got == im->part_bytes &&
            im->part_off < (unsigned long long)DRIVER_MAX_PAYLOAD) {
            part_next(im);
            return;
        }
        close(im->part_fd);
        im->part_fd = -1;
        snprintf(path, sizeof path, "%s%010lu", im->batch_prefix, im->part_uid);
        if (cache_add(im, path, im->part_name, (size_t)im->part_off, im->cont_meta[im->icont]) < 0)
            unlinkat(im->s->payload_dirfd, im->part_name, 0);
        im->cont_meta[im->icont] = NULL;
        im->icont++;
        goto parts;
    }
    case ST_FETCH: {
        struct write_ctx w = {im, 0};
        if (imap_parse_fetch_msgs(im->resp.data, im->resp.len, on_message, &w) < 0) {
            finish(im, NULL,
                   w.failed ? "cannot write the payload file"
                            : "IMAP UID FETCH: unreadable answer");
            return;
        }
    parts:
        if ((r = cont_next(im)) != 0) {
            if (r < 0)
                finish(im, NULL, "cannot reopen the payload file");
            return;
        }
        im->step = ST_IDLE;
        if (im->call) {
            if (cache_find(im, im->want_path) < 0) {
                snprintf(err, sizeof err, "IMAP: message %.1000s is gone or unreadable",
                         im->want_path);
                finish(im, NULL, err);
                maybe_prefetch(im);
                return;
            }
            fetch_serve(im);
            return;
        }
        maybe_prefetch(im);
        return;
    }
    default:
        return;
    }
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
    json_t *bj = json_object_get(st, "batch"), *rj = json_object_get(st, "retries");
    json_t *tj = json_object_get(st, "timeout");
    long timeout = 60;
    struct imap_src *im;
    char url[600];
    char *pw = NULL, *tok = NULL;

    if (!host)
        host = (type && strcmp(type, "gmail") == 0) ? "imap.gmail.com" : NULL;
    if (!host || !user) {
        snprintf(err, errlen, "the IMAP source needs \"host\" and \"user\"");
        return -1;
    }
    if ((bj && (!json_is_integer(bj) || json_integer_value(bj) < 1 ||
                json_integer_value(bj) > IMAP_BATCH_MAX)) ||
        (rj &&
         (!json_is_integer(rj) || json_integer_value(rj) < 0 || json_integer_value(rj) > 20))) {
        snprintf(err, errlen, "the IMAP source's \"batch\" must be 1 to %d and \"retries\" 0 to 20",
                 IMAP_BATCH_MAX);
        return -1;
    }
    if (tj) {
        if (!json_is_integer(tj) || json_integer_value(tj) < 1 || json_integer_value(tj) > 3600) {
            snprintf(err, errlen, "the IMAP source's \"timeout\" must be 1 to 3600 seconds");
            return -1;
        }
        timeout = (long)json_integer_value(tj);
    }
    {
        const json_t *fo = json_object_get(st, "folders"), *v;
        size_t i;
        if (fo && (!json_is_array(fo) || !json_array_size(fo) || json_array_size(fo) > 1000)) {
            snprintf(err, errlen,
                     "the IMAP source's \"folders\" must be a list of 1 to 1000 names");
            return -1;
        }
        json_array_foreach(fo, i, v) if (!json_is_string(v) || !json_string_length(v) ||
                                         json_string_length(v) > 1000)
        {
            snprintf(err, errlen, "the IMAP source's \"folders\" item %zu must be a folder name",
                     i + 1);
            return -1;
        }
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
    if (!im) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    im->s = s;
    im->part_fd = -1;
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        im->rng = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^
                  ((unsigned long long)getpid() << 40) ^ (unsigned long long)(uintptr_t)im;
        if (!im->rng)
            im->rng = 0x9e3779b97f4a7c15ULL;
    }
    im->gmail = type && strcmp(type, "gmail") == 0;
    im->want_folders = json_object_get(st, "folders");
    im->batch_max = bj ? (int)json_integer_value(bj) : IMAP_BATCH_DEFAULT;
    im->batch_cur = im->batch_max;
    im->answer_bytes = IMAP_ANSWER_BYTES;
    im->part_bytes = IMAP_PART_BYTES;
    im->retries_max = rj ? (int)json_integer_value(rj) : IMAP_RETRIES_DEFAULT;
    im->timeout_ms = timeout * 1000;
    im->list_window = IMAP_LIST_WINDOW;
    if (getenv("TRAWL_IMAP_LIST_WINDOW")) /* tests: many windows from a small folder */
        im->list_window = atol(getenv("TRAWL_IMAP_LIST_WINDOW"));
    if (im->list_window < 1 || im->list_window > IMAP_LIST_WINDOW)
        im->list_window = IMAP_LIST_WINDOW;
    im->bounds_max = IMAP_BOUNDS_MAX;
    if (getenv("TRAWL_IMAP_LIST_BOUNDS")) /* tests: window ends over several FETCHes */
        im->bounds_max = atoi(getenv("TRAWL_IMAP_LIST_BOUNDS"));
    if (im->bounds_max < 1 || im->bounds_max > IMAP_BOUNDS_MAX)
        im->bounds_max = IMAP_BOUNDS_MAX;
    if (port > 0)
        snprintf(url, sizeof url, "%s://%.500s:%ld/", tls ? "imaps" : "imap", host, port);
    else
        snprintf(url, sizeof url, "%s://%.500s/", tls ? "imaps" : "imap", host);
    im->url = strdup(url);
    im->easy = curl_easy_init();
    if (!im->easy || conn_pool_new(im) < 0) {
        if (im->easy)
            curl_easy_cleanup(im->easy);
        free(im->url);
        free(im);
        if (pw) {
            memset(pw, 0, strlen(pw));
            free(pw);
        }
        if (tok) {
            memset(tok, 0, strlen(tok));
            free(tok);
        }
        snprintf(err, errlen, "cannot set up libcurl");
        return -1;
    }
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
    /* a server that stops answering: abandoned after timeout s, then retried */
    curl_easy_setopt(im->easy, CURLOPT_CONNECTTIMEOUT, timeout < 20 ? timeout : 20L);
    curl_easy_setopt(im->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(im->easy, CURLOPT_LOW_SPEED_TIME, timeout);
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

static void index_clear(struct imap_src *im)
{
    for (long i = 0; i < im->n; i++)
        free(im->items[i].path);
    im->n = 0;
    for (int i = 0; i < im->nfolders; i++)
        free(im->folders[i]);
    free(im->folders);
    im->folders = NULL;
    im->nfolders = 0;
    im->indexed = 0;
    for (int i = 0; i < im->nmissing; i++)
        free(im->missing[i]);
    free(im->missing);
    im->missing = NULL;
    im->nmissing = 0;
    im->missing_why.len = 0;
    im->server_folders.len = 0;
    if (im->missing_why.data)
        im->missing_why.data[0] = '\0';
    if (im->server_folders.data)
        im->server_folders.data[0] = '\0';
    im->s->failure[0] = '\0';
}

static int imap_call(struct driver_source *s, struct driver_call *call, const char *op,
                     json_t *args, json_t **out, char *err, size_t errlen)
{
    struct imap_src *im = s->state;

    if (im->call) {
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
        if (im->step != ST_IDLE || im->waiting) {
            snprintf(err, errlen, "IMAP: a fetch is still in flight");
            return -1;
        }
        index_clear(im);
        im->call = call;
        im->args = json_incref(args);
        /* Gmail: the capabilities after login say whether labels can be asked */
        if (im->gmail)
            start(im, ST_CAPA, NULL, "CAPABILITY");
        else
            start(im, ST_LIST, NULL, "LIST \"\" \"*\"");
        return DRIVER_PENDING;
    }
    if (strcmp(op, "fetch") == 0) {
        const char *path = json_string_value(json_object_get(args, "path"));
        char folder[1100];
        unsigned long uv, uid;
        size_t plen;
        long i;

        if (split_path(path, folder, sizeof folder, &uv, &uid, &plen) < 0) {
            snprintf(err, errlen, "not a message path: '%s'", path ? path : "");
            return -1;
        }
        if (im->step == ST_IDLE && !im->waiting && (i = cache_find(im, path)) >= 0) {
            *out = cache_take(im, i);
            maybe_prefetch(im);
            return 0;
        }
        im->call = call;
        im->want_path = strdup(path);
        if (im->step == ST_IDLE && !im->waiting)
            fetch_serve(im); /* else: served when the prefetch in flight ends */
        return DRIVER_PENDING;
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
    {
        /* a folder that could not be read: its messages may well be there */
        const char *u = memrchr(external_id, '/', n),
                   *v = u ? memrchr(external_id, '/', (size_t)(u - external_id)) : NULL;
        if (v && is_missing(im, external_id, (size_t)(v - external_id)))
            return -1;
    }
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
    if (im->waiting)
        netloop_timer_cancel(s->net, on_timer, im);
    watchdog_stop(im);
    if (im->step != ST_IDLE)
        netloop_cancel(s->net, im->easy);
    curl_easy_cleanup(im->easy);
    if (im->conn_share) /* after the handle: closes the source's connections */
        curl_share_cleanup(im->conn_share);
    while (im->ncache)
        cache_drop(im, im->ncache - 1);
    parts_abandon(im);
    free(im->cache);
    index_clear(im);
    free(im->items);
    json_decref(im->args);
    free(im->want_path);
    free(im->cmd_folder);
    free(im->conn_folder);
    free(im->batch);
    free(im->cont);
    free(im->cont_name);
    free(im->cont_meta);
    free(im->bounds);
    free(im->batch_prefix);
    free(im->url);
    free(im->resp.data);
    free(im->missing_why.data);
    free(im->server_folders.data);
    free(im);
    s->state = NULL;
}

static const char *const imap_operations[] = {"list", "fetch", NULL};

const struct driver_ops driver_imap_ops = {"imap",       imap_open,  imap_call,
                                           imap_present, imap_close, imap_operations};
