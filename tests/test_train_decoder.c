/* test_train_decoder.c - the reconstruction decoder: its parameter count is
 * nc_decoder_params() exactly, its output is an S x S x C image of [0,1]
 * pixels, and every gradient (capsules and each parameter tensor) matches
 * central finite differences of recon_weight * MSE in training mode. */
#include <string.h>

#include "test_nn_common.h"
#include "train/train_internal.h"
#include "nascaps/network.h"

typedef struct dec_ctx {
    nc_decoder *dec;
    int n;
    float *v, *raw;
    int32_t *mask;
    void *ws;
    size_t ws_bytes;
    float weight;
} dec_ctx;

static double dec_loss(void *p)
{
    dec_ctx *c = p;
    nc_error err;
    assert_int_equal(nc_decoder_forward(c->dec, c->n, c->v, c->mask, 1, c->ws, c->ws_bytes, &err),
                     NC_OK);
    double loss;
    assert_int_equal(nc_decoder_backward(c->dec, c->n, c->raw, c->weight, &loss, NULL, c->ws,
                                         c->ws_bytes, &err),
                     NC_OK);
    return loss;
}

static float max_abs(const float *g, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(g[i]) > m ? fabsf(g[i]) : m;
    return m;
}

static void check_case(int classes, int dim, int size, int channels, int n)
{
    nc_error err;
    nc_decoder_plan plan;
    assert_int_equal(nc_decoder_plan_make(classes, dim, size, channels, n, &plan, &err), NC_OK);
    assert_int_equal(plan.params, nc_decoder_params(classes, dim, size, channels));
    nc_rng rng;
    nc_rng_seed(&rng, 7);
    nc_decoder *dec;
    assert_int_equal(nc_decoder_create(&plan, &rng, &dec, &err), NC_OK);

    nc_tensor_ref refs[32];
    int nt = nc_decoder_tensors(dec, refs, 32);
    assert_true(nt > 0 && nt <= 32);
    int64_t trainable = 0;
    for (int i = 0; i < nt; i++)
        if (refs[i].grad)
            trainable += (int64_t)refs[i].count;
    assert_int_equal(trainable, plan.params);

    dec_ctx c = {dec, n, NULL, NULL, NULL, NULL, plan.workspace, 0.392f};
    size_t vn = (size_t)n * classes * dim, img = (size_t)n * size * size * channels;
    c.v = nn_alloc(vn * sizeof(float));
    c.raw = nn_alloc(img * sizeof(float));
    c.mask = nn_alloc((size_t)n * sizeof(int32_t));
    c.ws = nn_alloc(plan.workspace);
    nn_fill(c.v, vn, &rng, -0.6, 0.6);
    nn_fill(c.raw, img, &rng, 0.0, 1.0);
    for (int b = 0; b < n; b++)
        c.mask[b] = (int32_t)nc_rng_range(&rng, 0, classes - 1);

    /* Batch norm at init is the identity on a standardised batch; perturb
     * gamma and beta so their gradients are not special. */
    for (int i = 0; i < nt; i++)
        if (strcmp(refs[i].name, "bn.gamma") == 0 || strcmp(refs[i].name, "bn.beta") == 0 ||
            strstr(refs[i].name, ".b"))
            nn_fill(refs[i].value, refs[i].count, &rng, -0.3, 0.3);
    for (int i = 0; i < nt; i++)
        if (strcmp(refs[i].name, "bn.gamma") == 0)
            for (size_t j = 0; j < refs[i].count; j++)
                refs[i].value[j] += 1.0f;

    float *dv = nn_alloc(vn * sizeof(float));
    for (int i = 0; i < nt; i++)
        if (refs[i].grad)
            memset(refs[i].grad, 0, refs[i].count * sizeof(float));
    assert_int_equal(nc_decoder_forward(dec, n, c.v, c.mask, 1, c.ws, c.ws_bytes, &err), NC_OK);
    const float *pred = nc_decoder_output(dec);
    for (size_t i = 0; i < img; i++)
        assert_true(pred[i] > 0.0f && pred[i] < 1.0f);
    double loss;
    assert_int_equal(nc_decoder_backward(dec, n, c.raw, c.weight, &loss, dv, c.ws, c.ws_bytes,
                                         &err),
                     NC_OK);
    assert_true(loss > 0.0);

    /* only the masked capsules get a gradient */
    for (int b = 0; b < n; b++)
        for (int k = 0; k < classes; k++)
            if (k != c.mask[b])
                for (int d = 0; d < dim; d++)
                    assert_true(dv[((size_t)b * classes + k) * dim + d] == 0.0f);
    nn_check_grad("dv", dec_loss, &c, c.v, dv, vn, 1e-3f, 3e-2, 3e-2 * max_abs(dv, vn), 40);
    for (int i = 0; i < nt; i++) {
        if (!refs[i].grad)
            continue;
        float *g = nn_alloc(refs[i].count * sizeof(float));
        memcpy(g, refs[i].grad, refs[i].count * sizeof(float));
        nn_check_grad(refs[i].name, dec_loss, &c, refs[i].value, g, refs[i].count, 1e-3f, 3e-2,
                      3e-2 * max_abs(g, refs[i].count), 12);
        free(g);
    }
    free(dv);
    free(c.v);
    free(c.raw);
    free(c.mask);
    free(c.ws);
    nc_decoder_free(dec);
}

static void test_decoder_cropped(void **state)
{
    (void)state;
    check_case(3, 4, 7, 2, 3);   /* m = 2: 8 x 8 cropped to 7 x 7 */
}

static void test_decoder_exact(void **state)
{
    (void)state;
    check_case(2, 3, 8, 1, 2);   /* m = 2: 8 x 8, nothing cropped */
}

static void test_decoder_macs(void **state)
{
    (void)state;
    nc_error err;
    nc_decoder_plan plan;
    assert_int_equal(nc_decoder_plan_make(3, 4, 7, 2, 5, &plan, &err), NC_OK);
    /* m = 2: dense 12 x 64, then per transposed conv (input pixels x 9 x
     * in x out): 4*9*16*64, 4*9*64*32, 16*9*32*16, 64*9*16*2 */
    assert_int_equal(plan.macs, 768 + 36864 + 73728 + 73728 + 18432);
}

static void test_decoder_refuses(void **state)
{
    (void)state;
    nc_error err;
    nc_decoder_plan plan;
    assert_int_equal(nc_decoder_plan_make(0, 4, 28, 1, 10, &plan, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "decoder: cannot reconstruct 28 x 28 x 1 images from 0 capsules "
                                 "of dim 4 (batch 10)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoder_cropped),
        cmocka_unit_test(test_decoder_exact),
        cmocka_unit_test(test_decoder_macs),
        cmocka_unit_test(test_decoder_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
