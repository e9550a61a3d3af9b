/* gst-apm: the apm tracer
 *
 * SECTION:tracer-apm
 * @title: apm
 * @short_description: audio pipeline monitor, served over HTTP
 *
 * Times and counts every buffer on every pad of every pipeline in the
 * process, and serves the figures as Prometheus metrics, JSON and a live
 * dashboard from one in-process service.
 *
 * |[
 * GST_TRACERS="apm(port=9464,address=127.0.0.1)" gst-launch-1.0 \
 *     audiotestsrc is-live=true ! audioconvert ! autoaudiosink
 * curl http://127.0.0.1:9464/metrics
 * ]|
 *
 * Params: `port` (0 picks a free port, default 9464), `address` (an IP
 * address, default 127.0.0.1), `quiet` (true: no stderr line with the URL),
 * `gst-debug` (GStreamer debug categories to copy into the JSON log, in
 * GST_DEBUG's syntax and quoted: `gst-debug="GST_STATES:4,audio*:5"`).
 * The first configuration in the process wins (tracer before elements).
 */
#include "gstapmtracer.h"
#include "gstapmparams.h"
#include "gstapmwatch.h"
#include "gstapmstats.h"
#include "gstapmaggregate.h"
#include "gstapmdebuglog.h"

GST_DEBUG_CATEGORY_STATIC (gst_apm_tracer_debug);
#define GST_CAT_DEFAULT gst_apm_tracer_debug

struct _GstApmTracer
{
  GstTracer parent;
};

#define _do_init \
    GST_DEBUG_CATEGORY_INIT (gst_apm_tracer_debug, "apm", 0, \
        "audio pipeline monitor tracer");
G_DEFINE_TYPE_WITH_CODE (GstApmTracer, gst_apm_tracer, GST_TYPE_TRACER,
    _do_init);

/* What each hook may call.  Read at the call sites of GStreamer 1.22.0,
 * 1.24.0, 1.26.0-1.26.4, 1.26.11, 1.28.0 and 1.28.6 (gstpad.c,
 * gstelement.c, gstbin.c); a hook registered in 1.22 is called the same way
 * in every later version, except pad-push-event-pre:
 *
 *  - pad-push-pre/-list-pre/-post/-list-post, pad-chain-pre/-post/-list-*,
 *    pad-pull-range-pre/-post: streaming thread, no object lock held (the
 *    pad's stream lock, recursive, may be).  Per buffer: no lock, no
 *    allocation.  The first buffer of a pad (slow path) may take object
 *    locks briefly (gst_object_get_parent, names, gst_pad_get_peer in pull
 *    mode): GStreamer takes object locks last, so holding none, taking one
 *    cannot deadlock.  A queue's level is read with its property getter at
 *    most once a second (the queue's own lock, never held around a push
 *    or before its chain).
 *  - pad-push-event-pre: 1.26.0-1.26.3 call it with the pad's object lock
 *    held (push_sticky, check_sticky), sometimes with a NULL event: no
 *    lock, no GStreamer call that locks the pad, its element or its peer.
 *    Only the pad's qdata is touched.
 *  - pad-link-post, pad-unlink-post: locks released; an atomic add only.
 *  - element-change-state-pre/-post: the element's state lock (and its
 *    parents'), no object lock: object locks, bin iteration and property
 *    reads are safe; never set or wait for a state, send an event or a
 *    query.  Runs the first start of the service.
 *  - element-post-message-pre: any thread, no object lock of GStreamer's,
 *    maybe the poster's stream or private locks: parse the message, walk
 *    parents; never post a message, read a property or query.
 *  - element-query-post: no lock; reads the answered query only.
 *
 * The hooks of later versions (memory and pool hooks of 1.26 and 1.28) are
 * not used: registering a name the running GStreamer does not know would
 * attach the callback to every hook. */

/* --- hot path: per buffer.  A per-thread cache lookup, atomic adds and a
 * frame on the thread's own stack: no lock, allocation or formatting. --- */

static inline GstClockTime
buffer_duration (GstApmPadStats * st, GstBuffer * buffer)
{
  if (GST_BUFFER_DURATION_IS_VALID (buffer))
    return GST_BUFFER_DURATION (buffer);
  if (st->bpf > 0)
    return gst_util_uint64_scale_int (gst_buffer_get_size (buffer) / st->bpf,
        GST_SECOND, st->rate);
  return GST_CLOCK_TIME_NONE;
}

