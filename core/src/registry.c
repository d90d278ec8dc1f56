/* registry.c - the plugin loader.
 *
 * Plugins are found along a search path (registry.h), loaded with dlopen
 * and checked before anything of theirs is called: entry symbol, ABI
 * version, kind, name, ops-table size. A file that fails a check is
 * recorded as a one-line refusal and the host keeps going; nothing a
 * broken plugin does at load time can stop the scan. */
#define _GNU_SOURCE /* dladdr */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nascaps/accelerator.h"
#include "nascaps/dataset.h"
#include "nascaps/layer.h"
#include "nascaps/optimizer.h"
#include "nascaps/pipeline.h"
#include "nascaps/registry.h"

/* A descriptor index past this is taken as a runaway entry function. */
#define MAX_DESCRIPTORS_PER_FILE 256

typedef struct search_dir {
    char *path;
    char *where;        /* "FILE:LINE" of the setting that added it, or NULL */
    const char *origin; /* static string */
} search_dir;

typedef struct loaded_file {
    char *path;
    void *handle;       /* NULL when nothing of the file was accepted */
    int dir;            /* index into dirs, -1 for an explicit file */
} loaded_file;

typedef struct plugin_rec {
    nc_plugin_info info;
    int file;           /* index into files */
} plugin_rec;

typedef struct refusal {
    char *line;
    char *name;         /* plugin name, or the file's stem when unknown */
    int kind;           /* 0 when unknown */
} refusal;

struct nc_registry {
    search_dir *dirs;
    size_t n_dirs, n_user_dirs;
    loaded_file *files;
    size_t n_files;
    plugin_rec **plugins;   /* each record allocated on its own: the
                               nc_plugin_info pointers handed out stay
                               valid while later files load */
    size_t n_plugins;
    refusal *refusals;
    size_t n_refusals;
    int scanned;
    int path_built;     /* build_search_path ran */
};

/* Smallest ops table the host accepts for a kind: every ABI 1.0 field. */
static size_t min_ops_size(int kind)
{
    switch (kind) {
    case NC_KIND_LAYER: return NC_LAYER_OPS_MIN_SIZE;
    case NC_KIND_ACCELERATOR: return NC_ACCELERATOR_OPS_MIN_SIZE;
    case NC_KIND_OPTIMIZER: return NC_OPTIMIZER_OPS_MIN_SIZE;
    case NC_KIND_DATASET: return NC_DATASET_OPS_MIN_SIZE;
    default: return 0;
    }
}

/* Grows *arr (of *n elements of size elem) by one zeroed element. */
static void *push(void *arr_ptr, size_t *n, size_t elem)
{
    void **arr = arr_ptr;
    void *grown = realloc(*arr, (*n + 1) * elem);
    if (!grown)
        return NULL;
    *arr = grown;
    void *slot = (char *)grown + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

nc_registry *nc_registry_new(void)
{
    return calloc(1, sizeof(nc_registry));
}

void nc_registry_free(nc_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n_dirs; i++) {
        free(reg->dirs[i].path);
        free(reg->dirs[i].where);
    }
    free(reg->dirs);
    for (size_t i = 0; i < reg->n_plugins; i++) {
        free((char *)reg->plugins[i]->info.file);
        free((void *)reg->plugins[i]->info.settings);
        free(reg->plugins[i]);
    }
    free(reg->plugins);
    for (size_t i = 0; i < reg->n_files; i++) {
        if (reg->files[i].handle)
            dlclose(reg->files[i].handle);
        free(reg->files[i].path);
    }
    free(reg->files);
    for (size_t i = 0; i < reg->n_refusals; i++) {
        free(reg->refusals[i].line);
        free(reg->refusals[i].name);
    }
    free(reg->refusals);
    free(reg);
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int oom(nc_error *err)
{
    return nc_error_set(err, NC_ERR_INTERNAL, "out of memory");
}

static int add_dir(nc_registry *reg, const char *dir, const char *where,
                   const char *origin, nc_error *err)
{
    /* the same folder twice would make every plugin in it a duplicate */
    for (size_t i = 0; i < reg->n_dirs; i++)
        if (strcmp(reg->dirs[i].path, dir) == 0)
            return NC_OK;
    search_dir *d = push(&reg->dirs, &reg->n_dirs, sizeof *d);
    if (!d)
        return oom(err);
    d->path = xstrdup(dir);
    d->where = xstrdup(where);
    d->origin = origin;
    if (!d->path || (where && !d->where))
        return oom(err);
    return NC_OK;
}

int nc_registry_add_dir(nc_registry *reg, const char *dir, const char *where,
                        nc_error *err)
{
    if (reg->scanned)
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "plugin folder %s added after the scan", dir);
    if (!dir || !*dir)
        return nc_error_set(err, NC_ERR_INPUT, "%s%splugin folder is empty",
                            where ? where : "", where ? ": " : "");
    int rc = add_dir(reg, dir, where, "plugin_path", err);
    if (rc == NC_OK)
        reg->n_user_dirs = reg->n_dirs;
    return rc;
}

