/* The summary's files and its printing, one copy for `aleph analyze` and `aleph local`:
 * summary.json (with the run directory when one is named), summary.txt and the CSV files in
 * a directory, then the summary on stdout as text or as one JSON object. */
#include <stdlib.h>

#include <jansson.h>

#include "summary.h"

#define SUMMARY_JSON_FLAGS (JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))

static json_t *summary_json_for(const run_summary *s, const char *run_dir)
{
    json_t *j = summary_json(s);
    if (run_dir) json_object_set_new(j, "run_dir", json_string(run_dir));
    return j;
}

int summary_write_files(const run_summary *s, const summary_inputs *in, const char *dir,
                        const char *run_dir, char *err, size_t cap)
{
    char path[4400];
    json_t *j = summary_json_for(s, run_dir);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_dump_file(j, path, JSON_INDENT(2) | SUMMARY_JSON_FLAGS);
    json_decref(j);
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    FILE *sf = fopen(path, "w");
    if (sf) {
        summary_text(sf, s);
        fclose(sf);
    }
    return summary_write_csv(s, in, dir, err, cap);
}

void summary_print(const run_summary *s, const char *run_dir, int json)
{
    if (!json) {
        summary_text(stdout, s);
        return;
    }
    json_t *j = summary_json_for(s, run_dir);
    char *text = json_dumps(j, SUMMARY_JSON_FLAGS);
    printf("%s\n", text);
    free(text);
    json_decref(j);
}
