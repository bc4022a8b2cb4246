/*
 * kb_bench: loads entries made of real text from this machine (/usr/share/doc,
 * common-licenses, man pages) into a trawl knowledge base, and the same
 * entries into a plain FTS5 table through the sqlite3 shell as the baseline;
 * then times subtree-scoped search on both and filtered forum search on
 * trawl. It measures and reports; it asserts nothing. Run it via run.sh.
 */
#include "kb.h"
#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MIB ((size_t)1 << 20)
#define BATCH 10000
#define NCLASS 4 /* subtree classes and term classes */
#define NFILT 4  /* forum filter counts 0..3 */
#define LIMIT 10

/* ---- small helpers --------------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("kb_bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    if (!(p = realloc(p, n ? n : 1)))
        die("out of memory (%zu bytes)", n);
    return p;
}

/* Grows array a (of n used, cap c) to hold one more element. */
#define PUSH(a, n, c)                                                                              \
    do {                                                                                           \
        if ((n) == (c)) {                                                                          \
            (c) = (c) ? 2 * (c) : 1024;                                                            \
            (a) = xrealloc((a), (c) * sizeof *(a));                                                \
        }                                                                                          \
    } while (0)

static void badd(struct buf *b, const void *p, size_t n)
{
    if (buf_add(b, p, n) < 0)
        die("buffer cap of %zu bytes exceeded", b->cap);
}

/* CPU seconds (user + system) of this process: on a busy machine wall time
 * measures the neighbours too, so the load is reported both ways. */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the waited-for children (the sqlite3 shell). */
static double child_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static uint64_t fnv64(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

static long long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- corpus: paragraphs and headings of real text ------------------------------ */

struct corpus {
    struct buf text; /* words joined by ' ', paragraphs ended by '\n' */
    uint32_t *word;  /* start offset of each word */
    size_t nword, aword;
    uint32_t *para; /* first word of each paragraph */
    size_t npara, apara;
    struct buf heads; /* headings, each NUL-terminated */
    uint32_t *head;
    size_t nhead, ahead;
    uint64_t *seen; /* hashes of stored paragraphs and headings */
    size_t nseen, aseen;
    size_t cap;
    long files, files_read;
    long long bytes_read;
};

/* Returns 1 when h was not seen before (and records it). */
static int corpus_first_time(struct corpus *c, uint64_t h)
{
    size_t i;

    h |= 1; /* 0 marks a free slot */
    if (2 * (c->nseen + 1) > c->aseen) {
        uint64_t *old = c->seen;
        size_t oldn = c->aseen;
        c->aseen = oldn ? 2 * oldn : 1 << 16;
        c->seen = calloc(c->aseen, sizeof *c->seen);
        if (!c->seen)
            die("out of memory");
        for (size_t j = 0; j < oldn; j++) {
            if (!old[j])
                continue;
            for (i = old[j] & (c->aseen - 1); c->seen[i]; i = (i + 1) & (c->aseen - 1))
                ;
            c->seen[i] = old[j];
        }
        free(old);
    }
    for (i = h & (c->aseen - 1); c->seen[i]; i = (i + 1) & (c->aseen - 1))
        if (c->seen[i] == h)
            return 0;
    c->seen[i] = h;
    c->nseen++;
    return 1;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        size_t k = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : 9;
        if (k == 9 || (k == 1 && b < 0xc2) || i + k >= n + (k ? 0 : 1))
            return 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* Decides what a finished paragraph (words joined by single spaces) is. */
static void corpus_paragraph(struct corpus *c, struct buf *p)
{
    size_t words = 0, letters = 0, nonspace = 0, tok = 0, maxtok = 0;
    const char *s = p->data;
    size_t n = p->len;

    while (n && s[n - 1] == ' ')
        n--;
    while (n && *s == ' ')
        s++, n--;
    if (!n || c->text.len >= c->cap)
        goto out;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == ' ') {
            tok = 0;
            continue;
        }
        if (tok++ == 0)
            words++;
        if (tok > maxtok)
            maxtok = tok;
        nonspace++;
        if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')
            letters++;
        else if (ch >= 0x80)
            letters++;
    }
    if (!utf8_valid((const unsigned char *)s, n))
        goto out;
    if (words >= 2 && words <= 9 && n <= 70 && s[0] >= 'A' && s[0] <= 'Z' &&
        !strchr(".,;:", s[n - 1]) && letters * 10 >= nonspace * 8) {
        if (corpus_first_time(c, ~fnv64(s, n))) {
            PUSH(c->head, c->nhead, c->ahead);
            c->head[c->nhead++] = (uint32_t)c->heads.len;
            badd(&c->heads, s, n);
            badd(&c->heads, "", 1);
        }
        goto out;
    }
    if (words < 8 || maxtok > 60 || letters * 100 < nonspace * 65)
        goto out;
    if (!corpus_first_time(c, fnv64(s, n)))
        goto out;
    PUSH(c->para, c->npara, c->apara);
    c->para[c->npara++] = (uint32_t)c->nword;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && (i == 0 || s[i - 1] == ' ')) {
            PUSH(c->word, c->nword, c->aword);
            c->word[c->nword++] = (uint32_t)(c->text.len + i);
        }
    badd(&c->text, s, n);
    badd(&c->text, "\n", 1);
out:
    buf_reset(p);
}

/* Appends text to the paragraph, control characters as spaces, one space between words. */
static void para_add(struct buf *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
        if (ch == ' ' && (!p->len || p->data[p->len - 1] == ' '))
            continue;
        badd(p, &ch, 1);
    }
    if (p->len && p->data[p->len - 1] != ' ')
        badd(p, " ", 1);
}

/* Strips troff escapes (fonts, special characters, strings) from one line. */
static void troff_clean(const char *s, size_t n, struct buf *out)
{
    buf_reset(out);
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\' || i + 1 >= n) {
            if (s[i] != '"')
                badd(out, &s[i], 1);
            i++;
            continue;
        }
        char d = s[i + 1];
        i += 2;
        switch (d) {
        case 'f':
        case '*':
        case 'n':
            if (i < n && s[i] == '(')
                i += 3;
            else if (i < n && s[i] == '[')
                while (i < n && s[i++] != ']')
                    ;
            else
                i++;
            break;
        case '(':
            i += 2;
            badd(out, " ", 1);
            break;
        case '[':
            while (i < n && s[i++] != ']')
                ;
            badd(out, " ", 1);
            break;
        case 's':
            if (i < n && (s[i] == '-' || s[i] == '+'))
                i++;
            if (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
            break;
        case '-':
            badd(out, "-", 1);
            break;
        case 'e':
        case '\\':
            badd(out, "\\", 1);
            break;
        case ' ':
        case '~':
        case '0':
            badd(out, " ", 1);
            break;
        default: /* \& \c \) \/ \, \% \| \^ and the rest: drop */
            break;
        }
    }
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Font macros whose arguments are running text. */
static int man_text_macro(const char *name, size_t n)
{
    static const char *const m[] = {"B", "I", "BR", "BI", "IR", "IB", "RB", "RI", "SM", "SB"};

    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (strlen(m[i]) == n && memcmp(m[i], name, n) == 0)
            return 1;
    return 0;
}

/* One line of a man page: requests break paragraphs or carry text; .SS gives a heading. */
static void man_line(struct corpus *c, struct buf *p, struct buf *tmp, const char *s, size_t n)
{
    if (n && (s[0] == '.' || s[0] == '\'')) {
        size_t m = 1;
        while (m < n && s[m] != ' ' && s[m] != '\t')
            m++;
        if (m >= 3 && s[1] == '\\' && s[2] == '"')
            return; /* comment */
        if (!man_text_macro(s + 1, m - 1)) {
            corpus_paragraph(c, p);
            if (m == 3 && s[1] == 'S' && s[2] == 'S') {
                troff_clean(s + m, n - m, tmp);
                para_add(p, buf_str(tmp), tmp->len);
                corpus_paragraph(c, p);
            }
            return;
        }
        s += m;
        n -= m;
    }
    if (!n) {
        corpus_paragraph(c, p);
        return;
    }
    troff_clean(s, n, tmp);
    para_add(p, buf_str(tmp), tmp->len);
}

/* One line of plain text: a blank or underline line ends a paragraph. */
static void text_line(struct corpus *c, struct buf *p, const char *s, size_t n)
{
    size_t i, same = 0;

    for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
        ;
    if (i == n) {
        corpus_paragraph(c, p);
        return;
    }
    for (size_t j = i; j < n && strchr("=-*~#_+", s[j]) && s[j] == s[i]; j++)
        same++;
    if (same >= 3 && same + i >= n - 1) {
        corpus_paragraph(c, p);
        return;
    }
    para_add(p, s, n);
}

static void corpus_file(struct corpus *c, const char *path, struct buf *raw, struct buf *p,
                        struct buf *tmp)
{
    gzFile gz = gzopen(path, "rb");
    char chunk[65536];
    int n, man = strstr(path, "/man/") != NULL;