/* Records a refusal line; name/kind tie it to the plugin it would have
 * provided, so a later lookup of that name can say why it is missing. */
static void refuse(nc_registry *reg, const char *name, int kind,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void refuse(nc_registry *reg, const char *name, int kind,
                   const char *fmt, ...)
{
    char line[NC_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n')
            *p = ' ';
    refusal *r = push(&reg->refusals, &reg->n_refusals, sizeof *r);
    if (!r)
        return;
    r->line = xstrdup(line);
    r->name = xstrdup(name);
    r->kind = kind;
}

/* "capsacc" for ".../capsacc.so": the name a refused file probably had. */
static void file_stem(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, size, "%s", base);
    char *dot = strstr(buf, ".so");
    if (dot)
        *dot = '\0';
}

static int valid_name(const char *name)
{
    if (!name || !*name || strlen(name) > 64)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static const plugin_rec *find_active(const nc_registry *reg, int kind,
                                     const char *name)
{
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const plugin_rec *p = reg->plugins[i];
        if (p->info.desc->kind == kind && !p->info.shadowed &&
            strcmp(p->info.desc->name, name) == 0)
            return p;
    }
    return NULL;
}

/* A settings table longer than this is taken as unterminated. */
#define MAX_SETTINGS_PER_PLUGIN 256

/* The layout of a settings entry in ABI 1.0-1.2 (settings.h). */
typedef struct spec_1_0 {
    const char *name;
    nc_setting_type type;
    const char *default_text;
    const char *help;
} spec_1_0;

/* The plugin's own table, where its kind keeps it (NULL: none). */
static const void *raw_settings(const nc_plugin_desc *d, uint32_t ops_size)
{
    switch (d->kind) {
    case NC_KIND_ACCELERATOR:
        return ((const nc_accelerator_ops *)d->ops)->settings;
    case NC_KIND_DATASET:
        return ((const nc_dataset_ops *)d->ops)->settings;
    case NC_KIND_OPTIMIZER:
        return ((const nc_optimizer_ops *)d->ops)->settings;
    case NC_KIND_LAYER:
        if (d->abi_minor < 3 ||
            ops_size < offsetof(nc_layer_ops, settings) + sizeof(void *))
            return NULL;
        return ((const nc_layer_ops *)d->ops)->settings;
    }
    return NULL;
}

/* Copies the plugin's settings table into the current layout, checking
 * each entry (a plugin is code we run, but a wrong table must be one line,
 * not a crash later). NULL with *why set when refused. */
static nc_setting_spec *copy_settings(const nc_plugin_desc *d,
                                      uint32_t ops_size, char *why,
                                      size_t why_size)
{
    const void *raw = raw_settings(d, ops_size);
    int old = d->abi_minor < 3;
    size_t n = 0;
    for (; raw; n++) {
        if (n == MAX_SETTINGS_PER_PLUGIN) {
            snprintf(why, why_size, "settings table has no end within %d "
                     "entries", MAX_SETTINGS_PER_PLUGIN);
            return NULL;
        }
        const char *name = old ? ((const spec_1_0 *)raw)[n].name
                               : ((const nc_setting_spec *)raw)[n].name;
        if (!name)
            break;
    }
    nc_setting_spec *t = calloc(n + 1, sizeof *t);
    if (!t) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (old) {
            const spec_1_0 *o = &((const spec_1_0 *)raw)[i];
            t[i].name = o->name;
            t[i].type = o->type;
            t[i].default_text = o->default_text;
            t[i].help = o->help;
        } else
            t[i] = ((const nc_setting_spec *)raw)[i];
        size_t len = strlen(t[i].name);
        int ok = len >= 1 && len <= 64 && strspn(t[i].name,
                 "abcdefghijklmnopqrstuvwxyz0123456789_.") == len;
        if (!ok || t[i].type < NC_SET_INT || t[i].type > NC_SET_REAL_LIST) {
            snprintf(why, why_size, "settings table entry %zu ('%.64s') %s",
                     i + 1, t[i].name,
                     ok ? "has an unknown type" : "is not a valid name");
            free(t);
            return NULL;
        }
        size_t nc = 0;
        for (const char *const *c = t[i].choices; c && *c; c++)
            if (++nc > MAX_SETTINGS_PER_PLUGIN) {
                snprintf(why, why_size, "setting '%s': choices have no end",
                         t[i].name);
                free(t);
                return NULL;
            }
    }
    return t;
}

