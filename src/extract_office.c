/*
 * OOXML and ODF text extraction. The zip's XML parts are loaded into memory
 * under a per-part cap and the file's expansion limits (the parts must be
 * read in an order the zip does not give: shared strings before sheets,
 * slides in presentation order), then each part is streamed through
 * xmlReader. Parts with a DOCTYPE are refused: neither format uses one, and
 * that is where entity expansion attacks live.
 */
#include "extract_office.h"

#include <archive.h>
#include <archive_entry.h>
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFFICE_MAX_PART ((size_t)64 << 20)
#define OFFICE_MAX_TOTAL ((long long)512 << 20)
#define OFFICE_MAX_PARTS 20000
#define OFFICE_MAX_TABS 256

enum office_kind { OFFICE_NONE, DOCX, XLSX, PPTX, ODT, ODS, ODP };

struct part {
    char *name;
    char *data;
    size_t len;
};

struct pkg {
    struct part *p;
    size_t n, alloc;
    long long total;
    char warn[256]; /* first non-fatal problem */
};

/* A text writer with pending separators, so empty cells and paragraphs cost nothing. */
struct tw {
    struct buf *b;
    int tabs, nl, sp, full;
};

static void tw_flush(struct tw *w)
{
    if (w->nl && w->b->len && buf_addch(w->b, '\n') < 0)
        w->full = 1;
    if (w->tabs) {
        for (int i = 0; i < w->tabs && i < OFFICE_MAX_TABS; i++)
            if (buf_addch(w->b, '\t') < 0)
                w->full = 1;
    } else if (w->sp && w->b->len) {
        if (buf_addch(w->b, ' ') < 0)
            w->full = 1;
    }
    w->nl = w->tabs = w->sp = 0;
}

static void tw_text(struct tw *w, const char *s, size_t n)
{
    if (!n || w->full)
        return;
    tw_flush(w);
    if (extract_utf8_clean(w->b, s, n) < 0)
        w->full = 1;
}

static void tw_str(struct tw *w, const char *s)
{
    tw_text(w, s, strlen(s));
}

static void tw_newline(struct tw *w)
{
    w->nl = 1;
}

static void pkg_free(struct pkg *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->p[i].name);
        free(k->p[i].data);
    }
    free(k->p);
}

static const struct part *pkg_get(const struct pkg *k, const char *name)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->p[i].name, name) == 0)
            return &k->p[i];
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Only XML and relationship parts and the ODF mimetype are worth memory. */
static int part_wanted(const char *name)
{
    return ends_with(name, ".xml") || ends_with(name, ".rels") || strcmp(name, "mimetype") == 0;
}

static int pkg_load(struct archive *a, struct pkg *k, const struct extract_limits *lim,
                    long long packed, char *err, size_t errlen)
{
    struct archive_entry *e;
    long long max_total = OFFICE_MAX_TOTAL;
    double ratio = lim && lim->max_ratio > 0 ? lim->max_ratio : 200;
    long entries = 0;
    int r;

    if (lim && lim->max_expanded > 0 && lim->max_expanded < max_total)
        max_total = lim->max_expanded;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(e);
        struct buf b;
        char block[65536];
        la_ssize_t got;

        if (++entries > OFFICE_MAX_PARTS) {
            snprintf(err, errlen, "too many zip entries (more than %d)", OFFICE_MAX_PARTS);
            return -1;
        }
        if (!name || archive_entry_filetype(e) != AE_IFREG || !part_wanted(name))
            continue;
        buf_init(&b, OFFICE_MAX_PART);
        while ((got = archive_read_data(a, block, sizeof block)) > 0) {
            k->total += got;
            if (buf_add(&b, block, (size_t)got) < 0) {
                snprintf(err, errlen, "zip entry '%.100s' expands past %zu MiB: refused", name,
                         OFFICE_MAX_PART >> 20);
                buf_release(&b);
                return -1;
            }
            if (k->total > max_total ||
                (k->total > (1 << 20) && packed > 0 && (double)k->total / (double)packed > ratio)) {
                snprintf(err, errlen,
                         "zip bomb: parts expand to more than %lld bytes from %lld (limit %lld "
                         "bytes, ratio %.0f)",
                         k->total, packed, max_total, ratio);
                buf_release(&b);
                return -1;
            }
        }
        if (got < 0 && !k->warn[0])
            snprintf(k->warn, sizeof k->warn, "damaged zip entry '%.100s': %s", name,
                     archive_error_string(a));
        if (k->n == k->alloc) {
            size_t na = k->alloc ? k->alloc * 2 : 32;
            struct part *np = realloc(k->p, na * sizeof *np);
            if (!np) {
                buf_release(&b);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            k->p = np;
            k->alloc = na;
        }
        k->p[k->n].name = strdup(name);
        k->p[k->n].len = b.len;
        k->p[k->n].data = buf_detach(&b, NULL);
        if (!k->p[k->n].data)
            k->p[k->n].data = strdup("");
        k->n++;
    }
    if (r != ARCHIVE_EOF) {
        if (!k->n) {
            snprintf(err, errlen, "not a readable zip: %s", archive_error_string(a));
            return -1;
        }
        if (!k->warn[0])
            snprintf(k->warn, sizeof k->warn, "damaged zip: %s", archive_error_string(a));
    }
    return 0;
}

