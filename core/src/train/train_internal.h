/* train_internal.h - pieces of the training engine shared by the files of
 * core/src/train (not installed). */
#ifndef NC_TRAIN_INTERNAL_H
#define NC_TRAIN_INTERNAL_H

#include "nascaps/pipeline.h"
#include <stddef.h>
#include <stdint.h>

#include "nascaps/error.h"
#include "nascaps/layer.h"
#include "nascaps/rng.h"

/* ---- Threads (docs/TRAINING.md, "Threads") ------------------------------- */

/* training.threads = 0 (auto): networks under this many forward MACs per
 * image train fastest on one OpenBLAS thread (the GEMMs are too small to
 * split; measured with bench/scale.sh threads), larger ones on every core. */
#define NC_TRAIN_ONE_THREAD_MACS 100000000LL

/* The threads a training uses: threads when > 0, else by the network's
 * forward MACs per image on a machine of `cores` cores. */
int nc_train_auto_threads(int threads, int64_t macs, int cores);
/* The threads a training with opt uses for a network of macs forward
 * MACs: opt->threads, else the automatic choice bounded by
 * opt->max_threads (0: the machine's cores). */
struct nc_train_opts;
int nc_train_threads_of(const struct nc_train_opts *opt, int64_t macs);

/* ---- The reconstruction decoder (docs/TRAINING.md, "Decoder") ------------ */

typedef struct nc_decoder nc_decoder;

/* Sizes of a decoder for max_batch images, known before allocating. */
typedef struct nc_decoder_plan {
    int classes, dim, size, channels, m, max_batch;
    int64_t params;           /* trainable parameters */
    int64_t macs;             /* forward multiply-accumulates, one image */
    int64_t bytes;            /* parameters, gradients, state, activations */
    size_t workspace;         /* scratch bytes for forward/backward */
} nc_decoder_plan;

int nc_decoder_plan_make(int classes, int dim, int size, int channels,
                         int max_batch, nc_decoder_plan *plan, nc_error *err);
int nc_decoder_create(const nc_decoder_plan *plan, nc_rng *rng,
                      nc_decoder **out, nc_error *err);
void nc_decoder_free(nc_decoder *dec);

/* Reconstructs from the class capsules v [n, classes, dim] masked by
 * mask[n] (the true label in training, the longest capsule otherwise);
 * training != 0 uses batch statistics. The [n, S, S, C] prediction stays
 * in the decoder (nc_decoder_output). */
int nc_decoder_forward(nc_decoder *dec, int n, const float *v,
                       const int32_t *mask, int training, void *ws,
                       size_t ws_bytes, nc_error *err);
const float *nc_decoder_output(const nc_decoder *dec);
/* After a forward pass: *loss = weight * MSE(prediction, raw) and, when
 * dv is not NULL, the gradient through the decoder ADDED into dv
 * [n, classes, dim] (only at the masked capsules); parameter gradients
 * accumulate. */
int nc_decoder_backward(nc_decoder *dec, int n, const float *raw,
                        float weight, double *loss, float *dv, void *ws,
                        size_t ws_bytes, nc_error *err);
/* Tensors as a layer's tensors() does: writes at most cap, returns all. */
int nc_decoder_tensors(nc_decoder *dec, nc_tensor_ref *list, int cap);

/* ---- Monotonic clock ------------------------------------------------------- */
double nc_train_now(void);

/* Every training setting and the seed at their tables' defaults. */
void nc_train_table_defaults(nc_settings *s);

/* ---- FNV-1a 64, incrementally (nc_hash64 over concatenated pieces) -------- */
#define NC_FNV64_INIT 0xcbf29ce484222325ULL
uint64_t nc_fnv64_update(uint64_t h, const void *data, size_t len);

#endif
