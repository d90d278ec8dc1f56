/* file.c - whole-file reading for dataset plugins (gzip or raw).
 *
 * inflate is driven directly (not gzread) so that an error can name the
 * exact byte of the compressed file where the stream went wrong, and so
 * that the CRC, the length trailer and anything after the stream are
 * always checked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nascaps/dataset.h"
#include "nascaps/input.h"

#define IN_CHUNK ((size_t)1 << 18)

typedef struct growbuf {
    unsigned char *data;
    size_t len, cap, max;
} growbuf;

/* Room for at least one more byte; 0 at max (+1 so that a file of exactly
 * max bytes is told from a larger one), -1 out of memory. */
static int grow(growbuf *b)
{
    if (b->len < b->cap)
        return 1;
    if (b->cap >= b->max + 1)
        return 0;
    size_t n = b->cap ? b->cap * 2 : ((size_t)1 << 16);
    if (n > b->max + 1 || n < b->cap)
        n = b->max + 1;
    unsigned char *d = realloc(b->data, n);
    if (!d)
        return -1;
    b->data = d;
    b->cap = n;
    return 1;
}

/* consumed: compressed bytes read so far, or SIZE_MAX for a raw file */
static int too_big(const char *path, const growbuf *b, size_t consumed,
                   nc_error *err, int g)
{
    if (g < 0)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory after "
                            "%zu bytes", path, b->len);
    if (consumed == SIZE_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "%s: larger than %zu bytes",
                            path, b->max);
    return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: decompresses to "
                        "more than %zu bytes", path, consumed, b->max);
}

static int read_raw(const char *path, FILE *f, growbuf *b, nc_error *err)
{
    for (;;) {
        int g = grow(b);
        if (g <= 0)
            return too_big(path, b, SIZE_MAX, err, g);
        size_t got = fread(b->data + b->len, 1, b->cap - b->len, f);
        b->len += got;
        if (got == 0) {
            if (ferror(f))
                return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: read "
                                    "error: %s", path, b->len, strerror(errno));
            break;
        }
    }
    if (b->len > b->max)
        return too_big(path, b, SIZE_MAX, err, 0);
    return NC_OK;
}

static int read_gzip(const char *path, FILE *f, growbuf *b, nc_error *err)
{
    unsigned char *in = malloc(IN_CHUNK);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (!in || inflateInit2(&zs, 15 + 16) != Z_OK) {
        free(in);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    }
    size_t consumed = 0;   /* compressed bytes inflate has taken */
    int status = NC_OK, ended = 0, at_eof = 0;
    for (;;) {
        if (zs.avail_in == 0 && !at_eof) {
            size_t got = fread(in, 1, IN_CHUNK, f);
            if (got == 0 && ferror(f)) {
                status = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: read "
                                      "error: %s", path, consumed, strerror(errno));
                break;
            }
            at_eof = got < IN_CHUNK;
            zs.next_in = in;
            zs.avail_in = (uInt)got;
        }
        if (ended) {
            /* another gzip member may follow (concatenated streams are
             * valid gzip); anything else is not this format */
            if (zs.avail_in == 0 && at_eof)
                break;
            if (zs.next_in[0] != 0x1f) {
                status = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: data "
                                      "after the end of the gzip stream", path,
                                      consumed);
                break;
            }
            inflateReset(&zs);
            ended = 0;
        }
        int g = grow(b);
        if (g <= 0) {
            status = too_big(path, b, consumed, err, g);
            break;
        }
        zs.next_out = b->data + b->len;
        zs.avail_out = (uInt)(b->cap - b->len > ((size_t)1 << 30)
                                  ? ((size_t)1 << 30) : b->cap - b->len);
        uInt before_in = zs.avail_in, before_out = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        consumed += before_in - zs.avail_in;
        b->len += before_out - zs.avail_out;
        if (zr == Z_STREAM_END) {
            ended = 1;
            continue;
        }
        if (zr == Z_BUF_ERROR && zs.avail_in == 0 && at_eof) {
            status = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: gzip "
                                  "stream truncated (%zu bytes decompressed)",
                                  path, consumed, b->len);
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            status = nc_error_set(err, zr == Z_MEM_ERROR ? NC_ERR_INTERNAL
                                                          : NC_ERR_INPUT,
                                  "%s: offset %zu: gzip data error: %s (%zu "
                                  "bytes decompressed)", path, consumed,
                                  zs.msg ? zs.msg : "corrupt stream", b->len);
            break;
        }
    }
    if (status == NC_OK && b->len > b->max)
        status = too_big(path, b, consumed, err, 0);
    inflateEnd(&zs);
    free(in);
    return status;
}

