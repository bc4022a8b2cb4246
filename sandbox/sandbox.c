/*
 * Starting confined children: the zygote, the clone with namespaces, and the
 * child's walk through the layers (sandbox_layers.c) before it runs fn.
 *
 * Parent and child synchronise over two pipes: the parent writes the uid/gid
 * maps of the child's user namespace and then says "go"; the child applies
 * its layers and reports which ones are active (or why it failed) just before
 * it calls fn. So sandbox_spawn returns a child that is already confined.
 */
#include "sandbox.h"
#include "sandbox_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARG_LEN (64u << 20)

struct spawn_req {
    uint64_t fn;
    uint64_t arg_len;
    struct sandbox_opts o; /* o.workspace is not used across processes: the fd is */
};

struct spawn_reply {
    int rc;
    int pid;
    unsigned active;
    unsigned uid;
    char err[300];
    char missing[256];
};

struct child_status {
    int ok;
    unsigned active;
    char msg[300];
    char missing[256];
};

static int zygote_fd = -1;
static pid_t zygote_pid = -1;
static unsigned next_slot;
static int env_seccomp_log = -1;

static const char *const layer_names[SANDBOX_NLAYERS] = {
    "userns", "mountns", "pidns", "netns",    "ipcns",     "utsns",   "landlock", "rlimits",
    "fds",    "env",     "caps",  "dumpable", "pdeathsig", "seccomp", "setuid",   "zygote",
};

void sandbox_opts_init(struct sandbox_opts *o)
{
    memset(o, 0, sizeof *o);
    o->layers = SANDBOX_ALL;
#if defined(__SANITIZE_ADDRESS__)
    o->as_bytes = 0; /* ASan reserves terabytes of shadow memory */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    o->as_bytes = 0;
#else
    o->as_bytes = 1ull << 30;
#endif
#else
    o->as_bytes = 1ull << 30;
#endif
    o->cpu_secs = 300;
    o->fsize_bytes = 1ull << 30;
    o->nofile = 256;
    o->nproc = 0;
    o->uid_base = 200000;
    o->uid_count = 100000;
}

const char *sandbox_layer_name(unsigned layer)
{
    for (int i = 0; i < SANDBOX_NLAYERS; i++)
        if (layer == 1u << i)
            return layer_names[i];
    return NULL;
}

const char *sandbox_layers_str(unsigned mask, char *buf, size_t len)
{
    size_t n = 0;

    if (!len)
        return buf;
    buf[0] = 0;
    for (int i = 0; i < SANDBOX_NLAYERS; i++) {
        if (!(mask & (1u << i)))
            continue;
        int w = snprintf(buf + n, len - n, "%s%s", n ? "," : "", layer_names[i]);
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    if (!n)
        snprintf(buf, len, "none");
    return buf;
}

int sandbox_layers_parse(const char *s, unsigned *mask)
{
    unsigned m = 0;
    char word[32];

    while (s && *s) {
        size_t n = strcspn(s, ",");
        int neg = 0, found = 0;
        const char *w = s;
        if (*w == '-' || *w == '!') {
            neg = 1;
            w++;
            n--;
        }
        if (n == 0 || n >= sizeof word)
            return -1;
        memcpy(word, w, n);
        word[n] = 0;
        unsigned bits = 0;
        if (strcmp(word, "all") == 0) {
            bits = SANDBOX_ALL;
            found = 1;
        } else if (strcmp(word, "none") == 0) {
            found = 1;
        }
        for (int i = 0; i < SANDBOX_NLAYERS && !found; i++)
            if (strcmp(word, layer_names[i]) == 0) {
                bits = 1u << i;
                found = 1;
            }
        if (!found)
            return -1;
        if (neg)
            m &= ~bits;
        else
            m |= bits;
        s = w + n;
        if (*s == ',')
            s++;
    }
    *mask = m;
    return 0;
}

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;

    if (n + 3 >= len)
        return;
    if (n)
        n += (size_t)snprintf(buf + n, len - n, "; ");
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;
    if (fd < 0)
        return -1;
    if (write_all(fd, s, strlen(s)) < 0)
        r = -1;
    close(fd);
    return r;
}

/* The workspace and what the master already put in it belong to the child's
 * uid. Never follows a symlink. */
