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

/* increase over the window from history (the points' increases: each
 * point's covers its interval); FALSE without two samples */
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

/* a point's value for avg, min, max, change and predict: a gauge's mean
 * (its min or max for those), a histogram's p95, a counter's rate */
static gdouble
point_value (ApmSeries * s, const ApmPoint * p, const ApmPoint * prev,
    ApmAggregation agg)
{
  switch (apm_series_metric_type (s)) {
    case APM_METRIC_GAUGE:
      return agg == APM_AGG_MAX ? p->max : agg == APM_AGG_MIN ? p->min :
          p->avg;
    case APM_METRIC_HISTOGRAM:
      return agg == APM_AGG_MAX ? p->max : agg == APM_AGG_MIN ? p->min :
          p->avg;
    default:
      if (agg == APM_AGG_PREDICT)
        return p->v;
      return prev && p->t_us > prev->t_us ?
          p->delta / ((p->t_us - prev->t_us) / 1e6) : NAN;
  }
}

/* mean of the points' values in [@from, @to), weighted by observation
 * count for histograms; NaN if none.  @first_t: the first point's time */
static gdouble
window_mean (ApmSeries * s, ApmPoint * p, guint n, gint64 from, gint64 to,
    gint64 * first_t)
{
  gdouble sum = 0, w = 0;
  gboolean histogram = apm_series_metric_type (s) == APM_METRIC_HISTOGRAM;

  *first_t = G_MAXINT64;
  for (guint i = 0; i < n; i++) {
    gdouble v, wi;

    if (p[i].t_us < from || p[i].t_us >= to)
      continue;
    v = point_value (s, &p[i], i ? &p[i - 1] : NULL, APM_AGG_CHANGE);
    wi = histogram ? p[i].delta : 1;
    if (!isfinite (v) || !(wi > 0))
      continue;
    *first_t = MIN (*first_t, p[i].t_us);
    sum += v * wi;
    w += wi;
  }
  return w > 0 ? sum / w : NAN;
}

/* percent change of the window's mean against the baseline window just
 * before it; NaN until the history reaches half-way into the baseline */
static gdouble
trend_change (ApmAlertRule * r, ApmSeries * s, gint64 now)
{
  gint64 window = (gint64) (MAX (r->window_s, 1) * 1e6);
  gint64 baseline = (gint64) (MAX (r->baseline_s, 1) * 1e6);
  gint64 first_t, unused;
  guint n;
  ApmPoint *p = apm_history_points (s, now - window - baseline, &n);
  gdouble base = window_mean (s, p, n, now - window - baseline, now - window,
      &first_t);
  gdouble cur = window_mean (s, p, n, now - window, G_MAXINT64, &unused);

  g_free (p);
  if (!isfinite (base) || !isfinite (cur) || base == 0 ||
      first_t > now - window - baseline / 2)
    return NAN;
  return (cur - base) / fabs (base) * 100;
}

/* least-squares line over the window's points, at @horizon_s from now;
 * @eta_s: when the line crosses the threshold (NaN: never, ahead) */
static gdouble
trend_predict (ApmAlertRule * r, ApmSeries * s, gint64 now, gdouble * eta_s)
{
  gint64 since = now - (gint64) (MAX (r->window_s, 1) * 1e6);
  guint n, used = 0;
  ApmPoint *p = apm_history_points (s, since, &n);
  gdouble sx = 0, sy = 0, sxx = 0, sxy = 0, t_min = G_MAXDOUBLE, t_max = 0;
  gdouble slope, icept, v = NAN;

  *eta_s = NAN;
  for (guint i = 0; i < n; i++) {
    gdouble y = point_value (s, &p[i], i ? &p[i - 1] : NULL, APM_AGG_PREDICT);
    /* seconds relative to now, for precision */
    gdouble x = (p[i].t_us - now) / 1e6;

    if (!isfinite (y))
      continue;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    t_min = MIN (t_min, x);
    t_max = MAX (t_max, x);
    used++;
  }
  g_free (p);
  /* a line needs points across at least half the window */
  if (used < 3 || t_max - t_min < MAX (r->window_s, 1) / 2)
    return NAN;
  {
    gdouble d = used * sxx - sx * sx;

    if (d == 0)
      return NAN;
    slope = (used * sxy - sx * sy) / d;
    icept = (sy - slope * sx) / used;
  }
  v = icept + slope * r->horizon_s;
  if (slope != 0) {
    gdouble t = (r->threshold - icept) / slope;

    if (t >= 0)
      *eta_s = t;
  } else if (compare (r->op, icept, r->threshold)) {
    *eta_s = 0;
  }
  return v;
}

/* NaN when there is not enough data */
static gdouble
series_value (ApmAlertRule * r, ApmRegistry * reg, ApmSeries * s, gint64 now,
    gdouble * eta_s)
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
    case APM_AGG_MIN:{
      gdouble wsum = 0;
      guint used = 0;

      p = apm_history_points (s, since, &n);
      for (guint i = 0; i < n; i++) {
        gdouble x = point_value (s, &p[i], i ? &p[i - 1] : NULL, r->agg);

        if (!isfinite (x))
          continue;
        if (used++ == 0)
          v = x;
        else if (r->agg == APM_AGG_MAX)
          v = MAX (v, x);
        else if (r->agg == APM_AGG_MIN)
          v = MIN (v, x);
        wsum += x;
      }
      if (used && r->agg == APM_AGG_AVG)
        v = wsum / used;
      g_free (p);
      return v;
    }
    case APM_AGG_RATE:
      return window_increase (s, since, &inc, &secs) ? inc / secs : NAN;
    case APM_AGG_INCREASE:
      return window_increase (s, since, &inc, &secs) ? inc : NAN;
    case APM_AGG_CHANGE:
      return trend_change (r, s, now);
    case APM_AGG_PREDICT:
      return trend_predict (r, s, now, eta_s);
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
    gdouble v, eta_s;

    if (!series_matches (r, s))
      continue;
    if (seen)
      g_hash_table_add (seen, apm_series_dup_key (s));
    eta_s = NAN;
    v = series_value (r, reg, s, now, &eta_s);
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
      h->eta_s = eta_s;
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
      h->eta_s = NAN;
      g_ptr_array_add (hits, h);
    }
  } else {
    evaluate_expr (r, reg, now, hits);
  }
  return hits;
}
