#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPTS_MAX 64
#define OPT_FIRST 2000 /* getopt_long values: OPT_FIRST + the table index */
#define OPT_HELP 1000
#define OPT_CONFIG 1001
#define OPT_PRINT_CONFIG 1002

static void *field(void *target, const opt_spec *s)
{
    return (char *)target + s->offset;
}

static int is_integer_kind(opt_kind k)
{
    return k == OPT_U32 || k == OPT_U64 || k == OPT_SIZE || k == OPT_INT;
}

/* Stores a number already known to be in range. */
static void store_number(const opt_spec *s, void *target, double v, uint64_t u, int64_t i)
{
    void *f = field(target, s);
    switch (s->kind) {
    case OPT_U32: *(uint32_t *)f = (uint32_t)u; break;
    case OPT_U64: *(uint64_t *)f = u; break;
    case OPT_SIZE: *(size_t *)f = (size_t)u; break;
    case OPT_INT: *(int *)f = (int)i; break;
    case OPT_DOUBLE: *(double *)f = v; break;
    default: break;
    }
}

/* Describes what a value must be, for messages. */
static void expected(const opt_spec *s, char *out, size_t cap)
{
    if (s->kind == OPT_CHOICE) {
        size_t k = (size_t)snprintf(out, cap, "one of");
        for (int i = 0; s->choices[i] && k < cap; i++)
            k += (size_t)snprintf(out + k, cap - k, "%s %s", i ? "," : "", s->choices[i]);
    } else if (is_integer_kind(s->kind)) {
        snprintf(out, cap, "a whole number from %.0f to %.0f", s->min, s->max);
    } else if (s->kind == OPT_DOUBLE) {
        snprintf(out, cap, "a number from %g to %g", s->min, s->max);
    } else if (s->kind == OPT_FLAG) {
        snprintf(out, cap, "true or false");
    } else {
        snprintf(out, cap, "a string");
    }
}

/* Sets option s from its text (a flag's value); 0 or -1. */
static int set_text(const opt_spec *s, void *target, const char *text)
{
    if (s->kind == OPT_STRING) {
        *(const char **)field(target, s) = text;
        return 0;
    }
    if (s->kind == OPT_FLAG) {
        *(int *)field(target, s) = 1;
        return 0;
    }
    if (s->kind == OPT_CHOICE) {
        for (int i = 0; s->choices[i]; i++)
            if (strcmp(text, s->choices[i]) == 0) {
                *(int *)field(target, s) = s->choice_values[i];
                return 0;
            }
        return -1;
    }
    char *end;
    errno = 0;
    if (s->kind == OPT_DOUBLE) {
        double v = strtod(text, &end);
        if (errno || end == text || *end || !(v >= s->min && v <= s->max)) return -1;
        store_number(s, target, v, 0, 0);
        return 0;
    }
    if (s->kind == OPT_U64 && text[0] != '-') { /* the whole unsigned range (seeds) */
        unsigned long long u = strtoull(text, &end, 10);
        if (errno || end == text || *end || (double)u < s->min || (double)u > s->max) return -1;
        store_number(s, target, (double)u, (uint64_t)u, 0);
        return 0;
    }
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || (double)v < s->min || (double)v > s->max) return -1;
    store_number(s, target, (double)v, (uint64_t)v, (int64_t)v);
    return 0;
}

int opts_parse(const opt_spec *table, void *target, const char *cmd, int argc, char **argv,
               int apply_table, opts_extra *extra)
{
    struct option longopts[OPTS_MAX + 4];
    int n = 0;
    for (; table[n].name; n++) {
        if (n == OPTS_MAX) abort(); /* a programming error: the table is static */
        longopts[n] = (struct option){table[n].name,
                                      table[n].kind == OPT_FLAG ? no_argument : required_argument,
                                      NULL, OPT_FIRST + n};
    }
    longopts[n] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longopts[n + 1] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    longopts[n + 2] = (struct option){"print-config", no_argument, NULL, OPT_PRINT_CONFIG};
    longopts[n + 3] = (struct option){NULL, 0, NULL, 0};
    int no_config = extra->no_config, positional_ok = extra->positional_ok;
    if (no_config) longopts[n + 1] = longopts[n + 3]; /* only the table and --help */
    memset(extra, 0, sizeof *extra);
    extra->no_config = no_config;
    extra->positional_ok = positional_ok;
    optind = 0; /* glibc: start afresh (this may be the second pass) */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h' || c == OPT_HELP) {
            extra->help = 1;
        } else if (c == OPT_CONFIG) {
            extra->config = optarg;
        } else if (c == OPT_PRINT_CONFIG) {
            extra->print_config = 1;
        } else if (c == '?' || c == ':') {
            const char *arg = argv[optind - 1];
            if (optopt >= OPT_FIRST && optopt < OPT_FIRST + n &&
                table[optopt - OPT_FIRST].kind == OPT_FLAG)
                fprintf(stderr, "aleph %s: --%s takes no value (see aleph %s --help)\n", cmd,
                        table[optopt - OPT_FIRST].name, cmd);
            else if (optopt >= OPT_FIRST && optopt < OPT_FIRST + n)
                fprintf(stderr, "aleph %s: --%s needs a value (see aleph %s --help)\n", cmd,
                        table[optopt - OPT_FIRST].name, cmd);
            else if (optopt == OPT_CONFIG)
                fprintf(stderr, "aleph %s: --config needs a file\n", cmd);
            else
                fprintf(stderr, "aleph %s: unknown option '%s' (see aleph %s --help)\n", cmd, arg,
                        cmd);
            return 2;
        } else if (apply_table && set_text(&table[c - OPT_FIRST], target, optarg) != 0) {
            char what[256];
            expected(&table[c - OPT_FIRST], what, sizeof what);
            fprintf(stderr, "aleph %s: --%s needs %s, got '%s'\n", cmd,
                    table[c - OPT_FIRST].name, what, optarg);
            return 2;
        }
    }
    if (optind < argc && positional_ok) {
        extra->positional = argv + optind; /* getopt_long moved them after the options */
        extra->positional_len = argc - optind;
    } else if (optind < argc) {
        fprintf(stderr, "aleph %s: unexpected argument '%s' (see aleph %s --help)\n", cmd,
                argv[optind], cmd);
        return 2;
    }
    return 0;
}