/* Checks one descriptor; on acceptance appends it to the plugin list.
 * Returns 1 when accepted. */
static int accept_descriptor(nc_registry *reg, int file_idx,
                             const nc_plugin_desc *d, const char *stem)
{
    const loaded_file *f = &reg->files[file_idx];
    const char *path = f->path;
    const char *kname = nc_plugin_kind_name(d->kind);

    if (!valid_name(d->name)) {
        refuse(reg, stem, d->kind,
               "%s: plugin name %s%s%s is not valid (expected 1-64 of a-z 0-9 _ -)",
               path, d->name ? "'" : "", d->name ? d->name : "(null)",
               d->name ? "'" : "");
        return 0;
    }
    if (d->abi_major != NC_ABI_MAJOR || d->abi_minor > NC_ABI_MINOR) {
        refuse(reg, d->name, d->kind,
               "%s: plugin '%s': built for plugin ABI %u.%u, this nascaps "
               "provides ABI %d.%d: rebuild the plugin against the nascaps "
               "%d.x headers%s",
               path, d->name, (unsigned)d->abi_major, (unsigned)d->abi_minor,
               NC_ABI_MAJOR, NC_ABI_MINOR, NC_ABI_MAJOR,
               d->abi_major == NC_ABI_MAJOR ? " (or upgrade nascaps)" : "");
        return 0;
    }
    if (!kname) {
        refuse(reg, d->name, 0,
               "%s: plugin '%s': unknown kind %d (expected layer, accelerator, "
               "optimizer or dataset)",
               path, d->name, (int)d->kind);
        return 0;
    }
    uint32_t ops_size = d->ops ? *(const uint32_t *)d->ops : 0;
    if (!d->ops || ops_size < min_ops_size(d->kind)) {
        refuse(reg, d->name, d->kind,
               "%s: plugin '%s' (%s): ops table too small: %u bytes, ABI %d.%d "
               "needs at least %zu",
               path, d->name, kname, (unsigned)ops_size, NC_ABI_MAJOR,
               NC_ABI_MINOR, min_ops_size(d->kind));
        return 0;
    }

    char why[200];
    nc_setting_spec *settings = copy_settings(d, ops_size, why, sizeof why);
    if (!settings) {
        refuse(reg, d->name, d->kind, "%s: plugin '%s' (%s): %s", path,
               d->name, kname, why);
        return 0;
    }

    /* same kind+name: an error within one folder (or among explicit
     * files), shadowing across folders */
    int shadowed = 0;
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const plugin_rec *p = reg->plugins[i];
        if (p->info.desc->kind != d->kind || strcmp(p->info.desc->name, d->name))
            continue;
        const loaded_file *other = &reg->files[p->file];
        if (other->dir == f->dir) {
            if (strcmp(other->path, f->path) == 0)
                refuse(reg, d->name, d->kind,
                       "%s: %s plugin '%s' is defined twice in this file", path,
                       kname, d->name);
            else
                refuse(reg, d->name, d->kind,
                       "%s: %s plugin '%s' is already provided by %s in the "
                       "same %s: remove one of the two files",
                       path, kname, d->name, other->path,
                       f->dir < 0 ? "set of explicitly named files" : "folder");
            free(settings);
            return 0;
        }
        if (!p->info.shadowed)
            shadowed = 1;
    }
    if (f->dir < 0)
        shadowed = 0; /* an explicitly named file is looked up by path */

    plugin_rec *rec = calloc(1, sizeof *rec);
    plugin_rec **slot = rec ? push(&reg->plugins, &reg->n_plugins, sizeof *slot) : NULL;
    if (!slot) {
        free(rec);
        free(settings);
        return 0;
    }
    *slot = rec;
    rec->info.settings = settings;
    rec->file = file_idx;
    rec->info.desc = d;
    rec->info.file = xstrdup(path);
    rec->info.origin = f->dir >= 0 ? reg->dirs[f->dir].origin : "explicit";
    rec->info.shadowed = shadowed;
    return 1;
}