static enum office_kind pkg_kind(const struct pkg *k)
{
    const struct part *m = pkg_get(k, "mimetype");

    if (m) {
        static const char pre[] = "application/vnd.oasis.opendocument.";
        if (m->len > sizeof pre - 1 && memcmp(m->data, pre, sizeof pre - 1) == 0) {
            const char *t = m->data + sizeof pre - 1;
            size_t n = m->len - (sizeof pre - 1);
            if (n >= 4 && memcmp(t, "text", 4) == 0)
                return ODT;
            if (n >= 11 && memcmp(t, "spreadsheet", 11) == 0)
                return ODS;
            if (n >= 12 && memcmp(t, "presentation", 12) == 0)
                return ODP;
        }
    }
    if (pkg_get(k, "word/document.xml"))
        return DOCX;
    if (pkg_get(k, "xl/workbook.xml"))
        return XLSX;
    if (pkg_get(k, "ppt/presentation.xml"))
        return PPTX;
    return OFFICE_NONE;
}

static const char *kind_mime(enum office_kind t)
{
    switch (t) {
    case DOCX:
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    case XLSX:
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    case PPTX:
        return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    case ODT:
        return "application/vnd.oasis.opendocument.text";
    case ODS:
        return "application/vnd.oasis.opendocument.spreadsheet";
    case ODP:
        return "application/vnd.oasis.opendocument.presentation";
    default:
        return "application/zip";
    }
}

static void xml_silent(void *arg, const char *msg, xmlParserSeverities sev,
                       xmlTextReaderLocatorPtr loc)
{
    (void)arg;
    (void)msg;
    (void)sev;
    (void)loc;
}

static int has_doctype(const struct part *p)
{
    static const char d[] = "<!DOCTYPE";
    for (size_t i = 0; i + sizeof d - 1 <= p->len; i++)
        if (p->data[i] == '<' && memcmp(p->data + i, d, sizeof d - 1) == 0)
            return 1;
    return 0;
}

