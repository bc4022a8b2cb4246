/* Per-document text statistics; see textstat.h. */
#include "textstat.h"

#include <libstemmer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

size_t ts_tokenize(const char *text, size_t len, ts_token_cb cb, void *ud)
{
    char tok[TS_TOKEN_MAX];
    size_t i = 0, n = 0;

    while (i < len) {
        size_t start, tlen, k;
        int digits = 1;

        while (i < len && !is_word_byte((unsigned char)text[i]))
            i++;
        start = i;
        while (i < len && is_word_byte((unsigned char)text[i]))
            i++;
        tlen = i - start;
        if (tlen < 2 || tlen > TS_TOKEN_MAX)
            continue;
        for (k = 0; k < tlen; k++) {
            unsigned char c = (unsigned char)text[start + k];
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            if (c < '0' || c > '9')
                digits = 0;
            tok[k] = (char)c;
        }
        if (digits)
            continue;
        n++;
        if (cb && cb(tok, tlen, start, ud))
            break;
    }
    return n;
}

/* Sorted for bsearch. */
static const char *const stopwords[] = {
    "about",     "above",      "after",  "again", "against",  "all",        "also",    "am",
    "an",        "and",        "any",    "are",   "as",       "at",         "be",      "because",
    "been",      "before",     "being",  "below", "between",  "both",       "but",     "by",
    "can",       "cannot",     "could",  "did",   "do",       "does",       "doing",   "down",
    "during",    "each",       "few",    "for",   "from",     "further",    "had",     "has",
    "have",      "having",     "he",     "her",   "here",     "hers",       "herself", "him",
    "himself",   "his",        "how",    "if",    "in",       "into",       "is",      "it",
    "its",       "itself",     "just",   "may",   "me",       "might",      "more",    "most",
    "must",      "my",         "myself", "no",    "nor",      "not",        "now",     "of",
    "off",       "on",         "once",   "only",  "or",       "other",      "our",     "ours",
    "ourselves", "out",        "over",   "own",   "same",     "shall",      "she",     "should",
    "so",        "some",       "such",   "than",  "that",     "the",        "their",   "theirs",
    "them",      "themselves", "then",   "there", "these",    "they",       "this",    "those",
    "through",   "to",         "too",    "under", "until",    "up",         "upon",    "us",
    "very",      "was",        "we",     "were",  "what",     "when",       "where",   "which",
    "while",     "who",        "whom",   "why",   "will",     "with",       "would",   "yes",
    "yet",       "you",        "your",   "yours", "yourself", "yourselves",
};

struct wordref {
    const char *w;
    size_t len;
};

static int cmp_stop(const void *key, const void *elem)
{
    const struct wordref *k = key;
    const char *s = *(const char *const *)elem;
    size_t sl = strlen(s);
    int c = memcmp(k->w, s, k->len < sl ? k->len : sl);

    if (c)
        return c;
    return k->len < sl ? -1 : k->len > sl;
}

int ts_is_stopword(const char *w, size_t len)
{
    struct wordref k = {w, len};

    return bsearch(&k, stopwords, sizeof stopwords / sizeof *stopwords, sizeof *stopwords,
                   cmp_stop) != NULL;
}

size_t ts_stem(const char *w, size_t len, char *out, size_t outsz)
{
    /* One process per structurer: a process-wide stemmer is enough. */
    static struct sb_stemmer *st;
    static int tried;
    const sb_symbol *s = NULL;
    size_t n = len;

    if (!outsz)
        return 0;
    if (!tried) {
        tried = 1;
        st = sb_stemmer_new("english", "UTF_8");
    }
    if (st)
        s = sb_stemmer_stem(st, (const sb_symbol *)w, (int)len);
    if (s) {
        n = (size_t)sb_stemmer_length(st);
    } else {
        s = (const sb_symbol *)w;
    }
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, s, n);
    out[n] = '\0';
    return n;
}

struct collect {
    char **stems;
    size_t n, cap;
    int failed;
};

