/* folder.c - the output folder of a run: its lock, moving an old database
 * aside, and deciding whether a pipeline is the one the database holds. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "run/run_internal.h"

int nc_run_mkdirs(const char *dir, nc_error *err)
{
    char path[NC_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return nc_error_set(err, NC_ERR_INPUT, "output folder '%s': bad path", dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return nc_error_set(err, NC_ERR_INPUT, "%s: cannot create the folder: %s", path,
                                strerror(errno));
        path[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return nc_error_set(err, NC_ERR_INPUT, "%s: not a folder", dir);
    return NC_OK;
}

/* The files a run writes, renames or removes in its folder. */
static const char *const run_files[] = {
    "results.db", "results.db-wal", "results.db-shm", "results.db-journal", "results.lock",
    "pareto.csv", "pareto.json", "hypervolume.csv", "pareto.csv.tmp", "pareto.json.tmp",
    "hypervolume.csv.tmp", NULL};

static int suspicious(const char *path, int want_dir, nc_error *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? NC_OK
                               : nc_error_set(err, NC_ERR_INPUT, "%s: %s", path, strerror(errno));
    if (S_ISLNK(sb.st_mode))
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: is a symbolic link: a run folder's files must not point "
                            "elsewhere (refusing the folder)", path);
    if (want_dir ? !S_ISDIR(sb.st_mode) : !S_ISREG(sb.st_mode))
        return nc_error_set(err, NC_ERR_INPUT, "%s: is not a %s (refusing the folder)", path,
                            want_dir ? "folder" : "regular file");
    return NC_OK;
}

int nc_run_folder_check(const char *dir, nc_error *err)
{
    char path[NC_PATH_MAX + 300];
    for (int i = 0; run_files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
        if (suspicious(path, 0, err))
            return err->status;
    }
    snprintf(path, sizeof path, "%s/front", dir);
    if (suspicious(path, 1, err))
        return err->status;
    DIR *d = opendir(path);
    if (!d)
        return NC_OK;
    struct dirent *de;
    int rc = NC_OK;
    while (rc == NC_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char file[NC_PATH_MAX + 600];
        snprintf(file, sizeof file, "%s/%s", path, de->d_name);
        rc = suspicious(file, 0, err);
    }
    closedir(d);
    return rc;
}

int nc_run_lock(const char *dir, int *fd, nc_error *err)
{
    char path[NC_PATH_MAX + 32];
    if (nc_run_folder_check(dir, err))
        return err->status;
    snprintf(path, sizeof path, "%s/results.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (*fd < 0)
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot open the lock file: %s", path,
                            strerror(errno));
    /* An fcntl lock belongs to the process: the kernel drops it when the
     * process dies, however it dies, so a stale lock cannot exist. */
    struct flock fl = {0};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(*fd, F_SETLK, &fl) == 0) {
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)len, 0) != len) {
            /* the pid in the file is for people; the lock is what counts */
        }
        return NC_OK;
    }
    int e = errno;
    struct flock who = {0};
    who.l_type = F_WRLCK;
    who.l_whence = SEEK_SET;
    long holder = fcntl(*fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK ? (long)who.l_pid : -1;
    close(*fd);
    *fd = -1;
    if (e == EACCES || e == EAGAIN) {
        if (holder > 0)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: another nascaps run (pid %ld) is using this output folder",
                                dir, holder);
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: another nascaps run is using this output folder", dir);
    }
    return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot lock: %s", path, strerror(e));
}

int nc_run_move_aside(const char *dir, char *moved, size_t size, nc_error *err)
{
    char db[NC_PATH_MAX + 32], to[NC_PATH_MAX + 48];
    snprintf(db, sizeof db, "%s/results.db", dir);
    moved[0] = '\0';
    if (access(db, F_OK) != 0)
        return NC_OK;
    for (int n = 1; n < 100000; n++) {
        snprintf(to, sizeof to, "%s.%d", db, n);
        if (access(to, F_OK) == 0)
            continue;
        /* The -wal file holds committed transactions not yet copied into
         * the database: it moves with it (SQLite finds it by name). */
        char wal[NC_PATH_MAX + 48], wal_to[NC_PATH_MAX + 64], shm[NC_PATH_MAX + 48];
        snprintf(wal, sizeof wal, "%s-wal", db);
        snprintf(wal_to, sizeof wal_to, "%s-wal", to);
        snprintf(shm, sizeof shm, "%s-shm", db);
        if (access(wal, F_OK) == 0 && rename(wal, wal_to) != 0)
            return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot move to %s: %s", wal, wal_to,
                                strerror(errno));
        if (rename(db, to) != 0)
            return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot move to %s: %s", db, to,
                                strerror(errno));
        unlink(shm);
        snprintf(moved, size, "%s", to);
        return NC_OK;
    }
    return nc_error_set(err, NC_ERR_INPUT, "%s: too many old databases beside it", db);
}

int nc_run_write_file(const char *dir, const char *name, const char *text, nc_error *err)
{
    char path[NC_PATH_MAX + 256], tmp[NC_PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* created afresh, never through a link planted at the name (a stale
     * .tmp of a killed run is removed first; unlink removes a link, not
     * what it points to) */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot write: %s", tmp, strerror(e));
    }
    size_t len = strlen(text);
    int bad = fwrite(text, 1, len, f) != len;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot write: %s", path, strerror(e));
    }
    return NC_OK;
}

