/* nascaps/error.h - status codes and the error record every API fills.
 *
 * Library code never prints and never exits: a failing call returns a
 * status and writes ONE line into a caller-owned nc_error. Only the CLI
 * prints it and chooses the exit code (the status doubles as exit code). */
#ifndef NASCAPS_ERROR_H
#define NASCAPS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Also the exit codes of the `nascaps` command. */
typedef enum nc_status {
    NC_OK = 0,            /* success */
    NC_ERR_INPUT = 1,     /* bad input: config, genotype, data file, plugin */
    NC_ERR_USAGE = 2,     /* bad command line */
    NC_ERR_INTERNAL = 3   /* out of memory, I/O failure, a bug */
} nc_status;

#define NC_ERROR_MAX 1024

typedef struct nc_error {
    int status;               /* an nc_status; NC_OK when nothing failed */
    char msg[NC_ERROR_MAX];   /* one line, no trailing newline */
} nc_error;

/* Clears err (NULL allowed). */
void nc_error_clear(nc_error *err);

/* Sets status and message (printf-style); returns status so callers can
 * write `return nc_error_set(err, NC_ERR_INPUT, "...")`. err may be NULL.
 * Newlines in the formatted text are replaced by spaces: one line. */
int nc_error_set(nc_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int nc_error_vset(nc_error *err, int status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Prepends "PREFIX: " to the message already in err (keeps the status). */
int nc_error_prefix(nc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
