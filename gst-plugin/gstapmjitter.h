/* gst-apm: arrival jitter, one definition for the tracer and apmonitor
 *
 * RFC 3550's interarrival jitter (section 6.4.1), with buffer timestamps
 * in the place of RTP timestamps: for two consecutive buffers,
 *   D = (arrival_i - arrival_i-1) - (pts_i - pts_i-1)
 *   J = J + (|D| - J) / 16
 * a smoothed mean deviation of arrival spacing from timestamp spacing: 0
 * when buffers arrive exactly as their timestamps advance.  Exported as
 * apm_pad_jitter_seconds (the tracer, per sink pad) and
 * apm_monitor_jitter_seconds (apmonitor).  Plain integer arithmetic, no
 * allocation: called per buffer by the thread streaming through.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  GstClockTime last_arrival, last_pts;
  gint64 jitter_ns;             /* read by other threads: relaxed store */
} GstApmJitter;

/* Forgets the previous buffer (after a flush, a gap event): the next one
 * starts a new pair.  The estimate is kept. */
static inline void
gst_apm_jitter_restart (GstApmJitter * j)
{
  j->last_arrival = j->last_pts = GST_CLOCK_TIME_NONE;
}

static inline void
gst_apm_jitter_init (GstApmJitter * j)
{
  gst_apm_jitter_restart (j);
  j->jitter_ns = 0;
}

/* A buffer with timestamp @pts arrived at @arrival (both in ns). */
static inline void
gst_apm_jitter_update (GstApmJitter * j, GstClockTime arrival,
    GstClockTime pts)
{
  if (!GST_CLOCK_TIME_IS_VALID (pts) || !GST_CLOCK_TIME_IS_VALID (arrival))
    return;
  if (GST_CLOCK_TIME_IS_VALID (j->last_pts)) {
    gint64 d = (gint64) (arrival - j->last_arrival) -
        (gint64) (pts - j->last_pts);

    __atomic_store_n (&j->jitter_ns, j->jitter_ns +
        ((d < 0 ? -d : d) - j->jitter_ns) / 16, __ATOMIC_RELAXED);
  }
  j->last_pts = pts;
  j->last_arrival = arrival;
}

static inline gint64
gst_apm_jitter_get_ns (const GstApmJitter * j)
{
  return __atomic_load_n (&j->jitter_ns, __ATOMIC_RELAXED);
}

G_END_DECLS
