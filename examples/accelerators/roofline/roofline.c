/* roofline.c - an example accelerator plugin: a roofline model.
 *
 * Built OUT of the nascaps tree, against the installed headers only:
 *
 *     cc -shared -fPIC $(pkg-config --cflags --libs nascaps) -o roofline.so roofline.c
 *     nascaps estimate --accelerator ./roofline.so net.chr
 *
 * An operation takes as long as the slower of its compute (MACs at the
 * peak rate) and its traffic (bytes at the memory bandwidth); its energy is
 * MACs * pJ/MAC + bytes * pJ/byte. Counts are doubles: the plugin never
 * overflows, whatever the sizes it is handed. docs/PLUGINS.md walks
 * through this file. */
#include <math.h>
#include <stdlib.h>

#include <nascaps/accelerator.h>
#include <nascaps/plugin.h>
#include <nascaps/settings.h>

typedef struct roofline {
    double macs_per_s;      /* peak compute rate */
    double bytes_per_s;     /* memory bandwidth */
    double clock_hz;
    double pj_per_mac, pj_per_byte;
} roofline;

/* The names this plugin accepts in its `accelerator` section; the core
 * refuses any other name (suggesting the nearest) before create() runs. */
static const nc_setting_spec roofline_settings[] = {
    NC_SETTING_INT("macs_per_cycle", 256, 1, 1099511627776.0,
                   "peak multiply-accumulates per cycle"),
    NC_SETTING_REAL("clock_ghz", 1.0, 1e-6, 1e6, "clock frequency in GHz"),
    NC_SETTING_REAL("bandwidth_gbs", 25.6, 1e-6, 1e9, "memory bandwidth in GB/s"),
    NC_SETTING_REAL("pj_per_mac", 0.2, 0, 1e9, "energy of one MAC in pJ"),
    NC_SETTING_REAL("pj_per_byte", 5.0, 0, 1e9, "energy of moving one byte in pJ"),
    NC_SETTING_END};

static int roofline_create(const nc_section *sec, void **instance, nc_error *err)
{
    int64_t macs_per_cycle;
    double ghz, gbs, pj_mac, pj_byte;
    /* Each getter takes the default, bounds and type from the table above
     * (the same table `nascaps plugins --settings roofline` lists) and
     * writes "FILE:LINE: setting '...': ..." into err on a bad value; the
     * plugin only passes the status on. */
    const nc_setting_spec *T = roofline_settings;
    int rc = nc_setting_int(sec, T, "macs_per_cycle", &macs_per_cycle, err);
    if (!rc)
        rc = nc_setting_real(sec, T, "clock_ghz", &ghz, err);
    if (!rc)
        rc = nc_setting_real(sec, T, "bandwidth_gbs", &gbs, err);
    if (!rc)
        rc = nc_setting_real(sec, T, "pj_per_mac", &pj_mac, err);
    if (!rc)
        rc = nc_setting_real(sec, T, "pj_per_byte", &pj_byte, err);
    if (rc)
        return rc;

    roofline *r = malloc(sizeof *r);
    if (!r)
        return nc_error_set(err, NC_ERR_INTERNAL, "roofline: out of memory");
    r->clock_hz = ghz * 1e9;
    r->macs_per_s = (double)macs_per_cycle * r->clock_hz;
    r->bytes_per_s = gbs * 1e9;
    r->pj_per_mac = pj_mac;
    r->pj_per_byte = pj_byte;
    *instance = r;
    return NC_OK;
}

static int roofline_cost(void *instance, const nc_hw_op *op, nc_hw_cost *out,
                         nc_error *err)
{
    const roofline *r = instance;
    if (op->insize < 1 || op->inch < 1 || op->incaps < 1 || op->k < 1 ||
        op->outsize < 1 || op->outch < 1 || op->outcaps < 1)
        return nc_error_set(err, NC_ERR_INPUT,
                            "roofline: operation '%.24s': every size must be >= 1",
                            op->name);

    const double in_pos = (double)op->insize * op->insize;
    const double out_pos = (double)op->outsize * op->outsize;
    const double in_vec = (double)op->inch * op->incaps;    /* input channels */
    const double out_vec = (double)op->outch * op->outcaps; /* output channels */
    double macs, weights;
    switch (op->kind) {
    case NC_HW_CONV:
        weights = (double)op->k * op->k * in_vec * out_vec;
        macs = out_pos * weights;
        break;
    case NC_HW_CONV3D:
        weights = (double)op->k * op->k * op->k * in_vec * out_vec;
        macs = out_pos * weights;
        break;
    case NC_HW_CLASS:
        /* every input capsule has its own matrix for every class */
        weights = in_pos * op->inch * op->incaps * out_vec;
        macs = weights;
        break;
    case NC_HW_SUM:
    case NC_HW_UPDATE:
        /* routing: one weighted sum (or agreement) per input capsule and class */
        weights = 0;
        macs = in_pos * op->inch * out_vec;
        break;
    default:
        return nc_error_set(err, NC_ERR_INPUT, "roofline: operation '%.24s': unknown kind %d",
                            op->name, (int)op->kind);
    }
    /* 8-bit weights and activations */
    const double bytes = weights + in_pos * in_vec + out_pos * out_vec;
    const double latency_s = fmax(macs / r->macs_per_s, bytes / r->bytes_per_s);
    const double energy_mj = (macs * r->pj_per_mac + bytes * r->pj_per_byte) * 1e-9;

    out->cycles = ceil(latency_s * r->clock_hz);
    out->latency_ms = latency_s * 1e3;
    out->energy_mj = energy_mj;
    out->power_mw = latency_s > 0 ? energy_mj / latency_s : 0;   /* mJ/s = mW */
    out->memory_bytes = weights;
    out->weights = weights;
    out->area_um2 = NAN;   /* a roofline knows nothing about silicon */
    return NC_OK;
}

static void roofline_destroy(void *instance)
{
    free(instance);
}

static const nc_accelerator_ops roofline_ops = {
    .size = sizeof(nc_accelerator_ops),
    .settings = roofline_settings,
    .create = roofline_create,
    .cost = roofline_cost,
    .destroy = roofline_destroy,
    .describe = NULL,   /* optional: the core then shows the plugin's name */
};

static const nc_plugin_desc roofline_descs[] = {
    NC_PLUGIN_DESCRIPTOR(NC_KIND_ACCELERATOR, "roofline", "1.0.0",
                         "roofline model: peak MAC rate vs memory bandwidth (example)",
                         &roofline_ops),
};

/* The one exported symbol: everything else is hidden (-fvisibility=hidden
 * comes with pkg-config's Cflags). */
NC_PLUGIN_ENTRY(roofline_descs)