    c->files++;
    if (!gz)
        return;
    buf_reset(raw);
    while ((n = gzread(gz, chunk, sizeof chunk)) > 0)
        if (buf_add(raw, chunk, (size_t)n) < 0)
            break;
    gzclose(gz);
    if (n != 0 || !raw->len || memchr(raw->data, 0, raw->len < 8192 ? raw->len : 8192))
        return; /* unreadable, too big or binary */
    c->files_read++;
    c->bytes_read += (long long)raw->len;
    buf_reset(p);
    for (size_t i = 0; i < raw->len;) {
        const char *s = raw->data + i, *e = memchr(s, '\n', raw->len - i);
        size_t len = e ? (size_t)(e - s) : raw->len - i;
        if (man)
            man_line(c, p, tmp, s, len);
        else
            text_line(c, p, s, len);
        i += len + 1;
    }
    corpus_paragraph(c, p);
}

static char **g_files;
static size_t g_nfiles, g_afiles;

static int skip_name(const char *path)
{
    static const char *const ext[] = {
        "pdf", "png",  "jpg",  "jpeg", "gif", "svg", "ico",    "js",      "css", "html", "htm",
        "xml", "json", "py",   "pl",   "pm",  "sh",  "c",      "h",       "cc",  "cpp",  "mo",
        "po",  "map",  "woff", "ttf",  "eot", "bz2", "xz",     "zip",     "tar", "deb",  "el",
        "inv", "db",   "xpm",  "bmp",  "tif", "gz",  "pickle", "doctree", "rb",  "java", "dtd"};
    char name[512];
    const char *base = strrchr(path, '/'), *dot;
    size_t n;

    base = base ? base + 1 : path;
    n = strlen(base);
    if (n >= sizeof name)
        return 1;
    memcpy(name, base, n + 1);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
        name[n - 3] = 0;
    if (!(dot = strrchr(name, '.')))
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (strcasecmp(dot + 1, ext[i]) == 0)
            return 1;
    return 0;
}

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || !S_ISREG(st->st_mode) || st->st_size < 200 ||
        st->st_size > (off_t)(16 * MIB) || skip_name(path))
        return 0;
    if (has_prefix(path, "/usr/share/man/") && !has_prefix(path, "/usr/share/man/man"))
        return 0; /* translations */
    PUSH(g_files, g_nfiles, g_afiles);
    g_files[g_nfiles++] = strdup(path);
    return 0;
}

static int path_order(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    uint64_t hx = fnv64(x, strlen(x)), hy = fnv64(y, strlen(y));

    return hx < hy ? -1 : hx > hy ? 1 : strcmp(x, y);
}

/* Reads text files in a fixed pseudo-random order until cap bytes of paragraphs are kept. */
static void corpus_load(struct corpus *c, size_t cap)
{
    static const char *const roots[] = {"/usr/share/common-licenses", "/usr/share/doc",
                                        "/usr/share/man", "/usr/share/info"};
    struct buf raw, p, tmp;

    memset(c, 0, sizeof *c);
    c->cap = cap;
    buf_init(&c->text, cap + 2 * MIB);
    buf_init(&c->heads, 64 * MIB);
    buf_init(&raw, 64 * MIB);
    buf_init(&p, 64 * MIB);
    buf_init(&tmp, 64 * MIB);
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++)
        nftw(roots[i], collect, 32, FTW_PHYS);
    qsort(g_files, g_nfiles, sizeof *g_files, path_order);
    for (size_t i = 0; i < g_nfiles && c->text.len < cap; i++)
        corpus_file(c, g_files[i], &raw, &p, &tmp);
    for (size_t i = 0; i < g_nfiles; i++)
        free(g_files[i]);
    free(g_files);
    buf_release(&raw);
    buf_release(&p);
    buf_release(&tmp);
    if (c->npara < 100 || c->nword < 10000)
        die("found too little text under /usr/share (%zu paragraphs); install some "
            "documentation or man pages",
            c->npara);
}

/* ---- entry generation --------------------------------------------------------- */

/* Appends words [w, w + n) of the corpus: its own spaces and paragraph breaks. */
static void corpus_words(const struct corpus *c, size_t w, size_t n, struct buf *out)
{
    size_t start = c->word[w], end = w + n < c->nword ? c->word[w + n] - 1 : c->text.len - 1;

    badd(out, c->text.data + start, end - start);
}

/*
 * Entry k: a window of minw..maxw words (skewed short) starting at a paragraph
 * or inside one and running on into the next ones; titled by a heading of the
 * corpus or by its first words. Windows overlap differently for every k, so
 * a corpus smaller than the output keeps natural term statistics.
 */
static void gen_text(const struct corpus *c, uint64_t seed, uint64_t k, int minw, int maxw,
                     struct buf *title, struct buf *body)
{
    struct rng r = {mix64(seed ^ (k * 0x2545f4914f6cdd1dULL))};
    size_t p = rng_next(&r) % c->npara, w = c->para[p];
    size_t plen = (p + 1 < c->npara ? c->para[p + 1] : c->nword) - w;
    double u = rng_unit(&r);
    size_t n = (size_t)minw + (size_t)((double)(maxw - minw) * u * u);

    if (rng_next(&r) % 3 == 0)
        w += rng_next(&r) % plen;
    if (n > c->nword)
        n = c->nword;
    if (w + n > c->nword)
        w = c->nword - n;
    buf_reset(title);
    buf_reset(body);
    corpus_words(c, w, n, body);
    if (c->nhead && rng_next(&r) % 2) {
        const char *h = c->heads.data + c->head[rng_next(&r) % c->nhead];
        badd(title, h, strlen(h));
    } else {
        size_t tw = 3 + rng_next(&r) % 6;
        corpus_words(c, w, tw < n ? tw : n, title);
        for (size_t i = 0; i < title->len; i++)
            if (title->data[i] == '\n')
                title->data[i] = ' ';
        while (title->len > 1 && strchr(".,;:", title->data[title->len - 1]))
            title->len--;
        title->data[title->len] = 0;
    }
}

/* ---- the tree ------------------------------------------------------------------ */

struct node {
    char path[128], title[64];
    int level, parent;
    long long entries; /* in the whole subtree */
};

struct tree {
    struct node *v;
    size_t n, a;
    int *groups; /* indexes of level-3 nodes */
    size_t ngroups, agroups;
    double *cum; /* cumulative weight over groups */
};

static int tree_add(struct tree *t, int parent, const char *slug, int level)
{
    struct node *nd;

    PUSH(t->v, t->n, t->a);
    nd = &t->v[t->n];
    memset(nd, 0, sizeof *nd);
    nd->level = level;
    nd->parent = parent;
    if (snprintf(nd->path, sizeof nd->path, "%s%s%s", parent >= 0 ? t->v[parent].path : "",
                 parent >= 0 ? "/" : "", slug) >= (int)sizeof nd->path)
        die("tree path too long at '%s'", slug);
    snprintf(nd->title, sizeof nd->title, "%c%s", slug[0] - 32, slug + 1);
    for (char *s = nd->title; *s; s++)
        if (*s == '-')
            *s = ' ';
    return (int)t->n++;
}

/* A slug from a lowercase word of the corpus, numbered to be unique among siblings. */
static void slug_word(const struct corpus *c, uint64_t h, int idx, char *out, size_t outsz)
{
    for (int tries = 0; tries < 1000; tries++, h = mix64(h)) {
        size_t w = h % c->nword, s = c->word[w], e = w + 1 < c->nword ? c->word[w + 1] - 1 : s;
        size_t n = e - s, i;
        if (n < 4 || n > 10)
            continue;
        for (i = 0; i < n && c->text.data[s + i] >= 'a' && c->text.data[s + i] <= 'z'; i++)
            ;
        if (i < n)
            continue;
        snprintf(out, outsz, "%.*s-%d", (int)n, c->text.data + s, idx);
        return;
    }
    snprintf(out, outsz, "node-%d", idx);
}

/*
 * About 20 domains x 25 skills x 20 entry groups, Zipf-like weights at every
 * level: a few big subtrees and a long tail of small ones.
 */
static void tree_build(struct tree *t, const struct corpus *c, uint64_t seed)
{
    double total = 0, *w = NULL;
    size_t aw = 0, nw = 0;
    char slug[64];

    memset(t, 0, sizeof *t);
    for (int d = 0; d < 20; d++) {
        slug_word(c, mix64(seed + 1000 + (uint64_t)d), d + 1, slug, sizeof slug);
        int di = tree_add(t, -1, slug, 1);
        int nskills = 15 + (int)(mix64(seed ^ (uint64_t)(d + 77)) % 21);
        for (int s = 0; s < nskills; s++) {
            slug_word(c, mix64(seed + 100000 + (uint64_t)(d * 100 + s)), s + 1, slug, sizeof slug);
            int si = tree_add(t, di, slug, 2);
            int ngroups = 8 + (int)(mix64(seed ^ (uint64_t)(d * 1000 + s + 5)) % 25);
            for (int g = 0; g < ngroups; g++) {
                slug_word(c, mix64(seed + 10000000 + (uint64_t)(d * 100000 + s * 100 + g)), g + 1,
                          slug, sizeof slug);
                int gi = tree_add(t, si, slug, 3);
                PUSH(t->groups, t->ngroups, t->agroups);
                t->groups[t->ngroups++] = gi;
                PUSH(w, nw, aw);
                w[nw++] = 1.0 / (d + 1) / pow(s + 1, 0.9) / pow(g + 1, 0.8);
            }
        }
    }
    t->cum = xrealloc(NULL, nw * sizeof *t->cum);
    for (size_t i = 0; i < nw; i++)
        t->cum[i] = (total += w[i]);
    for (size_t i = 0; i < nw; i++)
        t->cum[i] /= total;
    free(w);
}

