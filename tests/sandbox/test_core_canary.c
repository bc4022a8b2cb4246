/*
 * No secrets in children: plant a random secret in our heap after the zygote
 * started, start a confined child, and search all of its readable memory
 * (from here, through /proc/PID/maps and /proc/PID/mem). The secret must be
 * absent. Control: a child forked from this process (layer zygote off) does
 * hold it, so the search itself works. Also checks the environment secret
 * ctest puts in our environment (TRAWL_TEST_CANARY_ENV) never reaches a child.
 */
#include "sandbox.h"
#include "tap.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

static int idle_child(int fd, void *arg)
{
    char b;
    (void)arg;
    if (write(fd, "r", 1) != 1)
        return 2;
    while (read(fd, &b, 1) > 0) /* until the parent closes its end */
        ;
    return 0;
}

/* 1 found, 0 not found, -1 could not read the child's memory at all */
static int child_holds(pid_t pid, const char *needle, size_t nlen, size_t *scanned)
{
    char path[64], line[512];
    FILE *maps;
    int mem, found = 0;

    *scanned = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    maps = fopen(path, "r");
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    mem = open(path, O_RDONLY | O_CLOEXEC);
    if (!maps || mem < 0) {
        if (maps)
            fclose(maps);
        if (mem >= 0)
            close(mem);
        return -1;
    }
    while (!found && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
            continue;
        if (strstr(line, "[vvar") || strstr(line, "[vsyscall]"))
            continue;
        size_t len = hi - lo;
        if (len > (256u << 20)) /* sanitizer shadow reservations: never touched */
            continue;
        char *buf = malloc(len);
        if (!buf)
            continue;
        ssize_t n = pread(mem, buf, len, (off_t)lo);
        if (n > 0) {
            *scanned += (size_t)n;
            if (memmem(buf, (size_t)n, needle, nlen))
                found = 1;
        }
        /* don't leave our own copy of the needle lying around in a freed block
         * that a later control child could inherit by accident */
        memset(buf, 0, len);
        free(buf);
    }
    fclose(maps);
    close(mem);
    return found;
}

static int run_and_search(const char *ws, unsigned layers, const char *needle, size_t nlen,
                          const char *what)
{
    struct sandbox_opts o;
    struct sandbox_child c;
    char err[400], b = 0;
    struct pollfd p;
    size_t scanned = 0;
    int found, status = -1;

    sandbox_opts_init(&o);
    o.workspace = ws;
    o.layers = layers;
    if (!ok(sandbox_spawn(&o, idle_child, NULL, 0, &c, err, sizeof err) == 0, "%s: spawn", what)) {
        printf("#   %s\n", err);
        return -1;
    }
    p.fd = c.fd;
    p.events = POLLIN;
    ok(poll(&p, 1, 10000) == 1 && read(c.fd, &b, 1) == 1 && b == 'r', "%s: child ready (%s)", what,
       c.layers_str);
    found = child_holds(c.pid, needle, nlen, &scanned);
    ok(found >= 0 && scanned > 0, "%s: read %zu bytes of the child's memory", what, scanned);
    sandbox_child_release(&c);
    sandbox_wait(&c, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: child exited 0", what);
    return found;
}

int main(void)
{
    char err[400], ws[] = "/tmp/trawl-canary-XXXXXX";
    unsigned char rnd[16];
    const char *envsecret;
    char *secret;

    if (sandbox_zygote_start(err, sizeof err) < 0) {
        ok(0, "zygote starts: %s", err);
        return tap_done();
    }
    ok(sandbox_zygote_running(), "zygote running");
    /* the secret, made after the zygote, as the master loads credentials */
    secret = malloc(64);
    if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
        return 1;
    strcpy(secret, "CANARY-");
    for (int i = 0; i < 16; i++)
        snprintf(secret + 7 + 2 * i, 3, "%02x", rnd[i]);
    if (!mkdtemp(ws))
        return 1;

    ok(run_and_search(ws, SANDBOX_ALL, secret, strlen(secret), "zygote child") == 0,
       "the heap secret is not in a zygote child");
    envsecret = getenv("TRAWL_TEST_CANARY_ENV");
#ifdef __SANITIZE_ADDRESS__
    /* the sanitizer runtime keeps its own copy of /proc/self/environ */
    envsecret = NULL;
    printf("# skip: environment secret under ASan\n");
#else
    if (ok(envsecret && strlen(envsecret) > 8, "ctest set the environment secret"))
        ok(run_and_search(ws, SANDBOX_ALL, envsecret, strlen(envsecret), "zygote child (env)") == 0,
           "the environment secret is not in a zygote child");
#endif
    (void)envsecret;
    /* control: without the zygote the child is a copy of us, secret included */
    ok(run_and_search(ws, SANDBOX_ALL & ~SANDBOX_ZYGOTE, secret, strlen(secret), "forked child") ==
           1,
       "control: the secret IS found in a child forked from the caller");

    rmdir(ws);
    free(secret);
    sandbox_zygote_stop();
    return tap_done();
}