static int chown_tree(int dfd, uid_t uid, int depth)
{
    DIR *d;
    struct dirent *e;
    int fd, r = 0;

    if (depth > 64)
        return 0;
    fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fchown(fd, uid, uid) < 0)
        r = -1;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (fchownat(dirfd(d), e->d_name, uid, uid, AT_SYMLINK_NOFOLLOW) < 0)
            r = -1;
        if (e->d_type == DT_DIR) {
            int sub = openat(dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) {
                if (chown_tree(sub, uid, depth + 1) < 0)
                    r = -1;
                close(sub);
            }
        }
    }
    closedir(d);
    return r;
}

static const struct {
    unsigned layer;
    unsigned long flag;
} ns_flags[] = {
    {SANDBOX_USERNS, CLONE_NEWUSER}, {SANDBOX_MOUNTNS, CLONE_NEWNS}, {SANDBOX_PIDNS, CLONE_NEWPID},
    {SANDBOX_NETNS, CLONE_NEWNET},   {SANDBOX_IPCNS, CLONE_NEWIPC},  {SANDBOX_UTSNS, CLONE_NEWUTS},
};
#define NS_LAYERS                                                                                  \
    (SANDBOX_USERNS | SANDBOX_MOUNTNS | SANDBOX_PIDNS | SANDBOX_NETNS | SANDBOX_IPCNS |            \
     SANDBOX_UTSNS)

struct child_ctx {
    const struct sandbox_opts *o;
    int (*fn)(int, void *);
    void *arg;
    int ipc, wsfd, syncfd, statusfd;
    unsigned ns; /* namespaces the clone made */
    uid_t uid;   /* outside uid for the setuid fallback */
    const void *bpf;
    size_t bpflen;
};

static struct child_status st;

static void child_fail(struct child_ctx *c, const char *layer, const char *msg)
    __attribute__((noreturn));

static void child_fail(struct child_ctx *c, const char *layer, const char *msg)
{
    st.ok = 0;
    snprintf(st.msg, sizeof st.msg, "strict sandbox: %s: %s", layer, msg);
    write_all(c->statusfd, &st, sizeof st);
    _exit(125);
}

/* A layer could not be applied: fatal in strict mode, noted otherwise. */
static void layer_failed(struct child_ctx *c, unsigned layer, const char *msg)
{
    if (c->o->strict)
        child_fail(c, sandbox_layer_name(layer), msg);
    append(st.missing, sizeof st.missing, "%s: %s", sandbox_layer_name(layer), msg);
}

static void child_main(struct child_ctx *c) __attribute__((noreturn));

