/* gst-apm: stage spans between two apmonitor elements */
#include "gstapmspan.h"
#include "apm-service.h"

#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (apm_span_debug);
#define GST_CAT_DEFAULT apm_span_debug

/* 4096 buffers: 40 s of 10 ms buffers, 5 s of 64-sample buffers at 48 kHz;
 * a span whose end lags further behind its origin measures nothing */
#define ORIGIN_SLOTS 4096
#define ORIGIN_MASK (ORIGIN_SLOTS - 1)

/* Running times of the same media may differ by rounding (a resampler
 * computes its timestamps from its own sample counts): closer than this
 * counts as the same position. */
#define MATCH_SLACK GST_USECOND

/* Latencies kept per interval for its p95 (a uniform sample beyond). */
#define RESERVOIR 256

typedef struct
{
  guint64 seq;                  /* 2n+1 while entry n is written, 2n+2 after */
  GstClockTime start, end, when;
} Slot;

/* in an atomic reference-counted box: the origin monitor and every span
 * ending downstream of it hold a reference */
struct _GstApmSpanOrigin
{
  guint64 written;              /* entries ever recorded */
  guint64 valid_from;           /* entries before it are forgotten */
  GstClockTime last_start;      /* writer only */
  Slot slots[ORIGIN_SLOTS];
};

GstApmSpanOrigin *
gst_apm_span_origin_new (void)
{
  GstApmSpanOrigin *o = g_atomic_rc_box_new0 (GstApmSpanOrigin);

  o->last_start = GST_CLOCK_TIME_NONE;
  return o;
}

GstApmSpanOrigin *
gst_apm_span_origin_ref (GstApmSpanOrigin * o)
{
  return g_atomic_rc_box_acquire (o);
}

void
gst_apm_span_origin_unref (GstApmSpanOrigin * o)
{
  if (o)
    g_atomic_rc_box_release (o);
}

void
gst_apm_span_origin_reset (GstApmSpanOrigin * o)
{
  __atomic_store_n (&o->valid_from, __atomic_load_n (&o->written,
          __ATOMIC_RELAXED), __ATOMIC_RELEASE);
  o->last_start = GST_CLOCK_TIME_NONE;
}