/* arrival checks on a sink pad: gaps, overlaps, discont, jitter */
static inline void
check_arrival (GstApmPadStats * st, GstClockTime ts, GstBuffer * buffer,
    GstClockTime dur)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT)
      && GST_CLOCK_TIME_IS_VALID (st->next_pts)) {
    apm_counter_add_int (st->discont, 1);
  } else if (GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (st->next_pts)) {
    GstClockTimeDiff tol = st->rate > 0 ? GST_SECOND / st->rate : 10000;
    GstClockTimeDiff d = GST_CLOCK_DIFF (st->next_pts, pts);

    if (d > tol)
      apm_counter_add_int (st->gaps, 1);
    else if (d < -tol)
      apm_counter_add_int (st->overlaps, 1);
  }
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    if (GST_CLOCK_TIME_IS_VALID (st->last_pts)) {
      gint64 dev = (gint64) (ts - st->last_arrival) -
          (gint64) (pts - st->last_pts);

      st->jitter_ns += ((dev < 0 ? -dev : dev) - st->jitter_ns) / 16;
      apm_gauge_set_int (st->jitter, st->jitter_ns);
    }
    st->last_pts = pts;
    st->last_arrival = ts;
    st->next_pts = GST_CLOCK_TIME_IS_VALID (dur) ? pts + dur :
        GST_CLOCK_TIME_NONE;
  }
}

/* end-to-end latency of a sink: look each upstream source's ring up */
static inline void
observe_paths (GstApmPadStats * st, GstPad * pad, GstClockTime ts,
    GstClockTime pts)
{
  if (G_UNLIKELY (st->topology_gen !=
          __atomic_load_n (&gst_apm_topology_generation, __ATOMIC_RELAXED)))
    gst_apm_pad_stats_refresh_paths (st, pad);
  for (guint i = 0; i < st->n_paths; i++) {
    GstClockTime entered = gst_apm_ring_find (st->paths[i].ring, pts);

    if (GST_CLOCK_TIME_IS_VALID (entered) && ts >= entered)
      apm_histogram_observe_ns (st->paths[i].latency, ts - entered);
  }
}

/* A sink pad's format is its peer's: the pad that pushes on this thread
 * right now, whose caps event the tracer saw (no pad lock, no peer call). */
static inline void
sink_take_format (GstApmThreadState * t, GstApmPadStats * st)
{
  GstApmPadStats *src = t->pushing;

  if (src && G_UNLIKELY (src->rate != st->rate || src->bpf != st->bpf)) {
    st->rate = src->rate;
    st->bpf = src->bpf;
  }
}

static inline void
sink_receive (GstApmThreadState * t, GstApmPadStats * st, GstPad * pad,
    GstClockTime ts, GstBuffer * buffer)
{
  GstApmElementStats *es = st->element;
  gsize size = gst_buffer_get_size (buffer);
  GstClockTime dur = buffer_duration (st, buffer);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  apm_counter_add_int (st->buffers, 1);
  apm_counter_add_int (st->bytes, size);
  apm_counter_add_int (es->buffers_in, 1);
  apm_counter_add_int (es->bytes_in, size);
  if (G_UNLIKELY (!es->first_ts))
    es->first_ts = ts;
  if (GST_CLOCK_TIME_IS_VALID (dur))
    apm_counter_add_int (es->media_in, dur);
  es->last_tid = t->tid;
  check_arrival (st, ts, buffer, dur);
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    if (es->stage_ring)
      gst_apm_ring_push (es->stage_ring, pts, ts);
    if (es->is_sink)
      observe_paths (st, pad, ts, pts);
  }
}

static inline void
src_send (GstApmThreadState * t, GstApmPadStats * st, GstClockTime ts,
    GstBuffer * buffer)
{
  GstApmElementStats *es = st->element;
  gsize size = gst_buffer_get_size (buffer);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  apm_counter_add_int (st->buffers, 1);
  apm_counter_add_int (st->bytes, size);
  apm_counter_add_int (es->buffers_out, 1);
  apm_counter_add_int (es->bytes_out, size);
  if (G_UNLIKELY (!es->first_ts))
    es->first_ts = ts;
  if (buffer->pool) {
    gpointer *seen;

    apm_counter_add_int (es->pooled, 1);
    /* a plain read: a stale value only costs one more slow-path check */
    if (G_UNLIKELY (buffer->pool != es->pool))
      gst_apm_element_stats_set_pool (es, buffer->pool);
    seen = g_atomic_pointer_get (&es->pool_seen);
    if (seen && gst_apm_pool_seen_first (seen, buffer))
      apm_counter_add_int (es->pool_fresh, 1);
  } else {
    apm_counter_add_int (es->allocated, 1);
    apm_counter_add_int (es->allocated_bytes, size);
  }
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    if (es->ring)
      gst_apm_ring_push (es->ring, pts, ts);
    else if (es->stage_ring) {
      GstClockTime entered = gst_apm_ring_find (es->stage_ring, pts);

      if (GST_CLOCK_TIME_IS_VALID (entered) && ts >= entered)
        apm_histogram_observe_ns (es->residence, ts - entered);
    }
  }
}