static void child_main(struct child_ctx *c)
{
    const struct sandbox_opts *o = c->o;
    unsigned want = o->layers;
    char err[256];
    sigset_t none;
    int root = -1;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP)
            signal(s, SIG_DFL);
    st.active = c->ns & (SANDBOX_PIDNS | SANDBOX_NETNS | SANDBOX_IPCNS);

    if (want & SANDBOX_PDEATHSIG) {
        if (sandbox_layer_pdeathsig(err, sizeof err) < 0)
            layer_failed(c, SANDBOX_PDEATHSIG, err);
        else
            st.active |= SANDBOX_PDEATHSIG;
    }
    if (c->ns & SANDBOX_USERNS) {
        char go = 0;
        if (read_all(c->syncfd, &go, 1) < 0 || go != 'G')
            _exit(125);
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            snprintf(err, sizeof err, "become root in the namespace: %s", strerror(errno));
            child_fail(c, "userns", err);
        }
        setgroups(0, NULL); /* refused (and unneeded) when setgroups is denied */
        st.active |= SANDBOX_USERNS;
    }
    close(c->syncfd);

    if (c->ns & SANDBOX_MOUNTNS) {
        if (sandbox_layer_mount(c->wsfd, err, sizeof err) < 0) {
            layer_failed(c, SANDBOX_MOUNTNS, err);
        } else {
            st.active |= SANDBOX_MOUNTNS;
            root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
    }
    if (root < 0) {
        if (fchdir(c->wsfd) < 0) {
            snprintf(err, sizeof err, "chdir to the workspace: %s", strerror(errno));
            child_fail(c, "workspace", err);
        }
        root = c->wsfd;
    }
    if ((want & SANDBOX_SETUID) && !(st.active & SANDBOX_USERNS) && geteuid() == 0) {
        if (sandbox_layer_setuid(c->uid, err, sizeof err) < 0)
            layer_failed(c, SANDBOX_SETUID, err);
        else
            st.active |= SANDBOX_SETUID;
    }
    if (c->ns & SANDBOX_UTSNS) {
        sandbox_layer_uts(err, sizeof err); /* the name is cosmetic; the namespace is what counts */
        st.active |= SANDBOX_UTSNS;
    }
    if (want & SANDBOX_RLIMITS) {
        if (sandbox_layer_rlimits(o, err, sizeof err) < 0)
            layer_failed(c, SANDBOX_RLIMITS, err);
        else
            st.active |= SANDBOX_RLIMITS;
    }
    if (want & SANDBOX_LANDLOCK) {
        if (sandbox_layer_landlock(root, NULL, err, sizeof err) < 0)
            layer_failed(c, SANDBOX_LANDLOCK, err);
        else
            st.active |= SANDBOX_LANDLOCK;
    }
    if (want & SANDBOX_FDS) {
        if (sbx_close_fds(c->ipc, c->statusfd, err, sizeof err) < 0)
            layer_failed(c, SANDBOX_FDS, err);
        else {
            c->ipc = 3;
            c->statusfd = 4;
            st.active |= SANDBOX_FDS;
        }
    }
    if (want & SANDBOX_ENV) {
        if (sandbox_layer_env(err, sizeof err) < 0)
            layer_failed(c, SANDBOX_ENV, err);
        else
            st.active |= SANDBOX_ENV;
    }
    if (want & SANDBOX_CAPS) {
        if (sandbox_layer_caps(err, sizeof err) < 0)
            layer_failed(c, SANDBOX_CAPS, err);
        else
            st.active |= SANDBOX_CAPS;
    }
    if (want & SANDBOX_DUMPABLE) {
        if (sandbox_layer_dumpable(err, sizeof err) < 0)
            layer_failed(c, SANDBOX_DUMPABLE, err);
        else
            st.active |= SANDBOX_DUMPABLE;
    }
    if (want & SANDBOX_SECCOMP) {
        if (!c->bpf)
            layer_failed(c, SANDBOX_SECCOMP, "no filter (it could not be compiled)");
        else if (sandbox_layer_seccomp(c->bpf, c->bpflen, err, sizeof err) < 0)
            layer_failed(c, SANDBOX_SECCOMP, err);
        else
            st.active |= SANDBOX_SECCOMP;
    }
    st.ok = 1;
    if (write_all(c->statusfd, &st, sizeof st) < 0)
        _exit(125);
    close(c->statusfd);
    _exit(c->fn(c->ipc, c->arg));
}

/* Filters are compiled once per variant, before any fork, in the process that
 * clones (the zygote, or the caller). */
static void *bpf_cache[2][2];
static size_t bpf_len[2][2];

static int get_filter(int log, int pidns, const void **bpf, size_t *len, char *err, size_t errlen)
{
    if (!bpf_cache[log][pidns] && sandbox_seccomp_build(log, pidns, &bpf_cache[log][pidns],
                                                        &bpf_len[log][pidns], err, errlen) < 0)
        return -1;
    *bpf = bpf_cache[log][pidns];
    *len = bpf_len[log][pidns];
    return 0;
}

