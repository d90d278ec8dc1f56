/* wire.c - the evaluation protocol between a coordinator and its workers
 * (docs/SCALE.md, "Protocol"): text messages, one "key value" per line,
 * the first line naming the message and the protocol version. Numbers
 * that must survive exactly (objectives, accuracies) travel as C99 hex
 * floats ("%a"), so a worker's record is bit-identical to a serial one. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"

/* A growable text buffer; on out of memory it stays NULL. */
typedef struct wbuf {
    char *text;
    size_t len, cap;
} wbuf;

static void wb_printf(wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void wb_printf(wbuf *b, const char *fmt, ...)
{
    if (!b->text && b->cap)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->text ? b->text + b->len : NULL, b->text ? b->cap - b->len : 0,
                          fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->text && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *grown = realloc(b->text, cap);
        if (!grown) {
            free(b->text);
            b->text = NULL;
            b->cap = 1;
            return;
        }
        b->text = grown;
        b->cap = cap;
    }
}

/* A value on one line: newlines become spaces. */
static void wb_text(wbuf *b, const char *key, const char *value)
{
    wb_printf(b, "%s ", key);
    for (const char *q = value; *q; q++)
        wb_printf(b, "%c", *q == '\n' || *q == '\r' ? ' ' : *q);
    wb_printf(b, "\n");
}

char *nc_wire_hello(const char *worker, int threads, uint64_t data_fp, uint64_t pipeline_hash,
                    const char *data_where, const char *error)
{
    wbuf b = {0};
    wb_printf(&b, "nascaps-hello %d\n", NC_WIRE_VERSION);
    wb_text(&b, "worker", worker);
    wb_printf(&b, "threads %d\ndata %016" PRIx64 "\npipeline %016" PRIx64 "\n", threads, data_fp,
              pipeline_hash);
    wb_text(&b, "where", data_where ? data_where : "");
    wb_text(&b, "error", error ? error : "");
    return b.text;
}

char *nc_wire_job(const nc_exec_job *job)
{
    wbuf b = {0};
    wb_printf(&b, "nascaps-job %d\nslot %d\nepochs %d\ntrains %d\n", NC_WIRE_VERSION, job->slot,
              job->epochs, job->trains);
    wb_text(&b, "genotype", job->genotype);
    /* the plan travels whole: the worker decides exactly as the
     * coordinator planned (hex floats: bit-identical thresholds) */
    wb_printf(&b, "prune_epochs %d\n", job->prune.epochs);
    for (int e = 1; e < job->prune.epochs && e <= NC_PRUNE_MAX_EPOCHS; e++) {
        char key[32];
        wb_printf(&b, "prune_min_%d %a\n", e, job->prune.min_acc[e - 1]);
        snprintf(key, sizeof key, "prune_why_%d", e);
        wb_text(&b, key, job->prune.why[e - 1][0] ? job->prune.why[e - 1] : "-");
    }
    return b.text;
}

char *nc_wire_quit(void)
{
    wbuf b = {0};
    wb_printf(&b, "nascaps-quit %d\n", NC_WIRE_VERSION);
    return b.text;
}

char *nc_wire_result(const nc_exec_result *r)
{
    const nc_eval_rec *e = &r->rec;
    wbuf b = {0};
    wb_printf(&b, "nascaps-result %d\nslot %d\nstopped %d\nthreads %d\n", NC_WIRE_VERSION,
              r->slot, r->stopped, r->threads);
    wb_text(&b, "worker", r->worker);
    wb_text(&b, "gid", e->gid);
    wb_text(&b, "genotype", e->genotype);
    wb_text(&b, "cache_key", e->cache_key);
    wb_text(&b, "status", e->status);
    wb_text(&b, "reason", e->reason);
    wb_printf(&b,
              "accuracy %a\ntest_accuracy %a\nvalidation_accuracy %a\nenergy_mj %a\n"
              "latency_ms %a\nmemory_kib %a\nparams %" PRId64 "\nmacs %" PRId64
              "\nepochs_done %d\ntrain_seconds %a\nseconds %a\n",
              e->accuracy, e->test_accuracy, e->validation_accuracy, e->energy_mj,
              e->latency_ms, e->memory_kib, e->params, e->macs, e->epochs_done,
              e->train_seconds, e->seconds);
    for (int i = 0; i < r->n_epochs; i++) {
        const nc_epoch_rec *p = &r->epochs[i];
        wb_printf(&b, "epoch %d %d %a %a %a %a %a\n", p->epoch, p->complete, p->train_loss,
                  p->train_accuracy, p->test_accuracy, p->validation_accuracy, p->seconds);
    }
    return b.text;
}

