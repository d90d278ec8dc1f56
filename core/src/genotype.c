/* genotype.c - the .chr genotype: parsing, canonical text, validity rules
 * and the repair step (docs/GENOTYPE.md is the reference for every rule). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nascaps/genotype.h"
#include "nascaps/input.h"
#include "nascaps/rng.h"

/* A .chr file is a few hundred bytes; anything far larger is not one. */
#define CHR_FILE_MAX (1 << 20)

const char *const nc_gene_field_names[NC_GENE_FIELDS] = {
    "type", "insize", "inch", "incaps", "k", "stride", "outsize", "outch", "outcaps"};

static int *gene_field(nc_gene *g, int f)
{
    switch (f) {
    case 0: return &g->type;
    case 1: return &g->insize;
    case 2: return &g->inch;
    case 3: return &g->incaps;
    case 4: return &g->k;
    case 5: return &g->stride;
    case 6: return &g->outsize;
    case 7: return &g->outch;
    default: return &g->outcaps;
    }
}

static int gene_get(const nc_gene *g, int f)
{
    return *gene_field((nc_gene *)g, f);
}

/* ------------------------------------------------------------------ roles */

const char *nc_layer_role_name(nc_layer_role role)
{
    switch (role) {
    case NC_ROLE_CONV: return "conv";
    case NC_ROLE_CAPS: return "caps";
    case NC_ROLE_CLASS_CAPS: return "class-caps";
    case NC_ROLE_CAPSCELL: return "capscell";
    case NC_ROLE_LAST_CAPSCELL: return "last-capscell";
    case NC_ROLE_FLATCAPS: return "flatcaps";
    }
    return "unknown";
}

const char *nc_layer_role_plugin(nc_layer_role role)
{
    switch (role) {
    case NC_ROLE_CONV: return "conv";
    case NC_ROLE_CAPS:
    case NC_ROLE_CLASS_CAPS: return "caps";
    case NC_ROLE_CAPSCELL:
    case NC_ROLE_LAST_CAPSCELL: return "capscell";
    case NC_ROLE_FLATCAPS: return "flatcaps";
    }
    return "unknown";
}

nc_layer_role nc_genotype_role(const nc_genotype *g, int i)
{
    int remaining = g->n_layers - i;
    switch (g->layers[i].type) {
    case NC_GENE_CAPS:
        return remaining == 1 ? NC_ROLE_CLASS_CAPS : NC_ROLE_CAPS;
    case NC_GENE_DEEPCAPS:
        if (remaining == 1)
            return NC_ROLE_FLATCAPS;
        return remaining == 2 ? NC_ROLE_LAST_CAPSCELL : NC_ROLE_CAPSCELL;
    default:
        return NC_ROLE_CONV;
    }
}

nc_shape nc_gene_out_shape(const nc_gene *gene)
{
    nc_shape s = {gene->outsize, gene->outsize, gene->outch, gene->outcaps};
    return s;
}

nc_shape nc_gene_in_shape(const nc_gene *gene)
{
    nc_shape s = {gene->insize, gene->insize, gene->inch, gene->incaps};
    return s;
}

/* ---------------------------------------------------------------- parsing */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* One integer of the file into an int, refusing what an int cannot hold
 * (validate refuses most of what remains). what = "gene 3: field 'k'". */
static int take_int(const json_t *v, const char *origin, const char *what, int *out,
                    nc_error *err)
{
    if (!json_is_integer(v)) {
        if (json_is_real(v))
            return nc_error_set(err, NC_ERR_INPUT, "%s: %s: expected an integer, got %g",
                                origin, what, json_real_value(v));
        return nc_error_set(err, NC_ERR_INPUT, "%s: %s: expected an integer, got %s", origin,
                            what, json_kind(v));
    }
    json_int_t x = json_integer_value(v);
    if (x < INT_MIN || x > INT_MAX)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %s: %lld is out of range", origin, what,
                            (long long)x);
    *out = (int)x;
    return NC_OK;
}

/* The skip or resize gene: an array holding exactly one integer. */
static int take_single(const json_t *v, const char *origin, const char *name, int pos,
                       int *out, nc_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "%s gene (array %d)", name, pos);
    if (!json_is_array(v))
        return nc_error_set(err, NC_ERR_INPUT, "%s: %s: expected [integer], got %s", origin,
                            what, json_kind(v));
    if (json_array_size(v) != 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: expected 1 integer, got %zu (the layer genes must be "
                            "followed by the skip gene [s] and the resize gene [r])",
                            origin, what, json_array_size(v));
    return take_int(json_array_get(v, 0), origin, what, out, err);
}