static int write_maps(pid_t pid, uid_t inside_to, char *err, size_t errlen)
{
    char path[64], map[64];
    int root = geteuid() == 0;
    uid_t ou = root ? inside_to : geteuid();
    gid_t og = root ? inside_to : getegid();

    /* setgroups deny: the child can never drop (or gain) supplementary groups.
     * As root we cleared ours in the zygote; if we still have some, leave
     * setgroups allowed so the child can clear them itself. */
    if (!root || getgroups(0, NULL) == 0) {
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
        if (write_file(path, "deny") < 0 && errno != ENOENT) {
            snprintf(err, errlen, "write %s: %s", path, strerror(errno));
            return -1;
        }
    }
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)ou);
    if (write_file(path, map) < 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
    snprintf(map, sizeof map, "0 %u 1\n", (unsigned)og);
    if (write_file(path, map) < 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * Clones and confines one child. Runs in the zygote (in_zygote: CLONE_PARENT,
 * so the child belongs to the zygote's parent) or in the caller. Fills rep;
 * on failure rep->pid may name a child that is exiting and must be reaped.
 */
static void spawn_core(const struct sandbox_opts *o, int in_zygote, int (*fn)(int, void *),
                       void *arg, int ipc, int wsfd, struct spawn_reply *rep)
{
    unsigned want = o->layers, ns = 0;
    int root = geteuid() == 0, log;
    const void *bpf = NULL;
    size_t bpflen = 0;
    uid_t uid = 0;
    char err[256];

    memset(rep, 0, sizeof *rep);
    rep->rc = -1;
    if (!in_zygote && (want & SANDBOX_ZYGOTE)) {
        if (o->strict) {
            snprintf(rep->err, sizeof rep->err,
                     "strict sandbox: zygote: not running (sandbox_zygote_start was not called "
                     "or failed), so the child would copy the caller's memory");
            return;
        }
        append(rep->missing, sizeof rep->missing, "zygote: not running");
    }
    if (root && (want & (SANDBOX_USERNS | SANDBOX_SETUID))) {
        unsigned count = o->uid_count ? o->uid_count : 100000;
        uid = (uid_t)(o->uid_base + next_slot++ % count);
        if (chown_tree(wsfd, uid, 0) < 0) {
            snprintf(rep->err, sizeof rep->err, "cannot give the workspace to uid %u: %s",
                     (unsigned)uid, strerror(errno));
            return;
        }
    }
    rep->uid = root ? uid : geteuid();
    log = o->seccomp_log || env_seccomp_log == 1;
    if ((want & SANDBOX_SECCOMP) &&
        get_filter(log, !!(want & SANDBOX_PIDNS), &bpf, &bpflen, err, sizeof err) < 0) {
        if (o->strict) {
            snprintf(rep->err, sizeof rep->err, "strict sandbox: seccomp: %s", err);
            return;
        }
    }
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++)
        if (want & ns_flags[i].layer)
            ns |= ns_flags[i].layer;

    for (;;) {
        int syncp[2], statp[2];
        unsigned long flags = SIGCHLD | (in_zygote ? CLONE_PARENT : 0);
        struct child_ctx c;
        pid_t pid;

        for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++)
            if (ns & ns_flags[i].layer)
                flags |= ns_flags[i].flag;
        if (pipe2(syncp, O_CLOEXEC) < 0 || pipe2(statp, O_CLOEXEC) < 0) {
            snprintf(rep->err, sizeof rep->err, "pipe: %s", strerror(errno));
            return;
        }
        /* seccomp's pid rule assumes pid 1: only when the pid ns really exists */
        if ((want & SANDBOX_SECCOMP) && !(ns & SANDBOX_PIDNS) && (want & SANDBOX_PIDNS))
            get_filter(log, 0, &bpf, &bpflen, err, sizeof err);
        pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
        if (pid == 0) {
            close(syncp[1]);
            close(statp[0]);
            memset(&c, 0, sizeof c);
            c.o = o;
            c.fn = fn;
            c.arg = arg;
            c.ipc = ipc;
            c.wsfd = wsfd;
            c.syncfd = syncp[0];
            c.statusfd = statp[1];
            c.ns = ns;
            c.uid = uid;
            c.bpf = bpf;
            c.bpflen = bpflen;
            memcpy(st.missing, rep->missing, sizeof st.missing);
            child_main(&c);
        }
        close(syncp[0]);
        close(statp[1]);
        if (pid < 0) {
            int e = errno;
            unsigned drop = 0;
            close(syncp[1]);
            close(statp[0]);
            if (!(ns & NS_LAYERS) || o->strict) {
                snprintf(rep->err, sizeof rep->err, "%sclone: %s",
                         o->strict ? "strict sandbox: namespaces: " : "", strerror(e));
                return;
            }
            /* The kernel refused: give up the namespaces one by one, the user
             * namespace first (as root the setuid fallback replaces it). */
            static const unsigned order[] = {SANDBOX_USERNS, SANDBOX_NETNS, SANDBOX_IPCNS,
                                             SANDBOX_UTSNS,  SANDBOX_PIDNS, SANDBOX_MOUNTNS};
            for (size_t i = 0; i < sizeof order / sizeof order[0] && !drop; i++)
                if (ns & order[i])
                    drop = order[i];
            ns &= ~drop;
            append(rep->missing, sizeof rep->missing, "%s: clone refused it: %s",
                   sandbox_layer_name(drop), strerror(e));
            continue;
        }
        if (ns & SANDBOX_USERNS) {
            char go = 'G';
            if (write_maps(pid, uid, err, sizeof err) < 0) {
                go = 'X';
                write_all(syncp[1], &go, 1);
                close(syncp[1]);
                close(statp[0]);
                if (!in_zygote)
                    waitpid(pid, NULL, 0);
                else
                    rep->pid = pid; /* the caller reaps it */
                if (o->strict) {
                    snprintf(rep->err, sizeof rep->err, "strict sandbox: userns: %s", err);
                    return;
                }
                if (in_zygote) { /* the caller must reap this one first: report and stop */
                    snprintf(rep->err, sizeof rep->err, "userns: %s", err);
                    return;
                }
                ns &= ~SANDBOX_USERNS;
                append(rep->missing, sizeof rep->missing, "userns: %s", err);
                continue;
            }
            write_all(syncp[1], &go, 1);
        }
        close(syncp[1]);
        {
            struct child_status cs;
            int r = read_all(statp[0], &cs, sizeof cs);
            close(statp[0]);
            rep->pid = pid;
            if (r < 0) {
                snprintf(rep->err, sizeof rep->err, "the child died while entering the sandbox");
                return;
            }
            if (!cs.ok) {
                cs.msg[sizeof cs.msg - 1] = 0;
                snprintf(rep->err, sizeof rep->err, "%s", cs.msg);
                return;
            }
            cs.missing[sizeof cs.missing - 1] = 0;
            rep->active = cs.active | (in_zygote ? SANDBOX_ZYGOTE : 0);
            snprintf(rep->missing, sizeof rep->missing, "%s", cs.missing);
            rep->rc = 0;
            return;
        }
    }
}

/* ---- the zygote ---- */

static int send_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
    struct msghdr m = {0};
    struct iovec iov = {(void *)(uintptr_t)data, len};
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr *cm;

    memset(cbuf, 0, sizeof cbuf);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
    for (;;) {
        ssize_t w = sendmsg(sock, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if ((size_t)w < len)
            return write_all(sock, (const char *)data + w, len - (size_t)w);
        return 0;
    }
}

/* Receives exactly len bytes and up to nfds fds (the rest -1). */
static int recv_fds(int sock, void *data, size_t len, int *fds, int nfds)
{
    struct msghdr m = {0};
    struct iovec iov = {data, len};
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    ssize_t r;

    for (int i = 0; i < nfds; i++)
        fds[i] = -1;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cbuf;
    m.msg_controllen = sizeof cbuf;
    do
        r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        int n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < n; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + sizeof(int) * (size_t)i, sizeof fd);
            if (i < nfds)
                fds[i] = fd;
            else
                close(fd);
        }
    }
    if ((size_t)r < len)
        return read_all(sock, (char *)data + r, len - (size_t)r);
    return 0;
}

