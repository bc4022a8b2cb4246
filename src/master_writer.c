/*
 * The master's writer thread (see master_writer.h). One mutex guards the
 * queue and who holds the shared state; one condition variable wakes whoever
 * waits (there are only two threads). Wake-ups are what costs with small
 * documents (a futex call and two context switches each): the loop wakes a
 * sleeping writer only once a batch is queued (or when it waits for it),
 * the writer wakes the loop only when the loop waits.
 */
#include "master_writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum { HELD_NONE, HELD_WRITER, HELD_LOOP };

/* A sleeping writer is woken when this many tasks or bytes are queued; fewer
 * wait for its tick (MASTER_TICK_MS) or for the loop to wait on them. */
#define MWRITER_WAKE_ITEMS 64
#define MWRITER_WAKE_BYTES ((size_t)1 << 20)

struct mwriter_task {
    mwriter_fn fn;
    void *arg;
    size_t bytes;
    struct mwriter_task *next;
};

struct mwriter {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct mwriter_task *head, *tail;
    size_t n, bytes, max_items, max_bytes;
    int held;  /* HELD_*: who has the shared state */
    int wants; /* the loop waits for the state: the writer takes no new task */
    int stop;
    int writer_sleeps; /* the writer waits on cv */
    int loop_waits;    /* the loop waits on cv */
    int tick_ms;
    mwriter_fn tick;
    void *tick_arg;
};

static void deadline_in(struct timespec *t, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static int passed(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *mwriter_main(void *arg)
{
    struct mwriter *w = arg;
    struct timespec tick_at;

    deadline_in(&tick_at, w->tick_ms);
    pthread_mutex_lock(&w->mu);
    for (;;) {
        if (w->held == HELD_NONE && !w->wants && passed(&tick_at)) {
            w->held = HELD_WRITER;
            pthread_mutex_unlock(&w->mu);
            if (w->tick)
                w->tick(w->tick_arg);
            pthread_mutex_lock(&w->mu);
            w->held = HELD_NONE;
            deadline_in(&tick_at, w->tick_ms);
            if (w->loop_waits)
                pthread_cond_broadcast(&w->cv);
            continue;
        }
        if (w->head && w->held == HELD_NONE && !w->wants) {
            struct mwriter_task *t = w->head;
            w->head = t->next;
            if (!w->head)
                w->tail = NULL;
            w->held = HELD_WRITER;
            pthread_mutex_unlock(&w->mu);
            t->fn(t->arg);
            pthread_mutex_lock(&w->mu);
            w->n--;
            w->bytes -= t->bytes;
            w->held = HELD_NONE;
            free(t);
            if (w->loop_waits)
                pthread_cond_broadcast(&w->cv);
            continue;
        }
        if (w->stop && !w->head && w->held == HELD_NONE)
            break;
        w->writer_sleeps = 1;
        pthread_cond_timedwait(&w->cv, &w->mu, &tick_at);
        w->writer_sleeps = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct mwriter *mwriter_start(size_t max_items, size_t max_bytes, int tick_ms, mwriter_fn tick,
                              void *tick_arg)
{
    struct mwriter *w = calloc(1, sizeof *w);
    pthread_condattr_t ca;

    if (!w)
        return NULL;
    w->max_items = max_items ? max_items : 1;
    w->max_bytes = max_bytes;
    w->tick_ms = tick_ms > 0 ? tick_ms : 1000;
    w->tick = tick;
    w->tick_arg = tick_arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, mwriter_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void mwriter_push(struct mwriter *w, mwriter_fn fn, void *arg, size_t bytes)
{
    struct mwriter_task *t;

    if (!w || !(t = malloc(sizeof *t))) {
        /* no thread (or no memory for its queue): store it now, in order */
        if (w)
            mwriter_sync(w);
        fn(arg);
        if (w)
            mwriter_unlock(w);
        return;
    }
    t->fn = fn;
    t->arg = arg;
    t->bytes = bytes;
    t->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->held == HELD_LOOP) { /* the caller holds the state (after a sync): in order */
        pthread_mutex_unlock(&w->mu);
        free(t);
        fn(arg);
        return;
    }
    while (w->n >= w->max_items || (w->max_bytes && w->n && w->bytes + bytes > w->max_bytes)) {
        pthread_cond_broadcast(&w->cv); /* a full queue is a batch */
        w->loop_waits++;
        pthread_cond_wait(&w->cv, &w->mu);
        w->loop_waits--;
    }
    if (w->tail)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
    w->n++;
    w->bytes += bytes;
    if (w->writer_sleeps && (w->n >= MWRITER_WAKE_ITEMS || w->bytes >= MWRITER_WAKE_BYTES))
        pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void mwriter_lock(struct mwriter *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->wants++;
    w->loop_waits++;
    while (w->held != HELD_NONE)
        pthread_cond_wait(&w->cv, &w->mu);
    w->loop_waits--;
    w->wants--;
    w->held = HELD_LOOP;
    pthread_mutex_unlock(&w->mu);
}

void mwriter_sync(struct mwriter *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->loop_waits++;
    if (w->head)
        pthread_cond_broadcast(&w->cv); /* the writer may sleep on a small batch */
    while (w->head || w->held != HELD_NONE)
        pthread_cond_wait(&w->cv, &w->mu);
    w->loop_waits--;
    w->held = HELD_LOOP;
    pthread_mutex_unlock(&w->mu);
}

void mwriter_unlock(struct mwriter *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->held = HELD_NONE;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void mwriter_free(struct mwriter *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

struct mhelper {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int poked, stop;
    unsigned long asked, served; /* pokes, and pokes a finished run covered */
    mwriter_fn fn;
    void *arg;
};

static void *mhelper_main(void *arg)
{
    struct mhelper *h = arg;

    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (!h->poked && !h->stop)
            pthread_cond_wait(&h->cv, &h->mu);
        if (h->stop)
            break;
        h->poked = 0;
        unsigned long covers = h->asked;
        pthread_mutex_unlock(&h->mu);
        h->fn(h->arg);
        pthread_mutex_lock(&h->mu);
        h->served = covers;
        pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct mhelper *mhelper_start(mwriter_fn fn, void *arg)
{
    struct mhelper *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    h->fn = fn;
    h->arg = arg;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->thread, NULL, mhelper_main, h) != 0) {
        pthread_cond_destroy(&h->cv);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    return h;
}

void mhelper_poke(struct mhelper *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->poked = 1;
    h->asked++;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void mhelper_wait(struct mhelper *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    while (h->served < h->asked && !h->stop)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

void mhelper_free(struct mhelper *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->stop = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}