/* Loads one file; refusals are recorded. Returns the file index, or -1. */
static int load_file(nc_registry *reg, const char *path, int dir)
{
    char stem[256];
    struct stat st;
    file_stem(path, stem, sizeof stem);

    for (size_t i = 0; i < reg->n_files; i++)
        if (strcmp(reg->files[i].path, path) == 0)
            return reg->files[i].handle ? (int)i : -1;

    if (stat(path, &st) != 0) {
        refuse(reg, stem, 0, "%s: file not found", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        refuse(reg, stem, 0, "%s: not a regular file", path);
        return -1;
    }
    dlerror();
    /* RTLD_NODELETE: a plugin's libraries (OpenBLAS, libmatio's HDF5) keep
     * threads and dynamic TLS that do not survive being unmapped; a plugin
     * once loaded stays mapped until the process ends, as in most hosts. */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        const char *why = dlerror();
        refuse(reg, stem, 0, "%s: not a loadable shared object: %s", path,
               why ? why : "dlopen failed");
        return -1;
    }
    dlerror();
    void *sym = dlsym(h, NC_PLUGIN_ENTRY_SYMBOL);
    if (!sym) {
        refuse(reg, stem, 0,
               "%s: missing entry symbol '%s': not a nascaps plugin (define it "
               "with NC_PLUGIN_ENTRY)",
               path, NC_PLUGIN_ENTRY_SYMBOL);
        dlclose(h);
        return -1;
    }

    loaded_file *f = push(&reg->files, &reg->n_files, sizeof *f);
    if (!f) {
        dlclose(h);
        return -1;
    }
    int idx = (int)(reg->n_files - 1);
    f->path = xstrdup(path);
    f->handle = h;
    f->dir = dir;

    nc_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object to function pointer */
    int accepted = 0;
    uint32_t i;
    for (i = 0; i < MAX_DESCRIPTORS_PER_FILE; i++) {
        const nc_plugin_desc *d = entry(i);
        if (!d)
            break;
        accepted += accept_descriptor(reg, idx, d, stem);
    }
    if (i == MAX_DESCRIPTORS_PER_FILE)
        refuse(reg, stem, 0,
               "%s: entry function returned more than %d descriptors (it must "
               "return NULL past the last one)",
               path, MAX_DESCRIPTORS_PER_FILE);
    else if (i == 0)
        refuse(reg, stem, 0, "%s: carries no plugin (entry returned NULL for "
               "index 0)", path);
    if (!accepted) {
        /* keep the record (so the file is not retried) but unload it */
        dlclose(reg->files[idx].handle);
        reg->files[idx].handle = NULL;
        return -1;
    }
    return idx;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scan_dir(nc_registry *reg, int dir)
{
    const char *path = reg->dirs[dir].path;
    DIR *d = opendir(path);
    if (!d) {
        /* a missing build or installed folder is normal; a folder the
         * user asked for is worth a line */
        if (dir < (int)reg->n_user_dirs || strcmp(reg->dirs[dir].origin,
                                                  "NASCAPS_PLUGIN_PATH") == 0)
            refuse(reg, "", 0, "%s%s%s: plugin folder cannot be read: %s",
                   reg->dirs[dir].where ? reg->dirs[dir].where : "",
                   reg->dirs[dir].where ? ": " : "", path, strerror(errno));
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        char **slot = push(&names, &n, sizeof *names);
        if (!slot)
            break;
        *slot = xstrdup(e->d_name);
    }
    closedir(d);
    /* sorted, so which of two same-named files wins is reproducible */
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (names[i]) {
            char full[PATH_MAX];
            snprintf(full, sizeof full, "%s/%s", path, names[i]);
            load_file(reg, full, dir);
        }
        free(names[i]);
    }
    free(names);
}

