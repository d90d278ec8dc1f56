/* error.c - the one-line error record. */
#include <stdio.h>
#include <string.h>

#include "nascaps/error.h"

void nc_error_clear(nc_error *err)
{
    if (err) {
        err->status = NC_OK;
        err->msg[0] = '\0';
    }
}

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

int nc_error_vset(nc_error *err, int status, const char *fmt, va_list ap)
{
    if (err) {
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        one_line(err->msg);
    }
    return status;
}

int nc_error_set(nc_error *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nc_error_vset(err, status, fmt, ap);
    va_end(ap);
    return status;
}

int nc_error_prefix(nc_error *err, const char *fmt, ...)
{
    char prefix[NC_ERROR_MAX], old[NC_ERROR_MAX];
    va_list ap;
    if (!err)
        return NC_OK;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    one_line(err->msg);
    return err->status;
}
