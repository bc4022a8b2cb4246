/*
 * The sandbox library's own checks of each layer and of the API (the escape
 * suite attacks it much harder): each probe runs in a child and writes one
 * result line to the IPC socket.
 */
#include "sandbox.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum probe { PR_PASSWD, PR_SOCKET, PR_PID, PR_FDS, PR_ENV, PR_ALLOC, PR_WRITE_WS, PR_ARG };

static int probe_child(int fd, void *arg)
{
    enum probe p = *(enum probe *)arg;
    char out[128] = "";
    int r;

    switch (p) {
    case PR_PASSWD:
        r = open("/etc/passwd", O_RDONLY);
        snprintf(out, sizeof out, "%s", r >= 0 ? "opened" : strerror(errno));
        break;
    case PR_SOCKET:
        r = socket(AF_INET, SOCK_STREAM, 0); /* seccomp kills us here */
        snprintf(out, sizeof out, "socket %d", r);
        break;
    case PR_PID:
        snprintf(out, sizeof out, "%d", (int)getpid());
        break;
    case PR_FDS:
        r = 0;
        for (int i = 0; i < 64; i++)
            if (i != fd && fcntl(i, F_GETFD) >= 0)
                r++;
        snprintf(out, sizeof out, "%d", r);
        break;
    case PR_ENV:
        snprintf(out, sizeof out, "%d", environ && environ[0] ? 1 : 0);
        break;
    case PR_ALLOC: {
        void *m = malloc((size_t)2 << 30);
        snprintf(out, sizeof out, "%s", m ? "allocated" : "refused");
        break;
    }
    case PR_WRITE_WS:
        r = open("made-here", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        snprintf(out, sizeof out, "%s", r >= 0 && write(r, "x", 1) == 1 ? "written" : "failed");
        break;
    case PR_ARG:
        snprintf(out, sizeof out, "arg %d", (int)p);
        break;
    }
    return write(fd, out, strlen(out)) > 0 ? 0 : 1;
}

/* Runs one probe; returns its output line ("" if none) and the exit status. */
static const char *run(const char *ws, unsigned layers, enum probe p, int *status, char *out,
                       size_t outlen)
{
    struct sandbox_opts o;
    struct sandbox_child c;
    char err[400];
    struct pollfd pf;
    ssize_t n = 0;

    out[0] = 0;
    *status = -1;
    sandbox_opts_init(&o);
    o.workspace = ws;
    o.layers = layers;
    if (sandbox_spawn(&o, probe_child, &p, sizeof p, &c, err, sizeof err) < 0) {
        snprintf(out, outlen, "spawn failed: %.150s", err);
        return out;
    }
    pf.fd = c.fd;
    pf.events = POLLIN;
    if (poll(&pf, 1, 10000) == 1 && (n = read(c.fd, out, outlen - 1)) > 0)
        out[n] = 0;
    sandbox_wait(&c, status, 0);
    sandbox_child_release(&c);
    return out;
}

int main(void)
{
    char err[400], ws[] = "/tmp/trawl-layers-XXXXXX", out[200], buf[256], path[300];
    struct sandbox_probe_result pr;
    struct sandbox_opts o;
    struct sandbox_child c;
    unsigned mask = 0;
    int st;

    if (sandbox_zygote_start(err, sizeof err) < 0)
        printf("# no zygote: %s\n", err);
    if (!mkdtemp(ws))
        return 1;

    /* names and masks */
    is_str(sandbox_layers_str(SANDBOX_USERNS | SANDBOX_SECCOMP, buf, sizeof buf), "userns,seccomp",
           "layers_str");
    ok(sandbox_layers_parse("all,-seccomp", &mask) == 0 && mask == (SANDBOX_ALL & ~SANDBOX_SECCOMP),
       "layers_parse all,-seccomp");
    ok(sandbox_layers_parse("landlock,bogus", &mask) < 0, "layers_parse rejects unknown names");

    sandbox_probe(&pr);
    ok(pr.supported & SANDBOX_SECCOMP, "probe: seccomp supported");

    /* all layers: the host's files are not there at all */
    is_str(run(ws, SANDBOX_ALL, PR_PASSWD, &st, out, sizeof out), strerror(ENOENT),
           "all layers: /etc/passwd does not exist");
    /* Landlock alone: the file exists, access is denied */
    if (pr.supported & SANDBOX_LANDLOCK)
        is_str(run(ws, SANDBOX_LANDLOCK, PR_PASSWD, &st, out, sizeof out), strerror(EACCES),
               "landlock alone: /etc/passwd denied");
    /* nothing: the control, so the two above can fail */
    is_str(run(ws, 0, PR_PASSWD, &st, out, sizeof out), "opened", "no layer: /etc/passwd opens");

    run(ws, SANDBOX_SECCOMP, PR_SOCKET, &st, out, sizeof out);
    ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS && sandbox_status_is_violation(st),
       "seccomp: socket() kills with SIGSYS (%s)", sandbox_status_str(st, buf, sizeof buf));
    run(ws, 0, PR_SOCKET, &st, out, sizeof out);
    ok(WIFEXITED(st) && !sandbox_status_is_violation(st), "no layer: socket() works (%s)", out);

    if (pr.supported & SANDBOX_PIDNS)
        is_str(run(ws, SANDBOX_ALL, PR_PID, &st, out, sizeof out), "1",
               "pid ns: the child is pid 1");
    is_str(run(ws, SANDBOX_ALL, PR_FDS, &st, out, sizeof out), "0",
           "fds: nothing open but the ipc socket");
    is_str(run(ws, SANDBOX_ALL, PR_ENV, &st, out, sizeof out), "0", "env: empty environment");
    is_str(run(ws, SANDBOX_ALL & ~SANDBOX_ENV & ~SANDBOX_ZYGOTE, PR_ENV, &st, out, sizeof out), "1",
           "control: env layer off, forked child: environment present");
    sandbox_opts_init(&o);
    if (o.as_bytes) /* 0 under ASan, which needs its terabytes of shadow */
        is_str(run(ws, SANDBOX_ALL, PR_ALLOC, &st, out, sizeof out), "refused",
               "rlimits: 2 GiB allocation refused");
    is_str(run(ws, SANDBOX_ALL, PR_WRITE_WS, &st, out, sizeof out), "written",
           "the child can write its workspace");
    snprintf(path, sizeof path, "%s/made-here", ws);
    {
        struct stat sb;
        ok(stat(path, &sb) == 0 && sb.st_size == 1, "the file is in the workspace on the host");
        if (geteuid() == 0)
            ok(sb.st_uid >= 200000, "as root the child's file belongs to its own uid (%u)",
               (unsigned)sb.st_uid);
        unlink(path);
    }

    /* strict: everything this machine supports, and a clear refusal otherwise */
    sandbox_opts_init(&o);
    o.workspace = ws;
    o.strict = 1;
    if (sandbox_probe_strict_ok(&pr)) {
        enum probe p = PR_PID;
        ok(sandbox_spawn(&o, probe_child, &p, sizeof p, &c, err, sizeof err) == 0 &&
               (c.layers | SANDBOX_SETUID) == SANDBOX_ALL,
           "strict: every layer active (%s)", c.layers_str);
        sandbox_wait(&c, &st, 0);
        sandbox_child_release(&c);
    }
    o.workspace = "/nonexistent/trawl";
    ok(sandbox_spawn(&o, probe_child, NULL, 0, &c, err, sizeof err) < 0 &&
           strstr(err, "/nonexistent/trawl"),
       "missing workspace: '%s'", err);

    rmdir(ws);
    return tap_done();
}
