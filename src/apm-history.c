/* gst-apm: bounded history of every series, for charts and alert windows */
#include "apm-history.h"
#include "apm-metrics-private.h"

#include <string.h>

static void
sample_series (ApmRegistry * r, ApmFamily * f, ApmSeries * s, gint64 now,
    guint * n_with_history)
{
  struct _ApmSeriesExtra *x = apm_series_get_extra (s);
  ApmPoint *p;

  if (!x || !x->history) {
    if (*n_with_history >= APM_HISTORY_MAX_SERIES)
      return;
    x = apm_series_extra_locked (s);
    /* written whole now, so the ring is resident from the start and RSS
     * stays flat while it fills (a soak then shows leaks, not the ring);
     * not zeros, which the compiler could turn into a lazy calloc */
    x->history = g_new (ApmPoint, APM_HISTORY_POINTS);
    memset (x->history, 0xff, sizeof (ApmPoint) * APM_HISTORY_POINTS);
  }
  (*n_with_history)++;
  p = &x->history[x->history_next];
  p->t_us = now;
  if (f->type == APM_METRIC_HISTOGRAM) {
    p->v = apm_series_count (s);
    p->sum = apm_series_sum (s);
  } else {
    p->v = apm_series_value (s);
    p->sum = 0;
  }
  x->history_next = (x->history_next + 1) % APM_HISTORY_POINTS;
  if (x->history_len < APM_HISTORY_POINTS)
    x->history_len++;
}

gboolean
apm_history_keep (ApmRegistry * r, const gchar * name)
{
  ApmFamily *f;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (f)
    f->keep_history = TRUE;
  g_mutex_unlock (&r->lock);
  return f != NULL;
}

void
apm_history_sample (ApmRegistry * r, gint64 now_us)
{
  guint n = 0;

  g_mutex_lock (&r->lock);
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);

    if (!f->keep_history)
      continue;
    for (guint j = 0; j < f->series->len; j++) {
      ApmSeries *s = g_ptr_array_index (f->series, j);

      if (s->retired_at == 0 || (s->extra && s->extra->history))
        sample_series (r, f, s, now_us, &n);
    }
  }
  g_mutex_unlock (&r->lock);
}

ApmPoint *
apm_history_points (const ApmSeries * s, gint64 since_us, guint * n_points)
{
  const struct _ApmSeriesExtra *x = apm_series_get_extra (s);
  guint len = x && x->history ? x->history_len : 0;
  ApmPoint *out = g_new (ApmPoint, MAX (len, 1));
  guint n = 0;
  guint first = x ? (x->history_next + APM_HISTORY_POINTS - len) %
      APM_HISTORY_POINTS : 0;

  for (guint i = 0; i < len; i++) {
    const ApmPoint *p = &x->history[(first + i) % APM_HISTORY_POINTS];

    if (p->t_us >= since_us)
      out[n++] = *p;
  }
  *n_points = n;
  return out;
}

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

JsonNode *
apm_history_to_json (ApmRegistry * r, const gchar * name, gint64 since_us,
    GHashTable * label_filter)
{
  static const gchar *type_names[] = { "counter", "gauge", "histogram" };
  JsonObject *root;
  JsonArray *series;
  JsonNode *node;
  ApmFamily *f;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (!f) {
    g_mutex_unlock (&r->lock);
    return NULL;
  }
  f->keep_history = TRUE;
  root = json_object_new ();
  series = json_array_new ();
  json_object_set_string_member (root, "name", f->name);
  json_object_set_string_member (root, "type", type_names[f->type]);
  json_object_set_string_member (root, "help", f->help);
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
    pts = apm_history_points (s, since_us, &n);
    for (guint i = 0; i < n; i++) {
      JsonArray *pt = json_array_sized_new (3);

      json_array_add_double_element (pt, pts[i].t_us / 1e6);
      json_array_add_double_element (pt, pts[i].v);
      if (f->type == APM_METRIC_HISTOGRAM)
        json_array_add_double_element (pt, pts[i].sum);
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
