/* settings.c - the run loop's own sections: final_training (stage 2) and
 * search (the whole run's wall clock). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>

#include "nascaps/run.h"
#include "run/run_internal.h"

const nc_setting_spec nc_final_training_settings[] = {
    NC_SETTING_INT_MIN("epochs", 0, 0,
                   "epochs to retrain the final Pareto front (stage 2); 0: skip"),
    NC_SETTING_END};

const nc_setting_spec nc_run_section_settings[] = {
    NC_SETTING_INT("workers", 0, 0, 1024,
                   "local worker processes evaluating candidates (docs/SCALE.md); 0 or 1: "
                   "none, the run evaluates them itself"),
    NC_SETTING_END};

#define BUDGET(NAME, HELP)                                                               \
    {NAME, NC_SET_REAL, "-", HELP, NC_SETF_MIN | NC_SETF_MIN_OPEN | NC_SETF_NO_DEFAULT, 0, 0, \
     NULL, NULL}
const nc_setting_spec nc_constraints_settings[] = {
    BUDGET("energy_mJ", "energy budget of one inference, mJ"),
    BUDGET("latency_ms", "latency budget of one inference, ms"),
    BUDGET("memory_KiB", "weight-memory budget, KiB"),
    BUDGET("params", "parameter budget (the classification network)"),
    BUDGET("macs", "multiply-accumulate budget of one inference"),
    NC_SETTING_END};
#undef BUDGET

const nc_setting_spec nc_search_settings[] = {
    NC_SETTING_REAL_MIN("time_limit_h", 0, 0,
                        "wall-clock limit of the whole run, in hours; 0: none"),
    NC_SETTING_END};

int nc_run_settings_read(const nc_pipeline *p, nc_settings *s, nc_error *err)
{
    const nc_setting_spec *const fin[] = {nc_final_training_settings, NULL};
    const nc_setting_spec *const search[] = {nc_search_settings, NULL};
    const nc_setting_spec *const runs[] = {nc_run_section_settings, NULL};
    const nc_setting_spec *const budgets[] = {nc_constraints_settings, NULL};
    const nc_section *cs = nc_pipeline_section(p, "constraints");
    s->constraints.energy_mj = s->constraints.latency_ms = s->constraints.memory_kib = NAN;
    s->constraints.params = s->constraints.macs = NAN;
    if (nc_pipeline_check_keys(p, "constraints", budgets, NULL, err) ||
        nc_setting_real(cs, nc_constraints_settings, "energy_mJ", &s->constraints.energy_mj,
                        err) ||
        nc_setting_real(cs, nc_constraints_settings, "latency_ms", &s->constraints.latency_ms,
                        err) ||
        nc_setting_real(cs, nc_constraints_settings, "memory_KiB", &s->constraints.memory_kib,
                        err) ||
        nc_setting_real(cs, nc_constraints_settings, "params", &s->constraints.params, err) ||
        nc_setting_real(cs, nc_constraints_settings, "macs", &s->constraints.macs, err))
        return err->status;
    if (nc_pipeline_check_keys(p, "final_training", fin, NULL, err) ||
        nc_pipeline_check_keys(p, "search", search, NULL, err) ||
        nc_pipeline_check_keys(p, "run", runs, NULL, err) ||
        nc_setting_int32(nc_pipeline_section(p, "run"), nc_run_section_settings, "workers",
                         &s->run.workers, err) ||
        nc_setting_int32(nc_pipeline_section(p, "final_training"),
                         nc_final_training_settings, "epochs",
                         &s->final_training.epochs, err) ||
        nc_setting_real(nc_pipeline_section(p, "search"), nc_search_settings,
                        "time_limit_h", &s->search.time_limit_h, err))
        return err->status;
    return NC_OK;
}

double nc_run_budget_excess(const nc_settings *s, const nc_eval_rec *e, char *why, size_t size)
{
    const double have[5] = {e->energy_mj, e->latency_ms, e->memory_kib, (double)e->params,
                            (double)e->macs};
    const double budget[5] = {s->constraints.energy_mj, s->constraints.latency_ms,
                              s->constraints.memory_kib, s->constraints.params,
                              s->constraints.macs};
    static const char *const names[5] = {"energy_mJ", "latency_ms", "memory_KiB", "params",
                                         "macs"};
    double excess = 0;
    size_t used = 0;
    if (why && size)
        why[0] = '\0';
    for (int k = 0; k < 5; k++) {
        if (!isfinite(budget[k]) || !(have[k] > budget[k]))
            continue;
        excess += (have[k] - budget[k]) / budget[k];
        if (why && used < size) {
            int w = snprintf(why + used, size - used, "%s%s %.6g > %.6g",
                             used ? ", " : "over budget: constraints.", names[k], have[k],
                             budget[k]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return excess;
}