/* The folder libnascaps itself was loaded from. */
static int library_dir(char *buf, size_t size)
{
    Dl_info info;
    if (!dladdr((void *)nc_registry_new, &info) || !info.dli_fname)
        return -1;
    char resolved[PATH_MAX];
    if (!realpath(info.dli_fname, resolved))
        return -1;
    char *slash = strrchr(resolved, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    snprintf(buf, size, "%s", resolved);
    return 0;
}

static int build_search_path(nc_registry *reg, nc_error *err)
{
    const char *env = getenv("NASCAPS_PLUGIN_PATH");
    if (env && *env) {
        char *copy = xstrdup(env), *save = NULL;
        if (!copy)
            return oom(err);
        for (char *tok = strtok_r(copy, ":", &save); tok;
             tok = strtok_r(NULL, ":", &save))
            if (*tok && add_dir(reg, tok, NULL, "NASCAPS_PLUGIN_PATH", err)) {
                free(copy);
                return err ? err->status : NC_ERR_INTERNAL;
            }
        free(copy);
    }
    char libdir[PATH_MAX];
    if (library_dir(libdir, sizeof libdir) == 0) {
        char build_lib[PATH_MAX];
        /* the build tree only when this libnascaps is the build tree's */
        if (realpath(NC_BUILD_LIB_DIR, build_lib) && strcmp(build_lib, libdir) == 0 &&
            add_dir(reg, NC_BUILD_PLUGIN_DIR, NULL, "build", err))
            return err ? err->status : NC_ERR_INTERNAL;
        char installed[PATH_MAX + 32];
        snprintf(installed, sizeof installed, "%s/%s", libdir,
                 NC_INSTALL_PLUGIN_SUBDIR);
        if (add_dir(reg, installed, NULL, "installed", err))
            return err ? err->status : NC_ERR_INTERNAL;
    }
    return NC_OK;
}

static int ensure_search_path(nc_registry *reg, nc_error *err)
{
    if (reg->path_built)
        return NC_OK;
    reg->path_built = 1;
    return build_search_path(reg, err);
}

/* A plugin named N usually lives in N.so: look there first, folder by
 * folder, so a command loads the plugins it names and not every .so of
 * every folder (a broken or hostile file it does not need is never
 * dlopen'ed). Other names (mnist in idx.so) fall back to the full scan. */
static const plugin_rec *find_by_file_name(nc_registry *reg, int kind, const char *what)
{
    if (strlen(what) > 64)
        return NULL;
    for (size_t i = 0; i < reg->n_dirs; i++) {
        char full[PATH_MAX];
        struct stat st;
        snprintf(full, sizeof full, "%s/%s.so", reg->dirs[i].path, what);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        load_file(reg, full, (int)i);
        const plugin_rec *p = find_active(reg, kind, what);
        if (p)
            return p;
    }
    return NULL;
}

int nc_registry_scan(nc_registry *reg, nc_error *err)
{
    if (reg->scanned)
        return NC_OK;
    reg->scanned = 1;
    int rc = ensure_search_path(reg, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < reg->n_dirs; i++)
        scan_dir(reg, (int)i);
    return NC_OK;
}

size_t nc_registry_count(const nc_registry *reg)
{
    return reg->n_plugins;
}

const nc_plugin_info *nc_registry_at(const nc_registry *reg, size_t i)
{
    return i < reg->n_plugins ? &reg->plugins[i]->info : NULL;
}

size_t nc_registry_refusal_count(const nc_registry *reg)
{
    return reg->n_refusals;
}

const char *nc_registry_refusal_at(const nc_registry *reg, size_t i)
{
    return i < reg->n_refusals ? reg->refusals[i].line : NULL;
}

const char *nc_registry_dir_at(const nc_registry *reg, size_t i)
{
    return i < reg->n_dirs ? reg->dirs[i].path : NULL;
}

static int is_path(const char *what)
{
    size_t len = strlen(what);
    return strchr(what, '/') || (len > 3 && strcmp(what + len - 3, ".so") == 0);
}

/* The newest refusal line recorded since `first`, or NULL. */
static const char *refusal_since(const nc_registry *reg, size_t first)
{
    return reg->n_refusals > first ? reg->refusals[reg->n_refusals - 1].line
                                   : NULL;
}

int nc_registry_load_file(nc_registry *reg, const char *path,
                          const char *where, nc_error *err)
{
    size_t before = reg->n_refusals;
    char resolved[PATH_MAX];
    const char *p = realpath(path, resolved) ? resolved : path;
    if (load_file(reg, p, -1) < 0) {
        const char *why = refusal_since(reg, before);
        if (!why) /* loaded before and refused then: find that line */
            for (size_t i = 0; i < reg->n_refusals; i++)
                if (strncmp(reg->refusals[i].line, p, strlen(p)) == 0)
                    why = reg->refusals[i].line;
        return nc_error_set(err, NC_ERR_INPUT, "%s%s%s", where ? where : "",
                            where ? ": " : "", why ? why : p);
    }
    return NC_OK;
}

static int find_by_path(nc_registry *reg, int kind, const char *what,
                        const char *where, const nc_plugin_info **out,
                        nc_error *err)
{
    const char *kname = nc_plugin_kind_name(kind);
    char resolved[PATH_MAX];
    const char *p = realpath(what, resolved) ? resolved : what;
    int rc = nc_registry_load_file(reg, p, where, err);
    if (rc)
        return rc;
    const nc_plugin_info *found = NULL;
    int count = 0;
    for (size_t i = 0; i < reg->n_plugins; i++) {
        const plugin_rec *r = reg->plugins[i];
        if (r->info.desc->kind == kind && strcmp(reg->files[r->file].path, p) == 0) {
            if (!found)
                found = &r->info;
            count++;
        }
    }
    if (!found)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s%s%s: carries no %s plugin", where ? where : "",
                            where ? ": " : "", p, kname ? kname : "such");
    if (count > 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s%s%s: carries %d %s plugins: add its folder to "
                            "plugin_path and choose one by name",
                            where ? where : "", where ? ": " : "", p, count, kname);
    *out = found;
    return NC_OK;
}

