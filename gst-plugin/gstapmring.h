/* gst-apm: a lock-free ring of (pts, time) pairs
 *
 * One writer (the thread streaming through a pad) records when each PTS
 * passed; readers on other threads find the entry for a later buffer's PTS
 * without locks, so latency can be measured across queues and threads
 * without touching the buffers.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef struct
{
  GstClockTime pts;
  GstClockTime ts;
} GstApmRingEntry;

typedef struct _GstApmRing GstApmRing;

struct _GstApmRing                /* a g_atomic_rc_box */
{
  guint mask;
  guint max;                    /* the size it may grow to */
  guint64 written;              /* entries ever written (release/acquire) */
  /* set by a reader whose PTS had just been overwritten: the size that
   * would have kept it, to which the writer grows the ring */
  guint wanted;
  GstApmRing *retired;          /* the smaller rings it replaced */
  GstApmRingEntry entries[];
};

/* @size_pow2 entries, growing up to @max_pow2 (gst_apm_ring_grow). */
GstApmRing *gst_apm_ring_new (guint size_pow2, guint max_pow2);

/* Writer only: a ring of the size a reader wanted holding @r's entries, or
 * @r if it is at its maximum.  @r is kept alive by the new ring (readers may still
 * hold it) and freed with it. */
GstApmRing *gst_apm_ring_grow (GstApmRing * r);
GstApmRing *gst_apm_ring_ref (GstApmRing * ring);
void gst_apm_ring_unref (GstApmRing * ring);

/* Writer only. */
static inline void
gst_apm_ring_push (GstApmRing * r, GstClockTime pts, GstClockTime ts)
{
  guint64 w = r->written;
  GstApmRingEntry *e = &r->entries[w & r->mask];

  __atomic_store_n (&e->pts, pts, __ATOMIC_RELAXED);
  __atomic_store_n (&e->ts, ts, __ATOMIC_RELAXED);
  __atomic_store_n (&r->written, w + 1, __ATOMIC_RELEASE);
}

/* Any thread: the time recorded for the newest entry whose PTS is at most
 * @pts, or GST_CLOCK_TIME_NONE if none is still in the ring.  A PTS that
 * was overwritten, and that the ring would hold at its maximum size (at
 * the rate PTS went by), flags it too small. */
GstClockTime gst_apm_ring_find (GstApmRing * r, GstClockTime pts);

/* Empties the ring (writer only: after a flush or a new segment). */
static inline void
gst_apm_ring_reset (GstApmRing * r)
{
  guint64 w = r->written;

  /* mark every slot unusable without moving the counter backwards */
  for (guint i = 0; i <= r->mask; i++)
    __atomic_store_n (&r->entries[(w + i) & r->mask].pts,
        GST_CLOCK_TIME_NONE, __ATOMIC_RELAXED);
}

G_END_DECLS
