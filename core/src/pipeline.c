/* pipeline.c - pipeline files (libconfig), --set overrides, the core
 * settings table and their validation. */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nascaps/correlate.h"
#include "nascaps/search.h"
#include "pipeline_priv.h"

/* ---- the core settings ------------------------------------------------- */

/* How nc_pipeline_settings() reads and stores a core key. */
typedef enum core_kind {
    CK_SEED,        /* uint64_t, integer >= 0 */
    CK_INT,         /* int */
    CK_I64,         /* int64_t */
    CK_REAL,        /* double, min <= v <= max */
    CK_REAL_ABOVE,  /* double, min < v <= max */
    CK_PLUGIN,      /* const char *: a plugin name or a path to a .so */
    CK_CHOICE,      /* const char *: one of choices */
    CK_NORMALIZE,   /* const char *: one of choices, NULL when unset */
    CK_PATH_LIST,   /* plugin_path */
    CK_OBJECTIVES,
    CK_OUTPUT_DIR,
    CK_SEARCH_SPACE, /* search_space.*: nc_space_from_section() (search.h) */
    CK_CORRELATE    /* correlate.*: nc_correlate_cfg_read() (correlate.h) */
} core_kind;

typedef struct core_key {
    nc_setting_spec spec;   /* full dotted name */
    core_kind kind;
    int64_t imin, imax;     /* integer kinds; INT64_MAX: no upper bound */
    double rmin, rmax;      /* real kinds */
    const char *sdef;       /* string kinds: the default */
    const char *const *choices;
    size_t off;             /* where in nc_settings */
} core_key;

static const char *const activations[] = {"relu", "none", NULL};
static const char *const normalizations[] = {"none", "standard", NULL};

#define OFF(field) offsetof(nc_settings, field)
/* Each default is written once: as the value and, stringified, as the
 * text `nascaps help` and the docs show. */
