/* conv_train.h - the conv plugin's training entries (ABI 1.1), defined in
 * conv_train.c and listed in conv.c's ops table. */
#ifndef NC_CONV_TRAIN_H
#define NC_CONV_TRAIN_H

#include <nascaps/layer.h>
#include <nascaps/pipeline.h>

/* The plugin's settings (section layers.conv, ABI 1.3). */
extern const nc_setting_spec conv_settings[];

int64_t conv_train_bytes(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg);
int conv_create(const nc_layer_ctx *ctx, const nc_layer_train_cfg *cfg, nc_rng *rng,
                void **layer, nc_error *err);
size_t conv_workspace(void *layer);
int conv_forward(void *layer, int n, const float *const *in, float *out, int training,
                 void *ws, size_t ws_bytes, nc_error *err);
int conv_backward(void *layer, int n, const float *const *in, const float *out,
                  const float *dout, float *const *din, void *ws, size_t ws_bytes,
                  nc_error *err);
int conv_tensors(void *layer, nc_tensor_ref *list, int cap);
void conv_destroy(void *layer);

#endif
