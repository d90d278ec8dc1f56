/* test_examples.c - every shipped search pipeline (the .cfg files under
 * examples/, any depth) validates, and every one that trains (accuracy_drop
 * among its objectives) selects on a validation split. A pipeline whose
 * dataset files Debian does not ship (MNIST, SVHN, CIFAR-10) must fail
 * only with the "cannot open ... No such file" line that says where to put
 * them. Fragments (common.cfg) and the correlate study are not searches. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/session.h"
#include "nc_test.h"

static int skip_name(const char *name)
{
    size_t n = strlen(name);
    return n < 5 || strcmp(name + n - 4, ".cfg") != 0 || !strcmp(name, "common.cfg") ||
           !strcmp(name, "correlate-fmnist.cfg");
}

static void check_pipeline(const char *path, int *searches)
{
    nc_session *s = NULL;
    nc_error err;
    if (nc_session_open(path, NULL, 0, &s, &err))
        fail_msg("%s", err.msg);
    int trains = 0;
    for (int k = 0; k < s->settings.n_objectives; k++)
        trains |= s->settings.objectives[k] == NC_OBJ_ACCURACY_DROP;
    if (trains && s->settings.dataset.validation <= 0)
        fail_msg("%s: a search that trains must set dataset.validation", path);
    *searches += trains;
    nc_session_free(s);

    char cmd[8400], *out, *errs;
    snprintf(cmd, sizeof cmd, "'%s' validate '%s'", NC_TEST_CLI, path);
    int rc = nc_test_run(cmd, &out, &errs);
    if (rc != 0 && !(rc == 1 && strstr(errs, ": cannot open: No such file or directory") &&
                     !strstr(errs, "fashion-mnist")))
        fail_msg("%s: validate exit %d [%s]", path, rc, errs);
    free(out);
    free(errs);
}

static void scan(const char *folder, int *n, int *searches)
{
    DIR *d = opendir(folder);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        if (e->d_name[0] != '.' && e->d_type == DT_DIR) {
            scan(path, n, searches);
            continue;
        }
        if (skip_name(e->d_name))
            continue;
        check_pipeline(path, searches);
        (*n)++;
    }
    closedir(d);
}

static void test_shipped_pipelines(void **state)
{
    (void)state;
    int n = 0, searches = 0;
    scan(NC_TEST_SOURCE_DIR "/examples", &n, &searches);
    assert_true(n >= 10);           /* the examples and the paper's four */
    assert_true(searches >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_pipelines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