/* Overwrites this process's copy of argv and the environment: the caller's
 * environment may hold credentials (password_env). */
static void scrub_args_env(void)
{
    char buf[4096], *p;
    unsigned long v[4];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd >= 0) {
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            buf[n] = 0;
            p = strrchr(buf, ')'); /* the name may hold spaces */
            /* fields 48..51 (1-based): arg_start arg_end env_start env_end */
            for (int field = 2; p && field < 48; field++)
                p = strchr(p + 1, ' ');
            if (p && sscanf(p + 1, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) == 4 &&
                v[0] < v[1] && v[2] < v[3] && v[1] - v[0] < (64u << 20) &&
                v[3] - v[2] < (64u << 20)) {
                memset((void *)(uintptr_t)v[0], 0, v[1] - v[0]);
                memset((void *)(uintptr_t)v[2], 0, v[3] - v[2]);
            }
        }
    }
    clearenv();
}

static void zygote_main(int ctl) __attribute__((noreturn));

static void zygote_main(int ctl)
{
    for (;;) {
        struct spawn_req rq;
        struct spawn_reply rep;
        int fds[2];
        void *arg = NULL;

        if (recv_fds(ctl, &rq, sizeof rq, fds, 2) < 0)
            _exit(0); /* the caller is gone */
        memset(&rep, 0, sizeof rep);
        rep.rc = -1;
        if (fds[0] < 0 || fds[1] < 0 || rq.arg_len > MAX_ARG_LEN) {
            snprintf(rep.err, sizeof rep.err, "zygote: malformed request");
        } else if (rq.arg_len && !(arg = malloc(rq.arg_len))) {
            snprintf(rep.err, sizeof rep.err, "zygote: out of memory");
        }
        if (rq.arg_len && rq.arg_len <= MAX_ARG_LEN &&
            (arg ? read_all(ctl, arg, rq.arg_len) : -1) < 0) {
            if (!arg) { /* drain */
                char sink[4096];
                for (uint64_t left = rq.arg_len; left;) {
                    size_t k = left < sizeof sink ? left : sizeof sink;
                    if (read_all(ctl, sink, k) < 0)
                        _exit(0);
                    left -= k;
                }
            } else {
                _exit(0);
            }
        }
        if (!rep.err[0]) {
            rq.o.workspace = NULL;
            spawn_core(&rq.o, 1, (int (*)(int, void *))(uintptr_t)rq.fn, arg, fds[0], fds[1], &rep);
        }
        free(arg);
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
        if (write_all(ctl, &rep, sizeof rep) < 0)
            _exit(0);
    }
}