/* ---- Parsing ------------------------------------------------------------------ */

/* The value of the first line "key VALUE" (copied into buf, which holds
 * size bytes); NULL when absent. */
static const char *find_line(const char *msg, const char *key, char *buf, size_t size)
{
    size_t k = strlen(key);
    for (const char *q = msg; q && *q;) {
        const char *end = strchr(q, '\n');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        if (len >= k && strncmp(q, key, k) == 0 && (len == k || q[k] == ' ')) {
            const char *v = len == k ? q + k : q + k + 1;
            size_t n = len - (size_t)(v - q);
            if (n >= size)
                n = size - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        q = end ? end + 1 : NULL;
    }
    return NULL;
}

static int missing(const char *from, const char *what, const char *key, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INPUT, "%s: %s message without the field '%s'", from, what,
                        key);
}

/* The first line must be "nascaps-WHAT VERSION". */
static int check_head(const char *msg, const char *from, const char *what, nc_error *err)
{
    char head[64], want[48];
    snprintf(want, sizeof want, "nascaps-%s", what);
    size_t n = strcspn(msg, "\n");
    snprintf(head, sizeof head, "%.*s", (int)(n < 60 ? n : 60), msg);
    size_t w = strlen(want);
    if (strncmp(head, want, w) != 0 || head[w] != ' ')
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: not a nascaps %s message (expected '%s %d', found '%s')", from,
                            what, want, NC_WIRE_VERSION, head);
    char *end;
    long v = strtol(head + w + 1, &end, 10);
    if (*end || v != NC_WIRE_VERSION)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: protocol version '%s', this nascaps speaks %d: run the same "
                            "nascaps build everywhere",
                            from, head + w + 1, NC_WIRE_VERSION);
    return NC_OK;
}

static int get_text(const char *msg, const char *from, const char *what, const char *key,
                    char *out, size_t size, nc_error *err)
{
    if (!find_line(msg, key, out, size))
        return missing(from, what, key, err);
    return NC_OK;
}

static int get_i64(const char *msg, const char *from, const char *what, const char *key,
                   int64_t lo, int64_t hi, int64_t *out, nc_error *err)
{
    char buf[64], *end;
    if (!find_line(msg, key, buf, sizeof buf))
        return missing(from, what, key, err);
    long long v = strtoll(buf, &end, 10);
    if (end == buf || *end || v < lo || v > hi)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s field '%s': expected an integer in %" PRId64 "..%" PRId64
                            ", found '%s'",
                            from, what, key, lo, hi, buf);
    *out = v;
    return NC_OK;
}

static int get_int(const char *msg, const char *from, const char *what, const char *key,
                   int lo, int hi, int *out, nc_error *err)
{
    int64_t v;
    int rc = get_i64(msg, from, what, key, lo, hi, &v, err);
    if (!rc)
        *out = (int)v;
    return rc;
}

static int get_hex64(const char *msg, const char *from, const char *what, const char *key,
                     uint64_t *out, nc_error *err)
{
    char buf[64], *end;
    if (!find_line(msg, key, buf, sizeof buf))
        return missing(from, what, key, err);
    *out = strtoull(buf, &end, 16);
    if (end == buf || *end || strlen(buf) != 16)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s field '%s': expected 16 hex digits, found '%s'", from, what,
                            key, buf);
    return NC_OK;
}

