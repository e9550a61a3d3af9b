/* gst-apm: the tracer's per-pad, per-element and per-thread state
 *
 * Created once, on the slow path, the first time a pad or element carries a
 * buffer (under a mutex, with allocation).  After that the streaming threads
 * only read it through a per-thread cache and update it with atomic adds.
 */
#pragma once

#include <gst/gst.h>
#include "apm-metrics.h"
#include "gstapmring.h"

G_BEGIN_DECLS

typedef struct _GstApmElementStats GstApmElementStats;
typedef struct _GstApmPadStats GstApmPadStats;
typedef struct _GstApmThreadState GstApmThreadState;

#define GST_APM_MAX_PATHS 8     /* sources followed per sink pad */
#define GST_APM_MAX_DEPTH 32    /* nested pushes followed per thread */
#define GST_APM_N_FLOWS 8       /* GST_FLOW_CUSTOM_ERROR .. OK, by -ret */

struct _GstApmElementStats
{
  gint ref_count;
  guint64 serial;               /* unique in the process, never 0 */
  gchar *pipeline;              /* the top-level pipeline's label */
  gchar *path;
  gchar *factory;
  GWeakRef element;
  ApmSeries *processing;        /* own time histogram (ns) */
  ApmSeries *buffers_in, *buffers_out, *bytes_in, *bytes_out;
  ApmSeries *media_in;          /* media ns processed (counter) */
  ApmSeries *residence;         /* entry to exit histogram (ns) */
  ApmSeries *rtf;               /* gauge, set by the aggregator */
  ApmSeries *thread_id;         /* not exported: last tid, for the model */
  GstApmRing *ring;             /* sources: pts -> entry time */
  GstApmRing *stage_ring;       /* 1-in elements: pts -> chain time */
  gboolean is_source;           /* never a bin: the elements inside it */
  gboolean is_sink;
  gboolean skip_own_time;       /* aggregators: chain is a hand-off */
  gboolean own_loop;            /* depth-0 gaps on its thread are work */
  gint last_tid;
  /* buffers sent: from a pool, or allocated one by one */
  ApmSeries *pooled, *allocated, *allocated_bytes;
  /* the last pool seen, by address only: a reference would keep the pool
   * and its memory (a device's, maybe) after the pipeline is gone; its
   * size, min and max buffers read from its config when it is first seen */
  gpointer pool;
  guint pool_params[3];         /* atomic */
  gint pool_known;              /* atomic */
  /* queue and queue2: their fill level, sampled at most once a second by
   * the threads that push in and out (the service thread keeps no
   * reference to read it) */
  gboolean is_queue;
  GstClockTime level_ts;
  guint level_buffers, level_bytes;     /* atomic */
  guint64 level_time;           /* atomic */
  gint level_known;             /* atomic */
  /* pooled buffers seen so far, by address: a new one is a buffer the pool
   * had to allocate, a known one a reuse.  Made with the first pool
   * (GST_APM_POOL_SEEN_SLOTS, atomic slots), cleared when the pool changes */
  gpointer *pool_seen;
  ApmSeries *pool_fresh;
  GstClockTime first_ts;        /* first buffer of the run (hook time) */
  /* aggregator's state (service thread only) */
  gint64 prev_media_ns, prev_proc_ns;
  gdouble prev_transfer;
  ApmSeries *queue_level[3];    /* buffers, bytes, seconds */
  ApmSeries *pool_gauges[3];    /* size, min and max buffers */
  ApmSeries *transfer_rate, *first_byte;
};

typedef struct
{
  GstApmRing *ring;             /* ref */
  ApmSeries *latency;           /* histogram (ns) */
} GstApmPath;

struct _GstApmPadStats
{
  GstApmElementStats *element;  /* ref */
  ApmSeries *buffers, *bytes;
  /* sink pads */
  ApmSeries *gaps, *overlaps, *discont, *jitter;
  ApmSeries *peer_buffers, *peer_bytes;       /* pull mode: the src pad */
  GstApmElementStats *peer_element;           /* pull mode: upstream */
  ApmSeries *flows[GST_APM_N_FLOWS];          /* created lazily */
  gboolean is_sink;
  /* arrival state, touched only by the thread streaming on this pad */
  GstClockTime next_pts;
  GstClockTime last_pts;
  GstClockTime last_arrival;
  gint64 jitter_ns;
  gint rate, bpf;               /* from caps, for buffers without duration */
  /* end-to-end latency paths, refreshed when the topology changes */
  guint topology_gen;
  guint n_paths;
  GstApmPath paths[GST_APM_MAX_PATHS];
};

typedef struct
{
  GstPad *pad;
  GstApmElementStats *element;
  GstClockTime start;
  GstClockTime nested;
} GstApmFrame;

#define GST_APM_CACHE_SIZE 32

struct _GstApmThreadState
{
  guint cache_gen;
  struct
  {
    GstPad *pad;
    GstApmPadStats *stats;
  } cache[GST_APM_CACHE_SIZE];
  gint depth;
  GstApmFrame frames[GST_APM_MAX_DEPTH];
  /* whose depth-0 gaps are work: by serial, not address, as pool threads
   * outlive pipelines and a new element's stats may reuse the address */
  guint64 loop_owner;
  GstApmPadStats *pushing;      /* the pad pushing now, for its peer's chain */
  GstClockTime last_end;
  gint tid;
};

