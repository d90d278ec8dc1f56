/* cmd_train.c - `nascaps train`: train one genotype on the pipeline's
 * dataset, print per-epoch figures, optionally save the weights. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_adapt.h"
#include "cli_train.h"
#include "nascaps/train.h"

/* What the progress callback needs. */
typedef struct progress_state {
    int quiet, tty, line_open;
    double last_print;
} progress_state;

double nc_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Accuracy as text: "0.9512", or "-" when not measured. */
static const char *acc_text(double a, char *buf, size_t size)
{
    if (isfinite(a))
        snprintf(buf, size, "%.4f", a);
    else
        snprintf(buf, size, "-");
    return buf;
}

static void on_progress(const nc_train_progress *p, void *user)
{
    progress_state *st = user;
    if (p->phase == NC_PHASE_EVAL) {
        if (st->line_open) {
            fputs("\r\033[K", stderr);
            st->line_open = 0;
        }
        const nc_epoch_result *e = p->result;
        char ta[16], va[16], tr[16];
        printf("epoch %d/%d: loss %.4f, train accuracy %s, test accuracy %s", e->epoch,
               p->epochs, e->train_loss, acc_text(e->train_accuracy, tr, sizeof tr),
               acc_text(e->test_accuracy, ta, sizeof ta));
        if (isfinite(e->validation_accuracy))
            printf(", validation accuracy %s", acc_text(e->validation_accuracy, va, sizeof va));
        printf(", %.1f s (%.0f img/s)%s\n", e->seconds, e->img_per_s,
               e->complete ? "" : ", cut by the time limit");
        fflush(stdout);
        return;
    }
    if (st->quiet)
        return;
    double now = nc_cli_now();
    /* a live line at most 5 times a second; plain lines every 10 s */
    double every = st->tty ? 0.2 : 10.0;
    if (now - st->last_print < every && p->batch != p->batches)
        return;
    if (!st->tty && p->batch == p->batches)
        return;
    st->last_print = now;
    char eta[32];
    nc_cli_duration(p->eta_s, eta, sizeof eta);
    fprintf(stderr, "%sepoch %d/%d batch %" PRId64 "/%" PRId64 " loss %.4f %.0f img/s ETA %s%s",
            st->tty ? "\r\033[K" : "", p->epoch, p->epochs, p->batch, p->batches, p->loss,
            p->img_per_s, eta, st->tty ? "" : "\n");
    st->line_open = st->tty;
    fflush(stderr);
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *result_json(const char *path, const char *canonical, const nc_train_result *r,
                           const char *saved)
{
    json_t *epochs = json_array();
    for (int i = 0; i < r->n_epochs; i++) {
        const nc_epoch_result *e = &r->epochs[i];
        json_t *o = json_pack("{s:i, s:b, s:I, s:o, s:o, s:o, s:o, s:f, s:f, s:f}", "epoch",
                              e->epoch, "complete", e->complete, "images", (json_int_t)e->images,
                              "train_loss", num_or_null(e->train_loss), "train_accuracy",
                              num_or_null(e->train_accuracy), "test_accuracy",
                              num_or_null(e->test_accuracy), "validation_accuracy",
                              num_or_null(e->validation_accuracy), "seconds", e->seconds,
                              "img_per_s", e->img_per_s, "learning_rate", e->learning_rate);
        json_array_append_new(epochs, o);
    }
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:o, s:o, s:o, s:i, s:I, s:I, s:I, s:f, s:f, s:f}", "genotype", path,
        "canonical", canonical, "status", nc_train_status_name(r->status), "test_accuracy",
        num_or_null(r->test_accuracy), "validation_accuracy", num_or_null(r->validation_accuracy),
        "epochs", epochs, "epochs_done", r->epochs_done, "params", (json_int_t)r->params,
        "decoder_params", (json_int_t)r->decoder_params, "macs", (json_int_t)r->macs,
        "train_seconds", r->train_seconds, "train_img_per_s", r->train_img_per_s, "memory_mb",
        (double)r->memory.total / (1024.0 * 1024.0));
    if (root) {
        json_object_set_new(root, "reason", r->reason[0] ? json_string(r->reason) : json_null());
        json_object_set_new(root, "weights", saved ? json_string(saved) : json_null());
    }
    return root;
}

