#ifndef TRAWL_SANDBOX_H
#define TRAWL_SANDBOX_H

/*
 * sandbox: start a C function in a confined child process.
 *
 *     int main(int argc, char **argv)
 *     {
 *         sandbox_zygote_start(err, sizeof err); // first thing: before any secret exists
 *         ...
 *         struct sandbox_opts o;
 *         struct sandbox_child c;
 *         sandbox_opts_init(&o);
 *         o.workspace = "/tmp/trawl-run-x/mail";
 *         if (sandbox_spawn(&o, explorer_fn, &args, sizeof args, &c, err, sizeof err) < 0)
 *             ...;
 *         // talk to the child over c.fd, poll c.pidfd, then:
 *         sandbox_wait(&c, &st, 0);
 *     }
 *
 * The child runs fn(ipc_fd, arg) and exits with its return value. ipc_fd is
 * its end of a connected AF_UNIX SOCK_STREAM socketpair; the parent's end
 * (c.fd) is non-blocking and close-on-exec. The workspace directory is the
 * child's whole filesystem ("/" inside the child when the mount layer is on,
 * else its working directory).
 *
 * No secrets in children: a plain fork copies the caller's memory. When
 * sandbox_zygote_start() ran early, children are forked from that small
 * zygote (made before credentials were loaded; it scrubs its copy of argv and
 * the environment) with CLONE_PARENT, so they are still the caller's own
 * children (waitpid, SIGCHLD and the exit status work as for fork()). fn must
 * therefore be a function of this program (its address is the same in the
 * zygote), and arg is copied: arg_len bytes, handed to fn as a pointer to the
 * child's copy (NULL when arg_len is 0). Without a zygote the child is forked
 * from the caller and layer SANDBOX_ZYGOTE is reported missing.
 *
 * Layers are individually switchable (opts.layers) so tests can run an attack
 * with one layer alone or one layer off. In best-effort mode (strict = 0) a
 * layer the kernel refuses is skipped and left out of c.layers; in strict mode
 * sandbox_spawn fails instead, naming the layer and the reason.
 *
 * Thread-safety: sandbox_spawn is not reentrant (one zygote connection);
 * call it from one thread.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Layers, in the order the child applies them. */
enum sandbox_layer {
    SANDBOX_USERNS =
        1u << 0, /* user ns: inside uid 0 = outside uid uid_base+slot, setgroups deny */
    SANDBOX_MOUNTNS = 1u << 1,   /* mount ns, workspace bind-mounted, pivot_root, old root detached,
                                    nosuid,nodev,noexec */
    SANDBOX_PIDNS = 1u << 2,     /* pid ns: the child is pid 1; killing it kills all it started */
    SANDBOX_NETNS = 1u << 3,     /* net ns: no usable interface */
    SANDBOX_IPCNS = 1u << 4,     /* SysV IPC / POSIX mqueue ns */
    SANDBOX_UTSNS = 1u << 5,     /* hostname "sandbox" */
    SANDBOX_LANDLOCK = 1u << 6,  /* fs beneath the workspace only; TCP denied (ABI>=4); signals and
                                    abstract unix sockets scoped (ABI>=6) */
    SANDBOX_RLIMITS = 1u << 7,   /* AS, CPU, FSIZE, NOFILE from opts; NPROC 0; CORE 0 */
    SANDBOX_FDS = 1u << 8,       /* every fd but the IPC socket closed (close_range) */
    SANDBOX_ENV = 1u << 9,       /* empty environment */
    SANDBOX_CAPS = 1u << 10,     /* bounding, ambient, effective/permitted/inheritable dropped */
    SANDBOX_DUMPABLE = 1u << 11, /* PR_SET_DUMPABLE 0 */
    SANDBOX_PDEATHSIG = 1u << 12, /* SIGKILL when the parent dies */
    SANDBOX_SECCOMP = 1u << 13,   /* no_new_privs + the syscall allowlist (see sandbox.c) */
    SANDBOX_SETUID = 1u << 14,    /* without a user ns, as root: setresuid/gid to uid_base+slot */
    SANDBOX_ZYGOTE = 1u << 15,    /* forked from the clean zygote, not from the caller */
};

