/* pipeline_priv.h - what pipeline.c (loading, core settings) and
 * settings.c (the section getters) share. Not installed. */
#ifndef NC_PIPELINE_PRIV_H
#define NC_PIPELINE_PRIV_H

#include <libconfig.h>
#include <pthread.h>

#include "nascaps/pipeline.h"
#include "util/text.h"

struct nc_section {
    nc_pipeline *p;           /* NULL for a section without a pipeline */
    config_setting_t *group;  /* NULL: the section is absent */
    char *path;               /* "" for the root */
    struct nc_section *next;
};

struct nc_pipeline {
    config_t cfg;
    char *file;        /* as given; NULL without a file */
    char *dir;         /* its folder; NULL when it has none (cwd) */
    char *name;        /* basename without ".cfg"; "defaults" */
    /* "--set KEY" labels; settings placed by an override carry one of
     * these as their libconfig hook, which is how messages find them. */
    char **set_keys;
    size_t n_set_keys;
    /* Sections and resolved strings are made on demand from const
     * accessors, so they live behind a lock. */
    pthread_mutex_t lock;
    nc_section *sections;
    char **strings;
    size_t n_strings;
};

/* The setting key names inside sec (key may be dotted), or NULL. */
config_setting_t *nc_pl_lookup(const nc_section *sec, const char *key);

/* "FILE:LINE" or "--set KEY" of a setting of p. */
void nc_pl_where(const nc_pipeline *p, const config_setting_t *s, char *buf,
                 size_t size);

/* The folder relative values of s are resolved against: the folder of the
 * file that set it; NULL for the current directory (overrides, files
 * without a folder). */
const char *nc_pl_base_dir(const nc_pipeline *p, const config_setting_t *s,
                           char *buf, size_t size);

/* dir + "/" + value unless value is absolute or dir is NULL; malloc'd. */
char *nc_pl_join(const char *dir, const char *value);

/* Growable strings: nc_text (util/text.h). */

/* Appends s's value in libconfig syntax. indent < 0: on one line, int64
 * values without their L suffix (how messages show a value); indent >= 0:
 * groups spread over lines at that depth, text that reads back exactly. */
void nc_pl_write_value(nc_text *b, const config_setting_t *s, int indent);

/* The value of s on one line, truncated to size. */
void nc_pl_format_value(const config_setting_t *s, char *buf, size_t size);

/* "WHERE: setting 'PATH.KEY': EXPECTED, got VALUE" for the setting s;
 * returns NC_ERR_INPUT. */
int nc_pl_value_error(const nc_section *sec, const char *key,
                      const config_setting_t *s, nc_error *err,
                      const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Describes a real bound set for messages: "a number > 0", ... */
void nc_pl_real_range(double min, int min_open, double max, char *buf,
                      size_t size);
void nc_pl_int_range(int64_t min, int64_t max, char *buf, size_t size);

/* Shortest decimal text that reads back as exactly v, with a '.' or an
 * exponent so that libconfig reads it back as a float. */
void nc_pl_format_real(double v, char *buf, size_t size);

#endif
