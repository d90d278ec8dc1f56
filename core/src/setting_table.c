/* setting_table.c - reading settings through their owner's table
 * (nc_setting_spec, ABI 1.3): defaults, bounds, choices and aliases are
 * taken from the one entry that also documents the setting. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_priv.h"

const nc_setting_spec *nc_setting_find(const nc_setting_spec *table,
                                       const char *key)
{
    for (const nc_setting_spec *e = table; e && e->name; e++)
        if (strcmp(e->name, key) == 0)
            return e;
    return NULL;
}

/* The entry of key, or NC_ERR_INTERNAL: an owner reads only what it lists,
 * so that the listing is complete. */
static int entry(const nc_section *sec, const nc_setting_spec *table,
                 const char *key, const nc_setting_spec **out, nc_error *err)
{
    if (!(*out = nc_setting_find(table, key)))
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "setting '%s%s%s' is read but not in its owner's "
                            "table", nc_section_path(sec),
                            *nc_section_path(sec) ? "." : "", key);
    return NC_OK;
}

/* Where the value is read from: the section itself, or the alias (a full
 * dotted name at the root) when the key is unset there. */
static void source(const nc_section *sec, const nc_setting_spec *e,
                   const nc_section **rsec, const char **rkey)
{
    *rsec = sec;
    *rkey = e->name;
    if (e->alias && sec->p && !nc_pl_lookup(sec, e->name)) {
        const nc_section *root = nc_pipeline_section(sec->p, "");
        if (nc_pl_lookup(root, e->alias)) {
            *rsec = root;
            *rkey = e->alias;
        }
    }
}

/* entry() and source() together: what every getter starts with. */
static int locate(const nc_section *sec, const nc_setting_spec *table,
                  const char *key, const nc_setting_spec **e,
                  const nc_section **rs, const char **rk, nc_error *err)
{
    if (entry(sec, table, key, e, err))
        return err->status;
    source(sec, *e, rs, rk);
    return NC_OK;
}

static int has_default(const nc_setting_spec *e)
{
    return !(e->flags & NC_SETF_NO_DEFAULT) && e->default_text &&
           strcmp(e->default_text, "-") != 0;
}

static int64_t int_lo(const nc_setting_spec *e)
{
    if (!(e->flags & NC_SETF_MIN) || e->min <= -9.2e18)
        return INT64_MIN;
    return (int64_t)e->min + ((e->flags & NC_SETF_MIN_OPEN) ? 1 : 0);
}

static int64_t int_hi(const nc_setting_spec *e)
{
    if (!(e->flags & NC_SETF_MAX) || e->max >= 9.2e18)
        return INT64_MAX;
    return (int64_t)e->max;
}

static double real_lo(const nc_setting_spec *e)
{
    return (e->flags & NC_SETF_MIN) ? e->min : -DBL_MAX;
}

static double real_hi(const nc_setting_spec *e)
{
    return (e->flags & NC_SETF_MAX) ? e->max : DBL_MAX;
}

static int bad_default(const nc_setting_spec *e, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL,
                        "setting '%s': default text '%s' does not parse as "
                        "its type", e->name,
                        e->default_text ? e->default_text : "(null)");
}

int nc_setting_int(const nc_section *sec, const nc_setting_spec *table,
                   const char *key, int64_t *out, nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    int64_t def = *out;
    if (has_default(e)) {
        char *end;
        def = strtoll(e->default_text, &end, 10);
        if (*end)
            return bad_default(e, err);
    }
    return nc_section_get_int(rs, rk, def, int_lo(e), int_hi(e), out, err);
}

int nc_setting_int32(const nc_section *sec, const nc_setting_spec *table,
                     const char *key, int *out, nc_error *err)
{
    int64_t v = *out;
    if (nc_setting_int(sec, table, key, &v, err))
        return err->status;
    if (v > INT_MAX || v < INT_MIN) {
        const nc_setting_spec *e = nc_setting_find(table, key);
        const nc_section *rs;
        const char *rk;
        source(sec, e, &rs, &rk);
        char range[128];
        nc_pl_int_range(int_lo(e) < INT_MIN ? INT_MIN : int_lo(e), INT_MAX,
                        range, sizeof range);
        return nc_pl_value_error(rs, rk, nc_pl_lookup(rs, rk), err,
                                 "expected %s", range);
    }
    *out = (int)v;
    return NC_OK;
}