void
gst_apm_span_origin_record (GstApmSpanOrigin * o, GstClockTime start,
    GstClockTime end, GstClockTime now)
{
  guint64 n;
  Slot *s;

  if (!GST_CLOCK_TIME_IS_VALID (start))
    return;
  /* lookups binary-search on start: keep it ascending */
  if (GST_CLOCK_TIME_IS_VALID (o->last_start) && start < o->last_start)
    gst_apm_span_origin_reset (o);
  o->last_start = start;

  n = o->written;
  s = &o->slots[n & ORIGIN_MASK];
  __atomic_store_n (&s->seq, 2 * n + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence (__ATOMIC_RELEASE);
  __atomic_store_n (&s->start, start, __ATOMIC_RELAXED);
  __atomic_store_n (&s->end, end, __ATOMIC_RELAXED);
  __atomic_store_n (&s->when, now, __ATOMIC_RELAXED);
  __atomic_store_n (&s->seq, 2 * n + 2, __ATOMIC_RELEASE);
  __atomic_store_n (&o->written, n + 1, __ATOMIC_RELEASE);
}

/* Entry @n as one consistent copy; FALSE if its slot holds another entry
 * (overwritten, or not written yet) or is being written. */
static gboolean
read_slot (GstApmSpanOrigin * o, guint64 n, Slot * out)
{
  const Slot *s = &o->slots[n & ORIGIN_MASK];
  guint64 seq = __atomic_load_n (&s->seq, __ATOMIC_ACQUIRE);

  if (seq != 2 * n + 2)
    return FALSE;
  out->start = __atomic_load_n (&s->start, __ATOMIC_RELAXED);
  out->end = __atomic_load_n (&s->end, __ATOMIC_RELAXED);
  out->when = __atomic_load_n (&s->when, __ATOMIC_RELAXED);
  __atomic_thread_fence (__ATOMIC_ACQUIRE);
  return __atomic_load_n (&s->seq, __ATOMIC_RELAXED) == seq;
}

gboolean
gst_apm_span_origin_lookup (GstApmSpanOrigin * o, GstClockTime rt,
    GstClockTime * when)
{
  guint64 w = __atomic_load_n (&o->written, __ATOMIC_ACQUIRE);
  guint64 from = __atomic_load_n (&o->valid_from, __ATOMIC_ACQUIRE);
  guint64 lo = w > ORIGIN_SLOTS ? w - ORIGIN_SLOTS : 0, hi = w, found = 0;
  gboolean have = FALSE;
  Slot e, next;

  if (!GST_CLOCK_TIME_IS_VALID (rt))
    return FALSE;
  lo = MAX (lo, from);

  /* the newest entry starting at or before rt: usually the newest of all
   * (no queue in between), else a binary search */
  if (w > lo && read_slot (o, w - 1, &e) && e.start <= rt + MATCH_SLACK) {
    found = w - 1;
    have = TRUE;
  } else {
    while (lo < hi) {
      guint64 mid = lo + (hi - lo) / 2;
      Slot m;

      if (!read_slot (o, mid, &m)) {
        lo = mid + 1;           /* overwritten since: look newer */
      } else if (m.start <= rt + MATCH_SLACK) {
        found = mid;
        e = m;
        have = TRUE;
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
  }
  if (!have)
    return FALSE;

  /* no slack past the end: media there that has not passed yet has not
   * reached the origin (a span-from naming a monitor downstream would
   * otherwise match every buffer to the one before it) */
  if (rt < e.start || !GST_CLOCK_TIME_IS_VALID (e.end) || rt < e.end) {
    /* inside the buffer (or just before it, by rounding) */
    *when = e.when;
    return TRUE;
  }
  /* in a hole after it: between it and the next, if that passed yet */
  if (!read_slot (o, found + 1, &next) || next.start <= e.end
      || next.when < e.when)
    return FALSE;
  *when = e.when + gst_util_uint64_scale (next.when - e.when, rt - e.end,
      next.start - e.end);
  return TRUE;
}

/* --- the span --- */

struct _GstApmSpan
{
  GstApmSpanOrigin *origin;
  gchar *name, *from, *to;
  ApmSeries *latency, *current, *buffers, *bytes, *media;
  guint64 unmatched;            /* atomic */
  guint64 last;                 /* atomic: last latency, NONE before one */

  /* the interval: streaming thread only */
  guint64 iv_buffers, iv_matched;
  guint64 iv_sum, iv_min, iv_max;
  guint32 rng;
  guint n_kept;
  GstClockTime kept[RESERVOIR];
};

/* from 100 us (a queue in between) to 10 s (encoders, big queues) */
static const gdouble span_buckets[] = {
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1.0, 2.5, 5.0, 10.0
};

static const gchar *const span_labels[] = { "pipeline", "span", "from", "to",
  NULL
};

static ApmSeries *
span_series (ApmRegistry * reg, const gchar * name, ApmMetricType type,
    const gchar * help, gdouble scale, const gchar * const *values)
{
  ApmFamily *f = apm_registry_family (reg, name, type, help, span_labels,
      type == APM_METRIC_HISTOGRAM ? span_buckets : NULL,
      type == APM_METRIC_HISTOGRAM ? G_N_ELEMENTS (span_buckets) : 0);

  if (!f) {
    GST_WARNING ("metric %s exists with other labels or type", name);
    return NULL;
  }
  if (scale != 1.0)
    apm_family_set_scale (f, scale);
  return apm_family_series (f, values);
}

GstApmSpan *
gst_apm_span_new (GstApmSpanOrigin * origin, const gchar * pipeline,
    const gchar * name, const gchar * from, const gchar * to)
{
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  GstApmSpan *span = g_new0 (GstApmSpan, 1);
  const gchar *values[] = { pipeline, name, from, to, NULL };

  /* idempotent: an existing category is returned */
  GST_DEBUG_CATEGORY_INIT (apm_span_debug, "apmspan", 0,
      "apmonitor stage spans");

  span->origin = gst_apm_span_origin_ref (origin);
  span->name = g_strdup (name);
  span->from = g_strdup (from);
  span->to = g_strdup (to);
  span->last = GST_CLOCK_TIME_NONE;
  span->rng = 0x9e3779b9u;
  span->latency = span_series (reg, "apm_span_latency_seconds",
      APM_METRIC_HISTOGRAM, "Wall-clock time for media to get from the "
      "span's first apmonitor to its second (matched by running time)",
      1.0, values);
  span->current = span_series (reg, "apm_span_current_latency_seconds",
      APM_METRIC_GAUGE, "Latency of the last buffer through the span", 1.0,
      values);
  span->buffers = span_series (reg, "apm_span_buffers_total",
      APM_METRIC_COUNTER, "Buffers out of the span (at its second "
      "apmonitor)", 1.0, values);
  span->bytes = span_series (reg, "apm_span_bytes_total",
      APM_METRIC_COUNTER, "Bytes out of the span (at its second apmonitor)",
      1.0, values);
  span->media = span_series (reg, "apm_span_media_seconds_total",
      APM_METRIC_COUNTER, "Media time out of the span (at its second "
      "apmonitor)", 1e-9, values);
  return span;
}

void
gst_apm_span_free (GstApmSpan * span)
{
  if (!span)
    return;
  g_clear_pointer (&span->latency, apm_series_retire);
  g_clear_pointer (&span->current, apm_series_retire);
  g_clear_pointer (&span->buffers, apm_series_retire);
  g_clear_pointer (&span->bytes, apm_series_retire);
  g_clear_pointer (&span->media, apm_series_retire);
  gst_apm_span_origin_unref (span->origin);
  g_free (span->name);
  g_free (span->from);
  g_free (span->to);
  g_free (span);
}

static inline guint32
next_random (GstApmSpan * span)
{
  /* xorshift32: g_random_* takes a global lock */
  guint32 x = span->rng;

  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return span->rng = x;
}

void
gst_apm_span_buffer (GstApmSpan * span, GstClockTime rt, GstClockTime now,
    gsize bytes, GstClockTime duration)
{
  GstClockTime when, latency;

  span->iv_buffers++;
  if (G_LIKELY (span->buffers))
    apm_counter_add_int (span->buffers, 1);
  if (G_LIKELY (span->bytes))
    apm_counter_add_int (span->bytes, bytes);
  if (span->media && GST_CLOCK_TIME_IS_VALID (duration))
    apm_counter_add_int (span->media, duration);

  if (!gst_apm_span_origin_lookup (span->origin, rt, &when)) {
    __atomic_fetch_add (&span->unmatched, 1, __ATOMIC_RELAXED);
    return;
  }
  latency = now > when ? now - when : 0;
  if (G_LIKELY (span->latency))
    apm_histogram_observe_ns (span->latency, latency);
  if (G_LIKELY (span->current))
    apm_gauge_set (span->current, (gdouble) latency / GST_SECOND);
  __atomic_store_n (&span->last, latency, __ATOMIC_RELAXED);

  span->iv_sum += latency;
  span->iv_min = span->iv_matched ? MIN (span->iv_min, latency) : latency;
  span->iv_max = MAX (span->iv_max, latency);
  /* reservoir sampling: every latency of the interval equally likely kept */
  if (span->n_kept < RESERVOIR) {
    span->kept[span->n_kept++] = latency;
  } else {
    guint32 j = next_random (span) % (span->iv_matched + 1);

    if (j < RESERVOIR)
      span->kept[j] = latency;
  }
  span->iv_matched++;
}

static int
compare_times (const void *a, const void *b)
{
  GstClockTime x = *(const GstClockTime *) a, y = *(const GstClockTime *) b;

  return x < y ? -1 : x > y;
}

void
gst_apm_span_reset_interval (GstApmSpan * span)
{
  span->iv_buffers = span->iv_matched = 0;
  span->iv_sum = span->iv_min = span->iv_max = 0;
  span->n_kept = 0;
}

void
gst_apm_span_take_interval (GstApmSpan * span, GstApmSpanInterval * iv)
{
  iv->buffers = span->iv_buffers;
  iv->matched = span->iv_matched;
  iv->last = iv->min = iv->mean = iv->p95 = iv->max = GST_CLOCK_TIME_NONE;
  if (span->iv_matched) {
    /* nearest rank */
    guint rank = (guint) ((span->n_kept * 95 + 99) / 100);

    qsort (span->kept, span->n_kept, sizeof (GstClockTime), compare_times);
    iv->last = __atomic_load_n (&span->last, __ATOMIC_RELAXED);
    iv->min = span->iv_min;
    iv->mean = span->iv_sum / span->iv_matched;
    iv->p95 = span->kept[MAX (rank, 1) - 1];
    iv->max = span->iv_max;
  }
  gst_apm_span_reset_interval (span);
}

const gchar *
gst_apm_span_get_name (GstApmSpan * span)
{
  return span->name;
}

GstClockTime
gst_apm_span_last_latency (GstApmSpan * span)
{
  return __atomic_load_n (&span->last, __ATOMIC_RELAXED);
}

JsonObject *
gst_apm_span_describe (GstApmSpan * span)
{
  JsonObject *o = json_object_new (), *lat = json_object_new ();
  GstClockTime last = gst_apm_span_last_latency (span);
  guint64 n = span->latency ? apm_series_count (span->latency) : 0;

  json_object_set_string_member (o, "name", span->name);
  json_object_set_string_member (o, "from", span->from);
  json_object_set_string_member (o, "to", span->to);
  json_object_set_int_member (o, "buffers", span->buffers ?
      (gint64) apm_series_value (span->buffers) : 0);
  json_object_set_int_member (o, "bytes", span->bytes ?
      (gint64) apm_series_value (span->bytes) : 0);
  json_object_set_double_member (o, "media_seconds", span->media ?
      apm_series_value (span->media) : 0.0);
  json_object_set_int_member (o, "matched", n);
  json_object_set_int_member (o, "unmatched",
      __atomic_load_n (&span->unmatched, __ATOMIC_RELAXED));
  json_object_set_int_member (lat, "count", n);
  if (n) {
    json_object_set_double_member (lat, "last_seconds",
        (gdouble) last / GST_SECOND);
    json_object_set_double_member (lat, "mean_seconds",
        apm_series_sum (span->latency) / n);
    json_object_set_double_member (lat, "p50_seconds",
        apm_series_quantile (span->latency, 0.5));
    json_object_set_double_member (lat, "p95_seconds",
        apm_series_quantile (span->latency, 0.95));
  }
  json_object_set_object_member (o, "latency", lat);
  return o;
}
