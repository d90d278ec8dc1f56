/* pipeline.c - pipeline files (libconfig), --set overrides, sections and
 * the check of a section's names against its owners' tables. Which
 * settings exist, their defaults and bounds belong to the modules that use
 * them (docs/ARCHITECTURE.md, "Settings"); nothing here knows them. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nascaps/input.h"
#include "pipeline_priv.h"

static const char *const objective_names[NC_OBJ_COUNT] = {
    "accuracy_drop", "energy", "latency", "memory", "params", "macs"};

const char *nc_objective_name(int obj)
{
    return obj >= 0 && obj < NC_OBJ_COUNT ? objective_names[obj] : NULL;
}

/* ---- nearest name ------------------------------------------------------ */

#define NEAREST_MAX_LEN 255

/* Optimal string alignment distance: insertions, deletions,
 * substitutions and transpositions of neighbours ("dri" -> "dir") cost 1. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t r0[NEAREST_MAX_LEN + 1], r1[NEAREST_MAX_LEN + 1], r2[NEAREST_MAX_LEN + 1];
    size_t *before = r0, *prev = r1, *cur = r2;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *nc_nearest_name(const char *word, const char *const *candidates,
                            size_t n)
{
    if (!word || !candidates || strlen(word) > NEAREST_MAX_LEN)
        return NULL;
    /* a third of the word, at least one edit: "dir" is not near "big" */
    size_t limit = strlen(word) / 3;
    if (limit < 1)
        limit = 1;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    /* A word that starts a longer name ("mutation" of "mutation_rate")
     * means that name, however far the edit distance. */
    if (strlen(word) >= 3)
        for (size_t i = 0; i < n; i++)
            if (candidates[i] && strncmp(candidates[i], word, strlen(word)) == 0 &&
                (!best || strlen(candidates[i]) < strlen(best)))
                best = candidates[i];
    if (best)
        return best;
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

/* Non-zero when v is one integer literal (sign, decimal or hex digits, an
 * optional L) whose value does not fit in 64 bits: libconfig would
 * saturate it, a file's literal is refused, so is this one. */
static int integer_overflows(const char *v)
{
    const char *d = v + (*v == '-' || *v == '+');
    int hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');
    const char *digits = hex ? d + 2 : d;
    size_t n = strspn(digits, hex ? "0123456789abcdefABCDEF" : "0123456789");
    if (n == 0 || !(digits[n] == '\0' || (digits[n] == 'L' && digits[n + 1] == '\0')))
        return 0;
    errno = 0;
    if (hex)
        (void)strtoull(digits, NULL, 16);
    else
        (void)strtoll(v, NULL, 10);
    return errno == ERANGE;
}

static int apply_override(nc_pipeline *p, const char *ov, nc_error *err)
{
    const char *eq = strchr(ov, '=');
    if (!eq || eq == ov)
        return nc_error_set(err, NC_ERR_INPUT, "--set %s: expected KEY=VALUE",
                            ov);
    if (integer_overflows(eq + 1))
        return nc_error_set(err, NC_ERR_INPUT,
                            "--set %.*s: integer %s does not fit in 64 bits",
                            (int)(eq - ov), ov, eq + 1);
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
        nc_text b = {0};
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            nc_text_add(&b, "%.*s", (int)n, chunk);
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

/* Pipelines are small text: more is a mistake (or an attack on memory). */
#define PIPELINE_MAX_BYTES (16u << 20)
/* libconfig's own include depth limit is 10. */
#define INCLUDE_MAX_DEPTH 10

/* Reads a whole pipeline (or included) file, refusing what libconfig
 * would mishandle: a FIFO or device (it would block forever), a folder
 * (libconfig's scanner exits the process on one), a NUL byte, a file over
 * PIPELINE_MAX_BYTES. `via` names the @include line that asked for it
 * ("" for the pipeline itself). malloc'd text in *out. */
static int read_text(const char *path, const char *via, char **out, nc_error *err)
{
    *out = NULL;
    FILE *f = NULL;
    if (nc_input_open(path, &f, err))   /* a regular file, opened without blocking */
        return *via ? nc_error_prefix(err, "%.*s", (int)strlen(via) - 2, via) : err->status;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > (off_t)PIPELINE_MAX_BYTES) {
        fclose(f);
        return nc_error_set(err, NC_ERR_INPUT, "%s%s: %lld bytes, more than a pipeline may "
                            "have (%u)", via, path, (long long)st.st_size,
                            PIPELINE_MAX_BYTES);
    }
    char *text = malloc((size_t)st.st_size + 1);
    if (!text) {
        fclose(f);
        return oom(err);
    }
    size_t got = fread(text, 1, (size_t)st.st_size, f);
    fclose(f);
    text[got] = '\0';
    const char *nul = memchr(text, '\0', got);
    if (nul) {
        size_t at = (size_t)(nul - text);
        free(text);
        return nc_error_set(err, NC_ERR_INPUT, "%s%s: byte %zu: a NUL byte: not a text file",
                            via, path, at);
    }
    *out = text;
    return NC_OK;
}

