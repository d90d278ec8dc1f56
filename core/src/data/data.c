/* data.c - splits, normalisation, resize, shift and batches over a
 * dataset plugin (nascaps/data.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/data.h"

struct nc_data {
    const nc_dataset_ops *ops;
    void *handle;
    nc_dataset_info info;
    char *name;
    int resize, normalize;
    int64_t *index[NC_DATA_SPLITS];   /* split sample -> plugin index */
    int64_t count[NC_DATA_SPLITS];
    float *mean, *inv_std, *std;      /* per channel */
    float *native, *shifted;          /* one native image each */
    size_t native_size, out_size;     /* floats per image */
    uint64_t fingerprint;
    nc_data_summary summary;
};

static const char *const split_names[NC_DATA_SPLITS] = {"train", "validation",
                                                        "test"};

/* A setting error in the standard form when the section is known. */
static int option_error(const nc_section *sec, const char *key, nc_error *err,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int option_error(const nc_section *sec, const char *key, nc_error *err,
                        const char *fmt, ...)
{
    char msg[NC_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sec)
        return nc_section_error(sec, key, err, "%s", msg);
    return nc_error_set(err, NC_ERR_INPUT, "setting 'dataset.%s': %s", key, msg);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The first k of a seeded permutation of 0..n-1 land in perm[0..k). */
static void partial_shuffle(int64_t *perm, int64_t n, int64_t k, nc_rng *rng)
{
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = 0; i < k && i < n - 1; i++) {
        int64_t j = nc_rng_range(rng, i, n - 1);
        int64_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int check_info(const char *name, const nc_dataset_info *in, nc_error *err)
{
    const char *what = NULL;
    long long v = 0, lo = 0, hi = 0;
    if (in->height < 1 || in->height > NC_DATASET_MAX_SIDE)
        what = "height", v = in->height, lo = 1, hi = NC_DATASET_MAX_SIDE;
    else if (in->width < 1 || in->width > NC_DATASET_MAX_SIDE)
        what = "width", v = in->width, lo = 1, hi = NC_DATASET_MAX_SIDE;
    else if (in->channels < 1 || in->channels > NC_DATASET_MAX_CHANNELS)
        what = "channels", v = in->channels, lo = 1, hi = NC_DATASET_MAX_CHANNELS;
    else if (in->classes < 2 || in->classes > NC_DATASET_MAX_CLASSES)
        what = "classes", v = in->classes, lo = 2, hi = NC_DATASET_MAX_CLASSES;
    else if (in->train_count < 1 || in->train_count > INT32_MAX)
        what = "train_count", v = in->train_count, lo = 1, hi = INT32_MAX;
    else if (in->test_count < 1 || in->test_count > INT32_MAX)
        what = "test_count", v = in->test_count, lo = 1, hi = INT32_MAX;
    if (what)
        return nc_error_set(err, NC_ERR_INPUT,
                            "dataset plugin '%s': open() reported %s %lld, "
                            "expected %lld..%lld", name, what, v, lo, hi);
    if (in->default_normalize && strcmp(in->default_normalize, "none") &&
        strcmp(in->default_normalize, "standard"))
        return nc_error_set(err, NC_ERR_INPUT,
                            "dataset plugin '%s': open() reported default "
                            "normalisation \"%.40s\", expected \"none\" or "
                            "\"standard\"", name, in->default_normalize);
    return NC_OK;
}

static int make_splits(nc_data *d, const nc_section *sec,
                       const nc_data_options *opt, nc_error *err)
{
    int64_t ntrain = d->info.train_count, ntest = d->info.test_count;
    if (opt->validation < 0 || opt->validation >= ntrain)
        return option_error(sec, "validation", err,
                            "%lld images held out for validation, expected "
                            "0..%lld (the plugin has %lld train images and at "
                            "least one must stay for training)",
                            (long long)opt->validation, (long long)(ntrain - 1),
                            (long long)ntrain);
    int64_t left = ntrain - opt->validation;
    if (opt->train_subset < 0 || opt->train_subset > left)
        return option_error(sec, "train_subset", err,
                            "%lld train images asked, expected 0..%lld (%lld "
                            "train images%s)", (long long)opt->train_subset,
                            (long long)left, (long long)ntrain,
                            opt->validation ? " less the validation hold-out" : "");
    if (opt->test_subset < 0 || opt->test_subset > ntest)
        return option_error(sec, "test_subset", err,
                            "%lld test images asked, expected 0..%lld",
                            (long long)opt->test_subset, (long long)ntest);
    int64_t ntr = opt->train_subset ? opt->train_subset : left;
    int64_t nte = opt->test_subset ? opt->test_subset : ntest;
    d->count[NC_DATA_TRAIN] = ntr;
    d->count[NC_DATA_VALIDATION] = opt->validation;
    d->count[NC_DATA_TEST] = nte;

    int64_t *perm = malloc((size_t)(ntrain > ntest ? ntrain : ntest) * sizeof *perm);
    for (int s = 0; s < NC_DATA_SPLITS; s++)
        d->index[s] = malloc((size_t)(d->count[s] ? d->count[s] : 1) * sizeof(int64_t));
    if (!perm || !d->index[0] || !d->index[1] || !d->index[2]) {
        free(perm);
        return nc_error_set(err, NC_ERR_INTERNAL, "dataset: out of memory for "
                            "the split indices");
    }
    /* Validation first, then the train subset from what is left, both from
     * one permutation: disjoint by construction, and the validation images
     * do not change when only train_subset does. */
    nc_rng rng;
    nc_rng_derive(&rng, opt->seed, "dataset.split.train");
    partial_shuffle(perm, ntrain, opt->validation + ntr, &rng);
    memcpy(d->index[NC_DATA_VALIDATION], perm, (size_t)opt->validation * sizeof *perm);
    memcpy(d->index[NC_DATA_TRAIN], perm + opt->validation, (size_t)ntr * sizeof *perm);
    nc_rng_derive(&rng, opt->seed, "dataset.split.test");
    partial_shuffle(perm, ntest, nte, &rng);
    memcpy(d->index[NC_DATA_TEST], perm, (size_t)nte * sizeof *perm);
    free(perm);
    /* sorted: reads walk the plugin's memory in order; the epoch order is
     * the iterator's business */
    for (int s = 0; s < NC_DATA_SPLITS; s++)
        qsort(d->index[s], (size_t)d->count[s], sizeof(int64_t), cmp_i64);
    return NC_OK;
}

static int read_native(nc_data *d, int split, int64_t i, float *img,
                       int32_t *label, nc_error *err)
{
    int64_t src = d->index[split][i];
    int32_t lab = -1;
    int psplit = split == NC_DATA_TEST ? NC_SPLIT_TEST : NC_SPLIT_TRAIN;
    int rc = d->ops->read(d->handle, psplit, &src, 1, img, &lab, err);
    if (rc != NC_OK) {
        if (err && err->status == NC_OK)
            nc_error_set(err, rc, "dataset plugin '%s': read() failed on %s "
                         "image %lld", d->name, psplit ? "test" : "train",
                         (long long)src);
        return rc;
    }
    if (lab < 0 || lab >= d->info.classes)
        return nc_error_set(err, NC_ERR_INPUT,
                            "dataset plugin '%s': read() gave label %ld for %s "
                            "image %lld, expected 0..%d", d->name, (long)lab,
                            psplit ? "test" : "train", (long long)src,
                            d->info.classes - 1);
    /* The contract is pixels in [0, 1]; a plugin's NaN or 1e30 would train
     * silently to chance accuracy. One pass over the image it just wrote,
     * before normalisation (a small tolerance for rounding). */
    for (size_t k = 0; k < d->native_size; k++)
        if (!(img[k] >= -1e-6f && img[k] <= 1.000001f))
            return nc_error_set(err, NC_ERR_INPUT,
                                "dataset plugin '%s': read() gave pixel %zu of %s image "
                                "%lld = %g, expected a number in [0, 1]", d->name, k,
                                psplit ? "test" : "train", (long long)src, (double)img[k]);
    *label = lab;
    return NC_OK;
}

static int compute_stats(nc_data *d, nc_error *err)
{
    int c = d->info.channels;
    double *sum = calloc((size_t)c * 2, sizeof *sum);
    if (!sum)
        return nc_error_set(err, NC_ERR_INTERNAL, "dataset: out of memory");
    double *sq = sum + c;
    size_t pixels = (size_t)d->info.height * (size_t)d->info.width;
    for (int64_t i = 0; i < d->count[NC_DATA_TRAIN]; i++) {
        int32_t lab = -1;
        int rc = read_native(d, NC_DATA_TRAIN, i, d->native, &lab, err);
        if (rc != NC_OK) {
            free(sum);
            return rc;
        }
        for (size_t p = 0; p < pixels; p++)
            for (int ch = 0; ch < c; ch++) {
                double v = d->native[p * (size_t)c + (size_t)ch];
                sum[ch] += v;
                sq[ch] += v * v;
            }
    }
    double n = (double)d->count[NC_DATA_TRAIN] * (double)pixels;
    for (int ch = 0; ch < c; ch++) {
        double mean = sum[ch] / n;
        double var = sq[ch] / n - mean * mean;
        double sd = var > 0 ? sqrt(var) : 0;
        /* a constant channel carries no information: leave its scale */
        if (!(sd > 1e-6))
            sd = 1;
        d->mean[ch] = (float)mean;
        d->std[ch] = (float)sd;
        d->inv_std[ch] = (float)(1.0 / sd);
    }
    free(sum);
    return NC_OK;
}

static void fill_summary(nc_data *d)
{
    nc_data_summary *s = &d->summary;
    s->height = d->info.height * d->resize;
    s->width = d->info.width * d->resize;
    s->channels = d->info.channels;
    s->classes = d->info.classes;
    s->native_height = d->info.height;
    s->native_width = d->info.width;
    s->resize = d->resize;
    s->normalize = d->normalize;
    for (int i = 0; i < NC_DATA_SPLITS; i++)
        s->count[i] = d->count[i];
    s->plugin = d->name;
    s->description = d->info.description;
}

static uint64_t fingerprint(const nc_data *d)
{
    char text[512];
    int len = snprintf(text, sizeof text, "%s|%s|%dx%dx%d|%d|%s|%lld|%lld|%lld",
                       d->name, d->info.description, d->info.height,
                       d->info.width, d->info.channels, d->info.classes,
                       d->normalize ? "standard" : "none",
                       (long long)d->count[0], (long long)d->count[1],
                       (long long)d->count[2]);
    uint64_t h = nc_hash64(text, (size_t)(len < 0 ? 0 : len < (int)sizeof text ? len : (int)sizeof text - 1));
    for (int s = 0; s < NC_DATA_SPLITS; s++)
        h = (h * 0x100000001b3ULL) ^
            nc_hash64(d->index[s], (size_t)d->count[s] * sizeof(int64_t));
    return h;
}

int nc_data_open_ops(const nc_dataset_ops *ops, const char *name,
                     const nc_section *sec, const nc_data_options *opt,
                     nc_data **out, nc_error *err)
{
    *out = NULL;
    if (!name)
        name = "?";
    if (!ops || ops->size < NC_DATASET_OPS_MIN_SIZE || !ops->open ||
        !ops->read || !ops->close)
        return nc_error_set(err, NC_ERR_INPUT, "dataset plugin '%s': ops table "
                            "incomplete (size %u, open/read/close required)",
                            name, ops ? (unsigned)ops->size : 0u);
    nc_data *d = calloc(1, sizeof *d);
    if (!d || !(d->name = strdup(name))) {
        free(d);
        return nc_error_set(err, NC_ERR_INTERNAL, "dataset: out of memory");
    }
    d->ops = ops;
    d->resize = 1;
    int rc = ops->open(sec, &d->handle, &d->info, err);
    if (rc != NC_OK) {
        if (err && err->status == NC_OK)
            nc_error_set(err, rc, "dataset plugin '%s': open() failed", name);
        d->handle = NULL;
        nc_data_close(d);
        return rc;
    }
    d->info.description[sizeof d->info.description - 1] = '\0';
    rc = check_info(name, &d->info, err);
    if (rc == NC_OK)
        rc = make_splits(d, sec, opt, err);
    if (rc != NC_OK) {
        nc_data_close(d);
        return rc;
    }
    d->normalize = opt->normalize;
    if (d->normalize < 0)
        d->normalize = d->info.default_normalize &&
                       !strcmp(d->info.default_normalize, "standard")
                           ? NC_NORMALIZE_STANDARD : NC_NORMALIZE_NONE;
    int c = d->info.channels;
    d->mean = calloc((size_t)c * 3, sizeof(float));
    rc = nc_data_set_resize(d, 1, err);
    if (rc == NC_OK && !d->mean)
        rc = nc_error_set(err, NC_ERR_INTERNAL, "dataset: out of memory");
    if (rc != NC_OK) {
        nc_data_close(d);
        return rc;
    }
    d->std = d->mean + c;
    d->inv_std = d->std + c;
    for (int ch = 0; ch < c; ch++)
        d->std[ch] = d->inv_std[ch] = 1;
    if (d->normalize == NC_NORMALIZE_STANDARD &&
        (rc = compute_stats(d, err)) != NC_OK) {
        nc_data_close(d);
        return rc;
    }
    /* Probe the first image of each split now, so that a plugin handing
     * out NaN, out-of-range pixels or labels is refused at open (and by
     * validate), not after the first candidate started training. */
    for (int s = 0; s < NC_DATA_SPLITS; s++) {
        int32_t lab;
        if (d->count[s] > 0 && (rc = read_native(d, s, 0, d->native, &lab, err)) != NC_OK) {
            nc_data_close(d);
            return rc;
        }
    }
    d->fingerprint = fingerprint(d);
    fill_summary(d);
    *out = d;
    return NC_OK;
}

static const char *const normalizations[] = {"none", "standard", NULL};

const nc_setting_spec nc_data_settings[] = {
    NC_SETTING_INT("train_subset", 0, 0, INT32_MAX,
                   "train on this many images (a seeded subset); 0: all"),
    NC_SETTING_INT("test_subset", 0, 0, INT32_MAX,
                   "test on this many images (a seeded subset); 0: all"),
    NC_SETTING_INT("validation", 0, 0, INT32_MAX,
                   "images held out of the training split to score the "
                   "search; 0: score on the test split"),
    {"normalize", NC_SET_STRING, "per plugin",
     "\"none\" (pixels in [0, 1]) or \"standard\" (per-channel mean 0, "
     "deviation 1)", NC_SETF_NO_DEFAULT, 0, 0, normalizations, NULL},
    NC_SETTING_END};

int nc_data_options_read(const nc_pipeline *p, nc_data_options *opt,
                         nc_error *err)
{
    const nc_section *sec = nc_pipeline_section(p, "dataset");
    opt->normalize = -1;
    const char *norm = NULL;
    if (nc_setting_int(sec, nc_data_settings, "train_subset",
                       &opt->train_subset, err) ||
        nc_setting_int(sec, nc_data_settings, "test_subset", &opt->test_subset,
                       err) ||
        nc_setting_int(sec, nc_data_settings, "validation", &opt->validation,
                       err) ||
        nc_setting_string(sec, nc_data_settings, "normalize", &norm, err) ||
        nc_core_seed(p, &opt->seed, err))
        return err->status;
    for (int i = 0; norm && normalizations[i]; i++)
        if (strcmp(norm, normalizations[i]) == 0)
            opt->normalize = i;
    return NC_OK;
}

static int open_dataset(const nc_plugin_ref *ref, void *ctx, nc_error *err)
{
    void **args = ctx;
    return nc_data_open_ops(ref->ops, ref->info->desc->name, ref->section,
                            args[0], args[1], err);
}

int nc_data_open(nc_registry *reg, const nc_pipeline *p, nc_data **out,
                 nc_error *err)
{
    *out = NULL;
    nc_data_options opt = {0, 0, 0, -1, 1};
    if (nc_data_options_read(p, &opt, err))
        return err->status;
    void *args[2] = {&opt, out};
    nc_plugin_ref ref;
    return nc_plugin_open(reg, p, NC_KIND_DATASET, NULL, NULL, nc_data_settings,
                          open_dataset, args, &ref, err);
}

void nc_data_close(nc_data *d)
{
    if (!d)
        return;
    if (d->handle)
        d->ops->close(d->handle);
    for (int s = 0; s < NC_DATA_SPLITS; s++)
        free(d->index[s]);
    free(d->mean);
    free(d->native);
    free(d->shifted);
    free(d->name);
    free(d);
}

const nc_data_summary *nc_data_info(const nc_data *d)
{
    return &d->summary;
}

int nc_data_set_resize(nc_data *d, int factor, nc_error *err)
{
    if (factor != 1 && factor != 2)
        return nc_error_set(err, NC_ERR_INPUT, "dataset: resize factor %d, "
                            "expected 1 or 2", factor);
    size_t native = (size_t)d->info.height * (size_t)d->info.width *
                    (size_t)d->info.channels;
    if (!d->native) {
        d->native = malloc(native * sizeof(float));
        d->shifted = malloc(native * sizeof(float));
        if (!d->native || !d->shifted)
            return nc_error_set(err, NC_ERR_INTERNAL, "dataset: out of memory");
    }
    d->native_size = native;
    d->out_size = native * (size_t)factor * (size_t)factor;
    d->resize = factor;
    fill_summary(d);
    return NC_OK;
}

int64_t nc_data_split_count(const nc_data *d, int split)
{
    return split >= 0 && split < NC_DATA_SPLITS ? d->count[split] : 0;
}

void nc_data_channel_stats(const nc_data *d, int c, float *mean, float *std)
{
    int ok = c >= 0 && c < d->info.channels;
    *mean = ok ? d->mean[c] : 0.0f;
    *std = ok ? d->std[c] : 1.0f;
}

int64_t nc_data_source_index(const nc_data *d, int split, int64_t i)
{
    if (split < 0 || split >= NC_DATA_SPLITS || i < 0 || i >= d->count[split])
        return -1;
    return d->index[split][i];
}

uint64_t nc_data_fingerprint(const nc_data *d)
{
    return d->fingerprint;
}

int nc_data_batch(nc_data *d, int split, const int64_t *indices, size_t n,
                  float *images, float *raw, int32_t *labels,
                  nc_rng *augment, double shift_fraction, nc_error *err)
{
    if (split < 0 || split >= NC_DATA_SPLITS)
        return nc_error_set(err, NC_ERR_INPUT, "dataset: unknown split %d", split);
    if (!(shift_fraction >= 0 && shift_fraction <= 1))
        return nc_error_set(err, NC_ERR_INPUT, "dataset: shift fraction %g, "
                            "expected 0..1", shift_fraction);
    int h = d->info.height, w = d->info.width, c = d->info.channels;
    int my = (int)floor(shift_fraction * h + 1e-9);
    int mx = (int)floor(shift_fraction * w + 1e-9);
    int shift = augment && (my > 0 || mx > 0);
    for (size_t i = 0; i < n; i++) {
        if (indices[i] < 0 || indices[i] >= d->count[split])
            return nc_error_set(err, NC_ERR_INPUT, "dataset: %s index %lld out "
                                "of range 0..%lld", split_names[split],
                                (long long)indices[i],
                                (long long)d->count[split] - 1);
        int32_t lab = -1;
        int rc = read_native(d, split, indices[i], d->native, &lab, err);
        if (rc != NC_OK)
            return rc;
        const float *cur = d->native;
        if (shift) {
            int dy = (int)nc_rng_range(augment, -my, my);
            int dx = (int)nc_rng_range(augment, -mx, mx);
            if (dy || dx) {
                nc_image_shift(d->native, h, w, c, dy, dx, d->shifted);
                cur = d->shifted;
            }
        }
        float *o = images + i * d->out_size;
        if (d->resize == 2)
            nc_image_resize2x(cur, h, w, c, o);
        else
            memcpy(o, cur, d->native_size * sizeof *o);
        if (raw)
            memcpy(raw + i * d->out_size, o, d->out_size * sizeof *o);
        if (d->normalize == NC_NORMALIZE_STANDARD) {
            size_t pixels = d->out_size / (size_t)c;
            for (size_t p = 0; p < pixels; p++)
                for (int ch = 0; ch < c; ch++)
                    o[p * (size_t)c + (size_t)ch] =
                        (o[p * (size_t)c + (size_t)ch] - d->mean[ch]) * d->inv_std[ch];
        }
        if (labels)
            labels[i] = lab;
    }
    return NC_OK;
}

struct nc_data_iter {
    nc_data *d;
    int split;
    size_t batch;
    int64_t *order;
    int64_t count, pos;
};

int nc_data_iter_new(nc_data *d, int split, size_t batch_size,
                     nc_data_iter **out, nc_error *err)
{
    *out = NULL;
    if (split < 0 || split >= NC_DATA_SPLITS)
        return nc_error_set(err, NC_ERR_INPUT, "dataset: unknown split %d", split);
    if (batch_size < 1)
        return nc_error_set(err, NC_ERR_INPUT, "dataset: batch size 0, "
                            "expected >= 1");
    nc_data_iter *it = calloc(1, sizeof *it);
    int64_t count = d->count[split];
    if (it)
        it->order = malloc((size_t)(count ? count : 1) * sizeof *it->order);
    if (!it || !it->order) {
        free(it);
        return nc_error_set(err, NC_ERR_INTERNAL, "dataset: out of memory");
    }
    it->d = d;
    it->split = split;
    it->batch = batch_size;
    it->count = count;
    nc_data_iter_start(it, NULL);
    *out = it;
    return NC_OK;
}

void nc_data_iter_free(nc_data_iter *it)
{
    if (it) {
        free(it->order);
        free(it);
    }
}

void nc_data_iter_start(nc_data_iter *it, nc_rng *shuffle)
{
    for (int64_t i = 0; i < it->count; i++)
        it->order[i] = i;
    if (shuffle)
        for (int64_t i = it->count - 1; i > 0; i--) {
            int64_t j = nc_rng_range(shuffle, 0, i);
            int64_t t = it->order[i];
            it->order[i] = it->order[j];
            it->order[j] = t;
        }
    it->pos = 0;
}

size_t nc_data_iter_batches(const nc_data_iter *it)
{
    return (size_t)((it->count + (int64_t)it->batch - 1) / (int64_t)it->batch);
}

int nc_data_iter_next(nc_data_iter *it, float *images, float *raw,
                      int32_t *labels, nc_rng *augment, double shift_fraction,
                      size_t *n, nc_error *err)
{
    int64_t left = it->count - it->pos;
    size_t take = left < (int64_t)it->batch ? (size_t)left : it->batch;
    *n = 0;
    if (take == 0)
        return NC_OK;
    int rc = nc_data_batch(it->d, it->split, it->order + it->pos, take, images,
                           raw, labels, augment, shift_fraction, err);
    if (rc != NC_OK)
        return rc;
    it->pos += (int64_t)take;
    *n = take;
    return NC_OK;
}