static size_t tree_pick(const struct tree *t, double u)
{
    size_t lo = 0, hi = t->ngroups - 1;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->cum[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- percentiles ------------------------------------------------------------------ */

struct lat {
    double *v; /* milliseconds */
    size_t n, a;
    long long hits;
};

struct pct {
    size_t n;
    double p50, p95, p99, mean, max;
};

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void lat_add(struct lat *l, double ms, int hits)
{
    PUSH(l->v, l->n, l->a);
    l->v[l->n++] = ms;
    l->hits += hits;
}

static void lat_merge(struct lat *into, const struct lat *from)
{
    for (size_t i = 0; i < from->n; i++)
        lat_add(into, from->v[i], 0);
    into->hits += from->hits;
}

static double nearest_rank(const double *s, size_t n, double q)
{
    size_t i = (size_t)ceil(q * (double)n);

    return s[i ? i - 1 : 0];
}

static struct pct lat_pct(const struct lat *l)
{
    struct pct p = {0};
    double *s;

    if (!l->n)
        return p;
    s = xrealloc(NULL, l->n * sizeof *s);
    memcpy(s, l->v, l->n * sizeof *s);
    qsort(s, l->n, sizeof *s, dbl_cmp);
    p.n = l->n;
    p.p50 = nearest_rank(s, l->n, 0.50);
    p.p95 = nearest_rank(s, l->n, 0.95);
    p.p99 = nearest_rank(s, l->n, 0.99);
    p.max = s[l->n - 1];
    for (size_t i = 0; i < l->n; i++)
        p.mean += s[i];
    p.mean /= (double)l->n;
    free(s);
    return p;
}

/* ---- options ------------------------------------------------------------------------ */

struct opts {
    long entries, forum;
    int queries; /* per class cell */
    int tree_order;
    const char *out, *work, *sqlite3;
    int keep;
    int search_only;      /* --search-only: query the databases a --keep run left in --work */
    int cell_sc, cell_tc; /* --cell S.T: only that cell (-1: all), e.g. under perf */
    int no_baseline;      /* --no-baseline: trawl's side only */
    int trace;            /* --trace: every query's times and search path on stderr */
    int load_only;        /* trawl's load alone: no baseline, forum or searches */
    uint64_t seed;
};

static void usage(FILE *f)
{
    fputs("usage: kb_bench [--entries N] [--forum N] [--queries N] [--order random|tree]\n"
          "                [--out DIR] [--work DIR] [--sqlite3 PATH] [--seed N] [--keep]\n"
          "  --entries N   knowledge entries to load (default 1000000)\n"
          "  --forum N     forum posts (default entries/10, at most 100000)\n"
          "  --queries N   queries per (subtree class, term class) cell (default 60)\n"
          "  --order O     insertion order: random tree positions as an onboarding run\n"
          "                produces them (default), or sorted by tree position\n"
          "  --out DIR     where the JSON report goes (default bench/kb/out)\n"
          "  --work DIR    where the databases go (default: --out)\n"
          "  --keep        keep the databases and the baseline's import file\n"
          "  --search-only load nothing: search the databases a --keep run with the same\n"
          "                --entries, --seed and --order left in --work\n"
          "  --cell S.T    run only subtree class S (0 whole KB .. 3 small group) with term\n"
          "                class T (0 rare, 1 medium, 2 common, 3 medium+common); no forum\n"
          "  --no-baseline time trawl's side only (profiling)\n"
          "  --trace       print every query with its times and how trawl answered it\n"
          "  --load-only   time trawl's load alone (no baseline, forum or searches) and\n"
          "                print one line: entries, wall and CPU seconds, database bytes\n",
          f);
}

static long parse_long(const char *opt, const char *v)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v ? v : "", &end, 10);
    if (!v || errno || *end || n < 0)
        die("%s needs a non-negative number, not '%s'", opt, v ? v : "");
    return n;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->entries = 1000000;
    o->forum = -1;
    o->queries = 60;
    o->out = "bench/kb/out";
    o->sqlite3 = "sqlite3";
    o->seed = 20240601;
    o->cell_sc = o->cell_tc = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--entries") == 0)
            o->entries = parse_long(a, v), i++;
        else if (strcmp(a, "--forum") == 0)
            o->forum = parse_long(a, v), i++;
        else if (strcmp(a, "--queries") == 0)
            o->queries = (int)parse_long(a, v), i++;
        else if (strcmp(a, "--seed") == 0)
            o->seed = (uint64_t)parse_long(a, v), i++;
        else if (strcmp(a, "--out") == 0 && v)
            o->out = v, i++;
        else if (strcmp(a, "--work") == 0 && v)
            o->work = v, i++;
        else if (strcmp(a, "--sqlite3") == 0 && v)
            o->sqlite3 = v, i++;
        else if (strcmp(a, "--order") == 0 && v && strcmp(v, "tree") == 0)
            o->tree_order = 1, i++;
        else if (strcmp(a, "--order") == 0 && v && strcmp(v, "random") == 0)
            o->tree_order = 0, i++;
        else if (strcmp(a, "--keep") == 0)
            o->keep = 1;
        else if (strcmp(a, "--cell") == 0 && v &&
                 sscanf(v, "%d.%d", &o->cell_sc, &o->cell_tc) == 2 && o->cell_sc >= 0 &&
                 o->cell_sc < NCLASS && o->cell_tc >= 0 && o->cell_tc < NCLASS)
            i++;
        else if (strcmp(a, "--trace") == 0)
            o->trace = 1;
        else if (strcmp(a, "--no-baseline") == 0)
            o->no_baseline = 1;
        else if (strcmp(a, "--search-only") == 0)
            o->search_only = o->keep = 1;
        else if (strcmp(a, "--load-only") == 0)
            o->load_only = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "kb_bench: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            exit(2);
        }
    }
    if (o->entries < 1000)
        die("--entries must be at least 1000");
    if (o->forum < 0)
        o->forum = o->entries / 10 > 100000 ? 100000 : o->entries / 10;
    if (o->queries < 1)
        o->queries = 1;
    if (!o->work)
        o->work = o->out;
}

/* ---- loading ------------------------------------------------------------------------- */

struct load_result {
    double secs, nodes_secs;
    double cpu_secs; /* user + system CPU of the same work */
    long long text_bytes, db_bytes;
    double forum_secs;
};

static void kb_check(struct kb *kb, int rc, const char *what)
{
    if (rc < 0)
        die("%s: %s", what, kb_errmsg(kb));
}

/* ASCII unit/record separators: the text never holds them (control bytes became spaces). */
static void put_record(FILE *f, const struct buf *title, const struct buf *body, const char *path)
{
    fwrite(title->data, 1, title->len, f);
    fputc(0x1f, f);
    fwrite(body->data, 1, body->len, f);
    fputc(0x1f, f);
    fputs(path, f);
    fputc(0x1e, f);
}

static void load_trawl(const struct opts *o, const struct corpus *c, struct tree *t,
                       const uint32_t *order, const uint32_t *grp, const char *db, const char *tsv,
                       struct load_result *res)
{
    struct kb *kb;
    struct buf title, body, arena;
    int64_t cid, id;
    size_t *offs = xrealloc(NULL, 3 * BATCH * sizeof *offs);
    FILE *f = fopen(tsv, "w");
    double t0, c0;

    if (!f)
        die("cannot write '%s': %s", tsv, strerror(errno));
    buf_init(&title, MIB);
    buf_init(&body, 16 * MIB);
    buf_init(&arena, 256 * MIB);
    int open_rc = kb_open(db, 0, &kb);
    kb_check(kb, open_rc, db);
    kb_check(kb, kb_client_id(kb, "acme", 1, &cid), "create client");

    t0 = now_s();
    c0 = cpu_s();
    kb_check(kb, kb_begin(kb), "begin");
    for (size_t i = 0; i < t->ngroups; i++) {
        struct node *g = &t->v[t->groups[i]];
        kb_check(kb, kb_node_ensure(kb, cid, g->path, g->title, NULL, &id), g->path);
    }
    kb_check(kb, kb_commit(kb), "commit");
    res->nodes_secs = now_s() - t0;
    res->secs = res->nodes_secs;
    res->cpu_secs = cpu_s() - c0;