static int get_real(const char *msg, const char *from, const char *what, const char *key,
                    double *out, nc_error *err)
{
    char buf[64], *end;
    if (!find_line(msg, key, buf, sizeof buf))
        return missing(from, what, key, err);
    *out = strtod(buf, &end);
    if (end == buf || *end)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %s field '%s': expected a number, found '%s'",
                            from, what, key, buf);
    return NC_OK;
}

int nc_wire_parse_hello(const char *msg, const char *from, nc_wire_hello_msg *out, nc_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "hello";
    int rc;
    if ((rc = check_head(msg, from, w, err)) ||
        (rc = get_text(msg, from, w, "worker", out->worker, sizeof out->worker, err)) ||
        (rc = get_int(msg, from, w, "threads", 0, 1 << 20, &out->threads, err)) ||
        (rc = get_hex64(msg, from, w, "data", &out->data_fp, err)) ||
        (rc = get_hex64(msg, from, w, "pipeline", &out->pipeline_hash, err)) ||
        (rc = get_text(msg, from, w, "where", out->data_where, sizeof out->data_where, err)) ||
        (rc = get_text(msg, from, w, "error", out->error, sizeof out->error, err)))
        return rc;
    return NC_OK;
}

int nc_wire_parse_job(const char *msg, const char *from, nc_exec_job *job, int *quit,
                      nc_error *err)
{
    *quit = 0;
    if (strncmp(msg, "nascaps-quit ", 13) == 0) {
        int rc = check_head(msg, from, "quit", err);
        *quit = rc == NC_OK;
        return rc;
    }
    const char *w = "job";
    int rc;
    if ((rc = check_head(msg, from, w, err)) ||
        (rc = get_int(msg, from, w, "slot", 0, 1 << 30, &job->slot, err)) ||
        (rc = get_int(msg, from, w, "epochs", 0, 1000000, &job->epochs, err)) ||
        (rc = get_int(msg, from, w, "trains", 0, 1, &job->trains, err)) ||
        (rc = get_text(msg, from, w, "genotype", job->genotype, sizeof job->genotype, err)) ||
        (rc = get_int(msg, from, w, "prune_epochs", 0, NC_PRUNE_MAX_EPOCHS, &job->prune.epochs,
                      err)))
        return rc;
    for (int e = 1; e < job->prune.epochs; e++) {
        char kmin[32], kwhy[32];
        snprintf(kmin, sizeof kmin, "prune_min_%d", e);
        snprintf(kwhy, sizeof kwhy, "prune_why_%d", e);
        if ((rc = get_real(msg, from, w, kmin, &job->prune.min_acc[e - 1], err)) ||
            (rc = get_text(msg, from, w, kwhy, job->prune.why[e - 1], sizeof job->prune.why[0],
                           err)))
            return rc;
        if (isnan(job->prune.min_acc[e - 1]))
            return nc_error_set(err, NC_ERR_INPUT, "%s: job field '%s': NaN", from, kmin);
    }
    return NC_OK;
}

static int parse_epochs(const char *msg, const char *from, nc_exec_result *r, nc_error *err)
{
    r->n_epochs = 0;
    for (const char *q = msg; q && *q;) {
        const char *end = strchr(q, '\n');
        if (strncmp(q, "epoch ", 6) == 0) {
            if (r->n_epochs >= NC_EXEC_MAX_EPOCHS)
                return nc_error_set(err, NC_ERR_INPUT, "%s: result with more than %d epochs",
                                    from, NC_EXEC_MAX_EPOCHS);
            nc_epoch_rec *p = &r->epochs[r->n_epochs];
            char line[512];
            size_t len = end ? (size_t)(end - q) : strlen(q);
            snprintf(line, sizeof line, "%.*s", (int)(len < 500 ? len : 500), q);
            int used = 0;
            if (sscanf(line, "epoch %d %d %la %la %la %la %la%n", &p->epoch, &p->complete,
                       &p->train_loss, &p->train_accuracy, &p->test_accuracy,
                       &p->validation_accuracy, &p->seconds, &used) != 7 ||
                line[used] != '\0')
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: result epoch row %d: expected 'epoch N COMPLETE LOSS "
                                    "TRAIN_ACC TEST_ACC VAL_ACC SECONDS', found '%s'",
                                    from, r->n_epochs + 1, line);
            r->n_epochs++;
        }
        q = end ? end + 1 : NULL;
    }
    return NC_OK;
}

