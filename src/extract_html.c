/* HTML to text with libxml2 (it copes with real-world tag soup and charsets;
 * a home-made tokenizer would not). */
#include "extract_html.h"

#include "extract.h"

#include <ctype.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct html_out {
    struct buf *out;
    int space; /* a space is owed before the next word */
    int lines; /* line breaks owed (at most 2) */
    int any;   /* text written yet */
    int full;  /* out's cap reached */
};

/* What an element means for the text, by name: one sorted table searched
 * in O(log n) (a page has thousands of elements; a linear scan of the lists
 * with strcasecmp was a tenth of the explorer's time on /usr/share/doc). */
enum { HTML_DROP = 1, HTML_BLOCK = 2, HTML_PARA = 4, HTML_CELL = 8 };

static const struct html_tag {
    const char *name;
    unsigned flags;
} html_tags[] = {
    /* sorted by name (strcasecmp order: lowercase ASCII) */
    {"address", HTML_BLOCK},
    {"article", HTML_BLOCK},
    {"aside", HTML_BLOCK},
    {"blockquote", HTML_BLOCK},
    {"br", HTML_BLOCK},
    {"canvas", HTML_DROP},
    {"caption", HTML_BLOCK},
    {"dd", HTML_BLOCK},
    {"div", HTML_BLOCK},
    {"dl", HTML_BLOCK},
    {"dt", HTML_BLOCK},
    {"fieldset", HTML_BLOCK},
    {"figcaption", HTML_BLOCK},
    {"figure", HTML_BLOCK},
    {"footer", HTML_BLOCK},
    {"form", HTML_BLOCK},
    {"h1", HTML_BLOCK | HTML_PARA},
    {"h2", HTML_BLOCK | HTML_PARA},
    {"h3", HTML_BLOCK | HTML_PARA},
    {"h4", HTML_BLOCK | HTML_PARA},
    {"h5", HTML_BLOCK | HTML_PARA},
    {"h6", HTML_BLOCK | HTML_PARA},
    {"head", HTML_DROP},
    {"header", HTML_BLOCK | HTML_PARA},
    {"hr", HTML_BLOCK | HTML_PARA},
    {"iframe", HTML_DROP},
    {"li", HTML_BLOCK},
    {"main", HTML_BLOCK},
    {"nav", HTML_BLOCK},
    {"noscript", HTML_DROP},
    {"object", HTML_DROP},
    {"ol", HTML_BLOCK},
    {"p", HTML_BLOCK | HTML_PARA},
    {"pre", HTML_BLOCK | HTML_PARA},
    {"script", HTML_DROP},
    {"section", HTML_BLOCK},
    {"style", HTML_DROP},
    {"svg", HTML_DROP},
    {"table", HTML_BLOCK | HTML_PARA},
    {"tbody", HTML_BLOCK},
    {"td", HTML_CELL},
    {"template", HTML_DROP},
    {"tfoot", HTML_BLOCK},
    {"th", HTML_CELL},
    {"thead", HTML_BLOCK},
    {"title", HTML_BLOCK},
    {"tr", HTML_BLOCK},
    {"ul", HTML_BLOCK},
};

static unsigned html_tag_flags(const char *name)
{
    size_t lo = 0, hi = sizeof html_tags / sizeof html_tags[0];

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcasecmp(name, html_tags[mid].name);
        if (c == 0)
            return html_tags[mid].flags;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static void html_put(struct html_out *o, const char *s, size_t n)
{
    if (o->full)
        return;
    if (o->any && o->lines) {
        if (buf_add(o->out, o->lines > 1 ? "\n\n" : "\n", (size_t)(o->lines > 1 ? 2 : 1)) < 0)
            o->full = 1;
    } else if (o->any && o->space) {
        if (buf_addch(o->out, ' ') < 0)
            o->full = 1;
    }
    o->lines = o->space = 0;
    if (!o->full && extract_utf8_clean(o->out, s, n) < 0)
        o->full = 1;
    o->any = 1;
}

static void html_text(struct html_out *o, const char *t)
{
    const char *p = t;

    while (*p) {
        const char *w;
        int nbsp = (unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0;
        if (isspace((unsigned char)*p) || nbsp) {
            o->space = 1;
            p += isspace((unsigned char)*p) ? 1 : 2;
            continue;
        }
        w = p;
        while (*p && !isspace((unsigned char)*p) &&
               !((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0))
            p++;
        html_put(o, w, (size_t)(p - w));
    }
}

static void html_walk(struct html_out *o, xmlNode *n, int depth)
{
    for (; n && !o->full; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                html_text(o, (const char *)n->content);
            continue;
        }
        if (n->type != XML_ELEMENT_NODE || !n->name)
            continue;
        unsigned f = html_tag_flags((const char *)n->name);
        if (f & HTML_DROP)
            continue;
        int block = (f & HTML_BLOCK) != 0, para = (f & HTML_PARA) != 0;
        if (block && o->lines < (para ? 2 : 1))
            o->lines = para ? 2 : 1;
        if (f & HTML_CELL)
            o->space = 1;
        if (depth < 256) /* deeper nesting is flattened away, not recursed into */
            html_walk(o, n->children, depth + 1);
        if (block && o->lines < (para ? 2 : 1))
            o->lines = para ? 2 : 1;
    }
}

static char *html_title(xmlNode *n, int depth)
{
    for (; n && depth < 64; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && n->name &&
            strcasecmp((const char *)n->name, "title") == 0) {
            xmlChar *t = xmlNodeGetContent(n);
            struct buf b = BUF_INIT;
            struct html_out o = {&b, 0, 0, 0, 0};
            char *s;
            buf_init(&b, 4096);
            if (t)
                html_text(&o, (const char *)t);
            xmlFree(t);
            s = b.len ? strndup(b.data, b.len) : NULL;
            buf_release(&b);
            return s;
        }
        if (n->type == XML_ELEMENT_NODE) {
            char *s = html_title(n->children, depth + 1);
            if (s)
                return s;
        }
    }
    return NULL;
}

int html_to_text(const char *html, size_t n, const char *encoding, struct buf *out, char **title)
{
    htmlDocPtr doc;
    struct html_out o = {out, 0, 0, 0, 0};

    if (title)
        *title = NULL;
    if (n > (size_t)1 << 30)
        return -1;
    doc = htmlReadMemory(html, (int)n, NULL, encoding,
                         HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NOIMPLIED | HTML_PARSE_COMPACT);
    if (!doc)
        return -1;
    if (title)
        *title = html_title(doc->children, 0);
    /* from the document's children: with HTML_PARSE_NOIMPLIED, text outside
     * <html> is a sibling of the root element */
    html_walk(&o, doc->children, 0);
    xmlFreeDoc(doc);
    return 0;
}

int html_sniff(const unsigned char *p, size_t n)
{
    size_t i = 0;
    static const char *const starts[] = {"<!doctype html", "<html", "<head", "<body", "<!--"};

    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3;
    while (i < n && isspace(p[i]))
        i++;
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
        size_t l = strlen(starts[k]);
        if (n - i >= l && strncasecmp((const char *)p + i, starts[k], l) == 0)
            return k < 4 || (n - i > 64 && memmem(p + i, n - i < 1024 ? n - i : 1024, "<html", 5));
    }
    return 0;
}
