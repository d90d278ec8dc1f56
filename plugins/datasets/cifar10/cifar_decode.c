/* cifar_decode.c - CIFAR binary records: sizes and labels checked, pixels
 * turned from channel-planar (RRR..GGG..BBB) into NHWC. */
#include <stdlib.h>
#include <string.h>

#include <nascaps/dataset.h>

#include "cifar_decode.h"

/* The real files are 30 MB (CIFAR-10) and 150 MB (CIFAR-100 train). */
#define CIFAR_MAX_FILE ((size_t)1 << 31)

void cifar_set_free(cifar_set *set)
{
    free(set->pixels);
    free(set->labels);
    memset(set, 0, sizeof *set);
}

int cifar_load_file(const char *path, const cifar_format *fmt, cifar_set *set,
                    nc_error *err)
{
    unsigned char *buf;
    size_t len;
    int rc = nc_dataset_read_file(path, CIFAR_MAX_FILE, &buf, &len, NULL, err);
    if (rc != NC_OK)
        return rc;
    size_t rec = (size_t)fmt->label_bytes + CIFAR_PIXELS;
    if (len == 0 || len % rec != 0) {
        nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: size %zu bytes is not "
                     "a positive multiple of the %zu-byte %s record (%d label "
                     "byte%s + %d pixel bytes)", path, len - len % rec, len,
                     rec, fmt->name, fmt->label_bytes,
                     fmt->label_bytes == 1 ? "" : "s", CIFAR_PIXELS);
        free(buf);
        return NC_ERR_INPUT;
    }
    size_t n = len / rec;
    for (size_t i = 0; i < n; i++) {
        unsigned lab = buf[i * rec + (size_t)fmt->label_index];
        if (lab >= (unsigned)fmt->classes) {
            nc_error_set(err, NC_ERR_INPUT, "%s: offset %zu: label %u out of "
                         "range, expected 0..%d (record %zu)", path,
                         i * rec + (size_t)fmt->label_index, lab,
                         fmt->classes - 1, i);
            free(buf);
            return NC_ERR_INPUT;
        }
    }
    size_t total = (size_t)set->count + n;
    uint8_t *px = realloc(set->pixels, total * CIFAR_PIXELS);
    if (px)
        set->pixels = px;
    uint8_t *lb = px ? realloc(set->labels, total) : NULL;
    if (!px || !lb) {
        free(buf);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory for %zu "
                            "images", path, total);
    }
    set->labels = lb;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r = buf + i * rec;
        const unsigned char *planes = r + fmt->label_bytes;
        uint8_t *o = set->pixels + ((size_t)set->count + i) * CIFAR_PIXELS;
        for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
            for (int c = 0; c < 3; c++)
                o[p * 3 + c] = planes[c * CIFAR_SIDE * CIFAR_SIDE + p];
        set->labels[(size_t)set->count + i] = r[fmt->label_index];
    }
    set->count = (int64_t)total;
    free(buf);
    return NC_OK;
}
