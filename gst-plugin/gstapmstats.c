/* gst-apm: the tracer's metric families and per-pad stats
 *
 * A pad's stats are made the first time it carries a buffer (the slow
 * lookups below, under the create lock) and kept in its qdata until it is
 * finalized.  The other state behind gstapmstats.h: see
 * gstapmstats-private.h. */
#include "gstapmstats-private.h"
#include "apm-service.h"

#include <gst/audio/audio.h>
#include <string.h>

guint gst_apm_stats_generation = 1;

static GQuark pad_quark;
/* a pad's audio format seen before its stats exist (caps come before the
 * first buffer): rate << 12 | bpf, in the pad's qdata, no allocation */
static GQuark format_quark;
#define FORMAT_PACK(rate, bpf) \
    GSIZE_TO_POINTER (((gsize) (rate) << 12) | ((gsize) (bpf) & 0xfff))
GMutex gst_apm_create_lock;

GstApmFamilies gst_apm_families;

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

void
gst_apm_stats_ensure_families (void)
{
  ApmRegistry *reg;

  if (gst_apm_families.pad_buffers)
    return;
  reg = apm_service_get_registry (apm_service_get_default ());
#define FAM(field, name, type, help, labels) \
  gst_apm_families.field = apm_registry_family (reg, name, type, help, \
      labels, NULL, 0)
  FAM (pad_bytes, "apm_pad_bytes_total", APM_METRIC_COUNTER,
      "Bytes that passed through the pad", pad_labels);
  FAM (gaps, "apm_pad_timestamp_gaps_total", APM_METRIC_COUNTER,
      "Buffers that started later than the previous buffer ended",
      pad_labels);
  FAM (overlaps, "apm_pad_timestamp_overlaps_total", APM_METRIC_COUNTER,
      "Buffers that started before the previous buffer ended", pad_labels);
  FAM (discont, "apm_pad_discont_total", APM_METRIC_COUNTER,
      "Buffers flagged DISCONT", pad_labels);
  FAM (jitter, "apm_pad_jitter_seconds", APM_METRIC_GAUGE,
      "Arrival jitter: smoothed deviation of inter-arrival time from the "
      "inter-PTS time (RFC 3550 estimator)", pad_labels);
  FAM (flows, "apm_pad_flow_errors_total", APM_METRIC_COUNTER,
      "Pushes and pulls that returned a flow other than OK, by reason",
      flow_labels);
  FAM (buffers_in, "apm_element_buffers_in_total", APM_METRIC_COUNTER,
      "Buffers received by the element on its sink pads", element_labels);
  FAM (buffers_out, "apm_element_buffers_out_total", APM_METRIC_COUNTER,
      "Buffers sent by the element on its source pads", element_labels);
  FAM (bytes_in, "apm_element_bytes_in_total", APM_METRIC_COUNTER,
      "Bytes received by the element on its sink pads", element_labels);
  FAM (bytes_out, "apm_element_bytes_out_total", APM_METRIC_COUNTER,
      "Bytes sent by the element on its source pads", element_labels);
  FAM (media, "apm_element_media_seconds_total", APM_METRIC_COUNTER,
      "Media time received by the element (buffer durations)",
      element_labels);
  FAM (pooled, "apm_element_pool_buffers_total", APM_METRIC_COUNTER,
      "Buffers the element took from a buffer pool and sent (not those it "
      "forwarded: the buffer its chain received)", element_labels);
  FAM (pool_fresh, "apm_element_pool_fresh_buffers_total",
      APM_METRIC_COUNTER, "Pooled buffers the element sent for the first "
      "time (the pool had to allocate them; the rest were reused)",
      element_labels);
  FAM (allocated, "apm_element_allocated_buffers_total",
      APM_METRIC_COUNTER, "Buffers the element allocated one by one, outside "
      "any pool, and sent (not those it forwarded)", element_labels);
  FAM (allocated_bytes, "apm_element_allocated_bytes_total",
      APM_METRIC_COUNTER, "Bytes of the buffers allocated outside any pool",
      element_labels);
  apm_family_set_scale (gst_apm_families.jitter, 1e-9);
  apm_family_set_scale (gst_apm_families.media, 1e-9);
#undef FAM
  gst_apm_families.processing = apm_registry_family (reg,
      "apm_element_processing_seconds", APM_METRIC_HISTOGRAM,
      "Own processing time per buffer: time in the element's chain or "
      "getrange minus the downstream pushes it made", element_labels, NULL,
      0);
  gst_apm_families.residence = apm_registry_family (reg,
      "apm_element_latency_seconds", APM_METRIC_HISTOGRAM,
      "Time from a buffer entering the element to the buffer with the same "
      "timestamp leaving it (queues, resamplers, encoders)", element_labels,
      NULL, 0);
  gst_apm_families.latency = apm_registry_family (reg,
      "apm_pipeline_latency_seconds", APM_METRIC_HISTOGRAM,
      "End-to-end latency from a source element pushing a timestamp to a "
      "sink element receiving it", path_labels, NULL, 0);
  /* last: its existence tells the others exist */
  __atomic_store_n (&gst_apm_families.pad_buffers, apm_registry_family (reg,
          "apm_pad_buffers_total", APM_METRIC_COUNTER,
          "Buffers that passed through the pad", pad_labels, NULL, 0),
      __ATOMIC_RELEASE);
}