int nc_dataset_read_file(const char *path, size_t max_bytes,
                         unsigned char **data, size_t *len, int *gzip,
                         nc_error *err)
{
    *data = NULL;
    *len = 0;
    if (gzip)
        *gzip = 0;
    FILE *f;
    int orc = nc_input_open(path, &f, err);
    if (orc)
        return orc;
    unsigned char magic[2];
    size_t m = fread(magic, 1, 2, f);
    int gz = m == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    growbuf b = {NULL, 0, 0, max_bytes};
    if (gz && fseek(f, -4, SEEK_END) == 0) {
        /* The gzip trailer's size (mod 2^32) sizes the buffer up front,
         * saving the copies of growing it; trusted only up to 8x the
         * compressed size, so a corrupt trailer cannot make us allocate
         * much. */
        long csize = ftell(f) + 4;
        unsigned char t[4];
        if (csize > 0 && fread(t, 1, 4, f) == 4) {
            size_t hint = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 |
                          (size_t)t[3] << 24;
            size_t cap = (size_t)csize * 8;
            hint = hint < cap ? hint : cap;
            hint = hint < max_bytes ? hint + 1 : max_bytes + 1;
            if (hint > ((size_t)1 << 16) && (b.data = malloc(hint)))
                b.cap = hint;
        }
    }
    rewind(f);
    int status = gz ? read_gzip(path, f, &b, err) : read_raw(path, f, &b, err);
    fclose(f);
    if (status != NC_OK) {
        free(b.data);
        return status;
    }
    if (!b.data && !(b.data = malloc(1))) 
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    *data = b.data;
    *len = b.len;
    if (gzip)
        *gzip = gz;
    return NC_OK;
}

/* Errors here are left for nc_dataset_read_file to report with their
 * offsets: the head is only what the data starts with, as far as it goes. */
int nc_dataset_read_head(const char *path, unsigned char *head, size_t n,
                         size_t *got, int *gzip, nc_error *err)
{
    *got = 0;
    if (gzip)
        *gzip = 0;
    FILE *f;
    int rc = nc_input_open(path, &f, err);
    if (rc)
        return rc;
    unsigned char in[4096];
    size_t m = fread(in, 1, sizeof in, f);
    if (!(m >= 2 && in[0] == 0x1f && in[1] == 0x8b)) {
        size_t k = m < n ? m : n;
        memcpy(head, in, k);
        if (k < n)
            k += fread(head + k, 1, n - k, f);
        *got = k;
        fclose(f);
        return NC_OK;
    }
    if (gzip)
        *gzip = 1;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    }
    zs.next_out = head;
    zs.avail_out = (uInt)n;
    zs.next_in = in;
    zs.avail_in = (uInt)m;
    while (zs.avail_out > 0) {
        if (zs.avail_in == 0) {
            m = fread(in, 1, sizeof in, f);
            if (m == 0)
                break;
            zs.next_in = in;
            zs.avail_in = (uInt)m;
        }
        int zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK)
            break;   /* end of the first member, or an error reported later */
    }
    *got = n - zs.avail_out;
    inflateEnd(&zs);
    fclose(f);
    return NC_OK;
}
