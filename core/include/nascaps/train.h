/* nascaps/train.h - the training engine: a trainable network built from a
 * genotype through the layer plugins, its reconstruction decoder, the
 * trainer and weights files (docs/TRAINING.md).
 *
 *     nc_net_cfg cfg;
 *     nc_net_cfg_from_settings(&cfg, &settings);
 *     nc_train_opts opt;
 *     nc_train_opts_from_settings(&opt, &settings);
 *     nc_train_result res;
 *     nc_net *net = NULL;
 *     if (nc_train(reg, data, &g, "net.chr", &opt, &net, &res, &err)) ...
 *     printf("%.4f (%s)\n", res.test_accuracy, nc_train_status_name(res.status));
 *     nc_weights_save(net, "w.bin", &err);
 *     nc_net_free(net);
 *     nc_train_result_free(&res);
 *
 * Library code never prints: progress goes through a callback, failures
 * into an nc_error. Every buffer is allocated when the network is built;
 * a training step allocates nothing. */
#ifndef NASCAPS_TRAIN_H
#define NASCAPS_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "error.h"
#include "genotype.h"
#include "network.h"
#include "pipeline.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Network -------------------------------------------------------------- */

typedef struct nc_net nc_net;

/* How to build a network. */
typedef struct nc_net_cfg {
    int max_batch;          /* largest batch (training.batch_size) */
    int routings;           /* dynamic-routing iterations (<= 0: 3) */
    int conv_relu;          /* 1: ReLU after conv batch norm, 0: none */
    double recon_weight;    /* 0: no decoder */
    int64_t max_params;     /* params + decoder_params limit; 0: none */
    int64_t max_memory_mb;  /* estimated bytes limit in MiB; 0: none */
    uint64_t seed;          /* run seed; init from (seed, canonical genotype) */
    /* Where layer plugins find their sections `layers.NAME` (borrowed;
     * NULL: every layer setting at its default). */
    const nc_pipeline *pipeline;
} nc_net_cfg;

/* The paper's defaults (batch 100, 3 routings, relu, 0.392, 20 M
 * parameters, 8192 MiB, seed 1). */
void nc_net_cfg_defaults(nc_net_cfg *cfg);

/* The training section's table (docs/CONFIG.md) and its one reader, which
 * fills s->training. */
extern const nc_setting_spec nc_training_settings[];
int nc_training_settings_read(const nc_pipeline *p, nc_settings *s,
                              nc_error *err);

/* The effective settings of every layer plugin the roles use, as
 * "key=value" pairs in role order (conv's "activation=relu" first): part of
 * the run's cache key, so a changed layer setting never reuses a result. */
int nc_layer_settings_text(nc_registry *reg, const nc_pipeline *p, char *buf,
                           size_t size, nc_error *err);
void nc_net_cfg_from_settings(nc_net_cfg *cfg, const nc_settings *s);

/* Bytes a network needs for max_batch images, estimated before anything
 * is allocated. */
typedef struct nc_net_memory {
    int64_t layers;       /* sum of the layer plugins' train_bytes() */
    int64_t buffers;      /* per-layer outputs and output gradients, the
                             FlatCaps skip gradient, the input batch */
    int64_t decoder;      /* decoder parameters, gradients, activations */
    int64_t adam;         /* Adam's two moments per trainable parameter */
    int64_t workspace;    /* the shared scratch: the decoder's in the
                             estimate; after build the largest of all */
    int64_t total;
} nc_net_memory;

/* What a built network is. */
typedef struct nc_net_info {
    nc_shape input;          /* [S, S, C, 1] after resize */
    int classes, class_dim;  /* class capsules [n, classes, class_dim] */
    int n_layers;
    int max_batch;
    int has_decoder;
    int64_t params;          /* classification network (decoder excluded) */
    int64_t decoder_params;  /* 0 without decoder */
    int64_t macs;            /* forward MACs of one image (nc_network_analyze) */
    nc_net_memory memory;    /* with the real workspace */
    int64_t decoder_macs;    /* the decoder's forward MACs, one image */
} nc_net_info;

/* Validates g (origin names it in messages; data, when not NULL, is what
 * the dataset imposes), checks training.max_params and the memory
 * estimate, then creates every layer through its plugin, the decoder and
 * all buffers, initialised from nc_rng_derive(cfg->seed, canonical g).
 * A plugin without training entries is refused naming it; limits are
 * refused with the figures (NC_ERR_INPUT). */
int nc_net_build(nc_registry *reg, const nc_genotype *g, const char *origin,
                 const nc_data_shape *data, const nc_net_cfg *cfg,
                 nc_net **out, nc_error *err);
