/* gst-apm: the tracer's per-pad, per-element and per-thread state
 *
 * Created once, on the slow path, the first time a pad or element carries a
 * buffer (under a mutex, with allocation).  After that the streaming threads
 * only read it through a per-thread cache and update it with atomic adds.
 * Which file implements what: gstapmstats-private.h.
 */
#pragma once

#include <gst/gst.h>
#include "apm-metrics.h"
#include "gstapmring.h"
#include "apm-local.h"
#include "gstapmjitter.h"

G_BEGIN_DECLS

typedef struct _GstApmElementStats GstApmElementStats;
typedef struct _GstApmPadStats GstApmPadStats;
typedef struct _GstApmThreadState GstApmThreadState;

#define GST_APM_MAX_PATHS 8     /* sources followed per sink pad */
#define GST_APM_MAX_DEPTH 32    /* nested pushes followed per thread */
#define GST_APM_N_FLOWS 8       /* GST_FLOW_CUSTOM_ERROR .. OK, by -ret */
/* GstApmElementStats.qos */
#define GST_APM_QOS_MESSAGES 0
#define GST_APM_QOS_DROPPED 1
#define GST_APM_QOS_LATENESS 2
#define GST_APM_N_QOS 3

/* Shared by the pads of an element.  The streaming threads only read it per
 * buffer (its first cache line: flags, rings, serial; the allocation is
 * cache-aligned), and write it when something changes (first buffer of a
 * run, another pool, a queue level once a second).  The counts are the
 * pads' (GstApmPadHot), folded into these series by the service thread. */
struct _GstApmElementStats
{
  /* line 0: read per buffer */
  guint64 serial;               /* unique in the process, never 0 */
  GstApmRing *ring;             /* sources: pts -> entry time */
  /* 1-in elements that hold buffers (see needs_ring): pts -> chain time,
   * made by the thread pushing into the element once needs_ring is set */
  GstApmRing *stage_ring;
  GstClockTime first_ts;        /* first buffer of the run (hook time) */
  gpointer pool;                /* the last pool seen, by address only */
  /* pooled buffers seen so far, by address: a new one is a buffer the pool
   * had to allocate, a known one a reuse.  Made with the first pool
   * (GST_APM_POOL_SEEN_SLOTS, atomic slots), cleared when the pool changes */
  gpointer *pool_seen;
  guint8 is_source;             /* never a bin: the elements inside it */
  guint8 is_sink;
  guint8 skip_own_time;         /* aggregators: chain is a hand-off */
  guint8 own_loop;              /* depth-0 gaps on its thread are work */
  guint8 is_queue;
  guint8 has_stage;             /* one sink pad, not a sink: residence */
  /* atomic, set once: the element sent a buffer that is not the one its
   * chain is handling on the same thread (a queue, an encoder, a
   * resampler with a delay): its residence needs the stage ring.  Until
   * then it is the time since its chain began (the frame's start). */
  guint8 needs_ring;
  /* line 1 and on: not read per buffer */
  gint ref_count;               /* by hand: an rc box is not cache-aligned */
  /* the CPU time its thread had used at first_ts (ns, -1: unknown): a
   * pooled thread's earlier work is not the run's (the report's thread
   * CPU).  Written once a run, never read per buffer. */
  gint64 run_cpu_ns;

