/* synthetic.c - the synthetic dataset plugin: seeded, generated images of
 * class-dependent shapes at a random position, scale and brightness, plus
 * noise. Nothing is stored: sample i of a split is drawn from its own rng
 * (seed, split, i), so any subset reads in O(1) and the data never
 * change for a given seed. Learnable (the shape is the class) but not
 * trivially: position, size, contrast and noise vary per image. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/dataset.h>
#include <nascaps/rng.h>

#define N_SHAPES 16

typedef struct synth {
    int size, channels, classes;
    int64_t count[2];
    uint64_t seed;
} synth;

/* Inside-test of shape k at (u, v) in the shape's own frame, [-1, 1]^2. */
static int inside(int k, double u, double v)
{
    double au = fabs(u), av = fabs(v), r = sqrt(u * u + v * v);
    double m = au > av ? au : av;
    switch (k) {
    case 0: return r < 1;                                   /* disk */
    case 1: return r < 1 && r > 0.55;                       /* ring */
    case 2: return m < 0.85;                                /* square */
    case 3: return m < 0.9 && m > 0.55;                     /* frame */
    case 4: return av < 0.3 && au < 1;                      /* horizontal bar */
    case 5: return au < 0.3 && av < 1;                      /* vertical bar */
    case 6: return (au < 0.25 && av < 1) || (av < 0.25 && au < 1);   /* plus */
    case 7: return fabs(au - av) < 0.3 && m < 1;            /* X */
    case 8: return v > -0.9 && v < 0.9 && au < (v + 0.9) / 1.8;      /* triangle */
    case 9: return fabs(u - v) < 0.35 && m < 1;             /* diagonal */
    case 10: return (u - 0.55) * (u - 0.55) + v * v < 0.16 ||
                    (u + 0.55) * (u + 0.55) + v * v < 0.16; /* two dots, side by side */
    case 11: return (v - 0.55) * (v - 0.55) + u * u < 0.16 ||
                    (v + 0.55) * (v + 0.55) + u * u < 0.16; /* two dots, stacked */
    case 12: return au + av < 1;                            /* diamond */
    case 13: return au + av < 1 && au + av > 0.6;           /* hollow diamond */
    case 14: return m < 1 && (u < -0.45 || v > 0.45);       /* L */
    default: return m < 1 && u * v > 0;                     /* checker */
    }
}

static void draw(const synth *s, int split, int64_t i, float *img, int32_t *label)
{
    char salt[64];
    nc_rng rng;
    snprintf(salt, sizeof salt, "synthetic/%d/%lld", split, (long long)i);
    nc_rng_derive(&rng, s->seed, salt);
    int cls = (int)nc_rng_range(&rng, 0, s->classes - 1);
    int n = s->size, c = s->channels;
    double half = (0.22 + 0.16 * nc_rng_uniform(&rng)) * n;   /* half-width */
    double cx = half + nc_rng_uniform(&rng) * (n - 2 * half);
    double cy = half + nc_rng_uniform(&rng) * (n - 2 * half);
    float color[NC_DATASET_MAX_CHANNELS];
    for (int ch = 0; ch < c; ch++)
        color[ch] = (float)(0.55 + 0.45 * nc_rng_uniform(&rng));
    float background = (float)(0.15 * nc_rng_uniform(&rng));
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            /* 2x2 supersampling softens the edges like a real photo */
            int hits = 0;
            for (int sy = 0; sy < 2; sy++)
                for (int sx = 0; sx < 2; sx++)
                    hits += inside(cls % N_SHAPES,
                                   (x + 0.25 + 0.5 * sx - cx) / half,
                                   (y + 0.25 + 0.5 * sy - cy) / half);
            float cover = (float)hits / 4.0f;
            for (int ch = 0; ch < c; ch++) {
                float v = background + cover * (color[ch] - background) +
                          (float)(0.08 * nc_rng_normal(&rng));
                img[((size_t)y * (size_t)n + (size_t)x) * (size_t)c + (size_t)ch] =
                    v < 0 ? 0.0f : v > 1 ? 1.0f : v;
            }
        }
    *label = cls;
}

static const nc_setting_spec synth_settings[] = {
    NC_SETTING_INT("size", 28, 8, 256, "image side in pixels"),
    NC_SETTING_INT("channels", 1, 1, NC_DATASET_MAX_CHANNELS,
                   "channels; colour is random per image"),
    NC_SETTING_INT("classes", 10, 2, N_SHAPES, "classes, one shape each"),
    NC_SETTING_INT("train_count", 2000, 1, 10000000, "train images"),
    NC_SETTING_INT("test_count", 500, 1, 10000000, "test images"),
    NC_SETTING_INT_MIN("seed", 0, 0,
                       "which synthetic dataset (independent of the run seed)"),
    NC_SETTING_END};

static int synth_open(const nc_section *sec, void **handle,
                      nc_dataset_info *info, nc_error *err)
{
    int64_t size, channels, classes, train, test, seed;
    int rc;
    const nc_setting_spec *T = synth_settings;
    if ((rc = nc_setting_int(sec, T, "size", &size, err)) != NC_OK ||
        (rc = nc_setting_int(sec, T, "channels", &channels, err)) != NC_OK ||
        (rc = nc_setting_int(sec, T, "classes", &classes, err)) != NC_OK ||
        (rc = nc_setting_int(sec, T, "train_count", &train, err)) != NC_OK ||
        (rc = nc_setting_int(sec, T, "test_count", &test, err)) != NC_OK ||
        (rc = nc_setting_int(sec, T, "seed", &seed, err)) != NC_OK)
        return rc;
    synth *s = calloc(1, sizeof *s);
    if (!s)
        return nc_error_set(err, NC_ERR_INTERNAL, "synthetic: out of memory");
    s->size = (int)size;
    s->channels = (int)channels;
    s->classes = (int)classes;
    s->count[0] = train;
    s->count[1] = test;
    s->seed = (uint64_t)seed;
    info->height = info->width = s->size;
    info->channels = s->channels;
    info->classes = s->classes;
    info->train_count = train;
    info->test_count = test;
    info->default_normalize = "none";
    snprintf(info->description, sizeof info->description,
             "synthetic shapes %dx%dx%d, %d classes, seed %lld", s->size,
             s->size, s->channels, s->classes, (long long)seed);
    *handle = s;
    return NC_OK;
}

static int synth_read(void *handle, int split, const int64_t *index, size_t n,
                      float *images, int32_t *labels, nc_error *err)
{
    const synth *s = handle;
    size_t per = (size_t)s->size * (size_t)s->size * (size_t)s->channels;
    for (size_t i = 0; i < n; i++)
        draw(s, split, index[i], images + i * per, &labels[i]);
    return NC_OK;
}

static void synth_close(void *handle)
{
    free(handle);
}

static const nc_dataset_ops synth_ops = {sizeof(nc_dataset_ops), synth_settings,
                                         synth_open, synth_read, synth_close};

static const nc_plugin_desc descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "synthetic", "1.0.0",
                         "generated shapes with noise, seeded (no files needed)",
                         &synth_ops),
};

NC_PLUGIN_ENTRY(descs)
