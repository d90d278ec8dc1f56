/* svhn_decode.c - SVHN .mat decoding: every variable's class, rank and
 * dims checked before its data is touched. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <matio.h>

#include "svhn_decode.h"

void svhn_set_free(svhn_set *set)
{
    free(set->pixels);
    free(set->labels);
    memset(set, 0, sizeof *set);
}

static const char *class_name(enum matio_classes c)
{
    switch (c) {
    case MAT_C_DOUBLE: return "double";
    case MAT_C_SINGLE: return "single";
    case MAT_C_INT8: return "int8";
    case MAT_C_UINT8: return "uint8";
    case MAT_C_INT16: return "int16";
    case MAT_C_UINT16: return "uint16";
    case MAT_C_INT32: return "int32";
    case MAT_C_UINT32: return "uint32";
    case MAT_C_INT64: return "int64";
    case MAT_C_UINT64: return "uint64";
    case MAT_C_CELL: return "cell";
    case MAT_C_STRUCT: return "struct";
    case MAT_C_CHAR: return "char";
    case MAT_C_SPARSE: return "sparse";
    default: return "unknown";
    }
}

static void dims_text(const matvar_t *v, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < v->rank && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%zu", i ? "x" : "",
                               v->dims[i]);
}

/* Label element i of y as a double; the class was checked numeric. */
static double label_at(const matvar_t *y, size_t i)
{
    const void *d = y->data;
    switch (y->class_type) {
    case MAT_C_DOUBLE: return ((const double *)d)[i];
    case MAT_C_SINGLE: return ((const float *)d)[i];
    case MAT_C_INT8: return ((const int8_t *)d)[i];
    case MAT_C_UINT8: return ((const uint8_t *)d)[i];
    case MAT_C_INT16: return ((const int16_t *)d)[i];
    case MAT_C_UINT16: return ((const uint16_t *)d)[i];
    case MAT_C_INT32: return ((const int32_t *)d)[i];
    case MAT_C_UINT32: return ((const uint32_t *)d)[i];
    case MAT_C_INT64: return (double)((const int64_t *)d)[i];
    case MAT_C_UINT64: return (double)((const uint64_t *)d)[i];
    default: return -1;
    }
}

static size_t class_size(enum matio_classes c)
{
    switch (c) {
    case MAT_C_DOUBLE: case MAT_C_INT64: case MAT_C_UINT64: return 8;
    case MAT_C_SINGLE: case MAT_C_INT32: case MAT_C_UINT32: return 4;
    case MAT_C_INT16: case MAT_C_UINT16: return 2;
    case MAT_C_INT8: case MAT_C_UINT8: return 1;
    default: return 0;
    }
}

static int load(const char *path, mat_t *mat, svhn_set *set, nc_error *err)
{
    char dims[128];
    matvar_t *x = Mat_VarRead(mat, "X");
    if (!x)
        return nc_error_set(err, NC_ERR_INPUT, "%s: variable 'X' missing or "
                            "unreadable, expected 32x32x3xN uint8 images", path);
    int rc = NC_OK;
    dims_text(x, dims, sizeof dims);
    if (x->class_type != MAT_C_UINT8 || x->isComplex || x->rank != 4 ||
        x->dims[0] != SVHN_SIDE || x->dims[1] != SVHN_SIDE || x->dims[2] != 3 ||
        x->dims[3] < 1 || x->dims[3] > INT32_MAX) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: variable 'X': %s%s %s, "
                          "expected 32x32x3xN uint8 images", path,
                          x->isComplex ? "complex " : "",
                          class_name(x->class_type), dims);
        Mat_VarFree(x);
        return rc;
    }
    size_t n = x->dims[3];
    if (!x->data || x->data_size != 1 || x->nbytes != n * SVHN_PIXELS) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: variable 'X': data of %zu "
                          "bytes, expected %zu (32x32x3x%zu uint8)", path,
                          x->data ? x->nbytes : 0, n * SVHN_PIXELS, n);
        Mat_VarFree(x);
        return rc;
    }
    matvar_t *y = Mat_VarRead(mat, "y");
    if (!y) {
        Mat_VarFree(x);
        return nc_error_set(err, NC_ERR_INPUT, "%s: variable 'y' missing or "
                            "unreadable, expected %zux1 labels 1..10", path, n);
    }
    dims_text(y, dims, sizeof dims);
    size_t ny = y->rank == 2 && (y->dims[1] == 1 || y->dims[0] == 1)
                    ? y->dims[0] * y->dims[1] : 0;
    size_t esize = class_size(y->class_type);
    if (!esize || y->isComplex || ny != n) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: variable 'y': %s%s %s, "
                          "expected %zux1 numeric labels 1..10 (one per image "
                          "of 'X')", path, y->isComplex ? "complex " : "",
                          class_name(y->class_type), dims, n);
    } else if (!y->data || y->nbytes != n * esize) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: variable 'y': data of %zu "
                          "bytes, expected %zu", path, y->data ? y->nbytes : 0,
                          n * esize);
    }
    if (rc == NC_OK) {
        set->pixels = malloc(n * SVHN_PIXELS);
        set->labels = malloc(n);
        if (!set->pixels || !set->labels)
            rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory for %zu "
                              "images", path, n);
    }
    for (size_t i = 0; rc == NC_OK && i < n; i++) {
        double v = label_at(y, i);
        if (!(v >= 1 && v <= 10 && v == floor(v)))
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: variable 'y' element %zu: "
                              "label %g out of range, expected 1..10 (10 = "
                              "digit 0)", path, i + 1, v);
        else
            set->labels[i] = (uint8_t)((int)v % 10);
    }
    if (rc == NC_OK) {
        /* X(r, c, ch, i) is at r + 32 c + 1024 ch + 3072 i (column-major) */
        const uint8_t *src = x->data;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *im = src + i * SVHN_PIXELS;
            uint8_t *o = set->pixels + i * SVHN_PIXELS;
            for (int r = 0; r < SVHN_SIDE; r++)
                for (int c = 0; c < SVHN_SIDE; c++)
                    for (int ch = 0; ch < 3; ch++)
                        o[(r * SVHN_SIDE + c) * 3 + ch] =
                            im[r + SVHN_SIDE * c + SVHN_SIDE * SVHN_SIDE * ch];
        }
        set->count = (int64_t)n;
    } else {
        svhn_set_free(set);
    }
    Mat_VarFree(x);
    Mat_VarFree(y);
    return rc;
}

/* libmatio logs to stderr by default; library code must not print, and
 * every failure is reported through nc_error anyway. */
static void quiet_log(int level, char *message)
{
    (void)level;
    (void)message;
}

int svhn_load(const char *path, svhn_set *set, nc_error *err)
{
    memset(set, 0, sizeof *set);
    /* opens it as a regular file only (nc_input_open) */
    int rc = svhn_mat5_check(path, err);
    if (rc != NC_OK)
        return rc;
    Mat_LogInitFunc("nascaps", quiet_log);
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat)
        return nc_error_set(err, NC_ERR_INPUT, "%s: offset 0: not a MATLAB .mat "
                            "file libmatio can read, expected SVHN's "
                            "train_32x32.mat / test_32x32.mat format", path);
    rc = load(path, mat, set, err);
    Mat_Close(mat);
    return rc;
}
