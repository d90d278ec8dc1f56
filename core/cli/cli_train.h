/* cli_train.h - helpers shared by `nascaps train` and `nascaps evaluate`
 * (defined in cmd_train.c). */
#ifndef NASCAPS_CLI_TRAIN_H
#define NASCAPS_CLI_TRAIN_H

#include <jansson.h>

/* Takes "NAME VALUE" or "NAME=VALUE" at argv[*i] (advancing *i): returns
 * 1 when argv[*i] is that option; *rc gets a usage error when its value
 * is missing or given twice. */
int nc_cli_take_value(const char *cmd, const char *name, int argc, char **argv, int *i,
                      const char **value, int *rc);
/* Seconds of a monotonic clock. */
double nc_cli_now(void);

#endif
