/* Fuzz target: the http driver's templates and record selectors. The input is
 * "TEMPLATE\nSELECTOR\nJSON": whatever it holds, rendering and selecting must
 * neither crash nor leak, and a URL-encoded rendering holds only URL-safe bytes. */
#include "http_template.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), *tpl, *sel, *js, *nl;
    json_t *doc, *ctx, *out, *rj;
    char err[200];
    int missing;

    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    tpl = in;
    nl = strchr(tpl, '\n');
    sel = nl ? (*nl = '\0', nl + 1) : (char *)"";
    nl = strchr(sel, '\n');
    js = nl ? (*nl = '\0', nl + 1) : (char *)"{}";
    doc = json_loads(js, JSON_DECODE_ANY, NULL);
    if (!doc)
        doc = json_pack("{s:s,s:[i,i],s:{s:b}}", "id", "a/b c", "list", 1, 2, "o", "k", 1);
    ctx = json_pack("{s:O,s:{s:s},s:O}", "record", doc, "settings", "url", "http://x", "args", doc);
    char *r = http_render(tpl, ctx, HTTP_ENC_URL, &missing, err, sizeof err);
    if (r) {
        for (const char *p = r; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%",
                        *p) &&
                !strchr(tpl, *p))
                abort(); /* a filled-in byte escaped the encoding */
        free(r);
    }
    free(http_render(tpl, ctx, HTTP_ENC_RAW, NULL, err, sizeof err));
    out = json_array();
    http_select(doc, sel, out);
    json_decref(out);
    json_decref(http_path(doc, sel) ? json_incref(http_path(doc, sel)) : NULL);
    json_t *t = json_pack("{s:s,s:[s]}", "a", tpl, "b", sel);
    rj = http_render_json(t, ctx, err, sizeof err);
    json_decref(rj);
    json_decref(t);
    char *b = strdup(sel);
    if (b) {
        http_base64_decode(b, strlen(b));
        free(b);
    }
    json_decref(ctx);
    json_decref(doc);
    free(in);
    return 0;
}
