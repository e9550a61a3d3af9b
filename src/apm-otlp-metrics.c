/* gst-apm: the registry's families as OTLP metrics
 *
 * The same families and series as /metrics, cumulative since the
 * exporter started: counters as monotonic sums, gauges as gauges,
 * histograms with their explicit bounds.  Names stay Prometheus' (with
 * _total), so queries carry over.
 */
#include "apm-otlp-private.h"

#include <string.h>

typedef struct
{
  ApmOtlp *otlp;
  GPtrArray *metrics;
  guint64 now_ns;
} Snapshot;

static const gchar *
unit_of (const gchar * name)
{
  if (g_str_has_suffix (name, "_seconds")
      || g_str_has_suffix (name, "_seconds_total"))
    return "s";
  if (g_str_has_suffix (name, "_bytes")
      || g_str_has_suffix (name, "_bytes_total"))
    return "By";
  return NULL;
}

static void
add_family (const gchar * name, ApmMetricType type, const gchar * help,
    const gchar * const *label_names, GPtrArray * series, gpointer data)
{
  Snapshot *snap = data;
  ApmOtlpMetric *m;

  if (!series->len)
    return;
  m = apm_otlp_metric_new (name, type == APM_METRIC_COUNTER ?
      APM_OTLP_METRIC_SUM : type == APM_METRIC_GAUGE ?
      APM_OTLP_METRIC_GAUGE : APM_OTLP_METRIC_HISTOGRAM);
  m->description = g_strdup (help);
  m->unit = g_strdup (unit_of (name));
  m->start_ns = snap->otlp->start_ns;
  m->time_ns = snap->now_ns;
  if (type == APM_METRIC_HISTOGRAM) {
    ApmSeries *first = series->pdata[0];

    m->n_bounds = first->n_bounds;
    m->bounds = g_memdup2 (first->bounds, sizeof (gdouble) * m->n_bounds);
  }
  for (guint i = 0; i < series->len; i++) {
    ApmSeries *s = series->pdata[i];
    ApmOtlpPoint *pt;
    const gchar *const *values = apm_series_label_values (s);

    if (type == APM_METRIC_HISTOGRAM && s->n_bounds != m->n_bounds)
      continue;
    pt = apm_otlp_metric_add_point (m);
    for (guint k = 0; label_names && label_names[k]; k++)
      apm_otlp_attrs_add_string (pt->attrs, label_names[k],
          values && values[k] ? values[k] : "");
    if (type == APM_METRIC_HISTOGRAM) {
      guint64 prev = 0;

      /* the registry's counts are cumulative, OTLP's per bucket */
      pt->sum = apm_series_histogram (s, pt->bucket_counts);
      for (guint k = 0; k <= m->n_bounds; k++) {
        guint64 c = pt->bucket_counts[k];

        pt->bucket_counts[k] = c - prev;
        prev = c;
      }
      pt->count = prev;
    } else {
      pt->value = apm_series_value (s);
    }
  }
  g_ptr_array_add (snap->metrics, m);
}

GPtrArray *
apm_otlp_snapshot_metrics (ApmOtlp * otlp)
{
  Snapshot snap = { otlp, NULL, (guint64) g_get_real_time () * 1000 };

  snap.metrics = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_otlp_metric_free);
  apm_registry_foreach (otlp->registry, add_family, &snap);
  return snap.metrics;
}

GBytes *
apm_otlp_encode_metric_snapshots (GPtrArray * items, guint * n_sent,
    gpointer user_data)
{
  ApmOtlp *otlp = user_data;
  GPtrArray *all = g_ptr_array_new ();
  GBytes *body = NULL;

  *n_sent = 0;
  for (guint i = 0; i < items->len; i++) {
    GPtrArray *snap = items->pdata[i];

    for (guint k = 0; k < snap->len; k++) {
      ApmOtlpMetric *m = snap->pdata[k];

      g_ptr_array_add (all, m);
      *n_sent += m->points->len;
    }
  }
  if (all->len)
    body = apm_otlp_encode_metrics (&otlp->resource, all,
        otlp->config->signal[APM_OTLP_METRICS].encoding);
  g_ptr_array_unref (all);
  return body;
}
