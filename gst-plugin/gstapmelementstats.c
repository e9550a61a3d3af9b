/* gst-apm: the tracer's per-element stats
 *
 * Made the first time one of an element's pads carries a buffer (under the
 * create lock) and kept in the element's qdata until it is finalized: its
 * path and labels, its series, the latency rings, and what the streaming
 * threads sample on the slow path (its buffer pool, a queue's level). */
#include "gstapmstats-private.h"
#include "gstapmwatch.h"

#include <gst/base/gstbasesrc.h>
#include <gst/base/gstbasesink.h>
#include <string.h>
#include <time.h>

static GQuark element_quark;
static GMutex elements_lock;
static GList *elements;         /* GstApmElementStats, under elements_lock */

void
gst_apm_element_stats_init (void)
{
  element_quark = g_quark_from_static_string ("apm-element-stats");
}

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
  /* the label, not the name: twins must not share series */
  if (pipeline)
    *pipeline = gst_apm_watch_pipeline_label (GST_ELEMENT (obj));
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
element_stats_clear (GstApmElementStats * es)
{
  apm_series_retire (es->processing);
  apm_series_retire (es->buffers_in);
  apm_series_retire (es->buffers_out);
  apm_series_retire (es->bytes_in);
  apm_series_retire (es->bytes_out);
  apm_series_retire (es->media_in);
  apm_series_retire (es->residence);
  apm_series_retire (es->rtf);
  apm_series_retire (es->pooled);
  if (es->pool_fresh)
    apm_series_retire (es->pool_fresh);
  g_free (es->pool_seen);
  apm_series_retire (es->allocated);
  apm_series_retire (es->allocated_bytes);
  apm_series_retire (es->transfer_rate);
  apm_series_retire (es->first_byte);
  for (guint i = 0; i < G_N_ELEMENTS (es->pool_gauges); i++)
    apm_series_retire (es->pool_gauges[i]);
  for (guint i = 0; i < G_N_ELEMENTS (es->queue_level); i++)
    apm_series_retire (es->queue_level[i]);
  for (guint i = 0; i < G_N_ELEMENTS (es->qos); i++)
    if (es->qos[i])
      apm_series_retire (es->qos[i]);
  g_weak_ref_clear (&es->element);
  gst_apm_ring_unref (es->ring);
  gst_apm_ring_unref (es->stage_ring);
  g_free (es->pipeline);
  g_free (es->path);
  g_free (es->factory);
  g_aligned_free (es);
}

void
gst_apm_element_stats_unref (GstApmElementStats * es)
{
  if (es && g_atomic_int_dec_and_test (&es->ref_count))
    element_stats_clear (es);
}

GstApmElementStats *
gst_apm_element_stats_ref (GstApmElementStats * es)
{
  g_atomic_int_inc (&es->ref_count);
  return es;
}

/* qdata destroy: the element is being finalized */
static void
element_stats_detach (GstApmElementStats * es)
{
  g_mutex_lock (&elements_lock);
  elements = g_list_remove (elements, es);
  g_mutex_unlock (&elements_lock);
  gst_apm_element_stats_unref (es);     /* the list's */
  gst_apm_element_stats_unref (es);     /* the qdata's */
}

static gboolean
element_is_live_source (GstElement * element)
{
  return GST_IS_BASE_SRC (element)
      && gst_base_src_is_live (GST_BASE_SRC (element));
}

/* By name, not GST_TYPE_AGGREGATOR: naming the type would register
 * libgstbase's GstAggregator in every traced process, and an application
 * may define its own type of that name (GStreamer's collectpads test
 * does).  No such type registered yet: no aggregator exists. */
static gboolean
is_aggregator (GstElement * element)
{
  GType type = g_type_from_name ("GstAggregator");

  return type && g_type_is_a (G_OBJECT_TYPE (element), type);
}

/* An element that sends its buffers later than its chain receives them,
 * by its kind: a queue (another thread), a coder or parser (frames). */
static gboolean
holds_buffers (GstElement * element, GstApmElementStats * es)
{
  const gchar *klass = gst_element_class_get_metadata
      (GST_ELEMENT_GET_CLASS (element), GST_ELEMENT_METADATA_KLASS);

  return es->is_queue || (klass && (strstr (klass, "Encoder")
          || strstr (klass, "Decoder") || strstr (klass, "Parser")));
}

