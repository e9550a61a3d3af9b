/* gst-apm: the performance report of a pipeline
 *
 * Walks a pipeline as the model does (gstapmmodel.c: object locks only,
 * a reference held by the caller for the length of one request, or a
 * state-change hook of the pipeline's own) and reads what the tracer
 * counted: per element its buffers and own time, per path the end-to-end
 * latency, per queue its fill, per thread its CPU time.  The snapshot
 * feeds the advice (gstapmadvice.c); the core renders the report
 * (src/apm-report.c).  Figures are totals since the pipeline started;
 * rates and shares use the time of its last run.
 */
#include "gstapmreport.h"
#include "gstapmstats-private.h"
#include "gstapmwatch.h"
#include "apm-report.h"
#include "apm-history.h"
#include "apm-sysres.h"

#include <gst/base/base.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (apm_report_debug);
#define GST_CAT_DEFAULT apm_report_debug

/* --- the snapshot --- */

static GstApmElementKind
kind_of (GstElement * e)
{
  if (e->numsinkpads == 0)
    return GST_APM_KIND_SOURCE;
  if (e->numsrcpads == 0)
    return GST_APM_KIND_SINK;
  return GST_APM_KIND_FILTER;
}

static const gchar *
kind_name (GstApmElementKind kind)
{
  return kind == GST_APM_KIND_SOURCE ? "source" : kind == GST_APM_KIND_SINK ?
      "sink" : "filter";
}

/* "S16LE 44100 Hz 2 ch" for raw audio, else the caps as text */
static gchar *
format_of (GstPad * pad)
{
  GstCaps *caps = pad ? gst_pad_get_current_caps (pad) : NULL;
  GstStructure *s;
  gchar *text;
  gint rate = 0, channels = 0;

  if (!caps)
    return NULL;
  s = gst_caps_get_size (caps) ? gst_caps_get_structure (caps, 0) : NULL;
  if (s && gst_structure_has_name (s, "audio/x-raw")
      && gst_structure_get_string (s, "format")) {
    const gchar *layout = gst_structure_get_string (s, "layout");

    gst_structure_get_int (s, "rate", &rate);
    gst_structure_get_int (s, "channels", &channels);
    text = g_strdup_printf ("%s %d Hz %d ch%s",
        gst_structure_get_string (s, "format"), rate, channels,
        g_strcmp0 (layout, "non-interleaved") == 0 ? " planar" : "");
  } else {
    text = gst_caps_to_string (caps);
  }
  gst_caps_unref (caps);
  return text;
}

/* the element's first pad of @direction (a new reference), or NULL */
static GstPad *
first_pad (GstElement * e, GstPadDirection direction)
{
  GstPad *pad = NULL;
  GList *pads;

  GST_OBJECT_LOCK (e);
  pads = direction == GST_PAD_SINK ? e->sinkpads : e->srcpads;
  if (pads)
    pad = gst_object_ref (pads->data);
  GST_OBJECT_UNLOCK (e);
  return pad;
}

typedef struct
{
  GstApmSnapshot *snap;
  GHashTable *index;            /* element -> index + 1 */
  GPtrArray *elements;          /* refs, in index order */
} Walk;