/* --epochs N becomes the last override, so it wins over --set. */
static int add_epochs(nc_cli_options *opt, const char *value, char *buf, size_t size)
{
    char *end;
    long v = strtol(value, &end, 10);
    if (!*value || *end || v < 1 || v > 1000000)
        return nc_cli_usage("train", "--epochs takes an integer >= 1, got '%s'", value);
    snprintf(buf, size, "training.epochs=%ld", v);
    const char **grown = realloc(opt->sets, (opt->n_sets + 1) * sizeof *grown);
    if (!grown) {
        nc_cli_error("out of memory");
        return NC_ERR_INTERNAL;
    }
    opt->sets = grown;
    opt->sets[opt->n_sets++] = buf;
    return NC_OK;
}

/* Takes "--NAME VALUE" or "--NAME=VALUE" at argv[*i]; 1 when taken. */
int nc_cli_take_value(const char *cmd, const char *name, int argc, char **argv, int *i,
                      const char **value, int *rc)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        return 0;
    if (*value) {
        *rc = nc_cli_usage(cmd, "%s given twice", name);
        return 1;
    }
    if (a[n] == '=')
        *value = a + n + 1;
    else if (*i + 1 < argc)
        *value = argv[++*i];
    else
        *rc = nc_cli_usage(cmd, "option %s needs a value", name);
    if (*value && !**value)
        *rc = nc_cli_usage(cmd, "option %s needs a value", name);
    return 1;
}

static int run(int argc, char **argv)
{
    nc_cli_options opt = {0};
    const char *file = NULL, *epochs = NULL, *save = NULL;
    char epochs_buf[48];
    int rc = NC_OK, adapt = 0;
    for (int i = 1; i < argc && rc == NC_OK; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == '\0') {
            if (file)
                rc = nc_cli_usage("train", "one genotype file at a time ('%s' and '%s')", file, a);
            file = a;
            continue;
        }
        int taken = nc_cli_take_option("train", argc, argv, &i, &opt);
        if (taken < 0)
            rc = NC_ERR_USAGE;
        else if (!taken && strcmp(a, "--adapt") == 0)
            adapt = 1;
        else if (!taken && !nc_cli_take_value("train", "--epochs", argc, argv, &i, &epochs, &rc) &&
                 !nc_cli_take_value("train", "--save", argc, argv, &i, &save, &rc))
            rc = nc_cli_usage("train", "unknown option '%s'", a);
    }
    if (rc == NC_OK && !file)
        rc = nc_cli_usage("train", "no genotype file given");
    if (rc == NC_OK && epochs)
        rc = add_epochs(&opt, epochs, epochs_buf, sizeof epochs_buf);
    if (rc) {
        nc_cli_options_free(&opt);
        return rc;
    }

    nc_pipeline *pipeline;
    nc_settings settings;
    nc_registry *reg;
    opt.check = 1;   /* what `nascaps validate` checks, in the same calls */
    if ((rc = nc_cli_open(&opt, &pipeline, &settings, &reg))) {
        nc_cli_options_free(&opt);
        return rc;
    }
    nc_error err;
    nc_error_clear(&err);
    nc_genotype g;
    nc_data *data = NULL;
    nc_net *net = NULL;
    nc_train_result res;
    memset(&res, 0, sizeof res);
    if ((rc = nc_genotype_load(file, &g, &err)) || (rc = nc_data_open(reg, pipeline, &data, &err))) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    nc_data_shape shape;
    if ((rc = nc_data_shape_of(data, &shape, &err))) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    nc_genotype_changes changes;
    if ((rc = adapt ? nc_cli_adapt_genotype(file, &g, &shape, opt.quiet, stderr, &changes)
                    : nc_cli_check_fit(file, &g, &shape)))
        goto out;
    nc_train_opts topt;
    nc_train_opts_from_settings(&topt, &settings);
    progress_state st = {opt.quiet, isatty(STDERR_FILENO), 0, -1e30};
    topt.progress = on_progress;
    topt.user = &st;
    if ((rc = nc_train(reg, data, &g, file, &topt, save ? &net : NULL, &res, &err))) {
        rc = nc_cli_fail(&err);
        goto out;
    }
    if (st.line_open)
        fputs("\r\033[K", stderr);
    const char *saved = NULL;
    if (res.status == NC_TRAIN_REFUSED || res.status == NC_TRAIN_DIVERGED) {
        if (res.status == NC_TRAIN_REFUSED)
            nc_cli_error("refused: %s", res.reason);   /* the reason names the file */
        else
            nc_cli_error("%s: training diverged: %s", file, res.reason);
        rc = NC_ERR_INPUT;
    } else {
        if (res.status == NC_TRAIN_TIME_LIMIT)
            nc_cli_error("%s: %s", file, res.reason);
        if (save && net) {
            if (nc_weights_save(net, save, &err))
                rc = nc_cli_fail(&err);
            else
                saved = save;
        }
    }
    char acc[16];
    printf("%s: test accuracy %s after %d epoch%s (status %s): params %" PRId64
           " + decoder %" PRId64 ", %" PRId64 " MACs, %.1f s training (%.0f img/s)%s%s\n",
           file, acc_text(res.test_accuracy, acc, sizeof acc), res.epochs_done,
           res.epochs_done == 1 ? "" : "s", nc_train_status_name(res.status), res.params,
           res.decoder_params, res.macs, res.train_seconds, res.train_img_per_s,
           saved ? ", weights saved to " : "", saved ? saved : "");
    if (opt.json) {
        char canonical[NC_GENOTYPE_STRING_MAX];
        nc_genotype_to_string(&g, canonical, sizeof canonical);
        int jrc = nc_cli_print_json(result_json(file, canonical, &res, saved));
        if (rc == NC_OK)
            rc = jrc;
    }
    if (fflush(stdout) != 0 && rc == NC_OK) {
        nc_cli_error("cannot write the output");
        rc = NC_ERR_INTERNAL;
    }