extern guint gst_apm_stats_generation;        /* bumped on pad teardown */
extern guint gst_apm_topology_generation;     /* bumped on (un)link */
extern __thread GstApmThreadState *gst_apm_thread
    __attribute__ ((tls_model ("initial-exec")));

void gst_apm_stats_init (void);
GstApmThreadState *gst_apm_thread_state_create (void);
GstApmPadStats *gst_apm_pad_stats_lookup_slow (GstApmThreadState * t,
    GstPad * pad);
void gst_apm_pad_stats_refresh_paths (GstApmPadStats * st, GstPad * pad);
ApmSeries *gst_apm_pad_stats_flow_slow (GstApmPadStats * st, GstPad * pad,
    GstFlowReturn ret);
void gst_apm_pad_stats_set_caps (GstPad * pad, GstCaps * caps);
#define GST_APM_POOL_SEEN_SLOTS 256

/* Streaming thread, pooled buffers only: TRUE the first time @buffer is
 * seen (the pool allocated it), FALSE for a reuse.  Lock-free; a full
 * table counts as fresh, so reuse is never overstated. */
static inline gboolean
gst_apm_pool_seen_first (gpointer * slots, GstBuffer * buffer)
{
  guint h = (guint) (((guintptr) buffer >> 6) * 2654435761u);

  for (guint i = 0; i < 8; i++) {
    gpointer *slot = &slots[(h + i) % GST_APM_POOL_SEEN_SLOTS];
    gpointer cur = g_atomic_pointer_get (slot);

    if (cur == buffer)
      return FALSE;
    if (!cur && g_atomic_pointer_compare_and_exchange (slot, NULL, buffer))
      return TRUE;
    if (g_atomic_pointer_get (slot) == buffer)
      return FALSE;
  }
  return TRUE;
}

/* Slow path: the element started sending buffers from another pool. */
void gst_apm_element_stats_set_pool (GstApmElementStats * es,
    GstBufferPool * pool);
/* The size, min and max buffers of the last pool @es used; FALSE if none. */
gboolean gst_apm_element_stats_get_pool_params (GstApmElementStats * es,
    guint params[3]);

/* Streaming thread of a queue's pad, at most once a second: reads the
 * queue's current level (the queue's own lock, which it never holds while
 * it pushes or before its chain runs). */
void gst_apm_element_stats_sample_queue (GstApmElementStats * es,
    GstPad * pad, GstClockTime ts);

static inline void
gst_apm_element_stats_maybe_sample_queue (GstApmElementStats * es,
    GstPad * pad, GstClockTime ts)
{
  if (G_UNLIKELY (es->is_queue) && (ts >= es->level_ts + GST_SECOND
          || ts < es->level_ts))
    gst_apm_element_stats_sample_queue (es, pad, ts);
}

/* The last level sampled: FALSE if none yet. */
gboolean gst_apm_element_stats_get_queue_level (GstApmElementStats * es,
    guint * buffers, guint * bytes, guint64 * time);

/* The real pad linked to @pad through ghost and proxy pads (a new
 * reference), or NULL.  Takes object locks: not in a hook that may run
 * with one held. */
GstPad *gst_apm_pad_real_peer (GstPad * pad);

/* Every element with stats, for the aggregator (service thread). */
void gst_apm_element_stats_foreach (GFunc func, gpointer user_data);

/* Streaming threads seen, for the aggregator: @func gets the tid. */
void gst_apm_threads_foreach (GFunc func, gpointer user_data);

/* The stats of @element if it has carried buffers, else NULL.  Valid while
 * the caller holds a ref on @element. */
GstApmElementStats *gst_apm_element_stats_peek (GstElement * element);

/* @element's top-level pipeline and its path inside it ("bin0/vol"), new
 * strings; FALSE if it is in no bin.  @pipeline (nullable) gets the
 * pipeline's label (gst_apm_watch_pipeline_label()), which every series
 * of the element carries: resolved once, when its stats are created. */
gboolean gst_apm_element_path (GstElement * element, gchar ** pipeline,
    gchar ** path);

static inline GstApmThreadState *
gst_apm_thread_get (void)
{
  GstApmThreadState *t = gst_apm_thread;

  if (G_UNLIKELY (!t))
    t = gst_apm_thread_state_create ();
  return t;
}

/* The pad's stats or NULL if ignored (pad outside any pipeline). */
static inline GstApmPadStats *
gst_apm_pad_stats_get (GstApmThreadState * t, GstPad * pad)
{
  guint slot = ((guintptr) pad >> 4 ^ (guintptr) pad >> 10) &
      (GST_APM_CACHE_SIZE - 1);

  if (G_LIKELY (t->cache[slot].pad == pad
          && t->cache_gen == __atomic_load_n (&gst_apm_stats_generation,
              __ATOMIC_ACQUIRE)))
    return t->cache[slot].stats;
  return gst_apm_pad_stats_lookup_slow (t, pad);
}

G_END_DECLS