    for (long b = 0; b < o->entries; b += BATCH) {
        long n = o->entries - b < BATCH ? o->entries - b : BATCH;
        buf_reset(&arena);
        for (long i = 0; i < n; i++) {
            uint32_t k = order[b + i];
            const char *path = t->v[t->groups[grp[k]]].path;
            gen_text(c, o->seed, k, 50, 300, &title, &body);
            put_record(f, &title, &body, path);
            res->text_bytes += (long long)(title.len + body.len);
            offs[3 * i] = arena.len;
            badd(&arena, title.data, title.len + 1);
            offs[3 * i + 1] = arena.len;
            badd(&arena, body.data, body.len + 1);
            offs[3 * i + 2] = arena.len;
            buf_addf(&arena, "e%u", k);
            badd(&arena, "", 1);
        }
        t0 = now_s();
        c0 = cpu_s();
        kb_check(kb, kb_begin(kb), "begin");
        for (long i = 0; i < n; i++) {
            uint32_t k = order[b + i];
            struct kb_entry e = {0};
            int r;
            e.key = arena.data + offs[3 * i + 2];
            e.path = t->v[t->groups[grp[k]]].path;
            e.title = arena.data + offs[3 * i];
            e.body = arena.data + offs[3 * i + 1];
            kb_check(kb, kb_entry_upsert(kb, cid, &e, &id, &r), "store entry");
        }
        kb_check(kb, kb_commit(kb), "commit");
        res->secs += now_s() - t0;
        res->cpu_secs += cpu_s() - c0;
        if ((b / BATCH) % 10 == 9 || b + n == o->entries) {
            fprintf(stderr, "\r  trawl: %ld entries, %.0f/s   ", b + n,
                    (double)(b + n) / res->secs);
        }
    }
    fputc('\n', stderr);
    t0 = now_s();
    c0 = cpu_s();
    kb_close(kb);              /* the last connection checkpoints and removes the WAL */
    res->secs += now_s() - t0; /* the shell's time includes its close too */
    res->cpu_secs += cpu_s() - c0;
    if (fclose(f) != 0)
        die("cannot write '%s'", tsv);
    {
        char wal[4200];
        snprintf(wal, sizeof wal, "%s-wal", db);
        res->db_bytes = file_size(db) + file_size(wal);
    }
    buf_release(&title);
    buf_release(&body);
    buf_release(&arena);
    free(offs);
}

static double run_shell(const char *bin, const char *db, const char *script, double *cpu)
{
    double t0 = now_s(), c0 = child_cpu_s();
    int status;
    pid_t pid = fork();

    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int in = open(script, O_RDONLY), nul = open("/dev/null", O_WRONLY);
        if (in < 0 || nul < 0 || dup2(in, 0) < 0 || dup2(nul, 1) < 0)
            _exit(126);
        execlp(bin, bin, "-batch", "-bail", db, (char *)NULL);
        fprintf(stderr, "kb_bench: cannot run '%s': %s\n", bin, strerror(errno));
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("the sqlite3 shell failed on '%s' (status %d)", script, status);
    if (cpu)
        *cpu = child_cpu_s() - c0;
    return now_s() - t0;
}

static void load_baseline(const struct opts *o, const char *db, const char *tsv,
                          struct load_result *res)
{
    char script[4096], wal[4200];
    FILE *f;

    snprintf(script, sizeof script, "%s/baseline.sql", o->work);
    if (!(f = fopen(script, "w")))
        die("cannot write '%s': %s", script, strerror(errno));
    fprintf(f,
            "PRAGMA journal_mode = WAL;\n"
            "PRAGMA synchronous = NORMAL;\n"
            "CREATE VIRTUAL TABLE t USING fts5(title, body, path UNINDEXED,\n"
            "    tokenize = 'porter unicode61 remove_diacritics 2');\n"
            "INSERT INTO t(t, rank) VALUES ('rank', 'bm25(4.0, 1.0, 0.0)');\n"
            ".mode ascii\n"
            ".import '%s' t\n",
            tsv);
    if (fclose(f) != 0)
        die("cannot write '%s'", script);
    unlink(db);
    res->secs = run_shell(o->sqlite3, db, script, &res->cpu_secs);
    snprintf(wal, sizeof wal, "%s-wal", db);
    res->db_bytes = file_size(db) + file_size(wal);
}

/* ---- forum ---------------------------------------------------------------------------- */

static const char *const g_sources[] = {"gmail",  "folder", "imap", "archive",
                                        "gdrive", "slack",  "jira", "confluence"};
static const int g_source_w[] = {30, 20, 10, 10, 10, 8, 7, 5};
static const char *const g_ftypes[] = {"", "pdf", "eml", "docx", "html", "xlsx", "txt", "pptx"};
static const int g_ftype_w[] = {30, 20, 15, 12, 7, 6, 6, 4};
static const char *const g_clients[] = {"acme", "globex", "initech", "umbrella", "hooli"};

static int pick_w(struct rng *r, const int *w, int n)
{
    int total = 0, x;

    for (int i = 0; i < n; i++)
        total += w[i];
    x = (int)(rng_next(r) % (uint64_t)total);
    for (int i = 0; i < n; i++)
        if ((x -= w[i]) < 0)
            return i;
    return n - 1;
}

static void load_forum(const struct opts *o, const struct corpus *c, struct kb *kb,
                       const int64_t *cids, struct load_result *res)
{
    struct buf title, body;
    char agent[64];

    buf_init(&title, MIB);
    buf_init(&body, 16 * MIB);
    for (long b = 0; b < o->forum; b += BATCH) {
        long n = o->forum - b < BATCH ? o->forum - b : BATCH;
        double t0, busy = 0;
        kb_check(kb, kb_begin(kb), "begin");
        for (long i = 0; i < n; i++) {
            uint64_t k = (uint64_t)(b + i);
            struct rng r = {mix64(o->seed ^ 0xf0f0 ^ (k << 8))};
            struct kb_forum_entry f = {0};
            int64_t id;
            int cl = (int)(rng_next(&r) % 10), st = pick_w(&r, g_source_w, 8);
            gen_text(c, o->seed ^ 0x5eed, k, 30, 150, &title, &body);
            f.client_id = cl < 2 ? 0 : cl < 6 ? cids[0] : cids[cl - 5];
            f.source_type = g_sources[st];
            f.phase = rng_next(&r) % 100 < 65 ? "explore" : "structure";
            f.file_type = g_ftypes[pick_w(&r, g_ftype_w, 8)];
            snprintf(agent, sizeof agent, "%s-%s", f.phase[0] == 'e' ? "explorer" : "structurer",
                     f.source_type);
            f.agent = agent;
            f.title = title.data;
            f.body = body.data;
            t0 = now_s();
            kb_check(kb, kb_forum_post(kb, &f, &id), "forum post");
            busy += now_s() - t0;
        }
        t0 = now_s();
        kb_check(kb, kb_commit(kb), "commit");
        res->forum_secs += busy + now_s() - t0;
    }
    buf_release(&title);
    buf_release(&body);
}

/* ---- query terms by document frequency ---------------------------------------------- */

static const char *const g_term_class[NCLASS] = {"rare", "medium", "common", "medium+common"};
static const char *const g_sub_class[NCLASS] = {"whole KB", "large domain", "medium skill",
                                                "small group"};

struct terms {
    char **v;
    size_t n, a;
    long long *df;
    size_t adf;
    long long lo, hi; /* the document frequency band */
};

struct cand {
    uint64_t h;
    char *term;
    long long df;
};

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    return x->h < y->h ? -1 : x->h > y->h;
}

static void sql_check(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
        die("%s: %s", what, sqlite3_errmsg(db));
}

/*
 * Terms of the baseline's vocabulary (same text, same tokenizer) by document
 * frequency: rare 10..100, medium 0.7%..1.5% of the entries (about 10,000 at
 * 1M), common over 10%. Only plain words that the tokenizer maps to themselves,
 * so the query matches exactly the vocabulary term.
 */
