#include "latency_matrix.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t err_len, const char *source, unsigned line, const char *fmt,
                ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line) snprintf(err, err_len, "%s:%u: %s", source, line, what);
    else snprintf(err, err_len, "%s: %s", source, what);
    return -1;
}

/* Splits one line (without its newline) at tabs into fields; returns the count, or
 * SIM_REGIONS_MAX + 2 when there are too many. Fields point into `buf`, which is modified. */
static unsigned split_tabs(char *buf, char **fields, unsigned max)
{
    unsigned n = 0;
    char *p = buf;
    for (;;) {
        if (n == max) return max + 1;
        fields[n++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    return n;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r') return 0;
    return 1;
}

int sim_latency_matrix_parse(const char *text, size_t len, const char *source,
                             sim_latency_matrix *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    unsigned line_no = 0, rows = 0;
    int have_header = 0;
    size_t pos = 0;
    char line[8192];
    char *fields[SIM_REGIONS_MAX + 2];
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') end++;
        line_no++;
        size_t line_len = end - pos;
        if (line_len >= sizeof line) return fail(err, err_len, source, line_no, "line too long");
        memcpy(line, text + pos, line_len);
        line[line_len] = '\0';
        pos = end < len ? end + 1 : end;
        if (line_len && line[line_len - 1] == '\r') line[--line_len] = '\0';
        if (memchr(line, '\0', line_len))
            return fail(err, err_len, source, line_no, "NUL byte in the file");
        if (line[0] == '#' || blank(line)) continue;
        unsigned nf = split_tabs(line, fields, SIM_REGIONS_MAX + 1);
        if (!have_header) {
            if (nf > SIM_REGIONS_MAX + 1)
                return fail(err, err_len, source, line_no, "more than %u regions", SIM_REGIONS_MAX);
            if (nf < 2)
                return fail(err, err_len, source, line_no,
                            "header needs a label and at least one tab-separated region name");
            out->regions = nf - 1;
            for (unsigned i = 1; i < nf; i++) {
                if (!fields[i][0] || strlen(fields[i]) >= SIM_REGION_NAME_MAX)
                    return fail(err, err_len, source, line_no,
                                "region name %u is empty or longer than %u bytes", i,
                                SIM_REGION_NAME_MAX - 1);
                for (unsigned j = 1; j < i; j++)
                    if (strcmp(fields[j], fields[i]) == 0)
                        return fail(err, err_len, source, line_no, "region '%s' appears twice",
                                    fields[i]);
                strcpy(out->names[i - 1], fields[i]);
            }
            have_header = 1;
            continue;
        }
        if (rows == out->regions)
            return fail(err, err_len, source, line_no, "more rows than the %u regions of the header",
                        out->regions);
        if (nf != out->regions + 1)
            return fail(err, err_len, source, line_no,
                        "row '%s' has %u values, expected %u (one per region, tab-separated)",
                        fields[0], nf > SIM_REGIONS_MAX ? nf : nf - 1, out->regions);
        if (strcmp(fields[0], out->names[rows]) != 0)
            return fail(err, err_len, source, line_no,
                        "row %u is named '%s' but column %u is '%s' (rows must follow the header's order)",
                        rows + 1, fields[0], rows + 1, out->names[rows]);
        for (unsigned i = 1; i < nf; i++) {
            char *endp;
            errno = 0;
            double v = strtod(fields[i], &endp);
            while (*endp == ' ') endp++;
            if (endp == fields[i] || *endp != '\0' || errno == ERANGE || !isfinite(v))
                return fail(err, err_len, source, line_no, "value '%s' in row '%s' is not a number",
                            fields[i], fields[0]);
            if (v < 0)
                return fail(err, err_len, source, line_no, "negative RTT %s in row '%s'", fields[i],
                            fields[0]);
            if (v > 60000)
                return fail(err, err_len, source, line_no,
                            "RTT %s ms in row '%s' is over a minute: not milliseconds?", fields[i],
                            fields[0]);
            out->rtt_ms[rows][i - 1] = v;
        }
        rows++;
    }
    if (!have_header) return fail(err, err_len, source, 0, "no header line (and no data)");
    if (rows != out->regions)
        return fail(err, err_len, source, 0, "%u rows for %u regions", rows, out->regions);
    return 0;
}

int sim_latency_matrix_load(const char *path, sim_latency_matrix *out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail(err, err_len, path, 0, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return fail(err, err_len, path, 0, "out of memory");
    }
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            free(buf);
            fclose(f);
            return fail(err, err_len, path, 0, "file over 64 KiB: not a latency matrix");
        }
    }
    int read_error = ferror(f);
    fclose(f);
    int rc = read_error ? fail(err, err_len, path, 0, "read error")
                        : sim_latency_matrix_parse(buf, len, path, out, err, err_len);
    free(buf);
    return rc;
}

uint64_t sim_latency_matrix_one_way_ms(const sim_latency_matrix *m, uint32_t from_region,
                                       uint32_t to_region)
{
    double one_way = m->rtt_ms[from_region][to_region] / 2.0;
    uint64_t ms = (uint64_t)llround(one_way);
    return ms < 1 ? 1 : ms;
}
