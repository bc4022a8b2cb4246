/*
 * The declarative HTTP driver: a toolkit's "http" section describes requests,
 * authentication, record selection, pagination, content download and
 * incremental sync, in the way of Airbyte's low-code manifests; this file
 * runs it on the master's libcurl multi loop. Credentials are read and used
 * here only: an explorer sees records and payload files, never a header.
 *
 * Hosts are shared by every source of the run: one request budget (a sliding
 * window of N requests per W seconds) and one circuit breaker per
 * scheme://host:port.
 */
#include "driver.h"
#include "driver_fs.h"
#include "http_template.h"
#include "netloop.h"

#include "buf.h"
#include "jsonschema.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_BODY ((size_t)64 << 20)
#define HTTP_MAX_HOSTS 64
#define HTTP_MAX_BUDGET 10000
#define HTTP_MAX_PAGES 100000
/* Contents a listing carries inline: per record by default, and per answer (well
 * under the protocol's frame limit) */
#define HTTP_INLINE_MAX ((size_t)64 << 10)
#define HTTP_INLINE_PAGE ((size_t)2 << 20)

/* ---- hosts: request budget and circuit breaker, shared by all sources ------------- */

struct http_host {
    char key[256];
    int budget_n;    /* requests per window (0: none) */
    double budget_w; /* window in seconds */
    double *sent;    /* ring of the last budget_n requests' end times (HUGE_VAL: in flight) */
    int sent_i, sent_n;
    int fails;         /* consecutive failures */
    double open_until; /* breaker open until this time */
    long requests;     /* sent, for the log */
};