int sandbox_zygote_start(char *err, size_t errlen)
{
    int sv[2];
    pid_t parent = getpid(), pid;
    const char *e;

    if (zygote_fd >= 0)
        return 0;
    e = getenv("TRAWL_SECCOMP_LOG");
    env_seccomp_log = e && strcmp(e, "1") == 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "zygote: socketpair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "zygote: fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (getppid() != parent)
            _exit(0);
        prctl(PR_SET_NAME, "trawl-zygote", 0, 0, 0);
        signal(SIGINT, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        /* keep stdio (children close it) and the control socket, nothing else */
        if (sv[1] != 3 && dup3(sv[1], 3, O_CLOEXEC) < 0)
            _exit(1);
        syscall(SYS_close_range, 4, ~0U, 0);
        scrub_args_env();
        if (geteuid() == 0)
            setgroups(0, NULL); /* children inherit no supplementary groups */
        zygote_main(3);
    }
    close(sv[1]);
    zygote_fd = sv[0];
    zygote_pid = pid;
    return 0;
}

void sandbox_zygote_stop(void)
{
    if (zygote_fd < 0)
        return;
    close(zygote_fd);
    zygote_fd = -1;
    kill(zygote_pid, SIGKILL);
    waitpid(zygote_pid, NULL, 0);
    zygote_pid = -1;
}

int sandbox_zygote_running(void)
{
    return zygote_fd >= 0;
}

static int ask_zygote(const struct sandbox_opts *o, int (*fn)(int, void *), const void *arg,
                      size_t arg_len, int ipc, int wsfd, struct spawn_reply *rep)
{
    struct spawn_req rq;
    int fds[2] = {ipc, wsfd};

    memset(&rq, 0, sizeof rq);
    rq.fn = (uint64_t)(uintptr_t)fn;
    rq.arg_len = arg_len;
    rq.o = *o;
    rq.o.workspace = NULL;
    if (send_fds(zygote_fd, &rq, sizeof rq, fds, 2) < 0 ||
        (arg_len && write_all(zygote_fd, arg, arg_len) < 0) ||
        read_all(zygote_fd, rep, sizeof *rep) < 0)
        return -1;
    rep->err[sizeof rep->err - 1] = 0;
    rep->missing[sizeof rep->missing - 1] = 0;
    return 0;
}

