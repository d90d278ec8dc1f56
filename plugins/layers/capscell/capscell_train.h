/* capscell_train.h - the capscell plugin's training entries (ABI 1.1),
 * defined in capscell_train.c and listed in capscell.c's ops table. */
#ifndef NC_CAPSCELL_TRAIN_H
#define NC_CAPSCELL_TRAIN_H

#include <nascaps/layer.h>

int64_t cell_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg);
int cell_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err);
size_t cell_workspace(void *layer);
int cell_forward(void *layer, int n, const float *const *in, float *out, int training,
                 void *ws, size_t ws_bytes, nc_error *err);
int cell_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes,
                  nc_error *err);
int cell_tensors(void *layer, nc_tensor_ref *list, int cap);
void cell_destroy(void *layer);

#endif
