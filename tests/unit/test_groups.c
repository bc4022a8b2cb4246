/* Entry groups of the structure phase: mail threading (st_threads) and
 * MinHash near-duplicates (ts_minhash, st_neardup_minhash), the latter on
 * real near-duplicates: the licence texts Debian ships, whose successive
 * versions (GFDL 1.2 / 1.3, LGPL 2 / 2.1) are near-duplicates while other
 * revisions (GPL 1 / 2) are not, and lightly edited copies of every one.
 * SimHash on the same pairs is reported for comparison. */
#include "structure.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LICENCES "/usr/share/common-licenses/"
#define AGREE 45 /* as SPHASE_DUP_AGREE in src/structurer.c */

static const char *const lic[] = {"Apache-2.0", "Artistic", "BSD",     "CC0-1.0", "GFDL-1.2",
                                  "GFDL-1.3",   "GPL-1",    "GPL-2",   "GPL-3",   "LGPL-2",
                                  "LGPL-2.1",   "LGPL-3",   "MPL-1.1", "MPL-2.0"};
#define NL (sizeof lic / sizeof lic[0])

static char *slurp(const char *name)
{
    char path[256], *s;
    FILE *f;
    long n;

    snprintf(path, sizeof path, LICENCES "%s", name);
    if (!(f = fopen(path, "rb")))
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* An edited copy: a forwarded-mail preamble, every 40th word replaced, the
 * last tenth cut off (as a reply quoting most of a message would). */
static char *edit(const char *t)
{
    size_t n = strlen(t), o = 0, words = 0, keep = n - n / 10;
    char *s = malloc(n + 200);
    const char *pre = "Forwarded message, please see below. Begin forwarded text:\n";

    memcpy(s, pre, strlen(pre));
    o = strlen(pre);
    for (size_t i = 0; i < keep; i++) {
        if ((i == 0 || t[i - 1] == ' ') && t[i] != ' ' && ++words % 40 == 0) {
            memcpy(s + o, "changed ", 8);
            o += 8;
            while (i < keep && t[i] != ' ')
                i++;
            continue;
        }
        s[o++] = t[i];
    }
    s[o] = '\0';
    return s;
}

int main(void)
{
    char *text[2 * NL];
    uint32_t sig[2 * NL * TS_MINHASH];
    unsigned char has[2 * NL];
    uint64_t sh[2 * NL];
    size_t grp[2 * NL], n = 0, found = 0, sfound = 0;
    int missing = 0;

    for (size_t i = 0; i < NL; i++)
        if (!(text[i] = slurp(lic[i])))
            missing = 1;
    if (missing) {
        ok(0, "licence texts under " LICENCES " (Debian's base-files)");
        return tap_done();
    }
    for (size_t i = 0; i < NL; i++)
        text[NL + i] = edit(text[i]);
    n = 2 * NL;
    for (size_t i = 0; i < n; i++) {
        struct ts_doc d;
        has[i] = ts_minhash(text[i], strlen(text[i]), sig + i * TS_MINHASH) >= 3;
        ts_doc_build(&d, text[i], strlen(text[i]));
        sh[i] = ts_simhash(&d);
        ts_doc_free(&d);
    }
    ok(st_neardup_minhash(sig, has, n, AGREE, grp) >= 0, "near-duplicate grouping runs");
    for (size_t i = 0; i < NL; i++) {
        found += grp[i] == grp[NL + i];
        sfound += ts_hamming(sh[i], sh[NL + i]) <= 2;
    }
    printf("# figure: edited copies found: MinHash %zu of %zu, SimHash (<= 2 bits) %zu of %zu\n",
           found, NL, sfound, NL);
    ok(found == NL, "every edited copy is grouped with its original (%zu of %zu)", found, NL);
    ok(grp[4] == grp[5], "GFDL 1.2 and 1.3 are near-duplicates");
    ok(grp[9] == grp[10], "LGPL 2 and 2.1 are near-duplicates");
    ok(grp[6] != grp[7], "GPL 1 and 2 are not (a third of their text differs)");
    ok(grp[7] != grp[8] && grp[0] != grp[13] && grp[2] != grp[3], "different licences are apart");
    {
        size_t sets = 0;
        for (size_t i = 0; i < n; i++)
            sets += grp[i] == i;
        ok(sets == NL - 2, "14 licences and 14 copies make 12 sets (%zu)", sets);
    }
    {
        uint32_t a[TS_MINHASH], b[TS_MINHASH];
        ok(ts_minhash("", 0, a) == 0 && a[0] == UINT32_MAX, "empty text: no shingles");
        ts_minhash("Hello world", 11, a);
        ts_minhash("hello, WORLD!", 13, b);
        ok(ts_minhash_agree(a, b) == TS_MINHASH, "case and punctuation do not matter");
    }

    /* Threads. */
    {
        char *r1[] = {"<a@x>"}, *r2[] = {"<a@x>", "<b@x>"}, *r3[] = {"<gone@x>"},
             *r4[] = {"<gone@x>"};
        struct st_mail m[] = {
            {"<a@x>", NULL, NULL, 0, "budget", 0},          /* 0: a thread starts */
            {"<b@x>", "<a@x>", r1, 1, "budget", 1},         /* 1: replies to 0 */
            {"<c@x>", "<b@x>", r2, 2, "new subject", 0},    /* 2: subject changed, refs hold */
            {"<d@x>", NULL, NULL, 0, "budget", 1},          /* 3: Re: without refs: subject */
            {"<e@x>", NULL, NULL, 0, "budget", 0},          /* 4: same subject, no Re: apart */
            {"<f@x>", NULL, r3, 1, "lunch", 1},             /* 5: parent not in the corpus */
            {"<g@x>", NULL, r4, 1, "lunch", 1},             /* 6: same missing parent */
            {NULL, NULL, NULL, 0, NULL, 0},                 /* 7: not mail */
            {"<h@x>", "<zz@x>", NULL, 0, "new subject", 1}, /* 8: has a reference: no fallback */
        };
        size_t root[9];
        ok(st_threads(m, 9, root) == 0, "threading runs");
        ok(root[1] == 0 && root[2] == 0,
           "replies follow In-Reply-To/References, whatever the subject");
        ok(root[3] == 0, "a reply without references falls back to its subject");
        ok(root[4] == 4, "a new message with the same subject starts its own thread");
        ok(root[5] == 5 && root[6] == 5, "replies to the same missing message share a thread");
        ok(root[7] == SIZE_MAX, "a document with no mail headers has no thread");
        ok(root[8] == 8, "a reply with references never falls back to the subject");
        ok(st_subject_is_reply("Re: x") && st_subject_is_reply("[ILUG] RE[2]: x") &&
               st_subject_is_reply("Fwd: x") && !st_subject_is_reply("Regarding x") &&
               !st_subject_is_reply("x"),
           "reply prefixes are recognised");
    }
    for (size_t i = 0; i < n; i++)
        free(text[i]);
    return tap_done();
}
