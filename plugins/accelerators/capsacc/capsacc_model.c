/* capsacc_model.c - CapsAcc cost model (reference/capsacc/MODEL.md) and the
 * synthesis-table reader. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capsacc_model.h"

/* Counts stay integers until they must become doubles: above 2^53 a double
 * would no longer hold them exactly, so such operations are refused. */
#define CAPSACC_EXACT_MAX ((int64_t)1 << 53)
#define CAPSACC_CSV_MAX_FIELDS 32

void capsacc_config_default(capsacc_config *c)
{
    c->rows = CAPSACC_DEFAULT_ROWS;
    c->cols = CAPSACC_DEFAULT_COLS;
    c->pe_width = CAPSACC_DEFAULT_PE_WIDTH;
    c->pe_stages = CAPSACC_DEFAULT_PE_STAGES;
    c->period_ns = CAPSACC_DEFAULT_PERIOD_NS;
    c->acc_bits = CAPSACC_DEFAULT_ACC_BITS;
    c->p_pe_mw = CAPSACC_DEFAULT_P_PE_MW;
    c->p_mem_mw = CAPSACC_DEFAULT_P_MEM_MW;
    c->pe_area_um2 = CAPSACC_DEFAULT_PE_AREA_UM2;
    c->mem_area_um2 = CAPSACC_DEFAULT_MEM_AREA_UM2;
}

int capsacc_needs_mem_table(const capsacc_config *c)
{
    return c->period_ns != CAPSACC_DEFAULT_PERIOD_NS ||
           c->acc_bits != CAPSACC_DEFAULT_ACC_BITS;
}

int capsacc_needs_pe_table(const capsacc_config *c)
{
    return capsacc_needs_mem_table(c) ||
           c->pe_stages != CAPSACC_DEFAULT_PE_STAGES ||
           c->pe_width != CAPSACC_DEFAULT_PE_WIDTH;
}

/* ---- synthesis tables ------------------------------------------------ */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                     s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Splits line in place at commas; returns the field count, or -1 when
 * there are more than max. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        fields[n++] = trim(p);
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int parse_number(const char *text, double *out)
{
    char *end;
    if (!*text)
        return -1;
    errno = 0;
    *out = strtod(text, &end);
    if (*end != '\0' || errno == ERANGE)
        return -1;
    return 0;
}

/* What a lookup looks for: key columns with their wanted values, and the
 * two figure columns. */
typedef struct csv_query {
    const char *path;
    int n_keys;
    const char *key_names[4];
    double key_values[4];
    double power, area;   /* out */
    long line;            /* out: line of the matching row, 0 if none */
} csv_query;