/** Every layer. SANDBOX_SETUID is the fallback for SANDBOX_USERNS: active only
 * when the user ns is not. */
#define SANDBOX_ALL 0xffffu
#define SANDBOX_NLAYERS 16

struct sandbox_opts {
    const char *workspace; /* required: an existing directory; chowned to the child's uid */
    unsigned layers;       /* requested layers (SANDBOX_ALL by sandbox_opts_init) */
    int strict;            /* 1: fail if any requested layer cannot be applied */
    /* rlimits (SANDBOX_RLIMITS); 0 = no limit for that resource */
    uint64_t as_bytes;    /* RLIMIT_AS; default 1 GiB */
    uint64_t cpu_secs;    /* RLIMIT_CPU; default 300 */
    uint64_t fsize_bytes; /* RLIMIT_FSIZE; default 1 GiB */
    uint64_t nofile;      /* RLIMIT_NOFILE; default 256 */
    uint64_t nproc;       /* RLIMIT_NPROC; default 0 (cannot fork). Note: counted per outside
                             uid, so it only bites with a distinct uid (user ns or setuid) */
    unsigned uid_base;    /* outside uid/gid = uid_base + slot (root only); default 200000 */
    unsigned uid_count;   /* slots cycle through [0, uid_count); default 100000 */
    int seccomp_log;      /* 1: the filter logs (SCMP_ACT_LOG) instead of killing, for finding
                             a missing syscall; also set by TRAWL_SECCOMP_LOG=1 */
};

struct sandbox_child {
    pid_t pid;            /* in the caller's pid namespace; the caller's child */
    int pidfd;            /* pidfd of the child (-1 if the kernel has none); close-on-exec */
    int fd;               /* the caller's end of the IPC socketpair; non-blocking, close-on-exec */
    unsigned layers;      /* layers actually active in the child */
    uid_t uid;            /* the child's uid as seen from outside */
    char layers_str[192]; /* sandbox_layers_str(layers) */
    char missing[256];    /* best effort: the requested layers that are not active, and why
                             ("landlock: not enabled in this kernel; ..."), or "" */
};

/** Fills o with the defaults: every layer, best effort, the limits above. */
void sandbox_opts_init(struct sandbox_opts *o);

/**
 * Forks the zygote. Call it first thing in main(), before credentials,
 * sources or anything secret is loaded, and before threads exist. Later
 * sandbox_spawn calls use it. Returns 0, or -1 with a message in err (then
 * children are forked from the caller). Calling it twice is a no-op. The
 * zygote exits when the caller does (or on sandbox_zygote_stop).
 */
int sandbox_zygote_start(char *err, size_t errlen);

/** Stops the zygote (children already started keep running). */
void sandbox_zygote_stop(void);

/** Whether a zygote is running (1) or not (0). */
int sandbox_zygote_running(void);

/**
 * Starts fn(ipc_fd, copy of arg) in a new confined child. Returns after the
 * child has applied its layers (or failed to), with c filled in: 0, or -1
 * with a message in err ("strict sandbox: landlock unavailable: ...") and no
 * child left behind. The caller owns c->fd and c->pidfd (sandbox_child_release).
 */
int sandbox_spawn(const struct sandbox_opts *o, int (*fn)(int ipc_fd, void *arg), const void *arg,
                  size_t arg_len, struct sandbox_child *c, char *err, size_t errlen);

/** Sends SIGKILL to the child (through its pidfd when there is one). */
int sandbox_kill(struct sandbox_child *c);

/**
 * Waits for the child and reaps it; *status as from waitpid. flags: 0 or
 * WNOHANG. Returns the pid, 0 (WNOHANG, still running) or -1.
 */
pid_t sandbox_wait(struct sandbox_child *c, int *status, int flags);

