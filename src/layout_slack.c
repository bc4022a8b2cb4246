/*
 * The Slack export layout. Day files are parsed one at a time (a workspace
 * export may hold gigabytes of JSON); only thread replies are kept until the
 * end, because a reply may be posted days after its parent and lives in the
 * later day's file.
 */
#include "layout_slack.h"

#include "extract_layout.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_DAY_MAX ((size_t)64 << 20)
#define SLACK_THREAD_BYTES ((long long)64 << 20) /* reply text kept for threads */

struct slack {
    char root[1024];  /* "" or "export/": where channels.json lies */
    json_t *users;    /* id -> display name */
    json_t *channels; /* folder name -> channel object */
    json_t *threads;  /* "channel\x1fts" -> {channel, day, parent, replies} */
    long long thread_bytes;
    int threads_cut;
};

static int is_date_json(const char *s)
{
    /* YYYY-MM-DD.json */
    if (strlen(s) != 15 || strcmp(s + 10, ".json") != 0)
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

static const char *slack_index_names[] = {"users.json", "channels.json", "groups.json",
                                          "mpims.json", "dms.json",      "org_users.json"};

static int slack_is_index(const char *base)
{
    for (size_t i = 0; i < sizeof slack_index_names / sizeof slack_index_names[0]; i++)
        if (strcmp(base, slack_index_names[i]) == 0)
            return 1;
    return 0;
}

static int slack_preload(const char *path)
{
    const char *base = layout_basename(path);
    int depth = 0;

    for (const char *p = path; *p; p++)
        depth += *p == '/';
    return depth <= 1 && slack_is_index(base);
}

int slack_is_day(const struct slack *s, const char *path)
{
    size_t rl = strlen(s->root);
    const char *rest, *slash;

    if (strncmp(path, s->root, rl) != 0)
        return 0;
    rest = path + rl;
    slash = strchr(rest, '/');
    return slash && slash != rest && !strchr(slash + 1, '/') && is_date_json(slash + 1);
}

static const char *user_name(json_t *u)
{
    json_t *p = json_object_get(u, "profile");
    const char *keys[] = {"real_name", "display_name"};

    for (int i = 0; i < 2; i++) {
        const char *v = json_string_value(json_object_get(p, keys[i]));
        if (v && *v)
            return v;
    }
    if (json_string_value(json_object_get(u, "real_name")) &&
        *json_string_value(json_object_get(u, "real_name")))
        return json_string_value(json_object_get(u, "real_name"));
    return json_string_value(json_object_get(u, "name"));
}

static void slack_load_users(struct slack *s, json_t *arr)
{
    size_t i;
    json_t *u;

    json_array_foreach(arr, i, u)
    {
        const char *id = json_string_value(json_object_get(u, "id"));
        const char *name = user_name(u);
        if (id && name)
            json_object_set_new(s->users, id, json_string(name));
    }
}

static void slack_load_channels(struct slack *s, json_t *arr, const char *kind)
{
    size_t i;
    json_t *c;

    json_array_foreach(arr, i, c)
    {
        /* public channels, private groups and mpims are folders named by
         * name; direct messages by id */
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *id = json_string_value(json_object_get(c, "id"));
        json_t *copy;
        if (!json_is_object(c) || (!name && !id))
            continue;
        copy = json_deep_copy(c);
        json_object_set_new(copy, "trawl_kind", json_string(kind));
        json_object_set_new(s->channels, name ? name : id, copy);
    }
}

static json_t *slack_parse_index(json_t *preloaded, const char *root, const char *base)
{
    char key[1200];
    json_t *v;

    snprintf(key, sizeof key, "%s%s", root, base);
    v = json_object_get(preloaded, key);
    if (!json_is_string(v))
        return NULL;
    return json_loadb(json_string_value(v), json_string_length(v), 0, NULL);
}

struct slack *slack_begin(const char *const *names, size_t n, json_t *preloaded)
{
    struct slack *s;
    const char *index = NULL;
    size_t days = 0;

    for (size_t i = 0; i < n && !index; i++) {
        const char *b = layout_basename(names[i]);
        if ((strcmp(b, "channels.json") == 0 || strcmp(b, "users.json") == 0) &&
            slack_preload(names[i]))
            index = names[i];
    }
    if (!index)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->root, sizeof s->root, "%.*s", (int)(layout_basename(index) - index), index);
    for (size_t i = 0; i < n; i++)
        days += slack_is_day(s, names[i]);
    if (days == 0) {
        free(s);
        return NULL;
    }
    s->users = json_object();
    s->channels = json_object();
    s->threads = json_object();
    for (size_t i = 0; i < sizeof slack_index_names / sizeof slack_index_names[0]; i++) {
        json_t *v = slack_parse_index(preloaded, s->root, slack_index_names[i]);
        if (strcmp(slack_index_names[i], "users.json") == 0 ||
            strcmp(slack_index_names[i], "org_users.json") == 0)
            slack_load_users(s, v);
        else
            slack_load_channels(s, v,
                                strcmp(slack_index_names[i], "channels.json") == 0 ? "channel"
                                : strcmp(slack_index_names[i], "groups.json") == 0 ? "private"
                                : strcmp(slack_index_names[i], "mpims.json") == 0  ? "group_dm"
                                                                                   : "dm");
        json_decref(v);
    }
    return s;
}

