/* test_genotype.c - .chr parsing, canonical text, every validity rule with
 * its exact message, repair, and a mutation fuzz of the parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nc_test.h"
#include "nascaps/genotype.h"
#include "nascaps/rng.h"
#include "genotype_mutate.h"

#define CAPSNET "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]"
#define DEEPCAPS                                                                      \
    "[[0,64,3,1,3,1,64,128,1],[2,64,32,4,3,2,32,32,4],[2,32,32,4,3,2,16,32,8],"      \
    "[2,16,32,8,3,2,8,32,8],[2,8,32,8,3,2,4,32,8],[2,4,32,8,4,1,1,10,16],[4],[2]]"

static nc_genotype parse_ok(const char *text)
{
    nc_genotype g;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_genotype_parse(text, "x.chr", &g, &err);
    if (rc)
        fail_msg("parse failed: %s", err.msg);
    return g;
}

static void expect_parse_error(const char *text, const char *msg)
{
    nc_genotype g;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_parse(text, "x.chr", &g, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, msg);
}

static void expect_invalid_g(const nc_genotype *g, const nc_data_shape *d, const char *msg)
{
    nc_error err;
    nc_error_clear(&err);
    if (nc_genotype_validate(g, "x.chr", d, &err) != NC_ERR_INPUT)
        fail_msg("accepted, expected: %s", msg);
    assert_string_equal(err.msg, msg);
}

static void expect_invalid(const char *text, const char *msg)
{
    nc_genotype g = parse_ok(text);
    expect_invalid_g(&g, NULL, msg);
}

static void assert_valid(const nc_genotype *g, const nc_data_shape *d)
{
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_genotype_validate(g, "x.chr", d, &err);
    if (rc)
        fail_msg("unexpectedly invalid: %s", err.msg);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *spaced = " [[0, 28, 1, 1, 9, 1, 28, 256, 1], [1, 28, 256, 1, 9, 2, 14, 32, 8],\n"
                         "  [1, 14, 32, 8, 9, 2, 7, 10, 16], [-1], [1]]\n";
    nc_genotype g = parse_ok(spaced);
    assert_int_equal(g.n_layers, 3);
    assert_int_equal(g.layers[1].outch, 32);
    assert_int_equal(g.layers[2].outcaps, 16);
    assert_int_equal(g.skip, -1);
    assert_int_equal(g.resize, 1);
    char buf[NC_GENOTYPE_STRING_MAX];
    int n = nc_genotype_to_string(&g, buf, sizeof buf);
    assert_string_equal(buf, CAPSNET);
    assert_int_equal(n, (int)strlen(CAPSNET));
    nc_genotype again = parse_ok(buf);
    assert_memory_equal(&again, &g, sizeof g);

    /* snprintf semantics: the full length is returned, the text is cut */
    char small[10];
    assert_int_equal(nc_genotype_to_string(&g, small, sizeof small), n);
    assert_string_equal(small, "[[0,28,1,");

    /* id: first 12 hex digits of nc_hash64 of the canonical text */
    char id[13], hex[17];
    nc_genotype_id(&g, id);
    nc_hash64_hex(nc_hash64(CAPSNET, strlen(CAPSNET)), hex);
    hex[12] = '\0';
    assert_string_equal(id, hex);

    /* save and load */
    char *dir = nc_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/net.chr", dir);
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_save(&g, path, &err), NC_OK);
    char *text = nc_test_read_file(path, NULL);
    assert_string_equal(text, CAPSNET "\n");
    free(text);
    nc_genotype loaded;
    assert_int_equal(nc_genotype_load(path, &loaded, &err), NC_OK);
    assert_memory_equal(&loaded, &g, sizeof g);
    nc_test_rmtree(dir);
    free(dir);
}