static int parse_json(const json_t *root, const char *origin, nc_genotype *out,
                      nc_error *err)
{
    if (!json_is_array(root))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: expected a JSON array of integer arrays, got %s", origin,
                            json_kind(root));
    size_t n = json_array_size(root);
    if (n < 3)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: expected at least one layer gene, a skip gene [s] and a "
                            "resize gene [r], got %zu arrays",
                            origin, n);
    if (n - 2 > NC_MAX_LAYERS)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %zu layer genes, at most %d are supported",
                            origin, n - 2, NC_MAX_LAYERS);
    nc_genotype g;
    memset(&g, 0, sizeof g);
    g.n_layers = (int)(n - 2);
    for (int i = 0; i < g.n_layers; i++) {
        const json_t *a = json_array_get(root, (size_t)i);
        if (!json_is_array(a))
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene %d: expected an array of %d integers, got %s", origin,
                                i + 1, NC_GENE_FIELDS, json_kind(a));
        if (json_array_size(a) != NC_GENE_FIELDS)
            return nc_error_set(err, NC_ERR_INPUT, "%s: gene %d: expected %d integers, got %zu",
                                origin, i + 1, NC_GENE_FIELDS, json_array_size(a));
        for (int f = 0; f < NC_GENE_FIELDS; f++) {
            char what[64];
            snprintf(what, sizeof what, "gene %d: field '%s'", i + 1, nc_gene_field_names[f]);
            int rc = take_int(json_array_get(a, (size_t)f), origin, what,
                              gene_field(&g.layers[i], f), err);
            if (rc)
                return rc;
        }
    }
    int rc = take_single(json_array_get(root, n - 2), origin, "skip", (int)n - 1, &g.skip, err);
    if (!rc)
        rc = take_single(json_array_get(root, n - 1), origin, "resize", (int)n, &g.resize, err);
    if (rc)
        return rc;
    *out = g;
    return NC_OK;
}

static int parse_buffer(const char *text, size_t len, const char *origin, nc_genotype *out,
                        nc_error *err)
{
    if (!origin)
        origin = "<string>";
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i == len)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: empty, expected a JSON array of integer arrays", origin);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return nc_error_set(err, NC_ERR_INPUT, "%s:%d:%d: invalid JSON: %s", origin, jerr.line,
                            jerr.column, jerr.text);
    int rc = parse_json(root, origin, out, err);
    json_decref(root);
    return rc;
}

int nc_genotype_parse(const char *text, const char *origin, nc_genotype *out, nc_error *err)
{
    if (!text)
        return nc_error_set(err, NC_ERR_INTERNAL, "nc_genotype_parse: no text");
    return parse_buffer(text, strlen(text), origin, out, err);
}

