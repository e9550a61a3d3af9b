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
 * GST_DEBUG's syntax and quoted: `gst-debug="GST_STATES:4,audio*:5"`),
 * `traceparent` (a W3C traceparent, default $TRACEPARENT: every pipeline
 * run is a job in that trace, a child of that span), `labels` (labels of
 * every run, `labels=variant:b` or quoted `labels="variant:b,region:eu"`),
 * `state-dir` (a directory where the metric history, the alert history and
 * finished jobs are kept across restarts; nothing is written without it),
 * `otlp-endpoint` (an OTLP/HTTP collector's URL, default
 * $OTEL_EXPORTER_OTLP_ENDPOINT: runs, stages and logs exported as
 * OpenTelemetry traces and logs; the other OTEL_* variables apply),
 * `summary` (true: a table of each pipeline's elements, latency, queues and
 * recommendations on stderr at exit; a path ending in .json or .html: the
 * full report written there), `stuck-timeout` (seconds a state change may
 * stay pending before the pipeline counts as stuck, default 10),
 * `recovery` (automated recovery policies, quoted:
 * `recovery="capture*=stall+stuck:restart,max=3"`).
 * The first configuration in the process wins (tracer before elements).
 */
#include "gstapmtracer.h"
#include "gstapmparams.h"
#include "gstapmwatch.h"
#include "gstapmstats.h"
#include "gstapmaggregate.h"
#include "gstapmdebuglog.h"
#include "gstapmreport.h"
#include "gstapmsummary.h"
#include "gstapmrecovery.h"

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

/* --- hot path: per buffer.  Two hooks per link, pad-push-pre and
 * pad-push-post (GStreamer reads the clock for every hook it dispatches):
 * the push counts for the pushing pad and its peer, and the frame it opens
 * times the peer's element.  A per-thread cache lookup, plain stores into
 * the cache lines of the two pads (folded into the series by the service
 * thread), and a frame on the thread's own stack: no lock, allocation,
 * formatting or shared write.  What the frame remembers of the buffer it
 * carries spares the common case two more lines per element: an element
 * that sends on the buffer its chain received (passthrough, in place) did
 * not allocate it, and one that sends the timestamp its chain received
 * held it since the frame began (no ring). --- */

/* @fmt: the pad whose caps give the format (push mode: the pushing pad) */
static inline GstClockTime
buffer_duration (GstApmPadStats * fmt, GstBuffer * buffer)
{
  if (GST_BUFFER_DURATION_IS_VALID (buffer))
    return GST_BUFFER_DURATION (buffer);
  if (fmt->bpf > 0)
    return gst_util_uint64_scale_int (gst_buffer_get_size (buffer) /
        fmt->bpf, GST_SECOND, fmt->rate);
  return GST_CLOCK_TIME_NONE;
}

/* the timestamps of two buffers in a row disagree by more than this: then
 * the format's sample time decides (any rate up to 1 MHz) */
#define TIMESTAMP_SLACK_NS 1000

/* arrival checks on a sink pad: gaps, overlaps, discont, jitter
 * (gstapmjitter.h) */
static inline void
check_arrival (GstApmSinkHot * h, GstApmPadStats * fmt, GstClockTime ts,
    GstBuffer * buffer, GstClockTime dur)
{
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DISCONT)
      && GST_CLOCK_TIME_IS_VALID (h->next_pts)) {
    apm_local_add32 (&h->discont, 1);
  } else if (GST_CLOCK_TIME_IS_VALID (pts)
      && GST_CLOCK_TIME_IS_VALID (h->next_pts)) {
    GstClockTimeDiff d = GST_CLOCK_DIFF (h->next_pts, pts);

    if (G_UNLIKELY (d > TIMESTAMP_SLACK_NS || d < -TIMESTAMP_SLACK_NS)) {
      GstClockTimeDiff tol = fmt->rate > 0 ? GST_SECOND / fmt->rate : 10000;

      if (d > tol)
        apm_local_add32 (&h->gaps, 1);
      else if (d < -tol)
        apm_local_add32 (&h->overlaps, 1);
    }
  }
  gst_apm_jitter_update (&h->jitter, ts, pts);
  if (GST_CLOCK_TIME_IS_VALID (pts))
    h->next_pts = GST_CLOCK_TIME_IS_VALID (dur) ? pts + dur :
        GST_CLOCK_TIME_NONE;
}

