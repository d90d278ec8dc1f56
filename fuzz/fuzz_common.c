/* fuzz_common.c - the harnesses' temporary folder. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile unsigned nc_fuzz_sink;
static char dir[512];

static void cleanup(void)
{
    char cmd[600];
    if (dir[0] && snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd)
        (void)!system(cmd);
}

const char *nc_fuzz_dir(void)
{
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/nascaps-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(cleanup);
    }
    return dir;
}

const char *nc_fuzz_write(const char *name, const uint8_t *data, size_t size)
{
    static char paths[8][640];
    static char names[8][64];
    int slot = 0;
    while (slot < 7 && names[slot][0] && strcmp(names[slot], name) != 0)
        slot++;
    snprintf(names[slot], sizeof names[slot], "%s", name);
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", nc_fuzz_dir(), name);
    FILE *f = fopen(paths[slot], "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(paths[slot]);
        abort();
    }
    return paths[slot];
}