  gchar *pipeline;              /* the top-level pipeline's label */
  gchar *path;
  gchar *factory;
  GWeakRef element;
  ApmSeries *processing;        /* own time histogram (ns) */
  ApmSeries *buffers_in, *buffers_out, *bytes_in, *bytes_out;
  ApmSeries *media_in;          /* media ns processed (counter) */
  ApmSeries *residence;         /* entry to exit histogram (ns) */
  ApmSeries *rtf;               /* gauge, set by the aggregator */
  gint last_tid;                /* set by the fold */
  /* buffers sent: from a pool, or allocated one by one */
  ApmSeries *pooled, *allocated, *allocated_bytes;
  ApmSeries *pool_fresh;
  /* the pool's size, min and max buffers, read from its config when it is
   * first seen (a reference would keep the pool and its memory, a
   * device's maybe, after the pipeline is gone) */
  guint pool_params[3];         /* atomic */
  gint pool_known;              /* atomic */
  /* queue and queue2: their fill level, sampled at most once a second by
   * the threads that push in and out (the service thread keeps no
   * reference to read it) */
  GstClockTime level_ts;
  guint level_buffers, level_bytes;     /* atomic */
  guint64 level_time;           /* atomic */
  gint level_known;             /* atomic */
  /* the samples' fill against the tightest limit, since the run started
   * (the report's mean and maximum fill, the queue-full advice) */
  gint fill_samples, fill_high; /* atomic; high: >= 90 % */
  gint fill_max_permille;       /* atomic */
  guint64 fill_sum_permille;    /* atomic */
  /* aggregator's state (service thread only) */
  gint64 prev_media_ns, prev_proc_ns;
  gdouble prev_transfer;
  ApmSeries *queue_level[3];    /* buffers, bytes, seconds */
  ApmSeries *pool_gauges[3];    /* size, min and max buffers */
  ApmSeries *transfer_rate, *first_byte;
  /* QoS series, made at the element's first QoS message (atomic; see
   * GST_APM_QOS_*) */
  ApmSeries *qos[GST_APM_N_QOS];
};

typedef struct
{
  GstApmRing *ring;             /* ref */
  ApmSeries *latency;           /* histogram (ns) */
} GstApmPath;

/* What the thread streaming through a pad writes per buffer, in cache lines
 * of the pad's own: plain stores, no lock prefix, nothing shared with
 * another pad.  In push mode the pushing thread writes both the source pad
 * and its peer; in pull mode the pulling thread does.  A pad has one role,
 * by its direction, and each role keeps what a buffer writes in two lines:
 * the 32 bytes of counters that end the pad's first line, then one line
 * (the low buckets of one histogram, and the arrival state of a sink). */
typedef struct
{
  /* line 0 */
  guint32 buffers;
  /* buffers the element made: from a pool, or allocated one by one (a
   * buffer it forwards, the one its chain received, is neither) */
  guint32 pooled, fresh, allocated;
  guint64 bytes;
  /* push mode: the element of the peer (with the peer, set by
   * gst_apm_pad_stats_peer_slow), fetched early with the peer's lines */
  GstApmElementStats *peer_element;
  /* line 1: 1-in elements, entry to exit (sum and the buckets to 500 us) */
  ApmLocalHistogram residence;
  /* own time of the element's loop or getrange (sources, pull mode) */
  ApmLocalHistogram processing;
  guint64 allocated_bytes;
} GstApmSrcHot;

typedef struct
{
  /* line 0 */
  guint32 buffers;
  guint32 discont;
  guint64 bytes;
  guint64 media_ns;
  GstClockTime next_pts;
  /* line 1: arrival, then the own time of the element's chain (its sum and
   * the buckets to 250 us) */
  GstApmJitter jitter;
  guint32 gaps, overlaps;
  ApmLocalHistogram processing;
} GstApmSinkHot;

typedef union
{
  GstApmSrcHot src;
  GstApmSinkHot sink;
} GstApmPadHot;

