/* idx_decode.h - IDX (MNIST-format) files, decoded once into memory. */
#ifndef NC_IDX_DECODE_H
#define NC_IDX_DECODE_H

#include <stdint.h>

#include <nascaps/error.h>

/* One IDX file held in memory: data points into file past the header. */
typedef struct idx_file {
    unsigned char *file;   /* the whole (uncompressed) file; owned */
    const uint8_t *data;   /* first item */
    int64_t count;         /* items (images or labels) */
    int rows, cols;        /* images only; 0 for labels */
    int gzip;              /* it was gzip-compressed */
} idx_file;

/* An unsigned-byte IDX file with 3 dims (images, count x rows x cols). */
int idx_load_images(const char *path, idx_file *out, nc_error *err);
/* An unsigned-byte IDX file with 1 dim (labels), each < classes, as many
 * as images_count (images_path names the file they must match). */
int idx_load_labels(const char *path, int classes, int64_t images_count,
                    const char *images_path, idx_file *out, nc_error *err);
void idx_free(idx_file *f);

#endif
