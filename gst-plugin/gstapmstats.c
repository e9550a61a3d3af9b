/* gst-apm: the tracer's per-pad, per-element and per-thread state */
#include "gstapmstats-private.h"
#include "gstapmwatch.h"
#include "apm-service.h"

#include <gst/base/gstaggregator.h>
#include <gst/base/gstbasesrc.h>
#include <gst/base/gstbasesink.h>
#include <gst/audio/audio.h>
#include <string.h>

guint gst_apm_stats_generation = 1;
guint gst_apm_topology_generation = 1;

static GQuark pad_quark, element_quark;
/* a pad's audio format seen before its stats exist (caps come before the
 * first buffer): rate << 12 | bpf, in the pad's qdata, no allocation */
static GQuark format_quark;
#define FORMAT_PACK(rate, bpf) \
    GSIZE_TO_POINTER (((gsize) (rate) << 12) | ((gsize) (bpf) & 0xfff))
static GMutex create_lock;
static GMutex elements_lock;
static GList *elements;         /* GstApmElementStats, under elements_lock */

/* families, created once */
static ApmFamily *f_pad_buffers, *f_pad_bytes, *f_gaps, *f_overlaps,
    *f_discont, *f_jitter, *f_flows, *f_proc, *f_el_buf_in, *f_el_buf_out,
    *f_el_bytes_in, *f_el_bytes_out, *f_media, *f_residence,
    *f_latency, *f_pooled, *f_allocated, *f_allocated_bytes, *f_pool_fresh;

static const gchar *const pad_labels[] = { "pipeline", "element", "pad", NULL };
static const gchar *const flow_labels[] = { "pipeline", "element", "pad",
  "reason", NULL
};
static const gchar *const element_labels[] = { "pipeline", "element",
  "factory", NULL
};
static const gchar *const path_labels[] = { "pipeline", "source", "sink",
  NULL
};

static void
ensure_families (void)
{
  ApmRegistry *reg;

  if (f_pad_buffers)
    return;
  reg = apm_service_get_registry (apm_service_get_default ());
#define FAM(var, name, type, help, labels) \
  var = apm_registry_family (reg, name, type, help, labels, NULL, 0)
  FAM (f_pad_bytes, "apm_pad_bytes_total", APM_METRIC_COUNTER,
      "Bytes that passed through the pad", pad_labels);
  FAM (f_gaps, "apm_pad_timestamp_gaps_total", APM_METRIC_COUNTER,
      "Buffers that started later than the previous buffer ended",
      pad_labels);
  FAM (f_overlaps, "apm_pad_timestamp_overlaps_total", APM_METRIC_COUNTER,
      "Buffers that started before the previous buffer ended", pad_labels);
  FAM (f_discont, "apm_pad_discont_total", APM_METRIC_COUNTER,
      "Buffers flagged DISCONT", pad_labels);
  FAM (f_jitter, "apm_pad_jitter_seconds", APM_METRIC_GAUGE,
      "Arrival jitter: smoothed deviation of inter-arrival time from the "
      "inter-PTS time (RFC 3550 estimator)", pad_labels);
  FAM (f_flows, "apm_pad_flow_errors_total", APM_METRIC_COUNTER,
      "Pushes and pulls that returned a flow other than OK, by reason",
      flow_labels);
  FAM (f_el_buf_in, "apm_element_buffers_in_total", APM_METRIC_COUNTER,
      "Buffers received by the element on its sink pads", element_labels);
  FAM (f_el_buf_out, "apm_element_buffers_out_total", APM_METRIC_COUNTER,
      "Buffers sent by the element on its source pads", element_labels);
  FAM (f_el_bytes_in, "apm_element_bytes_in_total", APM_METRIC_COUNTER,
      "Bytes received by the element on its sink pads", element_labels);
  FAM (f_el_bytes_out, "apm_element_bytes_out_total", APM_METRIC_COUNTER,
      "Bytes sent by the element on its source pads", element_labels);
  FAM (f_media, "apm_element_media_seconds_total", APM_METRIC_COUNTER,
      "Media time received by the element (buffer durations)",
      element_labels);
  FAM (f_pooled, "apm_element_pool_buffers_total", APM_METRIC_COUNTER,
      "Buffers the element sent that came from a buffer pool (reused)",
      element_labels);
  FAM (f_pool_fresh, "apm_element_pool_fresh_buffers_total",
      APM_METRIC_COUNTER, "Pooled buffers the element sent for the first "
      "time (the pool had to allocate them; the rest were reused)",
      element_labels);
  FAM (f_allocated, "apm_element_allocated_buffers_total",
      APM_METRIC_COUNTER, "Buffers the element sent that were allocated "
      "one by one, outside any pool", element_labels);
  FAM (f_allocated_bytes, "apm_element_allocated_bytes_total",
      APM_METRIC_COUNTER, "Bytes of the buffers allocated outside any pool",
      element_labels);
  apm_family_set_scale (f_jitter, 1e-9);
  apm_family_set_scale (f_media, 1e-9);
#undef FAM
  f_proc = apm_registry_family (reg, "apm_element_processing_seconds",
      APM_METRIC_HISTOGRAM, "Own processing time per buffer: time in the "
      "element's chain or getrange minus the downstream pushes it made",
      element_labels, NULL, 0);
  f_residence = apm_registry_family (reg, "apm_element_latency_seconds",
      APM_METRIC_HISTOGRAM, "Time from a buffer entering the element to "
      "the buffer with the same timestamp leaving it (queues, resamplers, "
      "encoders)", element_labels, NULL, 0);
  f_latency = apm_registry_family (reg, "apm_pipeline_latency_seconds",
      APM_METRIC_HISTOGRAM, "End-to-end latency from a source element "
      "pushing a timestamp to a sink element receiving it", path_labels,
      NULL, 0);
  /* last: its existence tells the others exist */
  __atomic_store_n (&f_pad_buffers, apm_registry_family (reg,
          "apm_pad_buffers_total", APM_METRIC_COUNTER,
          "Buffers that passed through the pad", pad_labels, NULL, 0),
      __ATOMIC_RELEASE);
}

