/* flatcaps_train.h - the flatcaps plugin's training entries (ABI 1.1),
 * defined in flatcaps_train.c and listed in flatcaps.c's ops table. */
#ifndef NC_FLATCAPS_TRAIN_H
#define NC_FLATCAPS_TRAIN_H

#include <nascaps/layer.h>

int64_t flat_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg);
int flat_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err);
size_t flat_workspace(void *layer);
int flat_forward(void *layer, int n, const float *const *in, float *out, int training,
                 void *ws, size_t ws_bytes, nc_error *err);
int flat_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes,
                  nc_error *err);
int flat_tensors(void *layer, nc_tensor_ref *list, int cap);
void flat_destroy(void *layer);

#endif
