/* state.c - what optimizer plugins share: new-genotype checks, tell
 * checks, and their saved state as JSON text (docs/SEARCH.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "nascaps/optimizer.h"

#define STATE_FORMAT 1

int nc_optimizer_check_env(const nc_optimizer_env *env, const char *who,
                           nc_error *err)
{
    if (env && env->space && env->rng && env->n_objectives >= 1 &&
        env->n_objectives <= NC_MAX_OBJECTIVES)
        return NC_OK;
    return nc_error_set(err, NC_ERR_INTERNAL,
                        "%s: create: env needs a space, an rng and 1..%d "
                        "objectives", who, NC_MAX_OBJECTIVES);
}

int nc_optimizer_is_new(const nc_optimizer_env *env, const nc_genotype *batch,
                        int n, const nc_genotype *g)
{
    for (int i = 0; i < n; i++)
        if (nc_genotype_equal(&batch[i], g))
            return 0;
    return !(env->seen && env->seen(env->seen_ctx, g));
}

int nc_optimizer_check_tell(const nc_optimizer_env *env, const char *who,
                            const nc_genotype *batch, int n_batch,
                            const nc_candidate *cands, int n, nc_error *err)
{
    if (n_batch == 0)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: tell without a batch asked", who);
    if (n != n_batch)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: tell of %d candidates for a batch of %d", who,
                            n, n_batch);
    for (int i = 0; i < n; i++) {
        if (!nc_genotype_equal(&cands[i].genotype, &batch[i]))
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: tell: candidate %d is not the genotype "
                                "asked at that position", who, i + 1);
        if (cands[i].n_objectives != env->n_objectives)
            return nc_error_set(err, NC_ERR_INPUT,
                                "%s: tell: candidate %d has %d objectives, "
                                "expected %d", who, i + 1,
                                cands[i].n_objectives, env->n_objectives);
    }
    return NC_OK;
}

int nc_optimizer_hand_out(const char *who, const nc_genotype *batch,
                          int n_batch, nc_genotype *out, int cap, int *n,
                          nc_error *err)
{
    *n = n_batch;
    if (cap < n_batch) {
        if (!out && cap == 0)
            return NC_OK;
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: ask: the batch holds %d genotypes but cap is "
                            "%d", who, n_batch, cap);
    }
    if (n_batch > 0)
        memcpy(out, batch, (size_t)n_batch * sizeof *out);
    return NC_OK;
}

int nc_optimizer_copy_members(const nc_candidate *members, const int *rank,
                              const double *crowding, int n,
                              nc_candidate *out, int *out_rank,
                              double *out_crowding, int cap)
{
    for (int i = 0; i < n && i < cap; i++) {
        if (out)
            out[i] = members[i];
        if (out_rank)
            out_rank[i] = rank[i];
        if (out_crowding)
            out_crowding[i] = crowding[i];
    }
    return n;
}

void nc_candidate_points(const nc_candidate *cands, int n, nc_point *pts)
{
    for (int i = 0; i < n; i++)
        pts[i] = (nc_point){cands[i].objectives, cands[i].violation};
}

/* ---- writing ------------------------------------------------------------- */