struct _GstApmPadStats
{
  /* first line (the allocation is cache-aligned): what every push reads,
   * then the role's counters */
  GstApmElementStats *element;  /* ref; NULL: a pad not counted (a proxy
                                 * pad, a pad outside any pipeline) */
  /* push mode (source pads): the peer's stats, checked per buffer against
   * the pad's peer and the stats generation; pull mode (sink pads): the
   * source pad pulled from */
  GstPad *peer_pad;             /* not a reference: compared only */
  struct _GstApmPadStats *peer; /* ref */
  guint peer_gen;
  gint tid;                     /* the last thread */
  GstApmPadHot hot;
  /* read per buffer only when a buffer has no duration or its timestamp
   * jumps: the format from the pad's caps (a sink pad uses the format of
   * the source pad pushing into it) */
  gint rate, bpf;
  gboolean is_sink;
  /* end-to-end latency paths (sinks only, so out of line), refreshed when
   * the topology changes */
  guint topology_gen;
  guint n_paths;
  GstApmPath *paths;
  ApmSeries *flows[GST_APM_N_FLOWS];          /* created lazily */
  /* the fold's side (service thread, under the fold lock) */
  gint ref_count;               /* by hand: an rc box is not cache-aligned */
  ApmSeries *buffers, *bytes;
  ApmSeries *gaps, *overlaps, *discont, *jitter;      /* sink pads */
  GstApmPadHot folded;
  gint64 folded_jitter;
};

typedef struct
{
  GstPad *pad;                  /* the pad that pushed or pulled */
  /* push mode: the pad pushed into (its element's chain runs in the
   * frame, and gets its own time), or NULL (also for a chain that is a
   * hand-off, GstApmElementStats.skip_own_time) */
  GstApmPadStats *recv;
  GstClockTime start;
  GstClockTime nested;
  /* the buffer pushed (compared only, never read) and its timestamp: a
   * buffer the chain sends on is forwarded, and a timestamp it sends was
   * in the element since the frame began.  NULL and NONE for a list. */
  GstBuffer *buffer;
  GstClockTime pts;
  /* the pad the chain in this frame pushed on last, and its stats: kept
   * from one frame at this depth to the next (a thread streams through
   * the same elements buffer after buffer), valid while the thread's
   * cache generation is; a push from inside the chain finds its pad here,
   * in a line the thread has just written, not in the pad cache */
  GstPad *next_pad;
  GstApmPadStats *next_stats;
} __attribute__ ((aligned (64))) GstApmFrame;   /* a line each */

#define GST_APM_CACHE_SIZE 32

struct _GstApmThreadState
{
  /* every hook reads this line */
  guint cache_gen;
  gint depth;
  /* whose depth-0 gaps are work: by serial, not address, as pool threads
   * outlive pipelines and a new element's stats may reuse the address */
  guint64 loop_owner;
  GstClockTime last_end;
  gint tid;
  GstApmFrame frames[GST_APM_MAX_DEPTH];
  struct
  {
    GstPad *pad;
    GstApmPadStats *stats;
  } cache[GST_APM_CACHE_SIZE];
};

extern guint gst_apm_stats_generation;        /* bumped on pad teardown */
extern guint gst_apm_topology_generation;     /* bumped on (un)link */
extern __thread GstApmThreadState *gst_apm_thread
    __attribute__ ((tls_model ("initial-exec")));

void gst_apm_stats_init (void);
GstApmThreadState *gst_apm_thread_state_create (void);
GstApmPadStats *gst_apm_pad_stats_lookup_slow (GstApmThreadState * t,
    GstPad * pad);
GstApmPadStats *gst_apm_pad_stats_peer_slow (GstApmThreadState * t,
    GstApmPadStats * st, GstPad * pad);
/* @pad: the sink pad @st is for, or the source pad pushing into it */
void gst_apm_pad_stats_refresh_paths (GstApmPadStats * st, GstPad * pad);
ApmSeries *gst_apm_pad_stats_flow_slow (GstApmPadStats * st, GstPad * pad,
    GstFlowReturn ret);
void gst_apm_pad_stats_set_caps (GstPad * pad, GstCaps * caps);

/* Adds what the streaming threads counted since the last fold to the
 * series (any thread; folds are serialised).  The service runs it before
 * every read (apm_service_add_flush_func). */
/* @examples: also give the interval's largest observations, tagged with
 * their runs, to the histograms as exemplars (the service thread); FALSE
 * where a run ends, maybe on a streaming thread: counts only. */