static int collect_token(const char *tok, size_t len, size_t offset, void *ud)
{
    struct collect *c = ud;
    char stem[TS_TOKEN_MAX * 2 + 1];
    size_t sl;

    (void)offset;
    if (ts_is_stopword(tok, len))
        return 0;
    sl = ts_stem(tok, len, stem, sizeof stem);
    if (sl < 2)
        return 0;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        char **ns = realloc(c->stems, nc * sizeof *ns);
        if (!ns) {
            c->failed = 1;
            return 1;
        }
        c->stems = ns;
        c->cap = nc;
    }
    c->stems[c->n] = malloc(sl + 1 + len + 1); /* "stem\0word" */
    if (c->stems[c->n]) {
        memcpy(c->stems[c->n], stem, sl + 1);
        memcpy(c->stems[c->n] + sl + 1, tok, len);
        c->stems[c->n][sl + 1 + len] = '\0';
    }
    if (!c->stems[c->n]) {
        c->failed = 1;
        return 1;
    }
    c->n++;
    return 0;
}

/* By stem, then shortest word, then word bytes. */
static int cmp_str(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int c = strcmp(x, y);
    size_t lx, ly;

    if (c)
        return c;
    x += strlen(x) + 1;
    y += strlen(y) + 1;
    lx = strlen(x);
    ly = strlen(y);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x, y);
}

int ts_doc_build(struct ts_doc *d, const char *text, size_t len)
{
    struct collect c = {0};
    size_t i;

    memset(d, 0, sizeof *d);
    ts_tokenize(text, len, collect_token, &c);
    if (c.failed)
        goto fail;
    d->ntokens = c.n;
    if (!c.n)
        return 0;
    qsort(c.stems, c.n, sizeof *c.stems, cmp_str);
    d->terms = calloc(c.n, sizeof *d->terms);
    if (!d->terms)
        goto fail;
    for (i = 0; i < c.n; i++) {
        if (d->n && strcmp(d->terms[d->n - 1].term, c.stems[i]) == 0) {
            d->terms[d->n - 1].count++;
            free(c.stems[i]);
        } else {
            d->terms[d->n].term = c.stems[i];
            d->terms[d->n].word = c.stems[i] + strlen(c.stems[i]) + 1;
            d->terms[d->n].count = 1;
            d->n++;
        }
    }
    free(c.stems);
    return 0;
fail:
    for (i = 0; i < c.n; i++)
        free(c.stems[i]);
    free(c.stems);
    free(d->terms);
    memset(d, 0, sizeof *d);
    return -1;
}

void ts_doc_free(struct ts_doc *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        free(d->terms[i].term);
    free(d->terms);
    memset(d, 0, sizeof *d);
}

