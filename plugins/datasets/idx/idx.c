/* idx.c - the idx and mnist dataset plugins: MNIST-format IDX files,
 * gzip-compressed or raw. Both names share this reader and differ only in
 * the default paths (Debian's Fashion-MNIST package for idx). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nascaps/dataset.h>

#include "idx_decode.h"

#define IDX_CLASSES 10

enum { TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS, N_FILES };

static const char *const keys[N_FILES] = {"train_images", "train_labels",
                                          "test_images", "test_labels"};
static const char *const file_names[N_FILES] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

#define FASHION_DIR "/usr/share/datasets/fashion-mnist/"
#define MNIST_DIR "/usr/share/datasets/mnist/"

typedef struct idx_handle {
    idx_file images[2], labels[2];   /* by nc_split */
    float lut[256];
} idx_handle;

static void handle_free(idx_handle *h)
{
    for (int s = 0; s < 2; s++) {
        idx_free(&h->images[s]);
        idx_free(&h->labels[s]);
    }
    free(h);
}

static int open_with(const nc_section *sec, const char *dir, const char *what,
                     void **handle, nc_dataset_info *info, nc_error *err)
{
    char *paths[N_FILES] = {NULL, NULL, NULL, NULL};
    int rc = NC_OK;
    for (int i = 0; i < N_FILES && rc == NC_OK; i++) {
        char def[256];
        snprintf(def, sizeof def, "%s%s", dir, file_names[i]);
        rc = nc_section_get_path(sec, keys[i], def, &paths[i], err);
    }
    /* a missing file is the usual first-run problem: say how to fix it */
    for (int i = 0; i < N_FILES && rc == NC_OK; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            int e = errno;
            char where[512];
            nc_section_where(sec, keys[i], where, sizeof where);
            rc = nc_error_set(err, NC_ERR_INPUT,
                              "%s: cannot open: %s (dataset.%s, %s%s); set "
                              "dataset.train_images, train_labels, test_images "
                              "and test_labels to the %s IDX files",
                              paths[i], strerror(e), keys[i],
                              nc_section_has(sec, keys[i]) ? "set at " : "default",
                              nc_section_has(sec, keys[i]) ? where : "", what);
        }
    }
    idx_handle *h = NULL;
    if (rc == NC_OK && !(h = calloc(1, sizeof *h)))
        rc = nc_error_set(err, NC_ERR_INTERNAL, "idx: out of memory");
    for (int s = 0; s < 2 && rc == NC_OK; s++) {
        const char *ip = paths[s ? TEST_IMAGES : TRAIN_IMAGES];
        const char *lp = paths[s ? TEST_LABELS : TRAIN_LABELS];
        rc = idx_load_images(ip, &h->images[s], err);
        if (rc == NC_OK && s == 1 &&
            (h->images[1].rows != h->images[0].rows ||
             h->images[1].cols != h->images[0].cols))
            rc = nc_error_set(err, NC_ERR_INPUT, "%s: offset 8: images are "
                              "%dx%d, expected %dx%d as in %s", ip,
                              h->images[1].rows, h->images[1].cols,
                              h->images[0].rows, h->images[0].cols,
                              paths[TRAIN_IMAGES]);
        if (rc == NC_OK)
            rc = idx_load_labels(lp, IDX_CLASSES, h->images[s].count, ip,
                                 &h->labels[s], err);
    }
    if (rc == NC_OK) {
        for (int v = 0; v < 256; v++)
            h->lut[v] = (float)v / 255.0f;
        info->height = h->images[0].rows;
        info->width = h->images[0].cols;
        info->channels = 1;
        info->classes = IDX_CLASSES;
        info->train_count = h->images[0].count;
        info->test_count = h->images[1].count;
        info->default_normalize = "none";
        snprintf(info->description, sizeof info->description,
                 "%s (IDX%s) %dx%d: %.100s", what, h->images[0].gzip ? ", gzip" : "",
                 info->height, info->width, paths[TRAIN_IMAGES]);
        *handle = h;
    } else if (h) {
        handle_free(h);
    }
    for (int i = 0; i < N_FILES; i++)
        free(paths[i]);
    return rc;
}

static int idx_open(const nc_section *sec, void **handle, nc_dataset_info *info,
                    nc_error *err)
{
    return open_with(sec, FASHION_DIR, "Fashion-MNIST", handle, info, err);
}

static int mnist_open(const nc_section *sec, void **handle,
                      nc_dataset_info *info, nc_error *err)
{
    return open_with(sec, MNIST_DIR, "MNIST", handle, info, err);
}

static int idx_read(void *handle, int split, const int64_t *index, size_t n,
                    float *images, int32_t *labels, nc_error *err)
{
    idx_handle *h = handle;
    const idx_file *im = &h->images[split == NC_SPLIT_TEST];
    const idx_file *lb = &h->labels[split == NC_SPLIT_TEST];
    size_t pixels = (size_t)im->rows * (size_t)im->cols;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *src = im->data + (size_t)index[i] * pixels;
        float *dst = images + i * pixels;
        for (size_t p = 0; p < pixels; p++)
            dst[p] = h->lut[src[p]];
        labels[i] = lb->data[index[i]];
    }
    return NC_OK;
}

static void idx_close(void *handle)
{
    handle_free(handle);
}

#define SETTINGS(DIR)                                                         \
    {                                                                         \
        {"train_images", NC_SET_STRING, "\"" DIR "train-images-idx3-ubyte.gz\"", \
         "IDX images of the train split (gzip or raw)", NC_SETF_PATH, 0, 0, NULL, NULL},                      \
        {"train_labels", NC_SET_STRING, "\"" DIR "train-labels-idx1-ubyte.gz\"", \
         "IDX labels of the train split", NC_SETF_PATH, 0, 0, NULL, NULL},                                    \
        {"test_images", NC_SET_STRING, "\"" DIR "t10k-images-idx3-ubyte.gz\"", \
         "IDX images of the test split", NC_SETF_PATH, 0, 0, NULL, NULL},                                     \
        {"test_labels", NC_SET_STRING, "\"" DIR "t10k-labels-idx1-ubyte.gz\"", \
         "IDX labels of the test split", NC_SETF_PATH, 0, 0, NULL, NULL},                                     \
        NC_SETTING_END                                                        \
    }

static const nc_setting_spec idx_settings[] = SETTINGS(FASHION_DIR);
static const nc_setting_spec mnist_settings[] = SETTINGS(MNIST_DIR);

static const nc_dataset_ops idx_ops = {sizeof(nc_dataset_ops), idx_settings,
                                       idx_open, idx_read, idx_close};
static const nc_dataset_ops mnist_ops = {sizeof(nc_dataset_ops), mnist_settings,
                                         mnist_open, idx_read, idx_close};

static const nc_plugin_desc descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "idx", "1.0.0",
                         "IDX image/label files (default: Debian's Fashion-MNIST)",
                         &idx_ops),
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "mnist", "1.0.0",
                         "MNIST in IDX files (default: /usr/share/datasets/mnist)",
                         &mnist_ops),
};

NC_PLUGIN_ENTRY(descs)
