/* gst-apm: an alert rule's value over the metric registry: label
 * matching, aggregations over the history window, ratios, and p95 of what
 * a histogram observed since the previous evaluation */
#include "apm-alerts-private.h"
#include "apm-history.h"

#include <math.h>

static gboolean
compare (ApmComparison op, gdouble v, gdouble t)
{
  switch (op) {
    case APM_CMP_GT:
      return v > t;
    case APM_CMP_GE:
      return v >= t;
    case APM_CMP_LT:
      return v < t;
    case APM_CMP_LE:
      return v <= t;
    case APM_CMP_EQ:
      return v == t;
    default:
      return v != t;
  }
}

static gboolean
series_matches (ApmAlertRule * r, ApmSeries * s)
{
  for (guint i = 0; i + 1 < r->match->len; i += 2)
    if (g_strcmp0 (apm_series_label (s, r->match->pdata[i]),
            r->match->pdata[i + 1]) != 0)
      return FALSE;
  return TRUE;
}

/* increase over the window from history; FALSE without two samples */
static gboolean
window_increase (ApmSeries * s, gint64 since, gdouble * inc, gdouble * secs)
{
  guint n;
  ApmPoint *p = apm_history_points (s, since, &n);
  gboolean ok = n >= 2;

  if (ok) {
    *inc = p[n - 1].v - p[0].v;
    *secs = (p[n - 1].t_us - p[0].t_us) / 1e6;
  }
  g_free (p);
  return ok && *secs > 0;
}

/* NaN when there is not enough data */
static gdouble
series_value (ApmAlertRule * r, ApmRegistry * reg, ApmSeries * s, gint64 now)
{
  gint64 since = now - (gint64) (MAX (r->window_s, 1) * 1e6);
  gdouble v = NAN, inc, secs;
  guint n;
  ApmPoint *p;

  switch (r->agg) {
    case APM_AGG_LAST:
      return apm_series_metric_type (s) == APM_METRIC_HISTOGRAM ?
          (apm_series_count (s) ? apm_series_sum (s) / apm_series_count (s) :
          NAN) : apm_series_value (s);
    case APM_AGG_AVG:
    case APM_AGG_MAX:
    case APM_AGG_MIN:
      p = apm_history_points (s, since, &n);
      for (guint i = 0; i < n; i++) {
        gdouble x = p[i].v;

        if (i == 0)
          v = x;
        else if (r->agg == APM_AGG_AVG)
          v += x;
        else if (r->agg == APM_AGG_MAX)
          v = MAX (v, x);
        else
          v = MIN (v, x);
      }
      if (n && r->agg == APM_AGG_AVG)
        v /= n;
      g_free (p);
      return v;
    case APM_AGG_RATE:
      return window_increase (s, since, &inc, &secs) ? inc / secs : NAN;
    case APM_AGG_INCREASE:
      return window_increase (s, since, &inc, &secs) ? inc : NAN;
    case APM_AGG_RATIO:{
      ApmSeries *d = r->denominator ?
          apm_registry_find_series_like (reg, r->denominator, s) : NULL;
      gdouble dinc, dsecs;

      if (d && window_increase (s, since, &inc, &secs)
          && window_increase (d, since, &dinc, &dsecs) && dinc > 0)
        v = inc / dinc;
      g_clear_pointer (&d, apm_series_unref);
      return v;
    }
    case APM_AGG_P95:{
      guint nb = s->n_bounds + 1;
      guint64 *now_counts = g_new (guint64, nb);
      gchar *key = apm_series_dup_key (s);
      guint64 *prev = g_hash_table_lookup (r->snapshots, key);
      ApmSeries tmp;

      if (!s->buckets) {
        g_free (now_counts);
        g_free (key);
        return NAN;
      }
      apm_series_histogram (s, now_counts);
      if (prev) {
        /* the quantile of what was observed since the last evaluation */
        guint64 *diff = g_new0 (guint64, nb);

        for (guint i = 0; i < nb; i++) {
          guint64 prev_i = prev[i] - (i ? prev[i - 1] : 0);
          guint64 now_i = now_counts[i] - (i ? now_counts[i - 1] : 0);

          diff[i] = now_i >= prev_i ? now_i - prev_i : now_i;
        }
        tmp = *s;
        tmp.buckets = diff;
        tmp.sum_ns = 0;
        tmp.fbits = 0;
        v = apm_series_quantile (&tmp, 0.95);
        g_free (diff);
      }
      g_hash_table_replace (r->snapshots, key, now_counts);
      return v;
    }
  }
  return NAN;
}

/* collects the label sets for which @r's condition holds */
static void
evaluate_expr (ApmAlertRule * r, ApmRegistry * reg, gint64 now,
    GPtrArray * hits)
{
  GPtrArray *series;
  GHashTable *seen = NULL;

  if (r->agg != APM_AGG_LAST && r->agg != APM_AGG_P95) {
    apm_history_keep (reg, r->metric);
    if (r->denominator)
      apm_history_keep (reg, r->denominator);
  }
  series = apm_registry_list_series (reg, r->metric);
  if (r->agg == APM_AGG_P95)
    seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint j = 0; series && j < series->len; j++) {
    ApmSeries *s = g_ptr_array_index (series, j);
    gdouble v;

    if (!series_matches (r, s))
      continue;
    if (seen)
      g_hash_table_add (seen, apm_series_dup_key (s));
    v = series_value (r, reg, s, now);
    if (isnan (v) || !compare (r->op, v, r->threshold))
      continue;
    if (r->require) {
      ApmSeries *req = apm_registry_find_series_like (reg, r->require, s);
      gboolean on = req && apm_series_value (req) > 0;

      g_clear_pointer (&req, apm_series_unref);
      if (!on)
        continue;
    }
    {
      ApmAlertHit *h = g_new0 (ApmAlertHit, 1);
      gchar *series_key = apm_series_dup_key (s);
      const gchar *const *names = apm_series_label_names (s);
      const gchar *const *values = apm_series_label_values (s);

      h->key = g_strconcat (r->name, "\x1e", series_key, NULL);
      g_free (series_key);
      h->labels = json_object_new ();
      for (guint i = 0; names && names[i]; i++)
        json_object_set_string_member (h->labels, names[i], values[i]);
      h->value = v;
      g_ptr_array_add (hits, h);
    }
  }
  if (seen) {
    /* forget the snapshots of series that are gone */
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init (&it, r->snapshots);
    while (g_hash_table_iter_next (&it, &key, NULL))
      if (!g_hash_table_contains (seen, key))
        g_hash_table_iter_remove (&it);
    g_hash_table_destroy (seen);
  }
  g_clear_pointer (&series, g_ptr_array_unref);
}

GPtrArray *
alert_rule_collect_hits (ApmAlertRule * r, ApmRegistry * reg, gint64 now)
{
  GPtrArray *hits = g_ptr_array_new ();

  if (r->func) {
    gdouble v = NAN;

    if (r->func (r->user_data, &v)) {
      ApmAlertHit *h = g_new0 (ApmAlertHit, 1);

      h->key = g_strdup (r->name);
      h->labels = json_object_new ();
      h->value = v;
      g_ptr_array_add (hits, h);
    }
  } else {
    evaluate_expr (r, reg, now, hits);
  }
  return hits;
}
