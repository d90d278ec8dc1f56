/* fuzz_genotype.c - the genotype reader (nc_genotype_load on a file) and,
 * for what it accepts, validation and the canonical text round trip. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nascaps/genotype.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = nc_fuzz_write("x.chr", data, size);
    nc_genotype g;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_genotype_load(path, &g, &err);
    if (rc != NC_OK) {
        if (rc != NC_ERR_INPUT || strchr(err.msg, '\n') || strncmp(err.msg, path, strlen(path)))
            abort();   /* one line naming the file, status 1 */
        return 0;
    }
    (void)nc_genotype_validate(&g, "x.chr", NULL, &err);
    char text[NC_GENOTYPE_STRING_MAX], again[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(&g, text, sizeof text);
    nc_genotype g2;
    if (nc_genotype_parse(text, "<canonical>", &g2, &err) != NC_OK)
        abort();   /* the canonical text of an accepted genotype parses */
    nc_genotype_to_string(&g2, again, sizeof again);
    if (strcmp(text, again) != 0)
        abort();
    char id[13];
    nc_genotype_id(&g, id);
    return 0;
}