void nc_net_free(nc_net *net);

/* The estimate nc_net_build checks (layer workspaces are only known once
 * the layers exist: the build adds them and checks again). Also checks
 * that every layer plugin can train. */
int nc_net_memory_estimate(nc_registry *reg, const nc_genotype *g,
                           const char *origin, const nc_net_cfg *cfg,
                           nc_net_memory *out, nc_error *err);

const nc_net_info *nc_net_get_info(const nc_net *net);
/* Canonical genotype string of the network. */
const char *nc_net_genotype(const nc_net *net);

/* Losses of one batch. */
typedef struct nc_net_loss {
    double margin;   /* margin loss, batch mean */
    double recon;    /* recon_weight * MSE (0 without decoder) */
    double total;    /* margin + recon */
    int correct;     /* predictions (longest capsule) equal to the label */
} nc_net_loss;

/* Forward pass of n <= max_batch images [n, S, S, C]; training != 0 uses
 * batch statistics and keeps what backward needs. The class capsules
 * stay in nc_net_output(). */
int nc_net_forward(nc_net *net, int n, const float *images, int training,
                   nc_error *err);
/* [n, classes, class_dim] of the last forward pass. */
const float *nc_net_output(const nc_net *net);
/* Predicted classes (longest capsule) of the last forward pass. */
void nc_net_predict(const nc_net *net, int n, int32_t *pred);

/* Training-mode forward, loss (decoder masked by the true labels; raw
 * [n, S, S, C] is the decoder's [0,1] target, may be NULL without
 * decoder) and, when backward != 0, the backward pass: gradients
 * ACCUMULATE into the parameter gradients (nc_net_zero_grad first). */
int nc_net_loss_step(nc_net *net, int n, const float *images,
                     const float *raw, const int32_t *labels, int backward,
                     nc_net_loss *loss, nc_error *err);
void nc_net_zero_grad(nc_net *net);
/* One Adam step over every trainable tensor at learning rate lr. */
void nc_net_adam_step(nc_net *net, float lr);

/* Every tensor of the network, layers in gene order then the decoder. */
typedef struct nc_net_tensor {
    int layer;          /* 0-based gene index, -1 for the decoder */
    const char *name;   /* the layer's own name, e.g. "w", "dense.w" */
    float *value;
    float *grad;        /* NULL: state (saved, not trained) */
    size_t count;
} nc_net_tensor;
int nc_net_tensor_count(const nc_net *net);
/* i in [0, count); returns NC_OK or NC_ERR_INPUT past the end. */
int nc_net_tensor_at(const nc_net *net, int i, nc_net_tensor *out);

/* ---- Weights files (docs/TRAINING.md, "Weights file") --------------------- */

#define NC_WEIGHTS_MAGIC "NCWEIGHT"
#define NC_WEIGHTS_VERSION 1

int nc_weights_save(const nc_net *net, const char *path, nc_error *err);
/* Checks magic, version, truncation, checksum, the genotype (must be the
 * network's) and every tensor's name and count before changing anything;
 * each refusal is one line naming the file. */
int nc_weights_load(nc_net *net, const char *path, nc_error *err);
/* The same file's bytes in memory (*buf malloc'd) and the same checks on
 * bytes from elsewhere (what names them in messages): stage 2 moves a
 * checkpoint between a coordinator and its workers this way. */
int nc_weights_save_buffer(const nc_net *net, unsigned char **buf, size_t *len, nc_error *err);
int nc_weights_load_buffer(nc_net *net, const void *buf, size_t len, const char *what,
                           nc_error *err);

/* ---- Trainer -------------------------------------------------------------- */

typedef enum nc_train_status {
    NC_TRAIN_OK = 0,
    NC_TRAIN_TIME_LIMIT,   /* stopped by training.time_limit_s */
    NC_TRAIN_DIVERGED,     /* NaN or Inf in the loss */
    NC_TRAIN_REFUSED,      /* over max_params / max_memory_mb, or a layer
                              plugin that cannot train */
    NC_TRAIN_STOPPED,      /* opts.stop asked to stop (Ctrl-C): not a
                              result to keep, the training is to be redone */
    NC_TRAIN_PRUNED        /* opts.prune stopped it after an epoch: a result
                              (the accuracy after the epochs done) */
} nc_train_status;
/* "ok", "time_limit", "diverged", "refused", "stopped", "pruned". */
const char *nc_train_status_name(int status);

/* One epoch's figures. Accuracies are fractions; NaN when not measured
 * (validation without dataset.validation). */
