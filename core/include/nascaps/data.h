/* nascaps/data.h - the core data services over a dataset plugin.
 *
 * An nc_data wraps one opened dataset plugin and adds what every plugin
 * gets for free (docs/DATASETS.md):
 *   - splits: TRAIN and VALIDATION are disjoint seeded parts of the
 *     plugin's train images (dataset.validation, dataset.train_subset);
 *     TEST is a seeded part of its test images (dataset.test_subset);
 *   - normalisation: "none" (pixels in [0,1]) or "standard" (per-channel
 *     mean and std measured on the TRAIN split, at native size);
 *   - bilinear resize x2 (the genotype's resize gene);
 *   - random shift augmentation (zero fill, per image, seeded);
 *   - a batch iterator with a shuffled epoch order.
 *
 * Pixel pipeline of one sample in nc_data_batch():
 *   plugin read ([0,1], native HxW) -> shift (native, integer pixels,
 *   zero fill) -> resize (bilinear, align_corners = false) -> raw copy
 *   (the decoder's reconstruction target) -> normalise -> images.
 *
 * Seeds: the splits come from the pipeline's `seed` (so every candidate of
 * a run sees the same split); shuffling and augmentation take the caller's
 * nc_rng (so a candidate's training is reproducible from its own rng).
 *
 * Not thread-safe: one call at a time per nc_data (it owns scratch
 * buffers so that batches never allocate). Tensors are NHWC floats,
 * labels int32; the caller owns every buffer it passes. */
#ifndef NASCAPS_DATA_H
#define NASCAPS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "error.h"
#include "pipeline.h"
#include "registry.h"
#include "rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_data nc_data;

typedef enum nc_data_split {
    NC_DATA_TRAIN = 0,
    NC_DATA_VALIDATION = 1,
    NC_DATA_TEST = 2
} nc_data_split;
#define NC_DATA_SPLITS 3

typedef enum nc_data_normalize {
    NC_NORMALIZE_NONE = 0,
    NC_NORMALIZE_STANDARD = 1
} nc_data_normalize;

/* What the data look like to a network (after resize). */
typedef struct nc_data_summary {
    int height, width, channels, classes;   /* batch tensors' shape */
    int native_height, native_width;        /* the plugin's size */
    int resize;                             /* 1 or 2 */
    int normalize;                          /* an nc_data_normalize */
    int64_t count[NC_DATA_SPLITS];          /* images per nc_data_split */
    const char *plugin;                     /* plugin name (borrowed) */
    const char *description;                /* the plugin's one line */
} nc_data_summary;

/* Options of the core services; nc_data_open() reads them from the
 * pipeline's dataset section. */
typedef struct nc_data_options {
    int64_t train_subset;    /* 0: all (after the validation hold-out) */
    int64_t test_subset;     /* 0: all */
    int64_t validation;      /* images held out of train; 0: none */
    int normalize;           /* an nc_data_normalize, or -1: plugin default */
    uint64_t seed;           /* drives the subsets and the split */
} nc_data_options;

/* The core's keys of the dataset section (besides `plugin`, see
 * nc_plugin_open): train_subset, test_subset, validation, normalize. */
extern const nc_setting_spec nc_data_settings[];

/* Reads those keys and the run seed into opt (the one reader of them). */
int nc_data_options_read(const nc_pipeline *p, nc_data_options *opt,
                         nc_error *err);

/* Opens the dataset of a pipeline through nc_plugin_open (dataset.plugin,
 * default "idx"; unknown keys of the section refused) with the options of
 * nc_data_options_read.
 * Errors are one line; setting errors name the setting and where it was
 * set. */
int nc_data_open(nc_registry *reg, const nc_pipeline *p, nc_data **out,
                 nc_error *err);

/* Opens a plugin given its ops table directly (tests, embedders). sec is
 * handed to the plugin's open() as is (may come from any pipeline); name
 * labels messages. Setting errors about options are reported against the
 * setting names dataset.train_subset etc. */