/* Checks every file an @include of text would read, recursively, before
 * libconfig sees any of them. dir: the include folder (NULL: cwd). */
static int check_includes(const char *file, const char *text, const char *dir, int depth,
                          nc_error *err)
{
    int line = 1;
    for (const char *c = text; *c; c++) {
        if (*c == '\n') {
            line++;
            continue;
        }
        if (c != text && c[-1] != '\n')
            continue;
        const char *t = c;
        while (*t == ' ' || *t == '\t')
            t++;
        if (strncmp(t, "@include", 8) != 0)
            continue;
        t += 8;
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t != '"')
            continue;   /* libconfig reports the syntax */
        const char *end = strchr(t + 1, '"');
        const char *eol = strchr(t + 1, '\n');
        if (!end || (eol && end > eol))
            continue;
        char name[NC_PATH_MAX], path[2 * NC_PATH_MAX], via[NC_PATH_MAX + 64];
        snprintf(name, sizeof name, "%.*s", (int)(end - t - 1), t + 1);
        if (name[0] == '/' || !dir)
            snprintf(path, sizeof path, "%s", name);
        else
            snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(via, sizeof via, "%s:%d: @include: ", file, line);
        if (depth >= INCLUDE_MAX_DEPTH)
            return nc_error_set(err, NC_ERR_INPUT, "%s%s: includes nested deeper than %d",
                                via, path, INCLUDE_MAX_DEPTH);
        char *inc = NULL;
        int rc = read_text(path, via, &inc, err);
        if (!rc)
            rc = check_includes(path, inc, dir, depth + 1, err);
        free(inc);
        if (rc)
            return rc;
    }
    return NC_OK;
}

static int read_file(nc_pipeline *p, const char *path, nc_error *err)
{
    char *text = NULL;
    int rc = read_text(path, "", &text, err);
    if (rc)
        return rc;
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
    rc = check_includes(path, text, p->dir, 1, err);
    free(text);
    if (rc)
        return rc;
    errno = 0;
    if (config_read_file(&p->cfg, path))
        return check_integers(p, err);
    if (config_error_type(&p->cfg) == CONFIG_ERR_FILE_IO)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot read: %s", path,
                            errno ? strerror(errno) : "I/O error");
    char tmp[NC_PATH_MAX];
    const char *file = display_file(p, config_error_file(&p->cfg), tmp,
                                    sizeof tmp);
    const char *etext = config_error_text(&p->cfg);
    if (!etext || strcmp(etext, "syntax error") == 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s:%d: syntax error", file,
                            config_error_line(&p->cfg));
    return nc_error_set(err, NC_ERR_INPUT, "%s:%d: syntax error: %s", file,
                        config_error_line(&p->cfg), etext);
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

const char *nc_pipeline_dir(const nc_pipeline *p)
{
    return p ? p->dir : NULL;
}

const char *nc_pipeline_name(const nc_pipeline *p)
{
    return p && p->name ? p->name : "defaults";
}

