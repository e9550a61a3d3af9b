/* gst-apm: metric registry (counters, gauges, histograms with labels)
 *
 * Series are created once (under the registry lock) and then updated from any
 * thread with plain atomic operations, so a streaming thread can hold a series
 * pointer and update it per buffer without locking or allocating.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  APM_METRIC_COUNTER,
  APM_METRIC_GAUGE,
  APM_METRIC_HISTOGRAM,
} ApmMetricType;

typedef struct _ApmRegistry ApmRegistry;
typedef struct _ApmFamily ApmFamily;
typedef struct _ApmSeries ApmSeries;

/* Fixed-size part of a series, visible so the update functions inline. */
struct _ApmSeries
{
  gint64 ival;                  /* integer part, atomic add */
  guint64 fbits;                /* double part (bits), CAS add or store */
  guint64 *buckets;             /* histogram: n_bounds + 1 counts */
  const gint64 *bounds_ns;      /* histogram: bounds in nanounits */
  const gdouble *bounds;
  guint n_bounds;
  /* histograms observed from streaming threads: the largest observation
   * (ns, saturating) since apm_series_take_max_ns(), for an exemplar; in
   * what was padding */
  guint32 max_ns;
  gint64 sum_ns;                /* histogram: integer sum in nanounits */
  gdouble scale;                /* unit of ival (1, or 1e-9 for ns) */
  /* private */
  ApmFamily *family;
  gchar **label_values;         /* interned (GRefString) */
  /* by hand, not an rc box: ten thousand series at 500 elements, and a
   * box's header would cost 16 bytes more each */
  gint ref_count;
  gint64 retired_at;            /* monotonic us, 0 while live */
  /* what few series have (a sampled history, an exemplar), made on first
   * use under the registry's lock and kept until the series goes: out of
   * line, as 10,000 series at 500 elements mostly have neither */
  struct _ApmSeriesExtra *extra;
};

ApmRegistry *apm_registry_new (guint max_series);
void apm_registry_free (ApmRegistry * registry);

/* Get or create a family.  @label_names is NULL-terminated (may be NULL).
 * @bounds (histograms only) are the upper bucket bounds, ascending, without
 * +Inf.  Returns NULL if the name exists with another type or labels. */
ApmFamily *apm_registry_family (ApmRegistry * registry, const gchar * name,
    ApmMetricType type, const gchar * help,
    const gchar * const *label_names, const gdouble * bounds, guint n_bounds);

/* Integer updates of the family's series are in units of @scale (e.g. 1e-9
 * for a family in seconds updated with nanoseconds).  Set before use. */
void apm_family_set_scale (ApmFamily * family, gdouble scale);

ApmFamily *apm_registry_lookup (ApmRegistry * registry, const gchar * name);

/* Get or create the series for @label_values (same count as label names),
 * returning a new reference.  Never NULL: past the registry's series cap a
 * shared unrendered overflow series is returned and the drop is counted. */
ApmSeries *apm_family_series (ApmFamily * family,
    const gchar * const *label_values);

ApmSeries *apm_series_ref (ApmSeries * series);
void apm_series_unref (ApmSeries * series);

/* Drop the caller's reference and remove the series from exposition after
 * the registry's grace period, so its last values can still be scraped. */
void apm_series_retire (ApmSeries * series);

/* Retires every series whose label @label is @value (e.g. all the series
 * of a pipeline that was disposed).  Returns how many. */
guint apm_registry_retire_label (ApmRegistry * registry, const gchar * label,
    const gchar * value);

/* Remove retired series older than @grace_us.  Called by the service. */
void apm_registry_sweep (ApmRegistry * registry, gint64 grace_us);

guint apm_registry_n_series (ApmRegistry * registry);
guint64 apm_registry_n_dropped (ApmRegistry * registry);

/* --- updates: lock-free, allocation-free, safe from any thread --- */

static inline void
apm_counter_add_int (ApmSeries * s, gint64 n)
{
  __atomic_fetch_add (&s->ival, n, __ATOMIC_RELAXED);
}

