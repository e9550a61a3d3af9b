/* gst-apm: the history as JSON: a metric's points from the tier that fits
 * the window (/monitoring/metrics/NAME), and the tiers' sizes */
#include "apm-history-private.h"

#include <math.h>

static gboolean
labels_match (ApmFamily * f, ApmSeries * s, GHashTable * filter)
{
  GHashTableIter it;
  const gchar *k, *v;

  if (!filter)
    return TRUE;
  g_hash_table_iter_init (&it, filter);
  while (g_hash_table_iter_next (&it, (gpointer *) & k, (gpointer *) & v)) {
    gboolean found = FALSE;

    for (guint i = 0; i < f->n_labels; i++)
      if (g_strcmp0 (f->label_names[i], k) == 0) {
        if (g_strcmp0 (s->label_values[i], v) != 0)
          return FALSE;
        found = TRUE;
      }
    if (!found)
      return FALSE;
  }
  return TRUE;
}

/* merges points into steps of @step_us: the last value (running totals
 * for counters and histograms), gauges' min and max over the step and
 * their mean, histograms' p95 weighted by count */
static guint
merge_steps (ApmMetricType type, ApmPoint * p, guint n, gint64 step_us)
{
  guint out = 0;

  for (guint i = 0; i < n;) {
    gint64 step = p[i].t_us / step_us;
    ApmPoint m = p[i];
    gdouble avg_sum = 0, w_sum = 0;
    guint j;

    m.t_us = step * step_us;
    m.delta = 0;
    m.min = INFINITY;
    m.max = -INFINITY;
    for (j = i; j < n && p[j].t_us / step_us == step; j++) {
      gdouble w = type == APM_METRIC_HISTOGRAM ? p[j].delta : 1;

      m.v = p[j].v;
      m.sum = p[j].sum;
      if (isfinite (p[j].delta))
        m.delta += p[j].delta;
      if (isfinite (p[j].min))
        m.min = MIN (m.min, p[j].min);
      if (isfinite (p[j].max))
        m.max = MAX (m.max, p[j].max);
      if (isfinite (p[j].avg) && w > 0) {
        avg_sum += p[j].avg * w;
        w_sum += w;
      }
    }
    m.avg = w_sum > 0 ? avg_sum / w_sum : NAN;
    if (!isfinite (m.min))
      m.min = NAN;
    if (!isfinite (m.max))
      m.max = NAN;
    p[out++] = m;
    i = j;
  }
  return out;
}

static void
add_number (JsonArray * a, gdouble v)
{
  if (isfinite (v))
    json_array_add_double_element (a, v);
  else
    json_array_add_null_element (a);
}

JsonNode *
apm_history_to_json (ApmRegistry * r, const gchar * name, gint64 since_us,
    gint64 step_us, GHashTable * label_filter)
{
  static const gchar *type_names[] = { "counter", "gauge", "histogram" };
  JsonObject *root;
  JsonArray *series;
  JsonNode *node;
  ApmFamily *f;
  ApmHistoryConf *c;
  gint64 now = g_get_real_time ();
  guint tier;
  gint64 res_us;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (!f) {
    g_mutex_unlock (&r->lock);
    return NULL;
  }
  f->keep_history = TRUE;
  c = history_conf (r);
  if (since_us <= 0)            /* no window: the finest tier, all of it */
    since_us = now - (gint64) c->tiers[0].retention_s * G_USEC_PER_SEC;
  tier = history_pick_tier (c, now - since_us, step_us);
  res_us = (gint64) c->tiers[tier].resolution_s * G_USEC_PER_SEC;
  if (step_us > 0 && step_us <= res_us)
    step_us = 0;                /* the tier's own points */
  root = json_object_new ();
  series = json_array_new ();
  json_object_set_string_member (root, "name", f->name);
  json_object_set_string_member (root, "type", type_names[f->type]);
  json_object_set_string_member (root, "help", f->help);
  json_object_set_int_member (root, "resolution_seconds",
      c->tiers[tier].resolution_s);
  json_object_set_double_member (root, "step_seconds",
      (step_us ? step_us : res_us) / 1e6);
  for (guint j = 0; j < f->series->len; j++) {
    ApmSeries *s = g_ptr_array_index (f->series, j);
    JsonObject *so, *labels;
    JsonArray *points;
    ApmPoint *pts;
    guint n;

    if (!labels_match (f, s, label_filter))
      continue;
    so = json_object_new ();
    labels = json_object_new ();
    points = json_array_new ();
    for (guint i = 0; i < f->n_labels; i++)
      json_object_set_string_member (labels, f->label_names[i],
          s->label_values[i]);
    pts = apm_history_points_tier (s, tier, since_us, &n);
    if (step_us > 0)
      n = merge_steps (f->type, pts, n, step_us);
    for (guint i = 0; i < n; i++) {
      JsonArray *pt = json_array_sized_new (5);

      /* [t, v] or [t, count, sum] as before; a coarse gauge adds min,
       * max and mean, a histogram its p95 */
      json_array_add_double_element (pt, pts[i].t_us / 1e6);
      add_number (pt, pts[i].v);
      if (f->type == APM_METRIC_HISTOGRAM) {
        add_number (pt, pts[i].sum);
        add_number (pt, pts[i].avg);
      } else if (f->type == APM_METRIC_GAUGE && (step_us > 0 ||
              c->tiers[tier].resolution_s > 1)) {
        add_number (pt, pts[i].min);
        add_number (pt, pts[i].max);
        add_number (pt, pts[i].avg);
      }
      json_array_add_array_element (points, pt);
    }
    g_free (pts);
    json_object_set_object_member (so, "labels", labels);
    json_object_set_array_member (so, "points", points);
    json_array_add_object_element (series, so);
  }
  g_mutex_unlock (&r->lock);
  json_object_set_array_member (root, "series", series);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  return node;
}

JsonNode *
apm_history_tiers_json (ApmRegistry * r)
{
  JsonArray *arr = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  gsize bytes[APM_HISTORY_MAX_TIERS] = { 0 };
  guint series = 0;
  ApmHistoryConf *c;

  g_mutex_lock (&r->lock);
  c = history_conf (r);
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);

    for (guint j = 0; j < f->series->len; j++) {
      ApmSeries *s = g_ptr_array_index (f->series, j);
      ApmSeriesHistory *h = s->extra ? s->extra->history : NULL;

      if (!h)
        continue;
      series++;
      for (guint k = 0; k < h->n_tiers && k < c->n_tiers; k++)
        bytes[k] += history_ring_bytes (&h->tiers[k]) + sizeof (HistoryRing);
    }
  }
  for (guint k = 0; k < c->n_tiers; k++) {
    JsonObject *o = json_object_new ();

    json_object_set_int_member (o, "resolution_seconds",
        c->tiers[k].resolution_s);
    json_object_set_int_member (o, "retention_seconds",
        c->tiers[k].retention_s);
    json_object_set_int_member (o, "bytes", bytes[k]);
    json_object_set_int_member (o, "series", series);
    json_array_add_object_element (arr, o);
  }
  g_mutex_unlock (&r->lock);
  json_node_take_array (node, arr);
  return node;
}
