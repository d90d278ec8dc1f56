/* weights.c - weights files (docs/TRAINING.md, "Weights file"): every
 * tensor of a network, tagged with the canonical genotype and closed by an
 * FNV-1a 64 checksum. Loading checks everything before it changes a
 * single value, so a refused file leaves the network as it was. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/input.h"
#include "nascaps/train.h"
#include "train/train_internal.h"

#define MAGIC_LEN 8
#define FLAG_TRAINABLE 1u
#define MAX_FILE_BYTES ((int64_t)1 << 36)   /* 64 GiB: surely not ours */

uint64_t nc_fnv64_update(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int host_is_little(void)
{
    const uint32_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct wfile {
    FILE *f;
    uint64_t hash;
    int failed;
} wfile;

static void put(wfile *w, const void *data, size_t len)
{
    if (w->failed || len == 0)
        return;
    w->hash = nc_fnv64_update(w->hash, data, len);
    if (fwrite(data, 1, len, w->f) != len)
        w->failed = 1;
}

static void put_le(wfile *w, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(w, b, (size_t)bytes);
}

static void put_str(wfile *w, const char *s)
{
    size_t n = strlen(s);
    put_le(w, n, 4);
    put(w, s, n);
}

static void put_floats(wfile *w, const float *x, size_t n)
{
    if (host_is_little()) {
        put(w, x, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        put_le(w, u, 4);
    }
}

/* The network's tensors grouped by layer: [first, end) of layer i. */
static void layer_range(const nc_net *net, int layer, int *first, int *end)
{
    int n = nc_net_tensor_count(net);
    *first = *end = n;
    for (int t = 0; t < n; t++) {
        nc_net_tensor x;
        nc_net_tensor_at(net, t, &x);
        if (x.layer == layer) {
            if (*first == n)
                *first = t;
            *end = t + 1;
        }
    }
}

static const char *section_name(const nc_genotype *g, int layer)
{
    return layer < 0 ? "decoder" : nc_layer_role_plugin(nc_genotype_role(g, layer));
}

/* Writes the whole file to w (which records a write failure). */
static int write_net(const nc_net *net, wfile *w, const char *label, nc_error *err)
{
    nc_genotype g;
    nc_error perr;
    if (nc_genotype_parse(nc_net_genotype(net), "<net>", &g, &perr))
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: %s", label, perr.msg);
    const nc_net_info *info = nc_net_get_info(net);
    put(w, NC_WEIGHTS_MAGIC, MAGIC_LEN);
    put_le(w, NC_WEIGHTS_VERSION, 4);
    put_str(w, nc_net_genotype(net));
    int sections = info->n_layers + (info->has_decoder ? 1 : 0);
    put_le(w, (uint64_t)sections, 4);
    for (int s = 0; s < sections; s++) {
        int layer = s < info->n_layers ? s : -1;
        int first, end;
        layer_range(net, layer, &first, &end);
        put_str(w, section_name(&g, layer));
        put_le(w, (uint64_t)(uint32_t)layer, 4);
        put_le(w, (uint64_t)(end - first), 4);
        for (int t = first; t < end; t++) {
            nc_net_tensor x;
            nc_net_tensor_at(net, t, &x);
            put_str(w, x.name);
            put_le(w, x.grad ? FLAG_TRAINABLE : 0, 4);
            put_le(w, x.count, 8);
            put_floats(w, x.value, x.count);
        }
    }
    uint64_t sum = w->hash;
    put_le(w, sum, 8);
    return NC_OK;
}

int nc_weights_save(const nc_net *net, const char *path, nc_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    if (!tmp)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", path);
    snprintf(tmp, plen + 8, "%s.tmp", path);
    wfile w = {fopen(tmp, "wb"), NC_FNV64_INIT, 0};
    if (!w.f) {
        int e = errno;
        free(tmp);
        return nc_error_set(err, NC_ERR_INPUT, "%s: cannot create: %s", path, strerror(e));
    }
    int rc = write_net(net, &w, path, err);
    int failed = rc || w.failed || ferror(w.f);
    if (fclose(w.f) != 0)
        failed = 1;
    if (failed || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        free(tmp);
        if (rc)
            return rc;
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: cannot write: %s", path,
                            e ? strerror(e) : "I/O error");
    }
    free(tmp);
    return NC_OK;
}

int nc_weights_save_buffer(const nc_net *net, unsigned char **buf, size_t *len, nc_error *err)
{
    char *mem = NULL;
    size_t size = 0;
    *buf = NULL;
    *len = 0;
    wfile w = {open_memstream(&mem, &size), NC_FNV64_INIT, 0};
    if (!w.f)
        return nc_error_set(err, NC_ERR_INTERNAL, "weights: out of memory");
    int rc = write_net(net, &w, "weights", err);
    int failed = w.failed || ferror(w.f);
    if (fclose(w.f) != 0)
        failed = 1;
    if (rc || failed) {
        free(mem);
        return rc ? rc : nc_error_set(err, NC_ERR_INTERNAL, "weights: out of memory");
    }
    *buf = (unsigned char *)mem;
    *len = size;
    return NC_OK;
}

/* ---- reading ---------------------------------------------------------------- */

typedef struct rfile {
    const unsigned char *buf;
    size_t len, pos;
    const char *path;
    char what[320];   /* what is being read, for truncation messages */
} rfile;

static int truncated(rfile *r, size_t need, nc_error *err)
{
    return nc_error_set(err, NC_ERR_INPUT,
                        "%s: truncated: the file ends at byte %zu inside %s (%zu more bytes "
                        "needed)",
                        r->path, r->len, r->what, need - (r->len - r->pos));
}

static int get(rfile *r, size_t n, const unsigned char **out, nc_error *err)
{
    if (r->len - r->pos < n)
        return truncated(r, n, err);
    *out = r->buf + r->pos;
    r->pos += n;
    return NC_OK;
}

static int get_le(rfile *r, int bytes, uint64_t *v, nc_error *err)
{
    const unsigned char *b = NULL;
    int rc = get(r, (size_t)bytes, &b, err);
    if (rc)
        return rc;
    *v = 0;
    for (int i = 0; i < bytes; i++)
        *v |= (uint64_t)b[i] << (8 * i);
    return NC_OK;
}

/* A length-prefixed string of at most max bytes, copied NUL-terminated. */
static int get_str(rfile *r, char *out, size_t max, nc_error *err)
{
    uint64_t n = 0;
    const unsigned char *b = NULL;
    size_t at = r->pos;
    int rc = get_le(r, 4, &n, err);
    if (rc)
        return rc;
    if (n > max)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: byte %zu: %s is %" PRIu64 " bytes long, at most %zu: not a "
                            "valid weights file",
                            r->path, at, r->what, n, max);
    if ((rc = get(r, (size_t)n, &b, err)))
        return rc;
    memcpy(out, b, (size_t)n);
    out[n] = '\0';
    return NC_OK;
}

static int read_whole(const char *path, unsigned char **buf, size_t *len, nc_error *err)
{
    return nc_input_read_all(path, (size_t)MAX_FILE_BYTES, buf, len, err);
}

/* One tensor as found in the file. */
typedef struct ftensor {
    char name[256];
    uint32_t flags;
    uint64_t count;
    size_t data;   /* byte offset of its floats */
} ftensor;

typedef struct fsection {
    char name[64];
    int32_t layer;
    uint32_t n;
    ftensor *t;
} fsection;

static void free_sections(fsection *s, int n)
{
    if (!s)
        return;
    for (int i = 0; i < n; i++)
        free(s[i].t);
    free(s);
}

static void label_section(const fsection *s, char *buf, size_t size)
{
    if (s->layer < 0)
        snprintf(buf, size, "the decoder");
    else
        snprintf(buf, size, "gene %lld (%s)", (long long)s->layer + 1, s->name);
}

/* Pass 1: the structure, with every length checked against the file. */
static int parse(rfile *r, char *gstr, size_t gmax, fsection **out, int *n_out, nc_error *err)
{
    const unsigned char *b;
    *out = NULL;
    *n_out = 0;
    snprintf(r->what, sizeof r->what, "the magic number");
    if (r->len < MAGIC_LEN || memcmp(r->buf, NC_WEIGHTS_MAGIC, MAGIC_LEN) != 0) {
        char shown[MAGIC_LEN + 1];
        size_t k = 0;
        for (size_t i = 0; i < MAGIC_LEN && i < r->len; i++) {
            unsigned char c = r->buf[i];
            shown[k++] = c >= 32 && c < 127 && c != '"' ? (char)c : '.';
        }
        shown[k] = '\0';
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: not a nascaps weights file (starts with \"%s\", expected \"%s\")",
                            r->path, shown, NC_WEIGHTS_MAGIC);
    }
    r->pos = MAGIC_LEN;
    uint64_t v;
    snprintf(r->what, sizeof r->what, "the format version");
    int rc = get_le(r, 4, &v, err);
    if (rc)
        return rc;
    if (v != NC_WEIGHTS_VERSION)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: weights format version %" PRIu64 ", this nascaps reads version %d",
                            r->path, v, NC_WEIGHTS_VERSION);
    snprintf(r->what, sizeof r->what, "the genotype");
    if ((rc = get_str(r, gstr, gmax, err)))
        return rc;
    snprintf(r->what, sizeof r->what, "the section count");
    if ((rc = get_le(r, 4, &v, err)))
        return rc;
    if (v < 1 || v > NC_MAX_LAYERS + 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: byte %zu: %" PRIu64 " sections, expected 1..%d: not a valid "
                            "weights file",
                            r->path, r->pos - 4, v, NC_MAX_LAYERS + 1);
    int n = (int)v;
    fsection *s = calloc((size_t)n, sizeof *s);
    if (!s)
        return nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", r->path);
    for (int i = 0; i < n; i++) {
        snprintf(r->what, sizeof r->what, "the header of section %d", i + 1);
        if ((rc = get_str(r, s[i].name, sizeof s[i].name - 1, err)) ||
            (rc = get_le(r, 4, &v, err)))
            goto fail;
        s[i].layer = (int32_t)(uint32_t)v;
        if ((rc = get_le(r, 4, &v, err)))
            goto fail;
        if (v > 4096) {
            rc = nc_error_set(err, NC_ERR_INPUT,
                              "%s: byte %zu: section %d lists %" PRIu64 " tensors: not a valid "
                              "weights file",
                              r->path, r->pos - 4, i + 1, v);
            goto fail;
        }
        s[i].n = (uint32_t)v;
        s[i].t = calloc(v ? v : 1, sizeof *s[i].t);
        if (!s[i].t) {
            rc = nc_error_set(err, NC_ERR_INTERNAL, "%s: out of memory", r->path);
            goto fail;
        }
        char lab[96];
        label_section(&s[i], lab, sizeof lab);
        for (uint32_t t = 0; t < s[i].n; t++) {
            ftensor *x = &s[i].t[t];
            snprintf(r->what, sizeof r->what, "the header of tensor %u of %s", t + 1, lab);
            if ((rc = get_str(r, x->name, sizeof x->name - 1, err)) ||
                (rc = get_le(r, 4, &v, err)))
                goto fail;
            x->flags = (uint32_t)v;
            if ((rc = get_le(r, 8, &x->count, err)))
                goto fail;
            snprintf(r->what, sizeof r->what, "tensor '%s' of %s", x->name, lab);
            if (x->count > (uint64_t)(r->len / 4 + 1)) {
                rc = truncated(r, (size_t)(x->count > SIZE_MAX / 4 ? SIZE_MAX : x->count * 4),
                               err);
                goto fail;
            }
            x->data = r->pos;
            if ((rc = get(r, (size_t)x->count * 4, &b, err)))
                goto fail;
        }
    }
    *out = s;
    *n_out = n;
    return NC_OK;
fail:
    free_sections(s, n);
    return rc;
}