static struct http_host hosts[HTTP_MAX_HOSTS];
static int nhosts;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct http_host *host_get(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, key[256];
    struct http_host *h = NULL;

    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        snprintf(key, sizeof key, "%s://%s:%s", scheme, host, port ? port : "");
        for (int i = 0; i < nhosts; i++)
            if (strcmp(hosts[i].key, key) == 0)
                h = &hosts[i];
        if (!h && nhosts < HTTP_MAX_HOSTS) {
            h = &hosts[nhosts++];
            memset(h, 0, sizeof *h);
            snprintf(h->key, sizeof h->key, "%s", key);
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return h;
}

/* The tightest budget any source asks for wins. */
static void host_budget(struct http_host *h, int n, double w)
{
    if (n <= 0 || w <= 0)
        return;
    if (n > HTTP_MAX_BUDGET)
        n = HTTP_MAX_BUDGET;
    if (h->budget_n && (double)h->budget_n / h->budget_w <= (double)n / w)
        return;
    free(h->sent);
    h->sent = calloc((size_t)n, sizeof *h->sent);
    h->budget_n = h->sent ? n : 0;
    h->budget_w = w;
    h->sent_i = h->sent_n = 0;
}

/* 0 when a request may go now (and counts it in *slot), else milliseconds to wait.
 * The window is counted from the end of the n-th last request, not its start: the
 * server saw it arrive no later than that, so however long a request travels, the
 * server never sees more than n in any window. */
static long host_admit(struct http_host *h, int *slot)
{
    double now = mono_s();

    *slot = -1;
    if (h->budget_n) {
        if (h->sent_n == h->budget_n) {
            double oldest = h->sent[h->sent_i]; /* the n-th last request */
            if (oldest == HUGE_VAL)
                return 2; /* still in flight */
            if (now - oldest < h->budget_w)
                return (long)((h->budget_w - (now - oldest)) * 1000) + 1;
        }
        h->sent[h->sent_i] = HUGE_VAL;
        *slot = h->sent_i;
        h->sent_i = (h->sent_i + 1) % h->budget_n;
        if (h->sent_n < h->budget_n)
            h->sent_n++;
    }
    h->requests++;
    return 0;
}

/* The request of this slot has ended (answered, failed or dropped). */
static void host_release(struct http_host *h, int *slot)
{
    if (*slot >= 0 && *slot < h->budget_n)
        h->sent[*slot] = mono_s();
    *slot = -1;
}

/* ---- sources ---------------------------------------------------------------------- */

enum req_kind { REQ_LIST, REQ_FETCH, REQ_TOOL, REQ_TOKEN, REQ_LOGIN };

struct http_src;

struct req {
    struct http_src *hs;
    enum req_kind kind;
    struct driver_call *call;
    const json_t *spec; /* the list/fetch/tool spec */
    json_t *ctx;        /* template context */
    json_t *acc;        /* fetch/tool: records gathered over pages */
    char *url, *body, *ctype;
    const char *method;
    CURL *easy;
    struct curl_slist *hdrs;
    struct buf resp;
    char retry_after[64], link_next[2048];
    int attempt, pages, auth_retried, limit;
    int in_flight, waiting; /* in the netloop; on a timer */
    struct http_host *host;
    char file[64];    /* fetch: payload name */
    int step;         /* login: step index */
    int pre;          /* list: the incremental 'start' request, before the first page */
    int slot;         /* its place in the host's budget ring while in flight, or -1 */
    int ahead;        /* list: a page read ahead (1: in flight, 2: answered, kept) */
    struct req *next; /* in hs->reqs */
};

struct http_src {
    struct driver_source *s;
    const json_t *cfg; /* the toolkit's "http" section */
    json_t *base;      /* settings, for templates */
    char *base_url;
    /* auth */
    const char *auth_type;
    char *token; /* bearer, api key or OAuth access token */
    char *user, *password;
    char *refresh_token, *client_secret;
    int refreshing, refreshes, logged_in, logging_in;
    char auth_err[300];
    CURLSH *share; /* cookies and connections of this source */
    /* retry and breaker settings */
    int retry_max, breaker_n;
    long base_ms, max_ms, timeout_s;
    double breaker_s;
    /* listing */
    const json_t *list; /* the list spec in use (full or incremental) */
    int incremental;
    json_t *page;    /* the next page's state: object, NULL before the first */
    int list_done;   /* no more pages */
    int complete;    /* a listing ran to its end in this run */
    json_t *resume;  /* last path of a page -> page state after it */
    json_t *items;   /* path -> record */
    json_t *seen;    /* path -> true */
    json_t *deleted; /* path -> true */
    json_t *atts;    /* attachment path -> {"record", "key", "attachment"} */
    json_t *att_of;  /* parent path -> true: its attachments were all listed this run */
    json_t *cursor;  /* highest cursor value seen in this run */
    char *last_path;
    struct req *reqs;    /* in flight or waiting */
    struct req *blocked; /* waiting for a token or a login */
    struct req *ahead;   /* the listing's next page, asked for before the explorer does */
    char *ahead_after;   /* the 'after' that page answers */
};

static void req_send(struct req *r);
static void on_success(struct req *r, long status);
static void req_fail(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void auth_start(struct http_src *hs);

static char *secret(struct http_src *hs, const char *field, char *err, size_t errlen)
{
    return hs->s->secret(hs->s->secret_arg, field, err, errlen);
}

static void wipe_free(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static int cfg_int(const json_t *o, const char *k, int dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static double cfg_num(const json_t *o, const char *k, double dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

static const char *cfg_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A template filled from the source's context; NULL (with err) on a template error. */
static char *fill(struct http_src *hs, const json_t *ctx, const char *tpl, enum http_enc enc,
                  int *missing, char *err, size_t errlen)
{
    (void)hs;
    return http_render(tpl ? tpl : "", ctx, enc, missing, err, errlen);
}

static int http_open(struct driver_source *s, char *err, size_t errlen)
{
    const json_t *cfg = json_object_get(s->toolkit, "http"), *auth, *rate, *retry, *br;
    struct http_src *hs;
    char *url;
    int missing;

    if (!json_is_object(cfg)) {
        snprintf(err, errlen, "the toolkit has no \"http\" section");
        return -1;
    }
    hs = calloc(1, sizeof *hs);
    if (!hs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    hs->s = s;
    hs->cfg = cfg;
    hs->base = json_pack("{s:O}", "settings", (json_t *)s->settings);
    url = fill(hs, hs->base, cfg_str(cfg, "base_url"), HTTP_ENC_RAW, &missing, err, errlen);
    if (!url || missing || !*url) {
        if (url)
            snprintf(err, errlen, "source '%s': the base URL '%s' needs settings it lacks", s->name,
                     cfg_str(cfg, "base_url") ? cfg_str(cfg, "base_url") : "");
        free(url);
        goto fail;
    }
    while (*url && url[strlen(url) - 1] == '/')
        url[strlen(url) - 1] = '\0';
    hs->base_url = url;
    hs->share = curl_share_init();
    curl_share_setopt(hs->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    curl_share_setopt(hs->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    retry = json_object_get(cfg, "retry");
    hs->retry_max = cfg_int(json_object_get(s->settings, "retry"), "max", cfg_int(retry, "max", 5));
    hs->base_ms = cfg_int(retry, "base_ms", 200);
    hs->max_ms = cfg_int(retry, "max_ms", 30000);
    hs->timeout_s = cfg_int(cfg, "timeout_s", 120);
    if (json_is_integer(json_object_get(s->settings, "timeout_s")))
        hs->timeout_s = (long)json_integer_value(json_object_get(s->settings, "timeout_s"));
    br = json_object_get(cfg, "breaker");
    hs->breaker_n = cfg_int(br, "failures", 10);
    hs->breaker_s = cfg_num(br, "cooldown_s", 60);
    /* the budget: the toolkit's default, or the source's own ("rate": {...}) */
    rate = json_object_get(s->settings, "rate");
    if (!json_is_object(rate))
        rate = json_object_get(cfg, "rate");
    struct http_host *h = host_get(hs->base_url);
    if (!h) {
        snprintf(err, errlen, "source '%s': '%s' is not a URL (or too many hosts)", s->name,
                 hs->base_url);
        goto fail;
    }
    host_budget(h, cfg_int(rate, "requests", 0), cfg_num(rate, "window_s", 1));
    /* credentials: read now, so a missing one fails the source at once */
    auth = json_object_get(cfg, "auth");
    hs->auth_type = cfg_str(auth, "type") ? cfg_str(auth, "type") : "none";
    if (strcmp(hs->auth_type, "bearer") == 0 || strcmp(hs->auth_type, "api_key") == 0) {
        hs->token =
            secret(hs, cfg_str(auth, "secret") ? cfg_str(auth, "secret") : "token", err, errlen);
        if (!hs->token)
            goto fail;
    } else if (strcmp(hs->auth_type, "basic") == 0 || strcmp(hs->auth_type, "session") == 0) {
        hs->user =
            fill(hs, hs->base, cfg_str(auth, "user") ? cfg_str(auth, "user") : "{{settings.user}}",
                 HTTP_ENC_RAW, &missing, err, errlen);
        if (!hs->user || missing) {
            if (hs->user)
                snprintf(err, errlen, "source '%s' needs a \"user\"", s->name);
            goto fail;
        }
        hs->password =
            secret(hs, cfg_str(auth, "secret") ? cfg_str(auth, "secret") : "password", err, errlen);
        if (!hs->password)
            goto fail;
    } else if (strcmp(hs->auth_type, "oauth2") == 0) {
        hs->refresh_token = secret(hs, "refresh_token", err, errlen);
        if (!hs->refresh_token)
            goto fail;
        hs->client_secret = secret(hs, "client_secret", err, errlen);
        if (!hs->client_secret)
            goto fail;
        /* an access token is optional: without one the first request refreshes */
        if (json_object_get(s->settings, "token_env") || json_object_get(s->settings, "token_file"))
            hs->token = secret(hs, "token", err, errlen);
    } else if (strcmp(hs->auth_type, "none") != 0) {
        snprintf(err, errlen, "unknown auth type '%s'", hs->auth_type);
        goto fail;
    }
    hs->resume = json_object();
    hs->items = json_object();
    hs->seen = json_object();
    hs->deleted = json_object();
    hs->atts = json_object();
    hs->att_of = json_object();
    s->state = hs;
    return 0;
fail:
    s->state = hs;
    s->state = NULL;
    wipe_free(hs->token);
    wipe_free(hs->password);
    wipe_free(hs->refresh_token);
    wipe_free(hs->client_secret);
    free(hs->user);
    free(hs->base_url);
    if (hs->share)
        curl_share_cleanup(hs->share);
    json_decref(hs->base);
    free(hs);
    return -1;
}

/* ---- requests --------------------------------------------------------------------- */

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct req *r = arg;
    return buf_add(&r->resp, p, sz * n) < 0 ? 0 : sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct req *r = arg;
    size_t len = sz * n;

    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        size_t k = len - 12 < sizeof r->retry_after ? len - 12 : sizeof r->retry_after - 1;
        memcpy(r->retry_after, p + 12, k);
        r->retry_after[k] = '\0';
    } else if (len > 5 && strncasecmp(p, "Link:", 5) == 0) {
        /* <url>; rel="next", <url>; rel="prev" */
        char line[4096];
        size_t k = len < sizeof line ? len : sizeof line - 1;
        memcpy(line, p, k);
        line[k] = '\0';
        for (char *lt = strchr(line, '<'); lt; lt = strchr(lt + 1, '<')) {
            char *gt = strchr(lt, '>');
            if (!gt)
                break;
            char *nextlt = strchr(gt, '<'), *rel = strstr(gt, "rel=\"next\"");
            if (!rel)
                rel = strstr(gt, "rel=next");
            if (rel && (!nextlt || rel < nextlt) && (size_t)(gt - lt - 1) < sizeof r->link_next) {
                memcpy(r->link_next, lt + 1, (size_t)(gt - lt - 1));
                r->link_next[gt - lt - 1] = '\0';
            }
        }
    }
    return len;
}

static void req_free(struct req *r)
{
    struct http_src *hs = r->hs;

    if (r->host)
        host_release(r->host, &r->slot);
    if (hs->ahead == r) {
        hs->ahead = NULL;
        free(hs->ahead_after);
        hs->ahead_after = NULL;
    }
    for (struct req **pp = &hs->reqs; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    for (struct req **pp = &hs->blocked; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    if (r->easy) {
        if (r->in_flight)
            netloop_cancel(hs->s->net, r->easy);
        curl_easy_cleanup(r->easy);
    }
    curl_slist_free_all(r->hdrs);
    buf_release(&r->resp);
    json_decref(r->ctx);
    json_decref(r->acc);
    free(r->url);
    if (r->body)
        explicit_bzero(r->body, strlen(r->body));
    free(r->body);
    free(r->ctype);
    free(r);
}

static struct req *req_new(struct http_src *hs, enum req_kind kind, struct driver_call *call,
                           const json_t *spec, json_t *ctx)
{
    struct req *r = calloc(1, sizeof *r);

    if (!r) {
        json_decref(ctx);
        return NULL;
    }
    r->hs = hs;
    r->slot = -1;
    r->kind = kind;
    r->call = call;
    r->spec = spec;
    r->ctx = ctx;
    buf_init(&r->resp, HTTP_MAX_BODY);
    r->next = hs->reqs;
    hs->reqs = r;
    return r;
}

/* Answers the explorer's call (if any) with an error and drops the request. */
static void req_fail(struct req *r, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    struct http_src *hs = r->hs;
    struct driver_call *call = r->call;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->kind == REQ_FETCH && r->file[0])
        unlinkat(hs->s->payload_dirfd, r->file, 0);
    if (r->kind == REQ_TOKEN || r->kind == REQ_LOGIN) { /* everyone waiting fails too */
        snprintf(hs->auth_err, sizeof hs->auth_err, "%.290s", msg);
        hs->refreshing = hs->logging_in = 0;
        req_free(r);
        while (hs->blocked)
            req_fail(hs->blocked, "%s", msg);
        return;
    }
    req_free(r);
    if (call)
        hs->s->complete(call, NULL, msg);
}

static void req_done(struct req *r, json_t *out)
{
    struct driver_call *call = r->call;
    struct driver_source *s = r->hs->s;

    req_free(r);
    if (call)
        s->complete(call, out, NULL);
    else
        json_decref(out);
}

/* A query or form value, percent-encoded whole (literal text too); takes v. */
static char *escaped(char *v)
{
    char *e, *out;

    if (!v)
        return NULL;
    e = curl_easy_escape(NULL, v, 0);
    explicit_bzero(v, strlen(v));
    free(v);
    out = e ? strdup(e) : NULL;
    curl_free(e);
    return out;
}

/* Builds the URL, headers and body of r from its spec and context. */
static int req_build(struct req *r, char *err, size_t errlen)
{
    struct http_src *hs = r->hs;
    const json_t *rq = json_object_get(r->spec, "request"), *q, *v;
    struct buf url = BUF_INIT;
    const char *k, *path = cfg_str(rq, "path");
    char *p;
    int missing, first;

    free(r->url);
    if (r->body)
        explicit_bzero(r->body, strlen(r->body));
    free(r->body);
    free(r->ctype);
    r->url = r->body = r->ctype = NULL;
    r->method = cfg_str(rq, "method") ? cfg_str(rq, "method") : "GET";
    if (json_is_string(json_object_get(json_object_get(r->ctx, "page"), "link"))) {
        /* a Link-header paginator: the server's next URL, as given, but only on the
         * API's own host: credentials never follow a link elsewhere */
        const char *link =
            json_string_value(json_object_get(json_object_get(r->ctx, "page"), "link"));
        if (host_get(link) != host_get(hs->base_url)) {
            snprintf(err, errlen, "the next-page link '%.200s' leaves %s", link, hs->base_url);
            return -1;
        }
        r->url = strdup(link);
        goto headers;
    }
    /* the path: every placeholder percent-encoded, '/' included */
    p = fill(hs, r->ctx, path ? path : "", HTTP_ENC_URL, &missing, err, errlen);
    if (!p)
        return -1;
    if (missing) {
        snprintf(err, errlen, "request path '%s' needs a value the call did not give", path);
        free(p);
        return -1;
    }
    if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0)
        buf_adds(&url, p); /* an absolute URL (e.g. a token endpoint) */
    else
        buf_addf(&url, "%s%s%s", hs->base_url, *p == '/' || !*p ? "" : "/", p);
    free(p);
    first = !strchr(buf_str(&url), '?');
    q = json_object_get(rq, "query");
    json_t *merged = json_is_object(q) ? json_deep_copy(q) : json_object();
    /* incremental listing: extra parameters when a cursor exists */
    if (r->kind == REQ_LIST && hs->incremental)
        json_object_update(merged,
                           json_object_get(json_object_get(hs->list, "incremental"), "query"));
    /* MediaWiki-style continuation: the server's object, merged as parameters */
    json_t *cont = json_object_get(json_object_get(r->ctx, "page"), "continue");
    json_object_foreach(merged, k, v)
    {
        char *val;
        if (json_is_object(cont) && json_object_get(cont, k))
            continue;
        val = escaped(json_is_string(v) ? fill(hs, r->ctx, json_string_value(v), HTTP_ENC_RAW,
                                               &missing, err, errlen)
                                        : http_scalar(v));
        if (!val) {
            json_decref(merged);
            buf_release(&url);
            return -1;
        }
        if (!missing) {
            char *ek = curl_easy_escape(NULL, k, 0);
            buf_addf(&url, "%c%s=%s", first ? '?' : '&', ek, val);
            curl_free(ek);
            first = 0;
        }
        free(val);
    }
    json_decref(merged);
    if (json_is_object(cont)) {
        json_object_foreach(cont, k, v)
        {
            char *val = http_scalar(v), *ek = curl_easy_escape(NULL, k, 0),
                 *ev = val ? curl_easy_escape(NULL, val, 0) : NULL;
            if (ev)
                buf_addf(&url, "%c%s=%s", first ? '?' : '&', ek, ev);
            first = 0;
            curl_free(ek);
            curl_free(ev);
            free(val);
        }
    }
    r->url = buf_detach(&url, NULL);
    /* a body: JSON ("body") or a form ("form") */
    if ((v = json_object_get(rq, "body"))) {
        json_t *b = http_render_json(v, r->ctx, err, errlen);
        if (!b)
            return -1;
        r->body = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        r->ctype = strdup("Content-Type: application/json");
        json_decref(b);
    } else if ((v = json_object_get(rq, "form"))) {
        struct buf f = BUF_INIT;
        buf_adds(&f, "");
        json_object_foreach((json_t *)v, k, q)
        {
            char *val;
            missing = 0;
            if (r->kind == REQ_LOGIN && json_is_string(q) &&
                strcmp(json_string_value(q), "{{secret}}") == 0) {
                /* the password enters the login form here, never a template context */
                char *e = curl_easy_escape(NULL, hs->password, 0);
                val = strdup(e ? e : "");
                curl_free(e);
            } else {
                val = escaped(json_is_string(q) ? fill(hs, r->ctx, json_string_value(q),
                                                       HTTP_ENC_RAW, &missing, err, errlen)
                                                : http_scalar(q));
            }
            if (!val) {
                buf_release(&f);
                return -1;
            }
            if (!missing)
                buf_addf(&f, "%s%s=%s", f.len ? "&" : "", k, val);
            explicit_bzero(val, strlen(val));
            free(val);
        }
        if (r->body) {
            explicit_bzero(r->body, strlen(r->body));
            free(r->body);
        }
        r->body = buf_detach(&f, NULL);
        r->ctype = strdup("Content-Type: application/x-www-form-urlencoded");
    }
headers:
    curl_slist_free_all(r->hdrs);
    r->hdrs = NULL;
    if (r->ctype)
        r->hdrs = curl_slist_append(r->hdrs, r->ctype);
    json_t *hdrs = json_deep_copy(json_object_get(hs->cfg, "headers"));
    if (!hdrs)
        hdrs = json_object();
    json_object_update(hdrs, json_object_get(rq, "headers"));
    json_object_foreach(hdrs, k, v)
    {
        char *val = fill(hs, r->ctx, json_string_value(v), HTTP_ENC_RAW, &missing, err, errlen);
        if (val && !missing) {
            struct buf h = BUF_INIT;
            buf_addf(&h, "%s: %s", k, val);
            r->hdrs = curl_slist_append(r->hdrs, buf_str(&h));
            buf_release(&h);
        }
        free(val);
    }
    json_decref(hdrs);
    return 0;
}

/* Credentials go on at send time, so a refreshed token is used on retries. */
static void req_auth(struct req *r)
{
    struct http_src *hs = r->hs;
    const json_t *auth = json_object_get(hs->cfg, "auth");
    struct buf h = BUF_INIT;

    if (r->kind == REQ_TOKEN)
        return;
    if ((strcmp(hs->auth_type, "bearer") == 0 || strcmp(hs->auth_type, "oauth2") == 0) &&
        hs->token) {
        buf_addf(&h, "Authorization: Bearer %s", hs->token);
        r->hdrs = curl_slist_append(r->hdrs, buf_str(&h));
    } else if (strcmp(hs->auth_type, "basic") == 0) {
        curl_easy_setopt(r->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(r->easy, CURLOPT_USERNAME, hs->user);
        curl_easy_setopt(r->easy, CURLOPT_PASSWORD, hs->password);
    } else if (strcmp(hs->auth_type, "api_key") == 0) {
        const char *name = cfg_str(auth, "name") ? cfg_str(auth, "name") : "X-Api-Key";
        if (cfg_str(auth, "in") && strcmp(cfg_str(auth, "in"), "query") == 0) {
            char *ev = curl_easy_escape(NULL, hs->token, 0);
            buf_addf(&h, "%s%c%s=%s", r->url, strchr(r->url, '?') ? '&' : '?', name, ev);
            curl_free(ev);
            curl_easy_setopt(r->easy, CURLOPT_URL, buf_str(&h));
        } else {
            buf_addf(&h, "%s: %s", name, hs->token);
            r->hdrs = curl_slist_append(r->hdrs, buf_str(&h));
        }
    }
    if (h.data)
        explicit_bzero(h.data, h.len);
    buf_release(&h);
}

static void on_done(void *arg, CURL *easy, CURLcode rc);

static void on_timer(void *arg)
{
    struct req *r = arg;
    r->waiting = 0;
    req_send(r);
}

static void req_later(struct req *r, long ms)
{
    r->waiting = 1;
    if (netloop_timer(r->hs->s->net, ms, on_timer, r) < 0)
        req_fail(r, "cannot set a timer");
}

static void req_send(struct req *r)
{
    struct http_src *hs = r->hs;
    char err[400];
    long wait;

    if (r->ahead == 2) { /* a page read ahead: its answer is here already */
        r->ahead = 0;
        on_success(r, 200);
        return;
    }
    if (!r->url && req_build(r, err, sizeof err) < 0) {
        req_fail(r, "%s", err);
        return;
    }
    /* authentication that must happen first */
    if (r->kind != REQ_TOKEN && r->kind != REQ_LOGIN) {
        if (hs->auth_err[0]) {
            req_fail(r, "%s", hs->auth_err);
            return;
        }
        int need = (strcmp(hs->auth_type, "oauth2") == 0 && (!hs->token || hs->refreshing)) ||
                   (strcmp(hs->auth_type, "session") == 0 && !hs->logged_in);
        if (need) {
            for (struct req **pp = &hs->reqs; *pp; pp = &(*pp)->next)
                if (*pp == r) {
                    *pp = r->next;
                    break;
                }
            r->next = hs->blocked;
            hs->blocked = r;
            auth_start(hs);
            return;
        }
    }
    if (r->host) /* a retry's earlier attempt, if any */
        host_release(r->host, &r->slot);
    r->host = host_get(r->url);
    if (!r->host) {
        req_fail(r, "'%.300s' is not a URL", r->url);
        return;
    }
    double now = mono_s();
    if (r->host->open_until > now) {
        req_fail(r,
                 "circuit breaker open for %s after %d consecutive failures (retrying in %.0f s)",
                 r->host->key, r->host->fails, r->host->open_until - now);
        return;
    }
    if ((wait = host_admit(r->host, &r->slot)) > 0) {
        req_later(r, wait);
        return;
    }
    if (r->easy) /* a fresh handle per attempt; connections stay in the multi's pool */
        curl_easy_cleanup(r->easy);
    r->easy = curl_easy_init();
    if (!r->easy) {
        req_fail(r, "out of memory");
        return;
    }
    buf_reset(&r->resp);
    r->retry_after[0] = '\0';
    r->link_next[0] = '\0';
    if (r->kind != REQ_TOKEN && req_build(r, err, sizeof err) < 0) { /* fresh headers */
        req_fail(r, "%s", err);
        return;
    }
    curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
    curl_easy_setopt(r->easy, CURLOPT_SHARE, hs->share);
    if (strcmp(hs->auth_type, "session") == 0) /* the login's cookies, in the share */
        curl_easy_setopt(r->easy, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "trawl/1");
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, hs->timeout_s);
    curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(r->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY);
    if (strcmp(r->method, "GET") != 0)
        curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, r->method);
    if (r->body) {
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(r->body));
    }
    req_auth(r);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
    if (netloop_add(hs->s->net, r->easy, on_done, r) < 0) {
        req_fail(r, "libcurl refused the request");
        return;
    }
    r->in_flight = 1;
}

/* Retry-After: seconds or an HTTP date; -1 when absent. */
static long retry_after_ms(const char *v)
{
    char *end;
    while (*v == ' ')
        v++;
    if (!*v)
        return -1;
    long s = strtol(v, &end, 10);
    if (end != v && (*end == '\0' || *end == '\r' || *end == '\n' || *end == ' '))
        return s < 0 ? 0 : (s > 3600 ? 3600000 : s * 1000);
    time_t t = curl_getdate(v, NULL);
    if (t < 0)
        return -1;
    long d = (long)(t - time(NULL));
    return d < 0 ? 0 : (d > 3600 ? 3600000 : d * 1000);
}

static void host_failed(struct http_src *hs, struct http_host *h)
{
    if (++h->fails >= hs->breaker_n && h->open_until <= mono_s())
        h->open_until = mono_s() + hs->breaker_s;
}

static void on_success(struct req *r, long status);

/* An incremental listing the server can no longer give (Gmail answers 404 to a
 * historyId older than about a week): the toolkit's 'restart_on' statuses start a
 * full listing in its place, which also finds what was deleted meanwhile. */
static int restart_full(struct req *r, long status)
{
    struct http_src *hs = r->hs;
    const json_t *inc = json_object_get(json_object_get(hs->cfg, "list"), "incremental"), *v;
    const json_t *start = json_object_get(inc, "start");
    size_t i;
    int hit = 0;

    json_array_foreach(json_object_get(inc, "restart_on"), i, v) hit |=
        json_integer_value(v) == status;
    if (!hit)
        return 0;
    hs->incremental = 0;
    hs->list = json_object_get(hs->cfg, "list");
    json_decref(hs->cursor);
    hs->cursor = NULL;
    json_decref(hs->page);
    hs->page = json_object();
    json_object_set_new(r->ctx, "page", json_object());
    json_object_del(r->ctx, "cursor");
    r->spec = hs->list;
    if (start) {
        r->pre = 1;
        r->spec = start;
    }
    free(r->url);
    r->url = NULL;
    r->attempt = 0;
    req_send(r);
    return 1;
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
    struct req *r = arg;
    struct http_src *hs = r->hs;
    long status = 0;

    r->in_flight = 0;
    host_release(r->host, &r->slot);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    int transient = rc != CURLE_OK || status == 429 || status >= 500;
    if (rc != CURLE_OK || status >= 500)
        host_failed(hs, r->host);
    else
        r->host->fails = 0;
    if (transient) {
        long ra = status == 429 || status == 503 ? retry_after_ms(r->retry_after) : -1;
        if (r->attempt >= hs->retry_max || r->host->open_until > mono_s()) {
            if (rc != CURLE_OK)
                req_fail(r, "%s %s: %s (after %d attempts)", r->method, r->url,
                         curl_easy_strerror(rc), r->attempt + 1);
            else
                req_fail(r, "%s %s: HTTP %ld (after %d attempts)", r->method, r->url, status,
                         r->attempt + 1);
            return;
        }
        long ms = hs->base_ms << (r->attempt < 16 ? r->attempt : 16);
        if (ms > hs->max_ms)
            ms = hs->max_ms;
        ms = ms / 2 + (long)((unsigned long)random() % (unsigned long)(ms / 2 + 1)); /* jitter */
        if (ra >= 0)
            ms = ra;
        r->attempt++;
        req_later(r, ms);
        return;
    }
    if (status == 401 && strcmp(hs->auth_type, "oauth2") == 0 && !r->auth_retried &&
        r->kind != REQ_TOKEN) {
        /* the access token expired: refresh once and send again */
        r->auth_retried = 1;
        if (!hs->refreshing) {
            wipe_free(hs->token);
            hs->token = NULL;
        }
        req_send(r);
        return;
    }
    if (status == 401 && strcmp(hs->auth_type, "session") == 0 && !r->auth_retried &&
        r->kind != REQ_LOGIN) {
        r->auth_retried = 1;
        hs->logged_in = 0;
        req_send(r);
        return;
    }
    if (r->kind == REQ_LIST && hs->incremental && restart_full(r, status))
        return;
    if (status < 200 || status >= 300) {
        /* the URL without its query: short enough for the run record, and an API key
         * in the query stays out of it */
        const char *b = buf_str(&r->resp), *qm = strchr(r->url, '?');
        int ulen = qm ? (int)(qm - r->url) : (int)strlen(r->url);
        if (status == 401 || status == 403)
            hs->s->permanent = 1; /* refused credentials stay refused on a new attempt */
        req_fail(r, "%s %.*s: HTTP %ld%s%s%.200s", r->method, ulen > 200 ? 200 : ulen, r->url,
                 status, status == 401 || status == 403 ? " (the credentials were refused)" : "",
                 *b ? ": " : "", b);
        return;
    }
    on_success(r, status);
}

/* ---- authentication flows --------------------------------------------------------- */

static void auth_unblock(struct http_src *hs)
{
    while (hs->blocked) {
        struct req *r = hs->blocked;
        hs->blocked = r->next;
        r->next = hs->reqs;
        hs->reqs = r;
        req_send(r);
    }
}

static void auth_start(struct http_src *hs)
{
    const json_t *auth = json_object_get(hs->cfg, "auth");
    struct req *r;

    if (strcmp(hs->auth_type, "oauth2") == 0) {
        if (hs->refreshing)
            return;
        hs->refreshing = 1;
        json_t *ctx = json_deep_copy(hs->base);
        r = req_new(hs, REQ_TOKEN, NULL, auth, ctx);
        if (!r)
            return;
        /* the token request is built here: the secrets never enter a template context */
        char err[300];
        int missing;
        char *url =
            fill(hs, ctx, cfg_str(auth, "token_url"), HTTP_ENC_RAW, &missing, err, sizeof err);
        char *cid =
            fill(hs, ctx,
                 cfg_str(auth, "client_id") ? cfg_str(auth, "client_id") : "{{settings.client_id}}",
                 HTTP_ENC_RAW, &missing, err, sizeof err);
        char *e1 = curl_easy_escape(NULL, hs->refresh_token, 0),
             *e2 = curl_easy_escape(NULL, hs->client_secret, 0),
             *e3 = curl_easy_escape(NULL, cid ? cid : "", 0);
        struct buf b = BUF_INIT;
        buf_addf(&b, "grant_type=refresh_token&refresh_token=%s&client_id=%s&client_secret=%s", e1,
                 e3, e2);
        curl_free(e1);
        curl_free(e2);
        curl_free(e3);
        free(cid);
        r->url = url;
        r->method = "POST";
        r->body = buf_detach(&b, NULL);
        r->ctype = strdup("Content-Type: application/x-www-form-urlencoded");
        r->hdrs = curl_slist_append(NULL, r->ctype);
        if (!url || !*url) {
            req_fail(r, "oauth2: the toolkit's token_url is empty");
            return;
        }
        hs->refreshes++;
        req_send(r);
        return;
    }
    if (strcmp(hs->auth_type, "session") == 0) {
        if (hs->logging_in)
            return;
        hs->logging_in = 1;
        json_t *ctx = json_deep_copy(hs->base);
        json_object_set_new(ctx, "login", json_object());
        json_object_set_new(ctx, "user", json_string(hs->user));
        r = req_new(hs, REQ_LOGIN, NULL, json_array_get(json_object_get(auth, "steps"), 0), ctx);
        if (r)
            req_send(r);
    }
}

/* The password goes into a login form only here, never into a context. */
static void login_step_done(struct req *r)
{
    struct http_src *hs = r->hs;
    const json_t *auth = json_object_get(hs->cfg, "auth"), *steps = json_object_get(auth, "steps"),
                 *v;
    json_t *body = json_loads(buf_str(&r->resp), 0, NULL);
    const char *k;

    if (!body) { /* an HTML error page, a proxy's login form: say what came back */
        char head[81];
        size_t n = 0;
        for (const char *p = buf_str(&r->resp); *p && n < sizeof head - 1; p++)
            head[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
        head[n] = '\0';
        req_fail(r, "login as '%s' failed: the answer from %.200s is not JSON: '%s'", hs->user,
                 r->url, head);
        return;
    }
    json_object_foreach(json_object_get(r->spec, "save"), k, v)
    {
        json_t *got = http_path(body, json_string_value(v));
        if (got)
            json_object_set(json_object_get(r->ctx, "login"), k, got);
    }
    const json_t *expect = json_object_get(r->spec, "expect");
    if (expect) {
        json_t *got = http_path(body, cfg_str(expect, "path"));
        const char *want = cfg_str(expect, "equals");
        if (!json_is_string(got) || (want && strcmp(json_string_value(got), want) != 0)) {
            json_t *why = http_path(body, cfg_str(expect, "reason"));
            char msg[300];
            snprintf(msg, sizeof msg, "login as '%s' failed: %s", hs->user,
                     json_string_value(why) ? json_string_value(why)
                     : json_is_string(got)  ? json_string_value(got)
                                            : "unexpected answer");
            json_decref(body);
            hs->s->permanent = 1; /* the login was answered: trying again gets the same */
            req_fail(r, "%s", msg);
            return;
        }
    }
    json_decref(body);
    r->step++;
    if ((size_t)r->step < json_array_size(steps)) {
        r->spec = json_array_get(steps, (size_t)r->step);
        free(r->url);
        r->url = NULL;
        r->attempt = 0;
        req_send(r);
        return;
    }
    hs->logged_in = 1;
    hs->logging_in = 0;
    req_free(r);
    auth_unblock(hs);
}

/* ---- listing ---------------------------------------------------------------------- */

/* A record's content when the fetch spec has no request: the record itself (or its
 * 'field'), a string as it is, anything else as indented JSON, base64-decoded when
 * the spec says so. Returns malloc'd bytes (*n of them, NUL-terminated) or NULL:
 * err says why, or is empty when the content is not the declared base64. */
static char *record_content(const json_t *var, const json_t *rec, size_t *n, char *err,
                            size_t errlen)
{
    const char *field = cfg_str(var, "field");
    const json_t *c = field ? http_path(rec, field) : rec;
    char *d;

    err[0] = '\0';
    if (!c) {
        snprintf(err, errlen, "the record has no '%.100s'", field);
        return NULL;
    }
    if (json_is_string(c)) {
        *n = json_string_length(c);
        d = malloc(*n + 1);
        if (d) {
            memcpy(d, json_string_value(c), *n);
            d[*n] = '\0';
        }
    } else {
        d = json_dumps(c, JSON_INDENT(1) | JSON_ENCODE_ANY);
        *n = d ? strlen(d) : 0;
    }
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cfg_str(var, "decode")) {
        long k = http_base64_decode(d, *n);
        if (k < 0) {
            free(d);
            return NULL;
        }
        *n = (size_t)k;
        d[*n] = '\0';
    }
    return d;
}

/* How many bytes of a record's content the listing carries itself (fetch specs
 * without a request); 0: the explorer fetches it. */
static size_t inline_max(const json_t *var)
{
    const json_t *v = json_object_get(var, "inline_max");

    if (json_object_get(var, "request"))
        return 0;
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (size_t)json_integer_value(v) : 0;
    return HTTP_INLINE_MAX;
}

static void version_of(const json_t *rec, const json_t *doc, json_t *ctx, char *v, size_t n)
{
    char err[100];
    int missing = 1;
    char *s = cfg_str(doc, "version") ? http_render(cfg_str(doc, "version"), ctx, HTTP_ENC_RAW,
                                                    &missing, err, sizeof err)
                                      : NULL;
    if (s && !missing && *s) {
        snprintf(v, n, "%s", s);
    } else { /* no version field: a hash of the record */
        char *d = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = d ? d : ""; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        snprintf(v, n, "h%016llx", (unsigned long long)h);
        free(d);
    }
    free(s);
}

/* has_more-style flags: true, a non-zero number or a non-empty string. */
static int truthy(const json_t *v)
{
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0) ||
           (json_is_real(v) && json_real_value(v) != 0) ||
           (json_is_string(v) && *json_string_value(v));
}

static int cursor_gt(const json_t *a, const json_t *b)
{
    if (!b)
        return 1;
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) > json_number_value(b);
    if (json_is_string(a) && json_is_string(b))
        return strcmp(json_string_value(a), json_string_value(b)) > 0;
    return 1;
}

/* The fetch variant for a record: the first whose "when" matches. */
static const json_t *variant_of(struct http_src *hs, const json_t *rec)
{
    const json_t *fetch = json_object_get(hs->cfg, "fetch"), *v;
    size_t i;

    json_array_foreach(json_object_get(fetch, "variants"), i, v)
    {
        const json_t *when = json_object_get(v, "when"), *ex = json_object_get(when, "exists");
        const json_t *fv = when ? http_path(rec, cfg_str(when, "field")) : NULL;
        const char *val = json_string_value(fv);
        const char *eq = cfg_str(when, "equals"), *pre = cfg_str(when, "prefix");
        if (!when || (ex && json_is_true(ex) == (fv && !json_is_null(fv))) ||
            (val && ((eq && strcmp(val, eq) == 0) || (pre && strncmp(val, pre, strlen(pre)) == 0))))
            return v;
    }
    return fetch;
}

/* A paginator's page size: a number or a template ("{{settings.page_size|'100'}}"). */
static int page_size_of(const json_t *pag, const json_t *ctx)
{
    int size = cfg_int(pag, "page_size", 100);
    char err[200];

    if (json_is_string(json_object_get(pag, "page_size"))) {
        char *ps = http_render(cfg_str(pag, "page_size"), ctx, HTTP_ENC_RAW, NULL, err, sizeof err);
        size = ps ? atoi(ps) : 0;
        free(ps);
        if (size < 1)
            size = 100;
    }
    return size;
}

/* A record's attachments (CouchDB's _attachments stubs) as items of their own: the path
 * is the record's path, '/', the attachment's name; they are fetched with the spec's
 * own request. */
static void list_attachments(struct http_src *hs, const json_t *spec, const json_t *rec,
                             const char *parent, json_t *items)
{
    const json_t *all = http_path(rec, cfg_str(spec, "select"));
    const char *k;
    json_t *a;
    char err[200], v[200];
    int missing;

    if (!spec)
        return;
    json_object_set_new(hs->att_of, parent, json_true());
    if (!json_is_object(all))
        return;
    json_object_foreach((json_t *)all, k, a)
    {
        json_t *ctx = json_deep_copy(hs->base), *item;
        json_object_set(ctx, "record", (json_t *)rec);
        json_object_set_new(ctx, "key", json_string(k));
        json_object_set(ctx, "attachment", a);
        char *name = http_render(cfg_str(spec, "name") ? cfg_str(spec, "name") : "{{key}}", ctx,
                                 HTTP_ENC_RAW, &missing, err, sizeof err);
        if (!name || missing || !*name || strlen(parent) + strlen(name) > 1000) {
            free(name);
            json_decref(ctx);
            continue;
        }
        struct buf path = BUF_INIT;
        buf_addf(&path, "%s/%s", parent, name);
        free(name);
        json_object_set_new(hs->seen, buf_str(&path), json_true());
        json_object_set_new(hs->atts, buf_str(&path),
                            json_pack("{s:O,s:s,s:O}", "record", rec, "key", k, "attachment", a));
        version_of(a, spec, ctx, v, sizeof v);
        item = json_pack("{s:s,s:s,s:b}", "path", buf_str(&path), "version", v, "known",
                         hs->s->known(hs->s->known_arg, buf_str(&path), v));
        const char *fields[] = {"title", "modified", "size", "mime"};
        for (size_t f = 0; f < 4; f++) {
            if (!cfg_str(spec, fields[f]))
                continue;
            char *val =
                http_render(cfg_str(spec, fields[f]), ctx, HTTP_ENC_RAW, &missing, err, sizeof err);
            if (val && !missing)
                json_object_set_new(item, fields[f],
                                    f == 2 ? json_integer(strtoll(val, NULL, 10))
                                           : json_string(val));
            free(val);
        }
        json_array_append_new(items, item);
        buf_release(&path);
        json_decref(ctx);
    }
}

/* Asks for the listing's next page now: the explorer works through this one while
 * the server answers (one page of latency per page saved). The answer is kept for
 * the call that asks for it with after=last; another call drops it. */
static void read_ahead(struct http_src *hs, const char *last, const json_t *next)
{
    json_t *ctx;
    struct req *r;

    if (hs->ahead || json_is_false(json_object_get(hs->cfg, "read_ahead")))
        return;
    ctx = json_deep_copy(hs->base);
    if (hs->s->cursor)
        json_object_set(ctx, "cursor", (json_t *)hs->s->cursor);
    json_object_set_new(ctx, "page", json_deep_copy(next));
    json_object_set_new(ctx, "args", json_pack("{s:s}", "after", last));
    r = req_new(hs, REQ_LIST, NULL, hs->list, ctx);
    if (!r)
        return;
    r->ahead = 1;
    hs->ahead = r;
    hs->ahead_after = strdup(last);
    req_later(r, 0);
}

/* A listing's page from its answer (body consumed): the result for the explorer. */
static json_t *list_page(struct req *r, json_t *body)
{
    struct http_src *hs = r->hs;
    const json_t *list = hs->list, *doc = json_object_get(list, "document"),
                 *pag = json_object_get(list, "paginator"),
                 *inc = json_object_get(list, "incremental");
    json_t *recs = json_array(), *out = json_object(), *items = json_array(), *rec;
    const char *ptype = cfg_str(pag, "type") ? cfg_str(pag, "type") : "none";
    size_t i;
    char err[300];

    json_t *page_dels = json_object();
    int older = 0;
    size_t inlined = 0; /* content bytes this answer carries */
    http_select(body, cfg_str(list, "records"), recs);
    if (cfg_str(list, "deleted_records")) { /* tombstones (Gmail history's messagesDeleted) */
        json_t *dels = json_array();
        http_select(body, cfg_str(list, "deleted_records"), dels);
        json_array_foreach(dels, i, rec)
        {
            json_t *ctx = json_deep_copy(hs->base);
            int missing;
            json_object_set(ctx, "record", rec);
            char *path = http_render(cfg_str(doc, "path") ? cfg_str(doc, "path") : "{{record.id}}",
                                     ctx, HTTP_ENC_RAW, &missing, err, sizeof err);
            if (path && !missing && *path) {
                json_object_set_new(hs->deleted, path, json_true());
                json_object_set_new(page_dels, path, json_true());
                json_object_del(hs->seen, path);
            }
            free(path);
            json_decref(ctx);
        }
        json_decref(dels);
    }
    json_array_foreach(recs, i, rec)
    {
        json_t *ctx, *item;
        int missing;
        char v[200];
        if (hs->incremental && inc && cfg_str(inc, "until") && hs->s->cursor) {
            /* newest first: the first record older than the cursor ends the listing */
            json_t *u = http_path(rec, cfg_str(inc, "until"));
            if (u && cursor_gt(hs->s->cursor, u)) {
                older = 1;
                break;
            }
        }
        ctx = json_copy(hs->base); /* templates only read it */
        json_object_set(ctx, "record", rec);
        char *path = http_render(cfg_str(doc, "path") ? cfg_str(doc, "path") : "{{record.id}}", ctx,
                                 HTTP_ENC_RAW, &missing, err, sizeof err);
        if (!path || missing || !*path || strlen(path) > 1000) {
            free(path);
            json_decref(ctx);
            continue; /* a record without an id is not a document */
        }
        const json_t *var = variant_of(hs, rec);
        if (cfg_str(var, "suffix")) {
            char *p2 = malloc(strlen(path) + strlen(cfg_str(var, "suffix")) + 1);
            if (p2) {
                strcpy(p2, path);
                strcat(p2, cfg_str(var, "suffix"));
                free(path);
                path = p2;
            }
        }
        if (inc) { /* the highest cursor value this run saw */
            json_t *cv = http_path(rec, cfg_str(inc, "field"));
            if (cv && cursor_gt(cv, hs->cursor)) {
                json_decref(hs->cursor);
                hs->cursor = json_deep_copy(cv);
            }
        }
        char *del = cfg_str(doc, "deleted") ? http_render(cfg_str(doc, "deleted"), ctx,
                                                          HTTP_ENC_RAW, &missing, err, sizeof err)
                                            : NULL;
        if (del && strcmp(del, "true") == 0) {
            json_object_set_new(hs->deleted, path, json_true());
            json_object_del(hs->seen, path);
            free(del);
            free(path);
            json_decref(ctx);
            continue;
        }
        free(del);
        if (json_object_get(hs->seen, path) || json_object_get(page_dels, path)) {
            /* listed twice (a change feed): once is enough; added and deleted: gone */
            free(path);
            json_decref(ctx);
            continue;
        }
        json_object_set_new(hs->seen, path, json_true());
        json_object_set(hs->items, path, rec);
        version_of(rec, doc, ctx, v, sizeof v);
        item = json_pack("{s:s,s:s,s:b}", "path", path, "version", v, "known",
                         hs->s->known(hs->s->known_arg, path, v));
        const char *fields[] = {"title", "modified", "size", "mime"};
        for (size_t f = 0; f < 4; f++) {
            if (!cfg_str(doc, fields[f]))
                continue;
            char *val =
                http_render(cfg_str(doc, fields[f]), ctx, HTTP_ENC_RAW, &missing, err, sizeof err);
            if (val && !missing)
                json_object_set_new(item, fields[f],
                                    f == 2 ? json_integer(strtoll(val, NULL, 10))
                                           : json_string(val));
            free(val);
        }
        /* a record that is its own content: the listing carries it (when it is
         * text and small), so the explorer extracts it without fetching it */
        size_t max = inline_max(var), n = 0;
        if (max && !json_is_true(json_object_get(item, "known")) && inlined < HTTP_INLINE_PAGE) {
            char *d = record_content(var, rec, &n, err, sizeof err);
            json_t *cs = d && n <= max && n <= HTTP_INLINE_PAGE - inlined && !memchr(d, 0, n)
                             ? json_stringn(d, n) /* NULL when not UTF-8 */
                             : NULL;
            if (cs) {
                json_object_set_new(item, "content", cs);
                inlined += n;
            }
            free(d);
        }
        json_array_append_new(items, item);
        list_attachments(hs, json_object_get(list, "attachments"), rec, path, items);
        free(path);
        json_decref(ctx);
    }
    /* the next page */
    json_t *next = json_object();
    int more = 0;
    json_t *page = json_object_get(r->ctx, "page");
    if (strcmp(ptype, "cursor") == 0) {
        json_t *c = http_path(body, cfg_str(pag, "path"));
        const char *stop = cfg_str(pag, "has_more");
        char *cs = c ? http_scalar(c) : NULL;
        /* a server without the flag (PouchDB's _changes has no 'pending'): more
         * while pages have records */
        json_t *flag = stop ? http_path(body, stop) : NULL;
        if (cs && *cs && (!stop || (flag ? truthy(flag) : json_array_size(recs) > 0))) {
            json_object_set_new(next, "cursor", json_string(cs));
            more = 1;
        }
        free(cs);
    } else if (strcmp(ptype, "key") == 0) {
        /* key-based: the next page starts at the last record's key (startkey=..&skip=1),
         * which stays right while documents are added or removed between pages */
        int size = page_size_of(pag, r->ctx);
        json_t *last = json_array_get(recs, json_array_size(recs) - 1);
        json_t *key =
            last ? http_path(last, cfg_str(pag, "path") ? cfg_str(pag, "path") : "id") : NULL;
        char *kj = key ? json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char *ks = key ? http_scalar(key) : NULL;
        if (kj && json_array_size(recs) >= (size_t)size) {
            json_object_set_new(next, "key", json_string(ks ? ks : kj));
            json_object_set_new(next, "key_json", json_string(kj));
            json_object_set_new(next, "skip", json_integer(1));
            more = 1;
        }
        free(kj);
        free(ks);
    } else if (strcmp(ptype, "offset") == 0 || strcmp(ptype, "page") == 0) {
        int size = page_size_of(pag, r->ctx);
        json_int_t off = json_integer_value(json_object_get(page, "offset"));
        json_int_t num = json_object_get(page, "number")
                             ? json_integer_value(json_object_get(page, "number"))
                             : cfg_int(pag, "start", 1);
        json_object_set_new(next, "offset", json_integer(off + (json_int_t)json_array_size(recs)));
        json_object_set_new(next, "number", json_integer(num + 1));
        json_object_set_new(next, "size", json_integer(size));
        more = json_array_size(recs) >= (size_t)size;
    } else if (strcmp(ptype, "link") == 0) {
        if (r->link_next[0]) {
            json_object_set_new(next, "link", json_string(r->link_next));
            more = 1;
        }
    } else if (strcmp(ptype, "continue") == 0) {
        json_t *c = http_path(body, cfg_str(pag, "path") ? cfg_str(pag, "path") : "continue");
        if (json_is_object(c)) {
            json_object_set(next, "continue", c);
            more = 1;
        }
    }
    if (++r->pages > HTTP_MAX_PAGES || json_array_size(recs) == 0)
        more = more && json_array_size(recs) > 0 ? 0 : more;
    if (older)
        more = 0;
    json_decref(page_dels);
    json_decref(hs->page);
    hs->page = next;
    if (inc && cfg_str(inc, "body")) { /* a change token the server gives (last_seq) */
        json_t *cv = http_path(body, cfg_str(inc, "body"));
        if (cv) {
            json_decref(hs->cursor);
            hs->cursor = json_deep_copy(cv);
        }
    }
    if (!more) {
        hs->list_done = 1;
        hs->complete = 1;
        if (hs->cursor) { /* the next run starts here */
            json_decref(hs->s->cursor_next);
            hs->s->cursor_next = json_deep_copy(hs->cursor);
        }
    }
    json_decref(recs);
    json_object_set_new(out, "files", items);
    size_t n = json_array_size(items);
    if (more) {
        const char *last =
            n ? json_string_value(json_object_get(json_array_get(items, n - 1), "path")) : NULL;
        char tok[32];
        if (!last) { /* an empty page that still has more: a synthetic marker */
            snprintf(tok, sizeof tok, "~page%d", r->pages);
            last = tok;
        }
        free(hs->last_path);
        hs->last_path = strdup(last);
        json_object_set(hs->resume, last, next);
        json_object_set_new(out, "next", json_string(last));
        read_ahead(hs, last, next);
    }
    json_decref(body);
    return out;
}

static void list_page_done(struct req *r, json_t *body)
{
    json_t *out = list_page(r, body);
    req_done(r, out);
}

static void list_start(struct http_src *hs, struct driver_call *call, struct req **rp,
                       const char *after)
{
    json_t *ctx = json_deep_copy(hs->base);

    if (!after) { /* a listing from the start */
        const json_t *inc = json_object_get(json_object_get(hs->cfg, "list"), "incremental");
        hs->list = json_object_get(hs->cfg, "list");
        hs->incremental = 0;
        if (inc && hs->s->cursor) {
            hs->incremental = 1;
            if (json_object_get(inc, "list"))
                hs->list = json_object_get(inc, "list");
            json_decref(hs->cursor);
            hs->cursor = json_deep_copy(hs->s->cursor);
        }
        json_decref(hs->page);
        hs->page = json_object();
        hs->list_done = 0;
        json_object_clear(hs->seen);
        json_object_clear(hs->att_of);
    } else {
        json_t *st = json_object_get(hs->resume, after);
        if (!hs->list)
            hs->list = json_object_get(hs->cfg, "list");
        json_decref(hs->page);
        hs->page = json_deep_copy(st ? st : json_object());
        if (!st) /* an unknown place (an earlier run's checkpoint): start over */
            hs->list_done = 0;
    }
    if (hs->s->cursor)
        json_object_set(ctx, "cursor", (json_t *)hs->s->cursor);
    json_object_set(ctx, "page", hs->page);
    *rp = req_new(hs, REQ_LIST, call, hs->list, ctx);
}

/* ---- fetching --------------------------------------------------------------------- */

/* reuse: the file kept from the last fetch is written over (see
 * fs_payload_open), for answers given at once, before the next call */
static int write_payload(struct http_src *hs, const char *name, int reuse, const char *p, size_t n,
                         char *err, size_t errlen)
{
    int fd = fs_payload_open(hs->s->payload_dirfd, name, reuse);
    size_t off = 0;
    struct stat st;

    if (fd < 0) {
        snprintf(err, errlen, "cannot write a payload: %s", strerror(errno));
        return -1;
    }
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0) {
            snprintf(err, errlen, "writing a payload: %s", strerror(errno));
            close(fd);
            unlinkat(hs->s->payload_dirfd, name, 0);
            return -1;
        }
        off += (size_t)w;
    }
    if (reuse && (fstat(fd, &st) < 0 || (st.st_size > (off_t)n && ftruncate(fd, (off_t)n) < 0))) {
        snprintf(err, errlen, "writing a payload: %s", strerror(errno));
        close(fd);
        unlinkat(hs->s->payload_dirfd, name, 0);
        return -1;
    }
    close(fd);
    return 0;
}

