/*
 * Escape suite: each attempt is a function run as the sandboxed child. It
 * writes "E <detail>" to the IPC socket when the escape worked and "B <detail>"
 * when it was refused; a child killed by a signal counts as blocked (SIGSYS is
 * reported as the seccomp kill). Every attempt runs with all layers on, with
 * each layer alone and with each layer off; the matrix is printed as TAP
 * diagnostics. Asserted: all layers block every attempt; each layer listed in
 * an attempt's `by` blocks it on its own; the control attempts work everywhere.
 */
#include "sandbox.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef ETH_P_ALL
#define ETH_P_ALL 0x0003
#endif
#ifndef AF_PACKET
#define AF_PACKET 17
#endif

static const char canary[] = "CANARY-parent-memory-7d3e91ab";

struct target {
    pid_t testpid;    /* the test (the "master") */
    pid_t victim;     /* a sibling process, plain fork */
    uintptr_t canary; /* address of canary[] in the test */
    int tcp_port, udp_port;
    int ipc;           /* filled in by the child */
    char sibling[200]; /* absolute path of a secret file in a sibling workspace */
    char sibdir[200];  /* the sibling workspace */
    char abstract[64]; /* abstract unix socket name (without the NUL) */
    int which;
};

#define ESC(...) (snprintf(out, outlen, "E " __VA_ARGS__), 0)
#define BLK(...) (snprintf(out, outlen, "B " __VA_ARGS__), 0)
#define RES(cond, what) ((cond) ? ESC("%s", what) : BLK("%s: %s", what, strerror(errno)))

static int read_file_ok(const char *p)
{
    char b[64];
    int fd = open(p, O_RDONLY);
    ssize_t n;

    if (fd < 0)
        return 0;
    n = read(fd, b, sizeof b);
    close(fd);
    return n > 0;
}

typedef int (*attack_fn)(struct target *t, char *out, size_t outlen);

