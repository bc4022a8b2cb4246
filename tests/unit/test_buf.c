/* buf: the capped growable buffer. */
#include "buf.h"
#include "tap.h"

#include <stdlib.h>

int main(void)
{
    struct buf b;
    char *p;
    size_t n;

    buf_init(&b, 10);
    is_str(buf_str(&b), "", "empty buffer reads as \"\"");
    is_int(buf_adds(&b, "hello"), 0, "add within cap");
    is_int(buf_addf(&b, "%d", 12345), 0, "addf within cap");
    is_str(buf_str(&b), "hello12345", "contents");
    is_int(buf_addch(&b, 'x'), -1, "one byte over the cap is refused");
    is_int(b.len, 10, "nothing added on refusal");
    is_int(buf_addf(&b, "%s", "y"), -1, "addf over the cap is refused");
    buf_reset(&b);
    is_int(b.len, 0, "reset empties");
    is_int(buf_add(&b, "\0a", 2), 0, "binary bytes");
    is_int(b.len, 2, "binary length kept");
    p = buf_detach(&b, &n);
    is_int(n, 2, "detach gives the length");
    ok(p[1] == 'a' && p[2] == '\0', "detached data is NUL-terminated");
    free(p);
    is_int(b.len, 0, "detached buffer is empty");
    is_int(buf_add(&b, "abc", (size_t)-1), -1, "absurd length refused without overflow");
    buf_release(&b);
    return tap_done();
}