/* Answers a fetch with the bytes of its content. */
static void fetch_answer(struct req *r, const char *p, size_t n)
{
    struct http_src *hs = r->hs;
    char err[300], rel[96];
    const char *path = json_string_value(json_object_get(json_object_get(r->ctx, "args"), "path"));
    json_t *rec = json_object_get(hs->items, path ? path : "");
    char v[200];

    if ((int64_t)n > DRIVER_MAX_PAYLOAD) {
        req_fail(r, "'%s' is over the %lld-byte limit", path, (long long)DRIVER_MAX_PAYLOAD);
        return;
    }
    snprintf(r->file, sizeof r->file, "h%06ld", ++hs->s->payload_seq);
    if (write_payload(hs, r->file, 0, p, n, err, sizeof err) < 0) {
        r->file[0] = '\0';
        req_fail(r, "%s", err);
        return;
    }
    snprintf(rel, sizeof rel, "%.20s/%s", hs->s->payload_dir, r->file);
    json_t *out = json_pack("{s:s,s:I}", "file", rel, "size", (json_int_t)n);
    json_t *att = json_object_get(hs->atts, path ? path : "");
    if (att) {
        const json_t *spec = json_object_get(hs->list, "attachments");
        json_t *ctx = json_deep_copy(hs->base);
        json_object_set(ctx, "record", json_object_get(att, "record"));
        json_object_set(ctx, "key", json_object_get(att, "key"));
        json_object_set(ctx, "attachment", json_object_get(att, "attachment"));
        version_of(json_object_get(att, "attachment"), spec, ctx, v, sizeof v);
        json_object_set_new(out, "version", json_string(v));
        json_decref(ctx);
    } else if (rec) {
        json_t *ctx = json_deep_copy(hs->base);
        json_object_set(ctx, "record", rec);
        version_of(rec, json_object_get(hs->list, "document"), ctx, v, sizeof v);
        json_object_set_new(out, "version", json_string(v));
        json_decref(ctx);
    }
    r->file[0] = '\0';
    req_done(r, out);
}