static inline void
frame_push (GstApmThreadState * t, GstPad * pad, GstApmElementStats * es,
    GstClockTime ts)
{
  if (G_LIKELY (t->depth < GST_APM_MAX_DEPTH)) {
    GstApmFrame *f = &t->frames[t->depth];

    f->pad = pad;
    f->element = es;
    f->start = ts;
    f->nested = 0;
  }
  t->depth++;
}

static inline void
frame_pop (GstApmThreadState * t, GstPad * pad, GstClockTime ts)
{
  GstApmFrame *f;
  GstClockTime total;

  if (G_UNLIKELY (t->depth <= 0))
    return;
  t->depth--;
  if (G_UNLIKELY (t->depth >= GST_APM_MAX_DEPTH))
    return;
  f = &t->frames[t->depth];
  if (G_UNLIKELY (f->pad != pad))
    return;
  total = ts - f->start;
  if (f->element && !f->element->skip_own_time)
    apm_histogram_observe_ns (f->element->processing,
        total > f->nested ? total - f->nested : 0);
  if (t->depth > 0 && t->depth <= GST_APM_MAX_DEPTH)
    t->frames[t->depth - 1].nested += total;
  else
    t->last_end = ts;
}

/* depth-0 work of a thread's loop owner (non-live source, pull-mode
 * element): the time since its last push or pull returned */
static inline void
loop_gap (GstApmThreadState * t, GstApmElementStats * es, GstClockTime ts)
{
  if (t->depth != 0)
    return;
  if (t->loop_owner == es->serial && GST_CLOCK_TIME_IS_VALID (t->last_end)
      && ts >= t->last_end)
    apm_histogram_observe_ns (es->processing, ts - t->last_end);
  t->loop_owner = es->serial;
}

static void
do_push_buffer_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);

  if (!st)
    return;
  t->pushing = st;
  src_send (t, st, ts, buffer);
  gst_apm_element_stats_maybe_sample_queue (st->element, pad, ts);
  if (st->element->own_loop || t->loop_owner == st->element->serial)
    loop_gap (t, st->element, ts);
}

static gboolean
count_src_one (GstBuffer ** buffer, guint idx, gpointer user_data)
{
  gpointer *args = user_data;

  src_send (args[0], args[1], *(GstClockTime *) args[2], *buffer);
  return TRUE;
}

static void
do_push_list_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBufferList * list)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);
  gpointer args[3] = { t, st, &ts };

  if (!st)
    return;
  t->pushing = st;
  gst_buffer_list_foreach (list, count_src_one, args);
  if (st->element->own_loop || t->loop_owner == st->element->serial)
    loop_gap (t, st->element, ts);
}

static void
count_flow (GstApmThreadState * t, GstPad * pad, GstFlowReturn res)
{
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);
  guint idx = CLAMP (-(gint) res, 0, GST_APM_N_FLOWS - 1);
  ApmSeries *s;

  if (!st)
    return;
  s = __atomic_load_n (&st->flows[idx], __ATOMIC_ACQUIRE);
  if (!s)
    s = gst_apm_pad_stats_flow_slow (st, pad, res);
  apm_counter_add_int (s, 1);
}

static void
do_push_post (GObject * self, GstClockTime ts, GstPad * pad,
    GstFlowReturn res)
{
  GstApmThreadState *t = gst_apm_thread_get ();

  t->pushing = NULL;
  if (t->depth == 0)
    t->last_end = ts;
  if (G_UNLIKELY (res != GST_FLOW_OK))
    count_flow (t, pad, res);
}

static void
do_chain_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);

  if (!st) {
    frame_push (t, pad, NULL, ts);
    return;
  }
  /* a pad without a chain-list function gets each buffer of a list
   * through its chain: counted once, by the chain-list hook already */
  if (G_UNLIKELY (t->depth > 0 && t->depth <= GST_APM_MAX_DEPTH
          && t->frames[t->depth - 1].pad == pad)) {
    frame_push (t, pad, st->element, ts);
    return;
  }
  sink_take_format (t, st);
  sink_receive (t, st, pad, ts, buffer);
  gst_apm_element_stats_maybe_sample_queue (st->element, pad, ts);
  frame_push (t, pad, st->element, ts);
}

