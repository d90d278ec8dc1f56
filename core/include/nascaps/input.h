/* nascaps/input.h - opening an input file that may come from elsewhere.
 *
 * Data files, genotypes and weights files are untrusted (docs/SECURITY.md):
 * a FIFO given as one would block a reader forever, a device could be read
 * without end. Every reader of such a file opens it through here. */
#ifndef NASCAPS_INPUT_H
#define NASCAPS_INPUT_H

#include <stdio.h>

#include "nascaps/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens path for reading ("rb") into *out when it is a regular file; a
 * symbolic link to a regular file is fine. Anything else is refused
 * without blocking (the open is non-blocking and the type is checked on
 * the open descriptor, so nothing can be swapped in between). Returns
 * NC_OK, or NC_ERR_INPUT with *out NULL and err set to one of:
 *   "PATH: cannot open: REASON"                      (strerror)
 *   "PATH: cannot read: a KIND, not a regular file"  (KIND: FIFO,
 *       directory, character device, block device, socket) */
int nc_input_open(const char *path, FILE **out, nc_error *err);

/* The whole of a regular file of at most max bytes, opened as above:
 * *buf malloc'd (the caller frees), *len its size. Refusals (NC_ERR_INPUT)
 * besides nc_input_open's: "PATH: not a regular file of at most MAX
 * bytes", "PATH: read error". */
int nc_input_read_all(const char *path, size_t max, unsigned char **buf, size_t *len,
                      nc_error *err);

#ifdef __cplusplus
}
#endif
#endif
