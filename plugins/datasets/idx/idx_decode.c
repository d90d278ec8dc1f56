/* idx_decode.c - IDX parsing: every field checked against the bytes the
 * file really has before it is used. */
#include <stdlib.h>
#include <string.h>

#include <nascaps/dataset.h>

#include "idx_decode.h"

/* IDX files of real datasets are < 100 MB; this only stops a gzip bomb. */
#define IDX_MAX_BYTES ((size_t)1 << 32)

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

/* Checks magic and header of a ubyte IDX file of ndims dims (buf: the
 * file's first len bytes); dims[] gets the sizes, *size the total bytes
 * the header promises. */
static int parse_header(const char *path, const unsigned char *buf, size_t len,
                        int ndims, uint32_t *dims, uint64_t *size, nc_error *err)
{
    size_t header = 4 + 4 * (size_t)ndims;
    uint32_t want = 0x00000800u | (uint32_t)ndims;
    if (len < 4)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: offset %zu: file ends inside the IDX header "
                            "(%zu bytes), expected magic 0x%08x (IDX unsigned "
                            "byte, %d dim%s)", path, len, header, want, ndims,
                            ndims == 1 ? "" : "s");
    uint32_t magic = be32(buf);
    if (magic != want)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: offset 0: bad magic 0x%08x, expected 0x%08x "
                            "(IDX unsigned byte, %d dim%s)", path, magic, want,
                            ndims, ndims == 1 ? "" : "s");
    if (len < header)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: offset %zu: file ends inside the IDX header, "
                            "expected %zu header bytes", path, len, header);
    static const char *const names[] = {"count", "image height", "image width"};
    uint64_t items = 1;
    for (int i = 0; i < ndims; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        uint32_t max = i == 0 ? (uint32_t)INT32_MAX : NC_DATASET_MAX_SIDE;
        if (dims[i] < 1 || dims[i] > max)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: offset %d: %s %u out of range, expected "
                                "1..%u", path, 4 + 4 * i, names[i], dims[i], max);
        items *= dims[i];   /* < 2^31 * 2^12 * 2^12: no overflow */
    }
    *size = header + items;
    return NC_OK;
}

/* Checks the whole file of len bytes against its header. */
static int parse(const char *path, const unsigned char *buf, size_t len,
                 int ndims, uint32_t *dims, nc_error *err)
{
    size_t header = 4 + 4 * (size_t)ndims;
    uint64_t size, items;
    int rc = parse_header(path, buf, len, ndims, dims, &size, err);
    if (rc != NC_OK)
        return rc;
    items = size - header;
    if (len < size) {
        uint64_t per = items / dims[0];
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: offset %zu: truncated: file ends after %llu of "
                            "%u %s, expected %llu bytes", path, len,
                            (unsigned long long)((len - header) / per), dims[0],
                            ndims == 1 ? "labels" : "images",
                            (unsigned long long)size);
    }
    if (len > size)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: offset %llu: %llu bytes after the last %s, "
                            "expected the end of the file", path,
                            (unsigned long long)size,
                            (unsigned long long)(len - size),
                            ndims == 1 ? "label" : "image");
    return NC_OK;
}

void idx_free(idx_file *f)
{
    free(f->file);
    memset(f, 0, sizeof *f);
}

/* Reads the whole file, decompressing no more than its header promises:
 * a gzip bomb stops there, with little memory used. (A raw file's size is
 * what it is: its extra bytes are reported by parse with their count.) */
static int read_bounded(const char *path, int ndims, idx_file *out, size_t *len,
                        nc_error *err)
{
    unsigned char head[16];
    size_t got;
    int gz;
    uint32_t dims[3];
    uint64_t size;
    size_t header = 4 + 4 * (size_t)ndims;
    int rc = nc_dataset_read_head(path, head, header, &got, &gz, err);
    if (rc == NC_OK && got == header)
        rc = parse_header(path, head, got, ndims, dims, &size, err);
    else if (rc == NC_OK)
        size = header;   /* the whole read below names what is wrong */
    if (rc != NC_OK)
        return rc;
    if (!gz || size > IDX_MAX_BYTES)
        size = IDX_MAX_BYTES;
    return nc_dataset_read_file(path, (size_t)size,
                                &out->file, len, &out->gzip, err);
}

int idx_load_images(const char *path, idx_file *out, nc_error *err)
{
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = read_bounded(path, 3, out, &len, err);
    if (rc != NC_OK)
        return rc;
    uint32_t dims[3];
    if ((rc = parse(path, out->file, len, 3, dims, err)) != NC_OK) {
        idx_free(out);
        return rc;
    }
    out->data = out->file + 16;
    out->count = dims[0];
    out->rows = (int)dims[1];
    out->cols = (int)dims[2];
    return NC_OK;
}

int idx_load_labels(const char *path, int classes, int64_t images_count,
                    const char *images_path, idx_file *out, nc_error *err)
{
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = read_bounded(path, 1, out, &len, err);
    if (rc != NC_OK)
        return rc;
    uint32_t n = 0;
    if ((rc = parse(path, out->file, len, 1, &n, err)) != NC_OK) {
        idx_free(out);
        return rc;
    }
    if ((int64_t)n != images_count) {
        nc_error_set(err, NC_ERR_INPUT, "%s: offset 4: %u labels, expected %lld "
                     "(the images in %s)", path, n, (long long)images_count,
                     images_path);
        idx_free(out);
        return NC_ERR_INPUT;
    }
    out->data = out->file + 8;
    out->count = n;
    for (uint32_t i = 0; i < n; i++)
        if (out->data[i] >= classes) {
            nc_error_set(err, NC_ERR_INPUT, "%s: offset %lu: label %u out of "
                         "range, expected 0..%d", path, 8ul + i,
                         (unsigned)out->data[i], classes - 1);
            idx_free(out);
            return NC_ERR_INPUT;
        }
    return NC_OK;
}
