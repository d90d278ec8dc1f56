/* test_report.c - `nascaps report --html` and the comparison of runs, end to
 * end on runs this test makes (synthetic data): every figure's CSV against
 * results.db and pareto.csv, SVG and report.html parsed with libxml2, PNGs
 * decoded by cairo with the right size, one reference point for two runs
 * (checked against nc_hypervolume on pareto.csv), refusals of runs that
 * differ and of crafted bad databases, the correlate figures, and the page
 * `nascaps run` leaves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cairo.h>
#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <sqlite3.h>

#include "nascaps/search.h"
#include "nc_test.h"
#include "plot.h"

static char *dir;

/* Trains tiny networks on 8 x 8 images of 3 classes: 2 generations. */
static const char train_cfg[] =
    "seed = 7;\n"
    "dataset = { plugin = \"synthetic\"; size = 8; classes = 3; train_count = 60;\n"
    "            test_count = 30; validation = 15; };\n"
    "training = { epochs = 1; batch_size = 15; threads = 1; };\n"
    "objectives = [\"accuracy_drop\", \"energy\", \"memory\"];\n"
    "search_space = { deepcaps = false; resize = [1]; conv_layers = [1, 1];\n"
    "                 first_kernel = 3; kernels = [3, 5]; channels_log2 = [2, 3];\n"
    "                 caps_layers = [2, 2]; caps_growth = [1, 3]; max_caps = 8;\n"
    "                 class_dim_log2 = [2, 2]; };\n"
    "correlate = { samples = 4; epochs = 3; };\n";

static const char nsga2_opt[] =
    "optimizer = { plugin = \"nsga2\"; population = 4; offspring = 4; generations = 2; };\n"
    "baselines = [\"b8.chr\"];\n";
/* a small capsule network for the 8 x 8, 3-class data: the baseline */
static const char b8_chr[] = "[[0,8,1,1,3,1,8,8,1],[1,8,8,1,3,2,4,4,4],[1,4,4,4,4,1,1,3,4],[-1],[1]]\n";
static const char random_opt[] = "optimizer = { plugin = \"random\"; samples = 12; batch = 4; };\n";
/* costs only, so fast; two datasets of different sizes */
static const char costs_cfg[] =
    "seed = 3;\n"
    "objectives = [\"energy\", \"latency\", \"memory\"];\n"
    "optimizer = { plugin = \"nsga2\"; population = 6; offspring = 6; generations = 3; };\n";

static int run_cli(const char *args, char **out, char **err)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s", dir, NC_TEST_CLI, args);
    return nc_test_run(cmd, out, err);
}