int nc_genotype_load(const char *path, nc_genotype *out, nc_error *err)
{
    FILE *f;
    int orc = nc_input_open(path, &f, err);
    if (orc)
        return orc;
    char *buf = malloc(CHR_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, CHR_FILE_MAX + 1, f);
    int failed = ferror(f);
    fclose(f);
    int rc;
    if (failed)
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: read error", path);
    else if (len > CHR_FILE_MAX)
        rc = nc_error_set(err, NC_ERR_INPUT,
                          "%s: larger than %d bytes, not a genotype file", path, CHR_FILE_MAX);
    else if (memchr(buf, '\0', len))
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: byte %td: a NUL byte, not a genotype file",
                          path, (char *)memchr(buf, '\0', len) - buf);
    else
        rc = parse_buffer(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* --------------------------------------------------------- canonical text */

int nc_genotype_to_string(const nc_genotype *g, char *buf, size_t size)
{
    size_t len = 0;
    char tmp[32];
#define APPEND(...)                                                       \
    do {                                                                  \
        int m_ = snprintf(tmp, sizeof tmp, __VA_ARGS__);                  \
        for (int j_ = 0; j_ < m_; j_++, len++)                            \
            if (len + 1 < size)                                           \
                buf[len] = tmp[j_];                                       \
    } while (0)
    APPEND("[");
    for (int i = 0; i < g->n_layers; i++) {
        APPEND("%s[", i ? "," : "");
        for (int f = 0; f < NC_GENE_FIELDS; f++)
            APPEND("%s%d", f ? "," : "", gene_get(&g->layers[i], f));
        APPEND("]");
    }
    APPEND("%s[%d],[%d]]", g->n_layers ? "," : "", g->skip, g->resize);
#undef APPEND
    if (size)
        buf[len < size ? len : size - 1] = '\0';
    return (int)len;
}

int nc_genotype_save(const nc_genotype *g, const char *path, nc_error *err)
{
    char text[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(g, text, sizeof text);
    FILE *f = fopen(path, "wb");
    if (!f)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot write: %s", path, strerror(errno));
    int bad = fprintf(f, "%s\n", text) < 0;
    bad |= fclose(f) != 0;
    if (bad)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: write failed: %s", path,
                            strerror(errno));
    return NC_OK;
}

void nc_genotype_id(const nc_genotype *g, char id[13])
{
    char text[NC_GENOTYPE_STRING_MAX], hex[17];
    nc_genotype_to_string(g, text, sizeof text);
    nc_hash64_hex(nc_hash64(text, strlen(text)), hex);
    memcpy(id, hex, 12);
    id[12] = '\0';
}

/* ---------------------------------------------------------------- validity */

__extension__ typedef unsigned __int128 u128;

/* The multiply-accumulates of a gene's weighted products (convolutions and
 * votes, routing left out: the routing count is not known here). It is
 * the size guard of the validity rules: every layer plugin's count is this
 * plus routing, which is smaller than the votes times 2 * routings, so
 * int64 arithmetic in the plugins cannot overflow once this is <= 2^40.
 * Field values are <= 4096 (2^12) here, so no product of seven exceeds
 * 2^84. */
static u128 gene_product_macs(const nc_genotype *g, int i)
{
    const nc_gene *x = &g->layers[i];
    u128 cin = (u128)x->inch * (u128)x->incaps, cout = (u128)x->outch * (u128)x->outcaps;
    u128 hw = (u128)x->outsize * (u128)x->outsize, k2 = (u128)x->k * (u128)x->k;
    u128 n_in = (u128)x->insize * (u128)x->insize * (u128)x->inch;
    switch (nc_genotype_role(g, i)) {
    case NC_ROLE_CONV:
    case NC_ROLE_CAPS:
        return hw * k2 * cin * cout;
    case NC_ROLE_CAPSCELL:
        return hw * k2 * (cin * cout + 3 * cout * cout);
    case NC_ROLE_LAST_CAPSCELL:
        return hw * k2 * (cin * cout + 2 * cout * cout) +
               hw * (u128)x->outch * 9 * (u128)x->outcaps * cout;
    case NC_ROLE_CLASS_CAPS:
        return n_in * (u128)x->incaps * cout;
    case NC_ROLE_FLATCAPS:
        if (g->skip >= 1 && g->skip <= g->n_layers) {
            const nc_gene *s = &g->layers[g->skip - 1];
            n_in += (u128)s->outsize * (u128)s->outsize * (u128)s->outch;
        }
        return n_in * (u128)x->incaps * cout;
    }
    return 0;
}

/* "gene 3 (caps)": the label every message about a layer gene starts with. */
static const char *gene_label(const nc_genotype *g, int i, char *buf, size_t size)
{
    int t = g->layers[i].type;
    if (t < NC_GENE_CONV || t > NC_GENE_DEEPCAPS)
        snprintf(buf, size, "gene %d", i + 1);
    else
        snprintf(buf, size, "gene %d (%s)", i + 1, nc_layer_role_name(nc_genotype_role(g, i)));
    return buf;
}

static int check_fields(const nc_genotype *g, const char *origin, nc_error *err)
{
    char lab[48];
    for (int i = 0; i < g->n_layers; i++) {
        const nc_gene *x = &g->layers[i];
        if (x->type < NC_GENE_CONV || x->type > NC_GENE_DEEPCAPS)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: gene %d: field 'type' is %d, expected 0 (conv), "
                                "1 (caps) or 2 (capscell/flatcaps)",
                                origin, i + 1, x->type);
        for (int f = 1; f < NC_GENE_FIELDS; f++) {
            int v = gene_get(x, f);
            if (v < 1 || v > NC_SIZE_MAX_VALUE)
                return nc_error_set(err, NC_ERR_INPUT, "%s: %s: field '%s' is %d, expected 1..%d",
                                    origin, gene_label(g, i, lab, sizeof lab),
                                    nc_gene_field_names[f], v, NC_SIZE_MAX_VALUE);
        }
    }
    return NC_OK;
}

