/* bench_prune.c - replays the early-stopping rules (nascaps/prune.h) on a
 * finished run trained WITHOUT pruning: for every generation, the plans
 * are made from what was committed before it (the population it started
 * from, the fully trained candidates' curves; read here with the bench's own
 * queries) and made by the run loop's nc_prune_plan_make, and each candidate's stored per-epoch accuracies are checked
 * against its plan. Prints, per rule setting, how many candidates would
 * stop, the training seconds saved (the epochs not trained), and the wrong
 * stops: stopped candidates that are on the unpruned run's final front.
 *
 *   bench_prune RUN_DIR [quantile margin min_history min_epochs]...
 *   bench_prune --retrain RUN_DIR PIPELINE [KEY=VALUE]...
 *
 * --retrain counts the wrong stops of a run that DID prune: every pruned
 * candidate is trained to the end with the run's settings (the pipeline
 * and overrides it ran with, pruning off) and checked against the run's
 * final front (pareto.csv): a wrong stop is one that would have been
 * non-dominated there.
 *
 * Without settings, a grid of them. The accuracy is the search's
 * (validation split when the run had one). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "nascaps/prune.h"
#include "nascaps/session.h"
#include "nascaps/train.h"

#define MAX_EVALS 20000
#define MAX_E NC_PRUNE_MAX_EPOCHS

typedef struct ev {
    long long id;
    int gen;                  /* ask index */
    char gid[13];
    double cost[3];
    int epochs_done, ok;
    double acc[MAX_E];        /* search accuracy after epoch e */
    double sec[MAX_E];        /* training seconds of epoch e */
    int n_acc;
    int on_front;
} ev;

static ev evs[MAX_EVALS];
static int n_evs, E;

static ev *by_id(long long id)
{
    for (int i = 0; i < n_evs; i++)
        if (evs[i].id == id)
            return &evs[i];
    return NULL;
}