/* ---- Pipeline comparison ---------------------------------------------------- */

/* What a resume may change (docs/RUN.md): how long the search goes on and
 * how long stage 2 trains; nothing that changes a result already stored. */
static const char *const may_change[] = {
    "optimizer.generations", "optimizer.samples", "search.time_limit_h",
    "final_training.epochs", "run.workers", NULL};

static int may_differ(const char *path)
{
    for (int i = 0; may_change[i]; i++)
        if (strcmp(may_change[i], path) == 0)
            return 1;
    return 0;
}

static void value_text(const config_setting_t *s, char *buf, size_t size)
{
    if (!s) {
        snprintf(buf, size, "unset");
        return;
    }
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
        snprintf(buf, size, "%d", config_setting_get_int(s));
        return;
    case CONFIG_TYPE_INT64:
        snprintf(buf, size, "%lld", config_setting_get_int64(s));
        return;
    case CONFIG_TYPE_FLOAT:
        snprintf(buf, size, "%.17g", config_setting_get_float(s));
        return;
    case CONFIG_TYPE_BOOL:
        snprintf(buf, size, "%s", config_setting_get_bool(s) ? "true" : "false");
        return;
    case CONFIG_TYPE_STRING:
        snprintf(buf, size, "\"%s\"", config_setting_get_string(s));
        return;
    case CONFIG_TYPE_GROUP:
        snprintf(buf, size, "a group");
        return;
    default: {
        size_t used = 0;
        int n = config_setting_length(s);
        used += (size_t)snprintf(buf, size, "[");
        for (int i = 0; i < n && used < size; i++) {
            char item[128];
            value_text(config_setting_get_elem(s, (unsigned)i), item, sizeof item);
            used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", item);
        }
        if (used < size)
            snprintf(buf + used, size - used, "]");
    }
    }
}

static int is_number(const config_setting_t *s)
{
    int t = config_setting_type(s);
    return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT;
}

static double number(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: return config_setting_get_int(s);
    case CONFIG_TYPE_INT64: return (double)config_setting_get_int64(s);
    default: return config_setting_get_float(s);
    }
}

static int same_value(const config_setting_t *a, const config_setting_t *b)
{
    if (is_number(a) && is_number(b))
        return number(a) == number(b);
    int t = config_setting_type(a);
    if (t != config_setting_type(b))
        return 0;
    switch (t) {
    case CONFIG_TYPE_BOOL:
        return config_setting_get_bool(a) == config_setting_get_bool(b);
    case CONFIG_TYPE_STRING:
        return strcmp(config_setting_get_string(a), config_setting_get_string(b)) == 0;
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: {
        int n = config_setting_length(a);
        if (n != config_setting_length(b))
            return 0;
        for (int i = 0; i < n; i++)
            if (!same_value(config_setting_get_elem(a, (unsigned)i),
                            config_setting_get_elem(b, (unsigned)i)))
                return 0;
        return 1;
    }
    }
    return 0;
}

static int is_group(const config_setting_t *s)
{
    return s && config_setting_type(s) == CONFIG_TYPE_GROUP;
}

/* Compares group a (stored) with group b (now), either may be NULL (an
 * absent group reads as empty). Returns 1 on the first difference. */
static int differ(const config_setting_t *a, const config_setting_t *b, const char *prefix,
                  char *diff, size_t size)
{
    for (int side = 0; side < 2; side++) {
        const config_setting_t *g = side ? b : a, *other = side ? a : b;
        int n = g ? config_setting_length(g) : 0;
        for (int i = 0; i < n; i++) {
            const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
            const char *name = config_setting_name(m);
            const config_setting_t *o = other ? config_setting_get_member(other, name) : NULL;
            if (side == 1 && o)
                continue;   /* compared from the first side */
            char path[512];
            snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
            const config_setting_t *sa = side ? o : m, *sb = side ? m : o;
            if (is_group(sa) || is_group(sb)) {
                if ((sa && !is_group(sa)) || (sb && !is_group(sb))) {
                    snprintf(diff, size, "%s: a group on one side only", path);
                    return 1;
                }
                if (differ(sa, sb, path, diff, size))
                    return 1;
                continue;
            }
            if (may_differ(path) || (sa && sb && same_value(sa, sb)))
                continue;
            char va[200], vb[200];
            value_text(sa, va, sizeof va);
            value_text(sb, vb, sizeof vb);
            snprintf(diff, size, "%s: %s in the database, %s now", path, va, vb);
            return 1;
        }
    }
    return 0;
}

int nc_run_pipeline_compare(const char *stored, const char *now, int *same, char *diff,
                            size_t size, nc_error *err)
{
    config_t a, b;
    config_init(&a);
    config_init(&b);
    int rc = NC_OK;
    if (config_read_string(&a, stored) != CONFIG_TRUE)
        rc = nc_error_set(err, NC_ERR_INPUT, "the stored pipeline does not parse: line %d: %s",
                          config_error_line(&a), config_error_text(&a));
    else if (config_read_string(&b, now) != CONFIG_TRUE)
        rc = nc_error_set(err, NC_ERR_INTERNAL, "the pipeline text does not parse: line %d: %s",
                          config_error_line(&b), config_error_text(&b));
    else {
        diff[0] = '\0';
        *same = !differ(config_root_setting(&a), config_root_setting(&b), "", diff, size);
    }
    config_destroy(&a);
    config_destroy(&b);
    return rc;
}