int sandbox_spawn(const struct sandbox_opts *o, int (*fn)(int ipc_fd, void *arg), const void *arg,
                  size_t arg_len, struct sandbox_child *c, char *err, size_t errlen)
{
    struct spawn_reply rep;
    int sv[2], wsfd;

    memset(c, 0, sizeof *c);
    c->pid = -1;
    c->fd = c->pidfd = -1;
    if (!o || !o->workspace || !fn || (arg_len && !arg) || arg_len > MAX_ARG_LEN) {
        snprintf(err, errlen, "sandbox_spawn: bad arguments");
        return -1;
    }
    wsfd = open(o->workspace, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (wsfd < 0) {
        snprintf(err, errlen, "workspace '%s': %s", o->workspace, strerror(errno));
        return -1;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        close(wsfd);
        return -1;
    }
    if (env_seccomp_log < 0) {
        const char *e = getenv("TRAWL_SECCOMP_LOG");
        env_seccomp_log = e && strcmp(e, "1") == 0;
    }
    if (zygote_fd >= 0 && (o->layers & SANDBOX_ZYGOTE)) {
        if (ask_zygote(o, fn, arg, arg_len, sv[1], wsfd, &rep) < 0) {
            sandbox_zygote_stop(); /* it died: children now come from the caller */
            snprintf(err, errlen, "the sandbox zygote died");
            close(wsfd);
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
    } else {
        void *copy = NULL;
        if (arg_len && !(copy = malloc(arg_len))) {
            snprintf(err, errlen, "out of memory");
            close(wsfd);
            close(sv[0]);
            close(sv[1]);
            return -1;
        }
        if (arg_len)
            memcpy(copy, arg, arg_len);
        spawn_core(o, 0, fn, copy, sv[1], wsfd, &rep);
        free(copy);
    }
    close(sv[1]);
    close(wsfd);
    if (rep.rc < 0) {
        if (rep.pid > 0) {
            kill(rep.pid, SIGKILL);
            waitpid(rep.pid, NULL, 0);
        }
        snprintf(err, errlen, "%s", rep.err);
        close(sv[0]);
        return -1;
    }
    c->pid = rep.pid;
    c->fd = sv[0];
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->pidfd = (int)syscall(SYS_pidfd_open, rep.pid, 0);
    if (c->pidfd >= 0)
        fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
    c->layers = rep.active;
    c->uid = rep.uid;
    sandbox_layers_str(c->layers, c->layers_str, sizeof c->layers_str);
    snprintf(c->missing, sizeof c->missing, "%s", rep.missing);
    return 0;
}

int sandbox_kill(struct sandbox_child *c)
{
    if (c->pid <= 0)
        return -1;
    if (c->pidfd >= 0 && syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0) == 0)
        return 0;
    return kill(c->pid, SIGKILL);
}

pid_t sandbox_wait(struct sandbox_child *c, int *status, int flags)
{
    pid_t r;
    if (c->pid <= 0) {
        errno = ECHILD;
        return -1;
    }
    do
        r = waitpid(c->pid, status, flags);
    while (r < 0 && errno == EINTR);
    return r;
}

void sandbox_child_release(struct sandbox_child *c)
{
    if (c->fd >= 0)
        close(c->fd);
    if (c->pidfd >= 0)
        close(c->pidfd);
    c->fd = c->pidfd = -1;
}

int sandbox_status_is_violation(int status)
{
    return WIFSIGNALED(status) && (WTERMSIG(status) == SIGSYS || WTERMSIG(status) == SIGXCPU ||
                                   WTERMSIG(status) == SIGXFSZ);
}

const char *sandbox_status_str(int status, char *buf, size_t len)
{
    if (WIFEXITED(status)) {
        snprintf(buf, len, "exited %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        int s = WTERMSIG(status);
        const char *name = sigabbrev_np(s);
        if (s == SIGSYS)
            snprintf(buf, len, "killed by the sandbox: forbidden system call (SIGSYS)");
        else if (s == SIGXCPU)
            snprintf(buf, len, "killed: CPU time limit (SIGXCPU)");
        else if (s == SIGXFSZ)
            snprintf(buf, len, "killed: file size limit (SIGXFSZ)");
        else if (s == SIGKILL)
            snprintf(buf, len, "killed (SIGKILL)");
        else
            snprintf(buf, len, "crashed (SIG%s)", name ? name : "?");
    } else {
        snprintf(buf, len, "status %#x", (unsigned)status);
    }
    return buf;
}
