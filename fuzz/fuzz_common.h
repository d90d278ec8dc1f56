/* fuzz_common.h - what every libFuzzer harness here shares: the fuzzed
 * bytes written to a file of a private temporary folder, since every
 * reader under test takes a path (docs/SECURITY.md, "Fuzzing"). */
#ifndef NC_FUZZ_COMMON_H
#define NC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The harness's own folder (created on first use, removed at exit). */
const char *nc_fuzz_dir(void);
/* Writes data to nc_fuzz_dir()/name; returns that path (static buffer of
 * the caller's choosing: valid until the next call with the same name). */
const char *nc_fuzz_write(const char *name, const uint8_t *data, size_t size);

/* Written with what a harness read, so that the reads are not optimised
 * away. */
extern volatile unsigned nc_fuzz_sink;

#endif
