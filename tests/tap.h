#ifndef TRAWL_TAP_H
#define TRAWL_TAP_H

/*
 * A tiny TAP producer for unit tests: ok(), is_int(), is_str(), then
 * return tap_done() from main. Output is read by ctest through the exit code
 * and by people through the "ok N - ..." lines.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
    va_list ap;

    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!cond)
        tap_failed++;
    fflush(stdout);
    return cond;
}

#define is_int(got, want, ...)                                                                     \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (!ok(g_ == w_, __VA_ARGS__))                                                            \
            printf("#   got %lld, want %lld (%s:%d)\n", g_, w_, __FILE__, __LINE__);               \
    } while (0)

#define is_str(got, want, ...)                                                                     \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__))                           \
            printf("#   got '%s', want '%s' (%s:%d)\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)",    \
                   __FILE__, __LINE__);                                                            \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    if (tap_failed)
        printf("# %d of %d failed\n", tap_failed, tap_n);
    return tap_failed ? 1 : 0;
}

#endif
