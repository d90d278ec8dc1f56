/* nascaps/genotype.h - genotypes: the network descriptions the search
 * evolves (docs/GENOTYPE.md: format, validity rules, counting rules).
 *
 * A genotype is L layer genes [type, insize, inch, incaps, k, stride,
 * outsize, outch, outcaps], a skip gene [s] and a resize gene [r]. Every
 * tensor between layers is a capsule tensor [H, W, ch, dim]. */
#ifndef NASCAPS_GENOTYPE_H
#define NASCAPS_GENOTYPE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NC_GENE_FIELDS 9
#define NC_MAX_LAYERS 64   /* more layer genes than this are refused */
#define NC_SIZE_MAX_VALUE 4096
#define NC_MACS_MAX ((int64_t)1 << 40)

enum { NC_GENE_CONV = 0, NC_GENE_CAPS = 1, NC_GENE_DEEPCAPS = 2 };

typedef struct nc_gene {
    int type, insize, inch, incaps, k, stride, outsize, outch, outcaps;
} nc_gene;

/* Field names in gene order, for messages: "type", "insize", ... */
extern const char *const nc_gene_field_names[NC_GENE_FIELDS];

typedef struct nc_genotype {
    int n_layers;
    nc_gene layers[NC_MAX_LAYERS];
    int skip;    /* -1, or the 1-based index of a CapsCell (FlatCaps only) */
    int resize;  /* 1 or 2 */
} nc_genotype;

/* A capsule tensor shape. */
typedef struct nc_shape {
    int h, w, ch, dim;
} nc_shape;

/* The role a layer gene plays; it picks the layer plugin:
 * CONV -> "conv", CAPS and CLASS_CAPS -> "caps",
 * CAPSCELL and LAST_CAPSCELL -> "capscell", FLATCAPS -> "flatcaps". */
typedef enum nc_layer_role {
    NC_ROLE_CONV = 0,
    NC_ROLE_CAPS,           /* type 1, not last: primary/convolutional capsules */
    NC_ROLE_CLASS_CAPS,     /* type 1, last: class capsules with routing */
    NC_ROLE_CAPSCELL,       /* type 2, not last nor before last */
    NC_ROLE_LAST_CAPSCELL,  /* type 2, the cell before FlatCaps (3-D routing skip) */
    NC_ROLE_FLATCAPS        /* type 2, last */
} nc_layer_role;

const char *nc_layer_role_name(nc_layer_role role);
/* The layer plugin name serving a role ("conv", "caps", ...). */
const char *nc_layer_role_plugin(nc_layer_role role);
/* Role of layer i (0-based) of g; only meaningful for a structurally valid g. */
nc_layer_role nc_genotype_role(const nc_genotype *g, int i);

/* Parses the .chr text (a JSON array of integer arrays). `origin` names
 * the source in messages (a path, or "<string>"). Structural only: it
 * checks the JSON form, not validity (see nc_genotype_validate). */
int nc_genotype_parse(const char *text, const char *origin, nc_genotype *out,
                      nc_error *err);
int nc_genotype_load(const char *path, nc_genotype *out, nc_error *err);

/* Canonical text: `[[0,28,1,1,9,1,28,256,1],[...],[-1],[1]]`, no spaces.
 * Returns the length written (snprintf semantics). */
int nc_genotype_to_string(const nc_genotype *g, char *buf, size_t size);
/* Bytes enough for any canonical string. */
#define NC_GENOTYPE_STRING_MAX (NC_MAX_LAYERS * NC_GENE_FIELDS * 13 + 64)
/* Writes the canonical text plus a newline to path. */
int nc_genotype_save(const nc_genotype *g, const char *path, nc_error *err);
/* First 12 hex digits of nc_hash64 of the canonical string (+ NUL). */
void nc_genotype_id(const nc_genotype *g, char id[13]);

/* What a dataset imposes on a genotype (all 0 = nothing known). */
typedef struct nc_data_shape {
    int size, channels, classes;
} nc_data_shape;

/* Validity rules of docs/GENOTYPE.md. Messages name `origin`, the
 * 1-based gene index and the field: "net.chr: gene 2 (caps): field
 * 'insize' is 14 but gene 1 makes outsize 28". data may be NULL. */
int nc_genotype_validate(const nc_genotype *g, const char *origin,
                         const nc_data_shape *data, nc_error *err);

/* Re-derives the size chain (insize from the previous outsize, inch*incaps
 * view kept when it still multiplies to the previous channels, outsize =
 * ceil(insize/stride)), clamps the skip gene; with pin_last_k the last
 * gene's k is set to its insize. A valid genotype is left unchanged
 * (pin_last_k aside). Returns NC_OK when the result validates. */
int nc_genotype_repair(nc_genotype *g, int pin_last_k, nc_error *err);

/* [outsize, outsize, outch, outcaps] and [insize, insize, inch, incaps]:
 * the gene's own view of its output and input. (The last gene's layer
 * really produces [1, 1, outch, outcaps]: its outsize is not used; the
 * layer plugins' describe() reports that.) */
nc_shape nc_gene_out_shape(const nc_gene *gene);
nc_shape nc_gene_in_shape(const nc_gene *gene);


/* ---- Transfer to another dataset (docs/GENOTYPE.md, "Adapting") ---------- */

/* One field nc_genotype_adapt changed. */
typedef struct nc_genotype_change {
    int gene;           /* 1-based layer gene; 0: the skip gene */
    int field;          /* nc_gene_field_names index; -1 for the skip gene */
    int before, after;
} nc_genotype_change;

#define NC_GENOTYPE_CHANGES_MAX (NC_MAX_LAYERS * NC_GENE_FIELDS + 1)

/* The changes of one adaptation, in gene then field order. */
typedef struct nc_genotype_changes {
    int n;
    nc_genotype_change at[NC_GENOTYPE_CHANGES_MAX];
} nc_genotype_changes;

/* Re-derives g for a dataset of shape data (zero members: kept): gene 1's
 * insize = size x resize gene, its inch x incaps = channels (inch =
 * channels, incaps = 1 unless the product already fits), the last gene's
 * outch = classes; then nc_genotype_repair, pinning the last k when it was
 * pinned (k == insize) before. g must validate (without data) first; the
 * result validates against data, else g is left unchanged and the error
 * names origin. A genotype that fits already is unchanged (changes->n =
 * 0). changes may be NULL. */
int nc_genotype_adapt(nc_genotype *g, const nc_data_shape *data, const char *origin,
                      nc_genotype_changes *changes, nc_error *err);
/* "gene 1 (conv): insize 64 -> 28", "skip gene: 4 -> -1" (roles of g,
 * the adapted genotype). snprintf semantics. */
int nc_genotype_change_text(const nc_genotype *g, const nc_genotype_change *c, char *buf,
                            size_t size);

#ifdef __cplusplus
}
#endif
#endif