/* end-to-end latency of a sink: look each upstream source's ring up.
 * @pad: the sink pad (pull mode) or the pad pushing into it */
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
      apm_histogram_observe_max_ns (st->paths[i].latency, ts - entered);
  }
}

static inline void
note_thread (GstApmThreadState * t, GstApmPadStats * st)
{
  if (G_UNLIKELY (st->tid != t->tid))
    st->tid = t->tid;
}

/* @pad: the sink pad itself (pull mode), or the pad pushing into it;
 * @fmt: the pad whose format applies */
static inline void
sink_receive (GstApmThreadState * t, GstApmPadStats * st, GstPad * pad,
    GstApmPadStats * fmt, GstClockTime ts, GstBuffer * buffer)
{
  GstApmElementStats *es = st->element;
  GstApmSinkHot *h = &st->hot.sink;
  GstClockTime dur = buffer_duration (fmt, buffer);
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  apm_local_add32 (&h->buffers, 1);
  apm_local_add (&h->bytes, gst_buffer_get_size (buffer));
  if (G_UNLIKELY (!es->first_ts))
    gst_apm_element_stats_first_buffer (es, ts);
  if (GST_CLOCK_TIME_IS_VALID (dur))
    apm_local_add (&h->media_ns, dur);
  note_thread (t, st);
  check_arrival (h, fmt, ts, buffer, dur);
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    if (G_UNLIKELY (__atomic_load_n (&es->needs_ring, __ATOMIC_RELAXED)))
      gst_apm_ring_push (gst_apm_stage_ring_for_write (es), pts, ts);
    if (es->is_sink)
      observe_paths (st, pad, ts, pts);
  }
}

/* The frame of the chain the element @es is running on this thread, or
 * NULL (a loop, another thread's push, a nested push). */
static inline GstApmFrame *
chain_frame (GstApmThreadState * t, GstApmElementStats * es)
{
  GstApmFrame *f;

  if (t->depth <= 0 || t->depth > GST_APM_MAX_DEPTH)
    return NULL;
  f = &t->frames[t->depth - 1];
  return f->recv && f->recv->element == es ? f : NULL;
}

/* the pooled or allocated side of a buffer @es made (not forwarded) */
static inline void
count_allocation (GstApmSrcHot * h, GstApmElementStats * es,
    GstBuffer * buffer, gsize size)
{
  if (buffer->pool) {
    gpointer *seen;

    apm_local_add32 (&h->pooled, 1);
    /* a plain read: a stale value only costs one more slow-path check */
    if (G_UNLIKELY (buffer->pool != es->pool))
      gst_apm_element_stats_set_pool (es, buffer->pool);
    seen = g_atomic_pointer_get (&es->pool_seen);
    if (seen && gst_apm_pool_seen_first (seen, buffer))
      apm_local_add32 (&h->fresh, 1);
  } else {
    apm_local_add32 (&h->allocated, 1);
    apm_local_add (&h->allocated_bytes, size);
  }
}

/* residence of a 1-in element: since its chain began when it sends the
 * timestamp the chain received, else from the stage ring */
static inline void
observe_residence (GstApmSrcHot * h, GstApmElementStats * es,
    GstApmFrame * chain, GstClockTime ts, GstClockTime pts)
{
  GstClockTime entered;
  GstApmRing *ring;

  if (G_LIKELY (chain && chain->pts == pts
          && !__atomic_load_n (&es->needs_ring, __ATOMIC_RELAXED))) {
    entered = chain->start;
  } else {
    if (G_UNLIKELY (!__atomic_load_n (&es->needs_ring, __ATOMIC_RELAXED))) {
      __atomic_store_n (&es->needs_ring, 1, __ATOMIC_RELAXED);
      /* in its chain, this thread is the ring's writer: the buffer the
       * chain got is in, so only the buffer sent now goes unmeasured */
      if (chain && GST_CLOCK_TIME_IS_VALID (chain->pts))
        gst_apm_ring_push (gst_apm_stage_ring_for_write (es), chain->pts,
            chain->start);
    }
    /* written by the thread pushing into the element */
    ring = __atomic_load_n (&es->stage_ring, __ATOMIC_ACQUIRE);
    if (!ring)
      return;
    entered = gst_apm_ring_find (ring, pts);
  }
  if (GST_CLOCK_TIME_IS_VALID (entered) && ts >= entered)
    apm_local_histogram_observe_ns (&h->residence, ts - entered);
}