static void
do_chain_post (GObject * self, GstClockTime ts, GstPad * pad,
    GstFlowReturn res)
{
  frame_pop (gst_apm_thread_get (), pad, ts);
}

static gboolean
count_sink_one (GstBuffer ** buffer, guint idx, gpointer user_data)
{
  gpointer *args = user_data;

  sink_receive (args[0], args[1], args[3], *(GstClockTime *) args[2],
      *buffer);
  return TRUE;
}

static void
do_chain_list_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBufferList * list)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);
  gpointer args[4] = { t, st, &ts, pad };

  if (st) {
    sink_take_format (t, st);
    gst_buffer_list_foreach (list, count_sink_one, args);
  }
  frame_push (t, pad, st ? st->element : NULL, ts);
}

/* pull mode: @pad is the sink pad that pulls; the upstream element works
 * inside the call, and the puller's own work is between its calls */
static void
do_pull_range_pre (GObject * self, GstClockTime ts, GstPad * pad,
    guint64 offset, guint size)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);

  if (st)
    loop_gap (t, st->element, ts);
  frame_push (t, pad, st ? st->peer_element : NULL, ts);
}

static void
do_pull_range_post (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer, GstFlowReturn res)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st;

  frame_pop (t, pad, ts);
  if (G_UNLIKELY (res != GST_FLOW_OK)) {
    count_flow (t, pad, res);
    return;
  }
  st = gst_apm_pad_stats_get (t, pad);
  if (st && buffer) {
    sink_receive (t, st, pad, ts, buffer);
    if (st->peer_buffers) {
      apm_counter_add_int (st->peer_buffers, 1);
      apm_counter_add_int (st->peer_bytes, gst_buffer_get_size (buffer));
      apm_counter_add_int (st->peer_element->buffers_out, 1);
      apm_counter_add_int (st->peer_element->bytes_out,
          gst_buffer_get_size (buffer));
    }
  }
}

/* --- not per buffer --- */

/* Called with the pad's object lock held on 1.26 (sticky events pushed from
 * check_sticky): take no lock and make no GStreamer call that locks the pad
 * or its peer.  The caps go to the pad's own state; the peer sink pad
 * copies them from the pushing pad's state in its chain (see
 * sink_take_format). */
static void
do_push_event_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstEvent * event)
{
  /* 1.26.0-1.26.3 may pass NULL (check_sticky's EOS fallback) */
  if (event && GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    gst_apm_pad_stats_set_caps (pad, caps);
  }
}

static void
bump_topology (void)
{
  __atomic_fetch_add (&gst_apm_topology_generation, 1, __ATOMIC_RELEASE);
}

static void
do_pad_link_post (GObject * self, GstClockTime ts, GstPad * src,
    GstPad * sink, GstPadLinkReturn res)
{
  bump_topology ();
}

static void
do_pad_unlink_post (GObject * self, GstClockTime ts, GstPad * src,
    GstPad * sink, gboolean res)
{
  bump_topology ();
}

static void
do_change_state_pre (GObject * self, GstClockTime ts, GstElement * element,
    GstStateChange transition)
{
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)) {
    gst_apm_watch_pipeline (element, FALSE);
    gst_apm_aggregate_ensure (apm_service_get_default ());
  } else if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)) {
    gst_apm_watch_state_changing (element, transition, ts);
  }
}

static void
do_change_state_post (GObject * self, GstClockTime ts, GstElement * element,
    GstStateChange transition, GstStateChangeReturn result)
{
  if (GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)
      && result != GST_STATE_CHANGE_FAILURE)
    gst_apm_watch_state_changed (element, transition, ts);
}

static void
do_post_message_pre (GObject * self, GstClockTime ts, GstElement * element,
    GstMessage * message)
{
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING:
    case GST_MESSAGE_EOS:
    case GST_MESSAGE_QOS:
      gst_apm_watch_message (element, message);
      break;
    case GST_MESSAGE_STATE_CHANGED:
      /* a top-level pipeline's own: what the service thread reports */
      if (GST_MESSAGE_SRC (message) == GST_OBJECT (element)
          && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)) {
        GstState state, pending;

        gst_message_parse_state_changed (message, NULL, &state, &pending);
        gst_apm_watch_pipeline_state (element, state, pending);
      }
      break;
    default:
      break;
  }
}

