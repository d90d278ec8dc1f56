/* pareto.c - the multi-objective utilities of NSGA-II (Deb et al. 2002):
 * constrained domination, fast non-dominated sorting, crowding distance,
 * (mu + lambda) survival, binary tournament, and the exact hypervolume
 * (WFG with dimension slicing). All objectives are minimised. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nascaps/search.h"

/* NaN objectives and violations sort as +inf, so a failed evaluation
 * never looks good. */
static double clean(double v)
{
    return isnan(v) ? INFINITY : v;
}

static double violation_of(const nc_point *p)
{
    double v = clean(p->violation);
    return v > 0 ? v : 0;
}

int nc_dominates(const nc_point *a, const nc_point *b, int m)
{
    double va = violation_of(a), vb = violation_of(b);
    if (va > 0 || vb > 0)
        return va < vb;
    int better = 0;
    for (int k = 0; k < m; k++) {
        double x = clean(a->obj[k]), y = clean(b->obj[k]);
        if (x > y)
            return 0;
        if (x < y)
            better = 1;
    }
    return better;
}

/* The objectives and violations with NaN made +inf and violations
 * clamped at 0, so the pair loop below is plain comparisons. */
typedef struct clean_set {
    const double *obj;    /* n x m */
    const double *viol;   /* n */
    int m;
} clean_set;

/* +1: i dominates j; -1: j dominates i; 0: neither (nc_dominates both
 * ways in one pass over the objectives). */
static int relation(const clean_set *c, size_t i, size_t j)
{
    double vi = c->viol[i], vj = c->viol[j];
    if (vi > 0 || vj > 0)
        return vi < vj ? 1 : vj < vi ? -1 : 0;
    const double *a = c->obj + i * (size_t)c->m, *b = c->obj + j * (size_t)c->m;
    int a_better = 0, b_better = 0;
    for (int k = 0; k < c->m; k++) {
        a_better |= a[k] < b[k];
        b_better |= b[k] < a[k];
    }
    return a_better == b_better ? 0 : a_better ? 1 : -1;
}

/* Beyond this many points the "dominates" bit matrix (n^2 / 8 bytes: 32
 * MiB here) is not kept, and each front recomputes the relations it
 * releases instead (twice the comparisons, O(n) memory). */
#define SORT_BITS_MAX 16384

/* Deb's fast non-dominated sort: domination counts, then each front
 * releases the points its members dominate. */
int nc_nondominated_sort(const nc_point *pts, size_t n, int m, int *rank)
{
    if (n == 0)
        return 0;
    size_t words = (n + 63) / 64;
    int use_bits = n <= SORT_BITS_MAX;
    size_t *count = calloc(n, sizeof *count);
    size_t *front = malloc(n * sizeof *front), *next = malloc(n * sizeof *next);
    double *obj = malloc(n * (size_t)m * sizeof *obj);
    double *viol = malloc(n * sizeof *viol);
    uint64_t *bits = use_bits ? calloc(n * words, sizeof *bits) : NULL;
    if (!count || !front || !next || !obj || !viol || (use_bits && !bits)) {
        free(count);
        free(front);
        free(next);
        free(obj);
        free(viol);
        free(bits);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        viol[i] = violation_of(&pts[i]);
        for (int k = 0; k < m; k++)
            obj[i * (size_t)m + k] = clean(pts[i].obj[k]);
    }
    clean_set c = {obj, viol, m};
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            int r = relation(&c, i, j);
            if (r > 0) {
                count[j]++;
                if (bits)
                    bits[i * words + j / 64] |= (uint64_t)1 << (j % 64);
            } else if (r < 0) {
                count[i]++;
                if (bits)
                    bits[j * words + i / 64] |= (uint64_t)1 << (i % 64);
            }
        }
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        rank[i] = -1;
        if (count[i] == 0) {
            front[nf++] = i;
            rank[i] = 0;
        }
    }
    int r = 0;
    while (nf > 0) {
        size_t nn = 0;
        if (bits) {
            for (size_t f = 0; f < nf; f++) {
                const uint64_t *row = bits + front[f] * words;
                for (size_t w = 0; w < words; w++)
                    for (uint64_t b = row[w]; b; b &= b - 1) {
                        size_t q = w * 64 + (size_t)__builtin_ctzll(b);
                        if (--count[q] == 0) {
                            next[nn++] = q;
                            rank[q] = r + 1;
                        }
                    }
            }
        } else {
            for (size_t q = 0; q < n; q++) {
                if (rank[q] >= 0)
                    continue;
                for (size_t f = 0; f < nf; f++)
                    if (relation(&c, front[f], q) > 0)
                        count[q]--;
                if (count[q] == 0) {
                    next[nn++] = q;
                    rank[q] = r + 1;
                }
            }
        }
        size_t *t = front;
        front = next;
        next = t;
        nf = nn;
        r++;
    }
    free(count);
    free(front);
    free(next);
    free(obj);
    free(viol);
    free(bits);
    return r;
}

