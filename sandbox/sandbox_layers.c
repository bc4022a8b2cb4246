/*
 * The confinement layers, one function each. They act on the calling process
 * and are called by the child in sandbox.c (or by a test in a child it forked).
 */
#include "sandbox.h"
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* Debian 12's kernel headers stop at Landlock ABI 2; newer kernels know more. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

/* The ABI 6 layout of struct landlock_ruleset_attr; the kernel takes its size. */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    int e = errno;
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    errno = e;
    return -1;
}

int sandbox_layer_mount(int workspace_fd, char *err, size_t errlen)
{
    char src[64], path[4096];

    /* Nothing we mount may propagate back to the host. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(err, errlen, "make / private: %s", strerror(errno));
    /* The workspace may sit below directories this uid cannot search (a 0700
     * run root): reach it through the fd, and mount it on /tmp, a path every
     * uid can walk to, which is ours to cover in this mount namespace. */
    /* The fd belongs to the parent's mount namespace, and a bind mount must
     * come from our own: look the same path up again here (the namespace is
     * a copy, so it names the same directory). */
    snprintf(src, sizeof src, "/proc/self/fd/%d", workspace_fd);
    ssize_t n = readlink(src, path, sizeof path - 1);
    if (n <= 0 || (size_t)n >= sizeof path - 1)
        return fail(err, errlen, "find the workspace's path: %s", strerror(errno));
    path[n] = '\0';
    struct stat a, b;
    if (stat(path, &a) < 0 || fstat(workspace_fd, &b) < 0 || a.st_dev != b.st_dev ||
        a.st_ino != b.st_ino)
        return fail(err, errlen, "the workspace '%s' moved while the sandbox was set up", path);
    if (mount(path, "/tmp", NULL, MS_BIND | MS_REC, NULL) < 0)
        return fail(err, errlen, "bind-mount the workspace: %s", strerror(errno));
    if (mount(NULL, "/tmp", NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
        0)
        return fail(err, errlen, "remount the workspace nosuid,nodev,noexec: %s", strerror(errno));
    if (chdir("/tmp") < 0)
        return fail(err, errlen, "chdir to the workspace: %s", strerror(errno));
    /* pivot_root(".", "."): the old root ends up on top of the new one; detach it. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return fail(err, errlen, "pivot_root: %s", strerror(errno));
    if (umount2(".", MNT_DETACH) < 0)
        return fail(err, errlen, "detach the old root: %s", strerror(errno));
    if (chdir("/") < 0)
        return fail(err, errlen, "chdir /: %s", strerror(errno));
    return 0;
}

int sandbox_layer_uts(char *err, size_t errlen)
{
    if (sethostname("sandbox", 7) < 0)
        return fail(err, errlen, "sethostname: %s", strerror(errno));
    return 0;
}

static int set_limit(int res, uint64_t v, const char *name, char *err, size_t errlen)
{
    struct rlimit rl;

    rl.rlim_cur = rl.rlim_max = v ? (rlim_t)v : RLIM_INFINITY;
    if (res == RLIMIT_NPROC || res == RLIMIT_CORE)
        rl.rlim_cur = rl.rlim_max = (rlim_t)v;
    if (setrlimit(res, &rl) < 0) {
        /* lowering is always allowed; raising above the hard limit is not: keep the lower */
        struct rlimit cur;
        if (errno == EPERM && getrlimit(res, &cur) == 0 &&
            (cur.rlim_max != RLIM_INFINITY && (v == 0 || cur.rlim_max < v)))
            return 0;
        return fail(err, errlen, "setrlimit %s: %s", name, strerror(errno));
    }
    return 0;
}

