/* The table of drivers: adding one is a row here and a driver_*.c file. */
#include "driver.h"

#include <stdio.h>
#include <string.h>

extern const struct driver_ops driver_fs_ops;
extern const struct driver_ops driver_archive_ops;
extern const struct driver_ops driver_imap_ops;
extern const struct driver_ops driver_http_ops;
int driver_http_check(const json_t *toolkit, char *where, size_t wherelen, char *err,
                      size_t errlen);

static const struct driver_ops *const drivers[] = {
    &driver_fs_ops,
    &driver_archive_ops,
    &driver_imap_ops,
    &driver_http_ops,
};

const char *driver_names(void)
{
    static char names[256];
    size_t off = 0;

    if (names[0])
        return names;
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0] && off < sizeof names; i++)
        off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", i ? ", " : "",
                                drivers[i]->name);
    return names;
}

const struct driver_ops *driver_find(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

/* Drivers with a section of their own in a toolkit, and its check. */
static const struct {
    const char *driver;
    int (*check)(const json_t *toolkit, char *where, size_t wherelen, char *err, size_t errlen);
} checks[] = {
    {"http", driver_http_check},
};

int driver_check_toolkit(const char *driver, const json_t *toolkit, char *where, size_t wherelen,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (driver && strcmp(checks[i].driver, driver) == 0)
            return checks[i].check(toolkit, where, wherelen, err, errlen);
    return 0;
}