/* The content a fetch spec picks out of a JSON answer (or the raw bytes). */
static void content_from(struct req *r, const char *p, size_t n, int final)
{
    const json_t *spec = r->spec;
    const char *sel = cfg_str(spec, "select"), *line = cfg_str(spec, "line"),
               *dec = cfg_str(spec, "decode");
    json_t *body = NULL;

    if (!sel && !line && !json_object_get(spec, "paginator")) {
        fetch_answer(r, p, n);
        return;
    }
    body = json_loadb(p, n, 0, NULL);
    if (!body) {
        req_fail(r, "the answer to %s is not JSON", r->url);
        return;
    }
    if (!r->acc)
        r->acc = json_array();
    http_select(body, sel ? sel : "", r->acc);
    json_decref(body);
    if (!final)
        return;
    struct buf out = BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(r->acc, i, v)
    {
        if (line) {
            char err[200];
            json_t *ctx = json_pack("{s:O}", "record", v);
            char *s = http_render(line, ctx, HTTP_ENC_RAW, NULL, err, sizeof err);
            if (s)
                buf_addf(&out, "%s\n", s);
            free(s);
            json_decref(ctx);
        } else if (json_is_string(v)) {
            buf_adds(&out, json_string_value(v));
        } else {
            char *d = json_dumps(v, JSON_INDENT(1) | JSON_ENCODE_ANY);
            if (d)
                buf_addf(&out, "%s\n", d);
            free(d);
        }
    }
    if (dec && (strcmp(dec, "base64") == 0 || strcmp(dec, "base64url") == 0)) {
        long k = http_base64_decode(out.data ? out.data : (char *)"", out.len);
        if (k < 0) {
            buf_release(&out);
            req_fail(r, "the content of %s is not %s", r->url, dec);
            return;
        }
        out.len = (size_t)k;
    }
    fetch_answer(r, out.data ? out.data : "", out.len);
    buf_release(&out);
}