int sandbox_layer_rlimits(const struct sandbox_opts *o, char *err, size_t errlen)
{
    if (set_limit(RLIMIT_AS, o->as_bytes, "AS", err, errlen) < 0 ||
        set_limit(RLIMIT_CPU, o->cpu_secs, "CPU", err, errlen) < 0 ||
        set_limit(RLIMIT_FSIZE, o->fsize_bytes, "FSIZE", err, errlen) < 0 ||
        set_limit(RLIMIT_NOFILE, o->nofile, "NOFILE", err, errlen) < 0 ||
        set_limit(RLIMIT_NPROC, o->nproc, "NPROC", err, errlen) < 0 ||
        set_limit(RLIMIT_CORE, 0, "CORE", err, errlen) < 0 ||
        set_limit(RLIMIT_MEMLOCK, 0, "MEMLOCK", err, errlen) < 0 ||
        set_limit(RLIMIT_MSGQUEUE, 0, "MSGQUEUE", err, errlen) < 0)
        return -1;
    return 0;
}

int sandbox_landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

int sandbox_layer_landlock(int workspace_fd, int *abi_out, char *err, size_t errlen)
{
    struct ll_ruleset_attr ra = {0};
    struct landlock_path_beneath_attr pb = {0};
    size_t rasize;
    int abi = sandbox_landlock_abi(), rfd;
    uint64_t fs_all, fs_ws;

    if (abi_out)
        *abi_out = abi;
    if (abi < 1) {
        errno = EOPNOTSUPP;
        return fail(err, errlen, "landlock is not enabled in this kernel");
    }
    fs_all = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2)
        fs_all |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        fs_all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5)
        fs_all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    ra.handled_access_fs = fs_all;
    rasize = sizeof ra.handled_access_fs;
    if (abi >= 4) {
        /* no rule for any port: all TCP bind and connect denied */
        ra.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
        rasize = offsetof(struct ll_ruleset_attr, scoped);
    }
    if (abi >= 6) {
        ra.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
        rasize = sizeof ra;
    }
    rfd = (int)syscall(SYS_landlock_create_ruleset, &ra, rasize, 0);
    if (rfd < 0)
        return fail(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
    /* Beneath the workspace: read, write, make and remove files, directories and
     * symlinks. No execute, no device nodes, fifos or sockets, no device ioctls. */
    fs_ws = fs_all & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                       LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                       LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_IOCTL_DEV);
    pb.allowed_access = fs_ws;
    pb.parent_fd = workspace_fd;
    if (syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0) {
        fail(err, errlen, "landlock_add_rule (workspace): %s", strerror(errno));
        close(rfd);
        return -1;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        fail(err, errlen, "no_new_privs: %s", strerror(errno));
        close(rfd);
        return -1;
    }
    if (syscall(SYS_landlock_restrict_self, rfd, 0) < 0) {
        fail(err, errlen, "landlock_restrict_self: %s", strerror(errno));
        close(rfd);
        return -1;
    }
    close(rfd);
    return 0;
}

int sandbox_layer_fds(int keep_fd, char *err, size_t errlen)
{
    return sbx_close_fds(keep_fd, -1, err, errlen);
}

int sbx_close_fds(int keep_fd, int keep2, char *err, size_t errlen)
{
    /* keep_fd -> 3, keep2 -> 4 (if >= 0), everything else closed, 0-2 included */
    if (keep_fd != 3) {
        if (keep2 == 3) {
            int t = fcntl(keep2, F_DUPFD_CLOEXEC, 5);
            if (t < 0)
                return fail(err, errlen, "dup: %s", strerror(errno));
            keep2 = t;
        }
        if (dup3(keep_fd, 3, 0) < 0)
            return fail(err, errlen, "dup the ipc socket to 3: %s", strerror(errno));
    } else if (fcntl(3, F_SETFD, 0) < 0) {
        return fail(err, errlen, "fcntl: %s", strerror(errno));
    }
    if (keep2 >= 0 && keep2 != 4 && dup3(keep2, 4, O_CLOEXEC) < 0)
        return fail(err, errlen, "dup the status pipe to 4: %s", strerror(errno));
    if (syscall(SYS_close_range, keep2 >= 0 ? 5 : 4, ~0U, 0) < 0)
        return fail(err, errlen, "close_range: %s", strerror(errno));
    close(0);
    close(1);
    close(2);
    return 0;
}

int sandbox_layer_env(char *err, size_t errlen)
{
    extern char **environ;

    /* wipe the strings too, not only the pointers */
    for (char **e = environ; e && *e; e++)
        memset(*e, 0, strlen(*e));
    if (clearenv() != 0)
        return fail(err, errlen, "clearenv failed");
    return 0;
}