static void load_floats(const unsigned char *b, float *x, size_t n)
{
    if (host_is_little()) {
        memcpy(x, b, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&x[i], &u, 4);
    }
}

/* A NaN or infinity loaded would evaluate silently to chance accuracy:
 * every value is checked before the network is touched. */
static int check_finite(const unsigned char *buf, const char *path, const fsection *s, int n,
                        nc_error *err)
{
    for (int i = 0; i < n; i++)
        for (uint32_t t = 0; t < s[i].n; t++) {
            const ftensor *x = &s[i].t[t];
            const unsigned char *b = buf + x->data;
            for (uint64_t k = 0; k < x->count; k++, b += 4) {
                uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                             (uint32_t)b[3] << 24;
                if ((u & 0x7f800000u) != 0x7f800000u)
                    continue;   /* exponent not all ones: finite */
                char lab[96];
                label_section(&s[i], lab, sizeof lab);
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: byte %zu: %s: tensor '%s' value %" PRIu64
                                    " of %" PRIu64 " is %s: weights must be finite",
                                    path, (size_t)(b - buf), lab, x->name, k + 1, x->count,
                                    u & 0x007fffffu ? "NaN" : u >> 31 ? "-inf" : "inf");
            }
        }
    return NC_OK;
}

/* Pass 2: the file against the network. */
static int compare(const nc_net *net, const char *path, const fsection *s, int n, nc_error *err)
{
    const nc_net_info *info = nc_net_get_info(net);
    int want = info->n_layers + (info->has_decoder ? 1 : 0);
    int file_dec = n > 0 && s[n - 1].layer == -1;
    if (n != want || file_dec != info->has_decoder)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: holds %d layer sections %s a decoder, the network has %d layers "
                            "%s a decoder (training.recon_weight %s)",
                            path, n - file_dec, file_dec ? "and" : "without", info->n_layers,
                            info->has_decoder ? "and" : "without",
                            info->has_decoder ? "> 0" : "= 0");
    nc_genotype g;
    nc_error perr;
    nc_genotype_parse(nc_net_genotype(net), "<net>", &g, &perr);
    for (int i = 0; i < n; i++) {
        int layer = i < info->n_layers ? i : -1;
        char lab[96];
        fsection want_s = {.layer = layer};
        snprintf(want_s.name, sizeof want_s.name, "%s", section_name(&g, layer));
        label_section(&want_s, lab, sizeof lab);
        if (s[i].layer != layer || strcmp(s[i].name, want_s.name) != 0)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: section %d is layer %lld (%s), the network expects %s",
                                path, i + 1, (long long)s[i].layer + 1, s[i].name, lab);
        int first, end;
        layer_range(net, layer, &first, &end);
        if ((int)s[i].n != end - first)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: %s: %u tensors in the file, the network has %d", path, lab,
                                s[i].n, end - first);
        for (int t = first; t < end; t++) {
            nc_net_tensor x;
            nc_net_tensor_at(net, t, &x);
            const ftensor *f = &s[i].t[t - first];
            if (strcmp(f->name, x.name) != 0 || f->count != (uint64_t)x.count ||
                !(f->flags & FLAG_TRAINABLE) != !x.grad)
                return nc_error_set(err, NC_ERR_INPUT,
                                    "%s: %s: tensor %d is %s '%s' of %" PRIu64
                                    " values, the network has %s '%s' of %zu",
                                    path, lab, t - first + 1,
                                    f->flags & FLAG_TRAINABLE ? "trainable" : "state", f->name,
                                    f->count, x.grad ? "trainable" : "state", x.name, x.count);
        }
    }
    return NC_OK;
}