/* ---- tools that return JSON records --------------------------------------------- */

static void on_success(struct req *r, long status)
{
    struct http_src *hs = r->hs;
    (void)status;

    if (r->kind == REQ_TOKEN) {
        json_t *body = json_loads(buf_str(&r->resp), 0, NULL);
        const char *tok = json_string_value(json_object_get(body, "access_token"));
        if (!tok) {
            json_decref(body);
            req_fail(r, "oauth2: the token endpoint gave no access_token");
            return;
        }
        wipe_free(hs->token);
        hs->token = strdup(tok);
        json_object_clear(body); /* the token leaves memory with the body */
        json_decref(body);
        explicit_bzero(r->resp.data, r->resp.len);
        hs->refreshing = 0;
        req_free(r);
        auth_unblock(hs);
        return;
    }
    if (r->kind == REQ_LOGIN) {
        login_step_done(r);
        return;
    }
    if (r->kind == REQ_LIST && r->ahead == 1 && !r->call) { /* kept until asked for */
        r->ahead = 2;
        return;
    }
    if (r->kind == REQ_LIST) {
        r->ahead = 0;
        json_t *body = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
        if (!body) {
            req_fail(r, "the answer to %s is not JSON", r->url);
            return;
        }
        if (r->pre) { /* the change token of now (Gmail's historyId), then the listing */
            json_t *c = http_path(body, cfg_str(r->spec, "path"));
            if (c && !json_is_null(c)) {
                json_decref(hs->cursor);
                hs->cursor = json_deep_copy(c);
            }
            json_decref(body);
            r->pre = 0;
            r->spec = hs->list;
            free(r->url);
            r->url = NULL;
            r->attempt = 0;
            buf_reset(&r->resp);
            req_send(r);
            return;
        }
        list_page_done(r, body);
        return;
    }
    /* fetch and tool requests may page too */
    const json_t *pag = json_object_get(r->spec, "paginator");
    const char *ptype = cfg_str(pag, "type");
    json_t *body = NULL, *next = NULL;
    if (ptype) {
        body = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
        if (strcmp(ptype, "cursor") == 0) {
            json_t *c = http_path(body, cfg_str(pag, "path"));
            const char *stop = cfg_str(pag, "has_more");
            char *cs = c ? http_scalar(c) : NULL;
            if (cs && *cs && (!stop || truthy(http_path(body, stop))))
                next = json_pack("{s:s}", "cursor", cs);
            free(cs);
        } else if (strcmp(ptype, "continue") == 0) {
            json_t *c = http_path(body, cfg_str(pag, "path") ? cfg_str(pag, "path") : "continue");
            if (json_is_object(c))
                next = json_pack("{s:O}", "continue", c);
        } else if (strcmp(ptype, "link") == 0 && r->link_next[0]) {
            next = json_pack("{s:s}", "link", r->link_next);
        }
        json_decref(body);
    }
    if (++r->pages >= HTTP_MAX_PAGES) {
        json_decref(next);
        next = NULL;
    }
    if (r->kind == REQ_FETCH) {
        content_from(r, r->resp.data ? r->resp.data : "", r->resp.len, next == NULL);
    } else { /* REQ_TOOL: the selected records, as JSON */
        json_t *b = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
        if (!b) {
            json_decref(next);
            req_fail(r, "the answer to %s is not JSON", r->url);
            return;
        }
        if (!r->acc)
            r->acc = json_array();
        http_select(b, cfg_str(r->spec, "records"), r->acc);
        json_decref(b);
        if (!next || json_array_size(r->acc) >= (size_t)(r->limit ? r->limit : 1000)) {
            json_t *out = json_pack("{s:O}", "records", r->acc);
            json_decref(next);
            req_done(r, out);
            return;
        }
    }
    if (next) {
        json_object_set_new(r->ctx, "page", next);
        free(r->url);
        r->url = NULL;
        r->attempt = 0;
        req_send(r);
    }
}