out:
    nc_train_result_free(&res);
    nc_net_free(net);
    nc_data_close(data);
    nc_registry_free(reg);
    nc_settings_free(&settings);
    nc_pipeline_free(pipeline);
    nc_cli_options_free(&opt);
    return rc;
}

const nc_cli_command nc_cli_train = {
    .name = "train",
    .synopsis = "train [-c PIPELINE] [--epochs N] [--set KEY=VALUE]... [--adapt] [--save W.bin] "
                "[--json] [--quiet] FILE.chr",
    .summary = "train one genotype on the pipeline's dataset and report its accuracy",
    .help =
        "Builds the network of FILE.chr through the layer plugins (with the\n"
        "reconstruction decoder unless training.recon_weight = 0), trains it on\n"
        "the pipeline's dataset (default: the idx plugin on Debian's\n"
        "Fashion-MNIST) with the training.* settings, and evaluates it on the\n"
        "test split (and the validation split when dataset.validation > 0)\n"
        "after every epoch. Prints one line per epoch (loss, accuracies,\n"
        "seconds, images/s) and a summary line on stdout; progress (epoch,\n"
        "batch, loss, images/s, ETA) on stderr.\n"
        "\n"
        "The genotype must fit the dataset: first gene insize = image size x\n"
        "resize, inch x incaps = channels, last gene outch = classes. With\n"
        "--adapt a genotype made for another dataset is re-derived for this\n"
        "one first (as `nascaps adapt`; the changes are listed on stderr).\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE   pipeline file (default: built-in settings)\n"
        "  --set KEY=VALUE     override a setting, e.g. --set training.batch_size=50\n"
        "  --epochs N          training.epochs (wins over --set)\n"
        "  --adapt             re-derive the genotype for the dataset: gene 1's\n"
        "                      insize and channels, the class count, the size\n"
        "                      chain (docs/GENOTYPE.md, \"Adapting\")\n"
        "  --save W.bin        save the trained weights (docs/TRAINING.md)\n"
        "  --json              also print one JSON object on the last line of stdout:\n"
        "                      status, test_accuracy, validation_accuracy, epochs\n"
        "                      (per-epoch list), params, decoder_params, macs,\n"
        "                      train_seconds, train_img_per_s, ...\n"
        "  --quiet, -q         no progress (nor --adapt's changes) on stderr\n"
        "\n"
        "Status: ok; time_limit (training.time_limit_s reached: stopped between\n"
        "batches, scored as it was; exit 0); diverged (NaN/Inf loss) and\n"
        "refused (over training.max_params or training.max_memory_mb, or a\n"
        "layer plugin that cannot train) exit 1 after the summary.\n",
    .run = run,
};