static inline void
src_send (GstApmThreadState * t, GstApmPadStats * st, GstClockTime ts,
    GstBuffer * buffer)
{
  GstApmElementStats *es = st->element;
  GstApmSrcHot *h = &st->hot.src;
  gsize size = gst_buffer_get_size (buffer);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  GstApmFrame *chain = chain_frame (t, es);

  apm_local_add32 (&h->buffers, 1);
  apm_local_add (&h->bytes, size);
  if (G_UNLIKELY (!es->first_ts))
    gst_apm_element_stats_first_buffer (es, ts);
  note_thread (t, st);
  /* a queue only hands buffers over, on another thread */
  if (!(chain && chain->buffer == buffer) && !es->is_queue)
    count_allocation (h, es, buffer, size);
  if (GST_CLOCK_TIME_IS_VALID (pts)) {
    if (es->ring)
      gst_apm_ring_push (gst_apm_ring_for_write (&es->ring, TRUE), pts, ts);
    else if (es->has_stage)
      observe_residence (h, es, chain, ts, pts);
  }
}

/* @recv: the pad pushed into (push mode), or NULL */
static inline void
frame_push (GstApmThreadState * t, GstPad * pad, GstApmPadStats * recv,
    GstClockTime ts, GstBuffer * buffer)
{
  if (G_LIKELY (t->depth < GST_APM_MAX_DEPTH)) {
    GstApmFrame *f = &t->frames[t->depth];

    f->pad = pad;
    f->recv = recv;
    f->start = ts;
    f->nested = 0;
    f->buffer = buffer;
    f->pts = buffer ? GST_BUFFER_PTS (buffer) : GST_CLOCK_TIME_NONE;
  }
  t->depth++;
}

/* Closes the frame @pad opened: the own time of the work inside it (its
 * time minus the frames nested in it), or -1 if it was not followed; its
 * @recv too. */
static inline gint64
frame_pop (GstApmThreadState * t, GstPad * pad, GstClockTime ts,
    GstApmPadStats ** recv)
{
  GstApmFrame *f;
  GstClockTime total;

  if (G_UNLIKELY (t->depth <= 0))
    return -1;
  t->depth--;
  if (G_UNLIKELY (t->depth >= GST_APM_MAX_DEPTH))
    return -1;
  f = &t->frames[t->depth];
  if (G_UNLIKELY (f->pad != pad))
    return -1;
  total = ts - f->start;
  if (t->depth > 0)
    t->frames[t->depth - 1].nested += total;
  else
    t->last_end = ts;
  *recv = f->recv;
  return total > f->nested ? total - f->nested : 0;
}

/* depth-0 work of a thread's loop owner (non-live source, pull-mode
 * element): the time since its last push or pull returned, counted in
 * @own for @es */
static inline void
loop_gap (GstApmThreadState * t, GstApmElementStats * es,
    ApmLocalHistogram * own, GstClockTime ts)
{
  if (t->depth != 0)
    return;
  if (t->loop_owner == es->serial && GST_CLOCK_TIME_IS_VALID (t->last_end)
      && ts >= t->last_end)
    apm_local_histogram_observe_ns (own, ts - t->last_end);
  t->loop_owner = es->serial;
}

/* the counting side of a push, for each buffer of it */
static inline void
push_one (GstApmThreadState * t, GstApmPadStats * st, GstApmPadStats * peer,
    GstPad * pad, GstClockTime ts, GstBuffer * buffer)
{
  if (st->element)
    src_send (t, st, ts, buffer);
  if (peer && peer->element)
    sink_receive (t, peer, pad, st, ts, buffer);
}

/* before a push's frame opens: the sampling and loop time of the pushing
 * and receiving elements */
static inline void
push_enter (GstApmThreadState * t, GstApmPadStats * st, GstApmPadStats * peer,
    GstPad * pad, GstClockTime ts)
{
  if (st->element) {
    gst_apm_element_stats_maybe_sample_queue (st->element, pad, ts);
    if (st->element->own_loop || t->loop_owner == st->element->serial)
      loop_gap (t, st->element, &st->hot.src.processing, ts);
  }
  /* the pad pushed into is alive while linked (peer_pad checked) */
  if (peer && peer->element && G_UNLIKELY (peer->element->is_queue))
    gst_apm_element_stats_maybe_sample_queue (peer->element, st->peer_pad,
        ts);
}

