/* settings.c - reading a pipeline section: the getters plugins and the
 * core use, and the one message form every setting error has. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"

/* ---- text of values ---------------------------------------------------- */

void nc_pl_format_real(double v, char *buf, size_t size)
{
    char tmp[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* libconfig reads "5" as an integer: keep the value a float. */
    if (isfinite(v) && !strpbrk(tmp, ".eE"))
        strcat(tmp, ".0");
    snprintf(buf, size, "%s", tmp);
}

static void write_string(nc_text *b, const char *s)
{
    nc_text_add(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': nc_text_add(b, "\\\""); break;
        case '\\': nc_text_add(b, "\\\\"); break;
        case '\n': nc_text_add(b, "\\n"); break;
        case '\r': nc_text_add(b, "\\r"); break;
        case '\t': nc_text_add(b, "\\t"); break;
        case '\f': nc_text_add(b, "\\f"); break;
        default:
            if (*c < 0x20 || *c == 0x7f)
                nc_text_add(b, "\\x%02X", *c);
            else
                nc_text_add(b, "%c", *c);
        }
    }
    nc_text_add(b, "\"");
}

void nc_pl_write_value(nc_text *b, const config_setting_t *s, int indent)
{
    int hex = config_setting_get_format(s) == CONFIG_FORMAT_HEX;
    char num[64];
    int n;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        if (hex)
            nc_text_add(b, "0x%X", (unsigned)config_setting_get_int(s));
        else
            nc_text_add(b, "%d", config_setting_get_int(s));
        break;
    case CONFIG_TYPE_INT64:
        if (hex)
            nc_text_add(b, "0x%llX",
                          (unsigned long long)config_setting_get_int64(s));
        else
            nc_text_add(b, "%lld", config_setting_get_int64(s));
        if (indent >= 0)
            nc_text_add(b, "L");
        break;
    case CONFIG_TYPE_FLOAT:
        nc_pl_format_real(config_setting_get_float(s), num, sizeof num);
        nc_text_add(b, "%s", num);
        break;
    case CONFIG_TYPE_BOOL:
        nc_text_add(b, "%s", config_setting_get_bool(s) ? "true" : "false");
        break;
    case CONFIG_TYPE_STRING:
        write_string(b, config_setting_get_string(s));
        break;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        int array = config_setting_type(s) == CONFIG_TYPE_ARRAY;
        nc_text_add(b, "%s", array ? "[" : "(");
        n = config_setting_length(s);
        for (int i = 0; i < n; i++) {
            nc_text_add(b, "%s", i ? ", " : "");
            nc_pl_write_value(b, config_setting_get_elem(s, (unsigned)i),
                              indent < 0 ? -1 : indent);
        }
        nc_text_add(b, "%s", array ? "]" : ")");
        break;
    }
    case CONFIG_TYPE_GROUP:
        n = config_setting_length(s);
        if (indent < 0) {
            nc_text_add(b, "{");
            for (int i = 0; i < n; i++) {
                const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
                nc_text_add(b, " %s = ", config_setting_name(m));
                nc_pl_write_value(b, m, -1);
                nc_text_add(b, ";");
            }
            nc_text_add(b, " }");
        } else {
            nc_text_add(b, "{\n");
            for (int i = 0; i < n; i++) {
                const config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
                nc_text_add(b, "%*s%s = ", 2 * (indent + 1), "",
                              config_setting_name(m));
                nc_pl_write_value(b, m, indent + 1);
                nc_text_add(b, ";\n");
            }
            nc_text_add(b, "%*s}", 2 * indent, "");
        }
        break;
    default:
        nc_text_add(b, "?");
    }
}

void nc_pl_format_value(const config_setting_t *s, char *buf, size_t size)
{
    nc_text b = {0};
    nc_pl_write_value(&b, s, -1);
    snprintf(buf, size, "%s", b.failed || !b.data ? "?" : b.data);
    /* A value cut short says so rather than looking complete. */
    if (!b.failed && b.data && b.len >= size && size > 4)
        memcpy(buf + size - 4, "...", 4);
    free(b.data);
}

/* ---- ranges for messages ----------------------------------------------- */

void nc_pl_int_range(int64_t min, int64_t max, char *buf, size_t size)
{
    long long lo = min, hi = max;
    if (min == INT64_MIN && max == INT64_MAX)
        snprintf(buf, size, "an integer");
    else if (max == INT64_MAX)
        snprintf(buf, size, "an integer >= %lld", lo);
    else if (min == INT64_MIN)
        snprintf(buf, size, "an integer <= %lld", hi);
    else
        snprintf(buf, size, "an integer in [%lld, %lld]", lo, hi);
}