static void pick_terms(sqlite3 *base, long entries, int want, struct terms out[3], double *secs)
{
    struct cand *cv[3] = {NULL};
    size_t cn[3] = {0}, ca[3] = {0};
    long long lo[3] = {10, (long long)(entries * 0.007), (long long)(entries * 0.10)};
    long long hi[3] = {100, (long long)(entries * 0.015), (long long)entries + 1};
    sqlite3_stmt *st, *ins, *chk;
    sqlite3 *probe;
    double t0 = now_s();
    int rc;

    if (lo[1] <= hi[0])
        lo[1] = hi[0] + 1, hi[1] = lo[1] * 2 + 10;
    sql_check(base,
              sqlite3_exec(base, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, t, row)", NULL,
                           NULL, NULL),
              "fts5vocab");
    sql_check(base, sqlite3_prepare_v2(base, "SELECT term, doc FROM temp.v", -1, &st, NULL),
              "vocab");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *term = (const char *)sqlite3_column_text(st, 0);
        long long df = sqlite3_column_int64(st, 1);
        size_t n = strlen(term), i;
        for (i = 0; i < n && term[i] >= 'a' && term[i] <= 'z'; i++)
            ;
        if (i < n || n < 4 || n > 14)
            continue;
        for (int k = 0; k < 3; k++)
            if (df >= lo[k] && df <= hi[k]) {
                PUSH(cv[k], cn[k], ca[k]);
                cv[k][cn[k]++] = (struct cand){fnv64(term, n), strdup(term), df};
            }
    }
    sql_check(base, rc, "vocab");
    sqlite3_finalize(st);
    sqlite3_exec(base, "DROP TABLE temp.v", NULL, NULL, NULL);

    sql_check(NULL, sqlite3_open(":memory:", &probe), "probe");
    sql_check(probe,
              sqlite3_exec(probe,
                           "CREATE VIRTUAL TABLE p USING fts5(x, tokenize = 'porter unicode61 "
                           "remove_diacritics 2');"
                           "CREATE VIRTUAL TABLE pv USING fts5vocab(p, row)",
                           NULL, NULL, NULL),
              "probe");
    sqlite3_prepare_v2(probe, "INSERT INTO p(x) VALUES (?)", -1, &ins, NULL);
    sqlite3_prepare_v2(probe, "SELECT 1 FROM pv WHERE term = ?", -1, &chk, NULL);
    for (int k = 0; k < 3; k++) {
        out[k].lo = lo[k];
        out[k].hi = hi[k];
        qsort(cv[k], cn[k], sizeof *cv[k], cand_cmp);
        for (size_t i = 0; i < cn[k] && (int)out[k].n < want; i++) {
            int ok;
            sqlite3_exec(probe, "DELETE FROM p", NULL, NULL, NULL);
            sqlite3_bind_text(ins, 1, cv[k][i].term, -1, SQLITE_STATIC);
            sqlite3_step(ins);
            sqlite3_reset(ins);
            sqlite3_bind_text(chk, 1, cv[k][i].term, -1, SQLITE_STATIC);
            ok = sqlite3_step(chk) == SQLITE_ROW;
            sqlite3_reset(chk);
            if (!ok)
                continue;
            PUSH(out[k].v, out[k].n, out[k].a);
            out[k].v[out[k].n] = strdup(cv[k][i].term);
            PUSH(out[k].df, out[k].n, out[k].adf);
            out[k].df[out[k].n++] = cv[k][i].df;
        }
        for (size_t i = 0; i < cn[k]; i++)
            free(cv[k][i].term);
        free(cv[k]);
        if (!out[k].n)
            die("no %s terms in the vocabulary; try more --entries", g_term_class[k]);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(chk);
    sqlite3_close(probe);
    *secs = now_s() - t0;
}

/* ---- subtrees by size ------------------------------------------------------------ */

struct subs {
    int idx[8]; /* node indexes; -1 = whole KB */
    int n;
};

static struct tree *g_cmp_tree;

static int node_size_cmp(const void *a, const void *b)
{
    long long x = g_cmp_tree->v[*(const int *)a].entries,
              y = g_cmp_tree->v[*(const int *)b].entries;

    return x < y ? -1 : x > y ? 1 : *(const int *)a - *(const int *)b;
}

/* Up to 8 nodes of a level whose entry counts sit between quantiles qlo and qhi. */
static void pick_nodes(struct tree *t, int level, double qlo, double qhi, long long min_entries,
                       struct subs *s)
{
    int *v = NULL;
    size_t n = 0, a = 0, from, to;

    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].level == level && t->v[i].entries >= min_entries) {
            PUSH(v, n, a);
            v[n++] = (int)i;
        }
    g_cmp_tree = t;
    qsort(v, n, sizeof *v, node_size_cmp);
    from = (size_t)(qlo * (double)n);
    to = (size_t)(qhi * (double)n);
    if (to > n)
        to = n;
    if (to <= from)
        to = from + 1 <= n ? from + 1 : n;
    s->n = 0;
    for (size_t i = to; i-- > from && s->n < 8;)
        s->idx[s->n++] = v[i];
    free(v);
}

/* ---- searching ----------------------------------------------------------------------- */

/* Both sides search from the page cache, and it must stay there: choosing
 * the terms scans the baseline's index (without this the trawl file alone
 * would pay for disk reads), and a VM host's memory reclaim (DAMON's
 * pageout scheme, seen on these machines: page-cache pages idle for a
 * minute are written out) would otherwise send a rare term's query to the
 * disk on whichever side touched the page first. A database file is mapped
 * and locked in memory for the searches; without the privilege to lock it
 * is read through once and the report says so. */
struct pin {
    void *p;
    size_t n;
};

static int pin_file(const char *path, struct pin *pin)
{
    static char blk[1 << 20];
    struct stat sb;
    int fd = open(path, O_RDONLY), ok = 0;

    pin->p = NULL;
    pin->n = 0;
    if (fd < 0)
        return 0;
    /* The same page-cache state for both files whatever came before: the
     * pages are dropped and read back in order with read(). Searched as
     * SQLite's writes left them (a full run), or as faults on a map brought
     * them back, trawl's first process took 2-3x longer on its rare-term
     * queries (the baseline's 1.2x) with the same faults and no disk reads;
     * read back in order, its first process is as fast as the next ones.
     * Why, I do not know (the folios are 2 MiB in both states). */
    fsync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    while (read(fd, blk, sizeof blk) > 0)
        ;
    if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
        pin->n = (size_t)sb.st_size;
        pin->p = mmap(NULL, pin->n, PROT_READ, MAP_SHARED, fd, 0);
        if (pin->p == MAP_FAILED)
            pin->p = NULL;
        else if (mlock(pin->p, pin->n) == 0)
            ok = 1;
        else {
            fprintf(stderr,
                    "cannot lock '%s' in memory (%s): its pages may be evicted and read "
                    "again from disk during the searches\n",
                    path, strerror(errno));
            munmap(pin->p, pin->n);
            pin->p = NULL;
        }
    }
    close(fd);
    return ok;
}

static void unpin_file(struct pin *pin)
{
    if (pin->p)
        munmap(pin->p, pin->n);
    pin->p = NULL;
}

static int count_hit(const struct kb_hit *h, void *arg)
{
    (void)h;
    (*(int *)arg)++;
    return 0;
}

static int count_forum(const struct kb_forum_entry *f, void *arg)
{
    (void)f;
    (*(int *)arg)++;
    return 0;
}

struct cell {
    struct lat trawl, base;
    struct lat trawl_cpu, base_cpu; /* CPU ms of the same queries: the neighbours do not count */
    long mismatches;
};

struct report {
    const struct opts *o;
    struct corpus *c;
    struct tree *t;
    struct load_result tl, bl;
    double vocab_secs;
    struct terms terms[3];
    struct subs subs[NCLASS];
    struct cell cells[NCLASS][NCLASS]; /* [subtree class][term class] */
    struct lat forum[NFILT];
    struct lat forum_term[3];
    char cli_version[128];
    double load_avg[2]; /* 1-minute load average before and after the subtree searches */
    int pinned;         /* database files locked in memory for the searches (0-2) */
};

static void query_text(const struct report *r, int tc, int i, char *out, size_t outsz)
{
    if (tc < 3) {
        const struct terms *t = &r->terms[tc];
        snprintf(out, outsz, "%s", t->v[(size_t)i % t->n]);
    } else {
        const struct terms *m = &r->terms[1], *c = &r->terms[2];
        snprintf(out, outsz, "%s %s", m->v[(size_t)(i * 7 + 3) % m->n],
                 c->v[(size_t)(i * 5 + 1) % c->n]);
    }
}

static int run_trawl_query(struct kb *kb, int64_t cid, const char *q, const char *under)
{
    struct kb_search_opts so = {under, LIMIT, "[", "]"};
    int hits = 0;

    kb_check(kb, kb_search(kb, cid, q, &so, count_hit, &hits), q);
    return hits;
}

static int run_base_query(sqlite3 *db, sqlite3_stmt *whole, sqlite3_stmt *scoped, const char *fts,
                          const char *under)
{
    sqlite3_stmt *st = under ? scoped : whole;
    int rc, hits = 0;

    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    if (under)
        sqlite3_bind_text(st, 2, under, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        (void)sqlite3_column_text(st, 1);
        hits++;
    }
    sql_check(db, rc, "baseline query");
    sqlite3_reset(st);
    return hits;
}

