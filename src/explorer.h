#ifndef TRAWL_EXPLORER_H
#define TRAWL_EXPLORER_H

/**
 * The explorer: runs in a sandboxed child with nothing but its workspace and
 * the IPC socket fd. It asks the master for its task (hello), lists and
 * fetches through its toolkit's tools, extracts text, emits documents,
 * checkpoints after each page, posts what it learned to the forum, and
 * returns the process exit status (0 = done).
 */
int explorer_main(int fd, void *arg);

/** Test-only fault injection, read from TRAWL_FAULT in the master and sent with the task. */
enum explorer_fault {
    FAULT_NONE = 0,
    FAULT_CRASH,     /* abort() after the first document */
    FAULT_HANG,      /* sleep forever after the first document */
    FAULT_OVERSIZE,  /* send a frame over the maximum */
    FAULT_FORBIDDEN, /* call a tool outside the toolkit */
    FAULT_GARBAGE,   /* send bytes that are not a frame */
    FAULT_STALL,     /* hang inside the extraction of the first file fetched */
};

#endif
