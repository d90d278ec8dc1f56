/* correlate_store.c - the cache key and the per-epoch rows `nascaps
 * correlate` reads from results.db (docs/CORRELATE.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "run/correlate_internal.h"

struct nc_epoch_reader {
    sqlite3 *db;
    sqlite3_stmt *q;
    char *path;
};

void nc_epoch_reader_close(nc_epoch_reader *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->q);
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}

int nc_epoch_reader_open(const char *path, nc_epoch_reader **out, nc_error *err)
{
    *out = NULL;
    nc_epoch_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    }
    if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(r->db, 10000) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db,
                           "SELECT epoch, complete, train_loss, train_accuracy, test_accuracy,"
                           " validation_accuracy, seconds FROM epochs WHERE eval_id = ?"
                           " ORDER BY epoch",
                           -1, &r->q, NULL) != SQLITE_OK) {
        nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot read the epochs: %s", path,
                     r->db ? sqlite3_errmsg(r->db) : "out of memory");
        nc_epoch_reader_close(r);
        return NC_ERR_INTERNAL;
    }
    *out = r;
    return NC_OK;
}

static double col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

int nc_epoch_reader_get(nc_epoch_reader *r, int64_t eval_id, nc_epoch_rec *rows, int max,
                        int *n, nc_error *err)
{
    *n = 0;
    sqlite3_reset(r->q);
    sqlite3_bind_int64(r->q, 1, eval_id);
    int rc;
    while ((rc = sqlite3_step(r->q)) == SQLITE_ROW) {
        if (*n >= max)
            continue;
        nc_epoch_rec *e = &rows[(*n)++];
        e->epoch = sqlite3_column_int(r->q, 0);
        e->complete = sqlite3_column_int(r->q, 1);
        e->train_loss = col_real(r->q, 2);
        e->train_accuracy = col_real(r->q, 3);
        e->test_accuracy = col_real(r->q, 4);
        e->validation_accuracy = col_real(r->q, 5);
        e->seconds = col_real(r->q, 6);
    }
    sqlite3_reset(r->q);
    if (rc != SQLITE_DONE)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot read the epochs: %s", r->path,
                            sqlite3_errmsg(r->db));
    return NC_OK;
}