static void test_roles(void **state)
{
    (void)state;
    nc_genotype c = parse_ok(CAPSNET), d = parse_ok(DEEPCAPS);
    assert_int_equal(nc_genotype_role(&c, 0), NC_ROLE_CONV);
    assert_int_equal(nc_genotype_role(&c, 1), NC_ROLE_CAPS);
    assert_int_equal(nc_genotype_role(&c, 2), NC_ROLE_CLASS_CAPS);
    assert_int_equal(nc_genotype_role(&d, 1), NC_ROLE_CAPSCELL);
    assert_int_equal(nc_genotype_role(&d, 3), NC_ROLE_CAPSCELL);
    assert_int_equal(nc_genotype_role(&d, 4), NC_ROLE_LAST_CAPSCELL);
    assert_int_equal(nc_genotype_role(&d, 5), NC_ROLE_FLATCAPS);
    assert_string_equal(nc_layer_role_name(NC_ROLE_CLASS_CAPS), "class-caps");
    assert_string_equal(nc_layer_role_name(NC_ROLE_LAST_CAPSCELL), "last-capscell");
    assert_string_equal(nc_layer_role_plugin(NC_ROLE_CONV), "conv");
    assert_string_equal(nc_layer_role_plugin(NC_ROLE_CLASS_CAPS), "caps");
    assert_string_equal(nc_layer_role_plugin(NC_ROLE_LAST_CAPSCELL), "capscell");
    assert_string_equal(nc_layer_role_plugin(NC_ROLE_FLATCAPS), "flatcaps");
    nc_shape s = nc_gene_out_shape(&c.layers[1]);
    assert_int_equal(s.h, 14);
    assert_int_equal(s.ch, 32);
    assert_int_equal(s.dim, 8);
    s = nc_gene_in_shape(&d.layers[1]);
    assert_int_equal(s.h, 64);
    assert_int_equal(s.ch, 32);
    assert_int_equal(s.dim, 4);
}

static void test_valid_examples(void **state)
{
    (void)state;
    nc_genotype c = parse_ok(CAPSNET), d = parse_ok(DEEPCAPS);
    nc_data_shape mnist = {28, 1, 10}, cifar = {32, 3, 10};
    assert_valid(&c, NULL);
    assert_valid(&c, &mnist);
    assert_valid(&d, NULL);
    assert_valid(&d, &cifar);   /* 32 x resize 2 = 64 */
    /* k may exceed insize ('same' padding) */
    c.layers[1].k = 100;
    assert_valid(&c, NULL);
    /* the last gene's k and outsize are not used by the network */
    c = parse_ok(CAPSNET);
    c.layers[2].outsize = 1;
    c.layers[2].k = 14;
    assert_valid(&c, NULL);
    /* no skip is always allowed in a FlatCaps network */
    d.skip = -1;
    assert_valid(&d, NULL);
    d.skip = 3;   /* cell 2 (gene 3) has capsule dim 8 as well */
    assert_valid(&d, NULL);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32],"
                       "[1,14,32,8,9,2,7,10,16],[-1],[1]]",
                       "x.chr: gene 2: expected 9 integers, got 8");
    expect_parse_error("", "x.chr: empty, expected a JSON array of integer arrays");
    expect_parse_error(" \n\t", "x.chr: empty, expected a JSON array of integer arrays");
    expect_parse_error("garbage", "x.chr:1:7: invalid JSON: '[' or '{' expected near 'garbage'");
    expect_parse_error("\n\n  [1, }", "x.chr:3:7: invalid JSON: unexpected token near '}'");
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],", "x.chr:1:25: invalid JSON: ']' expected near end of file");
    expect_parse_error("{\"a\": 1}", "x.chr: expected a JSON array of integer arrays, got an object");
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],[1]]",
                       "x.chr: expected at least one layer gene, a skip gene [s] and a resize "
                       "gene [r], got 2 arrays");
    expect_parse_error("[5,[-1],[1]]", "x.chr: gene 1: expected an array of 9 integers, got an integer");
    expect_parse_error("[[0,28,1,1,9.5,1,28,256,1],[-1],[1]]",
                       "x.chr: gene 1: field 'k': expected an integer, got 9.5");
    expect_parse_error("[[0,28,1,1,1e30,1,28,256,1],[-1],[1]]",
                       "x.chr: gene 1: field 'k': expected an integer, got 1e+30");
    expect_parse_error("[[0,28,1,1,\"9\",1,28,256,1],[-1],[1]]",
                       "x.chr: gene 1: field 'k': expected an integer, got a string");
    expect_parse_error("[[0,28,1,1,99999999999,1,28,256,1],[-1],[1]]",
                       "x.chr: gene 1: field 'k': 99999999999 is out of range");
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],[-1],[99999999999999999999]]",
                       "x.chr:1:51: invalid JSON: too big integer near '99999999999999999999'");
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16]]",
                       "x.chr: skip gene (array 2): expected 1 integer, got 9 (the layer genes "
                       "must be followed by the skip gene [s] and the resize gene [r])");
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],[-1],[true]]",
                       "x.chr: resize gene (array 3): expected an integer, got a boolean");
    expect_parse_error("[[0,28,1,1,9,1,28,256,1],[-1],5]",
                       "x.chr: resize gene (array 3): expected [integer], got an integer");

    /* more layer genes than supported */
    char big[NC_GENOTYPE_STRING_MAX * 2] = "[";
    for (int i = 0; i < NC_MAX_LAYERS + 1; i++)
        strcat(big, "[0,28,1,1,9,1,28,1,1],");
    strcat(big, "[-1],[1]]");
    expect_parse_error(big, "x.chr: 65 layer genes, at most 64 are supported");
}

