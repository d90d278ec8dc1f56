/* fuzz_wire.c - the evaluation protocol's parsers (docs/SCALE.md,
 * "Protocol"): hello, job (with stage 2's base64 state) and result, as a
 * coordinator or worker receives them from another process or node. Any
 * message a parser accepts must survive a round trip: encoded again and
 * parsed, it gives the same fields (so what is stored or trained is what
 * was sent). */
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_state(const nc_final_state *a, const nc_final_state *b)
{
    if (a->epochs_done != b->epochs_done || a->adam_step != b->adam_step ||
        a->weights_len != b->weights_len || a->adam_count != b->adam_count ||
        (a->weights_len && memcmp(a->weights, b->weights, a->weights_len) != 0) ||
        (a->adam_count && memcmp(a->adam, b->adam, 8 * a->adam_count) != 0) ||
        memcmp(&a->shuffle, &b->shuffle, sizeof a->shuffle) != 0 ||
        memcmp(&a->augment, &b->augment, sizeof a->augment) != 0 ||
        strcmp(a->origin, b->origin) != 0)
        abort();
}

static void job(const char *msg)
{
    nc_error err;
    nc_exec_job a, b;
    nc_final_state sa, sb;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    int quit = 0;
    if (nc_wire_parse_job(msg, "fuzz", &a, &sa, &quit, &err) == NC_OK && !quit) {
        char *again = nc_wire_job(&a);
        if (!again || nc_wire_parse_job(again, "fuzz", &b, &sb, &quit, &err) != NC_OK || quit)
            abort();
        if (a.slot != b.slot || a.epochs != b.epochs || a.trains != b.trains ||
            strcmp(a.genotype, b.genotype) != 0 || a.prune.epochs != b.prune.epochs ||
            (a.final == NULL) != (b.final == NULL))
            abort();
        if (a.final)
            same_state(&sa, &sb);
        nc_fuzz_sink += (unsigned)sb.weights_len;
        free(again);
    }
    nc_final_state_free(&sa);
    nc_final_state_free(&sb);
}

static void result(const char *msg)
{
    nc_error err;
    nc_exec_result a, b;
    if (nc_exec_result_init(&a, &err) || nc_exec_result_init(&b, &err))
        abort();
    if (nc_wire_parse_result(msg, "fuzz", &a, &err) == NC_OK) {
        char *again = nc_wire_result(&a);
        if (!again || nc_wire_parse_result(again, "fuzz", &b, &err) != NC_OK)
            abort();
        if (a.slot != b.slot || a.stopped != b.stopped || a.is_final != b.is_final ||
            a.n_epochs != b.n_epochs || strcmp(a.rec.status, b.rec.status) != 0 ||
            strcmp(a.rec.genotype, b.rec.genotype) != 0 || a.rec.params != b.rec.params ||
            memcmp(a.epochs, b.epochs, (size_t)a.n_epochs * sizeof *a.epochs) != 0)
            abort();
        if (a.is_final)
            same_state(&a.final, &b.final);
        free(again);
    }
    nc_exec_result_free(&a);
    nc_exec_result_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *msg = malloc(size + 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    msg[size] = '\0';
    nc_error err;
    nc_wire_hello_msg h;
    if (nc_wire_parse_hello(msg, "fuzz", &h, &err) == NC_OK)
        nc_fuzz_sink += (unsigned)h.threads;
    job(msg);
    result(msg);
    free(msg);
    return 0;
}
