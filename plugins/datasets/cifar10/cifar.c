/* cifar.c - the cifar10 and cifar100 dataset plugins (the "binary
 * version" files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nascaps/dataset.h>

#include "cifar_decode.h"

typedef struct cifar_variant {
    cifar_format fmt;
    const char *dir;
    const char *const *train, *const *test;   /* NULL-terminated */
    const char *layout;                       /* for the missing-file hint */
} cifar_variant;

static const char *const c10_train[] = {"data_batch_1.bin", "data_batch_2.bin",
                                        "data_batch_3.bin", "data_batch_4.bin",
                                        "data_batch_5.bin", NULL};
static const char *const c10_test[] = {"test_batch.bin", NULL};
static const char *const c100_train[] = {"train.bin", NULL};
static const char *const c100_test[] = {"test.bin", NULL};

static const char *const cifar_labels[] = {"fine", "coarse", NULL};

#define C10_DIR "/usr/share/datasets/cifar-10-batches-bin"
#define C100_DIR "/usr/share/datasets/cifar-100-binary"

typedef struct cifar_handle {
    cifar_set split[2];
    float lut[256];
} cifar_handle;

static void handle_free(cifar_handle *h)
{
    cifar_set_free(&h->split[0]);
    cifar_set_free(&h->split[1]);
    free(h);
}

/* The files of one split: the setting's list (entries relative to dir) or
 * the variant's default names. */
static int split_files(const nc_section *sec, const char *key, const char *dir,
                       const char *const *defaults, char ***out, size_t *count,
                       nc_error *err)
{
    const char **list = NULL;
    size_t n = 0;
    int rc = nc_section_get_string_list(sec, key, &list, &n, err);
    if (rc != NC_OK)
        return rc;
    if (n == 0 && nc_section_has(sec, key))
        return nc_section_error(sec, key, err, "expected a non-empty list of "
                                "file names");
    const char *const *names = n ? list : defaults;
    if (!n)
        while (defaults[n])
            n++;
    char **files = calloc(n, sizeof *files);
    for (size_t i = 0; files && i < n; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        if (!(files[i] = malloc(len))) {
            for (size_t j = 0; j < i; j++)
                free(files[j]);
            free(files);
            files = NULL;
            break;
        }
        if (names[i][0] == '/')
            snprintf(files[i], len, "%s", names[i]);
        else
            snprintf(files[i], len, "%s/%s", dir, names[i]);
    }
    free(list);
    if (!files)
        return nc_error_set(err, NC_ERR_INTERNAL, "cifar: out of memory");
    *out = files;
    *count = n;
    return NC_OK;
}

static void free_files(char **files, size_t n)
{
    for (size_t i = 0; files && i < n; i++)
        free(files[i]);
    free(files);
}

static int open_variant(const nc_section *sec, const cifar_variant *v,
                        cifar_format fmt, void **handle, nc_dataset_info *info,
                        nc_error *err)
{
    char *dir = NULL;
    char **files[2] = {NULL, NULL};
    size_t nfiles[2] = {0, 0};
    int rc = nc_section_get_path(sec, "dir", v->dir, &dir, err);
    if (rc == NC_OK)
        rc = split_files(sec, "train_files", dir, v->train, &files[0],
                         &nfiles[0], err);
    if (rc == NC_OK)
        rc = split_files(sec, "test_files", dir, v->test, &files[1], &nfiles[1],
                         err);
    for (int s = 0; s < 2 && rc == NC_OK; s++)
        for (size_t i = 0; i < nfiles[s] && rc == NC_OK; i++) {
            struct stat st;
            if (stat(files[s][i], &st) != 0)
                rc = nc_error_set(err, NC_ERR_INPUT, "%s: cannot open: %s; set "
                                  "dataset.dir to the folder of the %s binary "
                                  "version (%s)", files[s][i], strerror(errno),
                                  fmt.name, v->layout);
        }
    cifar_handle *h = NULL;
    if (rc == NC_OK && !(h = calloc(1, sizeof *h)))
        rc = nc_error_set(err, NC_ERR_INTERNAL, "cifar: out of memory");
    for (int s = 0; s < 2 && rc == NC_OK; s++)
        for (size_t i = 0; i < nfiles[s] && rc == NC_OK; i++)
            rc = cifar_load_file(files[s][i], &fmt, &h->split[s], err);
    if (rc == NC_OK) {
        for (int x = 0; x < 256; x++)
            h->lut[x] = (float)x / 255.0f;
        info->height = info->width = CIFAR_SIDE;
        info->channels = 3;
        info->classes = fmt.classes;
        info->train_count = h->split[0].count;
        info->test_count = h->split[1].count;
        info->default_normalize = "standard";
        snprintf(info->description, sizeof info->description,
                 "%s (binary, %d classes): %.100s", fmt.name, fmt.classes, dir);
        *handle = h;
    } else if (h) {
        handle_free(h);
    }
    free_files(files[0], nfiles[0]);
    free_files(files[1], nfiles[1]);
    free(dir);
    return rc;
}