static void write_cfg(const char *name, const char *a, const char *b)
{
    char path[1024], text[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(text, sizeof text, "%s%s", a, b);
    nc_test_write_file(path, text, strlen(text));
}

static void must(const char *args)
{
    char *out = NULL, *err = NULL;
    int rc = run_cli(args, &out, &err);
    if (rc != 0)
        fail_msg("nascaps %s: exit %d\n%s", args, rc, err ? err : "");
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    dir = nc_test_tmpdir();
    write_cfg("b8.chr", b8_chr, "");
    write_cfg("nsga2.cfg", train_cfg, nsga2_opt);
    write_cfg("random.cfg", train_cfg, random_opt);
    write_cfg("costs.cfg", costs_cfg, "dataset = { plugin = \"synthetic\"; size = 12; };\n");
    write_cfg("costs16.cfg", costs_cfg, "dataset = { plugin = \"synthetic\"; size = 16; };\n");
    write_cfg("costs2.cfg", costs_cfg,
              "dataset = { plugin = \"synthetic\"; size = 12; };\n"
              "search_space = { deepcaps = false; };\n");
    must("run nsga2.cfg -q --set output.dir=a");
    must("run random.cfg -q --set output.dir=b");
    must("run costs.cfg -q --set output.dir=c");
    must("run costs16.cfg -q --set output.dir=d");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nc_test_rmtree(dir);
    free(dir);
    return 0;
}

static char *read_rel(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return nc_test_read_file(path, NULL);
}

/* The next CSV field of *p (quotes handled) into buf; 0 at the end of
 * the line. */
static int csv_field(const char **p, char *buf, size_t size)
{
    const char *q = *p;
    size_t n = 0;
    if (*q == '\n' || *q == '\0')
        return 0;
    if (*q == '"') {
        for (q++; *q && !(*q == '"' && q[1] != '"'); q++) {
            if (*q == '"')
                q++;
            if (n + 1 < size)
                buf[n++] = *q;
        }
        q++;
    } else
        for (; *q && *q != ',' && *q != '\n'; q++)
            if (n + 1 < size)
                buf[n++] = *q;
    buf[n] = '\0';
    if (*q == ',')
        q++;
    *p = q;
    return 1;
}

static const char *next_line(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? nl + 1 : p + strlen(p);
}

/* Every search evaluation of a/results.db is in the figure's CSV with its
 * values; the front flags are pareto.csv's members. */
static void check_scatter_csv(const char *csv_rel, const char *cost_column)
{
    char *csv = read_rel(csv_rel), *pareto = read_rel("a/pareto.csv");
    char header[256];
    snprintf(header, sizeof header, "id,generation,status,front,accuracy,%s\n", cost_column);
    assert_memory_equal(csv, header, strlen(header));
    char path[1024];
    snprintf(path, sizeof path, "%s/a/results.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT gid, generation, status, accuracy, %s FROM evaluations "
             "WHERE generation < 1000000000 ORDER BY id",
             !strcmp(cost_column, "energy_mJ") ? "energy_mj" : "memory_kib");
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    int rows_db = 0, rows_csv = 0, front = 0;
    for (const char *p = next_line(csv); *p; p = next_line(p))
        rows_csv++;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *gid = (const char *)sqlite3_column_text(s, 0);
        rows_db++;
        int found = 0;
        for (const char *p = next_line(csv); *p && !found; p = next_line(p)) {
            char f[6][256];
            const char *q = p;
            for (int k = 0; k < 6; k++)
                if (!csv_field(&q, f[k], sizeof f[k]))
                    f[k][0] = '\0';
            if (strcmp(f[0], gid) != 0)
                continue;
            found = 1;
            /* outputs count generations from 1; the store holds the ask index */
            assert_int_equal(atoi(f[1]), sqlite3_column_int(s, 1) + 1);
            assert_string_equal(f[2], (const char *)sqlite3_column_text(s, 2));
            for (int k = 3; k < 5; k++) {
                if (sqlite3_column_type(s, k) == SQLITE_NULL) {
                    assert_string_equal(f[k + 1], "");
                    continue;
                }
                double want = sqlite3_column_double(s, k), got = strtod(f[k + 1], NULL);
                assert_true(fabs(got - want) <= 1e-8 * fabs(want) + 1e-12);
            }
            /* on the front exactly when pareto.csv lists it */
            char key[32];
            snprintf(key, sizeof key, "\n%s,", gid);
            assert_int_equal(atoi(f[3]), strstr(pareto, key) != NULL);
            front += atoi(f[3]);
        }
        if (!found)
            fail_msg("%s: evaluation %s missing", csv_rel, gid);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    assert_true(rows_db > 4);
    assert_int_equal(rows_csv, rows_db);
    int pareto_rows = -1;
    for (const char *p = pareto; *p; p = next_line(p))
        pareto_rows++;
    assert_int_equal(front, pareto_rows);
    free(csv);
    free(pareto);
}

static void check_svg(const char *path)
{
    xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (!doc)
        fail_msg("%s does not parse as XML", path);
    assert_string_equal((const char *)xmlDocGetRootElement(doc)->name, "svg");
    xmlFreeDoc(doc);
}

static void check_png(const char *path)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(path);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), NC_PLOT_WIDTH * NC_PLOT_PNG_SCALE);
    assert_int_equal(cairo_image_surface_get_height(s), NC_PLOT_HEIGHT * NC_PLOT_PNG_SCALE);
    cairo_surface_destroy(s);
}

/* libxml2 2.9 does not know HTML5's figure/details tags: only those
 * complaints are allowed. */
static int html_errors;
static void on_html_error(void *user, xmlErrorPtr e)
{
    (void)user;
    if (e->code != XML_HTML_UNKNOWN_TAG) {
        fprintf(stderr, "report.html: line %d: %s", e->line, e->message);
        html_errors++;
    }
}