static void test_load_errors(void **state)
{
    (void)state;
    nc_genotype g;
    nc_error err;
    nc_error_clear(&err);
    assert_int_equal(nc_genotype_load("/nonexistent-dir/x.chr", &g, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "/nonexistent-dir/x.chr: cannot open: No such file or directory");

    char *dir = nc_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/empty.chr", dir);
    nc_test_write_file(path, "", 0);
    assert_int_equal(nc_genotype_load(path, &g, &err), NC_ERR_INPUT);
    char want[4400];
    snprintf(want, sizeof want, "%s: empty, expected a JSON array of integer arrays", path);
    assert_string_equal(err.msg, want);

    /* a NUL byte anywhere is refused with its offset, not read past */
    static const char nul[] = "[[0,28,1,1,9,1,28,256,1],[-1],[1]]\0garbage";
    snprintf(path, sizeof path, "%s/nul.chr", dir);
    nc_test_write_file(path, nul, sizeof nul - 1);
    assert_int_equal(nc_genotype_load(path, &g, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: byte %zu: a NUL byte, not a genotype file", path,
             strlen(nul));
    assert_string_equal(err.msg, want);
    static const char nul_inside[] = "[[0,28,1,1,9,1,28,256,1],[-1]\0,[1]]";
    nc_test_write_file(path, nul_inside, sizeof nul_inside - 1);
    assert_int_equal(nc_genotype_load(path, &g, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: byte 29: a NUL byte, not a genotype file", path);
    assert_string_equal(err.msg, want);

    /* a FIFO is refused at once (no writer: reading it would block forever) */
    snprintf(path, sizeof path, "%s/fifo.chr", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(nc_genotype_load(path, &g, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a FIFO, not a regular file", path);
    assert_string_equal(err.msg, want);
    assert_int_equal(nc_genotype_load(dir, &g, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: cannot read: a directory, not a regular file", dir);
    assert_string_equal(err.msg, want);

    /* a large file is refused without being parsed */
    size_t n = (1u << 20) + 10;
    char *huge = malloc(n);
    assert_non_null(huge);
    memset(huge, ' ', n);
    snprintf(path, sizeof path, "%s/huge.chr", dir);
    nc_test_write_file(path, huge, n);
    free(huge);
    assert_int_equal(nc_genotype_load(path, &g, &err), NC_ERR_INPUT);
    snprintf(want, sizeof want, "%s: larger than 1048576 bytes, not a genotype file", path);
    assert_string_equal(err.msg, want);
    nc_test_rmtree(dir);
    free(dir);
}

/* Every validity rule, violated once, with its exact message. */
static void test_validity_rules(void **state)
{
    (void)state;
    nc_genotype g = parse_ok(CAPSNET);
    g.layers[1].k = 0;
    expect_invalid_g(&g, NULL, "x.chr: gene 2 (caps): field 'k' is 0, expected 1..4096");
    g = parse_ok(CAPSNET);
    g.layers[2].outch = 4097;
    expect_invalid_g(&g, NULL, "x.chr: gene 3 (class-caps): field 'outch' is 4097, expected 1..4096");
    g = parse_ok(CAPSNET);
    g.layers[0].stride = -2;
    expect_invalid_g(&g, NULL, "x.chr: gene 1 (conv): field 'stride' is -2, expected 1..4096");
    g = parse_ok(CAPSNET);
    g.layers[1].type = 3;
    expect_invalid_g(&g, NULL,
                     "x.chr: gene 2: field 'type' is 3, expected 0 (conv), 1 (caps) or 2 "
                     "(capscell/flatcaps)");
    g.n_layers = 0;
    expect_invalid_g(&g, NULL, "x.chr: 0 layer genes, expected 1..64");

    expect_invalid("[[1,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]",
                   "x.chr: gene 1 (caps): field 'type' is 1 but the first gene must be conv (0)");
    expect_invalid("[[0,64,3,1,3,1,64,128,1],[2,64,32,4,3,2,32,32,4],[1,32,32,4,3,2,16,32,8],"
                   "[2,16,32,8,3,2,8,32,8],[2,8,32,8,4,1,1,10,16],[-1],[2]]",
                   "x.chr: gene 3 (caps): field 'type' is 1 but gene 2 is type 2: capsule types "
                   "1 and 2 do not mix");
    expect_invalid("[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,32,8],[0,14,32,8,3,1,14,32,8],"
                   "[1,14,32,8,9,2,7,10,16],[-1],[1]]",
                   "x.chr: gene 3 (conv): field 'type' is 0 but gene 2 is a capsule layer (type "
                   "1): no conv after capsule layers");
    expect_invalid("[[0,28,1,1,9,1,28,256,1],[0,28,256,1,9,2,14,10,16],[-1],[1]]",
                   "x.chr: gene 2 (conv): field 'type' is 0 but the last gene must be class "
                   "capsules (1) or FlatCaps (2)");
    expect_invalid("[[0,28,1,1,9,1,28,256,1],[2,28,256,1,9,1,28,10,16],[-1],[1]]",
                   "x.chr: gene 2 (flatcaps): a FlatCaps network needs at least one CapsCell "
                   "(type 2) before its last gene");
    expect_invalid("[[0,28,1,1,9,1,28,256,1],[0,28,256,1,9,1,28,8,1],[2,28,8,1,9,1,28,10,16],[-1],[1]]",
                   "x.chr: gene 3 (flatcaps): a FlatCaps network needs at least one CapsCell "
                   "(type 2) before its last gene");

    g = parse_ok(CAPSNET);
    g.layers[2].insize = 13;
    expect_invalid_g(&g, NULL, "x.chr: gene 3 (class-caps): field 'insize' is 13 but gene 2 makes outsize 14");
    g = parse_ok(CAPSNET);
    g.layers[1].inch = 128;
    expect_invalid_g(&g, NULL,
                     "x.chr: gene 2 (caps): fields 'inch' x 'incaps' are 128 x 1 = 128 but gene 1 "
                     "makes outch x outcaps = 256 x 1 = 256");
    g = parse_ok(CAPSNET);
    g.layers[0].outsize = 27;
    expect_invalid_g(&g, NULL, "x.chr: gene 1 (conv): field 'outsize' is 27 but ceil(insize 28 / stride 1) = 28");
    g = parse_ok(DEEPCAPS);
    g.layers[2].outsize = 15;
    expect_invalid_g(&g, NULL, "x.chr: gene 3 (capscell): field 'outsize' is 15 but ceil(insize 32 / stride 2) = 16");

    expect_invalid("[[0,1024,64,1,9,1,1024,4096,1],[1,1024,4096,1,1,1,1024,10,16],[-1],[1]]",
                   "x.chr: gene 1 (conv): 2.23e+13 multiply-accumulates per image, more than "
                   "2^40: sizes too large");
    expect_invalid("[[0,1024,64,1,1,1,1024,4096,1],[1,1024,4096,1,1,1,1024,10,64],[-1],[1]]",
                   "x.chr: gene 2 (class-caps): 2.75e+12 multiply-accumulates per image, more "
                   "than 2^40: sizes too large");

    g = parse_ok(CAPSNET);
    g.skip = 2;
    expect_invalid_g(&g, NULL,
                     "x.chr: skip gene: [2], expected [-1]: only FlatCaps networks (last gene "
                     "type 2) have a skip connection");
    g = parse_ok(DEEPCAPS);
    g.skip = 0;
    expect_invalid_g(&g, NULL,
                     "x.chr: skip gene: [0], expected -1 or the 1-based gene index of a CapsCell "
                     "before the last cell (gene 5)");
    g.skip = 7;
    expect_invalid_g(&g, NULL,
                     "x.chr: skip gene: [7], expected -1 or the 1-based gene index of a CapsCell "
                     "before the last cell (gene 5)");
    g.skip = 5;
    expect_invalid_g(&g, NULL,
                     "x.chr: skip gene: [5] names gene 5 (last-capscell), expected a CapsCell "
                     "before the last cell (gene 5)");
    g.skip = 1;
    expect_invalid_g(&g, NULL,
                     "x.chr: skip gene: [1] names gene 1 (conv), expected a CapsCell before the "
                     "last cell (gene 5)");
    g.skip = 2;
    expect_invalid_g(&g, NULL,
                     "x.chr: skip gene: [2] names a cell of capsule dim 4 (its outcaps) but gene "
                     "6 (flatcaps) routes capsules of dim 8 (its incaps)");

    g = parse_ok(CAPSNET);
    g.resize = 3;
    expect_invalid_g(&g, NULL, "x.chr: resize gene: [3], expected [1] or [2]");
    g.resize = 0;
    expect_invalid_g(&g, NULL, "x.chr: resize gene: [0], expected [1] or [2]");

    g = parse_ok(CAPSNET);
    nc_data_shape d = {32, 1, 10};
    expect_invalid_g(&g, &d, "x.chr: gene 1 (conv): field 'insize' is 28 but the dataset's images are 32 x resize 1 = 32");
    d = (nc_data_shape){28, 3, 10};
    expect_invalid_g(&g, &d, "x.chr: gene 1 (conv): fields 'inch' x 'incaps' are 1 x 1 but the dataset has 3 channels");
    d = (nc_data_shape){28, 1, 100};
    expect_invalid_g(&g, &d, "x.chr: gene 3 (class-caps): field 'outch' is 10 but the dataset has 100 classes");
    g = parse_ok(DEEPCAPS);
    d = (nc_data_shape){64, 3, 10};
    expect_invalid_g(&g, &d, "x.chr: gene 1 (conv): field 'insize' is 64 but the dataset's images are 64 x resize 2 = 128");
}

static void assert_same_genotype(const nc_genotype *a, const nc_genotype *b)
{
    char sa[NC_GENOTYPE_STRING_MAX], sb[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(a, sa, sizeof sa);
    nc_genotype_to_string(b, sb, sizeof sb);
    assert_string_equal(sa, sb);
}

/* Repairs text with gene `gene` (0-based) field `field` set to value. */
static void expect_repair(const char *text, int pin, int gene, int field, int value,
                          const char *want)
{
    nc_genotype g = parse_ok(text);
    int *f[] = {&g.layers[gene].type, &g.layers[gene].insize, &g.layers[gene].inch,
                &g.layers[gene].incaps, &g.layers[gene].k, &g.layers[gene].stride,
                &g.layers[gene].outsize, &g.layers[gene].outch, &g.layers[gene].outcaps};
    *f[field] = value;
    nc_error err;
    nc_error_clear(&err);
    int rc = nc_genotype_repair(&g, pin, &err);
    if (rc)
        fail_msg("repair failed: %s", err.msg);
    char buf[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(&g, buf, sizeof buf);
    assert_string_equal(buf, want);
}

static void test_repair_examples(void **state)
{
    (void)state;
    nc_error err;
    nc_error_clear(&err);
    const char *valid[] = {CAPSNET, DEEPCAPS};
    for (int v = 0; v < 2; v++) {
        nc_genotype g = parse_ok(valid[v]), r = g;
        assert_int_equal(nc_genotype_repair(&r, 0, &err), NC_OK);
        assert_same_genotype(&r, &g);
    }

    /* pin_last_k: the last gene's k becomes its insize, nothing else moves */
    nc_genotype g = parse_ok(CAPSNET), r = g;
    assert_int_equal(nc_genotype_repair(&r, 1, &err), NC_OK);
    assert_int_equal(r.layers[2].k, 14);
    r.layers[2].k = 9;
    assert_same_genotype(&r, &g);
    g = parse_ok(DEEPCAPS);
    r = g;
    assert_int_equal(nc_genotype_repair(&r, 1, &err), NC_OK);
    assert_same_genotype(&r, &g);   /* its k = 4 = insize already */

    /* a stride change re-derives every later size */
    expect_repair(CAPSNET, 1, 1, 5, 1,
                  "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,1,28,32,8],[1,28,32,8,28,2,7,10,16],[-1],[1]]");
    /* the consumer keeps its dim when it divides the new channel count... */
    expect_repair(DEEPCAPS, 0, 0, 7, 64,
                  "[[0,64,3,1,3,1,64,64,1],[2,64,16,4,3,2,32,32,4],[2,32,32,4,3,2,16,32,8],"
                  "[2,16,32,8,3,2,8,32,8],[2,8,32,8,3,2,4,32,8],[2,4,32,8,4,1,1,10,16],[4],[2]]");
    /* ...else its ch... */
    expect_repair("[[0,28,1,1,9,2,14,8,1],[1,14,8,1,3,2,7,8,5],[1,7,8,5,7,1,7,10,4],[-1],[1]]", 0,
                  1, 8, 6, "[[0,28,1,1,9,2,14,8,1],[1,14,8,1,3,2,7,8,6],[1,7,8,6,7,1,7,10,4],[-1],[1]]");
    /* ...else it takes the producer's own view */
    expect_repair(DEEPCAPS, 0, 0, 7, 102,
                  "[[0,64,3,1,3,1,64,102,1],[2,64,102,1,3,2,32,32,4],[2,32,32,4,3,2,16,32,8],"
                  "[2,16,32,8,3,2,8,32,8],[2,8,32,8,3,2,4,32,8],[2,4,32,8,4,1,1,10,16],[4],[2]]");
    /* sizes are clamped into 1..4096 */
    expect_repair(CAPSNET, 0, 0, 4, 0,
                  "[[0,28,1,1,1,1,28,256,1],[1,28,256,1,9,2,14,32,8],[1,14,32,8,9,2,7,10,16],[-1],[1]]");
    expect_repair(CAPSNET, 0, 1, 7, 5000,
                  "[[0,28,1,1,9,1,28,256,1],[1,28,256,1,9,2,14,4096,8],[1,14,4096,8,9,2,7,10,16],[-1],[1]]");

    /* a skip the rules refuse is dropped, resize clamped to 1..2 */
    g = parse_ok(DEEPCAPS);
    g.skip = 5;
    g.resize = 7;
    assert_int_equal(nc_genotype_repair(&g, 0, &err), NC_OK);
    assert_int_equal(g.skip, -1);
    assert_int_equal(g.resize, 2);
    g = parse_ok(CAPSNET);
    g.skip = 2;
    g.resize = 0;
    assert_int_equal(nc_genotype_repair(&g, 0, &err), NC_OK);
    assert_int_equal(g.skip, -1);
    assert_int_equal(g.resize, 1);

    /* the layer types are the search's choice: repair does not invent them */
    g = parse_ok(CAPSNET);
    g.layers[0].type = 1;
    assert_int_equal(nc_genotype_repair(&g, 0, &err), NC_ERR_INPUT);
    assert_string_equal(err.msg, "genotype (repair): gene 1 (caps): field 'type' is 1 but the "
                                 "first gene must be conv (0)");
}

/* Random perturbations of valid genotypes always repair into valid ones,
 * and repairing twice changes nothing more. */
static void test_repair_perturbed(void **state)
{
    (void)state;
    const char *valid[] = {
        CAPSNET, DEEPCAPS,
        "[[0,28,1,1,9,2,14,8,1],[1,14,8,1,3,2,7,8,5],[1,7,8,5,7,1,7,10,4],[-1],[1]]",
        "[[0,32,3,1,3,1,32,32,1],[2,32,32,1,3,1,32,32,4],[2,32,32,4,9,1,32,32,8],"
        "[2,32,32,8,3,2,16,32,8],[2,16,32,8,16,1,16,10,8],[-1],[1]]",
    };
    nc_rng rng;
    nc_rng_seed(&rng, 42);
    nc_error err;
    for (int it = 0; it < 4000; it++) {
        nc_genotype g = parse_ok(valid[it % 4]);
        nc_test_perturb(&g, &rng);
        int pin = (int)(it & 1);
        nc_error_clear(&err);
        if (nc_genotype_repair(&g, pin, &err) != NC_OK)
            fail_msg("iteration %d: repair left an invalid genotype: %s", it, err.msg);
        assert_valid(&g, NULL);
        if (pin)
            assert_int_equal(g.layers[g.n_layers - 1].k, g.layers[g.n_layers - 1].insize);
        nc_genotype again = g;
        assert_int_equal(nc_genotype_repair(&again, pin, &err), NC_OK);
        assert_same_genotype(&again, &g);
    }
}

/* Mutated genotype text never crashes the parser, validator or repair
 * (run under ASan+UBSan in CI). */
static void test_fuzz_text(void **state)
{
    (void)state;
    static const char alphabet[] = "[],-0123456789 e.\"x{}";
    const char *seeds[] = {CAPSNET, DEEPCAPS};
    nc_rng rng;
    nc_rng_seed(&rng, 7);
    int parsed = 0, valid = 0;
    for (int it = 0; it < 5000; it++) {
        char text[1024];
        snprintf(text, sizeof text, "%s", seeds[it % 2]);
        int edits = (int)nc_rng_range(&rng, 1, 3);
        for (int e = 0; e < edits; e++) {
            size_t len = strlen(text);
            size_t at = (size_t)nc_rng_range(&rng, 0, (int64_t)len - 1);
            switch (nc_rng_range(&rng, 0, 5)) {
            case 4: /* change one digit: mostly still JSON, often still valid */
            case 5:
                if (text[at] >= '0' && text[at] <= '9')
                    text[at] = (char)('0' + nc_rng_range(&rng, 0, 9));
                break;
            case 0: /* replace one byte */
                text[at] = alphabet[nc_rng_range(&rng, 0, (int64_t)sizeof alphabet - 2)];
                break;
            case 1: /* delete one byte */
                memmove(text + at, text + at + 1, len - at);
                break;
            case 2: /* insert a number, possibly huge or negative */
                if (len + 24 < sizeof text) {
                    char num[24];
                    static const char *nums[] = {"0", "-1", "4096", "4097", "99999999999",
                                                 "2147483648", "-2147483649", "1e30", "65"};
                    snprintf(num, sizeof num, "%s", nums[nc_rng_range(&rng, 0, 8)]);
                    size_t n = strlen(num);
                    memmove(text + at + n, text + at, len - at + 1);
                    memcpy(text + at, num, n);
                }
                break;
            default: /* truncate */
                text[at] = '\0';
                break;
            }
        }
        nc_genotype g;
        nc_error err;
        nc_error_clear(&err);
        if (nc_genotype_parse(text, "fuzz.chr", &g, &err) != NC_OK) {
            assert_int_equal(err.status, NC_ERR_INPUT);
            assert_true(strncmp(err.msg, "fuzz.chr", 8) == 0);
            continue;
        }
        parsed++;
        if (nc_genotype_validate(&g, "fuzz.chr", NULL, &err) == NC_OK)
            valid++;
        else
            assert_true(strncmp(err.msg, "fuzz.chr: ", 10) == 0);
        char canon[NC_GENOTYPE_STRING_MAX], id[13];
        nc_genotype_to_string(&g, canon, sizeof canon);
        nc_genotype_id(&g, id);
        nc_genotype_repair(&g, 1, &err);
    }
    print_message("fuzz: %d parsed, %d valid\n", parsed, valid);
    /* the mutations must exercise more than the JSON reader */
    assert_true(parsed > 1000);
    assert_true(valid > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_valid_examples),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_validity_rules),
        cmocka_unit_test(test_repair_examples),
        cmocka_unit_test(test_repair_perturbed),
        cmocka_unit_test(test_fuzz_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
