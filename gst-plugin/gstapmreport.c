/* gst-apm: the performance report of a pipeline
 *
 * A pipeline's snapshot (gstapmsnapshotwalk.c) described as JSON, with
 * the end-to-end latency of its paths, the charts to draw and the advice
 * (gstapmadvice.c); the provider the core's /monitoring/report calls (the
 * core renders: src/apm-report.c).  Figures are totals since the pipeline
 * started; rates and shares use the time of its last run.
 */
#include "gstapmreport.h"
#include "gstapmstats-private.h"
#include "gstapmwatch.h"
#include "apm-report.h"
#include "apm-history.h"

#include <math.h>

GST_DEBUG_CATEGORY_STATIC (apm_report_debug);
#define GST_CAT_DEFAULT apm_report_debug

static const gchar *
kind_name (GstApmElementKind kind)
{
  return kind == GST_APM_KIND_SOURCE ? "source" : kind == GST_APM_KIND_SINK ?
      "sink" : "filter";
}

/* --- the report --- */

static void
set_number (JsonObject * o, const gchar * name, gdouble v)
{
  if (!isnan (v) && !isinf (v))
    json_object_set_double_member (o, name, v);
}

static gint
by_own_time (gconstpointer a, gconstpointer b, gpointer user_data)
{
  GstApmSnapshot *snap = user_data;
  GstApmElementSnap *ea = gst_apm_snapshot_element (snap, *(guint *) a);
  GstApmElementSnap *eb = gst_apm_snapshot_element (snap, *(guint *) b);
  gdouble ta = ea->has_own ? ea->own_total_s : -1;
  gdouble tb = eb->has_own ? eb->own_total_s : -1;

  return ta > tb ? -1 : ta < tb;
}

static JsonArray *
describe_elements (GstApmSnapshot * snap)
{
  JsonArray *out = json_array_new ();
  GArray *order = g_array_new (FALSE, FALSE, sizeof (guint));
  gdouble total = 0;

  for (guint i = 0; i < snap->elements->len; i++) {
    GstApmElementSnap *e = gst_apm_snapshot_element (snap, i);

    g_array_append_val (order, i);
    if (e->has_own)
      total += e->own_total_s;
  }
  g_array_sort_with_data (order, by_own_time, snap);
  for (guint k = 0; k < order->len; k++) {
    guint i = g_array_index (order, guint, k);
    GstApmElementSnap *e = gst_apm_snapshot_element (snap, i);
    JsonObject *o = json_object_new ();

    json_object_set_string_member (o, "name", e->name);
    json_object_set_string_member (o, "factory", e->factory);
    json_object_set_string_member (o, "kind", kind_name (e->kind));
    json_object_set_int_member (o, "thread", e->tid);
    for (guint t = 0; t < snap->threads->len; t++) {
      GstApmThreadSnap *th = &g_array_index (snap->threads, GstApmThreadSnap,
          t);

      if (th->tid == e->tid && th->name)
        json_object_set_string_member (o, "thread_name", th->name);
    }
    json_object_set_int_member (o, "buffers", e->buffers);
    if (e->has_own) {
      json_object_set_double_member (o, "own_seconds_total", e->own_total_s);
      json_object_set_double_member (o, "own_mean_seconds", e->own_mean_s);
      set_number (o, "own_p95_seconds", e->own_p95_s);
      if (total > 0)
        json_object_set_double_member (o, "share_percent",
            100 * e->own_total_s / total);
    }
    set_number (o, "realtime_factor",
        gst_apm_snapshot_realtime_factor (snap, i));
    if (e->media_s > 0)
      json_object_set_double_member (o, "media_seconds", e->media_s);
    set_number (o, "buffer_seconds", gst_apm_snapshot_buffer_seconds (snap,
            i));
    if (e->caps_in)
      json_object_set_string_member (o, "format_in", e->caps_in);
    if (e->caps_out)
      json_object_set_string_member (o, "format_out", e->caps_out);
    json_array_add_object_element (out, o);
  }
  g_array_unref (order);
  return out;
}

static JsonArray *
describe_links (GstApmSnapshot * snap)
{
  JsonArray *out = json_array_new ();

  for (guint i = 0; i < snap->links->len; i++) {
    GstApmLinkSnap *l = &g_array_index (snap->links, GstApmLinkSnap, i);
    JsonObject *o = json_object_new ();

    json_object_set_string_member (o, "from",
        gst_apm_snapshot_element (snap, l->from)->name);
    json_object_set_string_member (o, "to",
        gst_apm_snapshot_element (snap, l->to)->name);
    json_array_add_object_element (out, o);
  }
  return out;
}

static JsonArray *
describe_queues (GstApmSnapshot * snap)
{
  JsonArray *out = json_array_new ();

  for (guint i = 0; i < snap->elements->len; i++) {
    GstApmElementSnap *e = gst_apm_snapshot_element (snap, i);
    JsonObject *o;

    if (!e->is_queue)
      continue;
    o = json_object_new ();
    json_object_set_string_member (o, "name", e->name);
    json_object_set_int_member (o, "samples", e->fill_samples);
    if (e->fill_samples) {
      set_number (o, "fill_mean_percent", e->fill_mean_percent);
      set_number (o, "fill_max_percent", e->fill_max_percent);
      json_object_set_double_member (o, "full_share",
          (gdouble) e->fill_high / e->fill_samples);
    }
    json_array_add_object_element (out, o);
  }
  return out;
}

