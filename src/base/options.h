/* Options described once, in a table, and read from three places: the command line
 * (getopt_long), a JSON configuration file, and back out as the effective configuration
 * (JSON). A command fills a struct with defaults, loads its --config file (when given), then
 * applies the flags, so that flags override the file. Every problem is one line naming the
 * option (or the file and key): "aleph node: --round-delay-ms needs a whole number from 0
 * to 600000, got '-5'". */
#ifndef ALEPH_BASE_OPTIONS_H
#define ALEPH_BASE_OPTIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum opt_kind {
    OPT_STRING, /* const char * (points into argv or into the loaded file's text) */
    OPT_U32,    /* uint32_t */
    OPT_U64,    /* uint64_t */
    OPT_SIZE,   /* size_t */
    OPT_INT,    /* int, from min to max */
    OPT_DOUBLE, /* double */
    OPT_CHOICE, /* int: one of choices[] (names), stored as choice_values[] */
    OPT_FLAG,   /* int: 1 when the flag is given (no value); a boolean in JSON */
} opt_kind;

typedef struct opt_spec {
    const char *name; /* the flag without "--"; in JSON '-' becomes '_' */
    opt_kind kind;
    size_t offset;    /* of the field in the options struct */
    double min, max;  /* numbers: the accepted range */
    const char *const *choices;
    const int *choice_values;
} opt_spec;

#define OPT_END {NULL, OPT_STRING, 0, 0, 0, NULL, NULL}

/* What opts_parse found besides the table's options. */
typedef struct opts_extra {
    int help;               /* --help or -h */
    int print_config;       /* --print-config */
    const char *config;     /* --config FILE */
    int no_config;          /* set by the caller: no --config and --print-config */
    int positional_ok;      /* set by the caller: arguments that are not options allowed */
    char **positional;      /* then those arguments, in order (into argv) */
    int positional_len;
} opts_extra;

/* Parses argv with getopt_long against the table (plus --help, --config FILE and
 * --print-config) into target. Returns 0, or 2 after printing one line on a usage error
 * (unknown option, missing or malformed value, a stray argument unless positional_ok). With apply_table 0 only
 * extra is filled (the first pass, to find --config before the flags are applied). */
int opts_parse(const opt_spec *table, void *target, const char *cmd, int argc, char **argv,
               int apply_table, opts_extra *extra);

/* Applies a JSON object file whose keys are the table's names (with '_'): types and ranges
 * checked, unknown keys refused. The strings stay valid while *keep lives (json_decref it
 * when done). 0, or -1 with one line per problem ("FILE: key: ...") in err. */
int opts_load_json(const opt_spec *table, void *target, const char *path, json_t **keep,
                   char *err, size_t cap);

/* The effective configuration: every option of the table, unset strings as null. */
json_t *opts_to_json(const opt_spec *table, const void *target);

#endif
