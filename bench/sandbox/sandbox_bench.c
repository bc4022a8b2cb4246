/*
 * bench/sandbox: spawn-to-ready latency (child started, confined, answered one
 * message), a syscall-heavy loop inside the child, and private memory per idle
 * child with N alive, for plain fork, the trawl sandbox (all layers) and
 * bwrap --unshare-all --die-with-parent running this same binary in child mode.
 */
#include "sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the child: answer "ready" (after `loops` getppid syscalls, reporting ns/call), then wait
 * for the parent to close the socket */
static int child(int fd, void *arg)
{
    long loops = arg ? *(long *)arg : 0;
    char b[64];
    double t0 = now();
    for (long i = 0; i < loops; i++)
        syscall(SYS_getppid);
    int n = snprintf(b, sizeof b, "ready %.1f\n", loops ? (now() - t0) * 1e9 / loops : 0.0);
    if (write(fd, b, (size_t)n) != n)
        return 1;
    while (read(fd, b, sizeof b) > 0)
        ;
    return 0;
}

enum mode { FORK, SANDBOX, BWRAP };
struct kid {
    pid_t pid;
    int fd;
    struct sandbox_child c;
};
static const char *self;

static int start(enum mode m, long loops, struct kid *k)
{
    char err[300];
    int sv[2];
    if (m == SANDBOX) {
        struct sandbox_opts o;
        char ws[] = "/tmp/trawl-bench-XXXXXX";
        sandbox_opts_init(&o);
        if (!mkdtemp(ws))
            return -1;
        o.workspace = ws;
        if (sandbox_spawn(&o, child, &loops, sizeof loops, &k->c, err, sizeof err) < 0) {
            fprintf(stderr, "spawn: %s\n", err);
            return -1;
        }
        k->pid = k->c.pid;
        k->fd = k->c.fd;
        return 0;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    k->pid = fork();
    if (k->pid == 0) {
        char lb[32];
        dup2(sv[1], 3);
        syscall(SYS_close_range, 4, ~0u, 0); /* the other children's ends */
        if (m == FORK)
            _exit(child(3, &loops));
        snprintf(lb, sizeof lb, "%ld", loops);
        execlp("bwrap", "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
               "--ro-bind", "/lib", "/lib", "--ro-bind", "/lib64", "/lib64", "--ro-bind", self,
               "/bench", "--proc", "/proc", "--dev", "/dev", "--new-session", "/bench", "--child",
               lb, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    k->fd = sv[0];
    return 0;
}

static int ready(struct kid *k, double *ns)
{
    char b[64];
    struct pollfd p = {k->fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1)
        return -1;
    ssize_t n = read(k->fd, b, sizeof b - 1);
    if (n <= 0)
        return -1;
    b[n] = 0;
    if (ns)
        *ns = atof(b + 6);
    return 0;
}

static void stop(enum mode m, struct kid *k)
{
    close(k->fd);
    if (m == SANDBOX) {
        int st;
        sandbox_wait(&k->c, &st, 0);
        if (k->c.pidfd >= 0)
            close(k->c.pidfd);
    } else
        waitpid(k->pid, NULL, 0);
}

static long private_kb(pid_t pid)
{
    char p[64], line[256];
    long kb = 0, v;
    snprintf(p, sizeof p, "/proc/%d/smaps_rollup", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if ((sscanf(line, "Private_Clean: %ld", &v) == 1) ||
            (sscanf(line, "Private_Dirty: %ld", &v) == 1))
            kb += v;
    fclose(f);
    return kb;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char err[300];
    static const char *names[] = {"fork", "sandbox", "bwrap"};
    int reps = argc > 1 ? atoi(argv[1]) : 100, alive = argc > 2 ? atoi(argv[2]) : 100;
    double med[3], sys[3];
    long mem[3];

    if (argc == 3 && !strcmp(argv[1], "--child")) {
        long l = atol(argv[2]);
        return child(3, &l);
    }
    sandbox_zygote_start(err, sizeof err);
    self = realpath("/proc/self/exe", NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int m = 0; m < 3; m++) {
        double *t = calloc((size_t)reps, sizeof *t);
        struct kid k;
        for (int i = 0; i < reps; i++) {
            double t0 = now();
            if (start((enum mode)m, 0, &k) < 0 || ready(&k, NULL) < 0) {
                fprintf(stderr, "%s: child failed\n", names[m]);
                return 1;
            }
            t[i] = now() - t0;
            stop((enum mode)m, &k);
        }
        qsort(t, (size_t)reps, sizeof *t, cmp);
        med[m] = t[reps / 2] * 1e6;
        free(t);
        /* syscall loop */
        if (start((enum mode)m, 1000000, &k) < 0 || ready(&k, &sys[m]) < 0)
            return 1;
        stop((enum mode)m, &k);
        /* private memory per idle child with `alive` children */
        struct kid *ks = calloc((size_t)alive, sizeof *ks);
        long tot = 0;
        for (int i = 0; i < alive; i++)
            if (start((enum mode)m, 0, &ks[i]) < 0 || ready(&ks[i], NULL) < 0)
                return 1;
        for (int i = 0; i < alive; i++) {
            /* bwrap: the child is bwrap's grandchild; count bwrap itself (the caller's view) */
            tot += private_kb(ks[i].pid);
        }
        mem[m] = tot / alive;
        for (int i = 0; i < alive; i++)
            stop((enum mode)m, &ks[i]);
        free(ks);
        printf(
            "%-8s spawn-to-ready median %8.0f us   getppid %6.1f ns/call   private %5ld KiB/idle "
            "child (%d alive)\n",
            names[m], med[m], sys[m], mem[m], alive);
        fflush(stdout);
    }
    printf("ratios vs fork: sandbox spawn %.1fx, bwrap spawn %.1fx; bwrap/sandbox spawn %.2fx "
           "(target >= 2); syscall sandbox %.2fx, bwrap %.2fx\n",
           med[1] / med[0], med[2] / med[0], med[2] / med[1], sys[1] / sys[0], sys[2] / sys[0]);
    return 0;
}