typedef struct keyed {
    double v;
    uint64_t tie;
    size_t pos;
} keyed;

static int cmp_keyed_up(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    if (a->tie != b->tie)
        return a->tie < b->tie ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

void nc_crowding(const nc_point *pts, const size_t *idx, size_t n, int m,
                 double *dist)
{
    for (size_t k = 0; k < n; k++)
        dist[k] = n <= 2 ? INFINITY : 0;
    if (n <= 2)
        return;
    keyed *s = malloc(n * sizeof *s);
    if (!s) {
        /* Without memory every member counts as a boundary: the safe
         * answer for survival (nothing is preferred). */
        for (size_t k = 0; k < n; k++)
            dist[k] = INFINITY;
        return;
    }
    for (int o = 0; o < m; o++) {
        for (size_t k = 0; k < n; k++)
            s[k] = (keyed){clean(pts[idx[k]].obj[o]), 0, k};
        qsort(s, n, sizeof *s, cmp_keyed_up);
        dist[s[0].pos] = dist[s[n - 1].pos] = INFINITY;
        double range = s[n - 1].v - s[0].v;
        if (!(range > 0) || !isfinite(range))
            continue;
        for (size_t k = 1; k + 1 < n; k++)
            if (isfinite(dist[s[k].pos]))
                dist[s[k].pos] += (s[k + 1].v - s[k - 1].v) / range;
    }
    free(s);
}

int nc_survival_select(const nc_point *pts, size_t n, int m, size_t keep,
                       nc_rng *rng, size_t *chosen)
{
    if (keep > n)
        keep = n;
    if (keep == 0)
        return 0;
    int *rank = malloc(n * sizeof *rank);
    size_t *members = malloc(n * sizeof *members);
    double *dist = malloc(n * sizeof *dist);
    keyed *order = malloc(n * sizeof *order);
    int fronts = rank && members && dist && order
                     ? nc_nondominated_sort(pts, n, m, rank) : -1;
    size_t kept = 0;
    for (int r = 0; r < fronts && kept < keep; r++) {
        size_t nm = 0;
        for (size_t i = 0; i < n; i++)
            if (rank[i] == r)
                members[nm++] = i;
        if (kept + nm <= keep) {
            memcpy(chosen + kept, members, nm * sizeof *members);
            kept += nm;
            continue;
        }
        /* The front that does not fit: largest crowding distance first,
         * equal distances in a random order (keys drawn per member). */
        nc_crowding(pts, members, nm, m, dist);
        for (size_t k = 0; k < nm; k++)
            order[k] = (keyed){-dist[k], nc_rng_next(rng), members[k]};
        qsort(order, nm, sizeof *order, cmp_keyed_up);
        for (size_t k = 0; kept < keep; k++)
            chosen[kept++] = order[k].pos;
    }
    free(rank);
    free(members);
    free(dist);
    free(order);
    if (fronts < 0)
        return -1;
    for (size_t i = 1; i < kept; i++)   /* ascending: insertion sort */
        for (size_t j = i; j > 0 && chosen[j - 1] > chosen[j]; j--) {
            size_t t = chosen[j];
            chosen[j] = chosen[j - 1];
            chosen[j - 1] = t;
        }
    return (int)kept;
}

size_t nc_tournament(const int *rank, const double *crowding, size_t n,
                     nc_rng *rng)
{
    if (n <= 1)
        return 0;
    size_t a = (size_t)nc_rng_range(rng, 0, (int64_t)n - 1);
    size_t b = (size_t)nc_rng_range(rng, 0, (int64_t)n - 2);
    if (b >= a)
        b++;
    if (rank[a] != rank[b])
        return rank[a] < rank[b] ? a : b;
    if (crowding[a] != crowding[b])
        return crowding[a] > crowding[b] ? a : b;
    return nc_rng_next(rng) & 1 ? a : b;
}

/* ---- hypervolume ------------------------------------------------------- */

/* A point padded to NC_MAX_OBJECTIVES (unused objectives 0, so whole-row
 * lexicographic comparison is the comparison of the used ones), with a
 * sort key. */
typedef struct hv_pt {
    double v[NC_MAX_OBJECTIVES];
    double key;
} hv_pt;

static int cmp_lex(const void *pa, const void *pb)
{
    const hv_pt *a = pa, *b = pb;
    for (int k = 0; k < NC_MAX_OBJECTIVES; k++)
        if (a->v[k] != b->v[k])
            return a->v[k] < b->v[k] ? -1 : 1;
    return 0;
}

static int cmp_key_down(const void *pa, const void *pb)
{
    const hv_pt *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return cmp_lex(pa, pb);
}

/* Keeps the points no other point weakly dominates (one of equal points).
 * After a lexicographic sort only an earlier point can weakly dominate a
 * later one, and a dropped point's dominator also dominates whatever it
 * did, so each point is checked against the kept ones only: the limit
 * sets WFG builds are mostly dominated, so the kept set stays small. */
static size_t nondominated(hv_pt *p, size_t n, int m)
{
    if (n < 2)
        return n;
    qsort(p, n, sizeof *p, cmp_lex);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int dominated = 0;
        for (size_t j = 0; j < kept && !dominated; j++) {
            int le = 1;
            for (int k = 0; k < m && le; k++)
                le = p[j].v[k] <= p[i].v[k];
            dominated = le;
        }
        if (!dominated)
            p[kept++] = p[i];
    }
    return kept;
}

