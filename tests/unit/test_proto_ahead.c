/* The explorer's side of the protocol as bench/http uses it, over a real
 * socketpair: batched notifications wait in the output buffer, a request sent
 * "first" overtakes them, and the answer to a request not waited for (the
 * checkpoint) is taken on the way, its refusal remembered. */
#include "proto.h"
#include "tap.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

int main(void)
{
    struct proto_conn ex, ma; /* the explorer's end and the master's */
    int sv[2];
    json_t *m, *res = NULL;
    const char *order[5];
    long ids[5];
    int n = 0, code = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    proto_conn_init(&ex, sv[0], 0);
    proto_conn_init(&ma, sv[1], 0);

    for (int i = 0; i < 3; i++)
        proto_notify_text_batched(&ex, "docs/emit", json_pack("{s:i}", "n", i), "text", 4);
    ok(!readable(sv[1]), "batched documents wait in the explorer's buffer");
    long cp = proto_call_send(&ex, "checkpoint", json_object(), 0);
    long ls = proto_call_send(&ex, "tools/call", json_pack("{s:s}", "name", "list"), 1);
    ok(cp > 0 && ls > cp, "two requests queued (ids %ld, %ld)", cp, ls);
    ok(!readable(sv[1]), "nothing sent before a flush");
    is_int(proto_flush(&ex), 0, "one flush sends them all");

    while (n < 5 && proto_conn_read(&ma) > 0)
        while (n < 5 && proto_conn_next(&ma, &m) == 1) {
            order[n] = json_string_value(json_object_get(m, "method"));
            order[n] = order[n] && strcmp(order[n], "tools/call") == 0   ? "tools/call"
                       : order[n] && strcmp(order[n], "checkpoint") == 0 ? "checkpoint"
                                                                         : "docs/emit";
            ids[n++] = (long)json_integer_value(json_object_get(m, "id"));
            json_decref(m);
        }
    is_int(n, 5, "the master got five frames");
    is_str(order[0], "tools/call", "the listing overtook the batched documents");
    ok(strcmp(order[1], "docs/emit") == 0 && strcmp(order[2], "docs/emit") == 0 &&
           strcmp(order[3], "docs/emit") == 0,
       "then the three documents");
    is_str(order[4], "checkpoint", "and the checkpoint after the documents it covers");
    is_int(ids[0], ls, "the listing keeps its id");

    /* the master refuses the checkpoint and answers the listing */
    json_t *cid = json_integer(cp), *lid = json_integer(ls);
    m = proto_error(cid, PROTO_EINTERNAL, "storing the checkpoint failed: disk full");
    proto_conn_queue(&ma, m);
    json_decref(m);
    m = proto_result(lid, json_pack("{s:[]}", "files"));
    proto_conn_queue(&ma, m);
    json_decref(m);
    json_decref(cid);
    json_decref(lid);
    proto_conn_flush(&ma);

    is_int(proto_call_wait(&ex, ls, "tools/call", &res, &code), 0, "the listing's answer arrives");
    ok(json_is_array(json_object_get(res, "files")), "with its result");
    ok(ex.ahead_failed, "the checkpoint's refusal was taken on the way");
    ok(strstr(ex.ahead_err, "disk full") != NULL, "with the master's reason: %s", ex.ahead_err);
    is_int(ex.ahead, 0, "no answer outstanding");
    json_decref(res);

    proto_conn_release(&ex);
    proto_conn_release(&ma);
    close(sv[0]);
    close(sv[1]);
    return tap_done();
}
