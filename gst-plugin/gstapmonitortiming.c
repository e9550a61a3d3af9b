/* gst-apm: apmonitor's per-buffer timing
 *
 * On any stream, raw or encoded: DISCONT flags, arrival jitter
 * (gstapmjitter.h), timestamp gaps and overlaps beyond the tolerance, and
 * on live streams buffers that arrive after their deadline on the pipeline
 * clock (underruns).  Streaming thread; each count goes to the interval,
 * the series and, for gaps and underruns, the read-only properties.
 */
#include "gstapmonitorprivate.h"

void
gst_apm_checkpoint_reset_timing (GstApmCheckpoint * self)
{
  self->anchor = TRUE;
  self->next_pts = GST_CLOCK_TIME_NONE;
  gst_apm_jitter_restart (&self->jitter);
}

/* Whether a buffer of a live stream arrives after the pipeline clock has
 * passed its deadline: base time + running time + pipeline latency, plus
 * the tolerance (by default at least half the buffer's duration). */
/* streaming thread, when clock_gen moved: what set_clock and the state
 * changes published, read under the object lock once */
static void
take_clock (GstApmCheckpoint * self, gint gen)
{
  GstClock *clock = NULL;

  GST_OBJECT_LOCK (self);
  if (g_atomic_int_get (&self->playing) && GST_ELEMENT_CLOCK (self))
    clock = gst_object_ref (GST_ELEMENT_CLOCK (self));
  self->stream_base_time = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);
  gst_object_replace ((GstObject **) & self->stream_clock, (GstObject *) clock);
  g_clear_object (&clock);
  self->stream_clock_gen = gen;
}

void
gst_apm_checkpoint_clock_changed (GstApmCheckpoint * self, gboolean playing)
{
  g_atomic_int_set (&self->playing, playing);
  g_atomic_int_inc (&self->clock_gen);
}

void
gst_apm_checkpoint_drop_clock (GstApmCheckpoint * self)
{
  gst_clear_object (&self->stream_clock);
  self->stream_clock_gen = g_atomic_int_get (&self->clock_gen) - 1;
}

static gboolean
is_late (GstApmCheckpoint * self, GstClockTime pts, GstClockTime duration)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime running_time, latency, tolerance = self->tolerance;
  gint gen = g_atomic_int_get (&self->clock_gen);

  if (segment->format != GST_FORMAT_TIME)
    return FALSE;
  if (G_UNLIKELY (gen != self->stream_clock_gen))
    take_clock (self, gen);
  if (!self->stream_clock)
    return FALSE;

  running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID (running_time))
    return FALSE;
  latency = __atomic_load_n (&self->latency, __ATOMIC_RELAXED);
  if (!GST_CLOCK_TIME_IS_VALID (latency))
    latency = GST_CLOCK_TIME_IS_VALID (self->upstream_latency) ?
        self->upstream_latency : 0;
  /* a source wakes up once per buffer: by default, half a buffer of
   * scheduling delay is jitter, not an underrun */
  if (!self->cur.tolerance_set && GST_CLOCK_TIME_IS_VALID (duration))
    tolerance = MAX (tolerance, duration / 2);
  return gst_clock_get_time (self->stream_clock) >
      self->stream_base_time + running_time + latency + tolerance;
}

/* Per buffer: flags, arrival jitter, timestamp continuity, lateness. */
void
gst_apm_checkpoint_check_timing (GstApmCheckpoint * self, GstBuffer * buf,
    GstClockTime now, GstClockTime duration)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);

  self->iv.buffers++;
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT)) {
    self->anchor = TRUE;
    self->iv.discont++;
    gst_apm_checkpoint_series_add (&self->series, S_DISCONT, 1);
  }

  gst_apm_jitter_update (&self->jitter, now, pts);

  if (!GST_CLOCK_TIME_IS_VALID (pts)) {
    self->next_pts = GST_CLOCK_TIME_NONE;
    return;
  }
  if (GST_CLOCK_TIME_IS_VALID (self->next_pts)
      && GST_BASE_TRANSFORM (self)->segment.rate > 0.0) {
    GstClockTimeDiff d = GST_CLOCK_DIFF (self->next_pts, pts);

    if (d > (GstClockTimeDiff) self->tolerance) {
      self->anchor = TRUE;
      self->iv.gaps++;
      gst_apm_checkpoint_series_add (&self->series, S_GAPS, 1);
      __atomic_fetch_add (&self->gaps, 1, __ATOMIC_RELAXED);
    } else if (d < -(GstClockTimeDiff) self->tolerance) {
      self->anchor = TRUE;
      self->iv.overlaps++;
      gst_apm_checkpoint_series_add (&self->series, S_OVERLAPS, 1);
    }
  }
  self->next_pts = GST_CLOCK_TIME_IS_VALID (duration) ?
      pts + duration : GST_CLOCK_TIME_NONE;
  if (!self->stats && !GST_CLOCK_TIME_IS_VALID (self->iv.ts))
    self->iv.ts = pts;
  self->iv.end_ts = self->next_pts;

  if (self->live && is_late (self, pts, duration)) {
    self->iv.underruns++;
    gst_apm_checkpoint_series_add (&self->series, S_UNDERRUNS, 1);
    __atomic_fetch_add (&self->underruns, 1, __ATOMIC_RELAXED);
  }
}