static int check_structure(const nc_genotype *g, const char *origin, nc_error *err)
{
    char lab[48];
    int last = g->n_layers - 1, caps_type = -1, caps_at = -1;
    if (g->layers[0].type != NC_GENE_CONV)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: field 'type' is %d but the first gene must be conv (0)",
                            origin, gene_label(g, 0, lab, sizeof lab), g->layers[0].type);
    for (int i = 1; i <= last; i++) {
        int t = g->layers[i].type;
        if (t == NC_GENE_CONV && caps_type >= 0)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: %s: field 'type' is 0 but gene %d is a capsule layer "
                                "(type %d): no conv after capsule layers",
                                origin, gene_label(g, i, lab, sizeof lab), caps_at + 1, caps_type);
        if (t != NC_GENE_CONV && caps_type >= 0 && t != caps_type)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: %s: field 'type' is %d but gene %d is type %d: capsule "
                                "types 1 and 2 do not mix",
                                origin, gene_label(g, i, lab, sizeof lab), t, caps_at + 1,
                                caps_type);
        if (t != NC_GENE_CONV && caps_type < 0) {
            caps_type = t;
            caps_at = i;
        }
    }
    if (g->layers[last].type == NC_GENE_CONV)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: field 'type' is 0 but the last gene must be class capsules "
                            "(1) or FlatCaps (2)",
                            origin, gene_label(g, last, lab, sizeof lab));
    if (g->layers[last].type == NC_GENE_DEEPCAPS && caps_at == last)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: a FlatCaps network needs at least one CapsCell (type 2) "
                            "before its last gene",
                            origin, gene_label(g, last, lab, sizeof lab));
    return NC_OK;
}

static int check_chain(const nc_genotype *g, const char *origin, nc_error *err)
{
    char lab[48];
    for (int i = 0; i < g->n_layers; i++) {
        const nc_gene *x = &g->layers[i];
        if (i > 0) {
            const nc_gene *p = &g->layers[i - 1];
            if (x->insize != p->outsize)
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: %s: field 'insize' is %d but gene %d makes outsize %d",
                                    origin, gene_label(g, i, lab, sizeof lab), x->insize, i, p->outsize);
            long long have = (long long)x->inch * x->incaps;
            long long made = (long long)p->outch * p->outcaps;
            if (have != made)
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: %s: fields 'inch' x 'incaps' are %d x %d = %lld but "
                                    "gene %d makes outch x outcaps = %d x %d = %lld",
                                    origin, gene_label(g, i, lab, sizeof lab), x->inch, x->incaps, have, i, p->outch,
                                    p->outcaps, made);
        }
        if (i < g->n_layers - 1) {
            int want = (x->insize + x->stride - 1) / x->stride;
            if (x->outsize != want)
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: %s: field 'outsize' is %d but ceil(insize %d / stride "
                                    "%d) = %d",
                                    origin, gene_label(g, i, lab, sizeof lab), x->outsize, x->insize, x->stride, want);
        }
    }
    return NC_OK;
}

static int check_skip(const nc_genotype *g, const char *origin, nc_error *err)
{
    int last = g->n_layers - 1, s = g->skip;
    if (s == -1)
        return NC_OK;
    if (g->layers[last].type != NC_GENE_DEEPCAPS)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: skip gene: [%d], expected [-1]: only FlatCaps networks "
                            "(last gene type 2) have a skip connection",
                            origin, s);
    if (s < 1 || s > g->n_layers)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: skip gene: [%d], expected -1 or the 1-based gene index of a "
                            "CapsCell before the last cell (gene %d)",
                            origin, s, last);
    char lab[48];
    if (nc_genotype_role(g, s - 1) != NC_ROLE_CAPSCELL)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: skip gene: [%d] names %s, expected a CapsCell before the last "
                            "cell (gene %d)",
                            origin, s, gene_label(g, s - 1, lab, sizeof lab), last);
    int dim = g->layers[s - 1].outcaps, want = g->layers[last].incaps;
    if (dim != want)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: skip gene: [%d] names a cell of capsule dim %d (its outcaps) but "
                            "gene %d (flatcaps) routes capsules of dim %d (its incaps)",
                            origin, s, dim, last + 1, want);
    return NC_OK;
}