void slack_free(struct slack *s)
{
    if (!s)
        return;
    json_decref(s->users);
    json_decref(s->channels);
    json_decref(s->threads);
    free(s);
}

/* ---- messages ------------------------------------------------------------------ */

static const char *msg_author(struct slack *s, json_t *m)
{
    const char *id = json_string_value(json_object_get(m, "user"));
    const char *v;

    if (id && (v = json_string_value(json_object_get(s->users, id))))
        return v;
    v = json_string_value(json_object_get(json_object_get(m, "user_profile"), "real_name"));
    if (v && *v)
        return v;
    v = json_string_value(json_object_get(m, "username"));
    if (v && *v)
        return v;
    v = json_string_value(json_object_get(json_object_get(m, "bot_profile"), "name"));
    if (v && *v)
        return v;
    return id ? id : "unknown";
}

/* Adds Slack's mrkdwn as plain text: <@U1> -> @name, <#C1|general> ->
 * #general, <https://x|label> -> label (https://x), entities decoded. */
static void slack_text(struct slack *s, struct buf *out, const char *t)
{
    struct buf tmp = BUF_INIT;

    if (!t)
        return;
    while (*t) {
        if (*t == '<') {
            const char *end = strchr(t, '>');
            if (end) {
                const char *bar = memchr(t, '|', (size_t)(end - t));
                const char *in = t + 1;
                size_t n = (size_t)((bar ? bar : end) - in);
                buf_reset(&tmp);
                buf_add(&tmp, in, n);
                if (in[0] == '@') {
                    const char *name =
                        json_string_value(json_object_get(s->users, buf_str(&tmp) + 1));
                    buf_addch(out, '@');
                    if (bar)
                        buf_add(out, bar + 1, (size_t)(end - bar - 1));
                    else
                        buf_adds(out, name ? name : buf_str(&tmp) + 1);
                } else if (in[0] == '#') {
                    buf_addch(out, '#');
                    if (bar)
                        buf_add(out, bar + 1, (size_t)(end - bar - 1));
                    else
                        buf_adds(out, buf_str(&tmp) + 1);
                } else if (in[0] == '!') {
                    buf_addch(out, '@');
                    buf_add(out, in + 1, n - 1);
                } else if (bar) {
                    buf_add(out, bar + 1, (size_t)(end - bar - 1));
                    buf_addf(out, " (%s)", buf_str(&tmp));
                } else {
                    buf_add(out, in, n);
                }
                t = end + 1;
                continue;
            }
        }
        if (*t == '&') {
            if (strncmp(t, "&lt;", 4) == 0) {
                buf_addch(out, '<');
                t += 4;
                continue;
            }
            if (strncmp(t, "&gt;", 4) == 0) {
                buf_addch(out, '>');
                t += 4;
                continue;
            }
            if (strncmp(t, "&amp;", 5) == 0) {
                buf_addch(out, '&');
                t += 5;
                continue;
            }
        }
        buf_addch(out, *t++);
    }
    buf_release(&tmp);
}