/* Opens a reader on a part, or NULL (with a note in the package) when it is unusable. */
static xmlTextReaderPtr xml_open(struct pkg *k, const struct part *p)
{
    xmlTextReaderPtr r;

    if (!p)
        return NULL;
    if (has_doctype(p)) {
        if (!k->warn[0])
            snprintf(k->warn, sizeof k->warn, "part '%.100s' has a DOCTYPE: refused", p->name);
        return NULL;
    }
    if (p->len > INT32_MAX)
        return NULL;
    r = xmlReaderForMemory(p->data, (int)p->len, p->name, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                               XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
    if (r)
        xmlTextReaderSetErrorHandler(r, xml_silent, NULL);
    return r;
}

static void xml_done(struct pkg *k, xmlTextReaderPtr r, int rc, const char *name)
{
    if (rc < 0 && !k->warn[0])
        snprintf(k->warn, sizeof k->warn, "malformed XML in part '%.100s'", name);
    xmlFreeTextReader(r);
}

#define LNAME(r) ((const char *)xmlTextReaderConstLocalName(r))
#define IS(r, s) (strcmp(LNAME(r), s) == 0)

static char *attr(xmlTextReaderPtr r, const char *name)
{
    return (char *)xmlTextReaderGetAttribute(r, (const xmlChar *)name);
}

/* The r:id attribute, by namespace (any prefix) or by its usual name. */
static char *rel_id(xmlTextReaderPtr r)
{
    static const char ns[] = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    char *v = (char *)xmlTextReaderGetAttributeNs(r, (const xmlChar *)"id", (const xmlChar *)ns);
    return v ? v : attr(r, "r:id");
}

static long attr_long(xmlTextReaderPtr r, const char *name, long dflt)
{
    char *v = attr(r, name);
    long n = dflt;
    if (v) {
        n = strtol(v, NULL, 10);
        xmlFree(v);
    }
    return n;
}

/*
 * Body text of a word-processing or presentation part (OOXML w: / a:, ODF
 * text: / table:): paragraphs on lines, table cells tab-separated, rows on
 * lines. OOXML keeps text only inside <t>; ODF text sits in paragraphs.
 */
static void walk_text(struct pkg *k, const struct part *p, struct tw *w, int odf)
{
    xmlTextReaderPtr r = xml_open(k, p);
    int in_t = 0, cells = 0, skip = 0, para = 0, rc;

    if (!r)
        return;
    while ((rc = xmlTextReaderRead(r)) == 1 && !w->full) {
        int type = xmlTextReaderNodeType(r);
        const char *n = LNAME(r);
        if (type == XML_READER_TYPE_ELEMENT) {
            int empty = xmlTextReaderIsEmptyElement(r);
            if (skip) {
                if (!empty)
                    skip++;
                continue;
            }
            if (!empty && (strcmp(n, "tracked-changes") == 0 || strcmp(n, "delText") == 0 ||
                           strcmp(n, "instrText") == 0 || strcmp(n, "rPh") == 0 ||
                           (!odf && strcmp(n, "fld") == 0))) {
                skip = 1;
            } else if (strcmp(n, "t") == 0 && !odf) {
                in_t = !empty;
            } else if (odf && !empty && (strcmp(n, "p") == 0 || strcmp(n, "h") == 0)) {
                para++;
            } else if (strcmp(n, "tab") == 0) {
                tw_flush(w);
                tw_text(w, "\t", 1);
            } else if (strcmp(n, "br") == 0 || strcmp(n, "cr") == 0 ||
                       strcmp(n, "line-break") == 0) {
                tw_newline(w);
            } else if (odf && strcmp(n, "s") == 0) {
                long c = attr_long(r, "text:c", 1);
                for (long i = 0; i < c && i < 64; i++)
                    tw_text(w, " ", 1);
            } else if (strcmp(n, "tc") == 0 || strcmp(n, "table-cell") == 0 ||
                       strcmp(n, "covered-table-cell") == 0) {
                cells++;
                if (empty && odf)
                    w->tabs += (int)attr_long(r, "table:number-columns-repeated", 1);
            } else if (strcmp(n, "tr") == 0 || strcmp(n, "table-row") == 0) {
                tw_newline(w);
            } else if (odf && strcmp(n, "annotation") == 0) {
                tw_newline(w);
                tw_str(w, "[comment] ");
            } else if (odf && strcmp(n, "notes") == 0) {
                tw_newline(w);
                tw_str(w, "[notes]");
                tw_newline(w);
            } else if (odf && strcmp(n, "page") == 0) {
                char *nm = attr(r, "draw:name");
                tw_newline(w);
                tw_str(w, "[slide ");
                tw_str(w, nm ? nm : "?");
                tw_str(w, "]");
                tw_newline(w);
                xmlFree(nm);
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (skip) {
                skip--;
                continue;
            }
            if (strcmp(n, "t") == 0)
                in_t = 0;
            else if (strcmp(n, "p") == 0 || strcmp(n, "h") == 0) {
                if (odf && para > 0)
                    para--;
                if (cells > 0)
                    w->sp = 1;
                else
                    tw_newline(w);
            } else if (strcmp(n, "tc") == 0 || strcmp(n, "table-cell") == 0 ||
                       strcmp(n, "covered-table-cell") == 0) {
                cells--;
                w->sp = 0;
                w->tabs += 1; /* the repeat count is on empty cells only */
            } else if (strcmp(n, "tr") == 0 || strcmp(n, "table-row") == 0) {
                w->tabs = 0;
                tw_newline(w);
            } else if (strcmp(n, "annotation") == 0) {
                tw_newline(w);
            }
        } else if ((type == XML_READER_TYPE_TEXT ||
                    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE ||
                    type == XML_READER_TYPE_CDATA) &&
                   !skip && (in_t || (odf && para > 0))) {
            const char *v = (const char *)xmlTextReaderConstValue(r);
            if (v)
                tw_text(w, v, strlen(v));
        }
    }
    tw_newline(w);
    xml_done(k, r, rc, p->name);
}

/* Core properties: docProps/core.xml (OOXML) or meta.xml (ODF). */
struct props {
    char *title, *author, *created, *modified, *modified_by;
};

static void props_read(struct pkg *k, const struct part *p, struct props *pr)
{
    xmlTextReaderPtr r = xml_open(k, p);
    char **slot = NULL;
    int rc;

    if (!r)
        return;
    while ((rc = xmlTextReaderRead(r)) == 1) {
        int type = xmlTextReaderNodeType(r);
        if (type == XML_READER_TYPE_ELEMENT) {
            const char *n = LNAME(r);
            slot = NULL;
            if (strcmp(n, "title") == 0)
                slot = &pr->title;
            else if (strcmp(n, "creator") == 0 || strcmp(n, "initial-creator") == 0)
                slot =
                    strcmp(n, "creator") == 0 && p->name[0] == 'm' ? &pr->modified_by : &pr->author;
            else if (strcmp(n, "lastModifiedBy") == 0)
                slot = &pr->modified_by;
            else if (strcmp(n, "created") == 0 || strcmp(n, "creation-date") == 0)
                slot = &pr->created;
            else if (strcmp(n, "modified") == 0 || strcmp(n, "date") == 0)
                slot = &pr->modified;
            if (xmlTextReaderIsEmptyElement(r))
                slot = NULL;
        } else if (type == XML_READER_TYPE_TEXT && slot && !*slot) {
            struct buf b;
            const char *v = (const char *)xmlTextReaderConstValue(r);
            buf_init(&b, 4096);
            if (v)
                extract_utf8_clean(&b, v, strlen(v));
            *slot = buf_detach(&b, NULL);
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            slot = NULL;
        }
    }
    xml_done(k, r, rc, p->name);
    /* ODF: the initial creator is the author; without one, the last editor */
    if (!pr->author && pr->modified_by) {
        pr->author = pr->modified_by;
        pr->modified_by = NULL;
    }
}

static void props_free(struct props *pr)
{
    free(pr->title);
    free(pr->author);
    free(pr->created);
    free(pr->modified);
    free(pr->modified_by);
}

/* Relationships of a part: Id → resolved part name. */
struct rel {
    char *id, *target;
};
struct rels {
    struct rel *r;
    size_t n;
};

/* Joins a relationship target to the folder of its source part ("xl/", "../x" and "/x" forms). */
static char *rel_resolve(const char *dir, const char *target)
{
    struct buf b;
    if (target[0] == '/')
        return strdup(target + 1);
    buf_init(&b, 4096);
    buf_adds(&b, dir);
    while (strncmp(target, "../", 3) == 0) {
        /* drop the last folder of b */
        size_t len = b.len;
        if (len && b.data[len - 1] == '/')
            len--;
        while (len && b.data[len - 1] != '/')
            len--;
        b.len = len;
        if (b.data)
            b.data[len] = '\0';
        target += 3;
    }
    buf_adds(&b, target);
    return buf_detach(&b, NULL);
}

static void rels_read(struct pkg *k, const char *rels_name, const char *dir, struct rels *out)
{
    xmlTextReaderPtr r = xml_open(k, pkg_get(k, rels_name));
    int rc;

    out->r = NULL;
    out->n = 0;
    if (!r)
        return;
    while ((rc = xmlTextReaderRead(r)) == 1 && out->n < OFFICE_MAX_PARTS) {
        if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT && IS(r, "Relationship")) {
            char *id = attr(r, "Id"), *t = attr(r, "Target");
            struct rel *nr = id && t ? realloc(out->r, (out->n + 1) * sizeof *nr) : NULL;
            if (nr) {
                out->r = nr;
                out->r[out->n].id = strdup(id);
                out->r[out->n].target = rel_resolve(dir, t);
                out->n++;
            }
            xmlFree(id);
            xmlFree(t);
        }
    }
    xml_done(k, r, rc, rels_name);
}

static const char *rels_get(const struct rels *rs, const char *id)
{
    for (size_t i = 0; id && i < rs->n; i++)
        if (strcmp(rs->r[i].id, id) == 0)
            return rs->r[i].target;
    return NULL;
}

static void rels_free(struct rels *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->r[i].id);
        free(rs->r[i].target);
    }
    free(rs->r);
}

