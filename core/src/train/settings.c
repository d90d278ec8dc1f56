/* settings.c - the training section: its table (names, defaults, bounds,
 * help) and its one reader. The trainer's and the network's defaults are
 * read from this table too, so each default is written once. */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nascaps/train.h"
#include "train/train_internal.h"

static const char *const activations[] = {"relu", "none", NULL};
static const char *const prune_modes[] = {"none", "dominance", NULL};

const nc_setting_spec nc_training_settings[] = {
    NC_SETTING_INT_MIN("epochs", 5, 1, "epochs each candidate is trained in the search"),
    NC_SETTING_INT_MIN("batch_size", 100, 1, "images per training step"),
    NC_SETTING_REAL_ABOVE_MIN("learning_rate", 0.001, 0, "Adam's learning rate"),
    NC_SETTING_REAL_ABOVE("lr_decay", 0.9, 0, 1,
                          "learning rate factor applied after each epoch"),
    NC_SETTING_INT("routings", 3, 1, 10, "dynamic-routing iterations"),
    NC_SETTING_REAL_MIN("recon_weight", 0.392, 0,
                        "weight of the reconstruction loss; 0 drops the decoder"),
    NC_SETTING_REAL("shift_fraction", 0.1, 0, 0.5,
                    "random shift augmentation, as a fraction of the image size"),
    {"conv_activation", NC_SET_STRING, "-",
     "older spelling of layers.conv.activation (still read when that is unset)",
     NC_SETF_NO_DEFAULT, 0, 0, activations, NULL},
    NC_SETTING_INT_MIN("max_params", 20000000, 1,
                       "candidates with more parameters are refused"),
    NC_SETTING_INT_MIN("max_memory_mb", 8192, 1,
                       "candidates whose training buffers would exceed this are "
                       "refused (estimated before allocating)"),
    NC_SETTING_REAL_MIN("time_limit_s", 0, 0,
                        "wall-clock limit per candidate, in seconds; 0: none"),
    NC_SETTING_INT_MIN("threads", 0, 0,
                       "threads used for training; 0: auto (one thread for networks under "
                       "100 M MACs, all cores above; with workers, cores / workers)"),
    NC_SETTING_STRING("prune", "none", prune_modes,
                      "\"dominance\": a search stops training a candidate that cannot "
                      "reach the front (docs/SEARCH.md); \"none\""),
    NC_SETTING_REAL("prune_quantile", 1.0, 0, 1,
                    "rule (a): quantile of the gains from epoch e to the end seen on "
                    "fully trained candidates"),
    NC_SETTING_REAL("prune_margin", 0.02, 0, 1,
                    "rule (b): how far a no-costlier member must be ahead after the "
                    "same epoch"),
    NC_SETTING_INT("prune_min_history", 6, 1, 100000,
                   "fully trained candidates needed before anything is stopped"),
    NC_SETTING_INT("prune_min_epochs", 2, 1, 1000,
                   "no candidate is stopped before this many epochs"),
    NC_SETTING_END};

int nc_training_settings_read(const nc_pipeline *p, nc_settings *s,
                              nc_error *err)
{
    const nc_section *sec = nc_pipeline_section(p, "training");
    const nc_setting_spec *const tables[] = {nc_training_settings, NULL};
    const nc_setting_spec *T = nc_training_settings;
    const char *activation = NULL;
    if (nc_pipeline_check_keys(p, "training", tables, NULL, err) ||
        nc_setting_int32(sec, T, "epochs", &s->training.epochs, err) ||
        nc_setting_int32(sec, T, "batch_size", &s->training.batch_size, err) ||
        nc_setting_real(sec, T, "learning_rate", &s->training.learning_rate,
                        err) ||
        nc_setting_real(sec, T, "lr_decay", &s->training.lr_decay, err) ||
        nc_setting_int32(sec, T, "routings", &s->training.routings, err) ||
        nc_setting_real(sec, T, "recon_weight", &s->training.recon_weight, err) ||
        nc_setting_real(sec, T, "shift_fraction", &s->training.shift_fraction,
                        err) ||
        nc_setting_string(sec, T, "conv_activation", &activation, err) ||
        nc_setting_int(sec, T, "max_params", &s->training.max_params, err) ||
        nc_setting_int(sec, T, "max_memory_mb", &s->training.max_memory_mb,
                       err) ||
        nc_setting_real(sec, T, "time_limit_s", &s->training.time_limit_s,
                        err) ||
        nc_setting_int32(sec, T, "threads", &s->training.threads, err) ||
        nc_setting_choice(sec, T, "prune", &s->training.prune, err) ||
        nc_setting_real(sec, T, "prune_quantile", &s->training.prune_quantile, err) ||
        nc_setting_real(sec, T, "prune_margin", &s->training.prune_margin, err) ||
        nc_setting_int32(sec, T, "prune_min_history", &s->training.prune_min_history, err) ||
        nc_setting_int32(sec, T, "prune_min_epochs", &s->training.prune_min_epochs, err))
        return err->status;
    return NC_OK;
}

int nc_layer_settings_text(nc_registry *reg, const nc_pipeline *p, char *buf,
                           size_t size, nc_error *err)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int role = NC_ROLE_CONV; role <= NC_ROLE_FLATCAPS; role++) {
        const char *name = nc_layer_role_plugin((nc_layer_role)role);
        int seen = 0;
        for (int r = 0; r < role; r++)
            seen = seen || strcmp(nc_layer_role_plugin((nc_layer_role)r), name) == 0;
        if (seen)
            continue;
        const nc_plugin_info *info = NULL;
        const nc_section *sec = NULL;
        if (nc_registry_find(reg, NC_KIND_LAYER, name, NULL, &info, err) ||
            nc_plugin_layer_section(p, info, &sec, err))
            return err->status;
        for (const nc_setting_spec *e = info->settings; e && e->name; e++) {
            char value[256] = "?";
            int64_t i = 0;
            double d = 0;
            int b = 0;
            const char *s = NULL;
            int rc = NC_OK;
            switch (e->type) {
            case NC_SET_INT:
                if (!(rc = nc_setting_int(sec, info->settings, e->name, &i, err)))
                    snprintf(value, sizeof value, "%lld", (long long)i);
                break;
            case NC_SET_REAL:
                if (!(rc = nc_setting_real(sec, info->settings, e->name, &d, err)))
                    snprintf(value, sizeof value, "%.17g", d);
                break;
            case NC_SET_BOOL:
                if (!(rc = nc_setting_bool(sec, info->settings, e->name, &b, err)))
                    snprintf(value, sizeof value, "%s", b ? "true" : "false");
                break;
            case NC_SET_STRING:
                if (!(rc = nc_setting_string(sec, info->settings, e->name, &s, err)))
                    snprintf(value, sizeof value, "%s", s ? s : "");
                break;
            default:
                break;
            }
            if (rc)
                return rc;
            int w = snprintf(buf + o, size - o, "%s%s=%s", o ? " " : "", e->name, value);
            if (w < 0 || (size_t)w >= size - o)
                return nc_error_set(err, NC_ERR_INTERNAL, "layer settings text too long");
            o += (size_t)w;
        }
    }
    return NC_OK;
}

/* The table's defaults (an absent section reads them; they always parse:
 * test_pipeline checks every table's defaults). */
void nc_train_table_defaults(nc_settings *s)
{
    memset(s, 0, sizeof *s);
    nc_error err;
    (void)nc_training_settings_read(NULL, s, &err);
    (void)nc_core_seed(NULL, &s->seed, &err);
}