void nc_pl_real_range(double min, int min_open, double max, char *buf,
                      size_t size)
{
    char lo[64], hi[64];
    int has_lo = min > -DBL_MAX, has_hi = max < DBL_MAX;
    nc_pl_format_real(min, lo, sizeof lo);
    nc_pl_format_real(max, hi, sizeof hi);
    /* Bounds read better without the ".0" a float literal needs. */
    for (char *t = lo; t; t = t == lo ? hi : NULL) {
        size_t n = strlen(t);
        if (n > 2 && strcmp(t + n - 2, ".0") == 0)
            t[n - 2] = '\0';
    }
    if (!has_lo && !has_hi)
        snprintf(buf, size, "a number");
    else if (!has_hi)
        snprintf(buf, size, "a number %s %s", min_open ? ">" : ">=", lo);
    else if (!has_lo)
        snprintf(buf, size, "a number <= %s", hi);
    else
        snprintf(buf, size, "a number in %s%s, %s]", min_open ? "(" : "[", lo,
                 hi);
}

/* ---- sections ---------------------------------------------------------- */

const char *nc_section_path(const nc_section *sec)
{
    return sec && sec->path ? sec->path : "";
}

config_setting_t *nc_pl_lookup(const nc_section *sec, const char *key)
{
    if (!sec || !sec->group || !key || !*key)
        return NULL;
    return config_setting_lookup(sec->group, key);
}

int nc_section_has(const nc_section *sec, const char *key)
{
    return nc_pl_lookup(sec, key) != NULL;
}

void nc_section_where(const nc_section *sec, const char *key, char *buf,
                      size_t size)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    if (!s && sec)
        s = sec->group;
    if (s && sec->p) {
        nc_pl_where(sec->p, s, buf, size);
        return;
    }
    const char *file = sec && sec->p ? nc_pipeline_file(sec->p) : NULL;
    snprintf(buf, size, "%s", file ? file : "defaults");
}

static void full_name(const nc_section *sec, const char *key, char *buf,
                      size_t size)
{
    const char *path = nc_section_path(sec);
    snprintf(buf, size, "%s%s%s", path, *path ? "." : "", key);
}

__attribute__((format(printf, 5, 0)))
static int section_verror(const nc_section *sec, const char *key,
                          nc_error *err, const char *suffix, const char *fmt,
                          va_list ap)
{
    char where[NC_PATH_MAX + 64], name[256], msg[NC_ERROR_MAX];
    nc_section_where(sec, key, where, sizeof where);
    full_name(sec, key, name, sizeof name);
    vsnprintf(msg, sizeof msg, fmt, ap);
    return nc_error_set(err, NC_ERR_INPUT, "%s: setting '%s': %s%s", where,
                        name, msg, suffix ? suffix : "");
}