/* Parts whose names start with prefix and end with .xml, in numeric order (header2 < header10). */
static int cmp_natural(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static size_t parts_with_prefix(const struct pkg *k, const char *prefix, const char **out,
                                size_t max)
{
    size_t n = 0, pl = strlen(prefix);
    for (size_t i = 0; i < k->n && n < max; i++)
        if (strncmp(k->p[i].name, prefix, pl) == 0 && ends_with(k->p[i].name, ".xml") &&
            !strchr(k->p[i].name + pl, '/'))
            out[n++] = k->p[i].name;
    qsort(out, n, sizeof *out, cmp_natural);
    return n;
}

static void docx_text(struct pkg *k, struct tw *w)
{
    static const struct {
        const char *prefix, *label;
    } extra[] = {{"word/header", "header"},
                 {"word/footer", "footer"},
                 {"word/footnotes", "footnotes"},
                 {"word/endnotes", "endnotes"},
                 {"word/comments", "comments"}};
    const char *names[64];

    walk_text(k, pkg_get(k, "word/document.xml"), w, 0);
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        size_t n = parts_with_prefix(k, extra[i].prefix, names, 64);
        for (size_t j = 0; j < n; j++) {
            size_t before;
            tw_newline(w);
            tw_flush(w);
            before = w->b->len;
            tw_str(w, "[");
            tw_str(w, extra[i].label);
            tw_str(w, "]\n");
            w->nl = 0;
            {
                size_t mark = w->b->len;
                walk_text(k, pkg_get(k, names[j]), w, 0);
                if (w->b->len == mark && !w->full) { /* nothing in it: drop the label */
                    w->b->len = before;
                    if (w->b->data)
                        w->b->data[before] = '\0';
                }
            }
        }
    }
}

static void pptx_text(struct pkg *k, struct tw *w)
{
    struct rels pres;
    xmlTextReaderPtr r;
    int rc, slide = 0;

    rels_read(k, "ppt/_rels/presentation.xml.rels", "ppt/", &pres);
    r = xml_open(k, pkg_get(k, "ppt/presentation.xml"));
    while (r && (rc = xmlTextReaderRead(r)) == 1 && !w->full) {
        if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT && IS(r, "sldId")) {
            const char *target;
            char *rid = rel_id(r);
            target = rels_get(&pres, rid);
            xmlFree(rid);
            if (!target)
                continue;
            tw_newline(w);
            tw_flush(w);
            buf_addf(w->b, "[slide %d]\n", ++slide);
            walk_text(k, pkg_get(k, target), w, 0);
            {
                /* the slide's notes, through its own relationships */
                const char *slash = strrchr(target, '/');
                struct buf rn;
                struct rels srels;
                buf_init(&rn, 4096);
                buf_add(&rn, target, slash ? (size_t)(slash - target + 1) : 0);
                buf_addf(&rn, "_rels/%s.rels", slash ? slash + 1 : target);
                {
                    struct buf dir;
                    buf_init(&dir, 4096);
                    buf_add(&dir, target, slash ? (size_t)(slash - target + 1) : 0);
                    rels_read(k, buf_str(&rn), buf_str(&dir), &srels);
                    buf_release(&dir);
                }
                for (size_t i = 0; i < srels.n; i++)
                    if (strstr(srels.r[i].target, "notesSlides/")) {
                        size_t mark;
                        tw_newline(w);
                        tw_flush(w);
                        mark = w->b->len;
                        tw_str(w, "[notes]\n");
                        w->nl = 0;
                        {
                            size_t after = w->b->len;
                            walk_text(k, pkg_get(k, srels.r[i].target), w, 0);
                            if (w->b->len == after && w->b->data) {
                                w->b->len = mark;
                                w->b->data[mark] = '\0';
                            }
                        }
                    }
                rels_free(&srels);
                buf_release(&rn);
            }
        }
    }
    if (r)
        xml_done(k, r, rc, "ppt/presentation.xml");
    if (slide == 0) { /* no usable presentation.xml: slides by number */
        const char *names[4096];
        size_t n = parts_with_prefix(k, "ppt/slides/slide", names, 4096);
        for (size_t i = 0; i < n; i++) {
            tw_newline(w);
            tw_flush(w);
            buf_addf(w->b, "[slide %zu]\n", i + 1);
            walk_text(k, pkg_get(k, names[i]), w, 0);
        }
    }
    rels_free(&pres);
}