static int csv_error(nc_error *err, const csv_query *q, long line,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int csv_error(nc_error *err, const csv_query *q, long line,
                     const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return nc_error_set(err, NC_ERR_INPUT, "%s:%ld: malformed CSV: %s", q->path,
                        line, detail);
}

static int csv_lookup(csv_query *q, nc_error *err)
{
    FILE *f = fopen(q->path, "r");
    if (!f)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot open: %s", q->path,
                            strerror(errno));

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int n_header = 0;
    int key_col[4] = {-1, -1, -1, -1};
    int power_col = -1, area_col = -1;
    int rc = NC_OK;
    char *fields[CAPSACC_CSV_MAX_FIELDS];

    q->line = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            rc = csv_error(err, q, lineno, "NUL byte in line");
            break;
        }
        char *text = trim(line);
        if (!*text)
            continue;
        int n = split_fields(text, fields, CAPSACC_CSV_MAX_FIELDS);
        if (n < 0) {
            rc = csv_error(err, q, lineno, "more than %d fields", CAPSACC_CSV_MAX_FIELDS);
            break;
        }
        if (n_header == 0) {
            n_header = n;
            for (int i = n - 1; i >= 0; i--) {
                for (int k = 0; k < q->n_keys; k++)
                    if (strcmp(fields[i], q->key_names[k]) == 0)
                        key_col[k] = i;
                if (strcmp(fields[i], "power_mW") == 0)
                    power_col = i;
                if (strcmp(fields[i], "area_um2") == 0)
                    area_col = i;
            }
            const char *missing = power_col < 0 ? "power_mW"
                                  : area_col < 0 ? "area_um2" : NULL;
            for (int k = 0; k < q->n_keys && !missing; k++)
                if (key_col[k] < 0)
                    missing = q->key_names[k];
            if (missing) {
                rc = csv_error(err, q, lineno, "header has no column '%s'", missing);
                break;
            }
            continue;
        }
        if (n != n_header) {
            rc = csv_error(err, q, lineno, "expected %d fields as in the header, found %d",
                           n_header, n);
            break;
        }
        int match = 1;
        for (int k = 0; k < q->n_keys && rc == NC_OK; k++) {
            double v;
            const char *field = fields[key_col[k]];
            if (parse_number(field, &v) || !isfinite(v))
                rc = csv_error(err, q, lineno, "column '%s' needs a finite number, got \"%s\"",
                               q->key_names[k], field);
            else if (v != q->key_values[k])
                match = 0;
        }
        if (rc)
            break;
        double power, area;
        if (parse_number(fields[power_col], &power)) {
            rc = csv_error(err, q, lineno, "column 'power_mW' needs a number or nan, got \"%s\"",
                           fields[power_col]);
            break;
        }
        if (parse_number(fields[area_col], &area)) {
            rc = csv_error(err, q, lineno, "column 'area_um2' needs a number or nan, got \"%s\"",
                           fields[area_col]);
            break;
        }
        if (!match)
            continue;
        if (q->line) {
            rc = csv_error(err, q, lineno, "duplicate row for the configuration (first on line %ld)",
                           q->line);
            break;
        }
        q->line = lineno;
        q->power = power;
        q->area = area;
    }
    if (rc == NC_OK && ferror(f))
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: read error: %s", q->path,
                          strerror(errno));
    if (rc == NC_OK && n_header == 0)
        rc = csv_error(err, q, 1, "empty file, expected a header line");
    free(line);
    fclose(f);
    return rc;
}

/* Refuses a configuration the table does not provide. */
static int check_figures(const csv_query *q, const char *config, nc_error *err)
{
    const char *table = base_name(q->path);
    if (!q->line)
        return nc_error_set(err, NC_ERR_INPUT,
                            "accelerator: no synthesis result for %s in %s: the table has no such row",
                            config, table);
    if (isnan(q->power))
        return nc_error_set(err, NC_ERR_INPUT,
                            "accelerator: no synthesis result for %s in %s: power is nan (synthesis failed)",
                            config, table);
    if (!(q->power >= 0) || isinf(q->power))
        return nc_error_set(err, NC_ERR_INPUT,
                            "accelerator: %s:%ld: power %g mW for %s is not a non-negative number",
                            table, q->line, q->power, config);
    return NC_OK;
}

int capsacc_load_pe_table(capsacc_config *c, const char *path, nc_error *err)
{
    csv_query q = {
        .path = path,
        .n_keys = 4,
        .key_names = {"period_ns", "acc_bits", "pe_stages", "pe_width"},
        .key_values = {c->period_ns, (double)c->acc_bits, (double)c->pe_stages,
                       (double)c->pe_width},
    };
    int rc = csv_lookup(&q, err);
    if (rc)
        return rc;
    char config[160];
    snprintf(config, sizeof config, "period_ns=%g acc_bits=%lld pe_stages=%lld pe_width=%lld",
             c->period_ns, (long long)c->acc_bits, (long long)c->pe_stages,
             (long long)c->pe_width);
    if ((rc = check_figures(&q, config, err)))
        return rc;
    c->p_pe_mw = q.power;
    c->pe_area_um2 = q.area;
    return NC_OK;
}

int capsacc_load_mem_table(capsacc_config *c, const char *path, nc_error *err)
{
    csv_query q = {
        .path = path,
        .n_keys = 2,
        .key_names = {"period_ns", "bits"},
        .key_values = {c->period_ns, (double)c->acc_bits},
    };
    int rc = csv_lookup(&q, err);
    if (rc)
        return rc;
    char config[96];
    snprintf(config, sizeof config, "period_ns=%g bits=%lld", c->period_ns,
             (long long)c->acc_bits);
    if ((rc = check_figures(&q, config, err)))
        return rc;
    c->p_mem_mw = q.power;
    c->mem_area_um2 = q.area;
    return NC_OK;
}

/* ---- cost of one operation ------------------------------------------- */

