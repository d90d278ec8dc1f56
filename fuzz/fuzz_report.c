/* fuzz_report.c - the results-store reader, nc_report_load on a folder
 * whose results.db the input makes, in one of two ways (first byte):
 *   even: the rest of the input is the results.db file itself;
 *   odd:  the rest is SQL run on a copy of a real results.db (the file
 *         NASCAPS_FUZZ_REPORT_DB names; scripts/fuzz.sh makes it), so that
 *         mutations reach the reader with well-formed databases holding
 *         odd values (NaN, huge numbers, foreign ids, missing rows).
 * What loads is turned into pareto.csv and JSON text (not written:
 * writing into a received folder is the resume path, guarded there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fuzz_common.h"
#include "nascaps/run.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *seed_db;
static size_t seed_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *path = getenv("NASCAPS_FUZZ_REPORT_DB");
    FILE *f = path && *path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;   /* SQL inputs are then skipped */
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    seed_db = malloc(n > 0 ? (size_t)n : 1);
    seed_len = n > 0 ? fread(seed_db, 1, (size_t)n, f) : 0;
    fclose(f);
    return 0;
}

/* The SQL may change the database in any way but must not touch other
 * files: no ATTACH/DETACH (VACUUM INTO attaches its target too), no
 * PRAGMA. */
static int authorize(void *ctx, int action, const char *a, const char *b, const char *c,
                     const char *d)
{
    (void)ctx;
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return action == SQLITE_ATTACH || action == SQLITE_DETACH || action == SQLITE_PRAGMA
               ? SQLITE_DENY
               : SQLITE_OK;
}

/* Runs sql (not NUL-terminated) on the seed database copied in. */
static int make_db(const char *path, const uint8_t *sql, size_t len)
{
    if (!seed_db)
        return -1;
    nc_fuzz_write("results.db", seed_db, seed_len);
    sqlite3 *db = NULL;
    char *text = malloc(len + 1);
    memcpy(text, sql, len);
    text[len] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        /* no ATTACH, VACUUM INTO or extension tricks on files elsewhere */
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
        sqlite3_set_authorizer(db, authorize, NULL);
        sqlite3_exec(db, text, NULL, NULL, NULL);   /* errors: keep what ran */
    }
    sqlite3_close(db);
    free(text);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char db[700];
    snprintf(db, sizeof db, "%s/results.db", nc_fuzz_dir());
    if (data[0] & 1) {
        if (make_db(db, data + 1, size - 1) != 0)
            return 0;
    } else {
        nc_fuzz_write("results.db", data + 1, size - 1);
    }
    nc_run_report *r = NULL;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_report_load(nc_fuzz_dir(), &r, &err);
    remove(db);
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