/* xlsx shared strings: one buffer of NUL-separated strings and their offsets. */
struct sst {
    struct buf all;
    size_t *off;
    size_t n;
};

static void sst_read(struct pkg *k, struct sst *s)
{
    xmlTextReaderPtr r = xml_open(k, pkg_get(k, "xl/sharedStrings.xml"));
    int rc, in_t = 0, skip = 0;
    size_t alloc = 0;

    buf_init(&s->all, EXTRACT_MAX_TEXT * 2);
    s->off = NULL;
    s->n = 0;
    if (!r)
        return;
    while ((rc = xmlTextReaderRead(r)) == 1) {
        int type = xmlTextReaderNodeType(r);
        if (type == XML_READER_TYPE_ELEMENT && !xmlTextReaderIsEmptyElement(r) && IS(r, "rPh"))
            skip = 1;
        else if (type == XML_READER_TYPE_END_ELEMENT && IS(r, "rPh"))
            skip = 0;
        else if (type == XML_READER_TYPE_ELEMENT && IS(r, "si")) {
            if (s->n == alloc) {
                size_t na = alloc ? alloc * 2 : 256;
                size_t *no = realloc(s->off, na * sizeof *no);
                if (!no)
                    break;
                s->off = no;
                alloc = na;
            }
            if (s->n && buf_addch(&s->all, '\0') < 0)
                break;
            s->off[s->n++] = s->all.len;
            if (xmlTextReaderIsEmptyElement(r))
                continue;
        } else if (type == XML_READER_TYPE_ELEMENT && IS(r, "t")) {
            in_t = !xmlTextReaderIsEmptyElement(r);
        } else if (type == XML_READER_TYPE_END_ELEMENT && IS(r, "t")) {
            in_t = 0;
        } else if ((type == XML_READER_TYPE_TEXT ||
                    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) &&
                   in_t && !skip && s->n) {
            const char *v = (const char *)xmlTextReaderConstValue(r);
            if (v && extract_utf8_clean(&s->all, v, strlen(v)) < 0)
                break;
        }
    }
    buf_addch(&s->all, '\0');
    xml_done(k, r, rc, "xl/sharedStrings.xml");
}

static const char *sst_get(const struct sst *s, const char *idx, long *bad)
{
    char *end;
    long i = strtol(idx, &end, 10);
    if (end == idx || i < 0 || (size_t)i >= s->n) {
        (*bad)++;
        return "";
    }
    return s->all.data + s->off[i];
}

/* Column number (0-based) of a cell reference like "AB12"; -1 if none. */
static long col_of(const char *ref)
{
    long c = 0;
    int any = 0;
    for (; ref && *ref >= 'A' && *ref <= 'Z' && c < 100000; ref++) {
        c = c * 26 + (*ref - 'A' + 1);
        any = 1;
    }
    return any ? c - 1 : -1;
}

