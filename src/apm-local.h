/* gst-apm: metrics a single thread writes, folded into shared series later
 *
 * A shared series costs an atomic read-modify-write on a cache line every
 * writer contends for.  A thread that owns its figures (the one streaming
 * on a pad, say) keeps them in its own memory instead, updated with plain
 * stores, and a reader folds the growth since its last fold into the
 * series: once a second, and before the series are read.  The reader
 * keeps what it folded in a second copy that only it touches.
 */
#pragma once

#include "apm-metrics.h"

G_BEGIN_DECLS

/* the buckets of apm_seconds_buckets (apm_seconds_bounds_ns) and +Inf */
#define APM_COUNT_ONE(ns) + 1
#define APM_LOCAL_N_BUCKETS (APM_SECONDS_BOUNDS_NS (APM_COUNT_ONE) + 1)

/* A histogram on apm_seconds_buckets: counts wrap at 2^32, which is fine
 * as long as a fold sees fewer than 2^32 new observations. */
typedef struct
{
  guint64 sum_ns;               /* first: in the line of the low buckets */
  /* the largest observation since the reader last took it (saturates at
   * G_MAXUINT32 ns): the value of an exemplar.  Beside the sum, in what
   * was padding: no extra line, no extra byte */
  guint32 max_ns;
  guint32 counts[APM_LOCAL_N_BUCKETS];
} __attribute__ ((aligned (16))) ApmLocalHistogram;     /* starts lines */

/* --- writer (the owning thread): plain stores, no lock prefix --- */

static inline void
apm_local_add (guint64 * counter, guint64 n)
{
  __atomic_store_n (counter, __atomic_load_n (counter, __ATOMIC_RELAXED) + n,
      __ATOMIC_RELAXED);
}

static inline void
apm_local_add32 (guint32 * counter, guint32 n)
{
  __atomic_store_n (counter, __atomic_load_n (counter, __ATOMIC_RELAXED) + n,
      __ATOMIC_RELAXED);
}

static inline void
apm_local_histogram_observe_ns (ApmLocalHistogram * h, gint64 v_ns)
{
  guint i = 0;

  while (i < APM_LOCAL_N_BUCKETS - 1 && v_ns > apm_seconds_bounds_ns[i])
    i++;
  apm_local_add32 (&h->counts[i], 1);
  apm_local_add (&h->sum_ns, v_ns);
  /* a store only when the maximum grows: rare after the first buffers */
  if (G_UNLIKELY (v_ns > (gint64) __atomic_load_n (&h->max_ns,
              __ATOMIC_RELAXED)))
    __atomic_store_n (&h->max_ns, (guint32) MIN (v_ns, G_MAXUINT32),
        __ATOMIC_RELAXED);
}

/* --- reader: one at a time (the caller serialises folds) --- */

/* The growth of @counter since @folded, which is then brought up to date. */
static inline guint64
apm_local_take (const guint64 * counter, guint64 * folded)
{
  guint64 now = __atomic_load_n (counter, __ATOMIC_RELAXED);
  guint64 d = now - *folded;

  *folded = now;
  return d;
}

static inline guint32
apm_local_take32 (const guint32 * counter, guint32 * folded)
{
  guint32 now = __atomic_load_n (counter, __ATOMIC_RELAXED);
  guint32 d = now - *folded;

  *folded = now;
  return d;
}

/* The largest observation since the last call (0: none), and starts a new
 * interval.  The reader's store may cross a writer's (its maximum is then
 * lost or kept one interval longer): an exemplar is an example, not a
 * statistic, and this keeps the writer free of atomic read-modify-writes. */
static inline guint32
apm_local_histogram_take_max_ns (ApmLocalHistogram * h)
{
  guint32 max = __atomic_load_n (&h->max_ns, __ATOMIC_RELAXED);

  if (max)
    __atomic_store_n (&h->max_ns, 0, __ATOMIC_RELAXED);
  return max;
}

/* Adds what @h observed since @folded to @series, a histogram with the
 * apm_seconds_buckets bounds in seconds.  Returns the observations added. */
guint64 apm_local_histogram_fold (const ApmLocalHistogram * h,
    ApmLocalHistogram * folded, ApmSeries * series);

G_END_DECLS