static void run_queries(struct report *r, struct kb *kb, int64_t cid, sqlite3 *base)
{
    sqlite3_stmt *whole, *scoped;
    char q[256];
    struct buf fts;

    buf_init(&fts, MIB);
    sql_check(base,
              sqlite3_prepare_v2(base,
                                 "SELECT rowid, snippet(t, 1, '[', ']', '…', 16) FROM t WHERE t "
                                 "MATCH ?1 ORDER BY rank LIMIT 10",
                                 -1, &whole, NULL),
              "prepare");
    sql_check(base,
              sqlite3_prepare_v2(base,
                                 "SELECT rowid, snippet(t, 1, '[', ']', '…', 16) FROM t WHERE t "
                                 "MATCH ?1 AND (path = ?2 OR path LIKE ?2 || '/%') "
                                 "ORDER BY rank LIMIT 10",
                                 -1, &scoped, NULL),
              "prepare");
    /* warm up: one query per cell on both */
    for (int sc = 0; sc < NCLASS; sc++)
        for (int tc = 0; tc < NCLASS; tc++) {
            const char *under = r->subs[sc].idx[0] < 0 ? NULL : r->t->v[r->subs[sc].idx[0]].path;
            query_text(r, tc, 1000 + sc, q, sizeof q);
            buf_reset(&fts);
            kb_fts_query(q, &fts);
            run_trawl_query(kb, cid, q, under);
            run_base_query(base, whole, scoped, buf_str(&fts), under);
        }
    for (int i = 0; i < r->o->queries; i++)
        for (int sc = 0; sc < NCLASS; sc++)
            for (int tc = 0; tc < NCLASS; tc++) {
                const struct subs *s = &r->subs[sc];
                if (r->o->cell_sc >= 0 && (sc != r->o->cell_sc || tc != r->o->cell_tc))
                    continue;
                int si = s->idx[(i + tc) % s->n];
                const char *under = si < 0 ? NULL : r->t->v[si].path;
                struct cell *cell = &r->cells[sc][tc];
                double t0, t1, t2, c0, c1, c2;
                struct rusage u0, u1;
                int h1, h2;
                query_text(r, tc, i, q, sizeof q);
                buf_reset(&fts);
                if (kb_fts_query(q, &fts) < 0)
                    die("query '%s' builds no FTS query", q);
                getrusage(RUSAGE_SELF, &u0);
                c0 = cpu_s();
                t0 = now_s();
                h1 = run_trawl_query(kb, cid, q, under);
                t1 = now_s();
                c1 = cpu_s();
                getrusage(RUSAGE_SELF, &u1);
                h2 = r->o->no_baseline ? h1
                                       : run_base_query(base, whole, scoped, buf_str(&fts), under);
                t2 = now_s();
                c2 = cpu_s();
                lat_add(&cell->trawl, (t1 - t0) * 1e3, h1);
                lat_add(&cell->base, (t2 - t1) * 1e3, h2);
                lat_add(&cell->trawl_cpu, (c1 - c0) * 1e3, h1);
                if (r->o->trace)
                    fprintf(stderr,
                            "%d.%d %-28s %-40s trawl %8.3f ms (cpu %8.3f, %ld+%ld faults, "
                            "%ld+%ld switches) %-9s base %8.3f ms (bcpu %8.3f)\n",
                            sc, tc, q, under ? under : "-", (t1 - t0) * 1e3, (c1 - c0) * 1e3,
                            u1.ru_minflt - u0.ru_minflt, u1.ru_majflt - u0.ru_majflt,
                            u1.ru_nvcsw - u0.ru_nvcsw, u1.ru_nivcsw - u0.ru_nivcsw,
                            kb_search_path(kb), (t2 - t1) * 1e3, (c2 - c1) * 1e3);
                lat_add(&cell->base_cpu, (c2 - c1) * 1e3, h2);
                if (h1 != h2)
                    cell->mismatches++;
            }
    sqlite3_finalize(whole);
    sqlite3_finalize(scoped);
    buf_release(&fts);
}

static void run_forum_queries(struct report *r, struct kb *kb, const int64_t *cids)
{
    char q[256];
    int n = r->o->queries * 2;

    for (int f = 0; f < NFILT; f++)
        for (int tc = 0; tc < 3; tc++)
            for (int i = -1; i < n; i++) {
                struct rng g = {mix64(r->o->seed ^ (uint64_t)(f * 1000 + tc * 100 + i + 7))};
                struct kb_forum_filter flt = {0};
                int hits = 0;
                double t0;
                query_text(r, tc, i < 0 ? 999 : i, q, sizeof q);
                flt.limit = LIMIT;
                flt.mark_open = "[";
                flt.mark_close = "]";
                if (f >= 1)
                    flt.client_id = cids[rng_next(&g) % 5];
                if (f >= 2)
                    flt.source_type = g_sources[pick_w(&g, g_source_w, 8)];
                if (f >= 3) {
                    if (rng_next(&g) % 2)
                        flt.phase = rng_next(&g) % 100 < 65 ? "explore" : "structure";
                    else
                        flt.file_type = g_ftypes[1 + pick_w(&g, g_ftype_w + 1, 7)];
                }
                t0 = now_s();
                kb_check(kb, kb_forum_search(kb, q, &flt, count_forum, &hits), q);
                if (i < 0)
                    continue; /* warm-up */
                lat_add(&r->forum[f], (now_s() - t0) * 1e3, hits);
                lat_add(&r->forum_term[tc], r->forum[f].v[r->forum[f].n - 1], hits);
            }
}

/* ---- report ---------------------------------------------------------------------------- */

static void json_pct(FILE *f, const char *name, const struct lat *l, const char *tail)
{
    struct pct p = lat_pct(l);

    fprintf(f,
            "\"%s\": {\"n\": %zu, \"p50_ms\": %.3f, \"p95_ms\": %.3f, \"p99_ms\": %.3f, "
            "\"mean_ms\": %.3f, \"max_ms\": %.3f, \"avg_hits\": %.2f}%s",
            name, p.n, p.p50, p.p95, p.p99, p.mean, p.max,
            p.n ? (double)l->hits / (double)p.n : 0.0, tail);
}

static void print_row(const char *a, const char *b, const struct lat *tl, const struct lat *bl,
                      long mism)
{
    struct pct x = lat_pct(tl), y = lat_pct(bl);

    printf("  %-13s %-14s %8.2f %8.2f %8.2f | %8.2f %8.2f %8.2f | %6.2f | %5.1f %5.1f %s\n", a, b,
           x.p50, x.p95, x.p99, y.p50, y.p95, y.p99, y.p95 > 0 ? x.p95 / y.p95 : 0.0,
           x.n ? (double)tl->hits / (double)x.n : 0.0, y.n ? (double)bl->hits / (double)y.n : 0.0,
           mism ? "(hit counts differ)" : "");
}

static void report_load(const struct report *r)
{
    const struct opts *o = r->o;
    double tr = (double)o->entries / r->tl.secs, br = (double)o->entries / r->bl.secs;
    double tbpb = (double)r->tl.db_bytes / (double)r->tl.text_bytes;
    double bbpb = (double)r->bl.db_bytes / (double)r->tl.text_bytes;

    printf("load                  seconds  entries/s   db MiB  db bytes/text byte\n");
    printf("  trawl (kb API)     %8.1f %10.0f %8.1f %8.2f\n", r->tl.secs, tr,
           (double)r->tl.db_bytes / (double)MIB, tbpb);
    printf("  baseline (sqlite3) %8.1f %10.0f %8.1f %8.2f\n", r->bl.secs, br,
           (double)r->bl.db_bytes / (double)MIB, bbpb);
    printf("  ratio trawl/baseline time %.2fx (target <= 1.5x), size %.2fx\n",
           r->tl.secs / r->bl.secs, tbpb / bbpb);
    printf("  CPU seconds (user + system): trawl %.1f, baseline %.1f, ratio %.2fx\n",
           r->tl.cpu_secs, r->bl.cpu_secs, r->tl.cpu_secs / r->bl.cpu_secs);
    printf("  (trawl time includes %.1f s for %zu tree nodes; forum: %ld posts in %.1f s, %.0f "
           "posts/s)\n\n",
           r->tl.nodes_secs, r->t->n, o->forum, r->tl.forum_secs,
           r->tl.forum_secs > 0 ? (double)o->forum / r->tl.forum_secs : 0.0);
}

