/* Children of the master, confined by sandbox/ (see sandbox.h). */
#include "worker.h"

#include "sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int worker_layers(unsigned *mask, char *err, size_t errlen)
{
    const char *s = getenv("TRAWL_SANDBOX_LAYERS");

    *mask = SANDBOX_ALL;
    if (s && *s && sandbox_layers_parse(s, mask) < 0) {
        snprintf(err, errlen,
                 "TRAWL_SANDBOX_LAYERS='%.100s': unknown layer (known: all, none, userns, mountns, "
                 "pidns, netns, ipcns, utsns, landlock, rlimits, fds, env, caps, dumpable, "
                 "pdeathsig, seccomp, setuid, zygote; '-name' removes one)",
                 s);
        return -1;
    }
    return 0;
}

int worker_spawn(const struct worker_opts *o, int (*fn)(int fd, void *arg), void *arg,
                 struct worker *w, char *err, size_t errlen)
{
    struct sandbox_opts so;
    struct sandbox_child c;

    (void)arg; /* children get their task over the socket, not through memory */
    sandbox_opts_init(&so);
    so.workspace = o->workspace;
    so.strict = o->strict;
    if (worker_layers(&so.layers, err, errlen) < 0)
        return -1;
    if (o->cpu_seconds > 0)
        so.cpu_secs = (uint64_t)o->cpu_seconds;
    if (o->memory_mb > 0)
        so.as_bytes = (uint64_t)o->memory_mb << 20;
    if (sandbox_spawn(&so, fn, NULL, 0, &c, err, errlen) < 0)
        return -1;
    w->pid = c.pid;
    w->fd = c.fd;
    w->pidfd = c.pidfd;
    snprintf(w->layers, sizeof w->layers, "%s", c.layers_str);
    snprintf(w->missing, sizeof w->missing, "%s", c.missing);
    return 0;
}

void worker_kill(struct worker *w)
{
    if (w->pid <= 0)
        return;
    struct sandbox_child c = {0};
    c.pid = w->pid;
    c.pidfd = w->pidfd;
    c.fd = -1;
    if (sandbox_kill(&c) < 0 && errno != ESRCH)
        kill(w->pid, SIGKILL);
}

void worker_release(struct worker *w)
{
    if (w->pidfd >= 0) {
        struct sandbox_child c = {0};
        c.fd = -1;
        c.pidfd = w->pidfd;
        sandbox_child_release(&c);
    }
    w->pidfd = -1;
}
