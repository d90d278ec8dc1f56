/* test_data_svhn.c - the SVHN .mat decoder: fixtures written with libmatio
 * round-trip exactly (column-major X to NHWC, label 10 to digit 0), each
 * kind of bad variable gives its message, and random corruption of the
 * file never crashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <matio.h>

#include "nascaps/rng.h"
#include "nc_test.h"
#include "svhn_decode.h"

static char *tmp;

static int setup(void **state)
{
    tmp = nc_test_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    nc_test_rmtree(tmp);
    free(tmp);
    return 0;
}

static uint8_t pixel(size_t r, size_t c, size_t ch, size_t i)
{
    return (uint8_t)(r * 7 + c * 3 + ch * 50 + i * 11 + (r > c ? 1 : 0));
}

/* Which variables to write and how. */
typedef struct fixture {
    int n;                    /* images */
    int x_class;              /* MAT_C_UINT8 normally */
    size_t x_dims[4];
    int x_rank;
    int write_x, write_y;
    int y_class;              /* MAT_C_UINT8 or MAT_C_DOUBLE */
    int y_count;
    int bad_label_at;         /* -1 none */
    double bad_label;
    const char *x_name, *y_name;
    int compress;
} fixture;

static fixture good(int n)
{
    fixture f = {n, MAT_C_UINT8, {32, 32, 3, (size_t)n}, 4, 1, 1, MAT_C_UINT8,
                 n, -1, 0, "X", "y", 0};
    return f;
}

static double label_of(int i)
{
    return (double)(i % 10 + 1);   /* 1..10; 10 is digit 0 */
}

static void write_mat(const char *path, const fixture *f)
{
    mat_t *mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    assert_non_null(mat);
    enum matio_compression comp = f->compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE;
    if (f->write_x) {
        size_t total = 1;
        for (int k = 0; k < f->x_rank; k++)
            total *= f->x_dims[k];
        void *data;
        matvar_t *v;
        if (f->x_class == MAT_C_DOUBLE) {
            double *d = calloc(total, sizeof *d);
            data = d;
            v = Mat_VarCreate(f->x_name, MAT_C_DOUBLE, MAT_T_DOUBLE, f->x_rank,
                              (size_t *)f->x_dims, d, 0);
        } else {
            uint8_t *d = malloc(total);
            size_t per = f->x_rank == 4 ? f->x_dims[0] * f->x_dims[1] * f->x_dims[2] : 1;
            for (size_t k = 0; k < total; k++) {
                size_t i = k / per, rem = k % per;
                size_t r = rem % 32, c = (rem / 32) % 32, ch = rem / 1024;
                d[k] = pixel(r, c, ch, i);
            }
            data = d;
            v = Mat_VarCreate(f->x_name, MAT_C_UINT8, MAT_T_UINT8, f->x_rank,
                              (size_t *)f->x_dims, d, 0);
        }
        assert_non_null(v);
        assert_int_equal(Mat_VarWrite(mat, v, comp), 0);
        Mat_VarFree(v);
        free(data);
    }
    if (f->write_y) {
        size_t dims[2] = {(size_t)f->y_count, 1};
        matvar_t *v;
        void *data;
        if (f->y_class == MAT_C_DOUBLE) {
            double *d = malloc((size_t)f->y_count * sizeof *d);
            for (int i = 0; i < f->y_count; i++)
                d[i] = i == f->bad_label_at ? f->bad_label : label_of(i);
            data = d;
            v = Mat_VarCreate(f->y_name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, d, 0);
        } else {
            uint8_t *d = malloc((size_t)f->y_count);
            for (int i = 0; i < f->y_count; i++)
                d[i] = (uint8_t)(i == f->bad_label_at ? f->bad_label : label_of(i));
            data = d;
            v = Mat_VarCreate(f->y_name, MAT_C_UINT8, MAT_T_UINT8, 2, dims, d, 0);
        }
        assert_non_null(v);
        assert_int_equal(Mat_VarWrite(mat, v, comp), 0);
        Mat_VarFree(v);
        free(data);
    }
    Mat_Close(mat);
}

static char *path_of(const char *name)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", tmp, name);
    return p;
}

static void check_set(const svhn_set *s, int n)
{
    assert_int_equal(s->count, n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(s->labels[i], (int)label_of(i) % 10);
        for (int r = 0; r < 32; r++)
            for (int c = 0; c < 32; c++)
                for (int ch = 0; ch < 3; ch++)
                    if (s->pixels[(size_t)i * 3072 + (size_t)(r * 32 + c) * 3 + (size_t)ch] !=
                        pixel((size_t)r, (size_t)c, (size_t)ch, (size_t)i))
                        fail_msg("image %d pixel (%d,%d,%d) wrong", i, r, c, ch);
    }
}