static void xlsx_sheet(struct pkg *k, const struct part *p, const struct sst *s, struct tw *w,
                       long *bad_index)
{
    xmlTextReaderPtr r = xml_open(k, p);
    struct buf cell;
    char ctype[16] = "";
    long col = 0;
    int in_v = 0, in_c = 0, rc;

    if (!r)
        return;
    buf_init(&cell, EXTRACT_MAX_TEXT);
    while ((rc = xmlTextReaderRead(r)) == 1 && !w->full) {
        int type = xmlTextReaderNodeType(r);
        const char *n = LNAME(r);
        if (type == XML_READER_TYPE_ELEMENT) {
            int empty = xmlTextReaderIsEmptyElement(r);
            if (strcmp(n, "row") == 0) {
                col = 0;
                w->tabs = 0;
                tw_newline(w);
            } else if (strcmp(n, "c") == 0) {
                char *ref = attr(r, "r"), *t = attr(r, "t");
                long c = col_of(ref);
                if (c > col)
                    w->tabs += (int)(c - col > OFFICE_MAX_TABS ? OFFICE_MAX_TABS : c - col);
                col = c >= 0 ? c : col;
                snprintf(ctype, sizeof ctype, "%s", t ? t : "n");
                xmlFree(ref);
                xmlFree(t);
                buf_reset(&cell);
                in_c = !empty;
                if (empty) {
                    col++;
                    w->tabs++;
                }
            } else if ((strcmp(n, "v") == 0 || strcmp(n, "t") == 0) && in_c) {
                in_v = !empty;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT) {
            if (strcmp(n, "v") == 0 || strcmp(n, "t") == 0) {
                in_v = 0;
            } else if (strcmp(n, "c") == 0 && in_c) {
                const char *v = buf_str(&cell);
                if (strcmp(ctype, "s") == 0)
                    v = sst_get(s, v, bad_index);
                else if (strcmp(ctype, "b") == 0)
                    v = strcmp(v, "1") == 0 ? "TRUE" : "FALSE";
                tw_str(w, v);
                in_c = 0;
                col++;
                w->tabs++;
            } else if (strcmp(n, "row") == 0) {
                w->tabs = 0;
                tw_newline(w);
            }
        } else if ((type == XML_READER_TYPE_TEXT ||
                    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) &&
                   in_v) {
            const char *v = (const char *)xmlTextReaderConstValue(r);
            if (v)
                extract_utf8_clean(&cell, v, strlen(v));
        }
    }
    buf_release(&cell);
    tw_newline(w);
    xml_done(k, r, rc, p->name);
}

struct sheet {
    char *name, *part;
};

/* The workbook's sheets in tab order. */
static size_t xlsx_sheets(struct pkg *k, struct sheet *out, size_t max)
{
    struct rels rs;
    xmlTextReaderPtr r;
    size_t n = 0;
    int rc;

    rels_read(k, "xl/_rels/workbook.xml.rels", "xl/", &rs);
    r = xml_open(k, pkg_get(k, "xl/workbook.xml"));
    while (r && (rc = xmlTextReaderRead(r)) == 1 && n < max) {
        if (xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT && IS(r, "sheet")) {
            char *name = attr(r, "name"), *rid = rel_id(r);
            const char *t = rels_get(&rs, rid);
            if (t) {
                out[n].name = strdup(name ? name : "");
                out[n].part = strdup(t);
                n++;
            }
            xmlFree(name);
            xmlFree(rid);
        }
    }
    if (r)
        xml_done(k, r, rc, "xl/workbook.xml");
    rels_free(&rs);
    return n;
}

/* ODS: each table:table is a sheet; returns the sheets' text one by one through the callback. */
typedef int (*sheet_fn)(const char *name, struct buf *text, void *arg);

static void ods_sheets(struct pkg *k, const struct part *p, sheet_fn fn, void *arg, int *full)
{
    xmlTextReaderPtr r = xml_open(k, p);
    struct buf b;
    struct tw w;
    char *name = NULL;
    int depth = 0, para = 0, rc;

    if (!r)
        return;
    buf_init(&b, EXTRACT_MAX_TEXT);
    memset(&w, 0, sizeof w);
    w.b = &b;
    while ((rc = xmlTextReaderRead(r)) == 1) {
        int type = xmlTextReaderNodeType(r);
        const char *n = LNAME(r);
        if (type == XML_READER_TYPE_ELEMENT && strcmp(n, "table") == 0 &&
            !xmlTextReaderIsEmptyElement(r)) {
            if (depth++ == 0) {
                xmlFree(name);
                name = attr(r, "table:name");
                buf_reset(&b);
                memset(&w, 0, sizeof w);
                w.b = &b;
            }
        } else if (type == XML_READER_TYPE_END_ELEMENT && strcmp(n, "table") == 0) {
            if (--depth == 0) {
                if (w.full)
                    *full = 1;
                if (fn(name ? name : "", &b, arg))
                    break;
            }
        } else if (depth > 0) {
            /* cell and paragraph handling as in walk_text, for one reader node */
            if (type == XML_READER_TYPE_ELEMENT) {
                int empty = xmlTextReaderIsEmptyElement(r);
                if (strcmp(n, "table-row") == 0) {
                    w.tabs = 0;
                    tw_newline(&w);
                } else if (empty &&
                           (strcmp(n, "table-cell") == 0 || strcmp(n, "covered-table-cell") == 0)) {
                    long rep = attr_long(r, "table:number-columns-repeated", 1);
                    w.tabs += (int)(rep > OFFICE_MAX_TABS ? OFFICE_MAX_TABS : rep);
                } else if (strcmp(n, "p") == 0 && !empty) {
                    para++;
                } else if (strcmp(n, "s") == 0) {
                    tw_text(&w, " ", 1);
                } else if (strcmp(n, "annotation") == 0 && !empty) {
                    tw_str(&w, " [comment] ");
                }
            } else if (type == XML_READER_TYPE_END_ELEMENT) {
                if (strcmp(n, "table-cell") == 0 || strcmp(n, "covered-table-cell") == 0) {
                    w.sp = 0;
                    w.tabs++;
                } else if (strcmp(n, "p") == 0) {
                    w.sp = 1;
                    if (para > 0)
                        para--;
                } else if (strcmp(n, "table-row") == 0) {
                    w.tabs = 0;
                    tw_newline(&w);
                }
            } else if ((type == XML_READER_TYPE_TEXT ||
                        type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) &&
                       para > 0) {
                const char *v = (const char *)xmlTextReaderConstValue(r);
                if (v)
                    tw_text(&w, v, strlen(v));
            }
        }
    }
    xmlFree(name);
    buf_release(&b);
    xml_done(k, r, rc, p->name);
}

struct emit_ctx {
    extract_emit_fn fn;
    void *arg;
    const char *mime, *file;
    long docs, index;
    int stop;
    json_t *names; /* sheet names, in order */
};

static int emit_sheet(const char *name, struct buf *text, void *arg)
{
    struct emit_ctx *c = arg;
    struct extract_doc d = {0};
    json_t *meta = json_pack("{s:s, s:i}", "sheet", name, "sheet_index", (json_int_t)++c->index);
    char part[64];

    snprintf(part, sizeof part, "sheet/%ld", c->index);
    if (c->names)
        json_array_append_new(c->names, json_string(name));
    /* one trailing newline at most */
    while (text->len && text->data[text->len - 1] == '\n')
        text->data[--text->len] = '\0';
    d.part = part;
    d.title = name;
    d.mime = "text/tab-separated-values";
    d.text = buf_str(text);
    d.text_len = text->len;
    d.metadata = meta;
    c->stop = c->fn(&d, c->arg);
    json_decref(meta);
    c->docs++;
    return c->stop;
}

static long office_run(struct pkg *k, const char *name, extract_emit_fn fn, void *arg, char *err,
                       size_t errlen)
{
    enum office_kind kind = pkg_kind(k);
    struct buf text;
    struct tw w;
    struct props pr = {0};
    struct extract_doc d = {0};
    struct emit_ctx c = {fn, arg, kind_mime(kind), name, 0, 0, 0, NULL};
    json_t *meta, *sheets;
    long bad_index = 0;
    int full = 0;

    if (kind == OFFICE_NONE)
        return EXTRACT_NOT_MINE;
    buf_init(&text, EXTRACT_MAX_TEXT);
    memset(&w, 0, sizeof w);
    w.b = &text;
    meta = json_object();
    props_read(k, pkg_get(k, kind >= ODT ? "meta.xml" : "docProps/core.xml"), &pr);
    switch (kind) {
    case DOCX:
        if (!pkg_get(k, "word/document.xml"))
            break;
        docx_text(k, &w);
        break;
    case PPTX:
        pptx_text(k, &w);
        break;
    case ODT:
    case ODP:
        walk_text(k, pkg_get(k, "content.xml"), &w, 1);
        if (kind == ODT && pkg_get(k, "styles.xml")) {
            /* headers and footers live in the master pages of styles.xml */
            size_t mark;
            tw_newline(&w);
            tw_flush(&w);
            mark = text.len;
            tw_str(&w, "[header/footer]\n");
            w.nl = 0;
            {
                size_t after = text.len;
                struct buf hf;
                struct tw hw = {0};
                buf_init(&hf, EXTRACT_MAX_TEXT);
                hw.b = &hf;
                /* only text inside header/footer elements counts: walk a filtered copy */
                {
                    xmlTextReaderPtr r = xml_open(k, pkg_get(k, "styles.xml"));
                    int rc, in_hf = 0;
                    while (r && (rc = xmlTextReaderRead(r)) == 1) {
                        int type = xmlTextReaderNodeType(r);
                        const char *n = LNAME(r);
                        int is_hf = strncmp(n, "header", 6) == 0 || strncmp(n, "footer", 6) == 0;
                        if (type == XML_READER_TYPE_ELEMENT && is_hf &&
                            !xmlTextReaderIsEmptyElement(r))
                            in_hf++;
                        else if (type == XML_READER_TYPE_END_ELEMENT && is_hf && in_hf)
                            in_hf--;
                        else if (type == XML_READER_TYPE_END_ELEMENT && in_hf &&
                                 strcmp(n, "p") == 0)
                            tw_newline(&hw);
                        else if (type == XML_READER_TYPE_TEXT && in_hf) {
                            const char *v = (const char *)xmlTextReaderConstValue(r);
                            if (v)
                                tw_str(&hw, v);
                        }
                    }
                    if (r)
                        xml_done(k, r, rc, "styles.xml");
                }
                if (hf.len)
                    tw_text(&w, hf.data, hf.len);
                if (text.len == after && text.data) {
                    text.len = mark;
                    text.data[mark] = '\0';
                }
                buf_release(&hf);
            }
        }
        break;
    default:
        break;
    }
    if (kind == XLSX) {
        struct sheet sh[1024];
        struct sst s;
        size_t n = xlsx_sheets(k, sh, 1024);
        sst_read(k, &s);
        sheets = json_array();
        for (size_t i = 0; i < n; i++) {
            json_array_append_new(sheets, json_string(sh[i].name));
            tw_str(&w, sh[i].name);
            tw_newline(&w);
        }
        json_object_set_new(meta, "sheets", sheets);
        json_object_set_new(meta, "shared_strings", json_integer((json_int_t)s.n));
        {
            struct buf stext;
            buf_init(&stext, EXTRACT_MAX_TEXT);
            for (size_t i = 0; i < n; i++) {
                struct tw sw = {0};
                sw.b = &stext;
                buf_reset(&stext);
                xlsx_sheet(k, pkg_get(k, sh[i].part), &s, &sw, &bad_index);
                if (sw.full)
                    full = 1;
                if (!c.stop)
                    emit_sheet(sh[i].name, &stext, &c);
                free(sh[i].name);
                free(sh[i].part);
            }
            buf_release(&stext);
        }
        free(s.off);
        buf_release(&s.all);
        if (bad_index)
            json_object_set_new(meta, "bad_shared_string_refs", json_integer(bad_index));
    } else if (kind == ODS) {
        c.names = json_array();
        ods_sheets(k, pkg_get(k, "content.xml"), emit_sheet, &c, &full);
        json_object_set_new(meta, "sheets", c.names);
        /* the file's text names its sheets; their contents are the parts */
        for (size_t i = 0; i < json_array_size(c.names); i++) {
            tw_str(&w, json_string_value(json_array_get(c.names, i)));
            tw_newline(&w);
        }
    }
    while (text.len && text.data[text.len - 1] == '\n')
        text.data[--text.len] = '\0';
    if (w.full || full)
        json_object_set_new(meta, "truncated", json_true());
    if (k->warn[0])
        json_object_set_new(meta, "extract_warning", json_string(k->warn));
    if (pr.modified_by)
        json_object_set_new(meta, "last_modified_by", json_string(pr.modified_by));
    json_object_set_new(meta, "format", json_string(kind >= ODT ? "odf" : "ooxml"));
    d.part = NULL;
    d.title = pr.title && pr.title[0] ? pr.title : name;
    d.mime = kind_mime(kind);
    d.author = pr.author;
    d.created = pr.created;
    d.modified = pr.modified;
    d.text = buf_str(&text);
    d.text_len = text.len;
    d.metadata = meta;
    (void)errlen;
    (void)err;
    if (!c.stop)
        fn(&d, arg);
    json_decref(meta);
    props_free(&pr);
    buf_release(&text);
    return c.docs + 1;
}

static int name_is_office(const char *name)
{
    static const char *ext[] = {".docx", ".docm", ".dotx", ".xlsx", ".xlsm",
                                ".xltx", ".pptx", ".pptm", ".potx", ".odt",
                                ".ods",  ".odp",  ".ott",  ".ots",  ".otp"};
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return 1;
    return 0;
}

static long office_archive(struct archive *a, int opened, long long packed, const char *name,
                           const struct extract_limits *lim, extract_emit_fn fn, void *arg,
                           char *err, size_t errlen)
{
    struct pkg k;
    long n;

    memset(&k, 0, sizeof k);
    if (!opened) {
        snprintf(err, errlen, "not a readable zip: %s", archive_error_string(a));
        archive_read_free(a);
        return name_is_office(name) ? -1 : EXTRACT_NOT_MINE;
    }
    if (pkg_load(a, &k, lim, packed, err, errlen) < 0) {
        archive_read_free(a);
        pkg_free(&k);
        return name_is_office(name) || k.n ? -1 : EXTRACT_NOT_MINE;
    }
    archive_read_free(a);
    n = office_run(&k, name, fn, arg, err, errlen);
    if (n == EXTRACT_NOT_MINE && name_is_office(name)) {
        snprintf(err, errlen, "not an office file: no document part in the zip");
        n = -1;
    }
    pkg_free(&k);
    return n;
}

static struct archive *zip_reader(void)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    return a;
}

