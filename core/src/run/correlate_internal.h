/* correlate_internal.h - what `nascaps correlate` needs from the results
 * store beyond run_internal.h (correlate_store.c). */
#ifndef NC_CORRELATE_INTERNAL_H
#define NC_CORRELATE_INTERNAL_H

#include "nascaps/data.h"
#include "nascaps/pipeline.h"
#include "run/run_internal.h"

/* Reads the epochs table of the store at path (a second, read-only
 * connection: the store keeps its handle private). */
typedef struct nc_epoch_reader nc_epoch_reader;
int nc_epoch_reader_open(const char *path, nc_epoch_reader **out, nc_error *err);
void nc_epoch_reader_close(nc_epoch_reader *r);
/* Up to max rows of evaluation eval_id, by epoch; *n gets how many. */
int nc_epoch_reader_get(nc_epoch_reader *r, int64_t eval_id, nc_epoch_rec *rows, int max,
                        int *n, nc_error *err);

#endif
