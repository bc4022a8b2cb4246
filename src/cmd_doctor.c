/* trawl doctor: which sandbox layers this machine supports. */
#include "cli.h"

#include <getopt.h>

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    return cli_fail("doctor: the sandbox is not built yet");
}
