/* fuzz_seeds.c - writes the generated part of the seed corpora into
 * DIR/<harness>/ (scripts/fuzz.sh adds the example pipelines, genotypes
 * and a results.db of a tiny run): small valid files of every format, so
 * that mutation starts from inputs that get deep into each reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <matio.h>
#include <zlib.h>

#include "exec/exec.h"
#include "fuzz_net.h"
#include "nascaps/train.h"

static const char *root;

static void put(const char *harness, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, harness);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* data gzip-compressed (with a leading selector byte kept raw). */
static unsigned char *gz(const unsigned char *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    size_t cap = compressBound((uLong)len) + 64;
    unsigned char *out = malloc(cap);
    if (!out || deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(1);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        exit(1);
    *out_len = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static void put_with_gz(const char *harness, const char *name, unsigned char sel,
                        const unsigned char *data, size_t len)
{
    unsigned char *raw = malloc(len + 1);
    raw[0] = sel;
    memcpy(raw + 1, data, len);
    put(harness, name, raw, len + 1);
    size_t zl;
    unsigned char *z = gz(data, len, &zl);
    unsigned char *zs = malloc(zl + 1);
    zs[0] = sel;
    memcpy(zs + 1, z, zl);
    char zname[256];
    snprintf(zname, sizeof zname, "%s.gz", name);
    put(harness, zname, zs, zl + 1);
    free(raw);
    free(z);
    free(zs);
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void idx_seeds(void)
{
    unsigned char im[16 + 3 * 4 * 5];
    be32(im, 0x803);
    be32(im + 4, 3);
    be32(im + 8, 4);
    be32(im + 12, 5);
    for (size_t i = 16; i < sizeof im; i++)
        im[i] = (unsigned char)(i * 37);
    put_with_gz("idx", "images", 0, im, sizeof im);
    unsigned char lb[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 7, 9};
    put_with_gz("idx", "labels", 1 | (2 << 1), lb, sizeof lb);   /* 3 images expected */
}

static void cifar_seeds(void)
{
    size_t n = 2, rec10 = 3073, rec100 = 3074;
    unsigned char *b = malloc(n * rec100);
    for (size_t i = 0; i < n * rec100; i++)
        b[i] = (unsigned char)(i * 13);
    for (size_t r = 0; r < n; r++)
        b[r * rec10] = (unsigned char)(r + 3);
    put_with_gz("cifar", "c10", 0, b, n * rec10);
    for (size_t r = 0; r < n; r++) {
        b[r * rec100] = 4;
        b[r * rec100 + 1] = (unsigned char)(50 + r);
    }
    put_with_gz("cifar", "c100", 1, b, n * rec100);
    free(b);
}

static void svhn_seeds(void)
{
    for (int comp = 0; comp < 2; comp++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/svhn", root);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/svhn/%s.mat", root, comp ? "zlib" : "plain");
        mat_t *mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
        if (!mat)
            exit(1);
        size_t n = 2, xd[4] = {32, 32, 3, n}, yd[2] = {n, 1};
        uint8_t *x = malloc(3072 * n), y[2] = {10, 3};
        for (size_t i = 0; i < 3072 * n; i++)
            x[i] = (uint8_t)(i * 7);
        matvar_t *vx = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, xd, x, 0);
        matvar_t *vy = Mat_VarCreate("y", MAT_C_UINT8, MAT_T_UINT8, 2, yd, y, 0);
        enum matio_compression c = comp ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE;
        if (!vx || !vy || Mat_VarWrite(mat, vx, c) || Mat_VarWrite(mat, vy, c))
            exit(1);
        Mat_VarFree(vx);
        Mat_VarFree(vy);
        Mat_Close(mat);
        free(x);
    }
}

static void weights_seed(void)
{
    nc_registry *reg = nc_registry_new();
    nc_net *net = NULL;
    nc_error err;
    if (!reg || nc_fuzz_net_build(reg, &net, &err) != NC_OK) {
        fprintf(stderr, "fuzz_seeds: %s\n", err.msg);
        exit(1);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/weights", root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/weights/tiny.bin", root);
    if (nc_weights_save(net, path, &err) != NC_OK) {
        fprintf(stderr, "fuzz_seeds: %s\n", err.msg);
        exit(1);
    }
    nc_net_free(net);
    nc_registry_free(reg);
}

/* The protocol's messages: a hello, a search job with a pruning plan, a
 * stage-2 job and result with their state, a search result. */
static void wire_seeds(void)
{
    char *m = nc_wire_hello("w2@node", 1, 0x1234, 0x5678, "dataset.path = /d", NULL);
    put("wire", "hello", m, strlen(m));
    free(m);
    static nc_exec_job job;
    job.slot = 3;
    job.epochs = 2;
    job.trains = 1;
    snprintf(job.genotype, sizeof job.genotype, "%s", NC_FUZZ_NET_CHR);
    job.prune.epochs = 2;
    job.prune.min_acc[0] = 0.25;
    snprintf(job.prune.why[0], sizeof job.prune.why[0], "member 0123456789ab");
    m = nc_wire_job(&job);
    put("wire", "job", m, strlen(m));
    free(m);
    unsigned char bytes[17] = "NCWEIGHT\1\0\0\0abcde";
    float adam[4] = {0.5f, -1e-20f, 3.0f, 0.0f};
    nc_final_state st = {1, {{1, 2, 3, 4}}, {{5, 6, 7, 8}}, 42, bytes, sizeof bytes, adam, 2,
                         "runs/x/front/0123456789ab.e1.bin"};
    job.prune.epochs = 0;
    job.final = &st;
    m = nc_wire_job(&job);
    put("wire", "job-final", m, strlen(m));
    free(m);
    nc_exec_result r;
    nc_error err;
    if (nc_exec_result_init(&r, &err))
        exit(1);
    r.slot = 3;
    r.threads = 1;
    snprintf(r.worker, sizeof r.worker, "w1@node");
    snprintf(r.rec.status, sizeof r.rec.status, "ok");
    snprintf(r.rec.genotype, sizeof r.rec.genotype, "%s", NC_FUZZ_NET_CHR);
    r.n_epochs = 1;
    r.epochs[0] = (nc_epoch_rec){2, 1, 0.5, 0.25, 0.75, 0.5, 1.0};
    m = nc_wire_result(&r);
    put("wire", "result", m, strlen(m));
    free(m);
    r.is_final = 1;
    r.final = st;
    r.final.epochs_done = 2;
    m = nc_wire_result(&r);
    put("wire", "result-final", m, strlen(m));
    free(m);
    memset(&r.final, 0, sizeof r.final);   /* borrowed above */
    nc_exec_result_free(&r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fuzz_seeds DIR\n");
        return 2;
    }
    root = argv[1];
    mkdir(root, 0755);
    put("genotype", "tiny.chr", NC_FUZZ_NET_CHR, strlen(NC_FUZZ_NET_CHR));
    idx_seeds();
    cifar_seeds();
    svhn_seeds();
    weights_seed();
    wire_seeds();
    return 0;
}
