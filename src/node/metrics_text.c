#include "metrics_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_printf(text_buf *t, const char *fmt, ...)
{
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = t->cap - t->len;
        int n = vsnprintf(t->data ? t->data + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len <= (size_t)n) cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
}

void metrics_family(text_buf *t, const char *name, const char *type, const char *help)
{
    text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: backslash, double quote and line feed escaped (the format's rule). */
static void label_escaped(text_buf *t, const char *value)
{
    char esc[512];
    size_t o = 0;
    for (const char *p = value; *p && o + 3 < sizeof esc; p++) {
        if (*p == '\\' || *p == '"') {
            esc[o++] = '\\';
            esc[o++] = *p;
        } else if (*p == '\n') {
            esc[o++] = '\\';
            esc[o++] = 'n';
        } else {
            esc[o++] = *p;
        }
    }
    esc[o] = '\0';
    text_printf(t, "\"%s\"", esc);
}

static void sample_name(text_buf *t, const char *name, const char *label, const char *value)
{
    text_printf(t, "%s", name);
    if (!label) return;
    text_printf(t, "{%s=", label);
    label_escaped(t, value);
    text_printf(t, "}");
}

void metrics_sample(text_buf *t, const char *name, const char *label, const char *value, double v)
{
    sample_name(t, name, label, value);
    text_printf(t, " %.17g\n", v);
}

void metrics_sample_u64(text_buf *t, const char *name, const char *label, const char *value,
                        uint64_t v)
{
    sample_name(t, name, label, value);
    text_printf(t, " %" PRIu64 "\n", v);
}

void histogram_init(histogram *h, const double *bounds, uint32_t n)
{
    /* The bounds are the program's constants: a bad table is a bug (always checked). */
    if (n > HISTOGRAM_BUCKETS_MAX) abort();
    memset(h, 0, sizeof *h);
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && !(bounds[i] > bounds[i - 1])) abort();
        h->upper[i] = bounds[i];
    }
    h->buckets_len = n;
}

void histogram_observe(histogram *h, double seconds)
{
    uint32_t i = 0;
    while (i < h->buckets_len && seconds > h->upper[i]) i++;
    if (i < h->buckets_len) h->counts[i]++;
    h->count++;
    h->sum += seconds;
}

void metrics_histogram(text_buf *t, const char *name, const char *help, const histogram *h)
{
    metrics_family(t, name, "histogram", help);
    uint64_t cumulative = 0;
    for (uint32_t i = 0; i < h->buckets_len; i++) {
        cumulative += h->counts[i];
        text_printf(t, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, h->upper[i], cumulative);
    }
    text_printf(t, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, h->count);
    text_printf(t, "%s_sum %.17g\n%s_count %" PRIu64 "\n", name, h->sum, name, h->count);
}