static void
add_element (Walk * w, GstElement * e, const gchar * path)
{
  GstApmElementStats *es = gst_apm_element_stats_peek (e);
  GstElementFactory *factory = gst_element_get_factory (e);
  guint i = gst_apm_snapshot_add_element (w->snap, path, factory ?
      GST_OBJECT_NAME (factory) : G_OBJECT_TYPE_NAME (e), kind_of (e));
  GstApmElementSnap *s = gst_apm_snapshot_element (w->snap, i);
  GstPad *pad;

  s->klass = g_strdup (gst_element_class_get_metadata (GST_ELEMENT_GET_CLASS
          (e), GST_ELEMENT_METADATA_KLASS));
  g_hash_table_insert (w->index, e, GUINT_TO_POINTER (i + 1));
  g_ptr_array_add (w->elements, gst_object_ref (e));
  if ((pad = first_pad (e, GST_PAD_SINK))) {
    s->caps_in = format_of (pad);
    gst_object_unref (pad);
  }
  if ((pad = first_pad (e, GST_PAD_SRC))) {
    s->caps_out = format_of (pad);
    gst_object_unref (pad);
  }
  if (GST_IS_BASE_SINK (e))
    s->sync = gst_base_sink_get_sync (GST_BASE_SINK (e));
  if (!es)
    return;
  s->tid = es->last_tid;
  s->bytes_in = (guint64) apm_series_value (es->bytes_in);
  s->bytes_out = (guint64) apm_series_value (es->bytes_out);
  s->buffers = (guint64) apm_series_value (s->kind == GST_APM_KIND_SOURCE ?
      es->buffers_out : es->buffers_in);
  s->media_s = apm_series_value (es->media_in);
  if (!es->skip_own_time && es->processing
      && apm_series_count (es->processing) > 0) {
    s->has_own = TRUE;
    s->own_count = apm_series_count (es->processing);
    s->own_total_s = apm_series_sum (es->processing);
    s->own_mean_s = s->own_total_s / s->own_count;
    s->own_p95_s = apm_series_quantile (es->processing, 0.95);
  }
  s->allocated = (guint64) apm_series_value (es->allocated);
  if (es->pool_fresh) {
    s->pooled = (guint64) apm_series_value (es->pooled);
    s->pool_fresh = (guint64) apm_series_value (es->pool_fresh);
  }
  s->is_queue = es->is_queue;
  if (es->is_queue)
    gst_apm_element_stats_get_queue_fill (es, &s->fill_samples,
        &s->fill_high, &s->fill_mean_percent, &s->fill_max_percent);
}

static void
add_links (Walk * w, guint from, GstElement * e)
{
  GstIterator *it = gst_element_iterate_src_pads (e);
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&v);
    GstPad *sink = GST_IS_GHOST_PAD (pad) ? NULL : gst_apm_pad_real_peer (pad);
    GstObject *to = sink ? gst_object_get_parent (GST_OBJECT (sink)) : NULL;
    guint idx = to ? GPOINTER_TO_UINT (g_hash_table_lookup (w->index, to)) :
        0;

    if (idx)
      gst_apm_snapshot_add_link (w->snap, from, idx - 1);
    if (to)
      gst_object_unref (to);
    if (sink)
      gst_object_unref (sink);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

static gboolean
is_live_source (GstElement * e)
{
  return GST_IS_BASE_SRC (e) && gst_base_src_is_live (GST_BASE_SRC (e));
}

/* QoS counts of the pipeline's elements, from the series the message hook
 * keeps */
static void
add_qos (GstApmSnapshot * snap, ApmRegistry * reg, const gchar * family,
    gboolean dropped)
{
  GPtrArray *list = apm_registry_list_series (reg, family);

  for (guint i = 0; list && i < list->len; i++) {
    ApmSeries *s = list->pdata[i];
    gint idx;

    if (g_strcmp0 (apm_series_label (s, "pipeline"), snap->pipeline) != 0
        || (idx = gst_apm_snapshot_find (snap, apm_series_label (s,
                    "element"))) < 0)
      continue;
    if (dropped)
      gst_apm_snapshot_element (snap, idx)->qos_dropped =
          (guint64) apm_series_value (s);
    else
      gst_apm_snapshot_element (snap, idx)->qos_messages =
          (guint64) apm_series_value (s);
  }
  if (list)
    g_ptr_array_unref (list);
}

/* underruns an apmonitor counted (its series are labelled with its name),
 * for the sink it feeds */
static void
add_underruns (GstApmSnapshot * snap, ApmRegistry * reg)
{
  GPtrArray *list = apm_registry_list_series (reg,
      "apm_monitor_underruns_total");

  for (guint i = 0; list && i < list->len; i++) {
    ApmSeries *s = list->pdata[i];
    const gchar *monitor = apm_series_label (s, "monitor");
    gint at = -1;
    guint guard = 0;

    if (g_strcmp0 (apm_series_label (s, "pipeline"), snap->pipeline) != 0
        || !monitor)
      continue;
    for (guint e = 0; e < snap->elements->len && at < 0; e++) {
      const gchar *path = gst_apm_snapshot_element (snap, e)->name;
      const gchar *slash = strrchr (path, '/');

      if (g_strcmp0 (slash ? slash + 1 : path, monitor) == 0)
        at = e;
    }
    while (at >= 0 && gst_apm_snapshot_element (snap, at)->kind !=
        GST_APM_KIND_SINK && guard++ < 64) {
      gint next = -1;

      for (guint l = 0; l < snap->links->len && next < 0; l++)
        if (g_array_index (snap->links, GstApmLinkSnap, l).from == (guint) at)
          next = g_array_index (snap->links, GstApmLinkSnap, l).to;
      at = next;
    }
    if (at >= 0)
      gst_apm_snapshot_element (snap, at)->underruns +=
          (guint64) apm_series_value (s);
  }
  if (list)
    g_ptr_array_unref (list);
}