int nc_registry_find(nc_registry *reg, int kind, const char *what,
                     const char *where, const nc_plugin_info **out,
                     nc_error *err)
{
    const char *kname = nc_plugin_kind_name(kind);
    const char *pre = where ? where : "", *sep = where ? ": " : "";
    *out = NULL;
    if (!kname)
        return nc_error_set(err, NC_ERR_INTERNAL, "unknown plugin kind %d", kind);
    if (!what || !*what)
        return nc_error_set(err, NC_ERR_INPUT, "%s%sno %s plugin named", pre,
                            sep, kname);
    if (is_path(what))
        return find_by_path(reg, kind, what, where, out, err);

    int rc = ensure_search_path(reg, err);
    if (rc)
        return rc;
    const plugin_rec *p = find_active(reg, kind, what);
    if (!p && !reg->scanned)
        p = find_by_file_name(reg, kind, what);
    if (p) {
        *out = &p->info;
        return NC_OK;
    }
    if ((rc = nc_registry_scan(reg, err)))
        return rc;
    p = find_active(reg, kind, what);
    if (p) {
        *out = &p->info;
        return NC_OK;
    }
    /* a refused file that would have provided it explains best */
    for (size_t i = reg->n_refusals; i-- > 0;) {
        const refusal *r = &reg->refusals[i];
        if (r->name && strcmp(r->name, what) == 0 && (!r->kind || r->kind == kind))
            return nc_error_set(err, NC_ERR_INPUT, "%s%s%s plugin '%s' was refused: %s",
                                pre, sep, kname, what, r->line);
    }
    const char *names[512];
    size_t n = 0;
    for (size_t i = 0; i < reg->n_plugins && n < 512; i++)
        if (reg->plugins[i]->info.desc->kind == kind && !reg->plugins[i]->info.shadowed)
            names[n++] = reg->plugins[i]->info.desc->name;
    const char *near = nc_nearest_name(what, names, n);
    char known[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof known - 1; i++) {
        int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                         names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (near)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s%sno %s plugin named '%s' (did you mean '%s'?)",
                            pre, sep, kname, what, near);
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s%sno %s plugin named '%s' (found: %s; see 'nascaps plugins')",
                        pre, sep, kname, what, n ? known : "none");
}
