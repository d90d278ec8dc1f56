/* settings.c - the run loop's own sections: final_training (stage 2) and
 * search (the whole run's wall clock). */
#include <float.h>
#include <stdint.h>

#include "nascaps/run.h"

const nc_setting_spec nc_final_training_settings[] = {
    NC_SETTING_INT_MIN("epochs", 0, 0,
                   "epochs to retrain the final Pareto front (stage 2); 0: skip"),
    NC_SETTING_END};

const nc_setting_spec nc_run_section_settings[] = {
    NC_SETTING_INT("workers", 0, 0, 1024,
                   "local worker processes evaluating candidates (docs/SCALE.md); 0 or 1: "
                   "none, the run evaluates them itself"),
    NC_SETTING_END};

const nc_setting_spec nc_search_settings[] = {
    NC_SETTING_REAL_MIN("time_limit_h", 0, 0,
                        "wall-clock limit of the whole run, in hours; 0: none"),
    NC_SETTING_END};

int nc_run_settings_read(const nc_pipeline *p, nc_settings *s, nc_error *err)
{
    const nc_setting_spec *const fin[] = {nc_final_training_settings, NULL};
    const nc_setting_spec *const search[] = {nc_search_settings, NULL};
    const nc_setting_spec *const runs[] = {nc_run_section_settings, NULL};
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