uint32_t ts_doc_count(const struct ts_doc *d, const char *term)
{
    size_t lo = 0, hi = d->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(d->terms[mid].term, term);
        if (c == 0)
            return d->terms[mid].count;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

uint64_t ts_simhash(const struct ts_doc *d)
{
    double v[64] = {0};
    uint64_t h = 0;
    size_t i;
    int b;

    for (i = 0; i < d->n; i++) {
        uint64_t x = XXH64(d->terms[i].term, strlen(d->terms[i].term), 0);
        double w = 1.0 + log((double)d->terms[i].count);
        for (b = 0; b < 64; b++)
            v[b] += (x >> b & 1) ? w : -w;
    }
    for (b = 0; b < 64; b++)
        if (v[b] > 0)
            h |= (uint64_t)1 << b;
    return h;
}

int ts_hamming(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}

double ts_bm25_weight(uint32_t tf, size_t dl, double avgdl, size_t df, size_t ndocs)
{
    const double k1 = 1.2, bb = 0.75;
    double norm, idf;

    if (!tf)
        return 0;
    if (avgdl <= 0)
        avgdl = 1;
    if (df > ndocs)
        df = ndocs;
    norm = (double)tf * (k1 + 1) / ((double)tf + k1 * (1 - bb + bb * (double)dl / avgdl));
    idf = log(1.0 + ((double)ndocs - (double)df + 0.5) / ((double)df + 0.5));
    return norm * idf;
}

struct sentence {
    size_t start, end; /* byte range in text */
    double score;
    size_t index;
};

struct score_ctx {
    const struct ts_doc *doc;
    double sum;
    size_t n;
};

static int score_token(const char *tok, size_t len, size_t offset, void *ud)
{
    struct score_ctx *s = ud;
    char stem[TS_TOKEN_MAX * 2 + 1];

    (void)offset;
    if (ts_is_stopword(tok, len))
        return 0;
    ts_stem(tok, len, stem, sizeof stem);
    s->sum += ts_doc_count(s->doc, stem);
    s->n++;
    return 0;
}

static int cmp_score(const void *a, const void *b)
{
    const struct sentence *x = a, *y = b;

    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_index(const void *a, const void *b)
{
    const struct sentence *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sentence ends: . ! ? followed by whitespace, or a blank line. */
static size_t split_sentences(const char *t, size_t len, struct sentence **out)
{
    struct sentence *v = NULL;
    size_t n = 0, cap = 0, i = 0, start = 0;

    while (i <= len) {
        int end = i == len;
        if (!end && (t[i] == '.' || t[i] == '!' || t[i] == '?') &&
            (i + 1 == len || t[i + 1] == ' ' || t[i + 1] == '\n' || t[i + 1] == '\t'))
            end = 1, i++;
        else if (!end && t[i] == '\n' && i + 1 < len && t[i + 1] == '\n')
            end = 1;
        if (end) {
            if (i > start) {
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 32;
                    struct sentence *nv = realloc(v, nc * sizeof *nv);
                    if (!nv)
                        break;
                    v = nv;
                    cap = nc;
                }
                v[n].start = start;
                v[n].end = i;
                v[n].score = 0;
                v[n].index = n;
                n++;
            }
            start = i + (i < len);
        }
        i++;
    }
    *out = v;
    return n;
}

int ts_summary(const char *text, size_t len, size_t max_sentences, size_t max_bytes,
               struct buf *out)
{
    struct ts_doc d;
    struct sentence *s = NULL;
    size_t n, i, k, before = out->len;

    if (ts_doc_build(&d, text, len) < 0)
        return -1;
    n = split_sentences(text, len, &s);
    for (i = 0; i < n; i++) {
        struct score_ctx c = {&d, 0, 0};
        ts_tokenize(text + s[i].start, s[i].end - s[i].start, score_token, &c);
        s[i].score = c.n ? c.sum / sqrt((double)c.n) : 0;
    }
    if (n)
        qsort(s, n, sizeof *s, cmp_score);
    k = n < max_sentences ? n : max_sentences;
    while (k && s[k - 1].score <= 0)
        k--;
    if (k)
        qsort(s, k, sizeof *s, cmp_index);
    for (i = 0; i < k; i++) {
        size_t j;
        int space = out->len > before;
        for (j = s[i].start; j < s[i].end; j++) {
            unsigned char c = (unsigned char)text[j];
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c < 0x20) {
                space = out->len > before;
                continue;
            }
            if (space && out->len > before && buf_addch(out, ' ') < 0)
                goto fail;
            space = 0;
            if (buf_addch(out, c) < 0)
                goto fail;
        }
    }
    if (out->len - before > max_bytes) {
        size_t cut = before + max_bytes;
        while (cut > before && ((unsigned char)out->data[cut] & 0xC0) == 0x80)
            cut--;
        out->len = cut;
        out->data[cut] = '\0';
    }
    free(s);
    ts_doc_free(&d);
    return 0;
fail:
    free(s);
    ts_doc_free(&d);
    return -1;
}

size_t ts_slug(const char *in, char *out, size_t outsz)
{
    size_t n = 0;
    int dash = 0;

    if (!outsz)
        return 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && n && n + 1 < outsz - 1)
                out[n++] = '-';
            dash = 0;
            if (n + 1 >= outsz)
                break;
            out[n++] = (char)c;
        } else {
            dash = 1;
        }
    }
    if (!n) {
        snprintf(out, outsz, "untitled");
        return strlen(out);
    }
    out[n] = '\0';
    return n;
}