int sandbox_layer_caps(char *err, size_t errlen)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    int last = CAP_LAST_CAP;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");

    if (f) {
        if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) < 0)
        return fail(err, errlen, "capget: %s", strerror(errno));
    /* dropping from the bounding set needs CAP_SETPCAP; without it the set
     * is not ours to change, and we have no capabilities to use anyway */
    if (d[0].effective & (1u << CAP_SETPCAP)) {
        for (int c = 0; c <= last + 8 && c < 64; c++)
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                return fail(err, errlen, "drop capability %d from the bounding set: %s", c,
                            strerror(errno));
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return fail(err, errlen, "clear ambient capabilities: %s", strerror(errno));
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) < 0)
        return fail(err, errlen, "capset: %s", strerror(errno));
    return 0;
}

int sandbox_layer_dumpable(char *err, size_t errlen)
{
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return fail(err, errlen, "PR_SET_DUMPABLE: %s", strerror(errno));
    return 0;
}

int sandbox_layer_pdeathsig(char *err, size_t errlen)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        return fail(err, errlen, "PR_SET_PDEATHSIG: %s", strerror(errno));
    return 0;
}

int sandbox_layer_setuid(uid_t uid, char *err, size_t errlen)
{
    if (setgroups(0, NULL) < 0)
        return fail(err, errlen, "setgroups: %s", strerror(errno));
    if (setresgid(uid, uid, uid) < 0)
        return fail(err, errlen, "setresgid %u: %s", (unsigned)uid, strerror(errno));
    if (setresuid(uid, uid, uid) < 0)
        return fail(err, errlen, "setresuid %u: %s", (unsigned)uid, strerror(errno));
    return 0;
}

/* The allowlist: what a parser needs (stdio, malloc, jansson, libarchive and
 * its decompressors, the protocol over the inherited socket) and nothing that
 * reaches outside the process. */
static const char *const allowed[] = {
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "close",
    "lseek",
    "_llseek",
    "open",
    "openat",
    "creat",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "fstatat64",
    "stat64",
    "fstat64",
    "lstat64",
    "statx",
    "fstatfs",
    "statfs",
    "getdents",
    "getdents64",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "fcntl",
    "fcntl64",
    "dup",
    "dup2",
    "dup3",
    "fsync",
    "fdatasync",
    "ftruncate",
    "truncate",
    "fallocate",
    "umask",
    "getcwd",
    "chdir",
    "fchdir",
    "fchmod",
    "fchmodat",
    "chmod",
    "utimensat",
    "futimesat",
    "utimes",
    "utime",
    "flock",
    "munmap",
    "mremap",
    "madvise",
    "brk",
    "msync",
    "mincore",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigreturn",
    "sigaltstack",
    "rt_sigpending",
    "rt_sigsuspend",
    "pause",
    "rt_sigtimedwait",
    "exit",
    "exit_group",
    "getpid",
    "gettid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getresuid",
    "getresgid",
    "getgroups",
    "uname",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "getrandom",
    "futex",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "sched_yield",
    "sched_getaffinity",
    "getrlimit",
    "ugetrlimit",
    "getrusage",
    "times",
    "poll",
    "ppoll",
    "select",
    "_newselect",
    "pselect6",
    "sendmsg",
    "recvmsg",
    "sendto",
    "recvfrom",
    "shutdown",
    "getsockopt",
    "getsockname",
    "getpeername",
    "wait4",
    "waitid",
    "restart_syscall",
    "membarrier",
    "sysinfo",
    "getpgrp",
    "getpgid",
    "getsid",
    "getcpu",
    "pipe",
    "pipe2",
    "eventfd2",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "sync_file_range",
    "copy_file_range",
    "sendfile",
    "splice",
    "tee",
    "lgetxattr",
    "getxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
};