static JsonArray *
describe_threads (GstApmSnapshot * snap)
{
  JsonArray *out = json_array_new ();

  for (guint i = 0; i < snap->threads->len; i++) {
    GstApmThreadSnap *t = &g_array_index (snap->threads, GstApmThreadSnap, i);
    JsonObject *o = json_object_new ();

    json_object_set_int_member (o, "tid", t->tid);
    if (t->name)
      json_object_set_string_member (o, "name", t->name);
    set_number (o, "cpu_seconds", t->cpu_s);
    if (!isnan (t->cpu_s) && snap->wall_s > 0)
      json_object_set_double_member (o, "cpu_percent",
          MIN (100 * t->cpu_s / snap->wall_s, 100));
    set_number (o, "busy_percent",
        100 * gst_apm_snapshot_thread_busy (snap, t->tid));
    json_array_add_object_element (out, o);
  }
  return out;
}

/* end-to-end latency per source -> sink path of the pipeline */
static JsonArray *
describe_paths (const gchar * label)
{
  JsonArray *out = json_array_new ();
  GPtrArray *list = apm_registry_list_series (apm_service_get_registry
      (apm_service_get_default ()), "apm_pipeline_latency_seconds");

  for (guint i = 0; list && i < list->len; i++) {
    ApmSeries *s = list->pdata[i];
    guint64 n = apm_series_count (s);
    JsonObject *o;

    if (g_strcmp0 (apm_series_label (s, "pipeline"), label) != 0 || !n)
      continue;
    o = json_object_new ();
    json_object_set_string_member (o, "source", apm_series_label (s,
            "source"));
    json_object_set_string_member (o, "sink", apm_series_label (s, "sink"));
    json_object_set_int_member (o, "count", n);
    json_object_set_double_member (o, "mean_seconds", apm_series_sum (s) / n);
    set_number (o, "p95_seconds", apm_series_quantile (s, 0.95));
    json_array_add_object_element (out, o);
  }
  if (list)
    g_ptr_array_unref (list);
  return out;
}

static void
add_chart (JsonArray * charts, const gchar * title, const gchar * unit,
    const gchar * metric, const gchar * kind, const gchar * label,
    const gchar * extra_name, const gchar * extra_value)
{
  JsonObject *c = json_object_new (), *labels = json_object_new ();

  json_object_set_string_member (c, "title", title);
  json_object_set_string_member (c, "unit", unit);
  json_object_set_string_member (c, "metric", metric);
  json_object_set_string_member (c, "kind", kind);
  json_object_set_string_member (labels, "pipeline", label);
  if (extra_name)
    json_object_set_string_member (labels, extra_name, extra_value);
  json_object_set_object_member (c, "labels", labels);
  json_array_add_object_element (charts, c);
}

JsonObject *
gst_apm_report_pipeline (GstElement * pipeline, const gchar * label)
{
  GstApmSnapshot *snap = gst_apm_report_snapshot (pipeline, label);
  JsonObject *o = json_object_new ();
  JsonArray *charts = json_array_new ();
  GstState state;

  GST_OBJECT_LOCK (pipeline);
  state = GST_STATE (pipeline);
  GST_OBJECT_UNLOCK (pipeline);
  json_object_set_string_member (o, "name", label);
  json_object_set_string_member (o, "state",
      gst_element_state_get_name (state));
  json_object_set_boolean_member (o, "live", snap->live);
  set_number (o, "run_seconds", snap->wall_s);
  json_object_set_array_member (o, "elements", describe_elements (snap));
  json_object_set_array_member (o, "links", describe_links (snap));
  json_object_set_array_member (o, "paths", describe_paths (label));
  json_object_set_array_member (o, "queues", describe_queues (snap));
  json_object_set_array_member (o, "threads", describe_threads (snap));
  json_object_set_array_member (o, "recommendations", gst_apm_advise (snap));
  add_chart (charts, "End-to-end latency (mean per second)", "s",
      "apm_pipeline_latency_seconds", "mean", label, NULL, NULL);
  add_chart (charts, "Throughput: media time per second at the sinks", "x",
      "apm_pipeline_realtime_factor", "value", label, NULL, NULL);
  json_object_set_array_member (o, "charts", charts);
  gst_apm_snapshot_free (snap);
  return o;
}

/* --- the provider --- */

static void
report_one (gpointer data, gpointer user_data)
{
  GstElement *pipeline = data;
  gchar *label = gst_apm_watch_pipeline_label (pipeline);

  json_array_add_object_element (user_data,
      gst_apm_report_pipeline (pipeline, label));
  g_free (label);
}

static JsonArray *
report_pipelines (gpointer user_data)
{
  JsonArray *all = json_array_new ();

  gst_apm_watch_foreach_pipeline (report_one, all);
  return all;
}

void
gst_apm_report_keep_history (ApmService * service)
{
  /* the default alert rules keep these too: no extra memory with them */
  static const gchar *const charted[] = { "apm_pipeline_latency_seconds",
    "apm_pipeline_realtime_factor", NULL
  };
  ApmRegistry *reg = apm_service_get_registry (service);

  g_mutex_lock (&gst_apm_create_lock);
  gst_apm_stats_ensure_families ();
  g_mutex_unlock (&gst_apm_create_lock);
  for (guint i = 0; charted[i]; i++)
    apm_history_keep (reg, charted[i]);
}

void
gst_apm_report_install (ApmService * service)
{
  GST_DEBUG_CATEGORY_INIT (apm_report_debug, "apmreport", 0,
      "apm performance report");
  apm_report_set_provider (service, report_pipelines, NULL);
}
