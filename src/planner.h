#ifndef TRAWL_PLANNER_H
#define TRAWL_PLANNER_H

/*
 * The explorer's planner: chooses the next tool call from what the source has
 * shown so far, the patterns other onboardings left in the forum, and the
 * budgets. The explorer owns the protocol, extraction and emitting; the
 * planner only decides. The heuristic planner (planner_heuristic.c) is the
 * one we ship; an LLM planner plugs in through the same operations.
 *
 * One step at a time:
 *   next()    -> PLAN_LIST or PLAN_FETCH: call step.tool with step.args;
 *                PLAN_CHECKPOINT: store step.args as the source's checkpoint
 *                (everything it covers has been emitted); PLAN_DONE: stop.
 *   observe() <- the tool's structuredContent (or the error), and for a fetch
 *                what extraction made of the file.
 *   findings()-> at the end, what to post to the forum.
 */

#include <jansson.h>

enum plan_kind { PLAN_DONE, PLAN_LIST, PLAN_FETCH, PLAN_CHECKPOINT };

struct plan_step {
    enum plan_kind kind;
    const char *tool; /* borrowed from the planner */
    json_t *args;     /* owned by the caller once next() returns (the state for
                         PLAN_CHECKPOINT) */
    json_t *item;     /* PLAN_FETCH: the listing's item (borrowed) */
};

/** What extraction made of one fetched item. */
struct plan_outcome {
    long docs;         /* documents emitted */
    long text_bytes;   /* bytes of text in them */
    long errors;       /* parts with an extraction error */
    const char *error; /* the file failed as a whole (fetch or extraction), or NULL */
};

/** Budgets for one exploration (0 = unlimited). */
struct plan_budget {
    long max_items;      /* items fetched */
    long long max_bytes; /* bytes fetched */
    int max_depth;       /* path components below the source's root */
    double max_seconds;  /* wall time */
};

struct planner_ops {
    const char *name;
    /**
     * task is the master's hello task (explore tools, checkpoint, source type);
     * tools the toolkit's tool schemas; patterns the forum findings for this
     * source type (array, maybe empty). Returns the planner's state or NULL.
     */
    void *(*start)(const json_t *task, const json_t *tools, const json_t *patterns,
                   const struct plan_budget *budget);
    int (*next)(void *st, struct plan_step *step);
    /** result: structuredContent of the call, NULL on error (err says why). */
    void (*observe)(void *st, const struct plan_step *step, const json_t *result, const char *err,
                    const struct plan_outcome *outcome);
    /**
     * Forum posts for the end of the run: an array of {"title", "body",
     * "file_type"?, "pattern"?}; a "pattern" object (e.g. {"skip_types":
     * [...]}) holds no client data and the master may share it globally.
     */
    json_t *(*findings)(void *st);
    void (*free)(void *st);
};

extern const struct planner_ops planner_heuristic;

#endif
