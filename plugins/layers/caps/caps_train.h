/* caps_train.h - the caps plugin's training entries (ABI 1.1), defined in
 * caps_train.c and listed in caps.c's ops table. */
#ifndef NC_CAPS_TRAIN_H
#define NC_CAPS_TRAIN_H

#include <nascaps/layer.h>

int64_t caps_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg);
int caps_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err);
size_t caps_workspace(void *layer);
int caps_forward(void *layer, int n, const float *const *in, float *out, int training,
                 void *ws, size_t ws_bytes, nc_error *err);
int caps_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes,
                  nc_error *err);
int caps_tensors(void *layer, nc_tensor_ref *list, int cap);
void caps_destroy(void *layer);

#endif
