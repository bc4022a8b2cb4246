#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int worker_spawn(const struct worker_opts *o, int (*fn)(int fd, void *arg), void *arg,
                 struct worker *w, char *err, size_t errlen)
{
    int sv[2];
    pid_t pid;

    if (o->strict) {
        snprintf(err, errlen, "strict sandbox mode is not available in this build");
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (dup2(sv[1], 3) < 0 || chdir(o->workspace) < 0)
            _exit(126);
        close_range(4, ~0U, 0);
        _exit(fn(3, arg));
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    w->pid = pid;
    w->fd = sv[0];
    snprintf(w->layers, sizeof w->layers, "none");
    return 0;
}

void worker_kill(struct worker *w)
{
    if (w->pid > 0)
        kill(w->pid, SIGKILL);
}