void gst_apm_stats_fold (gboolean examples);

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

/* The fill samples since the run started: FALSE if none. */
gboolean gst_apm_element_stats_get_queue_fill (GstApmElementStats * es,
    guint * samples, guint * high, gdouble * mean_percent,
    gdouble * max_percent);
/* A new run: forget the fill samples. */
void gst_apm_element_stats_reset_queue_fill (GstApmElementStats * es);

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

/* The pad's stats: ->element is NULL for a pad not counted (a proxy pad, a
 * pad outside any pipeline), whose link is still followed. */
static inline GstApmPadStats *gst_apm_pad_stats_get (GstApmThreadState * t,
    GstPad * pad);

/* The stats of @pad, pushed on from inside the chain running in the
 * thread's top frame (if any): looked up there first. */
static inline GstApmPadStats *
gst_apm_pad_stats_get_pushing (GstApmThreadState * t, GstPad * pad)
{
  GstApmFrame *f;
  GstApmPadStats *st;

  if (t->depth <= 0 || t->depth > GST_APM_MAX_DEPTH)
    return gst_apm_pad_stats_get (t, pad);
  f = &t->frames[t->depth - 1];
  if (G_LIKELY (f->next_pad == pad
          && t->cache_gen == __atomic_load_n (&gst_apm_stats_generation,
              __ATOMIC_ACQUIRE)))
    return f->next_stats;
  /* a new generation clears every frame's pad (in the slow lookup) */
  st = gst_apm_pad_stats_get (t, pad);
  f->next_pad = pad;
  f->next_stats = st;
  return st;
}

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

/* Streaming thread, once per element and run (its first buffer): out of
 * line, so the per-buffer hooks stay small. */
void gst_apm_element_stats_first_buffer (GstApmElementStats * es,
    GstClockTime ts);

#define GST_APM_SOURCE_RING_MAX 16384
#define GST_APM_STAGE_RING_MAX 8192

/* Writer (the thread streaming into @slot's ring): the ring to write,
 * grown first if a reader asked.  A source's new ring reaches the sinks
 * through a topology change. */
static inline GstApmRing *
gst_apm_ring_for_write (GstApmRing ** slot, gboolean is_source)
{
  GstApmRing *r = *slot;

  if (G_UNLIKELY (__atomic_load_n (&r->wanted, __ATOMIC_RELAXED))) {
    GstApmRing *bigger = gst_apm_ring_grow (r);

    if (bigger != r) {
      __atomic_store_n (slot, bigger, __ATOMIC_RELEASE);
      if (is_source)
        __atomic_fetch_add (&gst_apm_topology_generation, 1,
            __ATOMIC_RELEASE);
    }
    r = bigger;
  }
  return r;
}

/* Writer (the thread pushing into a 1-in element, once its needs_ring is
 * set): the stage ring, made on its first buffer (out of line, once per
 * element) or grown if a reader asked. */
GstApmRing *gst_apm_element_stats_make_stage_ring (GstApmElementStats * es);

static inline GstApmRing *
gst_apm_stage_ring_for_write (GstApmElementStats * es)
{
  if (G_UNLIKELY (!es->stage_ring))
    return gst_apm_element_stats_make_stage_ring (es);
  return gst_apm_ring_for_write (&es->stage_ring, FALSE);
}

/* Push mode: the stats of the pad @pad pushes into (a new peer or a new
 * generation is looked up again; the peer pointer read without the pad's
 * lock is only compared), or NULL when it has no peer. */
static inline GstApmPadStats *
gst_apm_pad_stats_peer (GstApmThreadState * t, GstApmPadStats * st,
    GstPad * pad)
{
  if (G_LIKELY (GST_PAD_PEER (pad) == st->peer_pad
          && st->peer_gen == t->cache_gen))
    return st->peer;
  return gst_apm_pad_stats_peer_slow (t, st, pad);
}

G_END_DECLS