/* ---- the driver's operations ------------------------------------------------------ */

static int http_call(struct driver_source *s, struct driver_call *call, const char *op,
                     json_t *args, json_t **out, char *err, size_t errlen)
{
    struct http_src *hs = s->state;
    struct req *r = NULL;

    if (strcmp(op, "list") == 0) {
        const char *after = json_string_value(json_object_get(args, "after"));
        if (after && hs->list_done && hs->last_path && strcmp(after, hs->last_path) == 0) {
            *out = json_pack("{s:[]}", "files");
            return 0;
        }
        if (hs->ahead && after && hs->ahead_after && strcmp(after, hs->ahead_after) == 0) {
            r = hs->ahead; /* read ahead: answered already or on its way */
            hs->ahead = NULL;
            free(hs->ahead_after);
            hs->ahead_after = NULL;
            json_decref(hs->page);
            hs->page = json_deep_copy(json_object_get(r->ctx, "page"));
            json_object_set(r->ctx, "args", args);
            if (r->ahead == 2) { /* answered already: the page is made now, so the
                                    explorer has it before the master stores the last */
                json_t *body = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
                if (!body) {
                    snprintf(err, errlen, "the answer to %.200s is not JSON", r->url);
                    req_free(r);
                    return -1;
                }
                r->ahead = 0;
                *out = list_page(r, body);
                req_free(r);
                return 0;
            }
            r->call = call;
            r->ahead = 0; /* in flight: answered as usual when it lands */
            return DRIVER_PENDING;
        }
        if (hs->ahead) { /* the explorer went elsewhere */
            hs->ahead->call = NULL;
            netloop_timer_cancel(s->net, on_timer, hs->ahead);
            req_free(hs->ahead);
        }
        list_start(hs, call, &r, after);
        if (!r) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        const json_t *start = json_object_get(
            json_object_get(json_object_get(hs->cfg, "list"), "incremental"), "start");
        if (!after && !hs->incremental && start) { /* a full listing: where changes start */
            r->pre = 1;
            r->spec = start;
        }
        json_object_set(r->ctx, "args", args);
        req_later(r, 0); /* never complete() before returning DRIVER_PENDING */
        return DRIVER_PENDING;
    }
    if (strcmp(op, "fetch") == 0) {
        const char *path = json_string_value(json_object_get(args, "path"));
        json_t *rec = path ? json_object_get(hs->items, path) : NULL;
        json_t *att = path ? json_object_get(hs->atts, path) : NULL;
        const json_t *var;
        if (att) { /* an attachment: the spec's own request */
            var = json_object_get(json_object_get(hs->list, "attachments"), "fetch");
            json_t *ctx = json_deep_copy(hs->base);
            json_object_set(ctx, "record", json_object_get(att, "record"));
            json_object_set(ctx, "key", json_object_get(att, "key"));
            json_object_set(ctx, "attachment", json_object_get(att, "attachment"));
            json_object_set(ctx, "args", args);
            json_object_set_new(ctx, "page", json_object());
            if (!json_object_get(var, "request")) {
                json_decref(ctx);
                snprintf(err, errlen, "the toolkit's attachments have no fetch request");
                return -1;
            }
            r = req_new(hs, REQ_FETCH, call, var, ctx);
            if (!r) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            req_later(r, 0);
            return DRIVER_PENDING;
        }
        if (!rec) {
            snprintf(err, errlen, "'%.200s' was not in a listing of this source", path ? path : "");
            return -1;
        }
        var = variant_of(hs, rec);
        json_t *ctx = json_deep_copy(hs->base);
        json_object_set(ctx, "record", rec);
        json_object_set(ctx, "args", args);
        json_object_set_new(ctx, "page", json_object());
        r = req_new(hs, REQ_FETCH, call, var, ctx);
        if (!r) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (!json_object_get(var, "request")) { /* the record itself is the content */
            size_t n = 0;
            char *d = record_content(var, rec, &n, err, errlen);
            req_free(r);
            if (!d) {
                if (!*err)
                    snprintf(err, errlen, "the content of '%.200s' is not %s", path,
                             cfg_str(var, "decode"));
                return -1;
            }
            /* answered now, so before the explorer's next call: one file,
             * rewritten per record and kept by the explorer ("reuse"), as the
             * fs driver does (a create and an unlink per tiny record cost
             * more than the record) */
            char rel[64];
            int rc = write_payload(hs, "fetched", 1, d, n, err, errlen);
            free(d);
            if (rc < 0)
                return -1;
            snprintf(rel, sizeof rel, "%.20s/fetched", s->payload_dir);
            *out = json_pack("{s:s,s:I,s:b}", "file", rel, "size", (json_int_t)n, "reuse", 1);
            return 0;
        }
        req_later(r, 0); /* never complete() before returning DRIVER_PENDING */
        return DRIVER_PENDING;
    }
    if (strncmp(op, "records:", 8) == 0) { /* a named request: its records come back as JSON */
        const json_t *spec = json_object_get(json_object_get(hs->cfg, "requests"), op + 8);
        if (!spec) {
            snprintf(err, errlen, "the toolkit has no request '%s'", op + 8);
            return -1;
        }
        json_t *ctx = json_deep_copy(hs->base);
        json_object_set(ctx, "args", args);
        json_object_set_new(ctx, "page", json_object());
        r = req_new(hs, REQ_TOOL, call, spec, ctx);
        if (!r) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        r->limit = (int)json_integer_value(json_object_get(args, "limit"));
        req_later(r, 0); /* never complete() before returning DRIVER_PENDING */
        return DRIVER_PENDING;
    }
    snprintf(err, errlen, "the http driver has no operation '%s'", op);
    return -1;
}

