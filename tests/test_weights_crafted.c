/* test_weights_crafted.c - weights files written here byte by byte from
 * the format in docs/TRAINING.md (not by nc_weights_save): a faithful one
 * loads, and crafted ones with a valid checksum (NaN, infinities, layer
 * index INT32_MAX, random mutations) are refused with one line while the
 * network keeps its values; also non-regular files. Run under UBSan this
 * is the proof that the loader has no undefined behaviour on them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nascaps/nn.h"
#include "nascaps/train.h"
#include "nc_test.h"

/* conv -> primary caps -> class caps on 8 x 8 x 1 images, 3 classes */
static const char chr[] = "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]";
static const char *const plugin_of_gene[] = {"conv", "caps", "caps"};

static nc_registry *reg;
static nc_net *net;
static char *dir;

static int setup(void **state)
{
    (void)state;
    reg = nc_registry_new();
    nc_genotype g;
    nc_error err;
    nc_net_cfg cfg;
    nc_net_cfg_defaults(&cfg);
    cfg.max_batch = 2;
    if (!reg || nc_genotype_parse(chr, "<test>", &g, &err) ||
        nc_net_build(reg, &g, "<test>", NULL, &cfg, &net, &err))
        return -1;
    dir = nc_test_tmpdir();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nc_net_free(net);
    nc_registry_free(reg);
    nc_test_rmtree(dir);
    free(dir);
    return 0;
}

/* ---- an independent writer ---------------------------------------------- */

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_le(buf *b, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        unsigned char c = (unsigned char)(v >> (8 * i));
        put(b, &c, 1);
    }
}

static void put_str(buf *b, const char *s)
{
    put_le(b, strlen(s), 4);
    put(b, s, strlen(s));
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Rewrites the trailing checksum so that only the crafted change counts. */
static void reseal(buf *b)
{
    uint64_t h = fnv1a(b->p, b->len - 8);
    for (int i = 0; i < 8; i++)
        b->p[b->len - 8 + i] = (unsigned char)(h >> (8 * i));
}

/* Where each tensor's floats start in the crafted file. */
static size_t data_at[64];
static size_t layer_at[8];   /* offset of each section's layer field */

/* The network's weights as the format says, each value f(tensor, index). */
static buf craft(float (*f)(int t, size_t i))
{
    buf b = {NULL, 0, 0};
    const nc_net_info *info = nc_net_get_info(net);
    put(&b, "NCWEIGHT", 8);
    put_le(&b, 1, 4);
    put_str(&b, chr);
    put_le(&b, (uint64_t)info->n_layers + (info->has_decoder ? 1 : 0), 4);
    int nt = nc_net_tensor_count(net);
    assert_true(nt <= 64);
    for (int s = 0; s <= info->n_layers; s++) {
        int layer = s < info->n_layers ? s : -1;
        if (layer < 0 && !info->has_decoder)
            break;
        int count = 0;
        for (int t = 0; t < nt; t++) {
            nc_net_tensor x;
            nc_net_tensor_at(net, t, &x);
            count += x.layer == layer;
        }
        put_str(&b, layer < 0 ? "decoder" : plugin_of_gene[layer]);
        layer_at[s] = b.len;
        put_le(&b, (uint32_t)layer, 4);
        put_le(&b, (uint64_t)count, 4);
        for (int t = 0; t < nt; t++) {
            nc_net_tensor x;
            nc_net_tensor_at(net, t, &x);
            if (x.layer != layer)
                continue;
            put_str(&b, x.name);
            put_le(&b, x.grad ? 1 : 0, 4);
            put_le(&b, x.count, 8);
            data_at[t] = b.len;
            for (size_t i = 0; i < x.count; i++) {
                float v = f(t, i);
                uint32_t u;
                memcpy(&u, &v, 4);
                put_le(&b, u, 4);
            }
        }
    }
    put_le(&b, 0, 8);
    reseal(&b);
    return b;
}

static float pattern(int t, size_t i)
{
    return (float)t * 0.25f + (float)(i % 7) * 0.125f - 0.5f;
}

static float zero(int t, size_t i)
{
    (void)t;
    (void)i;
    return 0.0f;
}

static char *write_crafted(const char *name, const buf *b)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(path);
    sprintf(path, "%s/%s", dir, name);
    nc_test_write_file(path, b->p, b->len);
    return path;
}

/* Every value of the network equals f(tensor, index). */
static int net_holds(float (*f)(int t, size_t i))
{
    for (int t = 0; t < nc_net_tensor_count(net); t++) {
        nc_net_tensor x;
        nc_net_tensor_at(net, t, &x);
        for (size_t i = 0; i < x.count; i++)
            if (x.value[i] != f(t, i))
                return 0;
    }
    return 1;
}

static void load_ok(float (*f)(int t, size_t i))
{
    buf b = craft(f);
    char *path = write_crafted("ok.bin", &b);
    nc_error err;
    nc_error_clear(&err);
    if (nc_weights_load(net, path, &err))
        fail_msg("%s", err.msg);
    assert_true(net_holds(f));
    free(path);
    free(b.p);
}

static void expect_refused(const buf *b, const char *want_after_path)
{
    char *path = write_crafted("bad.bin", b);
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_weights_load(net, path, &err), NC_ERR_INPUT);
    char want[1024];
    snprintf(want, sizeof want, "%s: %s", path, want_after_path);
    assert_string_equal(err.msg, want);
    assert_true(net_holds(pattern));   /* untouched */
    free(path);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_faithful_file_loads(void **state)
{
    (void)state;
    load_ok(zero);
    load_ok(pattern);   /* and proves the writer above follows the format */
}