void
gst_apm_stats_init (void)
{
  pad_quark = g_quark_from_static_string ("apm-pad-stats");
  format_quark = g_quark_from_static_string ("apm-pad-format");
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

/* --- elements --- */

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
  g_weak_ref_clear (&es->element);
  gst_apm_ring_unref (es->ring);
  gst_apm_ring_unref (es->stage_ring);
  g_free (es->pipeline);
  g_free (es->path);
  g_free (es->factory);
}

static void
element_stats_unref (GstApmElementStats * es)
{
  if (es)
    g_atomic_rc_box_release_full (es, (GDestroyNotify) element_stats_clear);
}

static GstApmElementStats *
element_stats_ref (GstApmElementStats * es)
{
  return g_atomic_rc_box_acquire (es);
}

/* qdata destroy: the element is being finalized */
static void
element_stats_detach (GstApmElementStats * es)
{
  g_mutex_lock (&elements_lock);
  elements = g_list_remove (elements, es);
  g_mutex_unlock (&elements_lock);
  element_stats_unref (es);     /* the list's */
  element_stats_unref (es);     /* the qdata's */
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

/* called with create_lock */
static GstApmElementStats *
element_stats_get_locked (GstElement * element)
{
  GstApmElementStats *es = g_object_get_qdata (G_OBJECT (element),
      element_quark);
  GstElementFactory *factory;
  const gchar *values[4];

  if (es)
    return es;
  es = g_atomic_rc_box_new0 (GstApmElementStats);
  if (!gst_apm_element_path (element, &es->pipeline, &es->path)) {
    g_atomic_rc_box_release (es);
    return NULL;
  }
  ensure_families ();
  g_atomic_rc_box_acquire (es); /* one for qdata, one for the elements list */
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
  es->processing = apm_family_series (f_proc, values);
  es->buffers_in = apm_family_series (f_el_buf_in, values);
  es->buffers_out = apm_family_series (f_el_buf_out, values);
  es->bytes_in = apm_family_series (f_el_bytes_in, values);
  es->bytes_out = apm_family_series (f_el_bytes_out, values);
  es->media_in = apm_family_series (f_media, values);
  /* rtf: created by the aggregator once there is own time to divide by */
  /* even without source pads yet: bins and demuxers add them later */
  es->pooled = apm_family_series (f_pooled, values);
  es->allocated = apm_family_series (f_allocated, values);
  es->allocated_bytes = apm_family_series (f_allocated_bytes, values);
  /* rings start small and grow (gst_apm_ring_grow) when a reader finds
   * them too short: the buffers in flight between a source and its sinks,
   * or inside one element (many in a queue, a few elsewhere) */
  if (es->is_source)
    es->ring = gst_apm_ring_new (64, GST_APM_SOURCE_RING_MAX);
  else if (!es->is_sink && element->numsinkpads == 1) {
    es->stage_ring = gst_apm_ring_new (es->is_queue ? 64 : 32,
        GST_APM_STAGE_RING_MAX);
    es->residence = apm_family_series (f_residence, values);
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
  g_mutex_lock (&create_lock);
  if (es->pool != pool) {
    es->pool = pool;
    g_atomic_int_set (&es->pool_params[0], size);
    g_atomic_int_set (&es->pool_params[1], min);
    g_atomic_int_set (&es->pool_params[2], max);
    g_atomic_int_set (&es->pool_known, known);
    if (!es->pool_seen) {
      const gchar *values[4] = { es->pipeline, es->path, es->factory, NULL };

      g_atomic_pointer_set (&es->pool_fresh,
          apm_family_series (f_pool_fresh, values));
      g_atomic_pointer_set (&es->pool_seen,
          g_new0 (gpointer, GST_APM_POOL_SEEN_SLOTS));
    } else {
      /* another pool: its buffers are new to us (a racing sender may
       * miscount one buffer, never crash: the table stays) */
      for (guint i = 0; i < GST_APM_POOL_SEEN_SLOTS; i++)
        g_atomic_pointer_set (&es->pool_seen[i], NULL);
    }
  }
  g_mutex_unlock (&create_lock);
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
  guint buffers = 0, bytes = 0;
  guint64 time = 0;

  es->level_ts = ts;
  if (!queue || !GST_IS_ELEMENT (queue))
    return;
  g_object_get (queue, "current-level-buffers", &buffers,
      "current-level-bytes", &bytes, "current-level-time", &time, NULL);
  g_atomic_int_set (&es->level_buffers, buffers);
  g_atomic_int_set (&es->level_bytes, bytes);
  __atomic_store_n (&es->level_time, time, __ATOMIC_RELAXED);
  g_atomic_int_set (&es->level_known, 1);
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

  /* called without the lock: @func may take others (create_lock) */
  g_mutex_lock (&elements_lock);
  for (GList * l = elements; l; l = l->next)
    g_ptr_array_add (copy, element_stats_ref (l->data));
  g_mutex_unlock (&elements_lock);
  for (guint i = 0; i < copy->len; i++) {
    func (copy->pdata[i], user_data);
    element_stats_unref (copy->pdata[i]);
  }
  g_ptr_array_unref (copy);
}

/* --- pads --- */

static GstApmPadStats *
pad_stats_new (void)
{
  /* cache-aligned: no other data shares the lines the streaming thread
   * writes */
  GstApmPadStats *st = g_aligned_alloc0 (1, sizeof (GstApmPadStats), 64);

  st->ref_count = 1;
  st->hot.next_pts = GST_CLOCK_TIME_NONE;
  gst_apm_jitter_init (&st->hot.jitter);
  return st;
}

static GstApmPadStats *
pad_stats_ref (GstApmPadStats * st)
{
  g_atomic_int_inc (&st->ref_count);
  return st;
}

static void
pad_stats_unref (GstApmPadStats * st)
{
  if (!st || !g_atomic_int_dec_and_test (&st->ref_count))
    return;
  pad_stats_unref (st->peer);
  element_stats_unref (st->element);
  g_aligned_free (st);
}

/* qdata destroy: the pad is being finalized.  What it counted is folded
 * and its series retired; a source pad linked to it may still hold the
 * struct (its writes then go nowhere) */
static void
pad_stats_detach (GstApmPadStats * st)
{
  /* make every thread drop its cached pointers */
  __atomic_fetch_add (&gst_apm_stats_generation, 1, __ATOMIC_ACQ_REL);
  if (st->element) {
    gst_apm_fold_remove_pad (st);
    apm_series_retire (st->buffers);
    apm_series_retire (st->bytes);
    if (st->is_sink) {
      apm_series_retire (st->gaps);
      apm_series_retire (st->overlaps);
      apm_series_retire (st->discont);
      apm_series_retire (st->jitter);
    }
    for (guint i = 0; i < GST_APM_N_FLOWS; i++)
      apm_series_retire (st->flows[i]);
    for (guint i = 0; i < st->n_paths; i++) {
      gst_apm_ring_unref (st->paths[i].ring);
      apm_series_retire (st->paths[i].latency);
    }
    st->n_paths = 0;
    g_clear_pointer (&st->paths, g_free);
  }
  pad_stats_unref (st);
}

/* the pad's parent element, resolving nothing: ghost pads count for their
 * bin, proxy pads (parent is a pad) are ignored */
static GstElement *
pad_element (GstPad * pad)
{
  GstObject *parent = gst_object_get_parent (GST_OBJECT (pad));

  if (parent && !GST_IS_ELEMENT (parent)) {
    gst_object_unref (parent);
    return NULL;
  }
  return GST_ELEMENT (parent);
}

/* called with create_lock */
static GstApmPadStats *
pad_stats_get_locked (GstPad * pad)
{
  GstApmPadStats *st;
  GstElement *element;
  GstApmElementStats *es;
  const gchar *values[4];
  gchar *pad_name;

  st = g_object_get_qdata (G_OBJECT (pad), pad_quark);
  if (st)
    return st;

  st = pad_stats_new ();
  st->is_sink = GST_PAD_IS_SINK (pad);
  {
    gsize format = GPOINTER_TO_SIZE (g_object_get_qdata (G_OBJECT (pad),
            format_quark));

    st->hot.rate = format >> 12;
    st->hot.bpf = format & 0xfff;
  }
  element = pad_element (pad);
  es = element ? element_stats_get_locked (element) : NULL;
  if (element)
    gst_object_unref (element);
  if (!es) {
    /* proxy pad or element outside any pipeline (buffers only flow once it
     * is in one): not counted, but its link is followed */
    g_object_set_qdata_full (G_OBJECT (pad), pad_quark, st,
        (GDestroyNotify) pad_stats_detach);
    return st;
  }

  st->element = element_stats_ref (es);
  pad_name = gst_object_get_name (GST_OBJECT (pad));
  values[0] = es->pipeline;
  values[1] = es->path;
  values[2] = pad_name;
  values[3] = NULL;
  st->buffers = apm_family_series (f_pad_buffers, values);
  st->bytes = apm_family_series (f_pad_bytes, values);
  if (st->is_sink) {
    st->gaps = apm_family_series (f_gaps, values);
    st->overlaps = apm_family_series (f_overlaps, values);
    st->discont = apm_family_series (f_discont, values);
    st->jitter = apm_family_series (f_jitter, values);
  }
  g_free (pad_name);
  gst_apm_fold_add_pad (st);
  g_object_set_qdata_full (G_OBJECT (pad), pad_quark, st,
      (GDestroyNotify) pad_stats_detach);
  return st;
}

GstApmPadStats *
gst_apm_pad_stats_lookup_slow (GstApmThreadState * t, GstPad * pad)
{
  guint gen = __atomic_load_n (&gst_apm_stats_generation, __ATOMIC_ACQUIRE);
  guint slot = ((guintptr) pad >> 4 ^ (guintptr) pad >> 10) &
      (GST_APM_CACHE_SIZE - 1);
  GstApmPadStats *st;
  GstPad *peer;

  if (t->cache_gen != gen) {
    memset (t->cache, 0, sizeof (t->cache));
    t->cache_gen = gen;
  }
  st = g_object_get_qdata (G_OBJECT (pad), pad_quark);
  if (!st) {
    g_mutex_lock (&create_lock);
    st = pad_stats_get_locked (pad);
    /* pull mode only: the puller counts for the pad it pulls from.  The
     * pulling thread holds no object lock here (pad-pull-range-pre/post) */
    if (st->element && st->is_sink && !st->peer
        && GST_PAD_MODE (pad) == GST_PAD_MODE_PULL
        && (peer = gst_pad_get_peer (pad))) {
      GstApmPadStats *peer_st = pad_stats_get_locked (peer);

      if (peer_st->element)
        st->peer = pad_stats_ref (peer_st);
      gst_object_unref (peer);
    }
    g_mutex_unlock (&create_lock);
  }
  t->cache[slot].pad = pad;
  t->cache[slot].stats = st;
  return st;
}

GstApmPadStats *
gst_apm_pad_stats_peer_slow (GstApmThreadState * t, GstApmPadStats * st,
    GstPad * pad)
{
  /* pad-push-pre holds no object lock: the peer is taken properly */
  GstPad *peer = gst_pad_get_peer (pad);
  GstApmPadStats *old = st->peer, *peer_st = NULL;

  if (peer) {
    peer_st = g_object_get_qdata (G_OBJECT (peer), pad_quark);
    if (!peer_st) {
      g_mutex_lock (&create_lock);
      peer_st = pad_stats_get_locked (peer);
      g_mutex_unlock (&create_lock);
    }
    /* only this pad's pushing thread reads and writes its link */
    st->peer = pad_stats_ref (peer_st);
    gst_object_unref (peer);
  } else {
    st->peer = NULL;
  }
  st->peer_pad = peer;
  st->peer_gen = t->cache_gen;
  pad_stats_unref (old);
  return st->peer;
}

ApmSeries *
gst_apm_pad_stats_flow_slow (GstApmPadStats * st, GstPad * pad,
    GstFlowReturn ret)
{
  guint idx = CLAMP (-(gint) ret, 0, GST_APM_N_FLOWS - 1);
  ApmSeries *s;

  g_mutex_lock (&create_lock);
  s = st->flows[idx];
  if (!s) {
    gchar *pad_name = gst_object_get_name (GST_OBJECT (pad));
    const gchar *values[5] = { st->element->pipeline, st->element->path,
      pad_name, gst_flow_get_name (ret), NULL
    };

    s = apm_family_series (f_flows, values);
    __atomic_store_n (&st->flows[idx], s, __ATOMIC_RELEASE);
    g_free (pad_name);
  }
  g_mutex_unlock (&create_lock);
  return s;
}

/* --- latency paths: the sources upstream of a sink pad --- */

GstPad *
gst_apm_pad_real_peer (GstPad * pad)
{
  GstPad *peer = gst_pad_get_peer (pad);
  guint guard = 0;

  while (peer && guard++ < 16) {
    if (GST_IS_GHOST_PAD (peer)) {
      /* a bin's ghost pad: go inside */
      GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (peer));

      gst_object_unref (peer);
      peer = target;
    } else if (GST_IS_PROXY_PAD (peer)) {
      /* the inside of a bin's ghost pad: go outside (a proxy pad's parent
       * is its ghost pad, taken with a reference) */
      GstObject *ghost = gst_object_get_parent (GST_OBJECT (peer));

      if (!ghost || !GST_IS_GHOST_PAD (ghost)) {
        if (ghost)
          gst_object_unref (ghost);
        return peer;
      }
      gst_object_unref (peer);
      peer = gst_pad_get_peer (GST_PAD (ghost));
      gst_object_unref (ghost);
    } else {
      return peer;
    }
  }
  if (peer)
    gst_object_unref (peer);
  return NULL;
}

static void
collect_sources (GstPad * sinkpad, GPtrArray * sources, GHashTable * seen,
    guint depth)
{
  GstPad *src = gst_apm_pad_real_peer (sinkpad);
  GstElement *element;
  GstIterator *it;
  GValue v = G_VALUE_INIT;

  if (!src)
    return;
  element = GST_ELEMENT (gst_object_get_parent (GST_OBJECT (src)));
  gst_object_unref (src);
  if (!element)
    return;
  if (g_hash_table_contains (seen, element) || depth > 64
      || sources->len >= GST_APM_MAX_PATHS) {
    gst_object_unref (element);
    return;
  }
  g_hash_table_add (seen, element);
  if (element->numsinkpads == 0 && !GST_IS_BIN (element)) {
    g_ptr_array_add (sources, gst_object_ref (element));
  } else {
    it = gst_element_iterate_sink_pads (element);
    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      collect_sources (g_value_get_object (&v), sources, seen, depth + 1);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  gst_object_unref (element);
}

void
gst_apm_pad_stats_refresh_paths (GstApmPadStats * st, GstPad * pad)
{
  GPtrArray *sources = g_ptr_array_new_with_free_func (gst_object_unref);
  GHashTable *seen = g_hash_table_new (NULL, NULL);
  guint gen = __atomic_load_n (&gst_apm_topology_generation,
      __ATOMIC_ACQUIRE);
  GstApmPath paths[GST_APM_MAX_PATHS];
  guint n = 0, old_n;

  /* push mode gives the pushing pad: the walk starts at its peer (no
   * object lock is held in pad-push-pre) */
  if (GST_PAD_IS_SRC (pad)) {
    GstPad *sink = gst_pad_get_peer (pad);

    if (sink) {
      collect_sources (sink, sources, seen, 0);
      gst_object_unref (sink);
    }
  } else {
    collect_sources (pad, sources, seen, 0);
  }
  g_hash_table_destroy (seen);

  g_mutex_lock (&create_lock);
  for (guint i = 0; i < sources->len && n < GST_APM_MAX_PATHS; i++) {
    GstApmElementStats *src = element_stats_get_locked (g_ptr_array_index
        (sources, i));
    const gchar *values[4];

    if (!src || !src->ring)
      continue;
    values[0] = st->element->pipeline;
    values[1] = src->path;
    values[2] = st->element->path;
    values[3] = NULL;
    paths[n].ring = gst_apm_ring_ref (__atomic_load_n (&src->ring,
            __ATOMIC_ACQUIRE));
    paths[n].latency = apm_family_series (f_latency, values);
    n++;
  }
  g_mutex_unlock (&create_lock);
  g_ptr_array_unref (sources);

  /* only this pad's streaming thread reads paths: swap them */
  old_n = st->n_paths;
  for (guint i = 0; i < old_n; i++) {
    gboolean kept = FALSE;

    for (guint j = 0; j < n; j++)
      kept |= paths[j].latency == st->paths[i].latency;
    gst_apm_ring_unref (st->paths[i].ring);
    if (kept)
      apm_series_unref (st->paths[i].latency);
    else
      apm_series_retire (st->paths[i].latency);
  }
  g_free (st->paths);
  st->paths = n ? g_memdup2 (paths, n * sizeof (GstApmPath)) : NULL;
  st->n_paths = n;
  st->topology_gen = gen;
}

void
gst_apm_pad_stats_set_caps (GstPad * pad, GstCaps * caps)
{
  GstApmPadStats *st = g_object_get_qdata (G_OBJECT (pad), pad_quark);
  GstAudioInfo info;
  gint rate = 0, bpf = 0;

  /* raw audio only: gst_audio_info_from_caps() logs an ERROR for others
   * (video pipelines would show one per caps event) */
  if (gst_caps_get_size (caps) == 1
      && gst_structure_has_name (gst_caps_get_structure (caps, 0),
          "audio/x-raw")
      && gst_audio_info_from_caps (&info, caps) && info.rate > 0
      && info.bpf > 0 && info.bpf < 0x1000) {
    rate = info.rate;
    bpf = info.bpf;
  }
  if (!st) {
    g_object_set_qdata (G_OBJECT (pad), format_quark,
        FORMAT_PACK (rate, bpf));
    return;
  }
  __atomic_store_n (&st->hot.rate, rate, __ATOMIC_RELAXED);
  __atomic_store_n (&st->hot.bpf, bpf, __ATOMIC_RELAXED);
}