/** Closes c->fd and c->pidfd (does not kill or wait). */
void sandbox_child_release(struct sandbox_child *c);

/**
 * Describes how a child ended, telling sandbox violations from crashes:
 * "exited 0", "exited 3", "killed by the sandbox: forbidden system call
 * (SIGSYS)", "killed: CPU time limit (SIGXCPU)", "killed: file size limit
 * (SIGXFSZ)", "killed (SIGKILL)", "crashed (SIGSEGV)". Returns buf.
 */
const char *sandbox_status_str(int status, char *buf, size_t len);

/** 1 if status is a sandbox violation (SIGSYS) or a limit (SIGXCPU, SIGXFSZ). */
int sandbox_status_is_violation(int status);

/** Writes the names of the layers in mask, comma-separated ("userns,mountns,..."),
 * or "none". Returns buf. */
const char *sandbox_layers_str(unsigned mask, char *buf, size_t len);

/** The name of one layer bit ("userns", "landlock", ...), or NULL. */
const char *sandbox_layer_name(unsigned layer);

/** Parses a comma-separated list of layer names ("all", "none", "-seccomp" to remove)
 * into a mask. Returns 0, or -1 on an unknown name. */
int sandbox_layers_parse(const char *s, unsigned *mask);

/* What this machine supports. */
struct sandbox_probe_result {
    unsigned supported;             /* layers the kernel accepts here */
    int landlock_abi;               /* 0 when Landlock is unavailable */
    int is_root;                    /* effective uid 0 */
    char why[SANDBOX_NLAYERS][160]; /* for each layer bit index: why not, or "" */
};

/**
 * Probes each layer (in a short-lived child, so the caller is untouched).
 * Returns 0, or -1 when the probe itself could not run.
 */
int sandbox_probe(struct sandbox_probe_result *r);

/** Writes the probe as text, one line per layer ("landlock  yes  ABI 6"). */
void sandbox_probe_print(const struct sandbox_probe_result *r, void *file /* FILE * */);

/** Writes the probe as a JSON object (no trailing newline). */
void sandbox_probe_print_json(const struct sandbox_probe_result *r, void *file /* FILE * */);

/** 1 if every layer strict mode needs is supported (the ones in SANDBOX_ALL except
 * SANDBOX_SETUID when the user ns works, and SANDBOX_ZYGOTE). */
int sandbox_probe_strict_ok(const struct sandbox_probe_result *r);

/*
 * The layers one by one, for tests (each returns 0 or -1 with errno set and
 * a message in err). They act on the calling process, so call them in a
 * child you forked yourself. sandbox_spawn calls them in this order.
 */
int sandbox_layer_mount(int workspace_fd, char *err, size_t errlen);
int sandbox_layer_uts(char *err, size_t errlen);
int sandbox_layer_rlimits(const struct sandbox_opts *o, char *err, size_t errlen);
int sandbox_layer_landlock(int workspace_fd, int *abi_out, char *err, size_t errlen);
int sandbox_layer_fds(int keep_fd, char *err, size_t errlen); /* keep_fd becomes fd 3 */
int sandbox_layer_env(char *err, size_t errlen);
int sandbox_layer_caps(char *err, size_t errlen);
int sandbox_layer_dumpable(char *err, size_t errlen);
int sandbox_layer_pdeathsig(char *err, size_t errlen);
int sandbox_layer_setuid(uid_t uid, char *err, size_t errlen);
/** Builds the seccomp filter as a BPF program (malloc'd; free it). log: SCMP_ACT_LOG default. */
int sandbox_seccomp_build(int log, int pidns, void **bpf, size_t *len, char *err, size_t errlen);
/** Sets no_new_privs and loads a filter built by sandbox_seccomp_build. */
int sandbox_layer_seccomp(const void *bpf, size_t len, char *err, size_t errlen);

/** The Landlock ABI of the running kernel (0 if none). */
int sandbox_landlock_abi(void);

#endif
