/* svhn_decode.h - SVHN cropped-digit .mat files (X, y) through libmatio. */
#ifndef NC_SVHN_DECODE_H
#define NC_SVHN_DECODE_H

#include <stdint.h>

#include <nascaps/error.h>

#define SVHN_SIDE 32
#define SVHN_PIXELS (SVHN_SIDE * SVHN_SIDE * 3)

typedef struct svhn_set {
    uint8_t *pixels;   /* NHWC */
    uint8_t *labels;   /* 0..9 (the file's 10 is digit 0) */
    int64_t count;
} svhn_set;

/* Reads X (32x32x3xN uint8, MATLAB column-major) and y (N labels 1..10). */
int svhn_load(const char *path, svhn_set *set, nc_error *err);
void svhn_set_free(svhn_set *set);
/* Structure of a MAT-file v5 checked without trusting its sizes (called by
 * svhn_load before libmatio sees the file). */
int svhn_mat5_check(const char *path, nc_error *err);

#endif
