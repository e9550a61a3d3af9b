/* gst-apm: per-pad counters, created once per pad, updated lock-free */
#include "gstapmpadstats.h"
#include "apm-service.h"

GQuark gst_apm_pad_stats_quark;

static GMutex create_lock;
static ApmFamily *buffers_family, *bytes_family;
static GstApmPadStats ignored_stats;     /* shared by pads outside pipelines */

static const gchar *const pad_labels[] = { "pipeline", "element", "pad",
  NULL
};

gboolean
gst_apm_element_path (GstElement * element, gchar ** pipeline, gchar ** path)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GstObject *obj = gst_object_ref (GST_OBJECT (element)), *parent;
  GString *p;

  while ((parent = gst_object_get_parent (obj))) {
    g_ptr_array_add (names, gst_object_get_name (obj));
    gst_object_unref (obj);
    obj = parent;
  }
  if (names->len == 0 || !GST_IS_BIN (obj)) {
    gst_object_unref (obj);
    g_ptr_array_unref (names);
    return FALSE;
  }
  *pipeline = gst_object_get_name (obj);
  gst_object_unref (obj);
  p = g_string_new (NULL);
  for (guint i = names->len; i > 0; i--) {
    g_string_append (p, g_ptr_array_index (names, i - 1));
    if (i > 1)
      g_string_append_c (p, '/');
  }
  *path = g_string_free (p, FALSE);
  g_ptr_array_unref (names);
  return TRUE;
}

static void
pad_stats_free (GstApmPadStats * st)
{
  if (st == &ignored_stats)
    return;
  apm_series_retire (st->buffers);
  apm_series_retire (st->bytes);
  if (st->peer_buffers) {
    apm_series_unref (st->peer_buffers);
    apm_series_unref (st->peer_bytes);
  }
  g_free (st);
}

static void
ensure_families (ApmRegistry * reg)
{
  buffers_family = apm_registry_family (reg, "apm_pad_buffers_total",
      APM_METRIC_COUNTER, "Buffers that passed through the pad", pad_labels,
      NULL, 0);
  bytes_family = apm_registry_family (reg, "apm_pad_bytes_total",
      APM_METRIC_COUNTER, "Bytes that passed through the pad", pad_labels,
      NULL, 0);
}

static GstApmPadStats *
create_locked (GstPad * pad)
{
  GstApmPadStats *st = g_object_get_qdata (G_OBJECT (pad),
      gst_apm_pad_stats_quark);
  GstElement *element;
  gchar *pipeline = NULL, *path = NULL, *pad_name;

  if (st)
    return st;

  element = GST_ELEMENT (gst_object_get_parent (GST_OBJECT (pad)));
  if (!element || !GST_IS_ELEMENT (element)
      || !gst_apm_element_path (element, &pipeline, &path)) {
    /* a ghost pad's internal proxy, or an element outside any pipeline
     * (buffers flow only once it is in one): ignored for good */
    if (element)
      gst_object_unref (element);
    g_object_set_qdata_full (G_OBJECT (pad), gst_apm_pad_stats_quark,
        &ignored_stats, (GDestroyNotify) pad_stats_free);
    return &ignored_stats;
  }
  gst_object_unref (element);

  {
    ApmService *service = apm_service_get_default ();
    const gchar *values[4];

    ensure_families (apm_service_get_registry (service));
    pad_name = gst_object_get_name (GST_OBJECT (pad));
    values[0] = pipeline;
    values[1] = path;
    values[2] = pad_name;
    values[3] = NULL;
    st = g_new0 (GstApmPadStats, 1);
    st->buffers = apm_family_series (buffers_family, values);
    st->bytes = apm_family_series (bytes_family, values);
    g_free (pad_name);
  }
  g_free (pipeline);
  g_free (path);
  g_object_set_qdata_full (G_OBJECT (pad), gst_apm_pad_stats_quark, st,
      (GDestroyNotify) pad_stats_free);
  return st;
}

GstApmPadStats *
gst_apm_pad_stats_create (GstPad * pad)
{
  GstApmPadStats *st, *peer_st;
  GstPad *peer;

  g_mutex_lock (&create_lock);
  st = create_locked (pad);
  if (st != &ignored_stats && GST_PAD_IS_SINK (pad)
      && (peer = gst_pad_get_peer (pad))) {
    peer_st = create_locked (peer);
    if (peer_st != &ignored_stats) {
      st->peer_buffers = apm_series_ref (peer_st->buffers);
      st->peer_bytes = apm_series_ref (peer_st->bytes);
    }
    gst_object_unref (peer);
  }
  g_mutex_unlock (&create_lock);
  return st;
}

static gboolean
count_one (GstBuffer ** buffer, guint idx, gpointer user_data)
{
  gst_apm_pad_stats_count (user_data, *buffer);
  return TRUE;
}

void
gst_apm_pad_stats_count_list (GstApmPadStats * st, GstBufferList * list)
{
  gst_buffer_list_foreach (list, count_one, st);
}
