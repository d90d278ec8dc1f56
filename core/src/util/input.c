/* input.c - opening untrusted input files as regular files only, and
 * reading one whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nascaps/input.h"

static const char *kind_of(mode_t m)
{
    if (S_ISFIFO(m))
        return "FIFO";
    if (S_ISDIR(m))
        return "directory";
    if (S_ISCHR(m))
        return "character device";
    if (S_ISBLK(m))
        return "block device";
    if (S_ISSOCK(m))
        return "socket";
    return "special file";
}

int nc_input_open(const char *path, FILE **out, nc_error *err)
{
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer otherwise */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = NC_OK;
    if (fstat(fd, &st) != 0)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: cannot read: a %s, not a regular file", path,
                          kind_of(st.st_mode));
    int flags = rc ? -1 : fcntl(fd, F_GETFL);
    if (!rc &&
        (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || !(*out = fdopen(fd, "rb"))))
        rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot open: %s", path, strerror(errno));
    if (rc)
        close(fd);
    return rc;
}

int nc_input_read_all(const char *path, size_t max, unsigned char **buf, size_t *len,
                      nc_error *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f;
    int rc = nc_input_open(path, &f, err);
    if (rc)
        return rc;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > (uint64_t)max) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INPUT, "%s: not a regular file of at most %zu bytes",
                            path, max);
    }
    size_t n = (size_t)st.st_size;
    *buf = malloc(n ? n : 1);
    if (!*buf) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = fread(*buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        free(*buf);
        *buf = NULL;
        return nc_error_set(err, NC_ERR_INPUT, "%s: read error", path);
    }
    *len = n;
    return NC_OK;
}
