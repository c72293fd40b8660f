/* The Prometheus text exposition format (version 0.0.4): a growing text buffer, the
 * HELP/TYPE header of a family, samples with escaped label values, and fixed-bucket
 * histograms in seconds. Used by metrics.c; knows nothing of the node. */
#ifndef ALEPH_NODE_METRICS_TEXT_H
#define ALEPH_NODE_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define HISTOGRAM_BUCKETS_MAX 16u

typedef struct text_buf {
    char *data;
    size_t len, cap;
    int failed; /* out of memory: the text is incomplete, drop it */
} text_buf;

void text_printf(text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "# HELP name help\n# TYPE name type\n"; type is counter, gauge or histogram. */
void metrics_family(text_buf *t, const char *name, const char *type, const char *help);
/* name{label="value"} v (label NULL: no labels); value escaped as the format requires. */
void metrics_sample(text_buf *t, const char *name, const char *label, const char *value,
                    double v);
void metrics_sample_u64(text_buf *t, const char *name, const char *label, const char *value,
                        uint64_t v);

typedef struct histogram {
    uint32_t buckets_len;
    double upper[HISTOGRAM_BUCKETS_MAX];   /* ascending upper bounds, seconds; +Inf implied */
    uint64_t counts[HISTOGRAM_BUCKETS_MAX]; /* per bucket, not cumulative */
    uint64_t count;
    double sum;
} histogram;

/* bounds: ascending, at most HISTOGRAM_BUCKETS_MAX. */
void histogram_init(histogram *h, const double *bounds, uint32_t n);
void histogram_observe(histogram *h, double seconds);
/* The family header and the _bucket (cumulative, le), _sum and _count lines. */
void metrics_histogram(text_buf *t, const char *name, const char *help, const histogram *h);

#endif
