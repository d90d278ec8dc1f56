/* nascaps/dataset.h - the dataset plugin kind.
 *
 * A dataset plugin opens its files (or generates its data) and reads
 * samples by index as float pixels in [0, 1], NHWC, labels 0..classes-1.
 * Normalisation, resize x2, shift augmentation, subsets and the validation
 * split are core services (dataprep, see docs/ARCHITECTURE.md): a plugin
 * only decodes. */
#ifndef NASCAPS_DATASET_H
#define NASCAPS_DATASET_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nc_split { NC_SPLIT_TRAIN = 0, NC_SPLIT_TEST = 1 } nc_split;

typedef struct nc_dataset_info {
    int height, width, channels, classes;
    int64_t train_count, test_count;
    /* "none" or "standard": what `dataset.normalize` defaults to. */
    const char *default_normalize;
    /* One line for `nascaps validate`, e.g. "Fashion-MNIST (IDX, gzip)". */
    char description[160];
} nc_dataset_info;

typedef struct nc_dataset_ops {
    uint32_t size;                     /* sizeof(nc_dataset_ops) */
    /* ABI 1.0 */
    const nc_setting_spec *settings;   /* known settings of its section */
    /* Opens (and checks) the data; fills info. */
    int (*open)(const nc_section *sec, void **handle, nc_dataset_info *info,
                nc_error *err);
    /* Reads n samples of a split by index: images [n, H, W, C] floats in
     * [0,1], labels [n]. Indices are checked by the core. */
    int (*read)(void *handle, int split, const int64_t *index, size_t n,
                float *images, int32_t *labels, nc_error *err);
    void (*close)(void *handle);
} nc_dataset_ops;

#define NC_DATASET_OPS_MIN_SIZE \
    (offsetof(nc_dataset_ops, close) + sizeof(void (*)(void *)))

#ifdef __cplusplus
}
#endif
#endif