static void test_non_finite_refused(void **state)
{
    (void)state;
    load_ok(pattern);
    nc_net_tensor x;
    assert_int_equal(nc_net_tensor_at(net, 1, &x), NC_OK);
    assert_true(x.count >= 3);
    static const struct {
        uint32_t bits;
        const char *shown;
    } bad[] = {{0x7fc00000u, "NaN"}, {0xffc00001u, "NaN"}, {0x7f800000u, "inf"},
               {0xff800000u, "-inf"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        buf b = craft(pattern);
        size_t at = data_at[1] + 4 * 2;   /* value 3 of tensor 2 */
        for (int i = 0; i < 4; i++)
            b.p[at + (size_t)i] = (unsigned char)(bad[k].bits >> (8 * i));
        reseal(&b);
        char want[512];
        snprintf(want, sizeof want,
                 "byte %zu: gene %d (%s): tensor '%s' value 3 of %zu is %s: weights must be "
                 "finite",
                 at, x.layer + 1, plugin_of_gene[x.layer], x.name, x.count, bad[k].shown);
        expect_refused(&b, want);
        free(b.p);
    }
    /* the largest finite float is a weight like any other */
    buf b = craft(pattern);
    for (int i = 0; i < 4; i++)
        b.p[data_at[1] + (size_t)i] = (unsigned char)(0x7f7fffffu >> (8 * i));
    reseal(&b);
    char *path = write_crafted("max.bin", &b);
    nc_error err;
    assert_int_equal(nc_weights_load(net, path, &err), NC_OK);
    assert_true(x.value[0] == 3.40282347e38f);
    free(path);
    free(b.p);
    load_ok(pattern);
}

static void test_layer_index_extremes(void **state)
{
    (void)state;
    load_ok(pattern);
    static const uint32_t layers[] = {0x7fffffffu, 0x80000000u, 0xfffffffeu, 7u};
    static const char *const shown[] = {"2147483648", "-2147483647", "-1", "8"};
    for (size_t k = 0; k < 4; k++) {
        buf b = craft(pattern);
        for (int i = 0; i < 4; i++)
            b.p[layer_at[0] + (size_t)i] = (unsigned char)(layers[k] >> (8 * i));
        reseal(&b);
        char want[256];
        snprintf(want, sizeof want,
                 "section 1 is layer %s (conv), the network expects gene 1 (conv)", shown[k]);
        expect_refused(&b, want);
        /* cut inside the first tensor's header: the label names the layer */
        b.len = layer_at[0] + 8 + 2;
        char *path = write_crafted("cut.bin", &b);
        nc_error err;
        assert_int_equal(nc_weights_load(net, path, &err), NC_ERR_INPUT);
        assert_non_null(strstr(err.msg, layers[k] >= 0x80000000u
                                            ? "inside the header of tensor 1 of the decoder"
                                            : "inside the header of tensor 1 of gene "));
        if (layers[k] == 0x7fffffffu)
            assert_non_null(strstr(err.msg, "gene 2147483648 (conv)"));
        free(path);
        free(b.p);
    }
}

/* Every byte of the body changed in turn (checksum resealed): the loader
 * returns OK or NC_ERR_INPUT with a message naming the file, and the
 * network keeps its values unless it returned OK. */
static void test_mutations(void **state)
{
    (void)state;
    buf orig = craft(pattern);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    char *path = malloc(strlen(dir) + 16);
    sprintf(path, "%s/mut.bin", dir);
    load_ok(pattern);
    for (int round = 0; round < 600; round++) {
        buf b = {malloc(orig.len), orig.len, orig.len};
        memcpy(b.p, orig.p, orig.len);
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t at = (size_t)(seed >> 33) % (data_at[0] + 16);   /* headers mostly */
        static const unsigned char vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
        b.p[at] = round % 2 ? vals[(seed >> 20) % 5] : (unsigned char)(b.p[at] ^ (1u << (round % 8)));
        if (round % 3 == 0)
            b.len = (size_t)(seed >> 40) % b.len;   /* and cut */
        if (b.len >= 8)
            reseal(&b);
        nc_test_write_file(path, b.p, b.len);
        nc_error err;
        nc_error_clear(&err);
        int rc = nc_weights_load(net, path, &err);
        if (rc != NC_OK) {
            assert_int_equal(rc, NC_ERR_INPUT);
            assert_memory_equal(err.msg, path, strlen(path));
            assert_null(strchr(err.msg, '\n'));
            assert_true(net_holds(pattern));
        } else {
            load_ok(pattern);   /* accepted (a changed weight): back to the pattern */
        }
        free(b.p);
    }
    free(path);
    free(orig.p);
}

static void test_not_regular(void **state)
{
    (void)state;
    char path[512], want[600];
    nc_error err;
    snprintf(path, sizeof path, "%s/fifo.bin", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(nc_weights_load(net, path, &err), NC_ERR_INPUT);   /* no hang */
    snprintf(want, sizeof want, "%s: cannot read: a FIFO, not a regular file", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_weights_load(net, dir, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a directory, not a regular file", dir);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_weights_load(net, "/dev/null", &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "/dev/null: cannot read: a character device, not a regular file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faithful_file_loads),
        cmocka_unit_test(test_non_finite_refused),
        cmocka_unit_test(test_layer_index_extremes),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_not_regular),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