static void test_round_trip(void **state)
{
    for (int variant = 0; variant < 3; variant++) {
        fixture f = good(12);
        f.compress = variant == 1;
        if (variant == 2)
            f.y_class = MAT_C_DOUBLE;
        char *p = path_of("ok.mat");
        write_mat(p, &f);
        svhn_set s;
        nc_error err;
        nc_error_clear(&err);
        assert_int_equal(svhn_load(p, &s, &err), NC_OK);
        check_set(&s, 12);
        /* NHWC: channel is the fastest index, then column, then row */
        assert_int_equal(s.pixels[3072 + (5 * 32 + 2) * 3 + 1], pixel(5, 2, 1, 1));
        assert_int_not_equal(pixel(5, 2, 1, 1), pixel(2, 5, 1, 1));
        svhn_set_free(&s);
        free(p);
    }
}

static void expect(const fixture *f, const char *want_after_path)
{
    char *p = path_of("bad.mat");
    write_mat(p, f);
    svhn_set s;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(svhn_load(p, &s, &err), NC_ERR_INPUT);
    char want[2048];
    snprintf(want, sizeof want, "%s: %s", p, want_after_path);
    assert_string_equal(err.msg, want);
    assert_null(s.pixels);
    free(p);
}

static void test_bad_variables(void **state)
{
    fixture f = good(4);
    f.write_x = 0;
    expect(&f, "variable 'X' missing or unreadable, expected 32x32x3xN uint8 images");
    f = good(4);
    f.x_name = "images";
    expect(&f, "variable 'X' missing or unreadable, expected 32x32x3xN uint8 images");
    f = good(4);
    f.write_y = 0;
    expect(&f, "variable 'y' missing or unreadable, expected 4x1 labels 1..10");
    f = good(4);
    f.x_class = MAT_C_DOUBLE;
    expect(&f, "variable 'X': double 32x32x3x4, expected 32x32x3xN uint8 images");
    f = good(4);
    f.x_dims[2] = 1;
    expect(&f, "variable 'X': uint8 32x32x1x4, expected 32x32x3xN uint8 images");
    f = good(4);
    f.x_rank = 3;
    f.x_dims[2] = 12;
    expect(&f, "variable 'X': uint8 32x32x12, expected 32x32x3xN uint8 images");
    f = good(4);
    f.y_count = 3;
    expect(&f, "variable 'y': uint8 3x1, expected 4x1 numeric labels 1..10 (one "
               "per image of 'X')");
    f = good(4);
    f.bad_label_at = 2;
    f.bad_label = 11;
    expect(&f, "variable 'y' element 3: label 11 out of range, expected 1..10 "
               "(10 = digit 0)");
    f.bad_label = 0;
    expect(&f, "variable 'y' element 3: label 0 out of range, expected 1..10 "
               "(10 = digit 0)");
    f.y_class = MAT_C_DOUBLE;
    f.bad_label = 2.5;
    expect(&f, "variable 'y' element 3: label 2.5 out of range, expected 1..10 "
               "(10 = digit 0)");

    char *p = path_of("notmat.mat");
    nc_test_write_file(p, "this is not a MATLAB file at all, just text\n", 44);
    svhn_set s;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(svhn_load(p, &s, &err), NC_ERR_INPUT);
    char want[2048];
    snprintf(want, sizeof want, "%s: offset 44: file ends inside the 128-byte "
             "MAT-file header", p);
    assert_string_equal(err.msg, want);
    char text[200];
    memset(text, 'a', sizeof text);
    nc_test_write_file(p, text, sizeof text);
    assert_int_equal(svhn_load(p, &s, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: offset 126: bad endian indicator 0x6161, "
             "expected 'IM' (MAT-file version 5)", p);
    assert_string_equal(err.msg, want);
    /* a dims field claiming 2^31 - 1 images: refused before libmatio
     * would allocate for it */
    fixture f2 = good(2);
    write_mat(p, &f2);
    size_t len;
    unsigned char *b = (unsigned char *)nc_test_read_file(p, &len);
    /* first variable at 128: tag 8, flags 16, dims tag 8, dims 4 x int32 */
    assert_int_equal(b[128 + 8 + 16], 5);   /* miINT32 */
    b[128 + 8 + 16 + 8 + 12] = 0xff;
    b[128 + 8 + 16 + 8 + 13] = 0xff;
    b[128 + 8 + 16 + 8 + 14] = 0xff;
    b[128 + 8 + 16 + 8 + 15] = 0x7f;
    nc_test_write_file(p, b, len);
    free(b);
    assert_int_equal(svhn_load(p, &s, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: offset 128: variable 'X': data element of "
             "6144 bytes (type 2) does not hold its 6597069763584 elements within "
             "the variable's 6200 bytes", p);
    assert_string_equal(err.msg, want);
    free(p);
    p = path_of("absent.mat");
    assert_int_equal(svhn_load(p, &s, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", p);
    assert_string_equal(err.msg, want);
    free(p);
}

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* libmatio stops inflating before a zlib stream's Adler-32: a compressed
 * variable with a flipped checksum or flipped deflate bytes must still be
 * refused, naming the variable. */
static void test_corrupt_compressed(void **state)
{
    fixture f = good(5);
    f.compress = 1;
    char *good_p = path_of("z.mat"), *p = path_of("zbad.mat");
    write_mat(good_p, &f);
    size_t len;
    unsigned char *orig = (unsigned char *)nc_test_read_file(good_p, &len);
    /* element 1 (X): tag at 128, type 15 (compressed), its byte count */
    assert_int_equal(le32(orig + 128), 15);
    size_t xbytes = le32(orig + 132), xend = 136 + xbytes;
    assert_true(xend < len);
    char want[4200];
    /* the stream's last 4 bytes are its Adler-32 */
    for (int k = 0; k < 2; k++) {
        size_t at = k == 0 ? xend - 2 : 136 + xbytes / 2;
        orig[at] ^= 0x24;
        nc_test_write_file(p, orig, len);
        orig[at] ^= 0x24;
        if (k == 0) {
            /* what libmatio alone makes of it: the data, unchecked */
            mat_t *mat = Mat_Open(p, MAT_ACC_RDONLY);
            assert_non_null(mat);
            matvar_t *x = Mat_VarRead(mat, "X");
            assert_non_null(x);
            Mat_VarFree(x);
            Mat_Close(mat);
        }
        svhn_set s;
        nc_error err;
        nc_error_clear(&err);
        assert_int_equal(svhn_load(p, &s, &err), NC_ERR_INPUT);
        snprintf(want, sizeof want, "%s: offset ", p);
        assert_memory_equal(err.msg, want, strlen(want));
        if (k == 0) {
            snprintf(want, sizeof want,
                     "%s: offset %zu: variable 'X': compressed data corrupt: incorrect data check",
                     p, xend);
            assert_string_equal(err.msg, want);
        } else {
            assert_non_null(strstr(err.msg, ": variable 'X': compressed data corrupt: "));
        }
        assert_null(s.pixels);
    }
    /* a directory or a FIFO is refused at once */
    svhn_set s;
    nc_error err;
    assert_int_equal(svhn_load(tmp, &s, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a directory, not a regular file", tmp);
    assert_string_equal(err.msg, want);
    char *fifo = path_of("fifo.mat");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(svhn_load(fifo, &s, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a FIFO, not a regular file", fifo);
    assert_string_equal(err.msg, want);
    free(fifo);
    free(orig);
    free(good_p);
    free(p);
}

static void test_fuzz(void **state)
{
    nc_rng rng;
    nc_rng_seed(&rng, 777);
    char *base[2], *p = path_of("fuzz.mat");
    unsigned char *orig[2];
    size_t len[2];
    for (int k = 0; k < 2; k++) {
        fixture f = good(3);
        f.compress = k;
        base[k] = path_of(k ? "base_z.mat" : "base.mat");
        write_mat(base[k], &f);
        orig[k] = (unsigned char *)nc_test_read_file(base[k], &len[k]);
    }
    unsigned char *b = malloc(len[0] > len[1] ? len[0] : len[1]);
    int ok = 0, refused = 0;
    for (int t = 0; t < 600; t++) {
        int k = t % 2;
        size_t n = len[k];
        memcpy(b, orig[k], n);
        if (nc_rng_range(&rng, 0, 3) == 0) {
            n = (size_t)nc_rng_range(&rng, 0, (int64_t)n - 1);
        } else {
            int flips = (int)nc_rng_range(&rng, 1, 3);
            for (int j = 0; j < flips; j++)
                b[nc_rng_range(&rng, 0, (int64_t)n - 1)] ^=
                    (unsigned char)nc_rng_range(&rng, 1, 255);
        }
        nc_test_write_file(p, b, n);
        svhn_set s;
        nc_error err;
        nc_error_clear(&err);
        int rc = svhn_load(p, &s, &err);
        if (rc == NC_OK) {
            ok++;
            assert_true(s.count >= 1);
            for (int64_t i = 0; i < s.count; i++)
                assert_true(s.labels[i] < 10);
            svhn_set_free(&s);
        } else {
            refused++;
            assert_memory_equal(err.msg, p, strlen(p));
        }
    }
    assert_true(ok > 0);
    assert_true(refused > 0);
    free(b);
    for (int k = 0; k < 2; k++) {
        free(orig[k]);
        free(base[k]);
    }
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_variables),
        cmocka_unit_test(test_corrupt_compressed),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