/* Denied with an error instead of a kill: libraries probe these and cope. */
static const char *const refused[] = {
    "clone",     "clone3",    "fork",         "vfork",      "link",
    "linkat",    "symlink",   "symlinkat",    "prctl",      "setxattr",
    "lsetxattr", "fsetxattr", "memfd_create", "pkey_alloc", "sched_setaffinity",
    "mknod",     "mknodat",   "chown",        "fchown",     "lchown",
    "fchownat",
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
               const struct scmp_arg_cmp *cmp)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a system call on this architecture */
    return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

int sandbox_seccomp_build(int log, int pidns, void **bpf, size_t *len, char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    int r = 0, mfd = -1;
    off_t size;
    void *buf = NULL;
    uint32_t deny = log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
    struct scmp_arg_cmp noexec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);

    *bpf = NULL;
    *len = 0;
    ctx = seccomp_init(deny);
    if (!ctx)
        return fail(err, errlen, "seccomp_init failed");
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0) {
        r = -1;
        fail(err, errlen, "seccomp_attr_set failed");
        goto out;
    }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0] && r >= 0; i++)
        r = add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0] && r >= 0; i++)
        r = add(ctx, SCMP_ACT_ERRNO(EPERM), refused[i], 0, NULL);
    /* memory: never executable (no JIT, no loading code) */
    if (r >= 0)
        r = add(ctx, SCMP_ACT_ALLOW, "mmap", 1, &noexec);
    if (r >= 0)
        r = add(ctx, SCMP_ACT_ALLOW, "mmap2", 1, &noexec);
    if (r >= 0)
        r = add(ctx, SCMP_ACT_ALLOW, "mprotect", 1, &noexec);
    /* prlimit only to read our own limits */
    if (r >= 0) {
        struct scmp_arg_cmp c[2] = {SCMP_A0(SCMP_CMP_EQ, 0), SCMP_A2(SCMP_CMP_EQ, 0)};
        r = add(ctx, SCMP_ACT_ALLOW, "prlimit64", 2, c);
    }
    /* ioctl: what stdio asks (is this a terminal?) and socket-buffer queries; no TIOCSTI */
    {
        static const unsigned long ok_ioctls[] = {TCGETS, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX};
        for (size_t i = 0; i < sizeof ok_ioctls / sizeof ok_ioctls[0] && r >= 0; i++) {
            struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_EQ, ok_ioctls[i]);
            r = add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &c);
        }
    }
    /* signals only to ourselves: in a pid namespace we are pid 1 (raise, abort) */
    if (r >= 0 && pidns) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, 1);
        r = add(ctx, SCMP_ACT_ALLOW, "kill", 1, &c);
        if (r >= 0)
            r = add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &c);
        if (r >= 0)
            r = add(ctx, SCMP_ACT_ALLOW, "tkill", 1, &c);
    } else if (r >= 0) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_EQ, 0);
        r = add(ctx, SCMP_ACT_ALLOW, "kill", 1, &c); /* own process group: harmless */
    }
    if (r < 0) {
        errno = -r;
        fail(err, errlen, "seccomp_rule_add: %s", strerror(-r));
        goto out;
    }
    mfd = (int)syscall(SYS_memfd_create, "seccomp-bpf", MFD_CLOEXEC);
    if (mfd < 0 || (r = seccomp_export_bpf(ctx, mfd)) < 0 ||
        (size = lseek(mfd, 0, SEEK_END)) <= 0 || !(buf = malloc((size_t)size)) ||
        pread(mfd, buf, (size_t)size, 0) != size) {
        fail(err, errlen, "seccomp_export_bpf failed");
        free(buf);
        r = -1;
        goto out;
    }
    *bpf = buf;
    *len = (size_t)size;
    r = 0;
out:
    if (mfd >= 0)
        close(mfd);
    seccomp_release(ctx);
    return r < 0 ? -1 : 0;
}

int sandbox_layer_seccomp(const void *bpf, size_t len, char *err, size_t errlen)
{
    struct sock_fprog prog;

    prog.len = (unsigned short)(len / sizeof(struct sock_filter));
    prog.filter = (struct sock_filter *)(uintptr_t)bpf;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return fail(err, errlen, "no_new_privs: %s", strerror(errno));
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return fail(err, errlen, "load the seccomp filter: %s", strerror(errno));
    return 0;
}
