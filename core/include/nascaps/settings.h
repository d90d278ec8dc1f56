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
 * The table is the ONE description of a setting: the section check, the
 * getters below that take a table (nc_setting_*), `nascaps plugins
 * --settings` and docs/CONFIG.md all read it, so they cannot drift.
 *
 * ABI 1.3 appended flags, min, max, choices and alias. A plugin built
 * against ABI 1.0-1.2 has tables of the first four fields only; the loader
 * reads them with that stride (the descriptor's abi_minor says which). */
typedef struct nc_setting_spec {
    const char *name;          /* key inside its section ("epochs") */
    nc_setting_type type;
    const char *default_text;  /* libconfig text ("5", "0.1", "\"relu\"",
                                  "[3, 6]"); NULL or "-": none (see flags) */
    const char *help;          /* one line */
    /* ABI 1.3 */
    unsigned flags;            /* NC_SETF_* */
    double min, max;           /* inclusive bounds (of each element of a
                                  list) where NC_SETF_MIN / NC_SETF_MAX */
    const char *const *choices;   /* NC_SET_STRING: the allowed values
                                     (NULL-terminated), NULL: any string */
    const char *alias;         /* full dotted name of an older spelling,
                                  read when this key is unset (NULL: none) */
} nc_setting_spec;

#define NC_SETF_MIN 1u        /* min is a bound */
#define NC_SETF_MAX 2u        /* max is a bound */
#define NC_SETF_MIN_OPEN 4u   /* the lower bound is exclusive (> min) */
#define NC_SETF_PATH 8u       /* a path, relative to the file that set it */
#define NC_SETF_NO_DEFAULT 16u /* unset means "not given": the owner decides */

#define NC_SETTING_STR_(x) #x
#define NC_SETTING_XSTR_(x) NC_SETTING_STR_(x)

/* Table entries. DEF is written once: as the value the getters use and,
 * stringified, as the text `nascaps plugins --settings` shows. */
#define NC_SETTING_INT(NAME, DEF, MIN, MAX, HELP)                            \
    { NAME, NC_SET_INT, NC_SETTING_XSTR_(DEF), HELP, NC_SETF_MIN | NC_SETF_MAX, (MIN), (MAX),  \
      NULL, NULL }
#define NC_SETTING_INT_MIN(NAME, DEF, MIN, HELP)                             \
    { NAME, NC_SET_INT, NC_SETTING_XSTR_(DEF), HELP, NC_SETF_MIN, (MIN), 0, NULL, NULL }
#define NC_SETTING_REAL(NAME, DEF, MIN, MAX, HELP)                           \
    { NAME, NC_SET_REAL, NC_SETTING_XSTR_(DEF), HELP, NC_SETF_MIN | NC_SETF_MAX, (MIN), (MAX), \
      NULL, NULL }
#define NC_SETTING_REAL_MIN(NAME, DEF, MIN, HELP)                            \
    { NAME, NC_SET_REAL, NC_SETTING_XSTR_(DEF), HELP, NC_SETF_MIN, (MIN), 0, NULL, NULL }
/* min < value <= max */
#define NC_SETTING_REAL_ABOVE(NAME, DEF, MIN, MAX, HELP)                     \
    { NAME, NC_SET_REAL, NC_SETTING_XSTR_(DEF), HELP,                                         \
      NC_SETF_MIN | NC_SETF_MAX | NC_SETF_MIN_OPEN, (MIN), (MAX), NULL, NULL }
#define NC_SETTING_REAL_ABOVE_MIN(NAME, DEF, MIN, HELP)                      \
    { NAME, NC_SET_REAL, NC_SETTING_XSTR_(DEF), HELP, NC_SETF_MIN | NC_SETF_MIN_OPEN, (MIN), 0, \
      NULL, NULL }
#define NC_SETTING_BOOL(NAME, DEF, HELP)                                     \
    { NAME, NC_SET_BOOL, NC_SETTING_STR_(DEF), HELP, 0, 0, 0, NULL, NULL }
/* DEF is a string literal; CHOICES a NULL-terminated array or NULL. */
#define NC_SETTING_STRING(NAME, DEF, CHOICES, HELP)                          \
    { NAME, NC_SET_STRING, "\"" DEF "\"", HELP, 0, 0, 0, (CHOICES), NULL }
#define NC_SETTING_PATH(NAME, HELP)                                          \
    { NAME, NC_SET_STRING, "-", HELP, NC_SETF_PATH | NC_SETF_NO_DEFAULT, 0, 0, \
      NULL, NULL }
/* A list of integers, each in [MIN, MAX]; DEFTEXT is libconfig text. */
#define NC_SETTING_INT_LIST(NAME, DEFTEXT, MIN, MAX, HELP)                   \
    { NAME, NC_SET_INT_LIST, DEFTEXT, HELP, NC_SETF_MIN | NC_SETF_MAX, (MIN), \
      (MAX), NULL, NULL }
#define NC_SETTING_END { NULL, 0, NULL, NULL, 0, 0, 0, NULL, NULL }

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

/* ---- Reading through a table (ABI 1.3) ----------------------------------
 *
 * Each looks key up in table (a missing entry is NC_ERR_INTERNAL: the owner
 * must list what it reads), takes the default, bounds and choices from the
 * entry and, when key is unset and the entry has an alias, reads the alias
 * (a full dotted name from the pipeline's root) instead. */
const nc_setting_spec *nc_setting_find(const nc_setting_spec *table,
                                       const char *key);
int nc_setting_int(const nc_section *sec, const nc_setting_spec *table,
                   const char *key, int64_t *out, nc_error *err);
/* Like nc_setting_int for an int field: values over INT_MAX are refused
 * with the range [min, INT_MAX]. */
int nc_setting_int32(const nc_section *sec, const nc_setting_spec *table,
                     const char *key, int *out, nc_error *err);
int nc_setting_real(const nc_section *sec, const nc_setting_spec *table,
                    const char *key, double *out, nc_error *err);
int nc_setting_bool(const nc_section *sec, const nc_setting_spec *table,
                    const char *key, int *out, nc_error *err);
/* A string; with choices, one of them and the default when unset. A
 * string without choices is NULL when unset: its owner applies the
 * default its entry shows (written once, e.g. with a macro). *out is
 * borrowed. */
int nc_setting_string(const nc_section *sec, const nc_setting_spec *table,
                      const char *key, const char **out, nc_error *err);
/* The index of the value in the entry's choices. */
int nc_setting_choice(const nc_section *sec, const nc_setting_spec *table,
                      const char *key, int *index, nc_error *err);
/* A path (see nc_section_get_path); NULL when unset without default. */
int nc_setting_path(const nc_section *sec, const nc_setting_spec *table,
                    const char *key, char **out, nc_error *err);
/* An integer list, elements within the entry's bounds; when unset, the
 * entry's default list. *out malloc'd. */
int nc_setting_int_list(const nc_section *sec, const nc_setting_spec *table,
                        const char *key, int64_t **out, size_t *count,
                        nc_error *err);

/* Reads every entry of table from sec (type, range, choices) and discards
 * the values: the check `nascaps validate` and the owners share. */
int nc_setting_check_values(const nc_section *sec,
                            const nc_setting_spec *table, nc_error *err);

/* Describes entry e's type and range for listings: "integer >= 1",
 * "number in (0, 1]", "one of \"relu\", \"none\"", "path". */
void nc_setting_describe(const nc_setting_spec *e, char *buf, size_t size);

/* Like nc_section_error, followed by ", got VALUE" (the value as set). */
int nc_section_value_error(const nc_section *sec, const char *key,
                           nc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The pipeline a section belongs to (NULL for a section without one). */
const struct nc_pipeline *nc_section_pipeline(const nc_section *sec);

/* Formats an error about key in the standard form
 * "WHERE: setting 'PATH.KEY': MESSAGE" and returns NC_ERR_INPUT. */
int nc_section_error(const nc_section *sec, const char *key, nc_error *err,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#ifdef __cplusplus
}
#endif
#endif