static json_t *real_value(double v)
{
    if (isfinite(v))
        return json_real(v);
    return json_string(isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

static json_t *genotype_value(const nc_genotype *g)
{
    char buf[NC_GENOTYPE_STRING_MAX];
    nc_genotype_to_string(g, buf, sizeof buf);
    return json_string(buf);
}

/* json_*_set_new / append_new tolerate a NULL value (they fail), so one
 * check of `failed` after building covers every allocation. */
static json_t *build(const char *name, const nc_optimizer_state *st)
{
    json_t *root = json_object(), *rng = json_array(), *counters = json_array();
    json_t *members = json_array(), *pending = json_array();
    int failed = !root || !rng || !counters || !members || !pending;
    for (int i = 0; i < 4; i++) {
        char hex[17];
        nc_hash64_hex(st->rng.s[i], hex);
        failed |= json_array_append_new(rng, json_string(hex));
        failed |= json_array_append_new(counters,
                                        json_integer((json_int_t)st->counters[i]));
    }
    for (int i = 0; i < st->n_members; i++) {
        const nc_candidate *c = &st->members[i];
        json_t *m = json_object(), *obj = json_array();
        failed |= !m || !obj;
        for (int k = 0; k < c->n_objectives && obj; k++)
            failed |= json_array_append_new(obj, real_value(c->objectives[k]));
        failed |= json_object_set_new(m, "genotype", genotype_value(&c->genotype));
        failed |= json_object_set_new(m, "objectives", obj);
        failed |= json_object_set_new(m, "violation", real_value(c->violation));
        failed |= json_array_append_new(members, m);
    }
    for (int i = 0; i < st->n_pending; i++)
        failed |= json_array_append_new(pending, genotype_value(&st->pending[i]));
    failed |= json_object_set_new(root, "optimizer", json_string(name));
    failed |= json_object_set_new(root, "format", json_integer(STATE_FORMAT));
    failed |= json_object_set_new(root, "generation",
                                  json_integer(st->generation));
    failed |= json_object_set_new(root, "rng", rng);
    failed |= json_object_set_new(root, "counters", counters);
    failed |= json_object_set_new(root, "members", members);
    failed |= json_object_set_new(root, "pending", pending);
    if (failed) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int nc_optimizer_state_write(const char *name, const nc_optimizer_state *st,
                             char **text, nc_error *err)
{
    json_t *root = build(name, st);
    *text = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                        JSON_REAL_PRECISION(17))
                 : NULL;
    json_decref(root);
    if (!*text)
        return nc_error_set(err, NC_ERR_INTERNAL,
                            "%s: state: out of memory", name);
    return NC_OK;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct reader {
    const char *name;
    const nc_optimizer_env *env;
    nc_error *err;
} reader;

static int bad(const reader *r, const char *fmt, const char *what)
{
    return nc_error_set(r->err, NC_ERR_INPUT, "%s: saved state: %s %s",
                        r->name, what, fmt);
}

static int read_real(const reader *r, const json_t *v, const char *what,
                     double *out)
{
    const char *s = json_string_value(v);
    if (json_is_number(v))
        *out = json_number_value(v);
    else if (s && strcmp(s, "inf") == 0)
        *out = INFINITY;
    else if (s && strcmp(s, "-inf") == 0)
        *out = -INFINITY;
    else if (s && strcmp(s, "nan") == 0)
        *out = NAN;
    else
        return bad(r, "is not a number", what);
    return NC_OK;
}

static int read_genotype(const reader *r, const json_t *v, const char *what,
                         nc_genotype *g)
{
    const char *s = json_string_value(v);
    if (!s)
        return bad(r, "is not a genotype string", what);
    char origin[96];
    snprintf(origin, sizeof origin, "%s: saved state: %s", r->name, what);
    memset(g, 0, sizeof *g);
    if (nc_genotype_parse(s, origin, g, r->err) ||
        nc_genotype_validate(g, origin, &r->env->space->data, r->err))
        return r->err->status;
    return NC_OK;
}

static int read_member(const reader *r, const json_t *m, int i, nc_candidate *c)
{
    char what[64];
    snprintf(what, sizeof what, "member %d", i + 1);
    const json_t *obj = json_object_get(m, "objectives");
    if (!json_is_object(m) || !json_is_array(obj))
        return bad(r, "is not {genotype, objectives, violation}", what);
    if ((int)json_array_size(obj) != r->env->n_objectives)
        return nc_error_set(r->err, NC_ERR_INPUT,
                            "%s: saved state: %s has %zu objectives, expected "
                            "%d", r->name, what, json_array_size(obj),
                            r->env->n_objectives);
    memset(c, 0, sizeof *c);
    c->n_objectives = r->env->n_objectives;
    if (read_genotype(r, json_object_get(m, "genotype"), what, &c->genotype))
        return r->err->status;
    for (int k = 0; k < c->n_objectives; k++)
        if (read_real(r, json_array_get(obj, (size_t)k), what, &c->objectives[k]))
            return r->err->status;
    return read_real(r, json_object_get(m, "violation"), what, &c->violation);
}

static int read_root(const reader *r, const json_t *root,
                     nc_optimizer_state *st)
{
    const json_t *rng = json_object_get(root, "rng");
    const json_t *counters = json_object_get(root, "counters");
    const json_t *members = json_object_get(root, "members");
    const json_t *pending = json_object_get(root, "pending");
    const char *name = json_string_value(json_object_get(root, "optimizer"));
    if (!name || strcmp(name, r->name) != 0)
        return nc_error_set(r->err, NC_ERR_INPUT,
                            "%s: saved state: written by optimizer '%s'",
                            r->name, name ? name : "?");
    if (json_integer_value(json_object_get(root, "format")) != STATE_FORMAT)
        return bad(r, "is not 1", "format");
    json_int_t gen = json_integer_value(json_object_get(root, "generation"));
    if (!json_is_integer(json_object_get(root, "generation")) || gen < 0 ||
        gen > 1000000000)
        return bad(r, "is not a count", "generation");
    st->generation = (int)gen;
    if (!json_is_array(rng) || json_array_size(rng) != 4 ||
        !json_is_array(counters) || json_array_size(counters) != 4)
        return bad(r, "are not 4 entries", "rng and counters");
    for (size_t i = 0; i < 4; i++) {
        const char *h = json_string_value(json_array_get(rng, i));
        char *end = NULL;
        if (!h || strlen(h) != 16)
            return bad(r, "is not 16 hex digits", "rng");
        st->rng.s[i] = strtoull(h, &end, 16);
        if (*end)
            return bad(r, "is not 16 hex digits", "rng");
        if (!json_is_integer(json_array_get(counters, i)))
            return bad(r, "are not integers", "counters");
        st->counters[i] = json_integer_value(json_array_get(counters, i));
    }
    if (!json_is_array(members) || !json_is_array(pending))
        return bad(r, "are not arrays", "members and pending");
    size_t nm = json_array_size(members), np = json_array_size(pending);
    if (nm > 1000000 || np > 1000000)
        return bad(r, "are too long", "members or pending");
    st->members = nm ? calloc(nm, sizeof *st->members) : NULL;
    st->pending = np ? calloc(np, sizeof *st->pending) : NULL;
    if ((nm && !st->members) || (np && !st->pending))
        return nc_error_set(r->err, NC_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < nm; i++) {
        if (read_member(r, json_array_get(members, i), (int)i, &st->members[i]))
            return r->err->status;
        st->n_members = (int)i + 1;
    }
    for (size_t i = 0; i < np; i++) {
        char what[64];
        snprintf(what, sizeof what, "pending %zu", i + 1);
        if (read_genotype(r, json_array_get(pending, i), what, &st->pending[i]))
            return r->err->status;
        st->n_pending = (int)i + 1;
    }
    return NC_OK;
}

int nc_optimizer_state_read(const char *name, const char *text,
                            const nc_optimizer_env *env,
                            nc_optimizer_state *st, nc_error *err)
{
    memset(st, 0, sizeof *st);
    json_error_t jerr;
    json_t *root = json_loads(text ? text : "", 0, &jerr);
    if (!root)
        return nc_error_set(err, NC_ERR_INPUT,
                            "%s: saved state: not JSON at byte %d: %s", name,
                            jerr.position, jerr.text);
    reader r = {name, env, err};
    int rc = json_is_object(root) ? read_root(&r, root, st)
                                  : bad(&r, "is not an object", "the text");
    json_decref(root);
    if (rc)
        nc_optimizer_state_free(st);
    return rc;
}

void nc_optimizer_state_free(nc_optimizer_state *st)
{
    free(st->members);
    free(st->pending);
    st->members = NULL;
    st->pending = NULL;
    st->n_members = st->n_pending = 0;
}
