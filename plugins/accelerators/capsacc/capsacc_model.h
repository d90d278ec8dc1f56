/* capsacc_model.h - the CapsAcc analytical cost model, free of any
 * pipeline plumbing so tests can link it directly (private to the plugin).
 *
 * The definition is reference/capsacc/MODEL.md: a systolic array of
 * R x C processing elements, weights loaded row by row, the input data
 * streamed through, partial sums held in an accumulator memory. */
#ifndef CAPSACC_MODEL_H
#define CAPSACC_MODEL_H

#include <stdint.h>

#include <nascaps/accelerator.h>
#include <nascaps/error.h>

/* The synthesised configuration whose figures are built in: rows of
 * pe_table.csv / mem_table.csv at period 3 ns, 25-bit accumulator, one
 * pipeline stage, one multiplier input (45 nm, Synopsys DC). */
#define CAPSACC_DEFAULT_ROWS 16
#define CAPSACC_DEFAULT_COLS 16
#define CAPSACC_DEFAULT_PE_WIDTH 1
#define CAPSACC_DEFAULT_PE_STAGES 1
#define CAPSACC_DEFAULT_PERIOD_NS 3.0
#define CAPSACC_DEFAULT_ACC_BITS 25
#define CAPSACC_DEFAULT_P_PE_MW 0.4815
#define CAPSACC_DEFAULT_P_MEM_MW 0.2303
#define CAPSACC_DEFAULT_PE_AREA_UM2 1333.750616
#define CAPSACC_DEFAULT_MEM_AREA_UM2 494.1729

typedef struct capsacc_config {
    int64_t rows, cols, pe_width, pe_stages, acc_bits;
    double period_ns;
    double p_pe_mw, p_mem_mw;          /* one PE, one accumulator memory cell */
    double pe_area_um2, mem_area_um2;  /* NAN when a table does not say */
} capsacc_config;

/* The default configuration with its built-in figures. */
void capsacc_config_default(capsacc_config *c);

/* Which synthesis figures c needs from the tables: the PE figures depend on
 * (period, acc bits, stages, width), the memory cell's on (period, bits). */
int capsacc_needs_pe_table(const capsacc_config *c);
int capsacc_needs_mem_table(const capsacc_config *c);

/* Looks up c's row in a pe_table / mem_table CSV file and sets the power
 * and area figures of c. Messages: "PATH:LINE: ..." for a malformed file,
 * "accelerator: no synthesis result for ... in NAME: ..." when the row is
 * absent or its power is nan. */
int capsacc_load_pe_table(capsacc_config *c, const char *path, nc_error *err);
int capsacc_load_mem_table(capsacc_config *c, const char *path, nc_error *err);

/* Costs one operation. Refuses (NC_ERR_INPUT, naming the operation) an
 * unknown kind, a field < 1 or counts too large to be exact in a double. */
int capsacc_cost(const capsacc_config *c, const nc_hw_op *op, nc_hw_cost *out,
                 nc_error *err);

#endif
