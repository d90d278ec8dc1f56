/* fuzz_idx.c - the idx dataset plugin's decoder (raw or gzip IDX files;
 * nc_dataset_read_head / nc_dataset_read_file underneath). The first
 * byte picks images or labels; what is accepted is read to its end. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "idx_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int labels = data[0] & 1;
    const char *path = nc_fuzz_write("x.idx", data + 1, size - 1);
    idx_file f;
    nc_error err;
    nc_error_clear(&err);
    int rc = labels ? idx_load_labels(path, 10, (data[0] >> 1) + 1, "IMAGES", &f, &err)
                    : idx_load_images(path, &f, &err);
    if (rc != NC_OK) {
        if (strncmp(err.msg, path, strlen(path)) || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    unsigned sum = 0;   /* every byte read: ASan sees any overrun */
    int64_t n = labels ? f.count : f.count * f.rows * f.cols;
    for (int64_t i = 0; i < n; i++)
        sum += f.data[i];
    nc_fuzz_sink = sum;
    idx_free(&f);
    return 0;
}
