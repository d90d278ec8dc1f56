/* test_data_idx.c - the IDX decoder: round trips (raw and gzip), one exact
 * message per kind of bad file, and seeded random corruption. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

#include "nascaps/rng.h"
#include "nc_test.h"
#include "idx_decode.h"

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

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX image file of n images rows x cols; pixel (i, y, x) = i*31 + y*7 + x. */
static unsigned char *make_images(int n, int rows, int cols, size_t *len)
{
    *len = 16 + (size_t)n * rows * cols;
    unsigned char *b = malloc(*len);
    put32(b, 0x803);
    put32(b + 4, (uint32_t)n);
    put32(b + 8, (uint32_t)rows);
    put32(b + 12, (uint32_t)cols);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
                b[16 + ((size_t)i * rows + y) * cols + x] = (unsigned char)(i * 31 + y * 7 + x);
    return b;
}

static unsigned char *make_labels(int n, size_t *len)
{
    *len = 8 + (size_t)n;
    unsigned char *b = malloc(*len);
    put32(b, 0x801);
    put32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++)
        b[8 + i] = (unsigned char)((i * 3) % 10);
    return b;
}

static void write_gz(const char *path, const void *data, size_t len)
{
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
}

static char *path_of(const char *name)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", tmp, name);
    return p;
}

static void test_round_trip(void **state)
{
    size_t il, ll;
    unsigned char *im = make_images(5, 4, 3, &il);
    unsigned char *lb = make_labels(5, &ll);
    for (int gz = 0; gz < 2; gz++) {
        char *ip = path_of(gz ? "im.gz" : "im.raw");
        char *lp = path_of(gz ? "lb.gz" : "lb.raw");
        if (gz) {
            write_gz(ip, im, il);
            write_gz(lp, lb, ll);
        } else {
            nc_test_write_file(ip, im, il);
            nc_test_write_file(lp, lb, ll);
        }
        idx_file fi, fl;
        nc_error err;
        nc_error_clear(&err);
        assert_int_equal(idx_load_images(ip, &fi, &err), NC_OK);
        assert_int_equal(fi.count, 5);
        assert_int_equal(fi.rows, 4);
        assert_int_equal(fi.cols, 3);
        assert_int_equal(fi.gzip, gz);
        for (int i = 0; i < 5; i++)
            assert_int_equal(fi.data[i * 12 + 2 * 3 + 1], (i * 31 + 2 * 7 + 1) & 255);
        assert_int_equal(idx_load_labels(lp, 10, 5, ip, &fl, &err), NC_OK);
        assert_int_equal(fl.count, 5);
        for (int i = 0; i < 5; i++)
            assert_int_equal(fl.data[i], (i * 3) % 10);
        idx_free(&fi);
        idx_free(&fl);
        free(ip);
        free(lp);
    }
    free(im);
    free(lb);
}

/* Writes data (raw or gzip) as NAME, loads it as images (labels when
 * labels_for > 0: that many images expected) and checks the message is
 * exactly "PATH: " + want. */
static void expect_error(const char *name, const void *data, size_t len, int gz,
                         int labels_for, const char *want)
{
    char *p = path_of(name);
    if (gz)
        write_gz(p, data, len);
    else
        nc_test_write_file(p, data, len);
    idx_file f;
    nc_error err;
    nc_error_clear(&err);
    int rc = labels_for > 0 ? idx_load_labels(p, 10, labels_for, "IMAGES", &f, &err)
                            : idx_load_images(p, &f, &err);
    assert_int_equal(rc, NC_ERR_INPUT);
    char full[2048];
    snprintf(full, sizeof full, "%s: %s", p, want);
    assert_string_equal(err.msg, full);
    assert_null(f.file);
    free(p);
}