static int http_present(struct driver_source *s, const char *external_id)
{
    struct http_src *hs = s->state;
    const char *hash = strchr(external_id, '#');
    char id[1024];
    size_t n = hash ? (size_t)(hash - external_id) : strlen(external_id);

    if (n >= sizeof id)
        return -1;
    memcpy(id, external_id, n);
    id[n] = '\0';
    if (json_object_get(hs->deleted, id))
        return 0;
    /* an attachment ("doc.json/name") goes with its record; a record listed again in
     * this run had all its attachments listed */
    for (char *sl = strrchr(id, '/'); sl; sl = strrchr(id, '/')) {
        *sl = '\0';
        if (json_object_get(hs->deleted, id))
            return 0;
        if (json_object_get(hs->att_of, id)) {
            memcpy(id, external_id, n);
            id[n] = '\0';
            return json_object_get(hs->seen, id) ? 1 : 0;
        }
    }
    memcpy(id, external_id, n); /* restored */
    id[n] = '\0';
    if (!hs->complete || hs->incremental)
        return -1; /* a partial or incremental listing cannot tell what is gone */
    return json_object_get(hs->seen, id) ? 1 : 0;
}

static void http_close(struct driver_source *s)
{
    struct http_src *hs = s->state;

    if (!hs)
        return;
    while (hs->reqs) {
        netloop_timer_cancel(s->net, on_timer, hs->reqs);
        hs->reqs->call = NULL;
        req_free(hs->reqs);
    }
    while (hs->blocked) {
        netloop_timer_cancel(s->net, on_timer, hs->blocked);
        hs->blocked->call = NULL;
        req_free(hs->blocked);
    }
    wipe_free(hs->token);
    wipe_free(hs->password);
    wipe_free(hs->refresh_token);
    wipe_free(hs->client_secret);
    free(hs->user);
    free(hs->base_url);
    free(hs->last_path);
    free(hs->ahead_after);
    curl_share_cleanup(hs->share);
    json_decref(hs->base);
    json_decref(hs->page);
    json_decref(hs->resume);
    json_decref(hs->items);
    json_decref(hs->seen);
    json_decref(hs->deleted);
    json_decref(hs->atts);
    json_decref(hs->att_of);
    json_decref(hs->cursor);
    free(hs);
    s->state = NULL;
}

