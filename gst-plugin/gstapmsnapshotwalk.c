/* gst-apm: a pipeline's snapshot (gstapmsnapshot.h), filled by walking it
 *
 * As the model does (gstapmmodel.c): object locks only, with a reference
 * the caller holds for the length of one request, or in a state-change
 * hook of the pipeline's own.  Reads what the tracer counted: per element
 * its buffers and own time, per queue its fill, per sink its QoS messages
 * and the underruns an apmonitor before it counted, per thread its CPU
 * time since the run's first buffer.
 */
#include "gstapmreport.h"
#include "gstapmstats.h"
#include "gstapmwatch.h"
#include "apm-sysres.h"

#include <gst/base/base.h>
#include <math.h>
#include <string.h>

static GstApmElementKind
kind_of (GstElement * e)
{
  if (e->numsinkpads == 0)
    return GST_APM_KIND_SOURCE;
  if (e->numsrcpads == 0)
    return GST_APM_KIND_SINK;
  return GST_APM_KIND_FILTER;
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