static void report_print(struct report *r, FILE *js)
{
    const struct opts *o = r->o;
    struct lat all_t = {0}, all_b = {0}, sub_t[NCLASS] = {0}, sub_b[NCLASS] = {0};
    struct lat term_t[NCLASS] = {0}, term_b[NCLASS] = {0}, fall = {0};
    struct lat cpu_t = {0}, cpu_b = {0};
    long mism = 0;
    double tr = (double)o->entries / r->tl.secs, br = (double)o->entries / r->bl.secs;
    double tbpb = (double)r->tl.db_bytes / (double)r->tl.text_bytes;
    double bbpb = (double)r->bl.db_bytes / (double)r->tl.text_bytes;

    for (int sc = 0; sc < NCLASS; sc++)
        for (int tc = 0; tc < NCLASS; tc++) {
            struct cell *c = &r->cells[sc][tc];
            lat_merge(&all_t, &c->trawl);
            lat_merge(&all_b, &c->base);
            lat_merge(&sub_t[sc], &c->trawl);
            lat_merge(&sub_b[sc], &c->base);
            lat_merge(&term_t[tc], &c->trawl);
            lat_merge(&term_b[tc], &c->base);
            lat_merge(&cpu_t, &c->trawl_cpu);
            lat_merge(&cpu_b, &c->base_cpu);
            mism += c->mismatches;
        }
    for (int f = 0; f < NFILT; f++)
        lat_merge(&fall, &r->forum[f]);

    printf("\ntrawl kb benchmark: %ld entries, %zu tree nodes (%zu entry groups), %ld forum "
           "posts, order %s\n",
           o->entries, r->t->n, r->t->ngroups, o->forum, o->tree_order ? "tree" : "random");
    printf("SQLite library %s, shell %s\n", sqlite3_libversion(), r->cli_version);
    printf("corpus: %ld files read of %ld, %.1f MiB of paragraphs, %zu paragraphs, %zu words, "
           "%zu headings\n",
           r->c->files_read, r->c->files, (double)r->c->text.len / (double)MIB, r->c->npara,
           r->c->nword, r->c->nhead);
    printf("text loaded: %.1f MiB (title + body), %.0f bytes per entry\n\n",
           (double)r->tl.text_bytes / (double)MIB, (double)r->tl.text_bytes / (double)o->entries);
    if (o->search_only)
        printf("load: not measured (--search-only on the databases in %s)\n\n", o->work);
    else
        report_load(r);
    printf("terms: rare df %lld..%lld, medium df %lld..%lld, common df >= %lld (%zu, %zu, %zu "
           "terms from fts5vocab in %.1f s)\n",
           r->terms[0].lo, r->terms[0].hi, r->terms[1].lo, r->terms[1].hi, r->terms[2].lo,
           r->terms[0].n, r->terms[1].n, r->terms[2].n, r->vocab_secs);
    for (int sc = 1; sc < NCLASS; sc++) {
        printf("  %-13s", g_sub_class[sc]);
        for (int i = 0; i < r->subs[sc].n && i < 4; i++)
            printf(" %s (%lld)", r->t->v[r->subs[sc].idx[i]].path,
                   r->t->v[r->subs[sc].idx[i]].entries);
        printf("%s\n", r->subs[sc].n > 4 ? " ..." : "");
    }
    printf("\nsubtree search, limit %d, ms   -------- trawl -------- | ------- baseline ------- | "
           "p95    | avg hits\n",
           LIMIT);
    printf("  %-13s %-14s %8s %8s %8s | %8s %8s %8s | %6s | %5s %5s\n", "subtree", "terms", "p50",
           "p95", "p99", "p50", "p95", "p99", "ratio", "trawl", "base");
    for (int sc = 0; sc < NCLASS; sc++)
        for (int tc = 0; tc < NCLASS; tc++)
            print_row(g_sub_class[sc], g_term_class[tc], &r->cells[sc][tc].trawl,
                      &r->cells[sc][tc].base, r->cells[sc][tc].mismatches);
    printf("  ----\n");
    for (int sc = 0; sc < NCLASS; sc++)
        print_row(g_sub_class[sc], "(all terms)", &sub_t[sc], &sub_b[sc], 0);
    for (int tc = 0; tc < NCLASS; tc++)
        print_row("(all)", g_term_class[tc], &term_t[tc], &term_b[tc], 0);
    print_row("ALL", "", &all_t, &all_b, mism);
    print_row("ALL, CPU ms", "", &cpu_t, &cpu_b, 0);
    printf("  (%zu queries each side; %ld with different hit counts; load average %.2f before, "
           "%.2f after; %s)\n\n",
           all_t.n, mism, r->load_avg[0], r->load_avg[1],
           r->pinned == 2 ? "both databases locked in memory"
                          : "databases NOT locked in memory: disk reads may be in the figures");

    printf("forum search, limit %d, ms     n      p50      p95      p99  avg hits\n", LIMIT);
    for (int f = 0; f <= NFILT; f++) {
        const struct lat *l = f < NFILT ? &r->forum[f] : &fall;
        struct pct p = lat_pct(l);
        char name[32];
        snprintf(name, sizeof name, f < NFILT ? "%d filters" : "all", f);
        printf("  %-20s %6zu %8.2f %8.2f %8.2f %8.1f\n", name, p.n, p.p50, p.p95, p.p99,
               p.n ? (double)l->hits / (double)p.n : 0.0);
    }
    for (int tc = 0; tc < 3; tc++) {
        struct pct p = lat_pct(&r->forum_term[tc]);
        printf("  %-20s %6zu %8.2f %8.2f %8.2f %8.1f\n", g_term_class[tc], p.n, p.p50, p.p95, p.p99,
               p.n ? (double)r->forum_term[tc].hits / (double)p.n : 0.0);
    }

    /* JSON */
    fprintf(js,
            "{\n  \"entries\": %ld, \"forum_posts\": %ld, \"tree_nodes\": %zu, "
            "\"entry_groups\": %zu, \"order\": \"%s\", \"queries_per_cell\": %d,\n",
            o->entries, o->forum, r->t->n, r->t->ngroups, o->tree_order ? "tree" : "random",
            o->queries);
    fprintf(js, "  \"sqlite_library\": \"%s\", \"sqlite_shell\": \"%s\",\n", sqlite3_libversion(),
            r->cli_version);
    fprintf(js,
            "  \"corpus\": {\"files_read\": %ld, \"bytes\": %zu, \"paragraphs\": %zu, \"words\": "
            "%zu, \"headings\": %zu},\n",
            r->c->files_read, r->c->text.len, r->c->npara, r->c->nword, r->c->nhead);
    if (o->search_only)
        fprintf(js, "  \"load\": null,\n");
    else
        fprintf(
            js,
            "  \"load\": {\"text_bytes\": %lld,\n"
            "    \"trawl\": {\"seconds\": %.3f, \"entries_per_s\": %.1f, \"db_bytes\": %lld, "
            "\"db_bytes_per_text_byte\": %.4f, \"tree_seconds\": %.3f},\n"
            "    \"baseline\": {\"seconds\": %.3f, \"entries_per_s\": %.1f, \"db_bytes\": %lld, "
            "\"db_bytes_per_text_byte\": %.4f},\n"
            "    \"time_ratio\": %.4f, \"size_ratio\": %.4f,\n"
            "    \"cpu_seconds\": {\"trawl\": %.3f, \"baseline\": %.3f, \"ratio\": %.4f},\n"
            "    \"forum\": {\"posts\": %ld, \"seconds\": %.3f}},\n",
            r->tl.text_bytes, r->tl.secs, tr, r->tl.db_bytes, tbpb, r->tl.nodes_secs, r->bl.secs,
            br, r->bl.db_bytes, bbpb, r->tl.secs / r->bl.secs, tbpb / bbpb, r->tl.cpu_secs,
            r->bl.cpu_secs, r->tl.cpu_secs / r->bl.cpu_secs, o->forum, r->tl.forum_secs);
    fprintf(js, "  \"terms\": {");
    for (int tc = 0; tc < 3; tc++) {
        fprintf(js, "%s\"%s\": [", tc ? ", " : "", g_term_class[tc]);
        for (size_t i = 0; i < r->terms[tc].n; i++)
            fprintf(js, "%s[\"%s\", %lld]", i ? ", " : "", r->terms[tc].v[i], r->terms[tc].df[i]);
        fprintf(js, "]");
    }
    fprintf(js, "},\n  \"subtrees\": {");
    for (int sc = 1; sc < NCLASS; sc++) {
        fprintf(js, "%s\"%s\": [", sc > 1 ? ", " : "", g_sub_class[sc]);
        for (int i = 0; i < r->subs[sc].n; i++)
            fprintf(js, "%s[\"%s\", %lld]", i ? ", " : "", r->t->v[r->subs[sc].idx[i]].path,
                    r->t->v[r->subs[sc].idx[i]].entries);
        fprintf(js, "]");
    }
    fprintf(js, "},\n  \"search\": [\n");
    for (int sc = 0; sc < NCLASS; sc++)
        for (int tc = 0; tc < NCLASS; tc++) {
            struct cell *c = &r->cells[sc][tc];
            struct pct x = lat_pct(&c->trawl), y = lat_pct(&c->base);
            fprintf(js, "    {\"subtree\": \"%s\", \"terms\": \"%s\", ", g_sub_class[sc],
                    g_term_class[tc]);
            json_pct(js, "trawl", &c->trawl, ", ");
            json_pct(js, "baseline", &c->base, ", ");
            fprintf(js, "\"p95_ratio\": %.4f, \"hit_count_mismatches\": %ld}%s\n",
                    y.p95 > 0 ? x.p95 / y.p95 : 0.0, c->mismatches,
                    sc == NCLASS - 1 && tc == NCLASS - 1 ? "" : ",");
        }
    {
        struct pct x = lat_pct(&all_t), y = lat_pct(&all_b);
        fprintf(js, "  ],\n  \"search_all\": {");
        json_pct(js, "trawl", &all_t, ", ");
        json_pct(js, "baseline", &all_b, ", ");
        json_pct(js, "trawl_cpu", &cpu_t, ", ");
        json_pct(js, "baseline_cpu", &cpu_b, ", ");
        fprintf(js,
                "\"p95_ratio\": %.4f, \"hit_count_mismatches\": %ld, \"load_average\": "
                "[%.2f, %.2f], \"databases_locked_in_memory\": %s},\n",
                y.p95 > 0 ? x.p95 / y.p95 : 0.0, mism, r->load_avg[0], r->load_avg[1],
                r->pinned == 2 ? "true" : "false");
    }
    fprintf(js, "  \"forum_search\": {");
    for (int f = 0; f < NFILT; f++) {
        char name[32];
        snprintf(name, sizeof name, "filters_%d", f);
        json_pct(js, name, &r->forum[f], ", ");
    }
    for (int tc = 0; tc < 3; tc++) {
        char name[32];
        snprintf(name, sizeof name, "terms_%s", g_term_class[tc]);
        json_pct(js, name, &r->forum_term[tc], ", ");
    }
    json_pct(js, "all", &fall, "}\n}\n");

    free(all_t.v);
    free(all_b.v);
    free(fall.v);
    for (int i = 0; i < NCLASS; i++) {
        free(sub_t[i].v);
        free(sub_b[i].v);
        free(term_t[i].v);
        free(term_b[i].v);
    }
}

