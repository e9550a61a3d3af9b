/* gst-apm: a lock-free ring of (pts, time) pairs */
#include "gstapmring.h"

GstApmRing *
gst_apm_ring_new (guint size_pow2, guint max_pow2)
{
  GstApmRing *r;

  g_return_val_if_fail (size_pow2 && (size_pow2 & (size_pow2 - 1)) == 0,
      NULL);
  r = g_atomic_rc_box_alloc0 (sizeof (GstApmRing) +
      size_pow2 * sizeof (GstApmRingEntry));
  r->mask = size_pow2 - 1;
  r->max = MAX (max_pow2, size_pow2);
  for (guint i = 0; i < size_pow2; i++)
    r->entries[i].pts = GST_CLOCK_TIME_NONE;
  return r;
}

GstApmRing *
gst_apm_ring_ref (GstApmRing * r)
{
  return g_atomic_rc_box_acquire (r);
}

static void
ring_clear (GstApmRing * r)
{
  gst_apm_ring_unref (r->retired);
}

void
gst_apm_ring_unref (GstApmRing * r)
{
  if (r)
    g_atomic_rc_box_release_full (r, (GDestroyNotify) ring_clear);
}

GstApmRing *
gst_apm_ring_grow (GstApmRing * r)
{
  guint64 size = (guint64) r->mask + 1, w = r->written;
  guint64 wanted = __atomic_load_n (&r->wanted, __ATOMIC_RELAXED);
  guint64 new_size = size * 2;
  GstApmRing *bigger;

  if (size >= r->max) {
    __atomic_store_n (&r->wanted, 0, __ATOMIC_RELAXED);
    return r;
  }
  while (new_size < wanted && new_size < r->max)
    new_size *= 2;
  bigger = gst_apm_ring_new (MIN (new_size, r->max), r->max);
  /* the entries still in @r, oldest first */
  for (guint64 i = w > size ? w - size : 0; i < w; i++) {
    GstApmRingEntry *e = &r->entries[i & r->mask];

    gst_apm_ring_push (bigger, e->pts, e->ts);
  }
  bigger->retired = r;
  return bigger;
}

static inline gboolean
read_entry (GstApmRing * r, guint64 i, GstApmRingEntry * out)
{
  GstApmRingEntry *e = &r->entries[i & r->mask];

  out->pts = __atomic_load_n (&e->pts, __ATOMIC_RELAXED);
  out->ts = __atomic_load_n (&e->ts, __ATOMIC_RELAXED);
  __atomic_thread_fence (__ATOMIC_ACQUIRE);
  /* valid unless the writer has started to overwrite slot i since */
  return i + r->mask + 1 > __atomic_load_n (&r->written, __ATOMIC_RELAXED)
      && out->pts != GST_CLOCK_TIME_NONE;
}

GstClockTime
gst_apm_ring_find (GstApmRing * r, GstClockTime pts)
{
  guint64 w = __atomic_load_n (&r->written, __ATOMIC_ACQUIRE);
  guint64 size = (guint64) r->mask + 1;
  /* keep clear of the slot the writer may be filling next */
  guint64 lo = w > size - 1 ? w - (size - 1) : 0, hi = w;
  GstApmRingEntry e;

  if (w == 0 || !GST_CLOCK_TIME_IS_VALID (pts))
    return GST_CLOCK_TIME_NONE;

  /* fast path: the newest entry (no queue in between) */
  if (read_entry (r, w - 1, &e) && e.pts <= pts)
    return e.ts;

  /* PTS grow within a segment: the last entry with e.pts <= pts.  Newest
   * first, galloping back (1, 2, 4... entries: a queue holds a few
   * buffers, whose entries share a line or two with the newest), then
   * bisecting [lo, hi) between the last two probes; entries from hi on
   * are newer than @pts */
  hi = w - 1;
  for (guint64 step = 1; hi - lo > step; step *= 2) {
    guint64 i = hi - step;

    if (!read_entry (r, i, &e) || e.pts <= pts) {
      lo = i;                   /* found, or overwritten: look newer */
      break;
    }
    hi = i;
  }
  while (hi - lo > 1) {
    guint64 mid = lo + (hi - lo) / 2;

    if (!read_entry (r, mid, &e))
      lo = mid;                 /* overwritten or reset: look newer */
    else if (e.pts <= pts)
      lo = mid;
    else
      hi = mid;
  }
  if (read_entry (r, lo, &e)) {
    GstApmRingEntry newest;

    if (e.pts <= pts)
      return e.ts;
    /* @pts was overwritten: more buffers are in flight than the ring
     * holds.  Ask for the size that spans back to @pts at the rate PTS
     * went by, twice over, if the maximum allows (a seek or a PTS reset
     * would need more: no growth for those) */
    if (w > size && read_entry (r, w - 1, &newest) && newest.pts > e.pts) {
      gdouble need = 2.0 * size * (gdouble) (newest.pts - pts) /
          (gdouble) (newest.pts - e.pts);

      if (need <= r->max
          && need > __atomic_load_n (&r->wanted, __ATOMIC_RELAXED))
        __atomic_store_n (&r->wanted, (guint) need, __ATOMIC_RELAXED);
    }
  }
  return GST_CLOCK_TIME_NONE;
}