/* Checks and loads the file's bytes; path names them in messages. */
static int load_bytes(nc_net *net, const unsigned char *buf, size_t len, const char *path,
                      nc_error *err)
{
    int rc;
    rfile r = {buf, len, 0, path, ""};
    char gstr[NC_GENOTYPE_STRING_MAX];
    fsection *s = NULL;
    int n = 0;
    if ((rc = parse(&r, gstr, sizeof gstr - 1, &s, &n, err)))
        goto out;
    uint64_t stored;
    snprintf(r.what, sizeof r.what, "the checksum");
    size_t body = r.pos;
    if ((rc = get_le(&r, 8, &stored, err)))
        goto out;
    uint64_t computed = nc_fnv64_update(NC_FNV64_INIT, buf, body);
    if (stored != computed) {
        rc = nc_error_set(err, NC_ERR_INPUT,
                          "%s: checksum mismatch (stored %016" PRIx64 ", computed %016" PRIx64
                          "): the file is corrupt",
                          path, stored, computed);
        goto out;
    }
    if (r.pos != len) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: %zu bytes after the checksum at byte %zu", path,
                          len - r.pos, body);
        goto out;
    }
    if (strcmp(gstr, nc_net_genotype(net)) != 0) {
        rc = nc_error_set(err, NC_ERR_INPUT, "%s: weights of genotype %s, not of %s", path, gstr,
                          nc_net_genotype(net));
        goto out;
    }
    if ((rc = compare(net, path, s, n, err)) || (rc = check_finite(buf, path, s, n, err)))
        goto out;
    for (int i = 0; i < n; i++) {
        int first, end;
        layer_range(net, i < nc_net_get_info(net)->n_layers ? i : -1, &first, &end);
        for (int t = first; t < end; t++) {
            nc_net_tensor x;
            nc_net_tensor_at(net, t, &x);
            load_floats(buf + s[i].t[t - first].data, x.value, x.count);
        }
    }
out:
    free_sections(s, n);
    return rc;
}

int nc_weights_load(nc_net *net, const char *path, nc_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_whole(path, &buf, &len, err);
    if (rc)
        return rc;
    rc = load_bytes(net, buf, len, path, err);
    free(buf);
    return rc;
}

int nc_weights_load_buffer(nc_net *net, const void *buf, size_t len, const char *what,
                           nc_error *err)
{
    return load_bytes(net, buf, len, what, err);
}
