#ifndef TRAWL_MASTER_WRITER_H
#define TRAWL_MASTER_WRITER_H

/*
 * The master's writer thread: it runs storage tasks (documents, checkpoints)
 * one after another, in the order they were pushed, while the master's event
 * loop goes on answering the explorers. The tasks share state with the loop
 * (the knowledge base connection, the job records), so the writer hands that
 * state back and forth: a task runs only while the loop does not hold it, and
 * the loop takes it with mwriter_lock (the queue stays where it is) or
 * mwriter_sync (the queue drained first: everything pushed is stored).
 *
 * One thread pushes and locks (the loop); the writer is the only other one.
 */

#include <stddef.h>

struct mwriter;

typedef void (*mwriter_fn)(void *arg);

/**
 * Starts the writer. A push waits while max_items tasks or max_bytes of them
 * are queued (memory stays bounded when storage is the slower side). tick is
 * called (with the shared state held) whenever the writer has been idle for
 * tick_ms or has run tasks for that long, e.g. to commit an open transaction
 * on time. NULL when the thread cannot be started.
 */
struct mwriter *mwriter_start(size_t max_items, size_t max_bytes, int tick_ms, mwriter_fn tick,
                              void *tick_arg);

/**
 * Queues fn(arg), accounted as bytes of memory; waits while the queue is
 * full. With w NULL, or while the caller holds the state (take it with
 * mwriter_sync, so that nothing queued is overtaken), runs fn(arg) at once.
 */
void mwriter_push(struct mwriter *w, mwriter_fn fn, void *arg, size_t bytes);

/** Takes the shared state; queued tasks wait (not run) until mwriter_unlock. */
void mwriter_lock(struct mwriter *w);

/** Waits until every pushed task has run, then takes the shared state. */
void mwriter_sync(struct mwriter *w);

/** Gives the shared state back to the writer. */
void mwriter_unlock(struct mwriter *w);

/** Runs what is queued, stops the thread and frees w (NULL is fine). */
void mwriter_free(struct mwriter *w);

/*
 * A helper thread that runs fn(arg) each time it is poked (pokes that come
 * while it runs are merged into one more run), e.g. to copy the write-ahead
 * log into the database after the writer's commits, off the writer's time.
 */
struct mhelper;

/** Starts the thread; NULL when it cannot be started. */
struct mhelper *mhelper_start(mwriter_fn fn, void *arg);

/** Asks for one more run of fn (does not wait; h NULL is fine). */
void mhelper_poke(struct mhelper *h);

/** Waits until every poke so far has been served by a run of fn. */
void mhelper_wait(struct mhelper *h);

/** Waits for a run in progress, stops the thread and frees h (NULL is fine). */
void mhelper_free(struct mhelper *h);

#endif