extern const char http_toolkit_schema[]; /* schema/http-toolkit.schema.json, embedded */

/* The toolkit's "http" section against schema/http-toolkit.schema.json. */
int driver_http_check(const json_t *toolkit, char *where, size_t wherelen, char *err,
                      size_t errlen);
int driver_http_check(const json_t *toolkit, char *where, size_t wherelen, char *err, size_t errlen)
{
    static json_t *schema;
    const json_t *sec = json_object_get(toolkit, "http");
    char at[512];

    if (!schema && !(schema = json_loads(http_toolkit_schema, 0, NULL))) {
        snprintf(where, wherelen, "%s", "");
        snprintf(err, errlen, "the embedded http toolkit schema is not JSON");
        return -1;
    }
    if (!sec) {
        snprintf(where, wherelen, "%s", "");
        snprintf(err, errlen, "a toolkit of driver 'http' needs an \"http\" section");
        return -1;
    }
    if (jsonschema_check_at(schema, sec, at, sizeof at, err, errlen) < 0) {
        /* "at '/auth/type': must be ..." -> "http.auth.type: must be ..." */
        const char *what =
            strncmp(err, "at '", 4) == 0 && strstr(err, "': ") ? strstr(err, "': ") + 3 : err;
        char msg[300], name[200] = "http";
        for (size_t i = 0, k = 4; at[i] && k + 1 < sizeof name; i++)
            name[k++] = at[i] == '/' ? '.' : at[i], name[k] = '\0';
        snprintf(msg, sizeof msg, "%s: %s", name, what);
        snprintf(err, errlen, "%s", msg);
        snprintf(where, wherelen, "/http%s", at);
        return -1;
    }
    return 0;
}

/* operations: "list", "fetch" and "records:NAME" for each named request (NULL: checked
 * against the toolkit's own "http" section instead, by driver_http_check) */
const struct driver_ops driver_http_ops = {"http",       http_open,  http_call,
                                           http_present, http_close, NULL};
