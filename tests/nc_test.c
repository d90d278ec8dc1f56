/* nc_test.c - helpers shared by the CMocka tests. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nc_test.h"

const char *nc_test_reference_dir(void)
{
    static char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/reference", NC_TEST_SHARED_DIR);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return path;
}

void nc_test_require_reference(const char *test_name)
{
    if (!nc_test_reference_dir()) {
        fprintf(stderr, "%s: SKIPPED: reference folder %s/reference is absent "
                "(set -DNASCAPS_SHARED_DIR)\n", test_name, NC_TEST_SHARED_DIR);
        exit(NC_TEST_SKIP);
    }
}

int nc_test_main(int argc, char **argv, const char *test_name,
                 const struct CMUnitTest *own, size_t n_own,
                 const struct CMUnitTest *reference, size_t n_reference,
                 CMFixtureFunction setup, CMFixtureFunction teardown)
{
    if (argc == 1)
        return _cmocka_run_group_tests(test_name, own, n_own, setup, teardown);
    if (argc == 2 && !strcmp(argv[1], "--reference")) {
        nc_test_require_reference(test_name);
        char group[256];
        snprintf(group, sizeof group, "%s --reference", test_name);
        return _cmocka_run_group_tests(group, reference, n_reference, setup, teardown);
    }
    fprintf(stderr, "usage: %s [--reference]\n", test_name);
    return 2;
}

char *nc_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    assert_non_null(path);
    snprintf(path, 4096, "%s/nascaps-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

void nc_test_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char sub[4096];
            struct stat st;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                nc_test_rmtree(sub);
            else
                unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

void nc_test_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

char *nc_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int nc_test_run(const char *cmdline, char **out, char **errout)
{
    char dir[] = "/tmp/nascaps-run-XXXXXX";
    char o[64], e[64];
    if (!mkdtemp(dir))
        return -1;
    snprintf(o, sizeof o, "%s/out", dir);
    snprintf(e, sizeof e, "%s/err", dir);
    size_t len = strlen(cmdline) + 256;
    char *full = malloc(len);
    if (!full)
        return -1;
    snprintf(full, len, "( %s ) >%s 2>%s </dev/null", cmdline, o, e);
    int st = system(full);
    free(full);
    if (out)
        *out = nc_test_read_file(o, NULL);
    if (errout)
        *errout = nc_test_read_file(e, NULL);
    unlink(o);
    unlink(e);
    rmdir(dir);
    if (st == -1 || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st);
}

char *nc_test_dir;

int nc_test_dir_setup(void **state)
{
    (void)state;
    nc_test_dir = nc_test_tmpdir();
    return nc_test_dir ? 0 : -1;
}

int nc_test_dir_teardown(void **state)
{
    (void)state;
    nc_test_rmtree(nc_test_dir);
    free(nc_test_dir);
    nc_test_dir = NULL;
    return 0;
}

const char *nc_test_last_line(char *out)
{
    size_t n = strlen(out);
    while (n && out[n - 1] == '\n')
        out[--n] = '\0';
    const char *nl = strrchr(out, '\n');
    return nl ? nl + 1 : out;
}
