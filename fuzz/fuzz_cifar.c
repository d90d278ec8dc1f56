/* fuzz_cifar.c - the cifar10/cifar100 plugins' record decoder (raw or
 * gzip); the first byte picks the CIFAR-10 or CIFAR-100 record. */
#include <stdlib.h>
#include <string.h>

#include "cifar_decode.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const cifar_format fmts[2] = {{"CIFAR-10", 1, 0, 10}, {"CIFAR-100", 2, 1, 100}};
    const cifar_format *fmt = &fmts[data[0] & 1];
    const char *path = nc_fuzz_write("x.bin", data + 1, size - 1);
    cifar_set set;
    memset(&set, 0, sizeof set);
    nc_error err;
    nc_error_clear(&err);
    if (cifar_load_file(path, fmt, &set, &err) != NC_OK) {
        if (strncmp(err.msg, path, strlen(path)) || strchr(err.msg, '\n'))
            abort();
        return 0;
    }
    unsigned sum = 0;   /* every byte read: ASan sees any overrun */
    for (int64_t i = 0; i < set.count; i++) {
        if (set.labels[i] >= fmt->classes)
            abort();
        sum += set.pixels[i * CIFAR_PIXELS + CIFAR_PIXELS - 1];
    }
    nc_fuzz_sink = sum;
    cifar_set_free(&set);
    return 0;
}