/* called with gst_apm_create_lock */
GstApmElementStats *
gst_apm_element_stats_get_locked (GstElement * element)
{
  GstApmElementStats *es = g_object_get_qdata (G_OBJECT (element),
      element_quark);
  GstElementFactory *factory;
  const gchar *values[4];

  if (es)
    return es;
  /* cache-aligned: the fields read per buffer are one line */
  es = g_aligned_alloc0 (1, sizeof (GstApmElementStats), 64);
  if (!gst_apm_element_path (element, &es->pipeline, &es->path)) {
    g_aligned_free (es);
    return NULL;
  }
  gst_apm_stats_ensure_families ();
  es->ref_count = 2;            /* one for qdata, one for the elements list */
  {
    static guint64 serials;

    es->serial = __atomic_add_fetch (&serials, 1, __ATOMIC_RELAXED);
  }
  g_weak_ref_init (&es->element, element);
  factory = gst_element_get_factory (element);
  es->factory = g_strdup (factory ?
      GST_OBJECT_NAME (factory) : G_OBJECT_TYPE_NAME (element));
  /* bins carry their children's flags: count the children only */
  es->is_source = !GST_IS_BIN (element)
      && (GST_OBJECT_FLAG_IS_SET (element, GST_ELEMENT_FLAG_SOURCE)
      || element->numsinkpads == 0);
  es->is_sink = !GST_IS_BIN (element)
      && (GST_OBJECT_FLAG_IS_SET (element, GST_ELEMENT_FLAG_SINK)
      || element->numsrcpads == 0);
  /* an aggregator's chain only hands the buffer over; a sink that syncs
   * spends its chain waiting for the clock: neither is processing */
  es->skip_own_time = is_aggregator (element)
      || (GST_IS_BASE_SINK (element)
      && gst_base_sink_get_sync (GST_BASE_SINK (element)));
  es->own_loop = es->is_source && !element_is_live_source (element);
  es->is_queue = g_strcmp0 (es->factory, "queue") == 0
      || g_strcmp0 (es->factory, "queue2") == 0;
  es->level_ts = GST_CLOCK_TIME_NONE;
  values[0] = es->pipeline;
  values[1] = es->path;
  values[2] = es->factory;
  values[3] = NULL;
  es->processing = apm_family_series (gst_apm_families.processing, values);
  es->buffers_in = apm_family_series (gst_apm_families.buffers_in, values);
  es->buffers_out = apm_family_series (gst_apm_families.buffers_out, values);
  es->bytes_in = apm_family_series (gst_apm_families.bytes_in, values);
  es->bytes_out = apm_family_series (gst_apm_families.bytes_out, values);
  es->media_in = apm_family_series (gst_apm_families.media, values);
  /* rtf: created by the aggregator once there is own time to divide by */
  /* even without source pads yet: bins and demuxers add them later */
  es->pooled = apm_family_series (gst_apm_families.pooled, values);
  es->allocated = apm_family_series (gst_apm_families.allocated, values);
  es->allocated_bytes = apm_family_series (gst_apm_families.allocated_bytes,
      values);
  /* rings start small and grow (gst_apm_ring_grow) when a reader finds
   * them too short: the buffers in flight between a source and its sinks,
   * or inside one element (many in a queue, a few elsewhere) */
  if (es->is_source)
    es->ring = gst_apm_ring_new (64, GST_APM_SOURCE_RING_MAX);
  else if (!es->is_sink && element->numsinkpads == 1) {
    /* the stage ring only once the element holds buffers (needs_ring),
     * from the first buffer for those that do by their kind */
    es->has_stage = TRUE;
    es->needs_ring = holds_buffers (element, es);
    es->residence = apm_family_series (gst_apm_families.residence, values);
  }
  g_object_set_qdata_full (G_OBJECT (element), element_quark, es,
      (GDestroyNotify) element_stats_detach);
  g_mutex_lock (&elements_lock);
  elements = g_list_prepend (elements, es);
  g_mutex_unlock (&elements_lock);
  return es;
}

GstApmElementStats *
gst_apm_element_stats_peek (GstElement * element)
{
  return g_object_get_qdata (G_OBJECT (element), element_quark);
}

void
gst_apm_element_stats_set_pool (GstApmElementStats * es, GstBufferPool * pool)
{
  GstStructure *config = pool ? gst_buffer_pool_get_config (pool) : NULL;
  guint size = 0, min = 0, max = 0;
  gboolean known = config && gst_buffer_pool_config_get_params (config, NULL,
      &size, &min, &max);

  if (config)
    gst_structure_free (config);
  g_mutex_lock (&gst_apm_create_lock);
  if (es->pool != pool) {
    es->pool = pool;
    g_atomic_int_set (&es->pool_params[0], size);
    g_atomic_int_set (&es->pool_params[1], min);
    g_atomic_int_set (&es->pool_params[2], max);
    g_atomic_int_set (&es->pool_known, known);
    if (!es->pool_seen) {
      const gchar *values[4] = { es->pipeline, es->path, es->factory, NULL };

      g_atomic_pointer_set (&es->pool_fresh,
          apm_family_series (gst_apm_families.pool_fresh, values));
      g_atomic_pointer_set (&es->pool_seen,
          g_new0 (gpointer, GST_APM_POOL_SEEN_SLOTS));
    } else {
      /* another pool: its buffers are new to us (a racing sender may
       * miscount one buffer, never crash: the table stays) */
      for (guint i = 0; i < GST_APM_POOL_SEEN_SLOTS; i++)
        g_atomic_pointer_set (&es->pool_seen[i], NULL);
    }
  }
  g_mutex_unlock (&gst_apm_create_lock);
}