/* "[09:30] Ada Lovelace: text" plus its files and attachments. */
static void slack_line(struct slack *s, struct buf *out, json_t *m, json_t *files, int full)
{
    double ts = atof(json_string_value(json_object_get(m, "ts"))
                         ? json_string_value(json_object_get(m, "ts"))
                         : "0");
    char iso[32];
    json_t *f, *att;
    size_t i;

    layout_iso_time(ts, iso, sizeof iso);
    /* a thread spans days: its lines carry the date */
    if (full)
        buf_addf(out, "[%.10s %.5s] %s: ", iso[0] ? iso : "----------", iso[0] ? iso + 11 : "--:--",
                 msg_author(s, m));
    else
        buf_addf(out, "[%.5s] %s: ", iso[0] ? iso + 11 : "--:--", msg_author(s, m));
    slack_text(s, out, json_string_value(json_object_get(m, "text")));
    buf_addch(out, '\n');
    json_array_foreach(json_object_get(m, "files"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *title = json_string_value(json_object_get(f, "title"));
        const char *url = json_string_value(json_object_get(f, "url_private"));
        const char *link = json_string_value(json_object_get(f, "permalink"));
        buf_addf(out, "  [file: %s%s%s%s%s]\n", name ? name : "(unnamed)",
                 title && (!name || strcmp(title, name)) ? " \"" : "",
                 title && (!name || strcmp(title, name)) ? title : "",
                 title && (!name || strcmp(title, name)) ? "\"" : "", "");
        if (files) {
            json_t *o = json_object();
            if (name)
                json_object_set_new(o, "name", json_string(name));
            if (title)
                json_object_set_new(o, "title", json_string(title));
            if (url)
                json_object_set_new(o, "url", json_string(url));
            if (link)
                json_object_set_new(o, "permalink", json_string(link));
            json_array_append_new(files, o);
        }
    }
    json_array_foreach(json_object_get(m, "attachments"), i, att)
    {
        const char *title = json_string_value(json_object_get(att, "title"));
        const char *text = json_string_value(json_object_get(att, "text"));
        const char *fb = json_string_value(json_object_get(att, "fallback"));
        if (title || text || fb) {
            buf_adds(out, "  > ");
            slack_text(s, out, title ? title : "");
            if (title && (text || fb))
                buf_adds(out, ": ");
            slack_text(s, out, text ? text : (title ? "" : fb));
            buf_addch(out, '\n');
        }
    }
}

static void add_unique(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return;
    json_array_append_new(arr, json_string(s));
}

/* Keeps a reply (or a parent) for the thread documents. */
static int slack_keep(struct slack *s, const char *channel, const char *day, const char *tts,
                      json_t *m, int parent)
{
    char key[600];
    json_t *t, *lite;
    const char *text = json_string_value(json_object_get(m, "text"));

    if (s->thread_bytes > SLACK_THREAD_BYTES) {
        s->threads_cut = 1;
        return -1;
    }
    snprintf(key, sizeof key, "%.300s\x1f%.200s", channel, tts);
    t = json_object_get(s->threads, key);
    if (!t) {
        t = json_pack("{s:s,s:s,s:[]}", "channel", channel, "thread_ts", tts, "replies");
        json_object_set_new(s->threads, key, t);
    }
    lite = json_object();
    json_object_set(lite, "ts", json_object_get(m, "ts"));
    json_object_set(lite, "user", json_object_get(m, "user"));
    json_object_set(lite, "user_profile", json_object_get(m, "user_profile"));
    json_object_set(lite, "username", json_object_get(m, "username"));
    json_object_set(lite, "text", json_object_get(m, "text"));
    json_object_set(lite, "files", json_object_get(m, "files"));
    s->thread_bytes += (long long)(text ? strlen(text) : 0) + 64;
    if (parent) {
        json_object_set_new(t, "parent", lite);
        json_object_set_new(t, "day", json_string(day));
    } else {
        json_array_append_new(json_object_get(t, "replies"), lite);
    }
    return 0;
}

int slack_day(struct slack *s, const char *path, const char *data, size_t len, const char *mtime,
              extract_emit_fn fn, void *arg)
{
    struct extract_doc d = {0};
    struct buf text, title = BUF_INIT;
    json_error_t jerr;
    json_t *msgs, *m, *meta = json_object(), *authors = json_array(), *files = json_array();
    json_t *ch;
    const char *rest = path + strlen(s->root);
    const char *slash = strchr(rest, '/');
    char channel[512], date[16], created[32] = "";
    long count = 0, threads = 0;
    size_t i;
    int rc;

    buf_init(&text, EXTRACT_MAX_TEXT);
    snprintf(channel, sizeof channel, "%.*s", slash ? (int)(slash - rest) : 0, rest);
    snprintf(date, sizeof date, "%.10s", slash ? slash + 1 : "");
    ch = json_object_get(s->channels, channel);
    json_object_set_new(meta, "layout", json_string("slack"));
    json_object_set_new(meta, "channel", json_string(channel));
    json_object_set_new(meta, "date", json_string(date));
    if (json_string_value(json_object_get(ch, "id")))
        json_object_set(meta, "channel_id", json_object_get(ch, "id"));
    if (json_string_value(json_object_get(json_object_get(ch, "topic"), "value")) &&
        *json_string_value(json_object_get(json_object_get(ch, "topic"), "value")))
        json_object_set(meta, "channel_topic",
                        json_object_get(json_object_get(ch, "topic"), "value"));
    if (json_string_value(json_object_get(json_object_get(ch, "purpose"), "value")) &&
        *json_string_value(json_object_get(json_object_get(ch, "purpose"), "value")))
        json_object_set(meta, "channel_purpose",
                        json_object_get(json_object_get(ch, "purpose"), "value"));
    if (json_object_get(ch, "trawl_kind"))
        json_object_set(meta, "conversation", json_object_get(ch, "trawl_kind"));
    if (ch && !json_object_get(ch, "name")) {
        /* a direct message: named by its members */
        json_t *mem;
        size_t k;
        buf_adds(&title, "DM");
        json_array_foreach(json_object_get(ch, "members"), k, mem)
        {
            const char *u = json_string_value(
                json_object_get(s->users, json_string_value(mem) ? json_string_value(mem) : ""));
            buf_addf(&title, "%s%s", k ? ", " : " ",
                     u ? u : (json_string_value(mem) ? json_string_value(mem) : "?"));
        }
        buf_addf(&title, " %s", date);
    } else {
        buf_addf(&title, "#%s %s", channel, date);
    }

    msgs = json_loadb(data, len, 0, &jerr);
    if (!json_is_array(msgs)) {
        char e[300];
        if (msgs)
            snprintf(e, sizeof e, "slack day file is not a JSON array of messages");
        else
            snprintf(e, sizeof e, "slack day file: invalid JSON at line %d column %d: %s",
                     jerr.line, jerr.column, jerr.text);
        json_object_set_new(meta, "extract_error", json_string(e));
    }
    json_array_foreach(msgs, i, m)
    {
        const char *ts = json_string_value(json_object_get(m, "ts"));
        const char *tts = json_string_value(json_object_get(m, "thread_ts"));
        const char *sub = json_string_value(json_object_get(m, "subtype"));
        int reply = tts && ts && strcmp(tts, ts) != 0;

        if (!json_is_object(m))
            continue;
        if (reply) {
            /* in its thread's document, unless too many threads to keep */
            if (slack_keep(s, channel, path, tts, m, 0) == 0 &&
                (!sub || strcmp(sub, "thread_broadcast") != 0))
                continue;
        } else if (tts) {
            slack_keep(s, channel, path, tts, m, 1);
            threads++;
        }
        if (!created[0] && ts)
            layout_iso_time(atof(ts), created, sizeof created);
        slack_line(s, &text, m, files, 0);
        if (tts && !reply) {
            json_int_t n = json_integer_value(json_object_get(m, "reply_count"));
            if (n > 0)
                buf_addf(&text, "  (thread: %lld replies)\n", (long long)n);
        }
        add_unique(authors, msg_author(s, m));
        count++;
    }
    json_object_set_new(meta, "message_count", json_integer(count));
    json_object_set_new(meta, "thread_count", json_integer(threads));
    json_object_set_new(meta, "authors", authors);
    if (json_array_size(files))
        json_object_set(meta, "files", files);
    json_decref(files);
    d.part = path;
    d.title = buf_str(&title);
    d.mime = "text/plain";
    d.text = buf_str(&text);
    d.text_len = text.len;
    d.created = created[0] ? created : NULL;
    d.modified = mtime;
    if (json_array_size(authors) == 1)
        d.author = json_string_value(json_array_get(authors, 0));
    d.metadata = meta;
    rc = fn(&d, arg);
    json_decref(msgs);
    json_decref(meta);
    buf_release(&text);
    buf_release(&title);
    return rc;
}

static int ts_cmp(const void *x, const void *y)
{
    double a = atof(json_string_value(json_object_get(*(json_t *const *)x, "ts"))
                        ? json_string_value(json_object_get(*(json_t *const *)x, "ts"))
                        : "0");
    double b = atof(json_string_value(json_object_get(*(json_t *const *)y, "ts"))
                        ? json_string_value(json_object_get(*(json_t *const *)y, "ts"))
                        : "0");
    return a < b ? -1 : a > b;
}

static int slack_thread(struct slack *s, json_t *t, extract_emit_fn fn, void *arg)
{
    json_t *replies = json_object_get(t, "replies"), *parent = json_object_get(t, "parent");
    json_t *meta = json_object(), *people = json_array(), **v;
    const char *channel = json_string_value(json_object_get(t, "channel"));
    const char *tts = json_string_value(json_object_get(t, "thread_ts"));
    struct buf text, title = BUF_INIT, part = BUF_INIT;
    struct extract_doc d = {0};
    char created[32], modified[32] = "";
    size_t n = json_array_size(replies);
    int rc;

    buf_init(&text, EXTRACT_MAX_TEXT);
    v = calloc(n ? n : 1, sizeof *v);
    if (!v) {
        json_decref(meta);
        json_decref(people);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(replies, i);
    qsort(v, n, sizeof *v, ts_cmp);
    layout_iso_time(atof(tts), created, sizeof created);
    if (parent) {
        slack_line(s, &text, parent, NULL, 1);
        add_unique(people, msg_author(s, parent));
    } else {
        buf_adds(&text, "(the thread's first message is not in this export)\n");
    }
    for (size_t i = 0; i < n; i++) {
        buf_adds(&text, "  ");
        slack_line(s, &text, v[i], NULL, 1);
        add_unique(people, msg_author(s, v[i]));
    }
    if (n)
        layout_iso_time(atof(json_string_value(json_object_get(v[n - 1], "ts"))
                                 ? json_string_value(json_object_get(v[n - 1], "ts"))
                                 : "0"),
                        modified, sizeof modified);
    buf_addf(&part, "%s%s/threads/%s", s->root, channel, tts);
    {
        struct buf first = BUF_INIT;
        slack_text(s, &first, parent ? json_string_value(json_object_get(parent, "text")) : "");
        size_t cut = first.len > 80 ? 80 : first.len;
        while (cut > 0 && cut < first.len && ((unsigned char)first.data[cut] & 0xc0) == 0x80)
            cut--;
        for (size_t i = 0; i < cut; i++)
            if (first.data[i] == '\n')
                first.data[i] = ' ';
        buf_addf(&title, "#%s thread: %.*s%s", channel, (int)cut, first.data ? first.data : "",
                 cut < first.len ? "..." : "");
        buf_release(&first);
    }
    json_object_set_new(meta, "layout", json_string("slack"));
    json_object_set_new(meta, "channel", json_string(channel));
    json_object_set_new(meta, "thread_ts", json_string(tts));
    json_object_set_new(meta, "reply_count", json_integer((json_int_t)n));
    json_object_set_new(meta, "participants", people);
    if (json_object_get(s->channels, channel) &&
        json_object_get(json_object_get(s->channels, channel), "id"))
        json_object_set(meta, "channel_id",
                        json_object_get(json_object_get(s->channels, channel), "id"));
    if (s->threads_cut)
        json_object_set_new(meta, "truncated", json_true());
    d.part = buf_str(&part);
    d.parent_part = json_string_value(json_object_get(t, "day"));
    d.title = buf_str(&title);
    d.mime = "text/plain";
    d.author = parent ? msg_author(s, parent) : NULL;
    d.created = created[0] ? created : NULL;
    d.modified = modified[0] ? modified : NULL;
    d.text = buf_str(&text);
    d.text_len = text.len;
    d.metadata = meta;
    rc = fn(&d, arg);
    free(v);
    json_decref(meta);
    buf_release(&text);
    buf_release(&title);
    buf_release(&part);
    return rc;
}

int slack_finish(struct slack *s, extract_emit_fn fn, void *arg)
{
    const char *key;
    json_t *t;

    json_object_foreach(s->threads, key, t)
    {
        if (json_array_size(json_object_get(t, "replies")) == 0)
            continue; /* a thread_ts without replies is just a message */
        int rc = slack_thread(s, t, fn, arg);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the archive layout ----------------------------------------------------------- */

static void *slack_layout_begin(const char *const *names, size_t n, json_t *preloaded)
{
    return slack_begin(names, n, preloaded);
}

static int slack_arc_emit(const struct extract_doc *d, void *arg)
{
    return arc_emit(arg, d);
}

static int slack_member(void *st, struct arc *a, const char *path, json_t *meta)
{
    struct slack *s = st;
    struct buf data;
    char err[512];
    int rc;

    if (!slack_is_day(s, path))
        return 0;
    buf_init(&data, SLACK_DAY_MAX);
    if (arc_read_member(a, &data, err, sizeof err) < 0) {
        struct extract_doc d = {0};
        json_t *m = json_deep_copy(meta);
        json_object_set_new(m, "extract_error", json_string(err));
        d.part = path;
        d.title = layout_basename(path);
        d.mime = "application/json";
        d.text = "";
        d.metadata = m;
        rc = arc_emit(a, &d);
        json_decref(m);
        buf_release(&data);
        return arc_stopped(a) || rc ? -1 : 1;
    }
    rc = slack_day(s, path, data.data ? data.data : "", data.len, arc_member_mtime(a),
                   slack_arc_emit, a);
    buf_release(&data);
    return rc ? -1 : 1;
}

static int slack_layout_finish(void *st, struct arc *a)
{
    return slack_finish(st, slack_arc_emit, a);
}

static void slack_layout_free(void *st)
{
    slack_free(st);
}

const struct layout_ops layout_slack_ops = {
    "slack", slack_preload,       slack_layout_begin, slack_member,
    NULL,    slack_layout_finish, slack_layout_free,
};
