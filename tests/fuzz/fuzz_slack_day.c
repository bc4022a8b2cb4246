/*
 * Fuzz target: a Slack export's day file (a JSON array of messages), with
 * users.json and channels.json of a small workspace, then the threads it
 * started. Documents must be valid UTF-8.
 */
#include "layout_slack.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jansson refuses strings that are not UTF-8 */
static int utf8_ok(const char *p, size_t n)
{
    json_t *j = json_stringn(p, n);

    json_decref(j);
    return j != NULL;
}

static int check_doc(const struct extract_doc *d, void *arg)
{
    (void)arg;
    if (!d->part || !d->title || (d->text_len && !utf8_ok(d->text, d->text_len)))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"channels.json", "general/2024-01-15.json", "users.json"};
    json_t *pre = json_object();
    struct slack *s;

    json_object_set_new(
        pre, "users.json",
        json_string("[{\"id\":\"U1\",\"name\":\"ada\",\"profile\":{\"real_name\":\"Ada\"}},"
                    "{\"id\":\"U2\",\"name\":\"bob\"}]"));
    json_object_set_new(pre, "channels.json",
                        json_string("[{\"id\":\"C1\",\"name\":\"general\",\"topic\":{\"value\":"
                                    "\"t\"},\"purpose\":{\"value\":\"p\"}}]"));
    s = slack_begin(names, 3, pre);
    if (!s)
        abort();
    slack_day(s, "general/2024-01-15.json", (const char *)data, size, NULL, check_doc, NULL);
    slack_day(s, "general/2024-01-16.json", (const char *)data, size, NULL, check_doc, NULL);
    slack_finish(s, check_doc, NULL);
    slack_free(s);
    json_decref(pre);
    return 0;
}
