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
#include "util/text.h"

/* A value on one line: newlines become spaces. */
static void wb_text(nc_text *b, const char *key, const char *value)
{
    nc_text_add(b, "%s ", key);
    size_t from = b->len, n = strlen(value);
    nc_text_put(b, value, n);
    for (size_t i = from; !b->failed && i < b->len; i++)
        if (b->data[i] == '\n' || b->data[i] == '\r')
            b->data[i] = ' ';
    nc_text_put(b, "\n", 1);
}

/* ---- Stage 2's binary state: base64 on one line --------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* "key BASE64\n" ("key -" when there are no bytes). */
static void wb_blob(nc_text *b, const char *key, const unsigned char *data, size_t len)
{
    if (!data || !len) {
        nc_text_add(b, "%s -\n", key);
        return;
    }
    if (!nc_text_space(b, 4 * ((len + 2) / 3) + strlen(key) + 2))
        return;
    char *o = b->data + b->len;
    o += sprintf(o, "%s ", key);
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = b64[(v >> 6) & 63];
        *o++ = b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '\n';
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

/* The value of a base64 character, -1 for any other byte (computed, not
 * searched: stage 2 decodes 16 characters per parameter of a network). */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes n characters of base64; *out malloc'd. -1 on a bad character
 * or length. */
static int b64_decode(const char *in, size_t n, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (n % 4)
        return -1;
    unsigned char *o = malloc(n / 4 * 3 + 1);
    if (!o)
        return -2;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (in[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
                continue;
            }
            if (pad || (v[j] = b64_value((unsigned char)in[i + j])) < 0) {
                free(o);
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        o[k++] = (unsigned char)(w >> 16);
        if (pad < 2)
            o[k++] = (unsigned char)(w >> 8);
        if (pad < 1)
            o[k++] = (unsigned char)w;
    }
    *out = o;
    *len = k;
    return 0;
}

/* Adam's moments as little-endian bytes, whatever the host. */
static unsigned char *floats_le(const float *x, size_t n)
{
    unsigned char *o = malloc(n ? 4 * n : 1);
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        o[4 * i] = (unsigned char)u;
        o[4 * i + 1] = (unsigned char)(u >> 8);
        o[4 * i + 2] = (unsigned char)(u >> 16);
        o[4 * i + 3] = (unsigned char)(u >> 24);
    }
    return o;
}

/* The state's fields; the two blobs last (they are most of the bytes). */
static void wb_final(nc_text *b, const nc_final_state *f)
{
    char shuffle[68], augment[68];
    nc_run_rng_text(&f->shuffle, shuffle);
    nc_run_rng_text(&f->augment, augment);
    nc_text_add(b, "final_epochs_done %d\nshuffle %s\naugment %s\nadam_step %" PRId64
              "\nadam_count %zu\nweights_len %zu\n",
              f->epochs_done, shuffle, augment, f->adam_step, f->adam_count, f->weights_len);
    wb_text(b, "origin", f->origin[0] ? f->origin : "-");
    wb_blob(b, "weights", f->weights, f->weights_len);
    unsigned char *adam = f->adam ? floats_le(f->adam, 2 * f->adam_count) : NULL;
    if (f->adam && !adam) {
        b->failed = 1;
        return;
    }
    wb_blob(b, "adam", adam, adam ? 8 * f->adam_count : 0);
    free(adam);
}

char *nc_wire_hello(const char *worker, int threads, uint64_t data_fp, uint64_t pipeline_hash,
                    const char *data_where, const char *error)
{
    nc_text b = {0};
    nc_text_add(&b, "nascaps-hello %d\n", NC_WIRE_VERSION);
    wb_text(&b, "worker", worker);
    nc_text_add(&b, "threads %d\ndata %016" PRIx64 "\npipeline %016" PRIx64 "\n", threads, data_fp,
              pipeline_hash);
    wb_text(&b, "where", data_where ? data_where : "");
    wb_text(&b, "error", error ? error : "");
    return nc_text_take(&b);
}

char *nc_wire_job(const nc_exec_job *job)
{
    nc_text b = {0};
    nc_text_add(&b, "nascaps-job %d\nslot %d\nepochs %d\ntrains %d\n", NC_WIRE_VERSION, job->slot,
              job->epochs, job->trains);
    wb_text(&b, "genotype", job->genotype);
    /* the plan travels whole: the worker decides exactly as the
     * coordinator planned (hex floats: bit-identical thresholds) */
    nc_text_add(&b, "prune_epochs %d\n", job->prune.epochs);
    for (int e = 1; e < job->prune.epochs && e <= NC_PRUNE_MAX_EPOCHS; e++) {
        char key[32];
        nc_text_add(&b, "prune_min_%d %a\n", e, job->prune.min_acc[e - 1]);
        snprintf(key, sizeof key, "prune_why_%d", e);
        wb_text(&b, key, job->prune.why[e - 1][0] ? job->prune.why[e - 1] : "-");
    }
    nc_text_add(&b, "kind %s\n", job->final ? "final" : "eval");
    if (job->final)
        wb_final(&b, job->final);
    return nc_text_take(&b);
}

char *nc_wire_quit(void)
{
    nc_text b = {0};
    nc_text_add(&b, "nascaps-quit %d\n", NC_WIRE_VERSION);
    return nc_text_take(&b);
}

char *nc_wire_result(const nc_exec_result *r)
{
    const nc_eval_rec *e = &r->rec;
    nc_text b = {0};
    nc_text_add(&b, "nascaps-result %d\nslot %d\nstopped %d\nthreads %d\n", NC_WIRE_VERSION,
              r->slot, r->stopped, r->threads);
    wb_text(&b, "worker", r->worker);
    wb_text(&b, "gid", e->gid);
    wb_text(&b, "genotype", e->genotype);
    wb_text(&b, "cache_key", e->cache_key);
    wb_text(&b, "status", e->status);
    wb_text(&b, "reason", e->reason);
    nc_text_add(&b,
              "accuracy %a\ntest_accuracy %a\nvalidation_accuracy %a\nenergy_mj %a\n"
              "latency_ms %a\nmemory_kib %a\nparams %" PRId64 "\nmacs %" PRId64
              "\nepochs_done %d\ntrain_seconds %a\nseconds %a\n",
              e->accuracy, e->test_accuracy, e->validation_accuracy, e->energy_mj,
              e->latency_ms, e->memory_kib, e->params, e->macs, e->epochs_done,
              e->train_seconds, e->seconds);
    for (int i = 0; i < r->n_epochs; i++) {
        const nc_epoch_rec *p = &r->epochs[i];
        nc_text_add(&b, "epoch %d %d %a %a %a %a %a\n", p->epoch, p->complete, p->train_loss,
                  p->train_accuracy, p->test_accuracy, p->validation_accuracy, p->seconds);
    }
    nc_text_add(&b, "kind %s\n", r->is_final ? "final" : "eval");
    if (r->is_final)
        wb_final(&b, &r->final);
    return nc_text_take(&b);
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
            /* a CR is a space, as wb_text writes values, so that what
             * is accepted survives being sent on (fuzz_wire) */
            for (char *c = buf; (c = strchr(c, '\r')) != NULL; c++)
                *c = ' ';
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

/* The value of the first line "key VALUE" in place: *v and *n. */
static int find_span(const char *msg, const char *key, const char **v, size_t *n)
{
    size_t k = strlen(key);
    for (const char *q = msg; q && *q;) {
        const char *end = strchr(q, '\n');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        if (len > k && strncmp(q, key, k) == 0 && q[k] == ' ') {
            *v = q + k + 1;
            *n = len - k - 1;
            return 1;
        }
        q = end ? end + 1 : NULL;
    }
    return 0;
}

/* A blob field: NULL for "-", else exactly `want` bytes of base64. */
static int get_blob(const char *msg, const char *from, const char *what, const char *key,
                    size_t want, unsigned char **out, nc_error *err)
{
    const char *v;
    size_t n, len;
    *out = NULL;
    if (!find_span(msg, key, &v, &n))
        return missing(from, what, key, err);
    if (n == 1 && v[0] == '-') {
        if (want)
            return nc_error_set(err, NC_ERR_INPUT, "%s: %s field '%s': no bytes, expected %zu",
                                from, what, key, want);
        return NC_OK;
    }
    int rc = b64_decode(v, n, out, &len);
    if (rc == -2)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory for %zu bytes", from, n);
    if (rc || len != want) {
        free(*out);
        *out = NULL;
        if (rc)
            return nc_error_set(err, NC_ERR_INPUT, "%s: %s field '%s': not base64", from, what,
                                key);
        return nc_error_set(err, NC_ERR_INPUT, "%s: %s field '%s': %zu bytes, expected %zu",
                            from, what, key, len, want);
    }
    return NC_OK;
}

static int get_rng(const char *msg, const char *from, const char *what, const char *key,
                   nc_rng *out, nc_error *err)
{
    char buf[96];
    if (!find_line(msg, key, buf, sizeof buf))
        return missing(from, what, key, err);
    if (nc_run_rng_parse(buf, out) != NC_OK)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s field '%s': expected four 16-digit hex words, found '%s'",
                            from, what, key, buf);
    return NC_OK;
}

/* Bounds of what one stage-2 state may hold: 2^34 bytes of weights. */
#define MAX_STATE_BYTES ((int64_t)1 << 34)

/* A stage-2 state (wb_final); on failure f is left empty. */
static int parse_final(const char *msg, const char *from, const char *what, nc_final_state *f,
                       nc_error *err)
{
    nc_final_state_free(f);
    memset(f, 0, sizeof *f);
    int64_t adam_count = 0, weights_len = 0;
    unsigned char *adam = NULL;
    int rc;
    if ((rc = get_int(msg, from, what, "final_epochs_done", 0, 1000000, &f->epochs_done, err)) ||
        (rc = get_rng(msg, from, what, "shuffle", &f->shuffle, err)) ||
        (rc = get_rng(msg, from, what, "augment", &f->augment, err)) ||
        (rc = get_i64(msg, from, what, "adam_step", 0, INT64_MAX, &f->adam_step, err)) ||
        (rc = get_i64(msg, from, what, "adam_count", 0, MAX_STATE_BYTES / 8, &adam_count, err)) ||
        (rc = get_i64(msg, from, what, "weights_len", 0, MAX_STATE_BYTES, &weights_len, err)) ||
        (rc = get_text(msg, from, what, "origin", f->origin, sizeof f->origin, err)) ||
        (rc = get_blob(msg, from, what, "weights", (size_t)weights_len, &f->weights, err)) ||
        (rc = get_blob(msg, from, what, "adam", 8 * (size_t)adam_count, &adam, err)))
        goto fail;
    if (!strcmp(f->origin, "-"))
        f->origin[0] = '\0';
    f->weights_len = (size_t)weights_len;
    f->adam_count = (size_t)adam_count;
    if (adam) {
        f->adam = malloc(8 * (size_t)adam_count);
        if (!f->adam) {
            rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", from);
            goto fail;
        }
        for (size_t i = 0; i < 2 * (size_t)adam_count; i++) {
            const unsigned char *q = adam + 4 * i;
            uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
                         (uint32_t)q[3] << 24;
            memcpy(&f->adam[i], &u, 4);
        }
    }
    free(adam);
    return NC_OK;
fail:
    free(adam);
    nc_final_state_free(f);
    return rc;
}

/* "kind eval" or "kind final": *is_final. */
static int get_kind(const char *msg, const char *from, const char *what, int *is_final,
                    nc_error *err)
{
    char kind[16];
    int rc = get_text(msg, from, what, "kind", kind, sizeof kind, err);
    if (rc)
        return rc;
    if (strcmp(kind, "eval") != 0 && strcmp(kind, "final") != 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s field 'kind': expected eval or final, found '%s'", from, what,
                            kind);
    *is_final = !strcmp(kind, "final");
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

int nc_wire_parse_job(const char *msg, const char *from, nc_exec_job *job,
                      nc_final_state *final, int *quit, nc_error *err)
{
    *quit = 0;
    job->final = NULL;
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
    int is_final = 0;
    if ((rc = get_kind(msg, from, w, &is_final, err)))
        return rc;
    if (is_final) {
        if ((rc = parse_final(msg, from, w, final, err)))
            return rc;
        job->final = final;
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
    if ((rc = parse_epochs(msg, from, r, err)) ||
        (rc = get_kind(msg, from, w, &r->is_final, err)))
        return rc;
    static const char *const statuses[] = {"ok",      "time_limit", "diverged", "refused",
                                           "invalid", "pruned",     "over_budget", NULL};
    static const char *const final_statuses[] = {"ok", "diverged", "refused", "error", NULL};
    const char *const *allowed = r->is_final ? final_statuses : statuses;
    int known = r->is_final && r->stopped;   /* cut: nothing to keep */
    for (int i = 0; allowed[i]; i++)
        known |= strcmp(e->status, allowed[i]) == 0;
    if (!known)
        return nc_error_set(err, NC_ERR_INPUT,
                            r->is_final ? "%s: result field 'status': expected ok, diverged, "
                                          "refused or error, found '%s'"
                                        : "%s: result field 'status': expected ok, time_limit, "
                                          "diverged, refused, invalid, pruned or over_budget, "
                                          "found '%s'",
                            from, e->status);
    if (!r->is_final) {
        nc_final_state_free(&r->final);
        return NC_OK;
    }
    if ((rc = parse_final(msg, from, w, &r->final, err)))
        return rc;
    /* what the coordinator will store: a trained epoch brings its row and
     * the weights after it; anything else brings neither */
    int ok = !strcmp(e->status, "ok");
    if (r->stopped)
        return NC_OK;
    if (ok != (r->n_epochs == 1) || ok != (r->final.weights != NULL) ||
        (ok && r->epochs[0].epoch != r->final.epochs_done))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: stage 2 result with status %s, %d epoch rows (epoch %d) and %s "
                            "weights after %d epochs: inconsistent",
                            from, e->status, r->n_epochs, r->n_epochs ? r->epochs[0].epoch : 0,
                            r->final.weights ? "its" : "no", r->final.epochs_done);
    return NC_OK;
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
