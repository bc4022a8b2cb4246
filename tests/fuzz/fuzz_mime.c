/* Fuzz target: the MIME parser and the mbox splitter on arbitrary bytes.
 * Every document must come out as valid UTF-8 with its metadata, and the
 * extraction must end: no crash, no hang, no unbounded memory. */
#include "extract_mail.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const struct extract_doc *d, void *arg)
{
    (void)arg;
    if (!extract_utf8_valid(d->text, d->text_len))
        abort(); /* text handed on must already be valid UTF-8 */
    if (!d->title || !d->mime)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dirp[64];
    char path[128], err[300];
    FILE *f;

    if (!dirp[0]) {
        snprintf(dirp, sizeof dirp, "/tmp/trawl-fuzz-mime-%d", (int)getpid());
        mkdir(dirp, 0700);
    }
    snprintf(path, sizeof path, "%s/m", dirp);
    if (!(f = fopen(path, "w")))
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    extract_mail(path, "m.eml", NULL, check, NULL, err, sizeof err);
    extract_mbox(path, "m.mbox", NULL, check, NULL, err, sizeof err);
    unlink(path);
    return 0;
}
