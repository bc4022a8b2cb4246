#include "netloop.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NETLOOP_MAX_SOCKETS 1024

struct netloop {
    CURLM *multi;
    struct {
        curl_socket_t fd;
        int what; /* CURL_POLL_IN / OUT / INOUT */
    } socks[NETLOOP_MAX_SOCKETS];
    int nsocks;
    long timer_ms; /* -1: none */
    struct timespec timer_set;
    int active;
    struct nl_timer {
        struct timespec at;
        netloop_timer_fn fn;
        void *arg;
    } * timers;
    int ntimers, atimers;
};

struct transfer {
    netloop_done_fn done;
    void *arg;
};

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct netloop *nl = userp;
    int i;

    (void)easy, (void)socketp;
    for (i = 0; i < nl->nsocks; i++)
        if (nl->socks[i].fd == s)
            break;
    if (what == CURL_POLL_REMOVE) {
        if (i < nl->nsocks)
            nl->socks[i] = nl->socks[--nl->nsocks];
        return 0;
    }
    if (i == nl->nsocks) {
        if (nl->nsocks == NETLOOP_MAX_SOCKETS)
            return -1;
        nl->nsocks++;
    }
    nl->socks[i].fd = s;
    nl->socks[i].what = what;
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct netloop *nl = userp;

    (void)multi;
    nl->timer_ms = timeout_ms;
    clock_gettime(CLOCK_MONOTONIC, &nl->timer_set);
    return 0;
}

struct netloop *netloop_new(void)
{
    struct netloop *nl = calloc(1, sizeof *nl);

    if (!nl)
        return NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    nl->multi = curl_multi_init();
    nl->timer_ms = -1;
    curl_multi_setopt(nl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(nl->multi, CURLMOPT_SOCKETDATA, nl);
    curl_multi_setopt(nl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(nl->multi, CURLMOPT_TIMERDATA, nl);
    curl_multi_setopt(nl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
    return nl;
}

void netloop_free(struct netloop *nl)
{
    if (!nl)
        return;
    curl_multi_cleanup(nl->multi);
    free(nl->timers);
    free(nl);
}

int netloop_add(struct netloop *nl, CURL *easy, netloop_done_fn done, void *arg)
{
    struct transfer *t = malloc(sizeof *t);

    if (!t)
        return -1;
    t->done = done;
    t->arg = arg;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(nl->multi, easy) != CURLM_OK) {
        free(t);
        return -1;
    }
    nl->active++;
    return 0;
}

void netloop_cancel(struct netloop *nl, CURL *easy)
{
    struct transfer *t = NULL;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    if (curl_multi_remove_handle(nl->multi, easy) == CURLM_OK && t) {
        nl->active--;
        free(t);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    }
}

int netloop_fds(struct netloop *nl, struct pollfd *fds, int max)
{
    int n = 0;

    for (int i = 0; i < nl->nsocks && n < max; i++) {
        fds[n].fd = nl->socks[i].fd;
        fds[n].events = (short)((nl->socks[i].what & CURL_POLL_IN ? POLLIN : 0) |
                                (nl->socks[i].what & CURL_POLL_OUT ? POLLOUT : 0));
        fds[n].revents = 0;
        n++;
    }
    return n;
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static long curl_timeout_ms(struct netloop *nl)
{
    long left;

    if (nl->timer_ms < 0)
        return -1;
    left = nl->timer_ms - elapsed_ms(&nl->timer_set);
    return left < 0 ? 0 : left;
}

int netloop_timeout_ms(struct netloop *nl)
{
    long t = curl_timeout_ms(nl);

    for (int i = 0; i < nl->ntimers; i++) {
        long left = -elapsed_ms(&nl->timers[i].at);
        if (left < 0)
            left = 0;
        if (t < 0 || left < t)
            t = left;
    }
    return t > 0x7fffffff ? 0x7fffffff : (int)t;
}

int netloop_timer(struct netloop *nl, long ms, netloop_timer_fn fn, void *arg)
{
    struct nl_timer *t;

    if (nl->ntimers == nl->atimers) {
        int na = nl->atimers ? nl->atimers * 2 : 16;
        t = realloc(nl->timers, (size_t)na * sizeof *t);
        if (!t)
            return -1;
        nl->timers = t;
        nl->atimers = na;
    }
    t = &nl->timers[nl->ntimers++];
    clock_gettime(CLOCK_MONOTONIC, &t->at);
    t->at.tv_sec += ms / 1000;
    t->at.tv_nsec += (ms % 1000) * 1000000;
    if (t->at.tv_nsec >= 1000000000) {
        t->at.tv_sec++;
        t->at.tv_nsec -= 1000000000;
    }
    t->fn = fn;
    t->arg = arg;
    return 0;
}

void netloop_timer_cancel(struct netloop *nl, netloop_timer_fn fn, void *arg)
{
    for (int i = 0; i < nl->ntimers;)
        if (nl->timers[i].fn == fn && nl->timers[i].arg == arg)
            nl->timers[i] = nl->timers[--nl->ntimers];
        else
            i++;
}

static void run_timers(struct netloop *nl)
{
    for (int i = 0; i < nl->ntimers;) {
        if (elapsed_ms(&nl->timers[i].at) >= 0) {
            struct nl_timer t = nl->timers[i];
            nl->timers[i] = nl->timers[--nl->ntimers];
            t.fn(t.arg); /* may add or cancel timers */
            i = 0;
        } else {
            i++;
        }
    }
}

static void reap(struct netloop *nl)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(nl->multi, &left))) {
        struct transfer *t = NULL;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(nl->multi, easy);
        nl->active--;
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        if (t) {
            netloop_done_fn done = t->done;
            void *arg = t->arg;
            free(t);
            done(arg, easy, rc); /* may add new transfers */
        }
    }
}

void netloop_process(struct netloop *nl, const struct pollfd *fds, int n)
{
    int running;

    for (int i = 0; i < n; i++) {
        int ev = 0;
        if (!fds[i].revents)
            continue;
        if (fds[i].revents & POLLIN)
            ev |= CURL_CSELECT_IN;
        if (fds[i].revents & POLLOUT)
            ev |= CURL_CSELECT_OUT;
        if (fds[i].revents & (POLLERR | POLLHUP))
            ev |= CURL_CSELECT_ERR;
        curl_multi_socket_action(nl->multi, fds[i].fd, ev, &running);
    }
    if (nl->timer_ms >= 0 && curl_timeout_ms(nl) == 0) {
        nl->timer_ms = -1;
        curl_multi_socket_action(nl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    reap(nl);
    run_timers(nl);
}

int netloop_active(const struct netloop *nl)
{
    return nl->active;
}