static int base64_value(char c)
{
    const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *at = strchr(tab, c);
    return c && at ? (int)(at - tab) : -1;
}

/* report.html parses; every figure is an inline SVG that parses too; no
 * address outside the page. Returns the number of figures. */
static int check_html(const char *path)
{
    html_errors = 0;
    xmlSetStructuredErrorFunc(NULL, on_html_error);
    htmlDocPtr doc = htmlReadFile(path, "utf-8", HTML_PARSE_NONET);
    xmlSetStructuredErrorFunc(NULL, NULL);
    assert_non_null(doc);
    assert_int_equal(html_errors, 0);
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    xmlXPathObjectPtr imgs = xmlXPathEvalExpression((const xmlChar *)"//img/@src", x);
    int n = imgs->nodesetval ? imgs->nodesetval->nodeNr : 0;
    for (int i = 0; i < n; i++) {
        xmlChar *src = xmlNodeGetContent(imgs->nodesetval->nodeTab[i]);
        const char *prefix = "data:image/svg+xml;base64,";
        assert_memory_equal(src, prefix, strlen(prefix));
        const char *b = (const char *)src + strlen(prefix);
        size_t len = strlen(b), m = 0;
        unsigned char *svg = malloc(len);
        assert_int_equal(len % 4, 0);
        for (size_t k = 0; k < len; k += 4) {
            int v[4];
            for (int j = 0; j < 4; j++)
                v[j] = base64_value(b[k + (size_t)j]);
            assert_true(v[0] >= 0 && v[1] >= 0);
            svg[m++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            if (v[2] >= 0)
                svg[m++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
            if (v[3] >= 0)
                svg[m++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
        }
        xmlDocPtr d = xmlReadMemory((const char *)svg, (int)m, "figure.svg", NULL, XML_PARSE_NONET);
        assert_non_null(d);
        assert_string_equal((const char *)xmlDocGetRootElement(d)->name, "svg");
        xmlFreeDoc(d);
        free(svg);
        xmlFree(src);
    }
    xmlXPathFreeObject(imgs);
    xmlXPathObjectPtr ext = xmlXPathEvalExpression(
        (const xmlChar *)"//script | //link | //*[starts-with(@src, 'http')]", x);
    assert_int_equal(ext->nodesetval ? ext->nodesetval->nodeNr : 0, 0);
    xmlXPathFreeObject(ext);
    xmlXPathFreeContext(x);
    xmlFreeDoc(doc);
    return n;
}

static void test_single_run(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run_cli("report a --html out --format svg,png,pdf --json", &out, &err), 0);
    /* the text report kept, the page named, ONE JSON line last */
    assert_non_null(strstr(out, "a: 3 generations (search done)"));
    assert_non_null(strstr(out, "report: out/report.html\n"));
    const char *last = strrchr(out, '{');
    while (last > out && last[-1] != '\n')
        last--;
    json_t *root = json_loads(last, 0, NULL);
    assert_non_null(root);
    json_t *figs = json_object_get(root, "figures");
    assert_non_null(json_object_get(root, "front"));
    static const char *const names[] = {"accuracy_vs_energy", "accuracy_vs_memory",
                                        "hypervolume_vs_generation", "hypervolume_vs_hours",
                                        "front_objectives"};
    char path[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        json_t *f = json_object_get(figs, names[i]);
        if (!f)
            fail_msg("--json: no figure %s", names[i]);
        /* the JSON rows are the CSV rows */
        char rel[256];
        snprintf(rel, sizeof rel, "out/%s.csv", names[i]);
        char *csv = read_rel(rel);
        int lines = -1;
        for (const char *p = csv; *p; p = next_line(p))
            lines++;
        assert_int_equal((int)json_array_size(json_object_get(f, "rows")), lines);
        free(csv);
        snprintf(path, sizeof path, "%s/out/%s.svg", dir, names[i]);
        check_svg(path);
        snprintf(path, sizeof path, "%s/out/%s.png", dir, names[i]);
        check_png(path);
        snprintf(path, sizeof path, "%s/out/%s.pdf", dir, names[i]);
        char *pdf = nc_test_read_file(path, NULL);
        assert_memory_equal(pdf, "%PDF", 4);
        free(pdf);
    }
    assert_int_equal((int)json_object_size(figs), 5);
    json_decref(root);
    check_scatter_csv("out/accuracy_vs_energy.csv", "energy_mJ");
    check_scatter_csv("out/accuracy_vs_memory.csv", "memory_KiB");
    /* hypervolume CSV: the generations as stored */
    char *hv = read_rel("out/hypervolume_vs_generation.csv");
    char *stored = read_rel("a/hypervolume.csv");
    assert_non_null(strstr(hv, "generation,evaluations,train_hours,hypervolume\n1,4,"));
    /* hypervolume.csv: generation,evaluated,failed,front_size,best,hv */
    const char *p = next_line(stored);
    char f[6][64];
    for (int k = 0; k < 6; k++)
        csv_field(&p, f[k], sizeof f[k]);
    const char *q = next_line(hv);
    char g[4][64];
    for (int k = 0; k < 4; k++)
        csv_field(&q, g[k], sizeof g[k]);
    assert_string_equal(g[3], f[5]);
    free(hv);
    free(stored);
    snprintf(path, sizeof path, "%s/out/report.html", dir);
    assert_int_equal(check_html(path), 5);
    char *html = read_rel("out/report.html");
    /* the front table shows layers, and the settings are there */
    assert_non_null(strstr(html, "<li>conv 3x3, stride"));
    assert_non_null(strstr(html, "class-caps"));
    assert_non_null(strstr(html, "<h2>Generations</h2>"));
    free(html);
    free(out);
    free(err);
    /* the page `nascaps run` left at the end of the run */
    snprintf(path, sizeof path, "%s/a/report/report.html", dir);
    assert_int_equal(check_html(path), 5);
}

/* pareto.csv's points of run NAME under the given bounds, hypervolume
 * with reference 1.1: the independent check of the comparison. */
static double pareto_hypervolume(const char *name, double energy_hi, double memory_hi)
{
    char rel[64];
    snprintf(rel, sizeof rel, "%s/pareto.csv", name);
    char *csv = read_rel(rel);
    double pts[256 * 3];
    int n = 0;
    for (const char *p = next_line(csv); *p && n < 256; p = next_line(p)) {
        char f[5][256];
        const char *q = p;
        for (int k = 0; k < 5; k++)
            csv_field(&q, f[k], sizeof f[k]);
        pts[n * 3] = 1.0 - strtod(f[1], NULL);
        pts[n * 3 + 1] = strtod(f[2], NULL) / energy_hi;
        pts[n * 3 + 2] = strtod(f[4], NULL) / memory_hi;
        n++;
    }
    free(csv);
    double ref[3] = {1.1, 1.1, 1.1};
    return nc_hypervolume(pts, (size_t)n, 3, ref);
}

/* Largest feasible value of a column over both databases. */
static double max_over(const char *column)
{
    double hi = 0;
    for (int r = 0; r < 2; r++) {
        char path[1024], sql[256];
        snprintf(path, sizeof path, "%s/%s/results.db", dir, r ? "b" : "a");
        snprintf(sql, sizeof sql, "SELECT max(%s) FROM evaluations WHERE status = 'ok' AND "
                 "generation < 1000000000", column);
        sqlite3 *db;
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        hi = fmax(hi, sqlite3_column_double(s, 0));
        sqlite3_finalize(s);
        sqlite3_close(db);
    }
    return hi;
}

/* One number from a/results.db. */
static double db_real(const char *sql)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/a/results.db", dir);
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    double v = sqlite3_column_double(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* The baseline was evaluated once, never asked; baselines.csv holds each
 * front member against it, the reductions recomputed here from
 * pareto.csv and the database. */
static void test_baselines(void **state)
{
    (void)state;
    assert_true(db_real("SELECT count(*) FROM evaluations WHERE generation = 1000000001") == 1);
    double be = db_real("SELECT energy_mj FROM evaluations WHERE generation = 1000000001");
    double bm = db_real("SELECT memory_kib FROM evaluations WHERE generation = 1000000001");
    double ba = db_real("SELECT accuracy FROM evaluations WHERE generation = 1000000001");
    assert_true(be > 0 && bm > 0 && ba >= 0);
    must("report a --html base");
    char *csv = read_rel("base/baselines.csv"), *pareto = read_rel("a/pareto.csv");
    assert_memory_equal(csv, "id,baseline,accuracy,baseline_accuracy,accuracy_difference,"
                             "energy_reduction_pct,latency_reduction_pct,memory_reduction_pct\n",
                        strlen("id,baseline,accuracy,baseline_accuracy,accuracy_difference,"
                               "energy_reduction_pct,latency_reduction_pct,memory_reduction_pct\n"));
    int rows = 0;
    for (const char *p = next_line(pareto); *p; p = next_line(p)) {
        char f[5][256];
        const char *q = p;
        for (int k = 0; k < 5; k++)
            csv_field(&q, f[k], sizeof f[k]);
        char key[64];
        snprintf(key, sizeof key, "\n%s,b8.chr,", f[0]);
        const char *row = strstr(csv, key);
        if (!row)
            fail_msg("baselines.csv: no row for %s", f[0]);
        row++;
        char g[8][64];
        for (int k = 0; k < 8; k++)
            csv_field(&row, g[k], sizeof g[k]);
        double acc = strtod(f[1], NULL), e = strtod(f[2], NULL), m = strtod(f[4], NULL);
        assert_true(fabs(strtod(g[3], NULL) - ba) < 1e-9);
        assert_true(fabs(strtod(g[4], NULL) - (acc - ba)) < 1e-8);
        assert_true(fabs(strtod(g[5], NULL) - 100.0 * (1.0 - e / be)) < 1e-6);
        assert_true(fabs(strtod(g[7], NULL) - 100.0 * (1.0 - m / bm)) < 1e-6);
        rows++;
    }
    int lines = -1;
    for (const char *p = csv; *p; p = next_line(p))
        lines++;
    assert_int_equal(lines, rows);
    free(csv);
    free(pareto);
    char *html = read_rel("base/report.html");
    assert_non_null(strstr(html, "<h2>Baselines</h2>"));
    assert_non_null(strstr(html, "b8.chr"));
    free(html);
    /* a baseline that does not fit the data is refused before the search */
    char *out = NULL, *err = NULL, args[1024];
    snprintf(args, sizeof args, "run costs.cfg -q --set output.dir=refused --set "
             "'baselines=[\"%s/examples/genotypes/capsnet.chr\"]'", NC_TEST_SOURCE_DIR);
    assert_int_equal(run_cli(args, &out, &err), 1);
    assert_non_null(strstr(err, "baselines: "));
    assert_non_null(strstr(err, "capsnet.chr"));
    assert_non_null(strstr(err, "`nascaps adapt` re-derives a genotype for this dataset)\n"));
    free(out);
    free(err);
}

static void test_compare(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run_cli("report a b --html cmp --json", &out, &err), 0);
    double ehi = max_over("energy_mj"), mhi = max_over("memory_kib");
    char line[512];
    snprintf(line, sizeof line, "common normalisation: accuracy_drop [0, 1], energy [0, %.6g], "
             "memory [0, %.6g]; reference point 1.1 in every normalised objective\n", ehi, mhi);
    assert_non_null(strstr(out, line));
    const char *last = strrchr(out, '{');
    while (last > out && last[-1] != '\n')
        last--;
    json_t *root = json_loads(last, 0, NULL);
    assert_non_null(root);
    json_t *norm = json_object_get(root, "normalisation");
    assert_true(fabs(json_real_value(json_object_get(norm, "reference")) - 1.1) < 1e-12);
    json_t *rows = json_object_get(root, "comparison");
    assert_int_equal((int)json_array_size(rows), 2);
    for (int r = 0; r < 2; r++) {
        json_t *row = json_array_get(rows, (size_t)r);
        assert_string_equal(json_string_value(json_object_get(row, "optimizer")),
                            r ? "random" : "nsga2");
        double want = pareto_hypervolume(r ? "b" : "a", ehi, mhi);
        double got = json_real_value(json_object_get(row, "final_hypervolume"));
        if (fabs(got - want) > 1e-9)
            fail_msg("run %d: hypervolume %.12g, from pareto.csv %.12g", r, got, want);
    }
    /* one plot holding both runs */
    json_t *hv = json_object_get(json_object_get(root, "figures"),
                                 "compare_hypervolume_vs_evaluations");
    json_t *hrows = json_object_get(hv, "rows");
    int seen[2] = {0, 0};
    for (size_t i = 0; i < json_array_size(hrows); i++) {
        const char *run = json_string_value(json_array_get(json_array_get(hrows, i), 0));
        seen[!strcmp(run, "b")]++;
    }
    assert_int_equal(seen[0], 3);
    assert_int_equal(seen[1], 3);
    json_decref(root);
    char path[1024];
    snprintf(path, sizeof path, "%s/cmp/report.html", dir);
    assert_int_equal(check_html(path), 4);
    free(out);
    free(err);
}

static void test_refusals(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(run_cli("report a c", &out, &err), 1);
    assert_string_equal(err, "nascaps: cannot compare a and c: different objectives "
                             "(accuracy_drop,energy,memory against energy,latency,memory)\n");
    free(out);
    free(err);
    assert_int_equal(run_cli("report c d", &out, &err), 1);
    assert_non_null(strstr(err, "nascaps: cannot compare c and d: different datasets ("));
    assert_non_null(strstr(err, "dataset.size"));
    free(out);
    free(err);
    assert_int_equal(run_cli("report a --format png", &out, &err), 2);
    free(out);
    free(err);
    assert_int_equal(run_cli("report a --html x --format gif", &out, &err), 2);
    free(out);
    free(err);
}

/* One crafted bad value per check, each refused naming the record. */
static void test_bad_database(void **state)
{
    (void)state;
    static const struct {
        const char *sql, *message;
    } cases[] = {
        {"UPDATE evaluations SET gid = 'XYZ' WHERE id = 2",
         "evaluation 2: id is not 12 lower-case hex digits"},
        {"UPDATE evaluations SET accuracy = 1.5 WHERE id = 2",
         "evaluation 2: an accuracy outside [0, 1]"},
        {"UPDATE evaluations SET energy_mj = 'abc' WHERE id = 3",
         "evaluation 3: a number column holds text"},
        {"UPDATE evaluations SET energy_mj = -1 WHERE id = 3",
         "evaluation 3: a cost or time negative or infinite"},
        {"UPDATE evaluations SET status = 'weird' WHERE id = 1", "evaluation 1: unknown status"},
        {"UPDATE epochs SET validation_accuracy = 7 WHERE eval_id = 1",
         "evaluation 1: an epoch row out of range"},
        {"UPDATE evaluations SET worker = 'w1@' || char(10) || 'x' WHERE id = 1",
         "evaluations: a worker record that cannot be (name 'w1@?x', 1 rows, "},
        {"UPDATE evaluations SET threads = -3 WHERE id = 1",
         "evaluations: a worker record that cannot be (name 'serial', "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char path[1024], sql[1200];
        snprintf(path, sizeof path, "%s/bad%zu", dir, i);
        assert_int_equal(mkdir(path, 0777), 0);
        sqlite3 *db;
        char src[1024];
        snprintf(src, sizeof src, "%s/a/results.db", dir);
        assert_int_equal(sqlite3_open(src, &db), SQLITE_OK);
        snprintf(sql, sizeof sql, "VACUUM INTO '%s/results.db'", path);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        snprintf(sql, sizeof sql, "%s/results.db", path);
        assert_int_equal(sqlite3_open(sql, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, cases[i].sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        char args[256], *out = NULL, *err = NULL;
        snprintf(args, sizeof args, "report bad%zu --html bad%zu/out", i, i);
        assert_int_equal(run_cli(args, &out, &err), 1);
        char want[512];
        snprintf(want, sizeof want, "nascaps: %s/results.db: %s", path + strlen(dir) + 1,
                 cases[i].message);
        if (strncmp(err, want, strlen(want)) != 0 || !strchr(err, '\n') ||
            strchr(err, '\n')[1] != '\0')
            fail_msg("expected one line starting '%s', got '%s'", want, err);
        free(out);
        free(err);
    }
}

/* A baseline name that is not valid UTF-8 (cairo refuses such text) is
 * still drawn, as '?'. */
static void test_bad_baseline_name(void **state)
{
    (void)state;
    char path[1024], sql[1200];
    snprintf(path, sizeof path, "%s/badname", dir);
    assert_int_equal(mkdir(path, 0777), 0);
    sqlite3 *db;
    snprintf(sql, sizeof sql, "%s/a/results.db", dir);
    assert_int_equal(sqlite3_open(sql, &db), SQLITE_OK);
    snprintf(sql, sizeof sql, "VACUUM INTO '%s/results.db'", path);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    snprintf(sql, sizeof sql, "%s/results.db", path);
    assert_int_equal(sqlite3_open(sql, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE meta SET value = (SELECT id FROM evaluations WHERE "
                                  "generation = 1000000001) || char(9) || CAST(X'62FF' AS "
                                  "TEXT) WHERE key = 'baselines'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    must("report badname --html badname/out --format svg,png");
    char *csv = read_rel("badname/out/baselines.csv");
    assert_non_null(strstr(csv, ",b\xff"));
    free(csv);
}

/* A correlate study: accuracy per epoch against the last, r per epoch;
 * the last epoch correlates with itself exactly. */
static void test_correlate(void **state)
{
    (void)state;
    must("correlate nsga2.cfg -q --set output.dir=corr");
    char *out = NULL, *err = NULL;
    assert_int_equal(run_cli("report corr --html corr/out", &out, &err), 0);
    assert_non_null(strstr(out, "corr: a correlate study, 4 evaluations"));
    char *r = read_rel("corr/out/correlate_r.csv");
    assert_non_null(strstr(r, "epoch,candidates,pearson_r\n1,4,"));
    assert_non_null(strstr(r, "\n3,4,1\n"));
    free(r);
    char *acc = read_rel("corr/out/correlate_accuracy.csv");
    int lines = -1;
    for (const char *p = acc; *p; p = next_line(p))
        lines++;
    assert_int_equal(lines, 4 * 3);
    free(acc);
    free(out);
    free(err);
}

/* While a run writes, report reads a consistent view without its lock:
 * a long costs-only search is reported mid-way, then stopped. */
static void test_during_run(void **state)
{
    (void)state;
    write_cfg("long.cfg", costs_cfg, "dataset = { plugin = \"synthetic\"; size = 12; };\n");
    char path[1024], cmd[4096];
    snprintf(path, sizeof path, "%s/long/results.db", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        snprintf(cmd, sizeof cmd, "cd '%s' && exec '%s' run long.cfg -q --set output.dir=long "
                 "--set optimizer.generations=2000 "
                 ">/dev/null 2>&1", dir, NC_TEST_CLI);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* until two generations are committed */
    long long gens = 0;
    int status = 0, ended = 0;
    for (int tries = 0; tries < 600 && gens < 2 && !ended; tries++) {
        sqlite3 *db = NULL;
        sqlite3_stmt *s;
        usleep(50000);
        ended = waitpid(pid, &status, WNOHANG) == pid;
        if (access(path, F_OK) != 0 ||
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(db);
            continue;
        }
        sqlite3_busy_timeout(db, 2000);
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM generations", -1, &s, NULL) ==
            SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                gens = sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
        }
        sqlite3_close(db);
    }
    char *out = NULL, *err = NULL;
    int rc = run_cli("report long --html long-out", &out, &err);
    if (!ended) {
        kill(pid, SIGINT);
        waitpid(pid, &status, 0);
    }
    assert_false(ended);   /* the run was still going */
    if (rc != 0)
        fail_msg("report during the run: exit %d: %s", rc, err ? err : "");
    assert_true(gens >= 2);
    /* a search still going: not done */
    assert_null(strstr(out, "(search done)"));
    snprintf(path, sizeof path, "%s/long-out/report.html", dir);
    assert_int_equal(check_html(path), 5);   /* 2 scatters, 2 hypervolumes, 1 front */
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_run),
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_bad_database),
        cmocka_unit_test(test_bad_baseline_name),
        cmocka_unit_test(test_correlate),
        cmocka_unit_test(test_during_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
