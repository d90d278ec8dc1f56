/* nc_test.h - helpers shared by the CMocka tests. */
#ifndef NC_TEST_H
#define NC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Exit code ctest reports as "skipped" (SKIP_RETURN_CODE). */
#define NC_TEST_SKIP 77

/* NC_TEST_SHARED_DIR "/reference", or NULL when that folder is absent. */
const char *nc_test_reference_dir(void);
/* Exits with NC_TEST_SKIP, saying why on stderr, when the reference folder
 * is absent. Call at the top of main() of tests that need it. */
void nc_test_require_reference(const char *test_name);

/* main() of a test with sub-tests that need the reference folder: they
 * form their own group, run by `TEST --reference` (ctest's TEST_reference,
 * registered by nc_add_test(... REFERENCE)), which exits NC_TEST_SKIP as a
 * whole when the folder is absent; without arguments the other group runs.
 * So ctest shows "Skipped", never "Passed", for what did not run; inside the
 * reference group a missing file is a failure, not a skip. Both groups
 * share the group setup and teardown (may be NULL). */
int nc_test_main(int argc, char **argv, const char *test_name,
                 const struct CMUnitTest *own, size_t n_own,
                 const struct CMUnitTest *reference, size_t n_reference,
                 CMFixtureFunction setup, CMFixtureFunction teardown);
#define NC_TEST_COUNT(tests) (sizeof(tests) / sizeof((tests)[0]))

/* A fresh temporary folder (mkdtemp) for the test's own fixtures; removed
 * with its contents by nc_test_rmtree(). Returns a malloc'd path. */
char *nc_test_tmpdir(void);
void nc_test_rmtree(const char *path);

/* A fresh temporary folder per test: cmocka setup/teardown that set and
 * remove nc_test_dir. */
extern char *nc_test_dir;
int nc_test_dir_setup(void **state);
int nc_test_dir_teardown(void **state);

/* The last line of a command's stdout (the --json contract), with the
 * trailing newlines cut off out in place. */
const char *nc_test_last_line(char *out);

/* Writes len bytes to path; asserts on failure. */
void nc_test_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file (NUL-terminated, malloc'd); *len may be NULL. */
char *nc_test_read_file(const char *path, size_t *len);

/* Runs a shell command line, capturing stdout and stderr (malloc'd, may
 * be NULL to discard). Returns the exit status (or -1). */
int nc_test_run(const char *cmdline, char **out, char **errout);

#endif
