/* nascaps/settings.h - how a plugin reads its section of a pipeline.
 *
 * A pipeline section (`dataset`, `accelerator`, `optimizer`) holds
 * `plugin = "NAME"` and that plugin's own settings. The plugin declares the
 * names it knows in an nc_setting_spec table (its ops table points to it);
 * the core refuses any other name in the section, suggesting the nearest
 * known one, before the plugin sees it. The plugin reads values with the
 * getters below, which validate type and range and, on failure, write the
 * one-line message every setting error has:
 *
 *   FILE:LINE: setting 'training.epochs': expected an integer >= 1, got "five"
 *
 * An nc_section may stand for a section that is absent (no pipeline given):
 * every getter then yields its default. Sections are borrowed from the
 * pipeline that owns them and live as long as it does. */
#ifndef NASCAPS_SETTINGS_H
#define NASCAPS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nc_section nc_section;

typedef enum nc_setting_type {
    NC_SET_INT = 1,
    NC_SET_REAL,
    NC_SET_BOOL,
    NC_SET_STRING,
    NC_SET_INT_LIST,
    NC_SET_STRING_LIST,
    NC_SET_REAL_LIST
} nc_setting_type;

/* One known setting; tables end with an entry whose name is NULL.
 * default_text and help are shown by `nascaps help` and docs. */
typedef struct nc_setting_spec {
    const char *name;
    nc_setting_type type;
    const char *default_text;
    const char *help;
} nc_setting_spec;

/* Dotted path of the section, e.g. "accelerator". */
const char *nc_section_path(const nc_section *sec);

/* Non-zero when the key is set (in the file or by --set). */
int nc_section_has(const nc_section *sec, const char *key);

/* Where key was set: "FILE:LINE", "--set accelerator.rows" for an
 * override, or the section's own location when key is unset. */
void nc_section_where(const nc_section *sec, const char *key, char *buf,
                      size_t size);

/* Getters: *out gets def when key is unset. Range bounds are inclusive.
 * Return NC_OK or NC_ERR_INPUT (with the message in err). */
int nc_section_get_int(const nc_section *sec, const char *key, int64_t def,
                       int64_t min, int64_t max, int64_t *out, nc_error *err);
int nc_section_get_real(const nc_section *sec, const char *key, double def,
                        double min, double max, double *out, nc_error *err);
/* Like nc_section_get_real but the lower bound is exclusive: min < value
 * <= max ("expected a number > 0", "expected a number in (0, 1]"). */
int nc_section_get_real_above(const nc_section *sec, const char *key,
                              double def, double min, double max, double *out,
                              nc_error *err);
int nc_section_get_bool(const nc_section *sec, const char *key, int def,
                        int *out, nc_error *err);
/* *out is borrowed from the pipeline (or is def). */
int nc_section_get_string(const nc_section *sec, const char *key,
                          const char *def, const char **out, nc_error *err);
/* The value must be one of choices (NULL-terminated); *index gets its
 * position. def must be one of choices. */
int nc_section_get_choice(const nc_section *sec, const char *key,
                          const char *def, const char *const *choices,
                          int *index, nc_error *err);
/* A file path: a relative value is resolved against the folder of the file
 * that set it. *out is malloc'd (caller frees) or NULL when unset and def
 * is NULL. */
int nc_section_get_path(const nc_section *sec, const char *key,
                        const char *def, char **out, nc_error *err);
/* Integer list: *out malloc'd (caller frees), *count its length. When
 * unset, *out = NULL and *count = 0 (the caller applies its default). */
int nc_section_get_int_list(const nc_section *sec, const char *key,
                            int64_t min, int64_t max, int64_t **out,
                            size_t *count, nc_error *err);

/* String list (array or list of strings): *out is a malloc'd array
 * (caller frees the array, not the strings, which are borrowed) of
 * *count entries; unset or empty: NULL and 0. */
int nc_section_get_string_list(const nc_section *sec, const char *key,
                               const char ***out, size_t *count,
                               nc_error *err);

/* Formats an error about key in the standard form
 * "WHERE: setting 'PATH.KEY': MESSAGE" and returns NC_ERR_INPUT. */
int nc_section_error(const nc_section *sec, const char *key, nc_error *err,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif
#endif