/* the frame of a push into @peer: times its element's chain, unless the
 * chain only hands the buffer over (an aggregator's, a syncing sink's:
 * neither sends from inside it, so nothing else needs it in the frame) */
static inline void
push_frame (GstApmThreadState * t, GstPad * pad, GstApmPadStats * peer,
    GstClockTime ts, GstBuffer * buffer)
{
  frame_push (t, pad, peer && peer->element
      && !peer->element->skip_own_time ? peer : NULL, ts, buffer);
}

static void
do_push_buffer_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get_pushing (t, pad);
  GstApmPadStats *peer = gst_apm_pad_stats_peer (t, st, pad);

  /* the lines the peer's side writes, fetched while the pad's side runs */
  if (peer) {
    __builtin_prefetch (peer, 1);
    __builtin_prefetch ((const gchar *) peer + 64, 1);
    __builtin_prefetch (st->hot.src.peer_element);
  }
  push_one (t, st, peer, pad, ts, buffer);
  push_enter (t, st, peer, pad, ts);
  push_frame (t, pad, peer, ts, buffer);
}

typedef struct
{
  GstApmThreadState *t;
  GstApmPadStats *st, *peer;
  GstPad *pad;
  GstClockTime ts;
} PushListArgs;

static gboolean
push_list_one (GstBuffer ** buffer, guint idx, gpointer user_data)
{
  PushListArgs *a = user_data;

  push_one (a->t, a->st, a->peer, a->pad, a->ts, *buffer);
  return TRUE;
}

static void
do_push_list_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBufferList * list)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get_pushing (t, pad);
  PushListArgs a = { t, st, gst_apm_pad_stats_peer (t, st, pad), pad, ts };

  gst_buffer_list_foreach (list, push_list_one, &a);
  push_enter (t, st, a.peer, pad, ts);
  push_frame (t, pad, a.peer, ts, NULL);
}

static void
count_flow (GstApmThreadState * t, GstPad * pad, GstFlowReturn res)
{
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);
  guint idx = CLAMP (-(gint) res, 0, GST_APM_N_FLOWS - 1);
  ApmSeries *s;

  if (!st->element)
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
  GstApmPadStats *recv = NULL;
  gint64 own = frame_pop (t, pad, ts, &recv);

  /* the chain of the element pushed into */
  if (own >= 0 && recv)
    apm_local_histogram_observe_ns (&recv->hot.sink.processing, own);
  if (G_UNLIKELY (res != GST_FLOW_OK))
    count_flow (t, pad, res);
}

/* pull mode: @pad is the sink pad that pulls; the upstream element works
 * inside the call, and the puller's own work is between its calls */
static void
do_pull_range_pre (GObject * self, GstClockTime ts, GstPad * pad,
    guint64 offset, guint size)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);

  if (st->element)
    loop_gap (t, st->element, &st->hot.sink.processing, ts);
  frame_push (t, pad, NULL, ts, NULL);
}

static void
do_pull_range_post (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer, GstFlowReturn res)
{
  GstApmThreadState *t = gst_apm_thread_get ();
  GstApmPadStats *recv = NULL;
  gint64 own = frame_pop (t, pad, ts, &recv);
  GstApmPadStats *st = gst_apm_pad_stats_get (t, pad);

  /* the getrange of the element pulled from */
  if (own >= 0 && st->element && st->peer)
    apm_local_histogram_observe_ns (&st->peer->hot.src.processing, own);
  if (G_UNLIKELY (res != GST_FLOW_OK)) {
    count_flow (t, pad, res);
    return;
  }
  if (st->element && buffer) {
    sink_receive (t, st, pad, st, ts, buffer);
    if (st->peer) {
      GstApmSrcHot *h = &st->peer->hot.src;

      apm_local_add32 (&h->buffers, 1);
      apm_local_add (&h->bytes, gst_buffer_get_size (buffer));
    }
  }
}

/* --- not per buffer --- */

