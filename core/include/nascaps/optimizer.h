/* nascaps/optimizer.h - the optimizer (search strategy) plugin kind.
 *
 * ABI 1.0 fixes only the head of the table (size, settings); the search
 * entries (create, ask, tell, done, save, restore) are appended by the
 * search engine in a minor ABI bump. Until then no optimizer can run and
 * the core says so. */
#ifndef NASCAPS_OPTIMIZER_H
#define NASCAPS_OPTIMIZER_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_optimizer_ops {
    uint32_t size;                     /* sizeof(nc_optimizer_ops) */
    /* ABI 1.0 */
    const nc_setting_spec *settings;   /* known settings of its section */
} nc_optimizer_ops;

#define NC_OPTIMIZER_OPS_MIN_SIZE \
    (offsetof(nc_optimizer_ops, settings) + sizeof(void *))

#ifdef __cplusplus
}
#endif
#endif