static const cifar_variant c10 = {{"CIFAR-10", 1, 0, 10}, C10_DIR, c10_train,
                                  c10_test, "data_batch_1.bin .. data_batch_5.bin, "
                                  "test_batch.bin"};
static const cifar_variant c100 = {{"CIFAR-100", 2, 1, 100}, C100_DIR,
                                   c100_train, c100_test, "train.bin, test.bin"};

static int c10_open(const nc_section *sec, void **handle, nc_dataset_info *info,
                    nc_error *err)
{
    return open_variant(sec, &c10, c10.fmt, handle, info, err);
}

static int c100_open(const nc_section *sec, void **handle,
                     nc_dataset_info *info, nc_error *err)
{
    int which = 0;
    int rc = nc_section_get_choice(sec, "label", "fine", cifar_labels, &which, err);
    if (rc != NC_OK)
        return rc;
    cifar_format fmt = c100.fmt;
    if (which == 1) {
        fmt.label_index = 0;
        fmt.classes = 20;
    }
    return open_variant(sec, &c100, fmt, handle, info, err);
}

static int cifar_read(void *handle, int split, const int64_t *index, size_t n,
                      float *images, int32_t *labels, nc_error *err)
{
    cifar_handle *h = handle;
    const cifar_set *s = &h->split[split == NC_SPLIT_TEST];
    for (size_t i = 0; i < n; i++) {
        const uint8_t *src = s->pixels + (size_t)index[i] * CIFAR_PIXELS;
        float *dst = images + i * CIFAR_PIXELS;
        for (size_t p = 0; p < CIFAR_PIXELS; p++)
            dst[p] = h->lut[src[p]];
        labels[i] = s->labels[index[i]];
    }
    return NC_OK;
}

static void cifar_close(void *handle)
{
    handle_free(handle);
}

static const nc_setting_spec c10_settings[] = {
    {"dir", NC_SET_STRING, "\"" C10_DIR "\"",
     "folder of the CIFAR-10 binary version", NC_SETF_PATH, 0, 0, NULL, NULL},
    {"train_files", NC_SET_STRING_LIST,
     "[\"data_batch_1.bin\", ..., \"data_batch_5.bin\"]",
     "train files, relative to dir", 0, 0, 0, NULL, NULL},
    {"test_files", NC_SET_STRING_LIST, "[\"test_batch.bin\"]",
     "test files, relative to dir", 0, 0, 0, NULL, NULL},
    NC_SETTING_END};

static const nc_setting_spec c100_settings[] = {
    {"dir", NC_SET_STRING, "\"" C100_DIR "\"",
     "folder of the CIFAR-100 binary version", NC_SETF_PATH, 0, 0, NULL, NULL},
    {"train_files", NC_SET_STRING_LIST, "[\"train.bin\"]",
     "train files, relative to dir", 0, 0, 0, NULL, NULL},
    {"test_files", NC_SET_STRING_LIST, "[\"test.bin\"]",
     "test files, relative to dir", 0, 0, 0, NULL, NULL},
    {"label", NC_SET_STRING, "\"fine\"",
     "\"fine\" (100 classes) or \"coarse\" (20 superclasses)", 0, 0, 0,
     cifar_labels, NULL},
    NC_SETTING_END};

static const nc_dataset_ops c10_ops = {sizeof(nc_dataset_ops), c10_settings,
                                       c10_open, cifar_read, cifar_close};
static const nc_dataset_ops c100_ops = {sizeof(nc_dataset_ops), c100_settings,
                                        c100_open, cifar_read, cifar_close};

static const nc_plugin_desc descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "cifar10", "1.0.0",
                         "CIFAR-10 binary version (32x32 RGB, 10 classes)",
                         &c10_ops),
    NC_PLUGIN_DESCRIPTOR(NC_KIND_DATASET, "cifar100", "1.0.0",
                         "CIFAR-100 binary version (fine or coarse labels)",
                         &c100_ops),
};

NC_PLUGIN_ENTRY(descs)
