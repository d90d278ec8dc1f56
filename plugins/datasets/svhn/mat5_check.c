/* mat5_check.c - a structural check of a MAT-file (version 5) before
 * libmatio reads it. libmatio allocates what a variable's dims claim
 * before reading its data, so a corrupt dims field can ask for hundreds of
 * gigabytes; here every top-level variable must be a numeric array whose
 * dims agree with the bytes its data element really has.
 *
 * libmatio also stops inflating a compressed variable once it has the
 * data, before the zlib stream's Adler-32 trailer: flipped deflate bytes
 * would give garbage pixels. So every compressed element is inflated here
 * to its end (output discarded), which checks that trailer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <nascaps/input.h>

#include "svhn_decode.h"

enum { MI_INT8 = 1, MI_UINT8, MI_INT16, MI_UINT16, MI_INT32, MI_UINT32,
       MI_SINGLE, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64, MI_MATRIX = 14,
       MI_COMPRESSED = 15 };

/* Bytes of the matrix header looked at: flags, dims, name, data tag. */
#define HEAD_MAX 4096
/* deflate cannot expand more than about 1032:1 */
#define INFLATE_RATIO 1032u

typedef struct rd {
    const unsigned char *p;
    size_t len;
    int swap;
} rd;

static uint32_t u32(const rd *r, size_t at)
{
    const unsigned char *b = r->p + at;
    return r->swap ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                         (uint32_t)b[2] << 8 | b[3]
                   : (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
                         (uint32_t)b[1] << 8 | b[0];
}

static size_t mi_size(uint32_t type)
{
    switch (type) {
    case MI_INT8: case MI_UINT8: return 1;
    case MI_INT16: case MI_UINT16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    default: return 0;
    }
}

/* Reads a sub-element tag at *at: small (4 bytes of data in the tag) or
 * normal (padded to 8). Returns 0 when it does not fit in r. */
static int subtag(const rd *r, size_t *at, uint32_t *type, uint32_t *nbytes,
                  size_t *data)
{
    if (r->len - *at < 8 || *at > r->len)
        return 0;
    uint32_t t = u32(r, *at);
    if (t >> 16) {
        *type = t & 0xffff;
        *nbytes = t >> 16;
        if (*nbytes > 4)
            return 0;
        *data = *at + 4;
        *at += 8;
        return 1;
    }
    *type = t;
    *nbytes = u32(r, *at + 4);
    *data = *at + 8;
    size_t padded = ((size_t)*nbytes + 7) & ~(size_t)7;
    if (padded > r->len - *at - 8) {
        /* the data element's bytes need not all be in the header window */
        *at = r->len;
        return 2;
    }
    *at += 8 + padded;
    return 1;
}

/* Checks one matrix whose contents (after its tag) start at r (a window
 * of at most HEAD_MAX bytes) and hold total bytes; bound caps what the
 * data may really be. */
static int check_matrix(const char *path, size_t offset, const rd *r,
                        uint64_t total, char name[64], nc_error *err)
{
    size_t at = 0, d;
    uint32_t type, n;
    snprintf(name, 64, "?");
    if (subtag(r, &at, &type, &n, &d) != 1 || type != MI_UINT32 || n != 8)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable "
                            "without array flags, expected a MAT-file v5 "
                            "numeric array", path, offset);
    uint32_t cls = u32(r, d) & 0xff;
    if (subtag(r, &at, &type, &n, &d) != 1 || type != MI_INT32 || n < 8 ||
        n > 4 * 32 || n % 4)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable "
                            "dimensions malformed, expected 2..32 int32 "
                            "dims", path, offset);
    uint64_t count = 1;
    for (uint32_t i = 0; i < n / 4; i++) {
        uint32_t v = u32(r, d + 4 * i);
        if (v > INT32_MAX || (v && count > UINT64_MAX / 2 / v))
            return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable "
                                "dimension %u is %u, out of range", path,
                                offset, i + 1, v);
        count *= v;
    }
    if (subtag(r, &at, &type, &n, &d) != 1 || type != MI_INT8)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable name "
                            "malformed", path, offset);
    size_t nl = n < 63 ? n : 63;
    for (size_t i = 0; i < nl; i++)
        name[i] = (r->p[d + i] >= 32 && r->p[d + i] < 127) ? (char)r->p[d + i] : '?';
    name[nl] = nl ? '\0' : name[nl];
    if (cls < 6 || cls > 15)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable '%s' "
                            "has MATLAB class %u, expected a numeric array "
                            "(SVHN files hold X and y only)", path, offset,
                            name, cls);
    size_t before = at;
    int got = subtag(r, &at, &type, &n, &d);
    size_t es = mi_size(type);
    if (!got || !es || (uint64_t)n != count * es || before + 8 + (uint64_t)n > total)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable '%s': "
                            "data element of %u bytes (type %u) does not hold "
                            "its %llu elements within the variable's %llu "
                            "bytes", path, offset, name, got ? n : 0,
                            got ? type : 0, (unsigned long long)count,
                            (unsigned long long)total);
    return NC_OK;
}

/* Inflates at most HEAD_MAX bytes of a compressed element's start. */
static size_t inflate_head(FILE *f, uint32_t nbytes, unsigned char *out)
{
    unsigned char in[HEAD_MAX];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return 0;
    uint32_t left = nbytes;
    zs.next_out = out;
    zs.avail_out = HEAD_MAX;
    while (zs.avail_out > 0 && left > 0) {
        size_t want = left < sizeof in ? left : sizeof in;
        size_t got = fread(in, 1, want, f);
        if (got == 0)
            break;
        left -= (uint32_t)got;
        zs.next_in = in;
        zs.avail_in = (uInt)got;
        int zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            break;
    }
    size_t produced = HEAD_MAX - zs.avail_out;
    inflateEnd(&zs);
    return produced;
}