/* ---- the JSON file ------------------------------------------------------------------------- */

static void json_key(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s", name);
    for (char *p = out; *p; p++)
        if (*p == '-') *p = '_';
}

static int set_json(const opt_spec *s, void *target, json_t *v)
{
    if (s->kind == OPT_STRING) {
        if (json_is_null(v)) {
            *(const char **)field(target, s) = NULL;
            return 0;
        }
        if (!json_is_string(v)) return -1;
        *(const char **)field(target, s) = json_string_value(v);
        return 0;
    }
    if (s->kind == OPT_CHOICE) return json_is_string(v) ? set_text(s, target, json_string_value(v)) : -1;
    if (s->kind == OPT_FLAG) {
        if (!json_is_boolean(v)) return -1;
        *(int *)field(target, s) = json_is_true(v);
        return 0;
    }
    if (is_integer_kind(s->kind)) {
        if (!json_is_integer(v)) return -1;
        json_int_t x = json_integer_value(v);
        if ((double)x < s->min || (double)x > s->max) return -1;
        store_number(s, target, (double)x, (uint64_t)x, (int64_t)x);
        return 0;
    }
    if (!json_is_number(v)) return -1;
    double x = json_number_value(v);
    if (!(x >= s->min && x <= s->max)) return -1;
    store_number(s, target, x, 0, 0);
    return 0;
}

static void add_line(char *err, size_t cap, size_t *len, const char *path, const char *text)
{
    if (*len + 1 >= cap) return;
    int w = snprintf(err + *len, cap - *len, "%s%s: %s", *len ? "\n" : "", path, text);
    if (w > 0) *len += (size_t)w;
    if (*len >= cap) *len = cap - 1;
}

int opts_load_json(const opt_spec *table, void *target, const char *path, json_t **keep,
                   char *err, size_t cap)
{
    *keep = NULL;
    err[0] = '\0';
    size_t len = 0;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        char line[256];
        if (je.line <= 0) snprintf(line, sizeof line, "cannot read: %s", je.text);
        else snprintf(line, sizeof line, "line %d: %s", je.line, je.text);
        add_line(err, cap, &len, path, line);
        return -1;
    }
    if (!json_is_object(root)) {
        add_line(err, cap, &len, path, "not a JSON object");
        json_decref(root);
        return -1;
    }
    int problems = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        const opt_spec *s = NULL;
        char k[128];
        for (int i = 0; table[i].name && !s; i++) {
            json_key(table[i].name, k, sizeof k);
            if (strcmp(k, key) == 0) s = &table[i];
        }
        char line[512];
        if (!s) {
            snprintf(line, sizeof line, "unknown key \"%.100s\"", key);
        } else if (set_json(s, target, v) != 0) {
            char what[256];
            expected(s, what, sizeof what);
            snprintf(line, sizeof line, "\"%s\" must be %s", key, what);
        } else {
            continue;
        }
        problems++;
        add_line(err, cap, &len, path, line);
    }
    if (problems) {
        json_decref(root);
        return -1;
    }
    *keep = root;
    return 0;
}

json_t *opts_to_json(const opt_spec *table, const void *target)
{
    json_t *o = json_object();
    if (!o) return NULL;
    for (int i = 0; table[i].name; i++) {
        const opt_spec *s = &table[i];
        const void *f = (const char *)target + s->offset;
        json_t *v = NULL;
        switch (s->kind) {
        case OPT_STRING: {
            const char *str = *(const char *const *)f;
            v = str ? json_string(str) : json_null();
            break;
        }
        case OPT_U32: v = json_integer(*(const uint32_t *)f); break;
        case OPT_U64: v = json_integer((json_int_t) * (const uint64_t *)f); break;
        case OPT_SIZE: v = json_integer((json_int_t) * (const size_t *)f); break;
        case OPT_INT: v = json_integer(*(const int *)f); break;
        case OPT_DOUBLE: v = json_real(*(const double *)f); break;
        case OPT_FLAG: v = json_boolean(*(const int *)f); break;
        case OPT_CHOICE:
            for (int c = 0; s->choices[c]; c++)
                if (s->choice_values[c] == *(const int *)f) v = json_string(s->choices[c]);
            if (!v) v = json_null();
            break;
        }
        char k[128];
        json_key(s->name, k, sizeof k);
        json_object_set_new(o, k, v);
    }
    return o;
}