GstApmRing *
gst_apm_element_stats_make_stage_ring (GstApmElementStats * es)
{
  GstApmRing *ring = gst_apm_ring_new (es->is_queue ? 64 : 32,
      GST_APM_STAGE_RING_MAX), *none = NULL;

  /* one writer at a time, but the thread pushing in may change */
  if (!__atomic_compare_exchange_n (&es->stage_ring, &none, ring, FALSE,
          __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
    gst_apm_ring_unref (ring);
    ring = none;
  }
  return ring;
}

gboolean
gst_apm_element_stats_get_pool_params (GstApmElementStats * es,
    guint params[3])
{
  if (!g_atomic_int_get (&es->pool_known))
    return FALSE;
  for (guint i = 0; i < 3; i++)
    params[i] = g_atomic_int_get (&es->pool_params[i]);
  return TRUE;
}

void
gst_apm_element_stats_sample_queue (GstApmElementStats * es, GstPad * pad,
    GstClockTime ts)
{
  /* the pad's parent is alive while it streams; no object lock taken */
  GstObject *queue = GST_OBJECT_PARENT (pad);
  guint buffers = 0, bytes = 0, max_buffers = 0, max_bytes = 0;
  guint64 time = 0, max_time = 0;
  gdouble fill = 0;
  gint permille;

  es->level_ts = ts;
  if (!queue || !GST_IS_ELEMENT (queue))
    return;
  g_object_get (queue, "current-level-buffers", &buffers,
      "current-level-bytes", &bytes, "current-level-time", &time,
      "max-size-buffers", &max_buffers, "max-size-bytes", &max_bytes,
      "max-size-time", &max_time, NULL);
  /* against the tightest limit (0: unlimited) */
  if (max_buffers)
    fill = MAX (fill, (gdouble) buffers / max_buffers);
  if (max_bytes)
    fill = MAX (fill, (gdouble) bytes / max_bytes);
  if (max_time)
    fill = MAX (fill, (gdouble) time / max_time);
  permille = (gint) (MIN (fill, 1.0) * 1000 + 0.5);
  g_atomic_int_inc (&es->fill_samples);
  if (permille >= 900)
    g_atomic_int_inc (&es->fill_high);
  __atomic_fetch_add (&es->fill_sum_permille, permille, __ATOMIC_RELAXED);
  if (permille > g_atomic_int_get (&es->fill_max_permille))
    g_atomic_int_set (&es->fill_max_permille, permille);
  g_atomic_int_set (&es->level_buffers, buffers);
  g_atomic_int_set (&es->level_bytes, bytes);
  __atomic_store_n (&es->level_time, time, __ATOMIC_RELAXED);
  g_atomic_int_set (&es->level_known, 1);
}

void
gst_apm_element_stats_first_buffer (GstApmElementStats * es,
    GstClockTime ts)
{
  struct timespec cpu;

  es->first_ts = ts;
  es->run_cpu_ns = clock_gettime (CLOCK_THREAD_CPUTIME_ID, &cpu) == 0 ?
      (gint64) cpu.tv_sec * GST_SECOND + cpu.tv_nsec : -1;
}

gboolean
gst_apm_element_stats_get_queue_fill (GstApmElementStats * es,
    guint * samples, guint * high, gdouble * mean_percent,
    gdouble * max_percent)
{
  guint n = g_atomic_int_get (&es->fill_samples);

  if (n == 0)
    return FALSE;
  *samples = n;
  *high = MIN ((guint) g_atomic_int_get (&es->fill_high), n);
  *mean_percent = __atomic_load_n (&es->fill_sum_permille,
      __ATOMIC_RELAXED) / 10.0 / n;
  *max_percent = g_atomic_int_get (&es->fill_max_permille) / 10.0;
  return TRUE;
}

void
gst_apm_element_stats_reset_queue_fill (GstApmElementStats * es)
{
  g_atomic_int_set (&es->fill_samples, 0);
  g_atomic_int_set (&es->fill_high, 0);
  g_atomic_int_set (&es->fill_max_permille, 0);
  __atomic_store_n (&es->fill_sum_permille, 0, __ATOMIC_RELAXED);
}

gboolean
gst_apm_element_stats_get_queue_level (GstApmElementStats * es,
    guint * buffers, guint * bytes, guint64 * time)
{
  if (!g_atomic_int_get (&es->level_known))
    return FALSE;
  *buffers = g_atomic_int_get (&es->level_buffers);
  *bytes = g_atomic_int_get (&es->level_bytes);
  *time = __atomic_load_n (&es->level_time, __ATOMIC_RELAXED);
  return TRUE;
}

void
gst_apm_element_stats_foreach (GFunc func, gpointer user_data)
{
  GPtrArray *copy = g_ptr_array_new ();

  /* called without the lock: @func may take others (the create lock) */
  g_mutex_lock (&elements_lock);
  for (GList * l = elements; l; l = l->next)
    g_ptr_array_add (copy, gst_apm_element_stats_ref (l->data));
  g_mutex_unlock (&elements_lock);
  for (guint i = 0; i < copy->len; i++) {
    func (copy->pdata[i], user_data);
    gst_apm_element_stats_unref (copy->pdata[i]);
  }
  g_ptr_array_unref (copy);
}