/* Hypervolume of p[0..n) (each strictly better than ref) in m >= 1
 * objectives. p is reordered. -1 on allocation failure. */
static double hv_rec(hv_pt *p, size_t n, int m, const double *ref)
{
    if (n == 0)
        return 0;
    if (m == 1) {
        double best = p[0].v[0];
        for (size_t i = 1; i < n; i++)
            if (p[i].v[0] < best)
                best = p[i].v[0];
        return ref[0] - best;
    }
    if (m == 2) {
        qsort(p, n, sizeof *p, cmp_lex);
        double area = 0, y = ref[1];
        for (size_t i = 0; i < n; i++)
            if (p[i].v[1] < y) {
                area += (ref[0] - p[i].v[0]) * (y - p[i].v[1]);
                y = p[i].v[1];
            }
        return area;
    }
    /* Worst last objective first: every later point q is no worse there,
     * so each limit point max(p_i, q) shares p_i's last objective and the
     * exclusive volume of p_i is its height times an (m-1)-D volume. */
    int last = m - 1;
    for (size_t i = 0; i < n; i++)
        p[i].key = p[i].v[last];
    qsort(p, n, sizeof *p, cmp_key_down);
    hv_pt *lim = n > 1 ? malloc((n - 1) * sizeof *lim) : NULL;
    if (n > 1 && !lim)
        return -1;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        double box = 1;
        for (int k = 0; k < last; k++)
            box *= ref[k] - p[i].v[k];
        size_t nl = 0;
        for (size_t j = i + 1; j < n; j++) {
            hv_pt q = {{0}, 0};
            for (int k = 0; k < last; k++)
                q.v[k] = p[j].v[k] > p[i].v[k] ? p[j].v[k] : p[i].v[k];
            lim[nl++] = q;
        }
        nl = nondominated(lim, nl, last);
        double covered = hv_rec(lim, nl, last, ref);
        if (covered < 0) {
            free(lim);
            return -1;
        }
        total += (ref[last] - p[i].v[last]) * (box - covered);
    }
    free(lim);
    return total;
}

double nc_hypervolume(const double *pts, size_t n, int m, const double *ref)
{
    if (m < 1 || m > NC_MAX_OBJECTIVES || (n > 0 && !pts) || !ref)
        return -1;
    for (int k = 0; k < m; k++)
        if (!isfinite(ref[k]))
            return -1;
    hv_pt *p = n ? malloc(n * sizeof *p) : NULL;
    if (n && !p)
        return -1;
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        hv_pt q = {{0}, 0};
        int inside = 1;
        for (int k = 0; k < m && inside; k++) {
            q.v[k] = pts[i * (size_t)m + k];
            inside = q.v[k] < ref[k];   /* false for NaN too */
        }
        if (inside)
            p[np++] = q;
    }
    if (m > 2)   /* the 2-D sweep skips dominated points itself */
        np = nondominated(p, np, m);
    double hv = hv_rec(p, np, m, ref);
    free(p);
    return hv;
}

int nc_rank_crowding(const nc_point *pts, size_t n, int m, int *rank,
                     double *crowding)
{
    int fronts = nc_nondominated_sort(pts, n, m, rank);
    size_t *members = fronts > 0 ? malloc(n * sizeof *members) : NULL;
    double *dist = fronts > 0 ? malloc(n * sizeof *dist) : NULL;
    if (fronts > 0 && (!members || !dist)) {
        free(members);
        free(dist);
        return -1;
    }
    for (int r = 0; r < fronts; r++) {
        size_t nm = 0;
        for (size_t i = 0; i < n; i++)
            if (rank[i] == r)
                members[nm++] = i;
        nc_crowding(pts, members, nm, m, dist);
        for (size_t k = 0; k < nm; k++)
            crowding[members[k]] = dist[k];
    }
    free(members);
    free(dist);
    return fronts;
}
