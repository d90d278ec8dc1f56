/* fuzz_svhn.c - the svhn plugin's .mat reader: mat5_check.c's walk, then
 * libmatio on what it lets through. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "svhn_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = nc_fuzz_write("x.mat", data, size);
    svhn_set set;
    nc_error err;
    nc_error_clear(&err);
    if (svhn_load(path, &set, &err) != NC_OK) {
        if (strncmp(err.msg, path, strlen(path)) || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    unsigned sum = 0;   /* every byte read: ASan sees any overrun */
    for (int64_t i = 0; i < set.count; i++) {
        if (set.labels[i] >= 10)
            abort();
        sum += set.pixels[i * SVHN_PIXELS + SVHN_PIXELS - 1];
    }
    nc_fuzz_sink = sum;
    svhn_set_free(&set);
    return 0;
}
