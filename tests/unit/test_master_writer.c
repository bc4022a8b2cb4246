/* master_writer: the writer thread runs tasks in push order, never while the
 * loop holds the state, and sync means every pushed task has run; the
 * helper thread serves every poke. */
#include "master_writer.h"
#include "tap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct state {
    int order[2000];
    int n;              /* tasks run, in order[] */
    atomic_int inside;  /* a task is running */
    atomic_int overlap; /* a task ran while the loop held the state */
    atomic_int loop_holds;
    atomic_int ticks;
};

struct task {
    struct state *s;
    int seq;
};

static void run_task(void *arg)
{
    struct task *t = arg;

    atomic_store(&t->s->inside, 1);
    if (atomic_load(&t->s->loop_holds))
        atomic_store(&t->s->overlap, 1);
    if (t->seq % 97 == 0)
        usleep(2000); /* now and then a slow one: a commit */
    t->s->order[t->s->n++] = t->seq;
    atomic_store(&t->s->inside, 0);
    free(t);
}

static void tick(void *arg)
{
    struct state *s = arg;
    atomic_fetch_add(&s->ticks, 1);
}

static void push(struct mwriter *w, struct state *s, int seq)
{
    struct task *t = malloc(sizeof *t);
    t->s = s;
    t->seq = seq;
    mwriter_push(w, run_task, t, 100);
}

static atomic_int helper_runs;

static void helper_fn(void *arg)
{
    (void)arg;
    usleep(1000);
    atomic_fetch_add(&helper_runs, 1);
}

int main(void)
{
    static struct state s;
    struct mwriter *w = mwriter_start(8, 1000, 5, tick, &s);
    int seq = 0, in_order = 1, held_idle = 1;

    ok(w != NULL, "writer starts");
    for (int round = 0; round < 20; round++) {
        for (int k = 0; k < 50; k++)
            push(w, &s, seq++); /* more than the queue holds: push waits */
        if (round % 2) {
            mwriter_sync(w);
            if (s.n != seq)
                in_order = 0; /* sync: everything pushed has run */
        } else {
            mwriter_lock(w);
        }
        atomic_store(&s.loop_holds, 1);
        if (atomic_load(&s.inside))
            held_idle = 0;
        usleep(500);
        atomic_store(&s.loop_holds, 0);
        mwriter_unlock(w);
    }
    usleep(30000);
    mwriter_sync(w);
    is_int(s.n, seq, "every task ran once");
    for (int i = 0; i < s.n; i++)
        if (s.order[i] != i)
            in_order = 0;
    ok(in_order, "tasks ran in push order, and sync waited for all of them");
    ok(held_idle && !atomic_load(&s.overlap), "no task ran while the loop held the state");
    ok(atomic_load(&s.ticks) > 0, "the tick ran while the writer was idle");
    /* pushed while the loop holds the state (after a sync): run at once, in order */
    push(w, &s, seq++);
    is_int(s.n, seq, "a push under a held state runs at once");
    mwriter_unlock(w);
    for (int k = 0; k < 30; k++)
        push(w, &s, seq++);
    mwriter_free(w); /* runs what is queued */
    is_int(s.n, seq, "free runs what is still queued");

    /* without a thread, push runs the task at once */
    push(NULL, &s, seq++);
    is_int(s.n, seq, "no writer: the task runs in the caller");

    struct mhelper *h = mhelper_start(helper_fn, NULL);
    ok(h != NULL, "helper starts");
    for (int k = 0; k < 5; k++) {
        mhelper_poke(h);
        mhelper_poke(h);
        mhelper_wait(h);
        ok(atomic_load(&helper_runs) >= k + 1, "wait returns after a run that covers the pokes");
    }
    mhelper_free(h);
    return tap_done();
}