long extract_office_memory(const void *data, size_t n, const char *name,
                           const struct extract_limits *lim, extract_emit_fn fn, void *arg,
                           char *err, size_t errlen)
{
    struct archive *a;

    if (n < 4 || memcmp(data, "PK\3\4", 4) != 0) {
        if (!name_is_office(name))
            return EXTRACT_NOT_MINE;
        snprintf(err, errlen, "not an office file: no zip signature");
        return -1;
    }
    a = zip_reader();
    return office_archive(a, archive_read_open_memory(a, data, n) == ARCHIVE_OK, (long long)n, name,
                          lim, fn, arg, err, errlen);
}

long extract_office_file(const char *path, const char *name, const struct extract_limits *lim,
                         extract_emit_fn fn, void *arg, char *err, size_t errlen)
{
    unsigned char head[4];
    FILE *f = fopen(path, "rb");
    long long size;
    struct archive *a;
    size_t got;

    if (!f)
        return EXTRACT_NOT_MINE;
    got = fread(head, 1, 4, f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    if (got < 4 || memcmp(head, "PK\3\4", 4) != 0)
        return EXTRACT_NOT_MINE; /* named like one but not a zip: read by what it is */
    if (!name_is_office(name))
        return EXTRACT_NOT_MINE; /* plain zips are the archive extractor's */
    a = zip_reader();
    return office_archive(a, archive_read_open_filename(a, path, 65536) == ARCHIVE_OK, size, name,
                          lim, fn, arg, err, errlen);
}