int nc_setting_real(const nc_section *sec, const nc_setting_spec *table,
                    const char *key, double *out, nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    double def = *out;
    if (has_default(e)) {
        char *end;
        def = strtod(e->default_text, &end);
        if (*end)
            return bad_default(e, err);
    }
    return (e->flags & NC_SETF_MIN_OPEN ? nc_section_get_real_above
                                        : nc_section_get_real)(
        rs, rk, def, real_lo(e), real_hi(e), out, err);
}

int nc_setting_bool(const nc_section *sec, const nc_setting_spec *table,
                    const char *key, int *out, nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    int def = *out;
    if (has_default(e)) {
        if (strcmp(e->default_text, "true") == 0)
            def = 1;
        else if (strcmp(e->default_text, "false") == 0)
            def = 0;
        else
            return bad_default(e, err);
    }
    return nc_section_get_bool(rs, rk, def, out, err);
}

/* The default of a string entry as a stable pointer: the choice equal to
 * the quoted default text. Entries without choices have no string default
 * to hand out (their owners treat "unset" themselves). */
static const char *string_default(const nc_setting_spec *e)
{
    if (!has_default(e))
        return NULL;
    const char *t = e->default_text;
    size_t n = strlen(t);
    if (n < 2 || t[0] != '"' || t[n - 1] != '"')
        return t;   /* free text such as "per plugin" is not a value */
    /* A choice equal to the quoted text is a stable pointer to hand out. */
    for (const char *const *c = e->choices; c && *c; c++)
        if (strlen(*c) == n - 2 && strncmp(*c, t + 1, n - 2) == 0)
            return *c;
    return NULL;
}

int nc_setting_string(const nc_section *sec, const nc_setting_spec *table,
                      const char *key, const char **out, nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    if (e->choices) {
        int idx = -1;
        if (!nc_pl_lookup(rs, rk) && !string_default(e)) {
            *out = NULL;
            return NC_OK;
        }
        if (nc_section_get_choice(rs, rk, string_default(e), e->choices, &idx,
                                  err))
            return err->status;
        *out = e->choices[idx];
        return NC_OK;
    }
    /* free text: the owner applies its default when unset (NULL) */
    return nc_section_get_string(rs, rk, NULL, out, err);
}

int nc_setting_choice(const nc_section *sec, const nc_setting_spec *table,
                      const char *key, int *index, nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    if (!e->choices || !string_default(e))
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "setting '%s': a choice needs choices and a "
                            "default among them", e->name);
    return nc_section_get_choice(rs, rk, string_default(e), e->choices, index,
                                 err);
}

int nc_setting_path(const nc_section *sec, const nc_setting_spec *table,
                    const char *key, char **out, nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    return nc_section_get_path(rs, rk, NULL, out, err);
}

/* Parses "[3, 6]" (the default text of a list entry). */
static int parse_int_list(const char *t, int64_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    while (*t == ' ')
        t++;
    if (*t != '[')
        return -1;
    t++;
    size_t cap = 0;
    for (;;) {
        while (*t == ' ' || *t == ',')
            t++;
        if (*t == ']')
            return t[1] == '\0' ? 0 : -1;
        char *end;
        long long v = strtoll(t, &end, 10);
        if (end == t)
            return -1;
        if (*count == cap) {
            cap = cap ? cap * 2 : 4;
            int64_t *g = realloc(*out, cap * sizeof *g);
            if (!g)
                return -2;
            *out = g;
        }
        (*out)[(*count)++] = v;
        t = end;
    }
}

int nc_setting_int_list(const nc_section *sec, const nc_setting_spec *table,
                        const char *key, int64_t **out, size_t *count,
                        nc_error *err)
{
    const nc_setting_spec *e;
    const nc_section *rs;
    const char *rk;
    if (locate(sec, table, key, &e, &rs, &rk, err))
        return err->status;
    if (nc_section_get_int_list(rs, rk, int_lo(e), int_hi(e), out, count, err))
        return err->status;
    if (nc_pl_lookup(rs, rk) || !has_default(e))
        return NC_OK;
    int rc = parse_int_list(e->default_text, out, count);
    if (rc) {
        free(*out);
        *out = NULL;
        *count = 0;
        return rc == -2 ? nc_error_set(err, NC_ERR_INTERNAL, "out of memory")
                        : bad_default(e, err);
    }
    return NC_OK;
}