/* Inflates a whole compressed element of nbytes (f at its first byte):
 * the stream must end, Adler-32 checked, with exactly the nbytes and
 * produce exactly out_want bytes. */
static int verify_compressed(const char *path, size_t pos, const char *name,
                             FILE *f, uint32_t nbytes, uint64_t out_want,
                             nc_error *err)
{
    static const size_t chunk = (size_t)1 << 16;
    unsigned char *in = malloc(2 * chunk), *out = in + chunk;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (!in || inflateInit(&zs) != Z_OK) {
        free(in);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    }
    uint32_t left = nbytes;
    uint64_t produced = 0;
    int zr = Z_OK;
    while (zr == Z_OK) {
        if (zs.avail_in == 0) {
            size_t want = left < chunk ? left : chunk;
            size_t got = want ? fread(in, 1, want, f) : 0;
            if (got == 0)
                break;
            left -= (uint32_t)got;
            zs.next_in = in;
            zs.avail_in = (uInt)got;
        }
        zs.next_out = out;
        zs.avail_out = (uInt)chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        produced += chunk - zs.avail_out;
        if (zr == Z_BUF_ERROR && zs.avail_in == 0)
            zr = Z_OK;   /* wants more input */
    }
    uint64_t at = (uint64_t)(nbytes - left) - zs.avail_in;   /* consumed */
    const char *why = zr == Z_STREAM_END ? NULL : zs.msg ? zs.msg : "stream truncated";
    inflateEnd(&zs);
    free(in);
    if (why)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %llu: variable '%s': "
                            "compressed data corrupt: %s", path,
                            (unsigned long long)(pos + 8 + at), name, why);
    if (at != nbytes || produced != out_want)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: variable '%s': "
                            "compressed element of %u bytes ends its stream "
                            "after %llu, inflating to %llu bytes (expected "
                            "%llu)", path, pos, name, nbytes,
                            (unsigned long long)at, (unsigned long long)produced,
                            (unsigned long long)out_want);
    return NC_OK;
}

int svhn_mat5_check(const char *path, nc_error *err)
{
    FILE *f;
    int orc = nc_input_open(path, &f, err);
    if (orc)
        return orc;
    unsigned char hdr[128];
    int rc = NC_OK;
    size_t size = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long s = ftell(f);
        size = s > 0 ? (size_t)s : 0;
    }
    rewind(f);
    if (size < 128 || fread(hdr, 1, 128, f) != 128) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: file ends inside "
                            "the 128-byte MAT-file header", path, size < 128 ? size : 0);
    }
    int swap;
    if (hdr[126] == 'I' && hdr[127] == 'M')
        swap = 0;
    else if (hdr[126] == 'M' && hdr[127] == 'I')
        swap = 1;
    else {
        fclose(f);
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset 126: bad endian "
                            "indicator 0x%02x%02x, expected 'IM' (MAT-file "
                            "version 5)", path, hdr[126], hdr[127]);
    }
    unsigned version = swap ? (unsigned)hdr[124] << 8 | hdr[125]
                            : (unsigned)hdr[125] << 8 | hdr[124];
    if (version != 0x0100) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset 124: MAT-file version "
                            "0x%04x, expected 0x0100 (version 5, as SVHN's files; "
                            "not -v7.3)", path, version);
    }
    size_t pos = 128;
    unsigned char *head = malloc(HEAD_MAX);
    if (!head) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    }
    while (rc == NC_OK && pos < size) {
        unsigned char tag[8];
        if (size - pos < 8 || fseek(f, (long)pos, SEEK_SET) != 0 ||
            fread(tag, 1, 8, f) != 8) {
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: truncated data "
                              "element tag (%zu bytes left, expected 8)", path,
                              pos, size - pos);
            break;
        }
        rd t = {tag, 8, swap};
        uint32_t type = u32(&t, 0), nbytes = u32(&t, 4);
        if (nbytes > size - pos - 8) {
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: data element "
                              "of %u bytes, but only %zu bytes follow", path,
                              pos, nbytes, size - pos - 8);
            break;
        }
        if (type == MI_MATRIX) {
            size_t want = nbytes < HEAD_MAX ? nbytes : HEAD_MAX;
            size_t got = fread(head, 1, want, f);
            rd r = {head, got, swap};
            char name[64];
            rc = check_matrix(path, pos, &r, nbytes, name, err);
        } else if (type == MI_COMPRESSED) {
            size_t got = inflate_head(f, nbytes, head);
            rd r = {head, got, swap};
            uint32_t itype = got >= 8 ? u32(&r, 0) : 0;
            uint64_t inner = got >= 8 ? u32(&r, 4) : 0;
            if (itype != MI_MATRIX || inner > (uint64_t)nbytes * INFLATE_RATIO + 64) {
                rc = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: compressed "
                                  "element does not hold a matrix (inner type %u, "
                                  "%llu bytes from %u compressed)", path, pos,
                                  itype, (unsigned long long)inner, nbytes);
            } else {
                rd body = {head + 8, got - 8, swap};
                char name[64];
                rc = check_matrix(path, pos, &body, inner, name, err);
                if (rc == NC_OK && fseek(f, (long)pos + 8, SEEK_SET) != 0)
                    rc = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: "
                                      "cannot seek", path, pos + 8);
                if (rc == NC_OK)
                    rc = verify_compressed(path, pos, name, f, nbytes,
                                           inner + 8, err);
            }
        } else {
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: data element "
                              "type %u, expected a matrix (14) or a compressed "
                              "matrix (15)", path, pos, type);
        }
        pos += 8 + (size_t)nbytes;
    }
    free(head);
    fclose(f);
    return rc;
}