static void test_bad_files(void **state)
{
    size_t il, ll;
    unsigned char *im = make_images(5, 4, 3, &il);   /* 76 bytes */
    unsigned char *lb = make_labels(5, &ll);         /* 13 bytes */
    for (int gz = 0; gz < 2; gz++) {
        unsigned char *b = malloc(il + 8);
        memcpy(b, im, il);
        put32(b, 0);
        expect_error("magic", b, il, gz, 0,
                     "offset 0: bad magic 0x00000000, expected 0x00000803 "
                     "(IDX unsigned byte, 3 dims)");
        /* a label file given as images */
        expect_error("swapped", lb, ll, gz, 0,
                     "offset 0: bad magic 0x00000801, expected 0x00000803 "
                     "(IDX unsigned byte, 3 dims)");
        expect_error("swapped2", im, il, gz, 5,
                     "offset 0: bad magic 0x00000803, expected 0x00000801 "
                     "(IDX unsigned byte, 1 dim)");
        expect_error("tiny", im, 2, gz, 0,
                     "offset 2: file ends inside the IDX header (16 bytes), "
                     "expected magic 0x00000803 (IDX unsigned byte, 3 dims)");
        expect_error("header", im, 10, gz, 0,
                     "offset 10: file ends inside the IDX header, expected 16 "
                     "header bytes");
        expect_error("trunc", im, 16 + 2 * 12 + 5, gz, 0,
                     "offset 45: truncated: file ends after 2 of 5 images, "
                     "expected 76 bytes");
        memcpy(b, im, il);
        memset(b + il, 0xab, 8);
        if (!gz)
            expect_error("trailing", b, il + 3, gz, 0,
                         "offset 76: 3 bytes after the last image, expected the "
                         "end of the file");
        memcpy(b, im, il);
        put32(b + 8, 0);
        expect_error("rows0", b, il, gz, 0,
                     "offset 8: image height 0 out of range, expected 1..4096");
        put32(b + 8, 4);
        put32(b + 12, 70000);
        expect_error("colsbig", b, il, gz, 0,
                     "offset 12: image width 70000 out of range, expected 1..4096");
        memcpy(b, im, il);
        put32(b + 4, 0x80000000u);
        expect_error("countbig", b, il, gz, 0,
                     "offset 4: count 2147483648 out of range, expected 1..2147483647");
        /* a header claiming 2^31 - 1 images of 4096 x 4096 must fail on
         * truncation, not allocate what it claims */
        put32(b + 4, 0x7fffffffu);
        put32(b + 8, 4096);
        put32(b + 12, 4096);
        expect_error("huge", b, il, gz, 0,
                     "offset 76: truncated: file ends after 0 of 2147483647 "
                     "images, expected 36028797002186768 bytes");
        expect_error("count", lb, ll, gz, 6,
                     "offset 4: 5 labels, expected 6 (the images in IMAGES)");
        memcpy(b, lb, ll);
        b[8 + 3] = 10;
        expect_error("label", b, ll, gz, 5,
                     "offset 11: label 10 out of range, expected 0..9");
        expect_error("ltrunc", lb, 10, gz, 5,
                     "offset 10: truncated: file ends after 2 of 5 labels, "
                     "expected 13 bytes");
        free(b);
    }
    free(im);
    free(lb);
}

/* Reads back a gzip fixture as bytes, for corrupting the compressed form. */
static unsigned char *gz_bytes(const void *data, size_t len, size_t *gzlen)
{
    char *p = path_of("gzsrc");
    write_gz(p, data, len);
    unsigned char *b = (unsigned char *)nc_test_read_file(p, gzlen);
    free(p);
    return b;
}

static void test_bad_gzip(void **state)
{
    size_t il, gl;
    unsigned char *im = make_images(50, 8, 8, &il);
    unsigned char *gz = gz_bytes(im, il, &gl);
    char *p = path_of("crc.gz");
    nc_error err;
    idx_file f;
    /* CRC trailer wrong: the data inflate fine but must not be accepted */
    gz[gl - 8] ^= 0x55;
    nc_test_write_file(p, gz, gl);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &f, &err), NC_ERR_INPUT);
    char want[2048];
    snprintf(want, sizeof want, "%s: offset %zu: gzip data error: incorrect "
             "data check (%zu bytes decompressed)", p, gl - 4, il);
    assert_string_equal(err.msg, want);
    gz[gl - 8] ^= 0x55;
    /* truncated compressed stream */
    nc_test_write_file(p, gz, gl / 2);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &f, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: offset %zu: gzip stream truncated (", p, gl / 2);
    assert_memory_equal(err.msg, want, strlen(want));
    /* bytes after the stream */
    unsigned char *longer = malloc(gl + 3);
    memcpy(longer, gz, gl);
    memcpy(longer + gl, "abc", 3);
    nc_test_write_file(p, longer, gl + 3);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &f, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: offset %zu: data after the end of the gzip "
             "stream", p, gl);
    assert_string_equal(err.msg, want);
    /* two members concatenated are one valid gzip file */
    unsigned char *two = malloc(2 * gl);
    size_t half = 16 + 25 * 64;
    size_t g1, g2;
    unsigned char *a = gz_bytes(im, half, &g1);
    unsigned char *b2 = gz_bytes(im + half, il - half, &g2);
    memcpy(two, a, g1);
    memcpy(two + g1, b2, g2);
    nc_test_write_file(p, two, g1 + g2);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &f, &err), NC_OK);
    assert_int_equal(f.count, 50);
    assert_memory_equal(f.data, im + 16, il - 16);
    idx_free(&f);
    free(a);
    free(b2);
    free(two);
    free(longer);
    /* garbage after the gzip magic */
    memset(gz + 10, 0xff, 16);
    nc_test_write_file(p, gz, gl);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &f, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: offset 11: gzip data error: invalid block type", p);
    assert_memory_equal(err.msg, want, strlen(want));
    free(p);
    /* missing file */
    p = path_of("absent.gz");
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &f, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", p);
    assert_string_equal(err.msg, want);
    free(p);
    free(gz);
    free(im);
}