typedef struct nc_epoch_result {
    int epoch;                 /* 1-based */
    int complete;              /* 0: cut by the time limit */
    int64_t images;            /* trained on in this epoch */
    double train_loss;         /* mean over the epoch's batches */
    double train_accuracy;     /* on the augmented training batches */
    double test_accuracy;
    double validation_accuracy;
    double seconds;            /* training only, evaluation excluded */
    double img_per_s;          /* training images per second */
    double learning_rate;
} nc_epoch_result;

typedef enum nc_train_phase {
    NC_PHASE_BATCH = 0,   /* a training batch finished */
    NC_PHASE_EVAL,        /* an evaluation finished (epoch result set) */
} nc_train_phase;

typedef struct nc_train_progress {
    int phase;                       /* an nc_train_phase */
    int epoch, epochs;               /* 1-based epoch */
    int64_t batch, batches;          /* 1-based batch in the epoch */
    double loss;                     /* this batch's total loss */
    double img_per_s;                /* over the epoch so far */
    double eta_s;                    /* training left, estimated */
    const nc_epoch_result *result;   /* NC_PHASE_EVAL only */
} nc_train_progress;

typedef struct nc_train_opts {
    int epochs;
    double learning_rate, lr_decay;   /* lr * lr_decay^epoch (0-based) */
    double shift_fraction;
    double time_limit_s;              /* 0: none */
    int threads;                      /* OpenBLAS threads; 0: auto by size */
    nc_net_cfg net;
    /* Progress (may be NULL): after every batch and every evaluation. */
    void (*progress)(const nc_train_progress *p, void *user);
    void *user;
    /* Polled before every batch (may be NULL): non-zero stops the
     * training with status NC_TRAIN_STOPPED (the search's Ctrl-C). */
    int (*stop)(void *user);
    /* Appended with parallel evaluation: the cores this training may use
     * when threads is 0 (a worker's share of its node); 0: all cores. */
    int max_threads;
    /* Asked after every complete epoch but the last (may be NULL):
     * non-zero stops the training there with status NC_TRAIN_PRUNED and
     * the reason the hook wrote (the search's early stopping of
     * candidates that cannot reach the front, docs/SEARCH.md). */
    int (*prune)(const nc_epoch_result *r, char *reason, size_t size, void *user);
} nc_train_opts;

typedef struct nc_train_result {
    int status;                 /* an nc_train_status */
    char reason[NC_ERROR_MAX];  /* why, when status != ok */
    int epochs_planned, epochs_done;   /* epochs_done counts complete ones */
    int n_epochs;               /* entries of epochs (incl. a cut one) */
    nc_epoch_result *epochs;    /* malloc'd; nc_train_result_free */
    double test_accuracy;       /* after the last epoch run; NaN if none */
    double validation_accuracy; /* NaN without validation split */
    double train_seconds;       /* training only */
    double train_img_per_s;
    int64_t params, decoder_params, macs;
    nc_net_memory memory;
} nc_train_result;

/* Defaults of DESIGN.md section 9. */
void nc_train_opts_defaults(nc_train_opts *opt);
void nc_train_opts_from_settings(nc_train_opts *opt, const nc_settings *s);

/* Trains g on data (its resize is set to g's) and evaluates after every
 * epoch. Returns NC_OK when a result was produced, whatever its status
 * (refused, diverged and time_limit are results); an error status for
 * input that cannot be trained at all (genotype not fitting the dataset,
 * bad options) or internal failures. net_out (may be NULL) receives the
 * trained network (caller frees) when status is ok or time_limit. */
int nc_train(nc_registry *reg, nc_data *data, const nc_genotype *g,
             const char *origin, const nc_train_opts *opt, nc_net **net_out,
             nc_train_result *res, nc_error *err);
void nc_train_result_free(nc_train_result *res);

/* Accuracy of net on a split of data (eval mode, batches of the net's
 * max_batch). *images gets how many were scored. */
int nc_net_evaluate(nc_net *net, nc_data *data, int split, double *accuracy,
                    int64_t *images, nc_error *err);

/* Adam's state, for checkpoints that continue a training exactly (the
 * search's stage 2): the network's 2 * *count moments (every trainable
 * tensor's first moments, then the second moments, in tensor order) and
 * its step counter, both writable. */
float *nc_net_adam_state(nc_net *net, size_t *count, int64_t **step);

/* What a genotype must be to fit data: {native size, channels, classes};
 * refuses non-square images. */
int nc_data_shape_of(const nc_data *data, nc_data_shape *shape,
                     nc_error *err);

#ifdef __cplusplus
}
#endif
#endif