static gdouble
run_seconds (const gchar * label)
{
  GstClockTime start, end;

  if (!gst_apm_watch_run_window (label, &start, &end))
    return NAN;
  if (!GST_CLOCK_TIME_IS_VALID (end))
    end = gst_util_get_timestamp ();
  return end > start ? (end - start) / 1e9 : NAN;
}

/* the CPU time thread @tid had used when the run's first buffer reached
 * one of its elements (s), or NaN */
static gdouble
thread_cpu_at_run_start (Walk * w, gint tid)
{
  gint64 base = G_MAXINT64;

  for (guint i = 0; i < w->elements->len; i++) {
    GstApmElementStats *es = gst_apm_element_stats_peek (w->elements->pdata
        [i]);

    if (es && es->last_tid == tid && es->first_ts && es->run_cpu_ns >= 0)
      base = MIN (base, es->run_cpu_ns);
  }
  return base == G_MAXINT64 ? NAN : base / 1e9;
}

GstApmSnapshot *
gst_apm_report_snapshot (GstElement * pipeline, const gchar * label)
{
  Walk w = { gst_apm_snapshot_new (label), g_hash_table_new (NULL, NULL),
    g_ptr_array_new_with_free_func (gst_object_unref)
  };
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  GHashTable *tids = g_hash_table_new (NULL, NULL);
  ApmService *service = apm_service_get_default ();
  gboolean done = FALSE;

  gst_apm_stats_fold (FALSE);
  it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  while (!done) {
    switch (gst_iterator_next (it, &v)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&v);
        gchar *path;

        if (!GST_IS_BIN (e) && gst_apm_element_path (e, NULL, &path)) {
          add_element (&w, e, path);
          w.snap->live |= is_live_source (e);
          g_free (path);
        }
        g_value_reset (&v);
        break;
      }
      case GST_ITERATOR_RESYNC:
        /* the bin changed under us: start over */
        gst_iterator_resync (it);
        gst_apm_snapshot_free (w.snap);
        w.snap = gst_apm_snapshot_new (label);
        g_hash_table_remove_all (w.index);
        g_ptr_array_set_size (w.elements, 0);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  for (guint i = 0; i < w.elements->len; i++)
    add_links (&w, i, w.elements->pdata[i]);

  /* a source's media is what it sent: what its peer received */
  for (guint i = 0; i < w.snap->links->len; i++) {
    GstApmLinkSnap *l = &g_array_index (w.snap->links, GstApmLinkSnap, i);
    GstApmElementSnap *from = gst_apm_snapshot_element (w.snap, l->from);

    if (from->kind == GST_APM_KIND_SOURCE && from->media_s == 0)
      from->media_s = gst_apm_snapshot_element (w.snap, l->to)->media_s;
  }
  add_qos (w.snap, apm_service_get_registry (service),
      "apm_element_qos_messages_total", FALSE);
  add_qos (w.snap, apm_service_get_registry (service),
      "apm_element_qos_dropped_buffers_total", TRUE);
  add_underruns (w.snap, apm_service_get_registry (service));

  for (guint i = 0; i < w.snap->elements->len; i++) {
    gint tid = gst_apm_snapshot_element (w.snap, i)->tid;
    gchar *name = NULL;
    gdouble cpu, base = thread_cpu_at_run_start (&w, tid);

    if (!tid || g_hash_table_contains (tids, GINT_TO_POINTER (tid)))
      continue;
    g_hash_table_add (tids, GINT_TO_POINTER (tid));
    cpu = apm_thread_cpu_seconds (tid, &name);
    /* the run's part only; unknown without the run's start */
    gst_apm_snapshot_add_thread (w.snap, tid, name, cpu < 0 || isnan (base) ?
        NAN : MAX (cpu - base, 0));
    g_free (name);
  }
  w.snap->wall_s = run_seconds (label);
  g_hash_table_destroy (tids);
  g_hash_table_destroy (w.index);
  g_ptr_array_unref (w.elements);
  return w.snap;
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