#define INT_KEY(NAME, KIND, DEF, MIN, MAX, FIELD, HELP)                     \
    { {NAME, NC_SET_INT, #DEF, HELP}, KIND, MIN, MAX, 0, 0, NULL, NULL,     \
      OFF(FIELD) }
#define REAL_KEY(NAME, KIND, DEF, MIN, MAX, FIELD, HELP)                    \
    { {NAME, NC_SET_REAL, #DEF, HELP}, KIND, 0, 0, MIN, MAX, NULL, NULL,    \
      OFF(FIELD) }
#define STR_KEY(NAME, KIND, DEF, CHOICES, FIELD, HELP)                      \
    { {NAME, NC_SET_STRING, "\"" DEF "\"", HELP}, KIND, 0, 0, 0, 0, DEF,    \
      CHOICES, OFF(FIELD) }
#define SPECIAL_KEY(NAME, TYPE, KIND, DEFTEXT, HELP)                        \
    { {NAME, TYPE, DEFTEXT, HELP}, KIND, 0, 0, 0, 0, NULL, NULL, 0 }

static const core_key core_keys[] = {
    INT_KEY("seed", CK_SEED, 1, 0, INT64_MAX, seed,
            "one seed for every random choice of the run"),
    SPECIAL_KEY("plugin_path", NC_SET_STRING_LIST, CK_PATH_LIST, "[]",
                "extra plugin folders, searched first (relative to the "
                "pipeline's folder)"),
    STR_KEY("dataset.plugin", CK_PLUGIN, "idx", NULL, dataset.plugin,
            "dataset plugin: idx, cifar10, svhn, synthetic or a path to a .so"),
    INT_KEY("dataset.train_subset", CK_I64, 0, 0, INT64_MAX,
            dataset.train_subset,
            "train on this many images (a seeded subset); 0: all"),
    INT_KEY("dataset.test_subset", CK_I64, 0, 0, INT64_MAX,
            dataset.test_subset,
            "test on this many images (a seeded subset); 0: all"),
    INT_KEY("dataset.validation", CK_I64, 0, 0, INT64_MAX, dataset.validation,
            "images held out of the training split to score the search; "
            "0: score on the test split"),
    { {"dataset.normalize", NC_SET_STRING, "per plugin",
       "\"none\" (pixels in [0, 1]) or \"standard\" (per-channel mean 0, "
       "deviation 1)"},
      CK_NORMALIZE, 0, 0, 0, 0, NULL, normalizations, OFF(dataset.normalize) },
    INT_KEY("training.epochs", CK_INT, 5, 1, INT64_MAX, training.epochs,
            "epochs each candidate is trained in the search"),
    INT_KEY("training.batch_size", CK_INT, 100, 1, INT64_MAX,
            training.batch_size, "images per training step"),
    REAL_KEY("training.learning_rate", CK_REAL_ABOVE, 0.001, 0, DBL_MAX,
             training.learning_rate, "Adam's learning rate"),
    REAL_KEY("training.lr_decay", CK_REAL_ABOVE, 0.9, 0, 1, training.lr_decay,
             "learning rate factor applied after each epoch"),
    INT_KEY("training.routings", CK_INT, 3, 1, 10, training.routings,
            "dynamic-routing iterations"),
    REAL_KEY("training.recon_weight", CK_REAL, 0.392, 0, DBL_MAX,
             training.recon_weight,
             "weight of the reconstruction loss; 0 drops the decoder"),
    REAL_KEY("training.shift_fraction", CK_REAL, 0.1, 0, 0.5,
             training.shift_fraction,
             "random shift augmentation, as a fraction of the image size"),
    STR_KEY("training.conv_activation", CK_CHOICE, "relu", activations,
            training.conv_activation,
            "\"relu\" after convolutions, or \"none\" (as the original "
            "release)"),
    INT_KEY("training.max_params", CK_I64, 20000000, 1, INT64_MAX,
            training.max_params,
            "candidates with more parameters are refused"),
    INT_KEY("training.max_memory_mb", CK_I64, 8192, 1, INT64_MAX,
            training.max_memory_mb,
            "candidates whose training buffers would exceed this are refused "
            "(estimated before allocating)"),
    REAL_KEY("training.time_limit_s", CK_REAL, 0, 0, DBL_MAX,
             training.time_limit_s,
             "wall-clock limit per candidate, in seconds; 0: none"),
    INT_KEY("training.threads", CK_INT, 0, 0, INT64_MAX, training.threads,
            "threads used for training; 0: auto (one thread for networks under "
            "100 M MACs, all cores above; with workers, cores / workers)"),
    INT_KEY("final_training.epochs", CK_INT, 0, 0, INT64_MAX,
            final_training.epochs,
            "epochs to retrain the final Pareto front (stage 2); 0: skip"),
    STR_KEY("accelerator.plugin", CK_PLUGIN, "capsacc", NULL,
            accelerator_plugin,
            "accelerator model: a plugin name or a path to a .so"),
    STR_KEY("optimizer.plugin", CK_PLUGIN, "nsga2", NULL, optimizer_plugin,
            "search strategy: nsga2, random or a path to a .so"),
    SPECIAL_KEY("objectives", NC_SET_STRING_LIST, CK_OBJECTIVES,
                "[\"accuracy_drop\", \"energy\", \"latency\", \"memory\"]",
                "what the search minimises: distinct names from "
                "accuracy_drop, energy, latency, memory, params, macs"),
    INT_KEY("run.workers", CK_INT, 0, 0, 1024, run.workers,
            "local worker processes evaluating candidates (docs/SCALE.md); 0 or 1: "
            "none, the run evaluates them itself"),
    REAL_KEY("search.time_limit_h", CK_REAL, 0, 0, DBL_MAX, search.time_limit_h,
             "wall-clock limit of the whole run, in hours; 0: none"),
    SPECIAL_KEY("output.dir", NC_SET_STRING, CK_OUTPUT_DIR,
                "\"runs/<pipeline name>\"",
                "output folder (results.db, pareto.csv, pareto.json, .chr "
                "files)"),
    SPECIAL_KEY("search_space.sabour", NC_SET_BOOL, CK_SEARCH_SPACE, "true",
                "search Sabour-type networks (convs, capsule layers, class "
                "capsules)"),
    SPECIAL_KEY("search_space.deepcaps", NC_SET_BOOL, CK_SEARCH_SPACE, "true",
                "search DeepCaps-type networks (convs, CapsCells, FlatCaps)"),
    SPECIAL_KEY("search_space.resize", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[1, 2]", "allowed resize genes (1 native, 2 upscaled x2)"),
    SPECIAL_KEY("search_space.conv_layers", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[3, 6]", "[min, max] leading conv layers drawn"),
    SPECIAL_KEY("search_space.first_kernel", NC_SET_INT, CK_SEARCH_SPACE, "9",
                "kernel size of the first conv (stride 1)"),
    SPECIAL_KEY("search_space.kernels", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[3, 5, 9]", "kernel sizes of the other layers"),
    SPECIAL_KEY("search_space.strides", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[1, 2]", "strides of the layers after the first"),
    SPECIAL_KEY("search_space.channels_log2", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[2, 6]", "[min, max] of log2 of conv and capsule-layer "
                "channels"),
    SPECIAL_KEY("search_space.caps_layers", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[2, 6]", "[min, max] capsule layers of a Sabour-type network, "
                "the class capsules included"),
    SPECIAL_KEY("search_space.caps_growth", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[4, 20]", "[min, max] a capsule layer adds to its input "
                "capsule dim"),
    SPECIAL_KEY("search_space.max_caps", NC_SET_INT, CK_SEARCH_SPACE, "64",
                "largest capsule dim of a Sabour capsule layer"),
    SPECIAL_KEY("search_space.class_dim_log2", NC_SET_INT_LIST,
                CK_SEARCH_SPACE, "[2, 6]",
                "[min, max] of log2 of the class capsules' dim"),
    SPECIAL_KEY("search_space.cells", NC_SET_INT_LIST, CK_SEARCH_SPACE,
                "[4, 8]", "[min, max] type-2 genes of a DeepCaps-type network, "
                "FlatCaps included"),
    SPECIAL_KEY("search_space.cell_kernel", NC_SET_INT, CK_SEARCH_SPACE, "3",
                "kernel size of the CapsCells"),
    SPECIAL_KEY("search_space.cell_channels", NC_SET_INT, CK_SEARCH_SPACE,
                "32", "capsule types (outch) of every CapsCell"),
    SPECIAL_KEY("search_space.cell_caps_first", NC_SET_INT, CK_SEARCH_SPACE,
                "4", "capsule dim of the first CapsCell"),
    SPECIAL_KEY("search_space.cell_caps", NC_SET_INT, CK_SEARCH_SPACE, "8",
                "capsule dim of the later CapsCells"),
    SPECIAL_KEY("search_space.flat_caps", NC_SET_INT, CK_SEARCH_SPACE, "16",
                "class capsule dim of FlatCaps"),
    SPECIAL_KEY("correlate.samples", NC_SET_INT, CK_CORRELATE, "66",
                "nascaps correlate: random genotypes drawn from the search "
                "space"),
    SPECIAL_KEY("correlate.epochs", NC_SET_INT, CK_CORRELATE, "10",
                "nascaps correlate: epochs each is trained (full training)"),
    SPECIAL_KEY("correlate.target_r", NC_SET_REAL, CK_CORRELATE, "0.95",
                "nascaps correlate: Pearson r the recommended epoch count "
                "reaches"),
};
#define N_CORE_KEYS (sizeof core_keys / sizeof core_keys[0])

/* Sections whose other keys belong to the plugin named by `plugin`. */
static const char *const plugin_sections[] = {"dataset", "accelerator",
                                              "optimizer", NULL};

size_t nc_pipeline_core_count(void)
{
    return N_CORE_KEYS;
}

const nc_setting_spec *nc_pipeline_core_at(size_t i)
{
    return i < N_CORE_KEYS ? &core_keys[i].spec : NULL;
}

static const char *const objective_names[NC_OBJ_COUNT] = {
    "accuracy_drop", "energy", "latency", "memory", "params", "macs"};

const char *nc_objective_name(int obj)
{
    return obj >= 0 && obj < NC_OBJ_COUNT ? objective_names[obj] : NULL;
}

/* ---- nearest name ------------------------------------------------------ */

#define NEAREST_MAX_LEN 255

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[NEAREST_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

const char *nc_nearest_name(const char *word, const char *const *candidates,
                            size_t n)
{
    if (!word || !candidates || strlen(word) > NEAREST_MAX_LEN)
        return NULL;
    size_t limit = strlen(word) / 3;
    if (limit < 2)
        limit = 2;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!candidates[i] || strlen(candidates[i]) > NEAREST_MAX_LEN)
            continue;
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

/* ---- locations --------------------------------------------------------- */

/* libconfig records an included file by the name written in @include,
 * which it opened relative to the include folder: show that path. */
static const char *display_file(const nc_pipeline *p, const char *file,
                                char *buf, size_t size)
{
    if (!file)
        return p->file ? p->file : "defaults";
    if ((p->file && strcmp(file, p->file) == 0) || file[0] == '/' || !p->dir)
        return file;
    snprintf(buf, size, "%s/%s", p->dir, file);
    return buf;
}

static const char *override_label(const config_setting_t *s)
{
    for (; s; s = config_setting_parent(s))
        if (config_setting_get_hook(s))
            return config_setting_get_hook(s);
    return NULL;
}

/* The nearest setting (s or an ancestor) that knows its file. */
static const config_setting_t *with_file(const config_setting_t *s)
{
    while (s && !config_setting_source_file(s))
        s = config_setting_parent(s);
    return s;
}

void nc_pl_where(const nc_pipeline *p, const config_setting_t *s, char *buf,
                 size_t size)
{
    const char *label = override_label(s);
    if (label) {
        snprintf(buf, size, "--set %s", label);
        return;
    }
    char tmp[NC_PATH_MAX];
    const config_setting_t *f = with_file(s);
    const char *file = display_file(p, f ? config_setting_source_file(f) : NULL,
                                    tmp, sizeof tmp);
    unsigned line = f ? config_setting_source_line(f) : 0;
    if (line)
        snprintf(buf, size, "%s:%u", file, line);
    else
        snprintf(buf, size, "%s", file);
}

const char *nc_pl_base_dir(const nc_pipeline *p, const config_setting_t *s,
                           char *buf, size_t size)
{
    if (!p || override_label(s))
        return NULL;
    char tmp[NC_PATH_MAX];
    const config_setting_t *f = with_file(s);
    if (!f)
        return NULL;
    const char *file = display_file(p, config_setting_source_file(f), tmp,
                                    sizeof tmp);
    const char *slash = strrchr(file, '/');
    if (!slash)
        return NULL;
    size_t n = slash == file ? 1 : (size_t)(slash - file);
    if (n >= size)
        return NULL;
    memcpy(buf, file, n);
    buf[n] = '\0';
    return buf;
}

char *nc_pl_join(const char *dir, const char *value)
{
    if (!dir || value[0] == '/')
        return strdup(value);
    size_t n = strlen(dir) + strlen(value) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s%s", dir,
                 dir[strlen(dir) - 1] == '/' ? "" : "/", value);
    return out;
}

/* ---- loading ----------------------------------------------------------- */

static int oom(nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
}

static int push_string(char ***arr, size_t *n, char *s)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof *grown);
    if (!grown)
        return -1;
    *arr = grown;
    grown[(*n)++] = s;
    return 0;
}

/* libconfig's rule for names: a letter or '*', then letters, digits,
 * '-', '_' or '*'. */
static int valid_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static config_setting_t *copy_setting(config_setting_t *parent,
                                      const char *name,
                                      const config_setting_t *src)
{
    int type = config_setting_type(src);
    config_setting_t *d = config_setting_add(parent, name, type);
    if (!d)
        return NULL;
    switch (type) {
    case CONFIG_TYPE_INT:
        config_setting_set_int(d, config_setting_get_int(src));
        config_setting_set_format(d, config_setting_get_format(src));
        break;
    case CONFIG_TYPE_INT64:
        config_setting_set_int64(d, config_setting_get_int64(src));
        config_setting_set_format(d, config_setting_get_format(src));
        break;
    case CONFIG_TYPE_FLOAT:
        config_setting_set_float(d, config_setting_get_float(src));
        break;
    case CONFIG_TYPE_BOOL:
        config_setting_set_bool(d, config_setting_get_bool(src));
        break;
    case CONFIG_TYPE_STRING:
        if (!config_setting_set_string(d, config_setting_get_string(src)))
            return NULL;
        break;
    default:
        for (int i = 0; i < config_setting_length(src); i++) {
            const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
            if (!copy_setting(d, type == CONFIG_TYPE_GROUP ? config_setting_name(e)
                                                           : NULL, e))
                return NULL;
        }
    }
    return d;
}

static size_t find_wrapped_integer(const char *t, const char **at, int *line);

/* VALUE as a libconfig literal, or NULL when it is not exactly one. A
 * lone integer too large for 32 bits reads as 64 bits, as a user typing
 * --set seed=12345678901 means (libconfig 1.5 would wrap it). */
static const config_setting_t *parse_literal(config_t *tmp, const char *value)
{
    size_t n = strlen(value) + 16;
    char *text = malloc(n);
    if (!text)
        return NULL;
    const char *at;
    int line;
    size_t len = find_wrapped_integer(value, &at, &line);
    int promote = len && at == value && value[len] == '\0' && at[len - 1] != 'L';
    if (len && !promote) {
        free(text);   /* wrapped inside a list: better a string than wrong */
        return NULL;
    }
    snprintf(text, n, "v = %s%s;\n", value, promote ? "L" : "");
    int ok = config_read_string(tmp, text);
    free(text);
    const config_setting_t *root = config_root_setting(tmp);
    if (!ok || config_setting_length(root) != 1)
        return NULL;
    const config_setting_t *v = config_setting_get_elem(root, 0);
    return strcmp(config_setting_name(v), "v") == 0 ? v : NULL;
}

static int apply_override(nc_pipeline *p, const char *ov, nc_error *err)
{
    const char *eq = strchr(ov, '=');
    if (!eq || eq == ov)
        return nc_error_set(err, NC_ERR_INPUT, "--set %s: expected KEY=VALUE",
                            ov);
    size_t klen = (size_t)(eq - ov);
    for (const char *c = ov; c < eq;) {
        const char *dot = memchr(c, '.', (size_t)(eq - c));
        const char *end = dot ? dot : eq;
        if (!valid_name(c, (size_t)(end - c)))
            return nc_error_set(err, NC_ERR_INPUT,
                                "--set %s: '%.*s' is not a setting name "
                                "(dot-separated names of letters, digits, "
                                "'_' and '-')", ov, (int)klen, ov);
        c = dot ? dot + 1 : eq;
        if (dot && c == eq)
            return nc_error_set(err, NC_ERR_INPUT,
                                "--set %s: '%.*s' is not a setting name", ov,
                                (int)klen, ov);
    }
    char *label = strndup(ov, klen);
    if (!label || push_string(&p->set_keys, &p->n_set_keys, label)) {
        free(label);
        return oom(err);
    }
    char *path = strdup(label);
    if (!path)
        return oom(err);

    config_setting_t *parent = config_root_setting(&p->cfg);
    char *name = path, *dot;
    int rc = NC_OK;
    while ((dot = strchr(name, '.'))) {
        *dot = '\0';
        config_setting_t *g = config_setting_get_member(parent, name);
        if (!g) {
            g = config_setting_add(parent, name, CONFIG_TYPE_GROUP);
            if (!g) {
                rc = oom(err);
                goto done;
            }
            config_setting_set_hook(g, label);
        } else if (!config_setting_is_group(g)) {
            char where[NC_PATH_MAX + 64];
            nc_pl_where(p, g, where, sizeof where);
            rc = nc_error_set(err, NC_ERR_INPUT,
                              "--set %s: '%.*s' is not a group (set at %s)", ov,
                              (int)(dot - path), label, where);
            goto done;
        }
        parent = g;
        name = dot + 1;
    }
    /* Replacing, whatever type the old value had. */
    if (config_setting_get_member(parent, name))
        config_setting_remove(parent, name);

    config_t tmp;
    config_init(&tmp);
    const config_setting_t *lit = parse_literal(&tmp, eq + 1);
    config_setting_t *s;
    if (lit)
        s = copy_setting(parent, name, lit);
    else {
        s = config_setting_add(parent, name, CONFIG_TYPE_STRING);
        if (s && !config_setting_set_string(s, eq + 1))
            s = NULL;
    }
    config_destroy(&tmp);
    if (!s)
        rc = oom(err);
    else
        config_setting_set_hook(s, label);
done:
    free(path);
    return rc;
}

/* libconfig 1.5 reads an integer literal without the L suffix into 32
 * bits and silently wraps a larger one (12345678901 becomes -539222987).
 * A seed or max_params that large is plausible, so the sources are
 * scanned for such literals and refused with the fix. Returns the length
 * of the first offending number token at *at (0: none), its line in
 * *line. */
static size_t find_wrapped_integer(const char *t, const char **at, int *line)
{
    *line = 1;
    for (const char *c = t; *c;) {
        if (*c == '\n') {
            (*line)++;
            c++;
        } else if (*c == '"') {
            for (c++; *c && *c != '"'; c++) {
                if (*c == '\\' && c[1])
                    c++;
                if (*c == '\n')
                    (*line)++;
            }
            if (*c)
                c++;
        } else if (*c == '#' || (c[0] == '/' && c[1] == '/')) {
            while (*c && *c != '\n')
                c++;
        } else if (c[0] == '/' && c[1] == '*') {
            for (c += 2; *c && !(c[0] == '*' && c[1] == '/'); c++)
                if (*c == '\n')
                    (*line)++;
            if (*c)
                c += 2;
        } else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   *c == '*' || *c == '_') {
            /* A name (or true/false): its digits are not numbers. */
            while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '*' || *c == '_' ||
                   *c == '-')
                c++;
        } else if ((*c >= '0' && *c <= '9') ||
                   ((*c == '-' || *c == '+') && c[1] >= '0' && c[1] <= '9')) {
            const char *start = c;
            int hex = 0, real = 0;
            c += *c == '-' || *c == '+';
            if (c[0] == '0' && (c[1] == 'x' || c[1] == 'X'))
                hex = 1;
            for (; (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
                   (*c >= 'A' && *c <= 'Z') || *c == '.';
                 c++) {
                if (!hex && (*c == '.' || *c == 'e' || *c == 'E')) {
                    real = 1;
                    if ((*c == 'e' || *c == 'E') && (c[1] == '-' || c[1] == '+'))
                        c++;
                }
            }
            if (real)
                continue;
            int suffix = c[-1] == 'L';
            errno = 0;
            char *end;
            if (hex) {
                unsigned long long v = strtoull(start + (*start == '-' || *start == '+'),
                                                &end, 16);
                if (errno == ERANGE || (!suffix && v > 0xFFFFFFFFull)) {
                    *at = start;
                    return (size_t)(c - start);
                }
            } else {
                long long v = strtoll(start, &end, 10);
                if (errno == ERANGE || (!suffix && (v < INT_MIN || v > INT_MAX))) {
                    *at = start;
                    return (size_t)(c - start);
                }
            }
        } else
            c++;
    }
    return 0;
}

static int check_integers(nc_pipeline *p, nc_error *err)
{
    for (unsigned i = 0; i < p->cfg.num_filenames; i++) {
        char tmp[NC_PATH_MAX];
        const char *file = display_file(p, p->cfg.filenames[i], tmp, sizeof tmp);
        FILE *f = fopen(file, "rb");
        if (!f)
            continue;   /* libconfig just read it; nothing to add */
        nc_pl_buf b = {0};
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            nc_pl_buf_add(&b, "%.*s", (int)n, chunk);
        fclose(f);
        if (b.failed) {
            free(b.data);
            return oom(err);
        }
        const char *at = NULL;
        int line = 0;
        size_t len = b.data ? find_wrapped_integer(b.data, &at, &line) : 0;
        if (len) {
            if (at[len - 1] == 'L')
                nc_error_set(err, NC_ERR_INPUT,
                             "%s:%d: integer %.*s does not fit in 64 bits", file,
                             line, (int)len, at);
            else
                nc_error_set(err, NC_ERR_INPUT,
                             "%s:%d: integer %.*s does not fit in 32 bits: "
                             "write it as %.*sL", file, line, (int)len, at,
                             (int)len, at);
            free(b.data);
            return NC_ERR_INPUT;
        }
        free(b.data);
    }
    return NC_OK;
}

static int read_file(nc_pipeline *p, const char *path, nc_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot read: %s", path,
                            strerror(errno));
    if (S_ISDIR(st.st_mode))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: is a folder, not a pipeline file", path);
    if (!(p->file = strdup(path)))
        return oom(err);
    const char *slash = strrchr(path, '/');
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (!(p->dir = strndup(path, n)))
            return oom(err);
        /* @include "x.cfg" means next to the pipeline, not the cwd. */
        config_set_include_dir(&p->cfg, p->dir);
    }
    errno = 0;
    if (config_read_file(&p->cfg, path))
        return check_integers(p, err);
    if (config_error_type(&p->cfg) == CONFIG_ERR_FILE_IO)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot read: %s", path,
                            errno ? strerror(errno) : "I/O error");
    char tmp[NC_PATH_MAX];
    const char *file = display_file(p, config_error_file(&p->cfg), tmp,
                                    sizeof tmp);
    const char *text = config_error_text(&p->cfg);
    if (!text || strcmp(text, "syntax error") == 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s:%d: syntax error", file,
                            config_error_line(&p->cfg));
    return nc_error_set(err, NC_ERR_INPUT, "%s:%d: syntax error: %s", file,
                        config_error_line(&p->cfg), text);
}