int nc_wire_parse_result(const char *msg, const char *from, nc_exec_result *r, nc_error *err)
{
    nc_eval_rec *e = &r->rec;
    const char *w = "result";
    int rc;
    if ((rc = check_head(msg, from, w, err)) ||
        (rc = get_int(msg, from, w, "slot", 0, 1 << 30, &r->slot, err)) ||
        (rc = get_int(msg, from, w, "stopped", 0, 1, &r->stopped, err)) ||
        (rc = get_int(msg, from, w, "threads", 0, 1 << 20, &r->threads, err)) ||
        (rc = get_text(msg, from, w, "worker", r->worker, sizeof r->worker, err)) ||
        (rc = get_text(msg, from, w, "gid", e->gid, sizeof e->gid, err)) ||
        (rc = get_text(msg, from, w, "genotype", e->genotype, sizeof e->genotype, err)) ||
        (rc = get_text(msg, from, w, "cache_key", e->cache_key, sizeof e->cache_key, err)) ||
        (rc = get_text(msg, from, w, "status", e->status, sizeof e->status, err)) ||
        (rc = get_text(msg, from, w, "reason", e->reason, sizeof e->reason, err)) ||
        (rc = get_real(msg, from, w, "accuracy", &e->accuracy, err)) ||
        (rc = get_real(msg, from, w, "test_accuracy", &e->test_accuracy, err)) ||
        (rc = get_real(msg, from, w, "validation_accuracy", &e->validation_accuracy, err)) ||
        (rc = get_real(msg, from, w, "energy_mj", &e->energy_mj, err)) ||
        (rc = get_real(msg, from, w, "latency_ms", &e->latency_ms, err)) ||
        (rc = get_real(msg, from, w, "memory_kib", &e->memory_kib, err)) ||
        (rc = get_i64(msg, from, w, "params", 0, INT64_MAX, &e->params, err)) ||
        (rc = get_i64(msg, from, w, "macs", 0, INT64_MAX, &e->macs, err)) ||
        (rc = get_int(msg, from, w, "epochs_done", 0, 1000000, &e->epochs_done, err)) ||
        (rc = get_real(msg, from, w, "train_seconds", &e->train_seconds, err)) ||
        (rc = get_real(msg, from, w, "seconds", &e->seconds, err)))
        return rc;
    static const char *const statuses[] = {"ok",      "time_limit", "diverged", "refused",
                                           "invalid", "pruned",     "over_budget", NULL};
    int known = 0;
    for (int i = 0; statuses[i]; i++)
        known |= strcmp(e->status, statuses[i]) == 0;
    if (!known)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: result field 'status': expected ok, time_limit, diverged, "
                            "refused, invalid, pruned or over_budget, found '%s'",
                            from, e->status);
    return parse_epochs(msg, from, r, err);
}

int nc_wire_check_hello(const nc_wire_hello_msg *h, uint64_t data_fp, uint64_t pipeline_hash,
                        nc_error *err)
{
    if (h->error[0])
        return nc_error_set(err, NC_ERR_INPUT, "worker %s could not start: %s", h->worker,
                            h->error);
    if (h->data_fp != data_fp)
        return nc_error_set(err, NC_ERR_INPUT,
                            "worker %s: its dataset differs from the coordinator's (fingerprint "
                            "%016" PRIx64 ", coordinator %016" PRIx64 "; its files: %s): put the "
                            "same dataset at that path on every node",
                            h->worker, h->data_fp, data_fp,
                            h->data_where[0] ? h->data_where : "generated");
    if (h->pipeline_hash != pipeline_hash)
        return nc_error_set(err, NC_ERR_INPUT,
                            "worker %s: its pipeline differs from the coordinator's (hash "
                            "%016" PRIx64 ", coordinator %016" PRIx64 "): start every rank with "
                            "the same pipeline file and --set options",
                            h->worker, h->pipeline_hash, pipeline_hash);
    return NC_OK;
}
