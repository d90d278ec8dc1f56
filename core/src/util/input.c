/* input.c - opening untrusted input files as regular files only. */
#include <errno.h>
#include <fcntl.h>
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