static long max_rss_kib(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* A gzip file whose IDX header promises 5 images of 4 x 3 (76 bytes) and
 * whose stream then goes on with 512 MiB of zeros (0.5 MB compressed):
 * refused once the 77th byte is out, with little memory, the offset
 * saying how little of the compressed file was read. Also a gzip file
 * that is valid but longer than its header says, and a FIFO. */
static void test_gzip_bomb(void **state)
{
    size_t il;
    unsigned char *im = make_images(5, 4, 3, &il);
    char *p = path_of("bomb.gz");
    gzFile f = gzopen(p, "wb9");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, im, (unsigned)il), (int)il);
    unsigned char *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < 512; i++)
        assert_int_equal(gzwrite(f, zeros, 1u << 20), 1 << 20);
    assert_int_equal(gzclose(f), Z_OK);
    free(zeros);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_true(st.st_size < (1 << 20));

    long before = max_rss_kib();
    idx_file out;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &out, &err), NC_ERR_INPUT);
    assert_true(max_rss_kib() - before < 64 * 1024);
    char want[4200];
    snprintf(want, sizeof want, "%s: offset ", p);
    assert_memory_equal(err.msg, want, strlen(want));
    char *end = NULL;
    unsigned long off = strtoul(err.msg + strlen(want), &end, 10);
    assert_true(off <= (1ul << 18));   /* at most one read of the input */
    assert_string_equal(end, ": decompresses to more than 76 bytes");

    /* three bytes too many, same message */
    unsigned char *b = malloc(il + 3);
    memcpy(b, im, il);
    memset(b + il, 0xab, 3);
    write_gz(p, b, il + 3);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(p, &out, &err), NC_ERR_INPUT);
    assert_non_null(strstr(err.msg, ": decompresses to more than 76 bytes"));
    free(b);

    /* a FIFO is refused at once instead of blocking */
    char *fifo = path_of("fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    nc_error_clear(&err);
    assert_int_equal(idx_load_images(fifo, &out, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a FIFO, not a regular file", fifo);
    assert_string_equal(err.msg, want);
    free(fifo);
    free(p);
    free(im);
}

/* Random byte flips and truncations of valid files: never a crash, and
 * when accepted the result is self-consistent. */
static void test_fuzz(void **state)
{
    size_t il, ll, gil, gll;
    unsigned char *im = make_images(20, 6, 5, &il);
    unsigned char *lb = make_labels(20, &ll);
    unsigned char *gim = gz_bytes(im, il, &gil);
    unsigned char *glb = gz_bytes(lb, ll, &gll);
    const unsigned char *src[4] = {im, lb, gim, glb};
    size_t lens[4] = {il, ll, gil, gll};
    nc_rng rng;
    nc_rng_seed(&rng, 20240601);
    char *p = path_of("fuzz");
    unsigned char *b = malloc(il > gil ? il : gil);
    int accepted = 0, refused = 0;
    for (int t = 0; t < 1200; t++) {
        int which = t % 4;
        size_t len = lens[which];
        memcpy(b, src[which], len);
        if (nc_rng_range(&rng, 0, 3) == 0) {
            len = (size_t)nc_rng_range(&rng, 0, (int64_t)len - 1);
        } else {
            int flips = (int)nc_rng_range(&rng, 1, 4);
            for (int k = 0; k < flips; k++)
                b[nc_rng_range(&rng, 0, (int64_t)len - 1)] ^=
                    (unsigned char)nc_rng_range(&rng, 1, 255);
        }
        nc_test_write_file(p, b, len);
        idx_file f;
        nc_error err;
        nc_error_clear(&err);
        int rc = which % 2 ? idx_load_labels(p, 10, 20, "IMAGES", &f, &err)
                           : idx_load_images(p, &f, &err);
        if (rc == NC_OK) {
            accepted++;
            if (which % 2 == 0) {
                assert_true(f.count >= 1);
                /* the last pixel is readable */
                volatile uint8_t last = f.data[f.count * f.rows * f.cols - 1];
                (void)last;
            } else {
                for (int64_t i = 0; i < f.count; i++)
                    assert_true(f.data[i] < 10);
            }
            idx_free(&f);
        } else {
            refused++;
            assert_int_equal(rc, NC_ERR_INPUT);
            assert_memory_equal(err.msg, p, strlen(p));
            assert_null(strchr(err.msg, '\n'));
        }
    }
    /* flips in pixel bytes of raw files are legal data */
    assert_true(accepted > 50);
    assert_true(refused > 500);
    free(b);
    free(p);
    free(im);
    free(lb);
    free(gim);
    free(glb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gzip_bomb),   /* first: its memory bound */
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_bad_gzip),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
