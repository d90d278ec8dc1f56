/* fuzz_report.c - the results-store reader: the input becomes the
 * results.db of a folder given to nc_report_load, and what loads is
 * turned into pareto.csv and JSON text (not written: writing a run folder
 * from a received one is the resume path, guarded separately). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "nascaps/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *db = nc_fuzz_write("results.db", data, size);
    (void)db;
    nc_run_report *r = NULL;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_report_load(nc_fuzz_dir(), &r, &err);
    if (rc != NC_OK) {
        if (strchr(err.msg, '\n') || !strstr(err.msg, nc_fuzz_dir()))
            abort();   /* one line naming the folder or the file */
        return 0;
    }
    free(nc_report_csv(r));
    free(nc_report_json(r));
    nc_report_free(r);
    return 0;
}