static void cli_version(const char *bin, char *out, size_t outsz)
{
    char cmd[4200];
    FILE *p;

    snprintf(out, outsz, "unknown");
    snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", bin);
    if (strchr(bin, '\'') || !(p = popen(cmd, "r")))
        return;
    if (fgets(out, (int)outsz, p)) {
        char *sp = strchr(out, ' ');
        if (sp)
            *sp = 0;
        out[strcspn(out, "\n")] = 0;
    }
    pclose(p);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct corpus c;
    struct tree t;
    struct report *r = calloc(1, sizeof *r);
    uint32_t *grp, *order;
    char tdb[4096], bdb[4096], tsv[4096], json[4096];
    struct kb *kb;
    sqlite3 *base;
    int64_t cids[5];
    struct pin pins[2];
    FILE *js;
    double t0;

    parse_opts(argc, argv, &o);
    if (!r)
        die("out of memory");
    r->o = &o;
    r->c = &c;
    r->t = &t;
    mkdir(o.out, 0777);
    mkdir(o.work, 0777);
    snprintf(tdb, sizeof tdb, "%s/trawl.db", o.work);
    snprintf(bdb, sizeof bdb, "%s/baseline.db", o.work);
    snprintf(tsv, sizeof tsv, "%s/baseline.txt", o.work);
    snprintf(json, sizeof json, "%s/kb-bench-%ld.json", o.out, o.entries);
    cli_version(o.sqlite3, r->cli_version, sizeof r->cli_version);
    if (strcmp(r->cli_version, sqlite3_libversion()) != 0)
        fprintf(stderr, "kb_bench: warning: sqlite3 shell %s differs from library %s\n",
                r->cli_version, sqlite3_libversion());

    t0 = now_s();
    {
        size_t cap = (size_t)o.entries * 64;
        cap = cap < 8 * MIB ? 8 * MIB : cap > 64 * MIB ? 64 * MIB : cap;
        corpus_load(&c, cap);
    }
    fprintf(stderr, "corpus: %zu paragraphs, %zu words, %zu headings from %ld files (%.1f s)\n",
            c.npara, c.nword, c.nhead, c.files_read, now_s() - t0);

    tree_build(&t, &c, o.seed);
    grp = xrealloc(NULL, (size_t)o.entries * sizeof *grp);
    order = xrealloc(NULL, (size_t)o.entries * sizeof *order);
    for (long k = 0; k < o.entries; k++) {
        struct rng g = {mix64(o.seed ^ 0xabcdef ^ ((uint64_t)k << 20))};
        size_t gi = tree_pick(&t, rng_unit(&g));
        grp[k] = (uint32_t)gi;
        for (int ni = t.groups[gi]; ni >= 0; ni = t.v[ni].parent)
            t.v[ni].entries++;
    }
    if (o.tree_order) { /* counting sort by entry group: ascending tree position */
        size_t *start = calloc(t.ngroups + 1, sizeof *start);
        if (!start)
            die("out of memory");
        for (long k = 0; k < o.entries; k++)
            start[grp[k] + 1]++;
        for (size_t g = 0; g < t.ngroups; g++)
            start[g + 1] += start[g];
        for (long k = 0; k < o.entries; k++)
            order[start[grp[k]]++] = (uint32_t)k;
        free(start);
    } else {
        for (long k = 0; k < o.entries; k++)
            order[k] = (uint32_t)k;
    }

    if (o.search_only) {
        if (access(tdb, R_OK) != 0 || access(bdb, R_OK) != 0)
            die("--search-only needs %s and %s from a --keep run", tdb, bdb);
    } else {
        unlink(tdb);
        fprintf(stderr, "loading %ld entries into %s\n", o.entries, tdb);
        load_trawl(&o, &c, &t, order, grp, tdb, tsv, &r->tl);
        if (o.load_only) {
            printf("load-only: %ld entries, %.2f s wall, %.2f s CPU, %.0f entries/s, %.3f db "
                   "bytes per text byte\n",
                   o.entries, r->tl.secs, r->tl.cpu_secs, (double)o.entries / r->tl.secs,
                   (double)r->tl.db_bytes / (double)r->tl.text_bytes);
            if (!o.keep) {
                char x[4200];
                unlink(tdb);
                unlink(tsv);
                snprintf(x, sizeof x, "%s-wal", tdb);
                unlink(x);
                snprintf(x, sizeof x, "%s-shm", tdb);
                unlink(x);
            }
            free(grp);
            free(order);
            return 0;
        }
        fprintf(stderr, "loading the baseline through '%s'\n", o.sqlite3);
        load_baseline(&o, bdb, tsv, &r->bl);
        fprintf(stderr, "  baseline: %.1f s\n", r->bl.secs);
        if (!o.keep)
            unlink(tsv);
    }

    int open_rc = kb_open(tdb, 0, &kb);
    kb_check(kb, open_rc, tdb);
    for (int i = 0; i < 5; i++)
        kb_check(kb, kb_client_id(kb, g_clients[i], !o.search_only, &cids[i]), "client");
    if (!o.search_only) {
        fprintf(stderr, "posting %ld forum entries\n", o.forum);
        load_forum(&o, &c, kb, cids, &r->tl);
    }
    /* search from a fresh connection on a checkpointed file, as the baseline does */
    kb_close(kb);
    open_rc = kb_open(tdb, o.search_only ? KB_OPEN_READONLY : 0, &kb);
    kb_check(kb, open_rc, tdb);

    if (sqlite3_open_v2(bdb, &base, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        die("open '%s': %s", bdb, sqlite3_errmsg(base));
    fprintf(stderr, "choosing query terms\n");
    pick_terms(base, o.entries, o.queries > 40 ? o.queries : 40, r->terms, &r->vocab_secs);
    r->subs[0].n = 1;
    r->subs[0].idx[0] = -1;
    pick_nodes(&t, 1, 0.85, 1.0, 1, &r->subs[1]);
    pick_nodes(&t, 2, 0.4, 0.6, 1, &r->subs[2]);
    pick_nodes(&t, 3, 0.15, 0.35, 3, &r->subs[3]);
    for (int i = 1; i < NCLASS; i++)
        if (!r->subs[i].n)
            die("no %s subtree", g_sub_class[i]);

    /* what the loads wrote goes to disk now, not during the searches */
    fprintf(stderr, "flushing written data to disk\n");
    sync();
    fprintf(stderr, "reading both databases into memory and locking them there\n");
    r->pinned = pin_file(tdb, &pins[0]) + pin_file(bdb, &pins[1]);
    fprintf(stderr, "searching\n");
    getloadavg(&r->load_avg[0], 1);
    run_queries(r, kb, cids[0], base);
    getloadavg(&r->load_avg[1], 1);
    if (o.cell_sc < 0) {
        fprintf(stderr, "searching the forum\n");
        run_forum_queries(r, kb, cids);
    }
    kb_close(kb);
    sqlite3_close(base);
    unpin_file(&pins[0]);
    unpin_file(&pins[1]);

    if (!(js = fopen(json, "w")))
        die("cannot write '%s': %s", json, strerror(errno));
    report_print(r, js);
    if (fclose(js) != 0)
        die("cannot write '%s'", json);
    printf("\nJSON report: %s\n", json);
    if (!o.keep) {
        const char *files[] = {tdb, bdb};
        for (int i = 0; i < 2; i++) {
            char x[4200];
            unlink(files[i]);
            snprintf(x, sizeof x, "%s-wal", files[i]);
            unlink(x);
            snprintf(x, sizeof x, "%s-shm", files[i]);
            unlink(x);
        }
        snprintf(tsv, sizeof tsv, "%s/baseline.sql", o.work);
        unlink(tsv);
    }
    free(grp);
    free(order);
    return 0;
}