static int check_data(const nc_genotype *g, const char *origin, const nc_data_shape *d,
                      nc_error *err)
{
    char lab[48];
    const nc_gene *first = &g->layers[0], *last = &g->layers[g->n_layers - 1];
    if (d->size > 0 && (long long)first->insize != (long long)d->size * g->resize)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: field 'insize' is %d but the dataset's images are %d x "
                            "resize %d = %lld",
                            origin, gene_label(g, 0, lab, sizeof lab), first->insize, d->size,
                            g->resize, (long long)d->size * g->resize);
    if (d->channels > 0 && (long long)first->inch * first->incaps != d->channels)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: fields 'inch' x 'incaps' are %d x %d but the dataset has %d "
                            "channels",
                            origin, gene_label(g, 0, lab, sizeof lab), first->inch,
                            first->incaps, d->channels);
    if (d->classes > 0 && last->outch != d->classes)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: %s: field 'outch' is %d but the dataset has %d classes", origin,
                            gene_label(g, g->n_layers - 1, lab, sizeof lab), last->outch,
                            d->classes);
    return NC_OK;
}

int nc_genotype_validate(const nc_genotype *g, const char *origin, const nc_data_shape *data,
                         nc_error *err)
{
    if (!origin)
        origin = "<genotype>";
    if (g->n_layers < 1 || g->n_layers > NC_MAX_LAYERS)
        return nc_error_set(err, NC_ERR_INPUT, "%s: %d layer genes, expected 1..%d", origin,
                            g->n_layers, NC_MAX_LAYERS);
    int rc = check_fields(g, origin, err);
    if (!rc)
        rc = check_structure(g, origin, err);
    if (!rc)
        rc = check_chain(g, origin, err);
    if (!rc)
        rc = check_skip(g, origin, err);
    if (rc)
        return rc;
    char lab[48];
    for (int i = 0; i < g->n_layers; i++) {
        u128 macs = gene_product_macs(g, i);
        if (macs > (u128)NC_MACS_MAX)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: %s: %.3g multiply-accumulates per image, more than 2^40: "
                                "sizes too large",
                                origin, gene_label(g, i, lab, sizeof lab), (double)macs);
    }
    if (g->resize != 1 && g->resize != 2)
        return nc_error_set(err, NC_ERR_INPUT, "%s: resize gene: [%d], expected [1] or [2]",
                            origin, g->resize);
    if (data)
        return check_data(g, origin, data, err);
    return NC_OK;
}

/* ------------------------------------------------------------------ repair */

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The consumer's ch x dim view of `channels` producer channels: its own
 * view when it still multiplies out, else its dim kept, else its ch kept,
 * else the producer's own view (always valid). */
static void repair_view(nc_gene *x, const nc_gene *p)
{
    long long c = (long long)p->outch * p->outcaps;
    if ((long long)x->inch * x->incaps == c)
        return;
    if (c % x->incaps == 0 && c / x->incaps <= NC_SIZE_MAX_VALUE) {
        x->inch = (int)(c / x->incaps);
    } else if (c % x->inch == 0 && c / x->inch <= NC_SIZE_MAX_VALUE) {
        x->incaps = (int)(c / x->inch);
    } else {
        x->inch = p->outch;
        x->incaps = p->outcaps;
    }
}

int nc_genotype_repair(nc_genotype *g, int pin_last_k, nc_error *err)
{
    if (g->n_layers < 1 || g->n_layers > NC_MAX_LAYERS)
        return nc_genotype_validate(g, "genotype (repair)", NULL, err);
    for (int i = 0; i < g->n_layers; i++) {
        nc_gene *x = &g->layers[i];
        for (int f = 1; f < NC_GENE_FIELDS; f++) {
            int *v = gene_field(x, f);
            *v = clamp_int(*v, 1, NC_SIZE_MAX_VALUE);
        }
        if (i > 0) {
            x->insize = g->layers[i - 1].outsize;
            repair_view(x, &g->layers[i - 1]);
        }
        if (i < g->n_layers - 1)
            x->outsize = (x->insize + x->stride - 1) / x->stride;
    }
    if (pin_last_k)
        g->layers[g->n_layers - 1].k = g->layers[g->n_layers - 1].insize;
    g->resize = clamp_int(g->resize, 1, 2);
    /* A skip the rules refuse is dropped: -1 is always valid, and a skip
     * to some other cell would be a change the search did not make. */
    if (check_skip(g, "", NULL) != NC_OK)
        g->skip = -1;
    return nc_genotype_validate(g, "genotype (repair)", NULL, err);
}
