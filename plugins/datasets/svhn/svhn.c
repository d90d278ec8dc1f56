/* svhn.c - the svhn dataset plugin: SVHN cropped digits (format 2),
 * train_32x32.mat and test_32x32.mat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nascaps/dataset.h>

#include "svhn_decode.h"

#define SVHN_DIR "/usr/share/datasets/svhn"

typedef struct svhn_handle {
    svhn_set split[2];
    float lut[256];
} svhn_handle;

static void handle_free(svhn_handle *h)
{
    svhn_set_free(&h->split[0]);
    svhn_set_free(&h->split[1]);
    free(h);
}

static int svhn_open(const nc_section *sec, void **handle,
                     nc_dataset_info *info, nc_error *err)
{
    char *dir = NULL, *files[2] = {NULL, NULL};
    static const char *const keys[2] = {"train_file", "test_file"};
    static const char *const names[2] = {"train_32x32.mat", "test_32x32.mat"};
    int rc = nc_section_get_path(sec, "dir", SVHN_DIR, &dir, err);
    for (int s = 0; s < 2 && rc == NC_OK; s++) {
        char def[4096 + 32];
        snprintf(def, sizeof def, "%s/%s", dir, names[s]);
        rc = nc_section_get_path(sec, keys[s], def, &files[s], err);
    }
    svhn_handle *h = NULL;
    if (rc == NC_OK && !(h = calloc(1, sizeof *h)))
        rc = nc_error_set(err, NC_ERR_INTERNAL, "svhn: out of memory");
    for (int s = 0; s < 2 && rc == NC_OK; s++) {
        rc = svhn_load(files[s], &h->split[s], err);
        /* a missing file is the usual first-run problem: say how to fix it */
        if (rc != NC_OK && err && strstr(err->msg, ": cannot open: ")) {
            char msg[NC_ERROR_MAX];
            snprintf(msg, sizeof msg, "%s", err->msg);
            nc_error_set(err, rc, "%s; set dataset.dir to the folder of SVHN's "
                         "train_32x32.mat and test_32x32.mat (or dataset.%s)",
                         msg, keys[s]);
        }
    }
    if (rc == NC_OK) {
        for (int x = 0; x < 256; x++)
            h->lut[x] = (float)x / 255.0f;
        info->height = info->width = SVHN_SIDE;
        info->channels = 3;
        info->classes = 10;
        info->train_count = h->split[0].count;
        info->test_count = h->split[1].count;
        info->default_normalize = "standard";
        snprintf(info->description, sizeof info->description,
                 "SVHN cropped digits (.mat): %.120s", files[0]);
        *handle = h;
    } else if (h) {
        handle_free(h);
    }
    free(dir);
    free(files[0]);
    free(files[1]);
    return rc;
}

static int svhn_read(void *handle, int split, const int64_t *index, size_t n,
                     float *images, int32_t *labels, nc_error *err)
{
    svhn_handle *h = handle;
    const svhn_set *s = &h->split[split == NC_SPLIT_TEST];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *src = s->pixels + (size_t)index[i] * SVHN_PIXELS;
        float *dst = images + i * SVHN_PIXELS;
        for (size_t p = 0; p < SVHN_PIXELS; p++)
            dst[p] = h->lut[src[p]];
        labels[i] = s->labels[index[i]];
    }
    return NC_OK;
}

static void svhn_close(void *handle)
{
    handle_free(handle);
}

static const nc_setting_spec svhn_settings[] = {
    {"dir", NC_SET_STRING, "\"" SVHN_DIR "\"",
     "folder of train_32x32.mat and test_32x32.mat", NC_SETF_PATH, 0, 0, NULL,
     NULL},
    {"train_file", NC_SET_STRING, "\"<dir>/train_32x32.mat\"",
     "the train .mat file (overrides dir)", NC_SETF_PATH, 0, 0, NULL, NULL},
    {"test_file", NC_SET_STRING, "\"<dir>/test_32x32.mat\"",
     "the test .mat file (overrides dir)", NC_SETF_PATH, 0, 0, NULL, NULL},
    NC_SETTING_END};

static const nc_dataset_ops svhn_ops = {sizeof(nc_dataset_ops), svhn_settings,
                                        svhn_open, svhn_read, svhn_close};

static const nc_plugin_desc descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "svhn", "1.0.0",
                         "SVHN cropped digits, .mat files (32x32 RGB, 10 classes)",
                         &svhn_ops),
};

NC_PLUGIN_ENTRY(descs)