static int a_ws_read(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(read_file_ok("inside.txt"), "read inside.txt");
}
static int a_ws_write(struct target *t, char *out, size_t outlen)
{
    int fd = open("made-inside", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    (void)t;
    return RES(fd >= 0 && write(fd, "x", 1) == 1, "write inside");
}
static int a_shadow(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(read_file_ok("/etc/shadow"), "read /etc/shadow");
}
static int a_passwd(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(read_file_ok("/etc/passwd"), "read /etc/passwd");
}
static int a_proc1_environ(struct target *t, char *out, size_t outlen)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/environ", (int)t->testpid);
    return RES(read_file_ok(p), "read master's /proc/PID/environ");
}
static int a_sibling_abs(struct target *t, char *out, size_t outlen)
{
    return RES(read_file_ok(t->sibling), "read sibling by absolute path");
}
static int a_dotdot(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(read_file_ok("../sibling/secret") || read_file_ok("../../../../../etc/passwd"),
               "read ../sibling/secret");
}
static int a_symlink_planted(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(read_file_ok("planted-link"), "follow planted symlink out");
}
static int a_symlink_runtime(struct target *t, char *out, size_t outlen)
{
    (void)symlink(t->sibling, "rt-abs");
    (void)symlink("../sibling/secret", "rt-rel");
    return RES(read_file_ok("rt-abs") || read_file_ok("rt-rel"), "follow symlink made at run time");
}
static int a_hardlink(struct target *t, char *out, size_t outlen)
{
    unlink("hl");
    return RES(link(t->sibling, "hl") == 0 && read_file_ok("hl"), "hardlink sibling secret in");
}
static int a_proc_root(struct target *t, char *out, size_t outlen)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/root/etc/passwd", (int)t->testpid);
    return RES(read_file_ok("/proc/self/root/etc/passwd") || read_file_ok(p),
               "read via /proc/*/root");
}
static int a_open_by_handle(struct target *t, char *out, size_t outlen)
{
    /* "shocker": a guessed handle for the root inode of the filesystem */
    struct {
        struct file_handle fh;
        unsigned char b[8];
    } h;
    int fd;
    (void)t;
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = 8;
    h.fh.handle_type = 1;
    h.b[0] = 2;
    fd = open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY);
    if (fd < 0 && errno != EPERM && errno != ENOSYS && errno != EACCES) {
        /* EPERM is the wall; other errors mean the call ran with the capability */
        return ESC("open_by_handle_at ran (%s)", strerror(errno));
    }
    return RES(fd >= 0, "open_by_handle_at");
}
static int a_dev(struct target *t, char *out, size_t outlen)
{
    (void)t;
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        fd = open("/dev/mem", O_RDONLY);
    if (fd < 0)
        fd = open("/dev/tty", O_RDONLY | O_NONBLOCK);
    return RES(fd >= 0, "open a /dev device");
}
static int a_write_out(struct target *t, char *out, size_t outlen)
{
    char p[300];
    snprintf(p, sizeof p, "%s/planted-by-child", t->sibdir);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        unlink(p);
    return RES(fd >= 0, "create a file in the sibling workspace");
}
static int a_mknod(struct target *t, char *out, size_t outlen)
{
    (void)t;
    unlink("nulldev");
    if (mknod("nulldev", S_IFCHR | 0666, makedev(1, 3)) < 0)
        return BLK("mknod: %s", strerror(errno));
    int fd = open("nulldev", O_RDWR);
    return RES(fd >= 0, "mknod + open char device");
}
static int a_setuid_file(struct target *t, char *out, size_t outlen)
{
    struct stat st;
    (void)t;
    int fd = open("suid", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0)
        return BLK("create: %s", strerror(errno));
    close(fd);
    /* a setuid-root file on the host: chown to 0 + S_ISUID, seen by the outside as root */
    if (chown("suid", 0, 0) < 0 || chmod("suid", 04755) < 0 || stat("suid", &st) < 0)
        return BLK("chown/chmod: %s", strerror(errno));
    return ESC("setuid file made (checked from outside)");
}
static int a_mount(struct target *t, char *out, size_t outlen)
{
    (void)t;
    mkdir("mnt", 0700);
    return RES(mount("none", "mnt", "tmpfs", 0, NULL) == 0, "mount tmpfs");
}
static int a_umount(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(umount2("/", MNT_DETACH) == 0 || syscall(SYS_pivot_root, ".", ".") == 0,
               "umount / or pivot_root");
}
static int a_chroot(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(chroot(".") == 0, "chroot");
}
static int a_unshare(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(unshare(CLONE_NEWUSER) == 0 || unshare(CLONE_NEWNS) == 0, "unshare (nested ns)");
}
static int a_setns(struct target *t, char *out, size_t outlen)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/net", (int)t->testpid);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return BLK("open ns: %s", strerror(errno));
    return RES(setns(fd, CLONE_NEWNET) == 0, "setns into master's net ns");
}
static int a_sock_inet(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(socket(AF_INET, SOCK_STREAM, 0) >= 0, "socket AF_INET");
}
static int a_sock_inet6(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(socket(AF_INET6, SOCK_DGRAM, 0) >= 0, "socket AF_INET6");
}
static int a_sock_netlink(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(socket(AF_NETLINK, SOCK_RAW, 0) >= 0, "socket AF_NETLINK");
}
static int a_sock_packet(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)) >= 0, "socket AF_PACKET");
}
static int a_tcp(struct target *t, char *out, size_t outlen)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->tcp_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return BLK("socket: %s", strerror(errno));
    return RES(connect(s, (struct sockaddr *)&a, sizeof a) == 0 && write(s, "E", 1) == 1,
               "TCP connect to the test's 127.0.0.1 listener");
}
static int a_udp(struct target *t, char *out, size_t outlen)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->udp_port)};
    char msg[16];
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0)
        return BLK("socket: %s", strerror(errno));
    snprintf(msg, sizeof msg, "dns%d", t->which);
    return RES(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) > 0,
               "UDP 'DNS' datagram to 127.0.0.1 (checked by receipt)");
}
static int a_abstract(struct target *t, char *out, size_t outlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    size_t n = strlen(t->abstract);
    memcpy(a.sun_path + 1, t->abstract, n);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0)
        return BLK("socket: %s", strerror(errno));
    return RES(connect(s, (struct sockaddr *)&a,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) == 0,
               "connect abstract unix socket of the test");
}
static int a_execve(struct target *t, char *out, size_t outlen)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "printf 'E execve /bin/sh' >&%d", t->ipc);
    char *argv[] = {"sh", "-c", cmd, NULL}, *envp[] = {NULL};
    fcntl(t->ipc, F_SETFD, 0); /* the shell must inherit it to report */
    execve("/bin/sh", argv, envp);
    return BLK("execve: %s", strerror(errno));
}
static int a_ptrace(struct target *t, char *out, size_t outlen)
{
    if (ptrace(PTRACE_SEIZE, t->testpid, 0, 0) == 0) {
        ptrace(PTRACE_DETACH, t->testpid, 0, 0);
        return ESC("ptrace seize the master");
    }
    if (ptrace(PTRACE_SEIZE, t->victim, 0, 0) == 0)
        return ESC("ptrace seize a sibling");
    return BLK("ptrace: %s", strerror(errno));
}
static int a_vm_readv(struct target *t, char *out, size_t outlen)
{
    char b[sizeof canary];
    struct iovec l = {b, sizeof b}, r = {(void *)t->canary, sizeof b};
    ssize_t n = process_vm_readv(t->testpid, &l, 1, &r, 1, 0);
    return RES(n == (ssize_t)sizeof b && memcmp(b, canary, sizeof b) == 0,
               "process_vm_readv master's canary");
}
static int a_proc_mem(struct target *t, char *out, size_t outlen)
{
    char p[64], b[sizeof canary];
    snprintf(p, sizeof p, "/proc/%d/mem", (int)t->testpid);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return BLK("open: %s", strerror(errno));
    return RES(pread(fd, b, sizeof b, (off_t)t->canary) == (ssize_t)sizeof b &&
                   memcmp(b, canary, sizeof b) == 0,
               "read master's canary via /proc/PID/mem");
}
static int a_kill_sibling(struct target *t, char *out, size_t outlen)
{
    /* checked from outside: the victim must still be alive */
    kill(t->victim, SIGKILL);
    return RES(0, "kill a sibling (checked from outside)");
}
static int a_kill_master(struct target *t, char *out, size_t outlen)
{
    /* signal 0: permission check only, the test survives either way */
    return RES(kill(t->testpid, 0) == 0, "signal the master (kill 0)");
}
static int a_kill_all(struct target *t, char *out, size_t outlen)
{
    (void)t;
    /* kill(-1, 0): succeeds if any other process could be signalled */
    return RES(kill(-1, 0) == 0, "kill(-1) reaches another process");
}
static int a_forkbomb(struct target *t, char *out, size_t outlen)
{
    int n = 0;
    (void)t;
    for (int i = 0; i < 32; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        if (p < 0)
            break;
        n++;
    }
    while (wait(NULL) > 0)
        ;
    if (n == 0)
        return BLK("fork: %s", strerror(errno));
    return ESC("forked %d children", n);
}
static int a_membomb(struct target *t, char *out, size_t outlen)
{
    (void)t;
    void *m =
        mmap(NULL, (size_t)4 << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return RES(m != MAP_FAILED, "map 4 GiB");
}
static int a_cpuspin(struct target *t, char *out, size_t outlen)
{
    struct timespec ts;
    (void)t;
    time_t t0 = time(NULL);
    /* The wall-clock cap only guards against a hang: on a loaded machine 1.5 s
     * of CPU can take many seconds of wall time, and stopping at 4 s made the
     * attempt report an escape it never made. */
    do
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < 1500 && time(NULL) - t0 < 60);
    return ESC("spun %ld ms of CPU (limit 1 s)", (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
}
static int a_hugefile(struct target *t, char *out, size_t outlen)
{
    static char b[1 << 16];
    (void)t;
    signal(SIGXFSZ, SIG_IGN);
    int fd = open("huge", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return BLK("open: %s", strerror(errno));
    for (int i = 0; i < 64; i++) /* 4 MiB */
        if (write(fd, b, sizeof b) != (ssize_t)sizeof b) {
            unlink("huge");
            return BLK("write: %s", strerror(errno));
        }
    unlink("huge");
    return ESC("wrote 4 MiB");
}
static int a_fds(struct target *t, char *out, size_t outlen)
{
    int n = 0;
    (void)t;
    while (n < 2000 && open(".", O_RDONLY) >= 0)
        n++;
    if (n >= 2000)
        return ESC("opened 2000 fds");
    return BLK("fds stop at %d: %s", n, strerror(errno));
}
static int a_mmap_exec(struct target *t, char *out, size_t outlen)
{
    (void)t;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return BLK("mmap rw: %s", strerror(errno));
    ((unsigned char *)m)[0] = 0xc3; /* ret on x86-64 */
    return RES(mprotect(m, 4096, PROT_READ | PROT_EXEC) == 0, "mprotect PROT_EXEC (shellcode)");
}
static int a_mmap_exec2(struct target *t, char *out, size_t outlen)
{
    (void)t;
    void *m =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return RES(m != MAP_FAILED, "mmap PROT_WRITE|PROT_EXEC");
}
static int a_io_uring(struct target *t, char *out, size_t outlen)
{
    unsigned char p[120] = {0};
    (void)t;
    return RES(syscall(425 /* io_uring_setup */, 4, p) >= 0, "io_uring_setup");
}
static int a_bpf(struct target *t, char *out, size_t outlen)
{
    unsigned char attr[128] = {0};
    (void)t;
    attr[0] = 1;                      /* BPF_MAP_TYPE_HASH */
    attr[4] = attr[8] = attr[12] = 4; /* key 4, value 4, 4 entries */
    return RES(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, 72) >= 0, "bpf map create");
}
static int a_keyctl(struct target *t, char *out, size_t outlen)
{
    (void)t;
    /* KEYCTL_GET_KEYRING_ID of the session keyring: reaches the host keyring */
    return RES(syscall(SYS_keyctl, 0, -3, 0) >= 0 ||
                   syscall(SYS_add_key, "user", "x", "y", 1, -3) >= 0,
               "keyctl / add_key");
}
static int a_perf(struct target *t, char *out, size_t outlen)
{
    struct perf_event_attr a;
    (void)t;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    a.exclude_kernel = 1;
    return RES(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) >= 0, "perf_event_open");
}
static int a_sysadmin(struct target *t, char *out, size_t outlen)
{
    (void)t;
    /* checked from outside too: the host's hostname must not change */
    return RES(sethostname("escaped", 7) == 0 && 0, "sethostname (CAP_SYS_ADMIN, checked outside)");
}
static int a_setuid0(struct target *t, char *out, size_t outlen)
{
    (void)t;
    /* the file we create is owned by host root when no uid layer is on: checked from outside */
    int fd = open("owned", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    return fd >= 0 ? BLK("made owned (owner checked outside)") : BLK("open: %s", strerror(errno));
}
static int a_inherited_fd(struct target *t, char *out, size_t outlen)
{
    char b[64];
    for (int fd = 0; fd < 1024; fd++) {
        if (fd == t->ipc)
            continue;
        ssize_t n = pread(fd, b, sizeof b - 1, 0);
        if (n > 0) {
            b[n] = 0;
            if (strstr(b, "FDSECRET"))
                return ESC("inherited fd %d holds the secret", fd);
        }
    }
    return BLK("no inherited secret fd");
}
static int a_env(struct target *t, char *out, size_t outlen)
{
    (void)t;
    return RES(getenv("TRAWL_ESCAPE_SECRET") != NULL, "secret in the environment");
}
static int a_core(struct target *t, char *out, size_t outlen)
{
    struct rlimit r;
    (void)t;
    getrlimit(RLIMIT_CORE, &r);
    if (prctl(PR_GET_DUMPABLE) == 1 && r.rlim_cur > 0)
        return ESC("dumpable with core limit %llu", (unsigned long long)r.rlim_cur);
    return BLK("no core dump (dumpable %d, core %llu)", prctl(PR_GET_DUMPABLE),
               (unsigned long long)r.rlim_cur);
}
static int a_personality(struct target *t, char *out, size_t outlen)
{
    (void)t;
    personality(READ_IMPLIES_EXEC);
    int p = personality(0xffffffff);
    return RES(p != -1 && (p & READ_IMPLIES_EXEC), "personality(READ_IMPLIES_EXEC)");
}
static int a_tiocsti(struct target *t, char *out, size_t outlen)
{
    char c = 'x';
    for (int fd = 0; fd < 3; fd++)
        if (fd != t->ipc && ioctl(fd, TIOCSTI, &c) == 0)
            return ESC("TIOCSTI on fd %d", fd);
    int fd = open("/dev/tty", O_RDWR | O_NONBLOCK);
    if (fd >= 0 && ioctl(fd, TIOCSTI, &c) == 0)
        return ESC("TIOCSTI on /dev/tty");
    return BLK("TIOCSTI: %s", strerror(errno));
}
static int a_sleep(struct target *t, char *out, size_t outlen)
{
    (void)t;
    (void)out;
    (void)outlen;
    for (;;)
        pause();
    return 0;
}

#define L(x) SANDBOX_##x
enum {
    CONTROL = 1,
    CHECK_VICTIM = 2,
    CHECK_UDP = 4,
    CHECK_OWNER = 8,
    CHECK_HOST = 16,
    CHECK_SUID = 32
};

static int abi;

struct attack {
    const char *name;
    attack_fn fn;
    unsigned by;    /* layers each expected to block this attempt on their own */
    unsigned needs; /* only run when one of these is on (too dangerous otherwise); 0 = always */
    int flags;
};

/* Layers in `by` were chosen from what each one does; an attempt with by == 0 has no
 * single layer that stops it alone (see the comment at the attempt). */
static struct attack attacks[] = {
    {"ctl_read_inside", a_ws_read, 0, 0, CONTROL},
    {"ctl_write_inside", a_ws_write, 0, 0, CONTROL},
    {"read_shadow", a_shadow, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"read_passwd", a_passwd, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"proc_environ", a_proc1_environ, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"sibling_abs", a_sibling_abs, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"dotdot", a_dotdot, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"symlink_planted", a_symlink_planted, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"symlink_runtime", a_symlink_runtime, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"hardlink_out", a_hardlink, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"proc_root", a_proc_root, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"open_by_handle", a_open_by_handle, L(SECCOMP) | L(CAPS) | L(USERNS), 0, 0},
    {"dev_device", a_dev, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"write_outside", a_write_out, L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"mknod", a_mknod, L(CAPS) | L(USERNS), 0, 0},
    {"setuid_file", a_setuid_file, 0, 0, CHECK_SUID},
    {"mount", a_mount, L(SECCOMP) | L(CAPS), 0, 0},
    {"umount_pivot", a_umount, L(SECCOMP) | L(CAPS), L(MOUNTNS) | L(SECCOMP) | L(CAPS) | L(USERNS),
     0},
    {"chroot", a_chroot, L(SECCOMP) | L(CAPS), 0, 0},
    {"unshare", a_unshare, L(SECCOMP), 0, 0},
    {"setns", a_setns, L(SECCOMP) | L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"sock_inet", a_sock_inet, L(SECCOMP), 0, 0},
    {"sock_inet6", a_sock_inet6, L(SECCOMP), 0, 0},
    {"sock_netlink", a_sock_netlink, L(SECCOMP), 0, 0},
    {"sock_packet", a_sock_packet, L(SECCOMP) | L(CAPS), 0, 0},
    {"tcp_loopback", a_tcp, L(SECCOMP) | L(NETNS), 0, 0},
    {"udp_dns", a_udp, L(SECCOMP) | L(NETNS), 0, CHECK_UDP},
    {"abstract_unix", a_abstract, L(SECCOMP) | L(NETNS), 0, 0},
    {"execve_sh", a_execve, L(SECCOMP) | L(MOUNTNS) | L(LANDLOCK), 0, 0},
    {"ptrace", a_ptrace, L(SECCOMP) | L(USERNS) | L(PIDNS), 0, 0},
    {"process_vm_readv", a_vm_readv, L(SECCOMP) | L(USERNS) | L(PIDNS), 0, 0},
    {"proc_pid_mem", a_proc_mem, L(MOUNTNS) | L(LANDLOCK) | L(USERNS), 0, 0},
    {"kill_sibling", a_kill_sibling, L(SECCOMP) | L(USERNS) | L(PIDNS), 0, CHECK_VICTIM},
    {"kill_master", a_kill_master, L(SECCOMP) | L(USERNS) | L(PIDNS), 0, 0},
    /* Found by this suite: with the user ns alone (no pid ns, no seccomp) kill(-1, 0) still
     * reaches some process, so userns is not claimed here; pidns and seccomp each stop it. */
    {"kill_all", a_kill_all, L(SECCOMP) | L(PIDNS), 0, 0},
    /* NPROC counts per uid and root ignores it: rlimits need a uid layer too, so no single
     * layer stops a fork bomb alone. */
    {"fork_bomb", a_forkbomb, 0, 0, 0},
    {"mem_bomb", a_membomb, L(RLIMITS), 0, 0},
    {"cpu_spin", a_cpuspin, L(RLIMITS), 0, 0},
    {"huge_file", a_hugefile, L(RLIMITS), 0, 0},
    {"fd_exhaustion", a_fds, L(RLIMITS), 0, 0},
    {"mprotect_exec", a_mmap_exec, L(SECCOMP), 0, 0},
    {"mmap_wx", a_mmap_exec2, L(SECCOMP), 0, 0},
    {"io_uring", a_io_uring, L(SECCOMP), 0, 0},
    {"bpf", a_bpf, L(SECCOMP), 0, 0},
    {"keyctl", a_keyctl, L(SECCOMP), 0, 0},
    {"perf_event_open", a_perf, L(SECCOMP), 0, 0},
    {"cap_sys_admin", a_sysadmin, L(SECCOMP) | L(CAPS) | L(UTSNS) | L(USERNS), 0, CHECK_HOST},
    {"host_root_uid", a_setuid0, L(USERNS) | L(SETUID), 0, CHECK_OWNER},
    {"inherited_fd", a_inherited_fd, L(FDS) | L(ZYGOTE), 0, 0},
    {"env_secret", a_env, L(ENV) | L(ZYGOTE), 0, 0},
    {"core_dump", a_core, L(RLIMITS) | L(DUMPABLE), 0, 0},
    {"personality", a_personality, L(SECCOMP), 0, 0},
    {"tiocsti", a_tiocsti, L(SECCOMP), 0, 0},
    /* the deadline is the parent's: every configuration is killed after it */
    {"sleep_forever", a_sleep, 0, 0, 0},
};
#define NATT (int)(sizeof attacks / sizeof attacks[0])

static int child_main(int ipc, void *arg)
{
    struct target *t = arg;
    char out[200] = "B (no verdict)";

    t->ipc = ipc;
    attacks[t->which].fn(t, out, sizeof out);
    return write(ipc, out, strlen(out)) > 0 ? 0 : 1;
}

/* verdicts */
enum { V_SKIP, V_BLOCKED, V_SIGSYS, V_KILLED, V_ESCAPED, V_ERR };
static const char vch[] = "-bSkE?";

static char tmp[] = "/tmp/trawl-escape-XXXXXX";
static char ws[160], sibdir[160];
static int udp_fd;

static void prepare_ws(void)
{
    char p[400];
    int fd;
    snprintf(p, sizeof p, "rm -rf '%s'; mkdir -p '%s'", ws, ws);
    if (system(p) != 0)
        exit(2);
    chown(ws, 0, 0);
    snprintf(p, sizeof p, "%s/inside.txt", ws);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        (void)!write(fd, "inside\n", 7);
        close(fd);
    }
    snprintf(p, sizeof p, "%s/planted-link", ws);
    char target[400];
    snprintf(target, sizeof target, "%s/secret", sibdir);
    (void)!symlink(target, p);
}

static int run_one(int a, unsigned layers, struct target *tt, char *detail, size_t dlen)
{
    struct sandbox_opts o;
    struct sandbox_child c;
    struct target t = *tt;
    char err[400], out[256] = "";
    struct pollfd pf;
    ssize_t n;
    int st = 0, v;
    pid_t victim = -1;
    struct utsname before, after;

    prepare_ws();
    if (attacks[a].flags & CHECK_VICTIM) {
        victim = fork();
        if (victim == 0) {
            for (;;)
                pause();
        }
        t.victim = victim;
    }
    uname(&before);
    t.which = a;
    sandbox_opts_init(&o);
    o.workspace = ws;
    o.layers = layers;
    o.cpu_secs = 1;
    o.fsize_bytes = 1 << 20;
    o.nofile = 64;
    o.as_bytes = (uint64_t)1 << 30;
    if (sandbox_spawn(&o, child_main, &t, sizeof t, &c, err, sizeof err) < 0) {
        snprintf(detail, dlen, "spawn: %.150s", err);
        if (victim > 0) {
            kill(victim, SIGKILL);
            waitpid(victim, NULL, 0);
        }
        return V_ERR;
    }
    pf.fd = c.fd;
    pf.events = POLLIN;
    n = 0;
    size_t got = 0;
    for (;;) {
        int r = poll(&pf, 1,
                     attacks[a].fn == a_sleep     ? 300
                     : attacks[a].fn == a_cpuspin ? 20000
                                                  : 3000);
        if (r <= 0) {
            sandbox_kill(&c);
            break;
        }
        n = read(c.fd, out + got, sizeof out - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out[got] = 0;
    sandbox_wait(&c, &st, 0);
    sandbox_child_release(&c);

    if (out[0] == 'E')
        v = V_ESCAPED;
    else if (out[0] == 'B')
        v = V_BLOCKED;
    else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        v = V_SIGSYS;
    else if (WIFSIGNALED(st))
        v = V_KILLED;
    else
        v = V_BLOCKED;
    snprintf(detail, dlen, "%.150s", out[0] ? out + 2 : "");
    if (!out[0])
        sandbox_status_str(st, detail, dlen);

    /* checks from outside */
    if (victim > 0) {
        int vs;
        if (waitpid(victim, &vs, WNOHANG) == victim) {
            v = V_ESCAPED;
            snprintf(detail, dlen, "the sibling was killed");
        } else {
            kill(victim, SIGKILL);
            waitpid(victim, NULL, 0);
        }
    }
    if (attacks[a].flags & CHECK_UDP) {
        char b[32];
        ssize_t m;
        while ((m = recv(udp_fd, b, sizeof b - 1, MSG_DONTWAIT)) > 0) {
            b[m] = 0;
            if (atoi(b + 3) == a)
                v = V_ESCAPED;
        }
        if (v != V_ESCAPED && out[0] == 'E')
            v = V_BLOCKED; /* sent, but nothing arrived: no route out */
    }
    if (attacks[a].flags & CHECK_HOST) {
        uname(&after);
        if (strcmp(before.nodename, after.nodename) != 0) {
            v = V_ESCAPED;
            snprintf(detail, dlen, "host name changed to %.64s", after.nodename);
            sethostname(before.nodename, strlen(before.nodename));
        }
    }
    if (attacks[a].flags & (CHECK_OWNER | CHECK_SUID)) {
        struct stat sb;
        char p[400];
        snprintf(p, sizeof p, "%s/%s", ws, attacks[a].flags & CHECK_OWNER ? "owned" : "suid");
        if (stat(p, &sb) == 0 && sb.st_uid == 0 &&
            ((attacks[a].flags & CHECK_OWNER) || (sb.st_mode & S_ISUID))) {
            v = V_ESCAPED;
            snprintf(detail, dlen, "%.150s owned by host root%s", p,
                     sb.st_mode & S_ISUID ? " with S_ISUID" : "");
        } else if (v == V_ESCAPED && (attacks[a].flags & CHECK_SUID)) {
            v = V_BLOCKED;
        }
    }
    if (attacks[a].fn == a_sleep && v == V_KILLED)
        v = V_BLOCKED; /* the deadline kill is the designed outcome */
    return v;
}

struct config {
    char name[24];
    unsigned layers;
    unsigned alone; /* the single layer this config tests alone, or 0 */
};

static const unsigned tested[] = {L(USERNS),   L(MOUNTNS), L(PIDNS),  L(NETNS), L(UTSNS),
                                  L(LANDLOCK), L(RLIMITS), L(FDS),    L(ENV),   L(CAPS),
                                  L(DUMPABLE), L(SECCOMP), L(SETUID), L(ZYGOTE)};
#define NTESTED (int)(sizeof tested / sizeof tested[0])

int main(void)
{
    char err[400], detail[200];
    struct sandbox_probe_result pr;
    struct config cfg[2 + 2 * NTESTED];
    int ncfg = 0, secret_fd, tcp_fd, unix_fd;
    static int verdict[64][2 + 2 * NTESTED];
    struct target t;
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;

    if (sandbox_zygote_start(err, sizeof err) < 0)
        printf("# no zygote: %s\n", err);
    /* secrets made after the zygote, as the master does */
    setenv("TRAWL_ESCAPE_SECRET", "envsecret-escape", 1);
    if (!mkdtemp(tmp))
        return 2;
    snprintf(ws, sizeof ws, "%s/ws", tmp);
    snprintf(sibdir, sizeof sibdir, "%s/sibling", tmp);
    mkdir(sibdir, 0755);
    {
        char p[400];
        snprintf(p, sizeof p, "%s/secret", sibdir);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        (void)!write(fd, "SIBLINGSECRET\n", 14);
        close(fd);
        secret_fd = open(p, O_RDONLY); /* inheritable on purpose */
        snprintf(p, sizeof p, "%s/fdsecret", tmp);
        fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
        (void)!write(fd, "FDSECRET\n", 9);
        secret_fd = fd;
    }
    (void)secret_fd;

    memset(&t, 0, sizeof t);
    t.testpid = getpid();
    t.canary = (uintptr_t)canary;
    snprintf(t.sibling, sizeof t.sibling, "%.150s/secret", sibdir);
    snprintf(t.sibdir, sizeof t.sibdir, "%.150s", sibdir);
    snprintf(t.abstract, sizeof t.abstract, "trawl-escape-%d", (int)getpid());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(tcp_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(tcp_fd, 64) < 0 ||
        getsockname(tcp_fd, (struct sockaddr *)&a, &alen) < 0)
        return 2;
    t.tcp_port = ntohs(a.sin_port);
    a.sin_port = 0;
    udp_fd = socket(AF_INET, SOCK_DGRAM, 0);
    alen = sizeof a;
    if (bind(udp_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(udp_fd, (struct sockaddr *)&a, &alen) < 0)
        return 2;
    t.udp_port = ntohs(a.sin_port);
    {
        struct sockaddr_un u = {.sun_family = AF_UNIX};
        size_t n = strlen(t.abstract);
        memcpy(u.sun_path + 1, t.abstract, n);
        unix_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (bind(unix_fd, (struct sockaddr *)&u,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
            listen(unix_fd, 64) < 0)
            return 2;
    }

    sandbox_probe(&pr);
    abi = pr.landlock_abi;
    printf("# landlock ABI %d, supported: %s\n", abi,
           sandbox_layers_str(pr.supported, detail, sizeof detail));
    /* Landlock's network and scope rules depend on the ABI */
    for (int i = 0; i < NATT; i++) {
        if (!strcmp(attacks[i].name, "tcp_loopback") && abi >= 4)
            attacks[i].by |= L(LANDLOCK);
        if ((!strcmp(attacks[i].name, "abstract_unix") ||
             !strcmp(attacks[i].name, "kill_sibling") || !strcmp(attacks[i].name, "kill_master")) &&
            abi >= 6)
            attacks[i].by |= L(LANDLOCK);
    }

    snprintf(cfg[ncfg].name, sizeof cfg[0].name, "all");
    cfg[ncfg].layers = SANDBOX_ALL;
    cfg[ncfg++].alone = 0;
    for (int i = 0; i < NTESTED; i++) {
        if (!(pr.supported & tested[i]) && tested[i] != L(SETUID) && tested[i] != L(ZYGOTE))
            continue;
        snprintf(cfg[ncfg].name, sizeof cfg[0].name, "%s", sandbox_layer_name(tested[i]));
        cfg[ncfg].layers = tested[i];
        cfg[ncfg++].alone = tested[i];
    }
    for (int i = 0; i < NTESTED; i++) {
        snprintf(cfg[ncfg].name, sizeof cfg[0].name, "-%s", sandbox_layer_name(tested[i]));
        cfg[ncfg].layers = SANDBOX_ALL & ~tested[i];
        cfg[ncfg++].alone = 0;
    }

    for (int c = 0; c < ncfg; c++) {
        for (int i = 0; i < NATT; i++) {
            struct attack *at = &attacks[i];
            int v;
            /* kill_all / fork bomb / etc. are made harmless in the attempt itself; the
             * ones with `needs` only run where one of those layers is on */
            if (at->needs && !(cfg[c].layers & at->needs)) {
                verdict[i][c] = V_SKIP;
                continue;
            }
            /* the slow attempts only run where their result is asserted */
            if ((at->fn == a_sleep && c != 0) ||
                (at->fn == a_cpuspin && c != 0 && cfg[c].alone != L(RLIMITS) &&
                 cfg[c].layers != (SANDBOX_ALL & ~L(RLIMITS)))) {
                verdict[i][c] = V_SKIP;
                continue;
            }
            v = run_one(i, cfg[c].layers, &t, detail, sizeof detail);
            verdict[i][c] = v;
            if (at->flags & CONTROL) {
                if (c == 0 || cfg[c].alone)
                    ok(v == V_ESCAPED, "%s works under %s (control): %s", at->name, cfg[c].name,
                       detail);
            } else if (c == 0) {
                ok(v != V_ESCAPED && v != V_ERR, "all layers block %s: %c %s", at->name, vch[v],
                   detail);
            } else if (cfg[c].alone && (at->by & cfg[c].alone)) {
                ok(v != V_ESCAPED && v != V_ERR, "%s alone blocks %s: %c %s", cfg[c].name, at->name,
                   vch[v], detail);
            }
        }
    }

    /* no layers at all: attempts must be able to escape (so the assertions can fail) */
    {
        int escaped = 0;
        for (int i = 0; i < NATT; i++) {
            if (attacks[i].needs || attacks[i].fn == a_sleep || attacks[i].fn == a_cpuspin)
                continue;
            int v = run_one(i, 0, &t, detail, sizeof detail);
            escaped += v == V_ESCAPED;
            printf("# no layers: %-18s %c %s\n", attacks[i].name, vch[v], detail);
        }
        ok(escaped >= 25, "with no layer, %d attempts escape (the suite can fail)", escaped);
    }

    printf("# matrix: E escaped, b blocked (error), S killed by seccomp (SIGSYS), k killed, - "
           "not run, ? spawn failed\n# %-18s",
           "attempt");
    for (int c = 0; c < ncfg; c++)
        printf(" %d", c % 10);
    printf("\n");
    for (int i = 0; i < NATT; i++) {
        printf("# %-18s", attacks[i].name);
        for (int c = 0; c < ncfg; c++)
            printf(" %c", vch[verdict[i][c]]);
        printf("\n");
    }
    for (int c = 0; c < ncfg; c++)
        printf("# column %d: %s\n", c, cfg[c].name);
    {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        (void)!system(cmd);
    }
    return tap_done();
}
