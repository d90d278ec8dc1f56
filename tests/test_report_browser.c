/* test_report_browser.c - a real browser renders report.html: headless
 * Chromium takes a screenshot of the page of a run this test makes, and
 * the screenshot must not be blank (enough non-white pixels, several
 * colours: the figures were drawn). Skipped when chromium is absent (CI
 * installs it, .ci/run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "nc_test.h"

static const char costs_cfg[] =
    "seed = 3;\n"
    "dataset = { plugin = \"synthetic\"; size = 12; };\n"
    "objectives = [\"energy\", \"latency\", \"memory\"];\n"
    "optimizer = { plugin = \"nsga2\"; population = 6; offspring = 6; generations = 3; };\n";

static void test_screenshot(void **state)
{
    (void)state;
    char *dir = nc_test_tmpdir(), cmd[8192], path[1024];
    snprintf(path, sizeof path, "%s/costs.cfg", dir);
    nc_test_write_file(path, costs_cfg, strlen(costs_cfg));
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' run costs.cfg -q --set output.dir=run", dir,
             NC_TEST_CLI);
    assert_int_equal(nc_test_run(cmd, NULL, NULL), 0);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && mkdir profile && chromium --headless --no-sandbox --disable-gpu "
             "--disable-quic --no-first-run --disable-background-networking "
             "--disable-component-update --disable-sync --user-data-dir=\"$PWD/profile\" "
             "--screenshot=\"$PWD/shot.png\" --window-size=1200,1600 "
             "\"file://$PWD/run/report/report.html\"",
             dir);
    char *err = NULL;
    int rc = nc_test_run(cmd, NULL, &err);
    if (rc != 0)
        fail_msg("chromium: exit %d\n%s", rc, err ? err : "");
    free(err);
    snprintf(path, sizeof path, "%s/shot.png", dir);
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    assert_int_equal(w, 1200);
    assert_int_equal(h, 1600);
    const unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    long ink = 0;
    uint32_t seen[64];
    int colours = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t v;
            memcpy(&v, px + (size_t)y * (size_t)stride + (size_t)x * 4, 4);
            v &= 0xffffff;
            if (v != 0xffffff)
                ink++;
            int known = 0;
            for (int k = 0; k < colours && !known; k++)
                known = seen[k] == v;
            if (!known && colours < 64)
                seen[colours++] = v;
        }
    cairo_surface_destroy(s);
    /* text, axes and markers: well over 1 % of the page, many colours */
    if (ink < (long)w * h / 100 || colours < 16)
        fail_msg("screenshot looks blank: %ld non-white pixels, %d colours", ink, colours);
    nc_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    if (nc_test_run("command -v chromium >/dev/null 2>&1", NULL, NULL) != 0) {
        fprintf(stderr, "test_report_browser: chromium not installed: skipped\n");
        return NC_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_screenshot)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