void
gst_apm_stats_init (void)
{
  pad_quark = g_quark_from_static_string ("apm-pad-stats");
  format_quark = g_quark_from_static_string ("apm-pad-format");
  gst_apm_element_stats_init ();
}

/* --- pads --- */

/* what a push touches (gstapmstats.h): each role's per-buffer fields in
 * the pad's first two lines */
G_STATIC_ASSERT (G_STRUCT_OFFSET (GstApmPadStats, hot) == 32);
G_STATIC_ASSERT (G_STRUCT_OFFSET (GstApmPadStats, hot.src.residence) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (GstApmPadStats, hot.sink.jitter) == 64);
G_STATIC_ASSERT (G_STRUCT_OFFSET (GstApmPadStats,
        hot.sink.processing) == 96);
G_STATIC_ASSERT (G_STRUCT_OFFSET (GstApmElementStats, ref_count) <= 64);
G_STATIC_ASSERT (sizeof (GstApmFrame) == 64);

static GstApmPadStats *
pad_stats_new (void)
{
  /* cache-aligned: no other data shares the lines the streaming thread
   * writes */
  GstApmPadStats *st = g_aligned_alloc0 (1, sizeof (GstApmPadStats), 64);

  st->ref_count = 1;
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
  gst_apm_element_stats_unref (st->element);
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
    gst_apm_pad_stats_clear_paths (st);
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

/* called with gst_apm_create_lock */
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
  if (st->is_sink) {
    st->hot.sink.next_pts = GST_CLOCK_TIME_NONE;
    gst_apm_jitter_init (&st->hot.sink.jitter);
  }
  {
    gsize format = GPOINTER_TO_SIZE (g_object_get_qdata (G_OBJECT (pad),
            format_quark));

    st->rate = format >> 12;
    st->bpf = format & 0xfff;
  }
  element = pad_element (pad);
  es = element ? gst_apm_element_stats_get_locked (element) : NULL;
  if (element)
    gst_object_unref (element);
  if (!es) {
    /* proxy pad or element outside any pipeline (buffers only flow once it
     * is in one): not counted, but its link is followed */
    g_object_set_qdata_full (G_OBJECT (pad), pad_quark, st,
        (GDestroyNotify) pad_stats_detach);
    return st;
  }

  st->element = gst_apm_element_stats_ref (es);
  pad_name = gst_object_get_name (GST_OBJECT (pad));
  values[0] = es->pipeline;
  values[1] = es->path;
  values[2] = pad_name;
  values[3] = NULL;
  st->buffers = apm_family_series (gst_apm_families.pad_buffers, values);
  st->bytes = apm_family_series (gst_apm_families.pad_bytes, values);
  if (st->is_sink) {
    st->gaps = apm_family_series (gst_apm_families.gaps, values);
    st->overlaps = apm_family_series (gst_apm_families.overlaps, values);
    st->discont = apm_family_series (gst_apm_families.discont, values);
    st->jitter = apm_family_series (gst_apm_families.jitter, values);
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
    for (guint i = 0; i < GST_APM_MAX_DEPTH; i++)
      t->frames[i].next_pad = NULL;
    t->cache_gen = gen;
  }
  st = g_object_get_qdata (G_OBJECT (pad), pad_quark);
  if (!st) {
    g_mutex_lock (&gst_apm_create_lock);
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
    g_mutex_unlock (&gst_apm_create_lock);
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
      g_mutex_lock (&gst_apm_create_lock);
      peer_st = pad_stats_get_locked (peer);
      g_mutex_unlock (&gst_apm_create_lock);
    }
    /* only this pad's pushing thread reads and writes its link */
    st->peer = pad_stats_ref (peer_st);
    gst_object_unref (peer);
  } else {
    st->peer = NULL;
  }
  st->peer_pad = peer;
  st->peer_gen = t->cache_gen;
  st->hot.src.peer_element = st->peer ? st->peer->element : NULL;
  pad_stats_unref (old);
  return st->peer;
}

ApmSeries *
gst_apm_pad_stats_flow_slow (GstApmPadStats * st, GstPad * pad,
    GstFlowReturn ret)
{
  guint idx = CLAMP (-(gint) ret, 0, GST_APM_N_FLOWS - 1);
  ApmSeries *s;

  g_mutex_lock (&gst_apm_create_lock);
  s = st->flows[idx];
  if (!s) {
    gchar *pad_name = gst_object_get_name (GST_OBJECT (pad));
    const gchar *values[5] = { st->element->pipeline, st->element->path,
      pad_name, gst_flow_get_name (ret), NULL
    };

    s = apm_family_series (gst_apm_families.flows, values);
    __atomic_store_n (&st->flows[idx], s, __ATOMIC_RELEASE);
    g_free (pad_name);
  }
  g_mutex_unlock (&gst_apm_create_lock);
  return s;
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
  __atomic_store_n (&st->rate, rate, __ATOMIC_RELAXED);
  __atomic_store_n (&st->bpf, bpf, __ATOMIC_RELAXED);
}
