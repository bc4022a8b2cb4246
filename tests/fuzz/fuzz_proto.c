/* Fuzz target: the frame reader and JSON-RPC checks on arbitrary bytes from a
 * hostile child. Every frame accepted must survive a round trip through the
 * writer unchanged; anything else is a violation with a message, never a
 * crash or an unbounded buffer. */
#include "proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proto_conn c, back;
    json_t *m, *m2;
    int rc;

    proto_conn_init(&c, -1, 1 << 16);
    proto_conn_init(&back, -1, 1 << 16);
    if (buf_add(&c.in, (const char *)data, size) < 0)
        goto out;
    while ((rc = proto_conn_next(&c, &m)) == 1) {
        if (!json_is_object(m) || proto_conn_queue(&back, m) < 0)
            abort();
        /* what the writer framed, the reader takes back as the same message */
        if (buf_add(&back.in, back.out.data, back.out.len) < 0)
            abort();
        back.out.len = 0;
        if (proto_conn_next(&back, &m2) != 1 || !json_equal(m, m2))
            abort();
        json_decref(m2);
        json_decref(m);
    }
    if (rc < 0 && !c.err[0])
        abort(); /* a violation always says what it was */
out:
    proto_conn_release(&c);
    proto_conn_release(&back);
    return 0;
}
