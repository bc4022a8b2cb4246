/*
 * What this machine supports: a real confined child is started on a scratch
 * workspace with every layer asked for, best effort, and what it reports
 * active is what is supported; the sandbox's own reasons say why the rest is
 * not. So 'trawl doctor' tells exactly what 'trawl onboard' will get.
 */
#include "sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int probe_child(int fd, void *arg)
{
    (void)arg;
    return write(fd, "k", 1) == 1 ? 0 : 1;
}

/* The reason the sandbox gave for one layer, from "a: why; b: why". */
static void reason_for(const char *missing, const char *name, char *out, size_t len)
{
    size_t nl = strlen(name);
    const char *p = missing;

    out[0] = '\0';
    while (p && *p) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *s = p + nl + 1, *e = strstr(s, "; ");
            while (*s == ' ')
                s++;
            snprintf(out, len, "%.*s", (int)(e ? (size_t)(e - s) : strlen(s)), s);
            return;
        }
        p = strstr(p, "; ");
        if (p)
            p += 2;
    }
}

int sandbox_probe(struct sandbox_probe_result *r)
{
    struct sandbox_opts o;
    struct sandbox_child c;
    char ws[] = "/tmp/trawl-probe-XXXXXX", err[400], b;
    int status;

    memset(r, 0, sizeof *r);
    r->is_root = geteuid() == 0;
    r->landlock_abi = sandbox_landlock_abi();
    if (!mkdtemp(ws))
        return -1;
    sandbox_opts_init(&o);
    o.workspace = ws;
    if (sandbox_spawn(&o, probe_child, NULL, 0, &c, err, sizeof err) < 0) {
        rmdir(ws);
        for (int i = 0; i < SANDBOX_NLAYERS; i++)
            snprintf(r->why[i], sizeof r->why[i], "no confined child could start: %.120s", err);
        return -1;
    }
    while (read(c.fd, &b, 1) < 0 && (errno == EAGAIN || errno == EINTR)) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    sandbox_wait(&c, &status, 0);
    sandbox_child_release(&c);
    rmdir(ws);
    r->supported = c.layers;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char s[96];
        /* a child that entered the sandbox but could not run says more than its layers */
        snprintf(r->why[13], sizeof r->why[13], "the probe child ended: %s",
                 sandbox_status_str(status, s, sizeof s));
    }
    for (int i = 0; i < SANDBOX_NLAYERS; i++) {
        unsigned bit = 1u << i;
        if (r->supported & bit)
            continue;
        if (!r->why[i][0])
            reason_for(c.missing, sandbox_layer_name(bit), r->why[i], sizeof r->why[i]);
        if (!r->why[i][0]) {
            if (bit == SANDBOX_SETUID)
                snprintf(r->why[i], sizeof r->why[i],
                         r->is_root ? "not needed: the user namespace gives each child its uid"
                                    : "needs root");
            else if (bit == SANDBOX_ZYGOTE)
                snprintf(r->why[i], sizeof r->why[i], "not started in this process");
            else
                snprintf(r->why[i], sizeof r->why[i], "not active");
        }
    }
    return 0;
}

static int needed_for_strict(const struct sandbox_probe_result *r, unsigned bit)
{
    if (bit == SANDBOX_ZYGOTE)
        return 0; /* a property of the calling program, not of the machine */
    if (bit == SANDBOX_SETUID)
        return !(r->supported & SANDBOX_USERNS);
    if (bit == SANDBOX_USERNS)
        return !(r->supported & SANDBOX_SETUID);
    return 1;
}

int sandbox_probe_strict_ok(const struct sandbox_probe_result *r)
{
    for (int i = 0; i < SANDBOX_NLAYERS; i++) {
        unsigned bit = 1u << i;
        if (needed_for_strict(r, bit) && !(r->supported & bit))
            return 0;
    }
    return 1;
}

static void detail(const struct sandbox_probe_result *r, unsigned bit, char *out, size_t len)
{
    out[0] = '\0';
    if (bit == SANDBOX_LANDLOCK && r->landlock_abi > 0)
        snprintf(out, len, "ABI %d%s%s", r->landlock_abi,
                 r->landlock_abi >= 4 ? ", TCP bind/connect denied" : "",
                 r->landlock_abi >= 6 ? ", signals and abstract sockets scoped" : "");
}

void sandbox_probe_print(const struct sandbox_probe_result *r, void *file)
{
    FILE *f = file;
    char d[160];

    for (int i = 0; i < SANDBOX_NLAYERS; i++) {
        unsigned bit = 1u << i;
        int yes = (r->supported & bit) != 0;
        detail(r, bit, d, sizeof d);
        fprintf(f, "%-10s %-4s %s\n", sandbox_layer_name(bit), yes ? "yes" : "no",
                yes ? d : r->why[i]);
    }
    fprintf(f, "strict mode: %s\n",
            sandbox_probe_strict_ok(r) ? "available" : "not available on this machine");
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void sandbox_probe_print_json(const struct sandbox_probe_result *r, void *file)
{
    FILE *f = file;
    char d[160];

    fprintf(f, "{\"root\": %s, \"landlock_abi\": %d, \"strict_ok\": %s, \"layers\": [",
            r->is_root ? "true" : "false", r->landlock_abi,
            sandbox_probe_strict_ok(r) ? "true" : "false");
    for (int i = 0; i < SANDBOX_NLAYERS; i++) {
        unsigned bit = 1u << i;
        int yes = (r->supported & bit) != 0;
        detail(r, bit, d, sizeof d);
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        json_str(f, sandbox_layer_name(bit));
        fprintf(f, ", \"supported\": %s, \"detail\": ", yes ? "true" : "false");
        json_str(f, yes ? d : r->why[i]);
        fputc('}', f);
    }
    fprintf(f, "]}");
}