/* the latency a top-level pipeline computes for itself (at PLAYING and on
 * LATENCY messages), kept for the service thread, which sends no query */
static void
do_element_query_post (GObject * self, GstClockTime ts, GstElement * element,
    GstQuery * query, gboolean res)
{
  if (res && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY
      && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element))
    gst_apm_watch_pipeline_latency (element, query);
}

/* the tracer's params, kept to configure a forked child's service */
static gchar *tracer_params;

/* Configures the service from @params and the configuration file; reports
 * problems when @report (a forked child's parent already did). */
static void
configure_from_params (const gchar * params, gboolean report)
{
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
  gchar *config_path = NULL, *gst_debug = NULL;

  gst_apm_params_parse_full (params, &config, &config_path, &gst_debug,
      problems);
  gst_apm_params_load_config (config_path, &config, problems);
  gst_apm_params_check_gst_debug (gst_debug, &config, problems);
  if (!report)
    g_ptr_array_set_size (problems, 0);
  gst_apm_watch_configure (&config, problems);
  if (gst_debug)
    gst_apm_debug_log_start (gst_debug);
  apm_service_config_clear (&config);
  g_free (gst_debug);
  g_free (config_path);
  g_ptr_array_unref (problems);
}

static void
configure_forked_child (ApmService * service)
{
  configure_from_params (tracer_params, FALSE);
}

static void
gst_apm_tracer_constructed (GObject * object)
{
  GstTracer *tracer = GST_TRACER (object);
  gchar *params = NULL;

  G_OBJECT_CLASS (gst_apm_tracer_parent_class)->constructed (object);

  g_object_get (object, "params", &params, NULL);
  configure_from_params (params, TRUE);
  g_free (tracer_params);
  tracer_params = params;
  apm_service_set_fork_func (configure_forked_child);

  gst_tracing_register_hook (tracer, "pad-push-pre",
      G_CALLBACK (do_push_buffer_pre));
  gst_tracing_register_hook (tracer, "pad-push-list-pre",
      G_CALLBACK (do_push_list_pre));
  gst_tracing_register_hook (tracer, "pad-push-post",
      G_CALLBACK (do_push_post));
  gst_tracing_register_hook (tracer, "pad-push-list-post",
      G_CALLBACK (do_push_post));
  gst_tracing_register_hook (tracer, "pad-chain-post",
      G_CALLBACK (do_chain_post));
  gst_tracing_register_hook (tracer, "pad-chain-list-post",
      G_CALLBACK (do_chain_post));
  gst_tracing_register_hook (tracer, "pad-pull-range-pre",
      G_CALLBACK (do_pull_range_pre));
  gst_tracing_register_hook (tracer, "pad-push-event-pre",
      G_CALLBACK (do_push_event_pre));
  gst_tracing_register_hook (tracer, "pad-link-post",
      G_CALLBACK (do_pad_link_post));
  gst_tracing_register_hook (tracer, "pad-unlink-post",
      G_CALLBACK (do_pad_unlink_post));
  gst_tracing_register_hook (tracer, "element-change-state-post",
      G_CALLBACK (do_change_state_post));
  gst_tracing_register_hook (tracer, "pad-chain-pre",
      G_CALLBACK (do_chain_pre));
  gst_tracing_register_hook (tracer, "pad-chain-list-pre",
      G_CALLBACK (do_chain_list_pre));
  gst_tracing_register_hook (tracer, "pad-pull-range-post",
      G_CALLBACK (do_pull_range_post));
  gst_tracing_register_hook (tracer, "element-change-state-pre",
      G_CALLBACK (do_change_state_pre));
  gst_tracing_register_hook (tracer, "element-post-message-pre",
      G_CALLBACK (do_post_message_pre));
  gst_tracing_register_hook (tracer, "element-query-post",
      G_CALLBACK (do_element_query_post));
  gst_apm_watch_set_traced ();
}

static void
gst_apm_tracer_finalize (GObject * object)
{
  /* tracers live until gst_deinit(): the service goes with them */
  gst_apm_debug_log_stop ();
  apm_service_set_fork_func (NULL);
  apm_service_shutdown ();
  g_clear_pointer (&tracer_params, g_free);
  G_OBJECT_CLASS (gst_apm_tracer_parent_class)->finalize (object);
}

static void
gst_apm_tracer_class_init (GstApmTracerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->constructed = gst_apm_tracer_constructed;
  gobject_class->finalize = gst_apm_tracer_finalize;
}

static void
gst_apm_tracer_init (GstApmTracer * self)
{
}
