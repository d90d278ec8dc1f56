/* fakes.c - a dataset, an accelerator and an optimizer plugin in one .so,
 * for `nascaps validate` tests that must not depend on the real plugins.
 * Their settings go through the core's getters like a real plugin's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/accelerator.h>
#include <nascaps/dataset.h>
#include <nascaps/optimizer.h>

static const nc_setting_spec ds_settings[] = {
    NC_SETTING_INT_MIN("classes", 3, 1, "number of classes"),
    NC_SETTING_BOOL("refuse", false, "fail to open"),
    NC_SETTING_STRING("pixel", "0", NULL,
                      "the value of every pixel, read with strtod (a lie when not in [0, 1])"),
    NC_SETTING_END,
};

typedef struct fake_ds {
    int classes;
    float pixel;
} fake_ds;

static int ds_open(const nc_section *sec, void **handle, nc_dataset_info *info,
                   nc_error *err)
{
    int64_t classes;
    int refuse;
    const char *pixel = NULL;
    if (nc_section_get_int(sec, "classes", 3, 2, 100, &classes, err) ||
        nc_section_get_bool(sec, "refuse", 0, &refuse, err) ||
        nc_setting_string(sec, ds_settings, "pixel", &pixel, err))
        return err->status;
    if (refuse)
        return nc_section_error(sec, "refuse", err, "the fake dataset refuses");
    fake_ds *h = malloc(sizeof *h);
    if (!h)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    h->classes = (int)classes;
    h->pixel = pixel ? strtof(pixel, NULL) : 0.0f;
    memset(info, 0, sizeof *info);
    info->height = 8;
    info->width = 8;
    info->channels = 1;
    info->classes = (int)classes;
    info->train_count = 100;
    info->test_count = 20;
    info->default_normalize = "none";
    strcpy(info->description, "fake data");
    *handle = h;
    return NC_OK;
}

static int ds_read(void *handle, int split, const int64_t *index, size_t n,
                   float *images, int32_t *labels, nc_error *err)
{
    const fake_ds *h = handle;
    for (size_t i = 0; i < n * 64; i++)
        images[i] = h->pixel;
    for (size_t i = 0; i < n; i++)
        labels[i] = (int32_t)(index[i] % h->classes);
    return NC_OK;
}

static void ds_close(void *handle)
{
    free(handle);
}

static const nc_dataset_ops ds_ops = {sizeof ds_ops, ds_settings, ds_open,
                                      ds_read, ds_close};

static const nc_setting_spec acc_settings[] = {
    NC_SETTING_INT_MIN("rows", 16, 1, "rows"),
    NC_SETTING_END,
};

typedef struct fake_acc {
    char text[64];
} fake_acc;

static int acc_create(const nc_section *sec, void **instance, nc_error *err)
{
    int64_t rows;
    if (nc_section_get_int(sec, "rows", 16, 1, 64, &rows, err))
        return err->status;
    fake_acc *a = malloc(sizeof *a);
    if (!a)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    snprintf(a->text, sizeof a->text, "fake accelerator, %d rows", (int)rows);
    *instance = a;
    return NC_OK;
}

static int acc_cost(void *instance, const nc_hw_op *op, nc_hw_cost *out,
                    nc_error *err)
{
    memset(out, 0, sizeof *out);
    return NC_OK;
}

static void acc_destroy(void *instance)
{
    free(instance);
}

static const char *acc_describe(void *instance)
{
    return ((fake_acc *)instance)->text;
}

static const nc_accelerator_ops acc_ops = {sizeof acc_ops, acc_settings,
                                           acc_create, acc_cost, acc_destroy,
                                           acc_describe};

/* An accelerator whose figures lie (issue 15): the host must refuse them. */
static const char *const lies[] = {"nan", "inf", "negative", "none", NULL};
static const nc_setting_spec liar_settings[] = {
    NC_SETTING_STRING("lie", "nan", lies, "what the energy of every operation is"),
    NC_SETTING_END,
};

static int liar_create(const nc_section *sec, void **instance, nc_error *err)
{
    int *which = malloc(sizeof *which);
    if (!which)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    if (nc_setting_choice(sec, liar_settings, "lie", which, err)) {
        free(which);
        return err->status;
    }
    *instance = which;
    return NC_OK;
}

static int liar_cost(void *instance, const nc_hw_op *op, nc_hw_cost *out, nc_error *err)
{
    (void)op;
    (void)err;
    static const double energy[] = {NAN, INFINITY, -1.0, 0.5};
    memset(out, 0, sizeof *out);
    out->cycles = 10;
    out->latency_ms = 0.1;
    out->memory_bytes = 64;
    out->energy_mj = energy[*(int *)instance];
    out->area_um2 = NAN;
    return NC_OK;
}

static const nc_accelerator_ops liar_ops = {sizeof liar_ops, liar_settings, liar_create,
                                            liar_cost, acc_destroy, NULL};

static const nc_setting_spec opt_settings[] = {
    NC_SETTING_INT_MIN("population", 10, 1, "population"),
    NC_SETTING_END,
};

/* an ABI 1.0 optimizer table: settings only, no search entries */
static const nc_optimizer_ops opt_ops = {.size = NC_OPTIMIZER_OPS_MIN_SIZE,
                                         .settings = opt_settings};

static const nc_plugin_desc descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "fakeds", "0.1", "fake dataset", &ds_ops),
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, "fakeacc", "0.1", "fake accelerator",
                         &acc_ops),
    NC_PLUGIN_DESCRIPTOR(NC_KIND_OPTIMIZER, "fakeopt", "0.1", "fake optimizer",
                         &opt_ops),
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, "liaracc", "0.1", "accelerator that lies",
                         &liar_ops),
};
NC_PLUGIN_ENTRY(descs)
