#ifndef TRAWL_NETLOOP_H
#define TRAWL_NETLOOP_H

/*
 * libcurl's multi interface inside the master's poll() loop: drivers add
 * easy handles, the master polls the sockets libcurl asks for and calls
 * netloop_process(); each finished transfer calls its done callback. No
 * transfer blocks the loop, and connections are reused across transfers.
 */

#include <curl/curl.h>
#include <poll.h>

struct netloop;

struct netloop *netloop_new(void);
void netloop_free(struct netloop *nl);

/** Called once per finished transfer; the easy handle is removed but not freed. */
typedef void (*netloop_done_fn)(void *arg, CURL *easy, CURLcode result);

/** Starts a transfer. Returns 0, or -1 when libcurl refuses it. */
int netloop_add(struct netloop *nl, CURL *easy, netloop_done_fn done, void *arg);

/** Cancels a transfer that has not finished (its done callback is not called). */
void netloop_cancel(struct netloop *nl, CURL *easy);

/** Fills up to max pollfds with the sockets libcurl waits on; returns how many. */
int netloop_fds(struct netloop *nl, struct pollfd *fds, int max);

/** Milliseconds until libcurl needs a timeout call, or -1. */
int netloop_timeout_ms(struct netloop *nl);

/** Acts on the revents of the pollfds netloop_fds gave, and on expired timers. */
void netloop_process(struct netloop *nl, const struct pollfd *fds, int n);

/** A timer callback (backoff, rate budget); runs from netloop_process(). */
typedef void (*netloop_timer_fn)(void *arg);

/** Calls fn(arg) once, ms milliseconds from now. Returns 0 or -1. */
int netloop_timer(struct netloop *nl, long ms, netloop_timer_fn fn, void *arg);

/** Cancels the timers that would call fn(arg). */
void netloop_timer_cancel(struct netloop *nl, netloop_timer_fn fn, void *arg);

/** Transfers in flight. */
int netloop_active(const struct netloop *nl);

#endif
