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
    int fd;            /* the master's end, non-blocking, close-on-exec */
    int pidfd;         /* -1 when the kernel has none */
    char layers[192];  /* which confinement layers are active, for the run record */
    char missing[256]; /* best effort: the layers that are not, and why */
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

/** Closes the child's pidfd once it has been reaped. */
void worker_release(struct worker *w);

/**
 * The layers to ask for: all, or what TRAWL_SANDBOX_LAYERS says ("all,-seccomp",
 * "none", "userns,mountns"; for tests and diagnosis). -1 with err when it
 * names an unknown layer.
 */
int worker_layers(unsigned *mask, char *err, size_t errlen);

#endif