/* Called with the pad's object lock held on 1.26 (sticky events pushed from
 * check_sticky): take no lock and make no GStreamer call that locks the pad
 * or its peer.  The caps go to the pad's own state; the peer sink pad
 * reads them from the pushing pad's state when a buffer needs them (see
 * sink_receive's @fmt). */
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

/* elements and pads added or removed: latency paths may have changed */
static void
do_bin_change_post (GObject * self, GstClockTime ts, GstBin * bin,
    GstElement * element, gboolean result)
{
  bump_topology ();
}

static void
do_element_pad_change (GObject * self, GstClockTime ts, GstElement * element,
    GstPad * pad)
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
    gst_apm_report_keep_history (apm_service_get_default ());
    gst_apm_recovery_watch_bus (element);
  } else if (transition == GST_STATE_CHANGE_READY_TO_PAUSED
      && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)) {
    gst_apm_watch_state_changing (element, transition, ts);
  } else if (transition == GST_STATE_CHANGE_PAUSED_TO_READY
      && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)) {
    /* before the elements stop: their caps and threads are still there */
    gst_apm_summary_capture (element);
  }
}

static void
do_change_state_post (GObject * self, GstClockTime ts, GstElement * element,
    GstStateChange transition, GstStateChangeReturn result)
{
  if (GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element)
      && result != GST_STATE_CHANGE_FAILURE) {
    gst_apm_watch_state_changed (element, transition, ts);
    if (result == GST_STATE_CHANGE_ASYNC)
      gst_apm_stuck_async (element);
  }
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
  gchar *config_path = NULL, *gst_debug = NULL, *summary = NULL;

  gst_apm_params_parse_tracer (params, &config, &config_path, &gst_debug,
      &summary, problems);

  gst_apm_params_load_config (config_path, &config, problems);
  gst_apm_params_check_gst_debug (gst_debug, &config, problems);
  if (!report)
    g_ptr_array_set_size (problems, 0);
  gst_apm_watch_configure (&config, problems);
  /* the parent's summary only: a forked child prints none.  After the
   * service is made: its exit handler then runs after the summary's */
  if (report)
    gst_apm_summary_configure (summary);
  g_free (summary);
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
  gst_tracing_register_hook (tracer, "pad-pull-range-pre",
      G_CALLBACK (do_pull_range_pre));
  gst_tracing_register_hook (tracer, "pad-push-event-pre",
      G_CALLBACK (do_push_event_pre));
  gst_tracing_register_hook (tracer, "pad-link-post",
      G_CALLBACK (do_pad_link_post));
  gst_tracing_register_hook (tracer, "pad-unlink-post",
      G_CALLBACK (do_pad_unlink_post));
  /* Also keeps GStreamer's hook table below its fill limit: a dispatch
   * looks every hook up twice, once as a miss, and GLib lets a table fill
   * to 15/16 before growing it, where misses probe most of it (13 hooks in
   * its 16 slots cost 2k instructions per buffer on P1; 17 in 32, none). */
  gst_tracing_register_hook (tracer, "bin-add-post",
      G_CALLBACK (do_bin_change_post));
  gst_tracing_register_hook (tracer, "bin-remove-post",
      G_CALLBACK (do_bin_change_post));
  gst_tracing_register_hook (tracer, "element-add-pad",
      G_CALLBACK (do_element_pad_change));
  gst_tracing_register_hook (tracer, "element-remove-pad",
      G_CALLBACK (do_element_pad_change));
  gst_tracing_register_hook (tracer, "element-change-state-post",
      G_CALLBACK (do_change_state_post));
  gst_tracing_register_hook (tracer, "pad-pull-range-post",
      G_CALLBACK (do_pull_range_post));
  gst_tracing_register_hook (tracer, "element-change-state-pre",
      G_CALLBACK (do_change_state_pre));
  gst_tracing_register_hook (tracer, "element-post-message-pre",
      G_CALLBACK (do_post_message_pre));
  gst_tracing_register_hook (tracer, "element-query-post",
      G_CALLBACK (do_element_query_post));
  gst_apm_watch_set_traced ();
  gst_apm_recovery_install ();
}

static void
gst_apm_tracer_finalize (GObject * object)
{
  /* tracers live until gst_deinit(): the service goes with them */
  gst_apm_summary_finish ();
  gst_apm_debug_log_stop ();
  gst_apm_recovery_uninstall ();
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
