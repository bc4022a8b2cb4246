#ifndef TRAWL_WORKER_H
#define TRAWL_WORKER_H

/*
 * Starting children for the master: the one place that knows how a child is
 * confined. Each child runs fn(fd, arg) with fd its end of a connected
 * SOCK_STREAM socketpair and its workspace as working directory.
 */

#include <stddef.h>
#include <sys/types.h>

struct worker {
    pid_t pid;
    int fd;           /* the master's end, non-blocking, close-on-exec */
    char layers[128]; /* which confinement layers are active, for the run record */
};

struct worker_opts {
    const char *workspace;
    int strict; /* refuse to start without every layer */
    long cpu_seconds, memory_mb;
};

/** Starts a child. Returns 0, or -1 with a message in err. */
int worker_spawn(const struct worker_opts *o, int (*fn)(int fd, void *arg), void *arg,
                 struct worker *w, char *err, size_t errlen);

/** Kills the child (SIGKILL) if it is still running. */
void worker_kill(struct worker *w);

#endif