static inline void
apm_series_add (ApmSeries * s, gdouble v)
{
  guint64 old = __atomic_load_n (&s->fbits, __ATOMIC_RELAXED);
  union { guint64 u; gdouble d; } cur, next;
  do {
    cur.u = old;
    next.d = cur.d + v;
  } while (!__atomic_compare_exchange_n (&s->fbits, &old, next.u, TRUE,
          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

static inline void
apm_gauge_set (ApmSeries * s, gdouble v)
{
  union { guint64 u; gdouble d; } x;
  x.d = v;
  __atomic_store_n (&s->ival, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&s->fbits, x.u, __ATOMIC_RELAXED);
}

static inline void
apm_gauge_set_int (ApmSeries * s, gint64 v)
{
  __atomic_store_n (&s->fbits, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&s->ival, v, __ATOMIC_RELAXED);
}

/* Observe an integer value in nanounits (e.g. nanoseconds for a histogram
 * in seconds).  Linear scan: audio histograms have ~16 buckets. */
static inline void
apm_histogram_observe_ns (ApmSeries * s, gint64 v_ns)
{
  guint i = 0;
  while (i < s->n_bounds && v_ns > s->bounds_ns[i])
    i++;
  __atomic_fetch_add (&s->buckets[i], 1, __ATOMIC_RELAXED);
  __atomic_fetch_add (&s->sum_ns, v_ns, __ATOMIC_RELAXED);
}

void apm_histogram_observe (ApmSeries * s, gdouble v);

/* apm_histogram_observe_ns() that also keeps the interval's largest
 * observation (a load and a compare; a store when it grows). */
static inline void
apm_histogram_observe_max_ns (ApmSeries * s, gint64 v_ns)
{
  apm_histogram_observe_ns (s, v_ns);
  if (G_UNLIKELY (v_ns > (gint64) __atomic_load_n (&s->max_ns,
              __ATOMIC_RELAXED)))
    __atomic_store_n (&s->max_ns, (guint32) MIN (v_ns, G_MAXUINT32),
        __ATOMIC_RELAXED);
}

/* The largest observation since the last call (0: none); as with
 * apm_local_histogram_take_max_ns(), a racing writer's maximum may be lost
 * or kept one more interval: an example, not a statistic. */
static inline guint32
apm_series_take_max_ns (ApmSeries * s)
{
  guint32 max = __atomic_load_n (&s->max_ns, __ATOMIC_RELAXED);

  if (max)
    __atomic_store_n (&s->max_ns, 0, __ATOMIC_RELAXED);
  return max;
}

/* OpenMetrics exemplars: the trace of an observation, 32 lowercase hex
 * digits (W3C trace id) */
#define APM_TRACE_ID_LEN 32
typedef struct _ApmExemplar
{
  gchar trace_id[APM_TRACE_ID_LEN + 1];
  guint bucket;                 /* where @value falls */
  gdouble value;
  gint64 wall_us;
} ApmExemplar;

struct _ApmSeriesExtra
{
  /* histograms: the newest example observation (an OpenMetrics exemplar,
   * shown on its bucket; wall_us 0: none), under the registry's lock.  One
   * per series, not one per bucket (a megabyte at 1,000 histograms) */
  ApmExemplar exemplar;
  /* tiered history, service thread only (see apm-history.h) */
  struct _ApmSeriesHistory *history;
};

/* The series' extra part (NULL: none yet); apm_series_extra_locked()
 * makes it, with the registry's lock held. */
static inline struct _ApmSeriesExtra *
apm_series_get_extra (const ApmSeries * s)
{
  return __atomic_load_n (&s->extra, __ATOMIC_ACQUIRE);
}

struct _ApmSeriesExtra *apm_series_extra_locked (ApmSeries * s);

/* Makes @v, observed for the trace @trace_id, the series' example (the
 * newest replaces the last).  Any thread. */
void apm_histogram_set_exemplar (ApmSeries * s, gdouble v,
    const gchar * trace_id);

/* The trace id of a correlation id (a W3C trace id, or a UUID of older
 * callers): its 32 hex digits,
 * lowercase, into @out; FALSE if it has not exactly 32. */
gboolean apm_trace_id_from_correlation_id (const gchar * correlation_id,
    gchar out[APM_TRACE_ID_LEN + 1]);

/* Reads for exposition and JSON. */
gdouble apm_series_value (const ApmSeries * s);
/* Fills @counts (n_bounds + 1, cumulative) and returns the sum. */
gdouble apm_series_histogram (const ApmSeries * s, guint64 * counts);
/* Exact integer reads, for differences that doubles would round: the
 * integer part of a counter in units of its family's scale (nanoseconds for
 * one in seconds updated with nanoseconds), and a histogram's sum in
 * nanounits.  Neither includes what was added as a double. */
gint64 apm_series_int_value (const ApmSeries * s);
gint64 apm_series_sum_ns (const ApmSeries * s);

/* Iteration for renderers: calls @func for each family with its live series,
 * under the registry lock; @func must not call back into the registry. */
typedef void (*ApmFamilyFunc) (const gchar * name, ApmMetricType type,
    const gchar * help, const gchar * const *label_names,
    GPtrArray * series, gpointer user_data);
void apm_registry_foreach (ApmRegistry * registry, ApmFamilyFunc func,
    gpointer user_data);

/* Histogram summaries: observation count, sum, and the @q quantile
 * interpolated within buckets as Prometheus' histogram_quantile() does
 * (NaN when empty; the highest finite bound when it falls in +Inf). */
guint64 apm_series_count (const ApmSeries * s);
gdouble apm_series_sum (const ApmSeries * s);
gdouble apm_series_quantile (const ApmSeries * s, gdouble q);

const gchar *const *apm_series_label_values (const ApmSeries * s);
const gchar *const *apm_series_label_names (const ApmSeries * s);
/* The value of label @label_name, or NULL if the series has no such label. */
const gchar *apm_series_label (const ApmSeries * s, const gchar * label_name);
ApmMetricType apm_series_metric_type (const ApmSeries * s);

/* The live series of family @name in creation order, each with a reference
 * that the array drops; NULL if there is no such family.  A copy: the
 * caller reads it without holding the registry. */
GPtrArray *apm_registry_list_series (ApmRegistry * registry,
    const gchar * name);

/* The series of family @name whose labels have the values that @like has
 * for the same label names (a new reference), or NULL: e.g. the
 * denominator of a ratio for the numerator's pipeline and monitor. */
ApmSeries *apm_registry_find_series_like (ApmRegistry * registry,
    const gchar * name, const ApmSeries * like);

/* The label values joined by \x1f: identifies the series within its family
 * across retirements (caller frees). */
gchar *apm_series_dup_key (const ApmSeries * s);

/* Default audio-friendly latency buckets in seconds: 10 us ... 1 s. */
extern const gdouble apm_seconds_buckets[];
extern const guint apm_n_seconds_buckets;
/* The same bounds in nanoseconds (for single-writer histograms,
 * apm-local.h): one list, APM_SECONDS_BOUNDS_NS, makes both. */
#define APM_SECONDS_BOUNDS_NS(X) \
  X (10000) X (25000) X (50000) X (100000) X (250000) X (500000) \
  X (1000000) X (2500000) X (5000000) X (10000000) X (25000000) \
  X (50000000) X (100000000) X (250000000) X (500000000) X (1000000000)
extern const gint64 apm_seconds_bounds_ns[];

G_END_DECLS
