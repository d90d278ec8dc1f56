/* cifar_decode.h - CIFAR-10/100 binary record files, decoded to NHWC. */
#ifndef NC_CIFAR_DECODE_H
#define NC_CIFAR_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <nascaps/error.h>

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (CIFAR_SIDE * CIFAR_SIDE * 3)

/* The format of one record: label_bytes label bytes (CIFAR-10: 1;
 * CIFAR-100: 2, coarse then fine), then 3072 channel-planar pixels. */
typedef struct cifar_format {
    const char *name;   /* "CIFAR-10", for messages */
    int label_bytes;    /* 1 or 2 */
    int label_index;    /* which label byte is the class */
    int classes;
} cifar_format;

/* Images of a split: pixels NHWC uint8, labels < classes. */
typedef struct cifar_set {
    uint8_t *pixels;
    uint8_t *labels;
    int64_t count;
} cifar_set;

/* Appends the records of one file (gzip or raw) to set. */
int cifar_load_file(const char *path, const cifar_format *fmt, cifar_set *set,
                    nc_error *err);
void cifar_set_free(cifar_set *set);

#endif