int nc_data_open_ops(const nc_dataset_ops *ops, const char *name,
                     const nc_section *sec, const nc_data_options *opt,
                     nc_data **out, nc_error *err);

void nc_data_close(nc_data *d);

/* Borrowed; valid until the next nc_data_set_resize() or close. */
const nc_data_summary *nc_data_info(const nc_data *d);

/* factor 1 (native) or 2 (bilinear x2). Reallocates the scratch buffers
 * (never during a batch). */
int nc_data_set_resize(nc_data *d, int factor, nc_error *err);

/* Images in a split (an nc_data_split); 0 for an unknown split. */
int64_t nc_data_split_count(const nc_data *d, int split);

/* Per-channel statistics used by "standard" normalisation (mean 0, std 1
 * for "none"). c in [0, channels). */
void nc_data_channel_stats(const nc_data *d, int c, float *mean, float *std);

/* Fills n samples of a split: indices are in [0, split count).
 * images: [n, H, W, C] (H, W after resize), normalised.
 * raw: same shape, [0,1] pixels before normalisation (after shift and
 *   resize): the reconstruction target; NULL when not wanted.
 * labels: [n] (NULL allowed).
 * augment: when non-NULL and shift_fraction > 0, each image is shifted by
 *   dx, dy drawn uniformly in [-m, m] with m = floor(shift_fraction *
 *   native side), zero fill; NULL: no augmentation.
 * Allocates nothing. An index out of range is NC_ERR_INPUT. */
int nc_data_batch(nc_data *d, int split, const int64_t *indices, size_t n,
                  float *images, float *raw, int32_t *labels,
                  nc_rng *augment, double shift_fraction, nc_error *err);

/* The plugin's own index (into its train or test images) of sample i of a
 * split, or -1 when out of range. Lets a caller report which file image
 * a sample is. */
int64_t nc_data_source_index(const nc_data *d, int split, int64_t i);

/* A stable 64-bit identity of what the splits contain (plugin, its
 * description, shapes, normalisation, the chosen indices), for cache keys
 * of results. Resize is not included (it is the genotype's). */
uint64_t nc_data_fingerprint(const nc_data *d);

/* Batch iterator: walks one split in batches of batch_size; the last
 * batch of an epoch may be shorter. Holds the epoch order (allocated at
 * creation); batches allocate nothing. */
typedef struct nc_data_iter nc_data_iter;

int nc_data_iter_new(nc_data *d, int split, size_t batch_size,
                     nc_data_iter **out, nc_error *err);
void nc_data_iter_free(nc_data_iter *it);
/* Starts an epoch: order shuffled with shuffle (Fisher-Yates), or in
 * index order when shuffle is NULL. */
void nc_data_iter_start(nc_data_iter *it, nc_rng *shuffle);
/* Batches per epoch: ceil(count / batch_size). */
size_t nc_data_iter_batches(const nc_data_iter *it);
/* Next batch of the epoch into images/raw/labels (as nc_data_batch, with
 * room for batch_size samples); *n gets the samples filled, 0 when the
 * epoch is over. */
int nc_data_iter_next(nc_data_iter *it, float *images, float *raw,
                      int32_t *labels, nc_rng *augment, double shift_fraction,
                      size_t *n, nc_error *err);

/* The sample-level transforms, exposed for tests and reuse.
 * Bilinear x2 of one H x W x C image into 2H x 2W x C, half-pixel centres
 * (align_corners = false), edges clamped. */
void nc_image_resize2x(const float *in, int h, int w, int c, float *out);
/* out = in shifted by (dy, dx) pixels (positive: down, right), zero fill.
 * in and out must not overlap. */
void nc_image_shift(const float *in, int h, int w, int c, int dy, int dx,
                    float *out);

#ifdef __cplusplus
}
#endif
#endif