int nc_section_error(const nc_section *sec, const char *key, nc_error *err,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = section_verror(sec, key, err, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int nc_pl_value_error(const nc_section *sec, const char *key,
                      const config_setting_t *s, nc_error *err,
                      const char *fmt, ...)
{
    char value[512], suffix[520];
    va_list ap;
    nc_pl_format_value(s, value, sizeof value);
    snprintf(suffix, sizeof suffix, ", got %s", value);
    va_start(ap, fmt);
    int rc = section_verror(sec, key, err, suffix, fmt, ap);
    va_end(ap);
    return rc;
}

static int is_int(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_INT ||
           config_setting_type(s) == CONFIG_TYPE_INT64;
}

int nc_section_get_int(const nc_section *sec, const char *key, int64_t def,
                       int64_t min, int64_t max, int64_t *out, nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    if (!s) {
        *out = def;
        return NC_OK;
    }
    if (is_int(s)) {
        int64_t v = config_setting_get_int64(s);
        if (v >= min && v <= max) {
            *out = v;
            return NC_OK;
        }
    }
    char range[128];
    nc_pl_int_range(min, max, range, sizeof range);
    return nc_pl_value_error(sec, key, s, err, "expected %s", range);
}

static int get_real(const nc_section *sec, const char *key, double def,
                    double min, int min_open, double max, double *out,
                    nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    if (!s) {
        *out = def;
        return NC_OK;
    }
    if (is_int(s) || config_setting_type(s) == CONFIG_TYPE_FLOAT) {
        double v = is_int(s) ? (double)config_setting_get_int64(s)
                             : config_setting_get_float(s);
        if (isfinite(v) && (min_open ? v > min : v >= min) && v <= max) {
            *out = v;
            return NC_OK;
        }
    }
    char range[160];
    nc_pl_real_range(min, min_open, max, range, sizeof range);
    return nc_pl_value_error(sec, key, s, err, "expected %s", range);
}

int nc_section_get_real(const nc_section *sec, const char *key, double def,
                        double min, double max, double *out, nc_error *err)
{
    return get_real(sec, key, def, min, 0, max, out, err);
}

int nc_section_get_real_above(const nc_section *sec, const char *key,
                              double def, double min, double max, double *out,
                              nc_error *err)
{
    return get_real(sec, key, def, min, 1, max, out, err);
}

int nc_section_get_bool(const nc_section *sec, const char *key, int def,
                        int *out, nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    if (!s) {
        *out = def;
        return NC_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return nc_pl_value_error(sec, key, s, err, "expected true or false");
    *out = config_setting_get_bool(s) ? 1 : 0;
    return NC_OK;
}

int nc_section_get_string(const nc_section *sec, const char *key,
                          const char *def, const char **out, nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    if (!s) {
        *out = def;
        return NC_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return nc_pl_value_error(sec, key, s, err, "expected a string");
    *out = config_setting_get_string(s);
    return NC_OK;
}

int nc_section_get_choice(const nc_section *sec, const char *key,
                          const char *def, const char *const *choices,
                          int *index, nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    const char *v = s && config_setting_type(s) == CONFIG_TYPE_STRING
                        ? config_setting_get_string(s) : NULL;
    if (!s)
        v = def;
    for (int i = 0; v && choices[i]; i++)
        if (strcmp(choices[i], v) == 0) {
            *index = i;
            return NC_OK;
        }
    if (!s)
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "setting '%s': default \"%s\" is not a choice",
                            key, def ? def : "(null)");
    char list[512];
    nc_text b = {0};
    for (int i = 0; choices[i]; i++)
        nc_text_add(&b, "%s\"%s\"", i ? ", " : "", choices[i]);
    snprintf(list, sizeof list, "%s", b.data && !b.failed ? b.data : "?");
    free(b.data);
    return nc_pl_value_error(sec, key, s, err, "expected one of %s", list);
}

int nc_section_get_path(const nc_section *sec, const char *key,
                        const char *def, char **out, nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    *out = NULL;
    if (!s) {
        if (def && !(*out = strdup(def)))
            return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
        return NC_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING ||
        !*config_setting_get_string(s))
        return nc_pl_value_error(sec, key, s, err, "expected a path (a string)");
    char dirbuf[NC_PATH_MAX];
    const char *dir = nc_pl_base_dir(sec->p, s, dirbuf, sizeof dirbuf);
    if (!(*out = nc_pl_join(dir, config_setting_get_string(s))))
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    return NC_OK;
}

static int is_sequence(const config_setting_t *s)
{
    return config_setting_type(s) == CONFIG_TYPE_ARRAY ||
           config_setting_type(s) == CONFIG_TYPE_LIST;
}

int nc_section_get_int_list(const nc_section *sec, const char *key,
                            int64_t min, int64_t max, int64_t **out,
                            size_t *count, nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    *out = NULL;
    *count = 0;
    if (!s)
        return NC_OK;
    int ok = is_sequence(s);
    int n = ok ? config_setting_length(s) : 0;
    for (int i = 0; ok && i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        ok = is_int(e) && config_setting_get_int64(e) >= min &&
             config_setting_get_int64(e) <= max;
    }
    if (!ok) {
        char range[128];
        nc_pl_int_range(min, max, range, sizeof range);
        /* "an integer >= 1" becomes "integers >= 1". */
        return nc_pl_value_error(sec, key, s, err,
                                 "expected a list of integers%s",
                                 range + strlen("an integer"));
    }
    if (n <= 0)
        return NC_OK;
    int64_t *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    for (int i = 0; i < n; i++)
        v[i] = config_setting_get_int64(config_setting_get_elem(s, (unsigned)i));
    *out = v;
    *count = (size_t)n;
    return NC_OK;
}

int nc_section_get_string_list(const nc_section *sec, const char *key,
                               const char ***out, size_t *count,
                               nc_error *err)
{
    const config_setting_t *s = nc_pl_lookup(sec, key);
    *out = NULL;
    *count = 0;
    if (!s)
        return NC_OK;
    int ok = is_sequence(s);
    int n = ok ? config_setting_length(s) : 0;
    for (int i = 0; ok && i < n; i++)
        ok = config_setting_type(config_setting_get_elem(s, (unsigned)i)) ==
             CONFIG_TYPE_STRING;
    if (!ok)
        return nc_pl_value_error(sec, key, s, err, "expected a list of strings");
    if (n <= 0)
        return NC_OK;
    const char **v = malloc((size_t)n * sizeof *v);
    if (!v)
        return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
    for (int i = 0; i < n; i++)
        v[i] = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
    *out = v;
    *count = (size_t)n;
    return NC_OK;
}

int nc_section_value_error(const nc_section *sec, const char *key,
                           nc_error *err, const char *fmt, ...)
{
    char value[512], suffix[520] = "";
    const config_setting_t *s = nc_pl_lookup(sec, key);
    if (s) {
        nc_pl_format_value(s, value, sizeof value);
        snprintf(suffix, sizeof suffix, ", got %s", value);
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = section_verror(sec, key, err, suffix, fmt, ap);
    va_end(ap);
    return rc;
}

const struct nc_pipeline *nc_section_pipeline(const nc_section *sec)
{
    return sec ? sec->p : NULL;
}
