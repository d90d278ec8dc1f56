/* nascaps/dataset.h - the dataset plugin kind.
 *
 * A dataset plugin opens its files (or generates its data) and reads
 * samples by index as float pixels in [0, 1], NHWC, labels 0..classes-1.
 * Normalisation, resize x2, shift augmentation, subsets and the validation
 * split are core services (nascaps/data.h, docs/DATASETS.md): a plugin only
 * decodes.
 *
 * Contract of a plugin:
 * - open() reads its settings from the section with the nc_section getters
 *   (the core has already refused keys that are neither core keys nor in
 *   ops->settings), checks the data completely (every label in range,
 *   every count consistent) and fills info. A bad file gives ONE line
 *   naming the file, the byte offset or variable, and what was expected.
 *   Decoding happens here, once: read() must not fail on valid indices.
 * - read() is called by the core with indices already checked against
 *   info's counts, one call at a time per handle.
 * - close() frees everything open() made; it accepts what a successful
 *   open() returned, never a failed one's. */
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
    /* "none" or "standard": what `dataset.normalize` defaults to. A static
     * string (not owned by the handle). */
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

/* Largest image side and channel count the core accepts from a plugin. */
#define NC_DATASET_MAX_SIDE 4096
#define NC_DATASET_MAX_CHANNELS 64
#define NC_DATASET_MAX_CLASSES 100000

/* Helper for dataset plugins (in libnascaps): reads a whole file, gzip or
 * raw (zlib decides by the magic bytes), into a malloc'd buffer *data of
 * *len bytes (caller frees). A gzip stream is read to its end so that its
 * CRC and length are checked: a corrupt or truncated gzip is an error, not
 * short data. The buffer grows with the data actually read, so a lying
 * header cannot make it allocate more than the file holds; max_bytes
 * bounds the uncompressed size. *gzip (may be NULL) tells which it was.
 * Concatenated gzip members are accepted; bytes after the last one are
 * not. Errors (offsets count bytes of the file as stored):
 *   "PATH: cannot open: REASON"
 *   "PATH: offset N: gzip data error: REASON (M bytes decompressed)"
 *   "PATH: offset N: gzip stream truncated (M bytes decompressed)"
 *   "PATH: offset N: data after the end of the gzip stream"
 *   "PATH: cannot read: a FIFO, not a regular file"   (nc_input_open)
 *   "PATH: offset N: decompresses to more than MAX bytes"
 *   "PATH: larger than MAX bytes"
 * A gzip stream stops being inflated as soon as it exceeds max_bytes: a
 * format whose header says how large the data is should read the header
 * with nc_dataset_read_head and pass that size, so that a gzip bomb is
 * refused after max_bytes + 1 bytes. */
int nc_dataset_read_file(const char *path, size_t max_bytes,
                         unsigned char **data, size_t *len, int *gzip,
                         nc_error *err);

/* The first n bytes of the data nc_dataset_read_file would return (gzip
 * decompressed) into head; *got is how many there are (fewer when the data
 * is shorter or the stream breaks early: reading the whole file names the
 * fault); *gzip (may be NULL) as there. Errors: those of nc_input_open. */
int nc_dataset_read_head(const char *path, unsigned char *head, size_t n,
                         size_t *got, int *gzip, nc_error *err);

#ifdef __cplusplus
}
#endif
#endif