static char *pipeline_name(const char *path)
{
    if (!path)
        return strdup("defaults");
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".cfg") == 0)
        n -= 4;
    return strndup(base, n);
}

int nc_pipeline_load(const char *path, const char *const *overrides,
                     size_t n_overrides, nc_pipeline **out, nc_error *err)
{
    *out = NULL;
    nc_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return oom(err);
    config_init(&p->cfg);
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        config_destroy(&p->cfg);
        free(p);
        return oom(err);
    }
    int rc = path ? read_file(p, path, err) : NC_OK;
    if (rc == NC_OK && !(p->name = pipeline_name(path)))
        rc = oom(err);
    for (size_t i = 0; rc == NC_OK && i < n_overrides; i++)
        rc = apply_override(p, overrides[i], err);
    if (rc != NC_OK) {
        nc_pipeline_free(p);
        return rc;
    }
    *out = p;
    return NC_OK;
}

void nc_pipeline_free(nc_pipeline *p)
{
    if (!p)
        return;
    config_destroy(&p->cfg);
    for (nc_section *s = p->sections, *next; s; s = next) {
        next = s->next;
        free(s->path);
        free(s);
    }
    for (size_t i = 0; i < p->n_set_keys; i++)
        free(p->set_keys[i]);
    for (size_t i = 0; i < p->n_strings; i++)
        free(p->strings[i]);
    free(p->set_keys);
    free(p->strings);
    free(p->file);
    free(p->dir);
    free(p->name);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

const char *nc_pipeline_file(const nc_pipeline *p)
{
    return p ? p->file : NULL;
}

const char *nc_pipeline_name(const nc_pipeline *p)
{
    return p && p->name ? p->name : "defaults";
}

char *nc_pipeline_text(const nc_pipeline *p)
{
    nc_pl_buf b = {0};
    const config_setting_t *root = config_root_setting(&p->cfg);
    nc_pl_buf_add(&b, "%s", "");
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
        nc_pl_buf_add(&b, "%s = ", config_setting_name(m));
        nc_pl_write_value(&b, m, 0);
        nc_pl_buf_add(&b, ";\n");
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* Keeps s for the pipeline's lifetime (resolved values handed out as
 * borrowed strings). */
static const char *keep_string(nc_pipeline *p, char *s)
{
    pthread_mutex_lock(&p->lock);
    int failed = push_string(&p->strings, &p->n_strings, s);
    pthread_mutex_unlock(&p->lock);
    if (failed) {
        free(s);
        return NULL;
    }
    return s;
}

/* Stands for every absent section when there is no pipeline or no memory:
 * it holds no state, so sharing it is safe. */
static const nc_section empty_section = {NULL, NULL, "", NULL};

const nc_section *nc_pipeline_section(const nc_pipeline *cp, const char *path)
{
    if (!cp)
        return &empty_section;
    nc_pipeline *p = (nc_pipeline *)cp;   /* the cache only */
    if (!path)
        path = "";
    pthread_mutex_lock(&p->lock);
    nc_section *s;
    for (s = p->sections; s; s = s->next)
        if (strcmp(s->path, path) == 0)
            break;
    if (!s && (s = calloc(1, sizeof *s))) {
        if (!(s->path = strdup(path))) {
            free(s);
            s = NULL;
        } else {
            config_setting_t *g = *path ? config_lookup(&p->cfg, path)
                                        : config_root_setting(&p->cfg);
            s->p = p;
            s->group = g && config_setting_is_group(g) ? g : NULL;
            s->next = p->sections;
            p->sections = s;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return s ? s : &empty_section;
}

/* ---- validation -------------------------------------------------------- */

static const char *leaf_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

/* Non-zero when name (full, dotted) is in the core table. */
static int is_core_key(const char *name)
{
    for (size_t i = 0; i < N_CORE_KEYS; i++)
        if (strcmp(core_keys[i].spec.name, name) == 0)
            return 1;
    return 0;
}

/* Non-zero when group is the prefix of some core key ("training"). */
static int is_core_group(const char *group)
{
    size_t n = strlen(group);
    for (size_t i = 0; i < N_CORE_KEYS; i++)
        if (strncmp(core_keys[i].spec.name, group, n) == 0 &&
            core_keys[i].spec.name[n] == '.')
            return 1;
    return 0;
}

static int is_plugin_section(const char *name)
{
    for (int i = 0; plugin_sections[i]; i++)
        if (strcmp(plugin_sections[i], name) == 0)
            return 1;
    return 0;
}

/* A name a member of a group may have, cut at its first dot. */
typedef char known_name[64];

/* Names a member of group `prefix` ("" = the root) may have: core keys
 * and, at the root, core groups ("training" for "training.epochs"), then
 * the plugin's own. malloc'd; *n entries. */
static known_name *known_names(const char *prefix, const nc_setting_spec *spec,
                               size_t *n)
{
    size_t cap = N_CORE_KEYS, pl = strlen(prefix);
    for (const nc_setting_spec *q = spec; q && q->name; q++)
        cap++;
    known_name *names = malloc(cap * sizeof *names);
    if (!names)
        return NULL;
    *n = 0;
    for (size_t i = 0; i < N_CORE_KEYS; i++) {
        const char *full = core_keys[i].spec.name, *rest = full;
        if (pl && (strncmp(full, prefix, pl) != 0 || full[pl] != '.'))
            continue;
        if (pl)
            rest = full + pl + 1;
        known_name cut;
        snprintf(cut, sizeof cut, "%.*s", (int)strcspn(rest, "."), rest);
        int seen = 0;
        for (size_t j = 0; j < *n && !seen; j++)
            seen = strcmp(names[j], cut) == 0;
        if (!seen)
            memcpy(names[(*n)++], cut, sizeof cut);
    }
    for (const nc_setting_spec *q = spec; q && q->name; q++)
        snprintf(names[(*n)++], sizeof names[0], "%s", q->name);
    return names;
}

static int unknown_error(const nc_pipeline *p, const config_setting_t *s,
                         const char *prefix, const nc_setting_spec *spec,
                         nc_error *err)
{
    char where[NC_PATH_MAX + 64], suggestion[300] = "";
    const char *name = config_setting_name(s);
    nc_pl_where(p, s, where, sizeof where);

    size_t n = 0;
    known_name *names = known_names(prefix, spec, &n);
    const char **cands = malloc((n ? n : 1) * sizeof *cands);
    if (!names || !cands) {
        free(names);
        free(cands);
        return oom(err);
    }
    for (size_t i = 0; i < n; i++)
        cands[i] = names[i];
    const char *near = nc_nearest_name(name, cands, n);
    if (near)
        snprintf(suggestion, sizeof suggestion, " (did you mean '%s%s%s'?)",
                 prefix, *prefix ? "." : "", near);
    else {
        /* A core key written in the wrong group: "epochs" at the root. */
        for (size_t i = 0; i < N_CORE_KEYS; i++)
            if (strcmp(leaf_of(core_keys[i].spec.name), name) == 0) {
                snprintf(suggestion, sizeof suggestion,
                         " (did you mean '%s'?)", core_keys[i].spec.name);
                break;
            }
    }
    free(names);
    free(cands);
    return nc_error_set(err, NC_ERR_INPUT, "%s: unknown setting '%s%s%s'%s",
                        where, prefix, *prefix ? "." : "", name, suggestion);
}

static int expect_group(const nc_pipeline *p, const config_setting_t *g,
                        const char *path, nc_error *err)
{
    if (config_setting_is_group(g))
        return NC_OK;
    return nc_pl_value_error(nc_pipeline_section(p, ""), path, g, err,
                             "expected a group");
}

static int check_unknown(const nc_pipeline *p, nc_error *err)
{
    const config_setting_t *root = config_root_setting(&p->cfg);
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(m);
        if (is_core_key(name))
            continue;
        if (!is_core_group(name))
            return unknown_error(p, m, "", NULL, err);
        if (expect_group(p, m, name, err))
            return err->status;
        if (is_plugin_section(name))
            continue;   /* the plugin's keys: nc_pipeline_check_section() */
        for (int j = 0; j < config_setting_length(m); j++) {
            const config_setting_t *c = config_setting_get_elem(m, (unsigned)j);
            char full[256];
            snprintf(full, sizeof full, "%s.%s", name, config_setting_name(c));
            if (!is_core_key(full))
                return unknown_error(p, c, name, NULL, err);
        }
    }
    return NC_OK;
}

int nc_pipeline_check_section(const nc_pipeline *p, const char *path,
                              const nc_setting_spec *plugin_spec,
                              nc_error *err)
{
    const config_setting_t *g = p && path && *path
                                    ? config_lookup(&p->cfg, path) : NULL;
    if (!g)
        return NC_OK;
    if (expect_group(p, g, path, err))
        return err->status;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(c);
        char full[256];
        snprintf(full, sizeof full, "%s.%s", path, name);
        int known = is_core_key(full);
        for (const nc_setting_spec *q = plugin_spec; !known && q && q->name; q++)
            known = strcmp(q->name, name) == 0;
        if (!known)
            return unknown_error(p, c, path, plugin_spec, err);
    }
    return NC_OK;
}

static int read_objectives(const nc_section *root, nc_settings *out,
                           nc_error *err)
{
    static const int defaults[] = {NC_OBJ_ACCURACY_DROP, NC_OBJ_ENERGY,
                                   NC_OBJ_LATENCY, NC_OBJ_MEMORY};
    const config_setting_t *s = nc_pl_lookup(root, "objectives");
    if (!s) {
        out->n_objectives = 4;
        memcpy(out->objectives, defaults, sizeof defaults);
        return NC_OK;
    }
    int type = config_setting_type(s);
    int n = type == CONFIG_TYPE_ARRAY || type == CONFIG_TYPE_LIST
                ? config_setting_length(s) : -1;
    int ok = n >= 1 && n <= NC_OBJ_COUNT;
    const char *misspelt = NULL;
    for (int i = 0; ok && i < n; i++) {
        const char *v = config_setting_get_string_elem(s, i);
        int found = -1;
        for (int o = 0; v && o < NC_OBJ_COUNT; o++)
            if (strcmp(v, objective_names[o]) == 0)
                found = o;
        for (int j = 0; found >= 0 && j < i; j++)
            if (out->objectives[j] == found)
                found = -1;
        if (found < 0) {
            ok = 0;
            if (v)
                misspelt = nc_nearest_name(v, objective_names, NC_OBJ_COUNT);
            if (misspelt && strcmp(misspelt, v) == 0)
                misspelt = NULL;   /* a duplicate, not a typo */
        } else
            out->objectives[i] = found;
    }
    if (ok) {
        out->n_objectives = n;
        return NC_OK;
    }
    nc_pl_value_error(root, "objectives", s, err,
                      "expected a non-empty list of distinct names from "
                      "\"accuracy_drop\", \"energy\", \"latency\", \"memory\", "
                      "\"params\", \"macs\"");
    if (misspelt) {
        size_t len = strlen(err->msg);
        snprintf(err->msg + len, sizeof err->msg - len,
                 " (did you mean \"%s\"?)", misspelt);
    }
    return NC_ERR_INPUT;
}

static int read_plugin_path(const nc_pipeline *p, const nc_section *root,
                            nc_settings *out, nc_error *err)
{
    const char **list = NULL;
    size_t n = 0;
    if (nc_section_get_string_list(root, "plugin_path", &list, &n, err))
        return err->status;
    if (n == 0)
        return NC_OK;
    char dirbuf[NC_PATH_MAX];
    const char *dir = nc_pl_base_dir(p, nc_pl_lookup(root, "plugin_path"),
                                     dirbuf, sizeof dirbuf);
    out->plugin_path = calloc(n, sizeof *out->plugin_path);
    if (!out->plugin_path) {
        free(list);
        return oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        if (!(out->plugin_path[i] = nc_pl_join(dir, list[i]))) {
            free(list);
            return oom(err);
        }
        out->n_plugin_path = i + 1;
    }
    free(list);
    return NC_OK;
}

/* A plugin is a name or a path; a relative path means next to the file
 * that names it. */
static int read_plugin(const nc_pipeline *p, const nc_section *root,
                       const core_key *k, const char **out, nc_error *err)
{
    const char *v;
    if (nc_section_get_string(root, k->spec.name, k->sdef, &v, err))
        return err->status;
    size_t n = strlen(v);
    if (n == 0)
        return nc_pl_value_error(root, k->spec.name,
                                 nc_pl_lookup(root, k->spec.name), err,
                                 "expected a plugin name or a path to a .so");
    if (!strchr(v, '/') && !(n > 3 && strcmp(v + n - 3, ".so") == 0)) {
        *out = v;
        return NC_OK;
    }
    char *path;
    if (nc_section_get_path(root, k->spec.name, NULL, &path, err))
        return err->status;
    if (!(*out = keep_string((nc_pipeline *)p, path)))
        return oom(err);
    return NC_OK;
}

static int read_core_key(const nc_pipeline *p, const nc_section *root,
                         const core_key *k, nc_settings *out, nc_error *err)
{
    char *field = (char *)out + k->off;
    const char *name = k->spec.name;
    int64_t iv;
    double rv;
    int idx;
    char *path;

    switch (k->kind) {
    case CK_SEED:
    case CK_INT:
    case CK_I64:
        if (nc_section_get_int(root, name, strtoll(k->spec.default_text, NULL, 10),
                               k->imin, k->imax, &iv, err))
            return err->status;
        if (k->kind == CK_SEED)
            *(uint64_t *)(void *)field = (uint64_t)iv;
        else if (k->kind == CK_I64)
            *(int64_t *)(void *)field = iv;
        else if (iv > INT_MAX) {
            char range[128];
            nc_pl_int_range(k->imin, INT_MAX, range, sizeof range);
            return nc_pl_value_error(root, name, nc_pl_lookup(root, name), err,
                                     "expected %s", range);
        } else
            *(int *)(void *)field = (int)iv;
        return NC_OK;
    case CK_REAL:
    case CK_REAL_ABOVE:
        if ((k->kind == CK_REAL ? nc_section_get_real : nc_section_get_real_above)(
                root, name, strtod(k->spec.default_text, NULL), k->rmin,
                k->rmax, &rv, err))
            return err->status;
        *(double *)(void *)field = rv;
        return NC_OK;
    case CK_PLUGIN:
        return read_plugin(p, root, k, (const char **)(void *)field, err);
    case CK_CHOICE:
    case CK_NORMALIZE:
        if (k->kind == CK_NORMALIZE && !nc_section_has(root, name)) {
            *(const char **)(void *)field = NULL;
            return NC_OK;
        }
        if (nc_section_get_choice(root, name, k->sdef ? k->sdef : k->choices[0],
                                  k->choices, &idx, err))
            return err->status;
        *(const char **)(void *)field = k->choices[idx];
        return NC_OK;
    case CK_PATH_LIST:
        return read_plugin_path(p, root, out, err);
    case CK_OBJECTIVES:
        return read_objectives(root, out, err);
    case CK_SEARCH_SPACE: {
        /* Each key checks the whole group (cheap), without a dataset: the
         * run reads it again with the dataset's shape. */
        static const nc_data_shape unknown = {0, 0, 0};
        nc_search_space space;
        return nc_space_from_section(nc_pipeline_section(p, "search_space"),
                                     &unknown, &space, err);
    }
    case CK_CORRELATE: {
        nc_correlate_cfg cfg;
        return nc_correlate_cfg_read(p, &cfg, err);
    }
    case CK_OUTPUT_DIR: {
        char def[NC_PATH_MAX];
        snprintf(def, sizeof def, "runs/%s", nc_pipeline_name(p));
        if (nc_section_get_path(root, name, def, &path, err))
            return err->status;
        size_t n = strlen(path);
        if (n < sizeof out->output_dir)
            memcpy(out->output_dir, path, n + 1);
        free(path);
        if (n >= sizeof out->output_dir)
            return nc_pl_value_error(root, name, nc_pl_lookup(root, name), err,
                                     "expected a path shorter than %d bytes",
                                     NC_PATH_MAX);
        return NC_OK;
    }
    }
    return nc_error_set(err, NC_ERR_INTERNAL, "setting '%s': unknown kind",
                        name);
}

int nc_pipeline_settings(const nc_pipeline *p, nc_settings *out,
                         nc_error *err)
{
    memset(out, 0, sizeof *out);
    if (check_unknown(p, err))
        return err->status;
    const nc_section *root = nc_pipeline_section(p, "");
    for (size_t i = 0; i < N_CORE_KEYS; i++)
        if (read_core_key(p, root, &core_keys[i], out, err)) {
            nc_settings_free(out);
            return err->status;
        }
    return NC_OK;
}

void nc_settings_free(nc_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_plugin_path; i++)
        free(s->plugin_path[i]);
    free(s->plugin_path);
    s->plugin_path = NULL;
    s->n_plugin_path = 0;
}