/* a * b into *out; non-zero when the product leaves [0, 2^53]. */
static int mul_exact(int64_t a, int64_t b, int64_t *out)
{
    return __builtin_mul_overflow(a, b, out) || *out > CAPSACC_EXACT_MAX;
}

static int too_large(const nc_hw_op *op, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INPUT,
                        "accelerator: operation '%.24s': counts exceed 2^53, too large to cost",
                        op->name);
}

int capsacc_cost(const capsacc_config *c, const nc_hw_op *op, nc_hw_cost *out,
                 nc_error *err)
{
    const int32_t fields[7] = {op->insize, op->inch,    op->incaps, op->k,
                               op->outsize, op->outch, op->outcaps};
    static const char *const names[7] = {"insize", "inch",  "incaps", "k",
                                         "outsize", "outch", "outcaps"};
    for (int i = 0; i < 7; i++)
        if (fields[i] < 1)
            return nc_error_set(err, NC_ERR_INPUT,
                                "accelerator: operation '%.24s': %s is %d, expected >= 1",
                                op->name, names[i], (int)fields[i]);

    const int64_t inch = op->inch, incaps = op->incaps, k = op->k;
    const int64_t outsize = op->outsize, outch = op->outch, outcaps = op->outcaps;
    int64_t weights, sums_per_out, data_per_weight, t, kk;

    if (mul_exact(k, k, &kk))
        return too_large(op, err);
    switch (op->kind) {
    case NC_HW_CONV:
    case NC_HW_CLASS:
    case NC_HW_CONV3D:
        if (op->kind == NC_HW_CONV3D && mul_exact(kk, k, &kk))
            return too_large(op, err);
        /* weights = (inch*k^d + 1) * outch * outcaps * incaps */
        if (mul_exact(inch, kk, &t) || mul_exact(t + 1, outch, &t) ||
            mul_exact(t, outcaps, &t) || mul_exact(t, incaps, &weights))
            return too_large(op, err);
        /* sums_per_out = (k^d + 1) * inch * incaps */
        if (mul_exact(kk + 1, inch, &t) || mul_exact(t, incaps, &sums_per_out))
            return too_large(op, err);
        if (op->kind == NC_HW_CLASS)
            data_per_weight = 1;
        else if (mul_exact(outsize, outsize, &t) || mul_exact(t, inch, &t) ||
                 mul_exact(t, incaps, &data_per_weight))
            return too_large(op, err);
        break;
    case NC_HW_SUM:
    case NC_HW_UPDATE:
        if (mul_exact(inch, kk, &t) || mul_exact(t, outch, &weights))
            return too_large(op, err);
        sums_per_out = incaps;
        data_per_weight = 1;
        break;
    default:
        return nc_error_set(err, NC_ERR_INPUT,
                            "accelerator: operation '%.24s': unknown kind %d", op->name,
                            (int)op->kind);
    }

    const int64_t rw = c->rows * c->pe_width;   /* bounded by the settings */
    const int64_t w_load_cycles = c->rows + c->pe_stages - 1;
    const int64_t per_load = rw < sums_per_out ? rw : sums_per_out;
    /* Real division then ceil, as the reference computes it. */
    const double w_loads = ceil((double)weights / (double)c->cols / (double)per_load);
    const double cycles = (double)w_load_cycles * w_loads + (double)data_per_weight;

    double mem_accum;
    if (data_per_weight == 1) {
        mem_accum = (double)c->cols;
    } else {
        int64_t extra = sums_per_out - rw + 1;
        mem_accum = (double)c->cols * (double)(extra > 1 ? extra : 1);
    }

    const double power_mw = c->p_pe_mw * (double)c->rows * (double)c->cols +
                            mem_accum * c->p_mem_mw;
    const double latency_s = cycles * c->period_ns * 1e-9;

    out->cycles = cycles;
    out->power_mw = power_mw;
    out->latency_ms = latency_s * 1e3;
    out->energy_mj = power_mw * latency_s;
    out->memory_bytes = (double)weights;   /* 8-bit weights */
    out->weights = (double)weights;
    /* The silicon this operation occupies: the PE array plus the
     * accumulator cells it uses. */
    out->area_um2 = c->pe_area_um2 * (double)c->rows * (double)c->cols +
                    mem_accum * c->mem_area_um2;
    return NC_OK;
}