int nc_setting_check_values(const nc_section *sec,
                            const nc_setting_spec *table, nc_error *err)
{
    for (const nc_setting_spec *e = table; e && e->name; e++) {
        int rc = NC_OK;
        int64_t i = 0, *list = NULL;
        int b = 0;
        double r = 0;
        const char *s = NULL;
        char *path = NULL;
        const char **strs = NULL;
        size_t n = 0;
        switch (e->type) {
        case NC_SET_INT:
            rc = nc_setting_int(sec, table, e->name, &i, err);
            break;
        case NC_SET_REAL:
            rc = nc_setting_real(sec, table, e->name, &r, err);
            break;
        case NC_SET_BOOL:
            rc = nc_setting_bool(sec, table, e->name, &b, err);
            break;
        case NC_SET_STRING:
            if (e->flags & NC_SETF_PATH) {
                rc = nc_setting_path(sec, table, e->name, &path, err);
                free(path);
            } else
                rc = nc_setting_string(sec, table, e->name, &s, err);
            break;
        case NC_SET_INT_LIST:
            rc = nc_setting_int_list(sec, table, e->name, &list, &n, err);
            free(list);
            break;
        case NC_SET_STRING_LIST:
            rc = nc_section_get_string_list(sec, e->name, &strs, &n, err);
            free(strs);
            break;
        case NC_SET_REAL_LIST:
        default:
            break;   /* read by the owner itself */
        }
        if (rc)
            return rc;
    }
    return NC_OK;
}

static void real_text(double v, char *buf, size_t size)
{
    nc_pl_format_real(v, buf, size);
    size_t n = strlen(buf);
    if (n > 2 && strcmp(buf + n - 2, ".0") == 0)
        buf[n - 2] = '\0';
}

void nc_setting_describe(const nc_setting_spec *e, char *buf, size_t size)
{
    static const char *const type_names[] = {
        "?", "integer", "number", "boolean", "string",
        "integer list", "string list", "number list"};
    const char *tn = e->type >= 1 && e->type <= NC_SET_REAL_LIST
                         ? type_names[e->type] : "?";
    if (e->type == NC_SET_STRING && e->choices) {
        nc_text b = {0};
        nc_text_add(&b, "one of ");
        for (int i = 0; e->choices[i]; i++)
            nc_text_add(&b, "%s\"%s\"", i ? ", " : "", e->choices[i]);
        snprintf(buf, size, "%s", b.data && !b.failed ? b.data : "one of ?");
        free(b.data);
        return;
    }
    if (e->type == NC_SET_STRING && (e->flags & NC_SETF_PATH)) {
        snprintf(buf, size, "path");
        return;
    }
    unsigned f = e->flags & (NC_SETF_MIN | NC_SETF_MAX);
    if (!f || (e->type != NC_SET_INT && e->type != NC_SET_REAL &&
               e->type != NC_SET_INT_LIST && e->type != NC_SET_REAL_LIST)) {
        snprintf(buf, size, "%s", tn);
        return;
    }
    char lo[64], hi[64];
    if (e->type == NC_SET_INT || e->type == NC_SET_INT_LIST) {
        snprintf(lo, sizeof lo, "%lld", (long long)int_lo(e));
        snprintf(hi, sizeof hi, "%lld", (long long)int_hi(e));
        if (int_lo(e) == INT64_MIN)
            f &= ~NC_SETF_MIN;
        if (int_hi(e) == INT64_MAX)
            f &= ~NC_SETF_MAX;
    } else {
        real_text(e->min, lo, sizeof lo);
        real_text(e->max, hi, sizeof hi);
    }
    int open = (e->flags & NC_SETF_MIN_OPEN) &&
               e->type != NC_SET_INT && e->type != NC_SET_INT_LIST;
    if (f == (NC_SETF_MIN | NC_SETF_MAX))
        snprintf(buf, size, "%s in %s%s, %s]", tn, open ? "(" : "[", lo, hi);
    else if (f == NC_SETF_MIN)
        snprintf(buf, size, "%s %s %s", tn, open ? ">" : ">=", lo);
    else if (f == NC_SETF_MAX)
        snprintf(buf, size, "%s <= %s", tn, hi);
    else
        snprintf(buf, size, "%s", tn);
}
