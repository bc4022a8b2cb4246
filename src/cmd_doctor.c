/* trawl doctor: which sandbox layers this machine supports, tried for real. */
#include "cli.h"
#include "sandbox.h"
#include "worker.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'J'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const struct cli_command *cmd = cli_find("doctor");
    struct sandbox_probe_result r;
    char zerr[200];
    int json = 0, c;

    (void)cli;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'J')
            json = 1;
        else if (c == 'h')
            return cli_help(cmd);
        else
            return cli_usage(cmd, "unknown option");
    }
    if (optind != argc)
        return cli_usage(cmd, "no arguments expected");
    /* as onboarding does: children come from a zygote */
    if (sandbox_zygote_start(zerr, sizeof zerr) < 0)
        fprintf(stderr, "trawl: %s\n", zerr);
    if (sandbox_probe(&r) < 0 && !r.supported)
        fprintf(stderr, "trawl: no confined child could start: %s\n", r.why[0]);
    if (json) {
        sandbox_probe_print_json(&r, stdout);
        printf("\n");
    } else {
        sandbox_probe_print(&r, stdout);
    }
    return sandbox_probe_strict_ok(&r) ? EXIT_OK : EXIT_FAIL;
}