char *nc_pipeline_text(const nc_pipeline *p)
{
    nc_text b = {0};
    const config_setting_t *root = config_root_setting(&p->cfg);
    nc_text_add(&b, "%s", "");
    for (int i = 0; i < config_setting_length(root); i++) {
        const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
        nc_text_add(&b, "%s = ", config_setting_name(m));
        nc_pl_write_value(&b, m, 0);
        nc_text_add(&b, ";\n");
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
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

/* ---- names of a section ----------------------------------------------- */

static int expect_group(const nc_pipeline *p, const config_setting_t *g,
                        const char *path, nc_error *err)
{
    if (config_setting_is_group(g))
        return NC_OK;
    return nc_pl_value_error(nc_pipeline_section(p, ""), path, g, err,
                             "expected a group");
}

/* The names a member of the section may have: the keys of every table,
 * then the subsection names. malloc'd array of borrowed strings. */
static const char **section_names(const nc_setting_spec *const *tables,
                                  const char *const *groups, size_t *n)
{
    size_t cap = 1;
    for (size_t t = 0; tables && tables[t]; t++)
        for (const nc_setting_spec *q = tables[t]; q->name; q++)
            cap++;
    for (size_t g = 0; groups && groups[g]; g++)
        cap++;
    const char **names = malloc(cap * sizeof *names);
    if (!names)
        return NULL;
    *n = 0;
    for (size_t t = 0; tables && tables[t]; t++)
        for (const nc_setting_spec *q = tables[t]; q->name; q++) {
            int seen = 0;
            for (size_t j = 0; j < *n && !seen; j++)
                seen = strcmp(names[j], q->name) == 0;
            if (!seen)
                names[(*n)++] = q->name;
        }
    for (size_t g = 0; groups && groups[g]; g++)
        names[(*n)++] = groups[g];
    return names;
}

static int unknown_error(const nc_pipeline *p, const config_setting_t *s,
                         const char *path, const nc_setting_spec *const *tables,
                         const char *const *groups, nc_error *err)
{
    char where[NC_PATH_MAX + 64], hint[1024] = "";
    const char *name = config_setting_name(s);
    const char *dot = *path ? "." : "";
    nc_pl_where(p, s, where, sizeof where);

    size_t n = 0;
    const char **names = section_names(tables, groups, &n);
    if (!names)
        return oom(err);
    const char *near = nc_nearest_name(name, names, n);
    if (near)
        snprintf(hint, sizeof hint, " (did you mean '%s%s%s'?)", path, dot,
                 near);
    else if (n == 0)
        snprintf(hint, sizeof hint, " (the %s section takes no settings)",
                 *path ? path : "top");
    else {
        nc_text b = {0};
        nc_text_add(&b, " (%s%s%s takes: ", *path ? "section '" : "",
                      *path ? path : "the top level", *path ? "'" : "");
        for (size_t i = 0; i < n; i++)
            nc_text_add(&b, "%s%s", i ? ", " : "", names[i]);
        nc_text_add(&b, ")");
        snprintf(hint, sizeof hint, "%s", b.data && !b.failed ? b.data : "");
        free(b.data);
    }
    free(names);
    return nc_error_set(err, NC_ERR_INPUT, "%s: unknown setting '%s%s%s'%s",
                        where, path, dot, name, hint);
}

int nc_pipeline_check_keys(const nc_pipeline *p, const char *path,
                           const nc_setting_spec *const *tables,
                           const char *const *groups, nc_error *err)
{
    if (!p)
        return NC_OK;
    const config_setting_t *g = path && *path ? config_lookup(&p->cfg, path)
                                              : config_root_setting(&p->cfg);
    if (!g)
        return NC_OK;
    if (expect_group(p, g, path, err))
        return err->status;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(c);
        int known = 0;
        for (size_t t = 0; !known && tables && tables[t]; t++)
            known = nc_setting_find(tables[t], name) != NULL;
        for (size_t k = 0; !known && groups && groups[k]; k++)
            if (strcmp(groups[k], name) == 0) {
                char full[256];
                snprintf(full, sizeof full, "%s%s%s", path, *path ? "." : "",
                         name);
                if (expect_group(p, c, full, err))
                    return err->status;
                known = 1;
            }
        if (!known)
            return unknown_error(p, c, path, tables, groups, err);
    }
    return NC_OK;
}

int nc_pipeline_has_section(const nc_pipeline *p, const char *path)
{
    const config_setting_t *g = p && path && *path
                                    ? config_lookup(&p->cfg, path) : NULL;
    return g != NULL;
}

size_t nc_pipeline_members(const nc_pipeline *p, const char *path,
                           const char **names, size_t cap)
{
    const config_setting_t *g = !p ? NULL : path && *path ? config_lookup(&p->cfg, path)
                                                          : config_root_setting(&p->cfg);
    if (!g || !config_setting_is_group(g))
        return 0;
    size_t n = (size_t)config_setting_length(g);
    for (size_t i = 0; i < n && i < cap; i++)
        names[i] = config_setting_name(config_setting_get_elem(g, (unsigned)i));
    return n;
}

size_t nc_pipeline_subsections(const nc_pipeline *p, const char *path,
                               const char **names, size_t cap)
{
    const config_setting_t *g = p && path && *path
                                    ? config_lookup(&p->cfg, path) : NULL;
    if (!g || !config_setting_is_group(g))
        return 0;
    size_t n = 0;
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *c = config_setting_get_elem(g, (unsigned)i);
        if (!config_setting_is_group(c))
            continue;
        if (n < cap)
            names[n] = config_setting_name(c);
        n++;
    }
    return n;
}
