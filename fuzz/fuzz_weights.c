/* fuzz_weights.c - the weights loader against the small network that
 * fuzz_seeds saves (same genotype and settings, so that mutations of its
 * file get past the genotype check). A refused file must leave the
 * network's values as they were. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_net.h"
#include "nascaps/train.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nc_registry *reg;
static nc_net *net;
static float *before;
static size_t total;

static size_t snapshot(float *out)
{
    size_t o = 0;
    for (int t = 0; t < nc_net_tensor_count(net); t++) {
        nc_net_tensor x;
        nc_net_tensor_at(net, t, &x);
        if (out)
            memcpy(out + o, x.value, x.count * sizeof(float));
        o += x.count;
    }
    return o;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    nc_error err;
    reg = nc_registry_new();
    if (!reg || nc_fuzz_net_build(reg, &net, &err) != NC_OK)
        abort();
    total = snapshot(NULL);
    before = malloc(total * sizeof(float));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = nc_fuzz_write("w.bin", data, size);
    snapshot(before);
    nc_error err;
    nc_error_clear(&err);
    if (nc_weights_load(net, path, &err) != NC_OK) {
        if (strncmp(err.msg, path, strlen(path)) || strchr(err.msg, '\n'))
            abort();
        float *after = malloc(total * sizeof(float));
        snapshot(after);
        if (memcmp(before, after, total * sizeof(float)) != 0)
            abort();   /* a refused file changed the network */
        free(after);
    }
    return 0;
}
