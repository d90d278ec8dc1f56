/* fuzz_pipeline.c - the pipeline reader with --set overrides: the input
 * is a pipeline file, then optionally a line "%%" followed by one
 * override "KEY=VALUE" per line. Whatever loads is then validated
 * (nc_pipeline_settings) and printed back (nc_pipeline_text). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nascaps/pipeline.h"
#include "nascaps/session.h"

#define MAX_SETS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* memmem without _GNU_SOURCE */
static const uint8_t *find(const uint8_t *h, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(h + i, needle, k) == 0)
            return h + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Every @include target is now checked before libconfig reads it
     * (pipeline.c), but a fuzzed @include would read arbitrary files of the
     * machine the fuzzer runs on: those inputs stay out; test_pipeline
     * covers @include of a folder, a FIFO and a missing file. */
    if (find(data, size, "@include"))
        return 0;
    const uint8_t *sep = find(data, size, "\n%%\n");
    size_t file_len = sep ? (size_t)(sep - data) : size;
    const char *path = nc_fuzz_write("p.cfg", data, file_len);

    char *sets_text = NULL;
    const char *sets[MAX_SETS];
    size_t n_sets = 0;
    if (sep) {
        size_t rest = size - file_len - 4;
        sets_text = malloc(rest + 1);
        memcpy(sets_text, sep + 4, rest);
        sets_text[rest] = '\0';
        for (char *line = sets_text; n_sets < MAX_SETS;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            sets[n_sets++] = line;
            if (!nl)
                break;
            line = nl + 1;
        }
    }
    nc_pipeline *p = NULL;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_pipeline_load(path, sets, n_sets, &p, &err);
    if (rc == NC_OK) {
        nc_settings s;
        if (nc_pipeline_settings(p, &s, &err) == NC_OK)
            nc_settings_free(&s);
        free(nc_pipeline_text(p));
        (void)nc_pipeline_section(p, "dataset");
        nc_pipeline_free(p);
    } else if (strchr(err.msg, '\n') || (rc != NC_ERR_INPUT && rc != NC_ERR_USAGE)) {
        abort();   /* one line, bad input */
    }
    free(sets_text);
    return 0;
}
