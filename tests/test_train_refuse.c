/* test_train_refuse.c - a network needing a layer plugin that cannot train
 * is refused, naming the plugin and its file: built for ABI 1.0, or with
 * a NULL training entry; nc_train reports it as status "refused". */
#include <stdio.h>
#include <string.h>

#include "nascaps/train.h"
#include "nc_test.h"

static const char tiny_chr[] =
    "[[0,8,1,1,3,1,8,4,1],[1,8,4,1,3,2,4,2,4],[1,4,2,4,4,1,1,3,4],[-1],[1]]";

static void refused(int fixture_case, const char *reason)
{
    char dir[512], want[1024];
    snprintf(dir, sizeof dir, "%s/case%d", NC_TRAIN_FIXTURE_DIR, fixture_case);
    nc_registry *reg = nc_registry_new();
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_registry_add_dir(reg, dir, NULL, &err), NC_OK);
    nc_genotype g;
    assert_int_equal(nc_genotype_parse(tiny_chr, "tiny.chr", &g, &err), NC_OK);
    nc_net_cfg cfg;
    nc_net_cfg_defaults(&cfg);
    cfg.max_batch = 4;
    nc_net *net = NULL;
    assert_int_equal(nc_net_build(reg, &g, "tiny.chr", NULL, &cfg, &net, &err), NC_ERR_INPUT);
    assert_null(net);
    snprintf(want, sizeof want,
             "tiny.chr: gene 1 (conv): layer plugin conv (%s/conv.so) cannot train: %s", dir,
             reason);
    assert_string_equal(err.msg, want);

    nc_net_memory m;
    assert_int_equal(nc_net_memory_estimate(reg, &g, "tiny.chr", &cfg, &m, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, want);

    const char *sets[] = {"dataset.plugin=synthetic", "dataset.size=8", "dataset.classes=3",
                          "dataset.train_count=20", "dataset.test_count=10"};
    nc_pipeline *p = NULL;
    nc_data *d = NULL;
    assert_int_equal(nc_pipeline_load(NULL, sets, 5, &p, &err), NC_OK);
    if (nc_data_open(reg, p, &d, &err))
        fail_msg("%s", err.msg);
    nc_train_opts opt;
    nc_train_opts_defaults(&opt);
    opt.net = cfg;
    nc_train_result res;
    assert_int_equal(nc_train(reg, d, &g, "tiny.chr", &opt, &net, &res, &err), NC_OK);
    assert_int_equal(res.status, NC_TRAIN_REFUSED);
    assert_string_equal(res.reason, want);
    assert_null(net);
    assert_int_equal(res.params, 1876);
    nc_train_result_free(&res);
    nc_data_close(d);
    nc_pipeline_free(p);
    nc_registry_free(reg);
}

static void test_abi_1_0(void **state)
{
    (void)state;
    refused(1, "built for ABI 1.0 without training entries");
}

static void test_null_entry(void **state)
{
    (void)state;
    refused(2, "training entry 'backward' is NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abi_1_0),
        cmocka_unit_test(test_null_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