static int load(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "file:%s/results.db?mode=ro", dir);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_prune: %s: %s\n", path, sqlite3_errmsg(db));
        return 1;
    }
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "SELECT id, generation, gid, energy_mj, latency_ms, memory_kib,"
                           " epochs_done, status FROM evaluations WHERE generation < 1000000000"
                           " ORDER BY id", -1, &s, NULL);
    while (sqlite3_step(s) == SQLITE_ROW && n_evs < MAX_EVALS) {
        ev *e = &evs[n_evs++];
        memset(e, 0, sizeof *e);
        e->id = sqlite3_column_int64(s, 0);
        e->gen = sqlite3_column_int(s, 1);
        snprintf(e->gid, sizeof e->gid, "%s", (const char *)sqlite3_column_text(s, 2));
        for (int k = 0; k < 3; k++)
            e->cost[k] = sqlite3_column_double(s, 3 + k);
        e->epochs_done = sqlite3_column_int(s, 6);
        e->ok = strcmp((const char *)sqlite3_column_text(s, 7), "ok") == 0;
        /* a pruned candidate's curve is partial: not "fully trained" */
    }
    sqlite3_finalize(s);
    sqlite3_prepare_v2(db, "SELECT eval_id, epoch, validation_accuracy, test_accuracy, seconds"
                           " FROM epochs ORDER BY eval_id, epoch", -1, &s, NULL);
    while (sqlite3_step(s) == SQLITE_ROW) {
        ev *e = by_id(sqlite3_column_int64(s, 0));
        int ep = sqlite3_column_int(s, 1);
        if (!e || ep < 1 || ep > MAX_E)
            continue;
        double v = sqlite3_column_type(s, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 2);
        e->acc[ep - 1] = isfinite(v) ? v : sqlite3_column_double(s, 3);
        e->sec[ep - 1] = sqlite3_column_double(s, 4);
        if (ep > e->n_acc)
            e->n_acc = ep;
        if (ep > E)
            E = ep;
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    snprintf(path, sizeof path, "%s/pareto.csv", dir);
    FILE *f = fopen(path, "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        for (int i = 0; i < n_evs; i++)
            if (strncmp(line, evs[i].gid, 12) == 0)
                evs[i].on_front = 1;
    if (f)
        fclose(f);
    return 0;
}

/* The population the generation with ask index g started from: the
 * population table's row for tells == g. */
static int population(const char *dir, int g, long long *ids, int cap)
{
    char path[4200];
    snprintf(path, sizeof path, "file:%s/results.db?mode=ro", dir);
    sqlite3 *db;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    sqlite3_stmt *s;
    int n = 0;
    if (sqlite3_prepare_v2(db, "SELECT eval_id FROM population WHERE generation = ?1", -1, &s,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int(s, 1, g);
        while (sqlite3_step(s) == SQLITE_ROW && n < cap)
            ids[n++] = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

static void replay(const char *dir, const nc_prune_cfg *cfg)
{
    int stopped = 0, wrong = 0, trained = 0;
    double all_sec = 0, saved = 0;
    int max_gen = 0;
    for (int i = 0; i < n_evs; i++)
        if (evs[i].gen > max_gen)
            max_gen = evs[i].gen;
    static double gains[MAX_E][MAX_EVALS];
    for (int g = 0; g <= max_gen; g++) {
        /* history: fully trained candidates of earlier generations */
        nc_prune_history h;
        memset(&h, 0, sizeof h);
        h.epochs = E;
        for (int i = 0; i < n_evs; i++) {
            const ev *e = &evs[i];
            if (e->gen >= g || !e->ok || e->epochs_done != E || e->n_acc != E)
                continue;
            for (int k = 1; k < E; k++)
                gains[k - 1][h.n_gains[k - 1]++] = e->acc[E - 1] - e->acc[k - 1];
        }
        for (int k = 1; k < E; k++)
            h.gains[k - 1] = gains[k - 1];
        long long ids[512];
        int np = g > 0 ? population(dir, g, ids, 512) : 0;
        nc_prune_ref pop[512];
        int n_pop = 0;
        for (int j = 0; j < np; j++) {
            const ev *m = by_id(ids[j]);
            if (!m)
                continue;
            nc_prune_ref *r = &pop[n_pop++];
            memset(r, 0, sizeof *r);
            snprintf(r->id, sizeof r->id, "%s", m->gid);
            memcpy(r->cost, m->cost, sizeof m->cost);
            r->final_acc = m->ok && m->epochs_done == E ? m->acc[E - 1] : NAN;
            r->acc = m->acc;
            r->n_acc = m->n_acc;
        }
        for (int i = 0; i < n_evs; i++) {
            const ev *e = &evs[i];
            if (e->gen != g || e->n_acc == 0)
                continue;
            trained++;
            double sec = 0;
            for (int k = 0; k < e->n_acc; k++)
                sec += e->sec[k];
            all_sec += sec;
            nc_prune_plan plan;
            nc_prune_plan_make(cfg, e->cost, 3, pop, n_pop, &h, &plan);
            char why[512];
            for (int k = 1; k < e->n_acc; k++)
                if (nc_prune_check(&plan, k, e->acc[k - 1], why, sizeof why)) {
                    stopped++;
                    for (int r = k; r < e->n_acc; r++)
                        saved += e->sec[r];
                    if (e->on_front) {
                        wrong++;
                        printf("#   wrong stop: %s (%s)\n", e->gid, why);
                    }
                    break;
                }
        }
    }
    printf("prune_q%.2f_m%.3f_h%d_e%d trained %d stopped %d saved_s %.1f of %.1f "
           "(%.1f %%) wrong_stops %d\n",
           cfg->quantile, cfg->margin, cfg->min_history, cfg->min_epochs, trained, stopped,
           saved, all_sec, all_sec > 0 ? 100 * saved / all_sec : 0, wrong);
}

/* The front of pareto.csv: accuracy and the three costs per row. */
static int read_front(const char *dir, double (*f)[4], int cap)
{
    char path[4200], line[8192];
    snprintf(path, sizeof path, "%s/pareto.csv", dir);
    FILE *in = fopen(path, "r");
    int n = 0;
    if (!in)
        return 0;
    if (!fgets(line, sizeof line, in)) {
        fclose(in);
        return 0;
    }
    while (n < cap && fgets(line, sizeof line, in)) {
        char *q = strchr(line, ',');
        for (int k = 0; q && k < 4; k++) {
            f[n][k] = strtod(q + 1, NULL);
            q = strchr(q + 1, ',');
        }
        n++;
    }
    fclose(in);
    return n;
}

static int retrain(int argc, char **argv)
{
    const char *dir = argv[2], *pipeline = argv[3];
    const char *sets[64];
    int n_sets = 0;
    for (int a = 4; a < argc && n_sets < 62; a++)
        sets[n_sets++] = argv[a];
    sets[n_sets++] = "training.prune=\"none\"";
    nc_session *s;
    nc_error err;
    nc_data *data = NULL;
    if (nc_session_open(pipeline, sets, (size_t)n_sets, &s, &err) ||
        nc_data_open(s->registry, s->pipeline, &data, &err)) {
        fprintf(stderr, "bench_prune: %s\n", err.msg);
        return 1;
    }
    double front[256][4];
    int nf = read_front(dir, front, 256);
    nc_train_opts opt;
    nc_train_opts_from_settings(&opt, &s->settings);
    int pruned = 0, wrong = 0;
    for (int i = 0; i < n_evs; i++) {
        const ev *e = &evs[i];
        if (e->ok || e->n_acc >= E)
            continue;   /* only the stopped ones */
        char path[4200], text[8192];
        snprintf(path, sizeof path, "file:%s/results.db?mode=ro", dir);
        sqlite3 *db;
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        sqlite3_stmt *q;
        sqlite3_prepare_v2(db, "SELECT genotype, status FROM evaluations WHERE id = ?1", -1, &q,
                           NULL);
        sqlite3_bind_int64(q, 1, e->id);
        int is_pruned = sqlite3_step(q) == SQLITE_ROW &&
                        !strcmp((const char *)sqlite3_column_text(q, 1), "pruned");
        snprintf(text, sizeof text, "%s", is_pruned ? (const char *)sqlite3_column_text(q, 0) : "");
        sqlite3_finalize(q);
        sqlite3_close(db);
        if (!is_pruned)
            continue;
        nc_genotype g;
        nc_train_result res;
        if (nc_genotype_parse(text, e->gid, &g, &err) ||
            nc_train(s->registry, data, &g, e->gid, &opt, NULL, &res, &err)) {
            fprintf(stderr, "bench_prune: %s\n", err.msg);
            continue;
        }
        double acc = isfinite(res.validation_accuracy) ? res.validation_accuracy
                                                       : res.test_accuracy;
        nc_train_result_free(&res);
        int dominated = 0;
        for (int k = 0; k < nf && !dominated; k++) {
            int no_worse = front[k][0] >= acc && front[k][1] <= e->cost[0] &&
                           front[k][2] <= e->cost[1] && front[k][3] <= e->cost[2];
            int better = front[k][0] > acc || front[k][1] < e->cost[0] ||
                         front[k][2] < e->cost[1] || front[k][3] < e->cost[2];
            dominated = no_worse && better;
        }
        pruned++;
        wrong += !dominated;
        printf("# %s stopped at %.4f after %d epochs; trained to the end %.4f: %s\n", e->gid,
               e->acc[e->n_acc - 1], e->n_acc, acc,
               dominated ? "dominated by the front (right stop)" : "WOULD BE ON THE FRONT");
    }
    printf("retrained_pruned %d wrong_stops %d\n", pruned, wrong);
    nc_data_close(data);
    nc_session_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "--retrain")) {
        if (load(argv[2]))
            return 1;
        return retrain(argc, argv);
    }
    if (argc < 2) {
        fprintf(stderr, "usage: bench_prune RUN_DIR [quantile margin min_history min_epochs]...\n");
        return 2;
    }
    if (load(argv[1]))
        return 1;
    printf("# %s: %d evaluations, %d epochs each\n", argv[1], n_evs, E);
    if (argc >= 6) {
        for (int a = 2; a + 3 < argc; a += 4) {
            nc_prune_cfg cfg = {1, atof(argv[a]), atoi(argv[a + 2]), atof(argv[a + 1]),
                                atoi(argv[a + 3])};
            replay(argv[1], &cfg);
        }
        return 0;
    }
    const double qs[] = {0.75, 0.9, 1.0}, ms[] = {0.0, 0.02, 0.05};
    const int hs[] = {3, 6}, es[] = {1, 2};
    for (size_t a = 0; a < 3; a++)
        for (size_t b = 0; b < 3; b++)
            for (size_t c = 0; c < 2; c++)
                for (size_t d = 0; d < 2; d++) {
                    nc_prune_cfg cfg = {1, qs[a], hs[c], ms[b], es[d]};
                    replay(argv[1], &cfg);
                }
    return 0;
}
