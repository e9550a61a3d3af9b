/* gst-apm: apmonitor's intervals
 *
 * Every interval the monitor publishes what it measured: the series, the
 * read-only properties and, with post-messages, the `apmonitor` bus
 * message.  On raw audio an interval is exactly interval_frames samples
 * (as the level element counts), so a buffer may end one interval and
 * start the next; on other streams it ends with the first buffer past its
 * length in timestamps (wall time without them).  Streaming thread, or
 * while it does not run (start, flush).
 */
#define GLIB_DISABLE_DEPRECATION_WARNINGS       /* GValueArray, as level */

#include "gstapmonitorprivate.h"

#include <string.h>

#define GST_CAT_DEFAULT gst_apm_checkpoint_debug

void
gst_apm_checkpoint_reset_interval (GstApmCheckpoint * self, GstClockTime now)
{
  GstClockTime ts = self->iv.ts;

  memset (&self->iv, 0, sizeof (self->iv));
  self->iv.ts = ts;
  self->iv.end_ts = GST_CLOCK_TIME_NONE;
  self->iv.wall_start = now;
}

/* a GValueArray of doubles, as level's messages carry */
static void
set_array (GstStructure * s, const gchar * field, const gdouble * v, guint n)
{
  GValueArray *arr = g_value_array_new (n);
  GValue val = G_VALUE_INIT;

  g_value_init (&val, G_TYPE_DOUBLE);
  for (guint i = 0; i < n; i++) {
    g_value_set_double (&val, v[i]);
    g_value_array_append (arr, &val);
  }
  g_value_unset (&val);
  g_value_init (&val, G_TYPE_VALUE_ARRAY);
  g_value_take_boxed (&val, arr);
  gst_structure_take_value (s, field, &val);
}

static GstMessage *
build_message (GstApmCheckpoint * self, GstClockTime duration, gdouble jitter,
    const GstApmSpanInterval * span)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime ts = self->iv.ts, running_time = GST_CLOCK_TIME_NONE,
      stream_time = GST_CLOCK_TIME_NONE;
  GstStructure *s;

  if (GST_CLOCK_TIME_IS_VALID (ts) && segment->format == GST_FORMAT_TIME) {
    running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME, ts);
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, ts);
  }
  s = gst_structure_new ("apmonitor",
      "timestamp", G_TYPE_UINT64, ts,
      "stream-time", G_TYPE_UINT64, stream_time,
      "running-time", G_TYPE_UINT64, running_time,
      "duration", G_TYPE_UINT64, duration,
      "format", G_TYPE_STRING, self->format,
      "rate", G_TYPE_INT, self->rate,
      "channels", G_TYPE_INT, self->channels,
      "buffers", G_TYPE_UINT64, self->iv.buffers,
      "gaps", G_TYPE_UINT64, self->iv.gaps,
      "overlaps", G_TYPE_UINT64, self->iv.overlaps,
      "discont", G_TYPE_UINT64, self->iv.discont,
      "underruns", G_TYPE_UINT64, self->iv.underruns,
      "jitter", G_TYPE_DOUBLE, jitter, NULL);
  if (self->stats) {
    const GstApmAudioLevels *l = &self->levels;

    set_array (s, "peak", l->peak_db, l->channels);
    set_array (s, "rms", l->rms_db, l->channels);
    set_array (s, "dc-offset", l->dc_offset, l->channels);
    gst_structure_set (s,
        "clipped", G_TYPE_UINT64, l->clipped_total,
        "silent", G_TYPE_BOOLEAN, l->silent,
        "silent-time", G_TYPE_UINT64, GST_FRAMES_TO_CLOCK_TIME
        (l->silent_frames, GST_AUDIO_INFO_RATE (&self->info)), NULL);
  }
  if (span) {
    GstStructure *sp = gst_structure_new ("span",
        "name", G_TYPE_STRING, gst_apm_span_get_name (self->span),
        "buffers", G_TYPE_UINT64, span->buffers,
        "matched", G_TYPE_UINT64, span->matched,
        "latency", G_TYPE_UINT64, span->last,
        "latency-min", G_TYPE_UINT64, span->min,
        "latency-mean", G_TYPE_UINT64, span->mean,
        "latency-p95", G_TYPE_UINT64, span->p95,
        "latency-max", G_TYPE_UINT64, span->max, NULL);

    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, sp);
    gst_structure_take_value (s, "span", &v);
  }
  return gst_message_new_element (GST_OBJECT (self), s);
}

/* Publishes the interval that ends now: metrics, read-only properties and
 * the bus message.  Streaming thread, at interval rate; no lock held. */
void
gst_apm_checkpoint_publish (GstApmCheckpoint * self, GstClockTime now)
{
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  gdouble jitter, wall, buffer_rate;
  gboolean silence_changed = FALSE;
  GstApmSpanInterval span_iv;
  gboolean has_span;

  jitter = gst_apm_jitter_get_ns (&self->jitter) / 1e9;
  wall = (gdouble) GST_CLOCK_DIFF (self->iv.wall_start, now) / GST_SECOND;
  buffer_rate = wall > 0.0 ? self->iv.buffers / wall : -1.0;

  if (self->stats) {
    GstApmAudioLevels *l = &self->levels;
    gint rate = GST_AUDIO_INFO_RATE (&self->info);

    gst_apm_audio_stats_take (self->stats, l);
    duration = GST_FRAMES_TO_CLOCK_TIME (l->frames, rate);
    gst_apm_checkpoint_series_publish (&self->series, jitter, buffer_rate, l,
        rate);

    __atomic_fetch_add (&self->clipped_samples, l->clipped_total,
        __ATOMIC_RELAXED);
    silence_changed = g_atomic_int_get (&self->silent) != l->silent;
    g_atomic_int_set (&self->silent, l->silent);
  } else {
    gst_apm_checkpoint_series_publish (&self->series, jitter, buffer_rate, NULL,
        0);
    if (GST_CLOCK_TIME_IS_VALID (self->iv.ts)
        && GST_CLOCK_TIME_IS_VALID (self->iv.end_ts)
        && self->iv.end_ts >= self->iv.ts)
      duration = self->iv.end_ts - self->iv.ts;
    else
      duration = GST_CLOCK_DIFF (self->iv.wall_start, now);
  }

  has_span = gst_apm_checkpoint_take_span_interval (self, &span_iv);
  if (self->cur.post_messages)
    gst_element_post_message (GST_ELEMENT (self),
        build_message (self, duration, jitter, has_span ? &span_iv : NULL));
  if (silence_changed)
    gst_apm_checkpoint_notify_silent (self);

  /* raw audio: the next interval follows on (re-anchored on a PTS after a
   * discontinuity); others: it starts with the next buffer */
  if (self->stats && GST_CLOCK_TIME_IS_VALID (self->iv.ts)
      && GST_CLOCK_TIME_IS_VALID (duration))
    self->iv.ts += duration;    /* as level: no rounding drift */
  else if (!self->stats)
    self->iv.ts = GST_CLOCK_TIME_NONE;
  gst_apm_checkpoint_reset_interval (self, now);
}

/* Publishes what the current interval holds, if anything (caps change,
 * EOS). */
void
gst_apm_checkpoint_publish_pending (GstApmCheckpoint * self)
{
  if (self->stats ? gst_apm_audio_stats_frames (self->stats) > 0 :
      self->iv.buffers > 0)
    gst_apm_checkpoint_publish (self, gst_util_get_timestamp ());
}

/* Measures a raw audio buffer, publishing at each interval boundary. */
void
gst_apm_checkpoint_measure_audio (GstApmCheckpoint * self, GstBuffer * buf,
    gsize frames, GstClockTime now)
{
  GstAudioBuffer abuf;
  gboolean gap = GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  gint rate = GST_AUDIO_INFO_RATE (&self->info);
  gsize offset = 0;

  if (!gap) {
    if (!gst_audio_buffer_map (&abuf, &self->info, buf, GST_MAP_READ)) {
      if (!self->warned_map) {
        GST_WARNING_OBJECT (self, "cannot map buffer as audio, not measured");
        self->warned_map = TRUE;
      }
      return;
    }
    frames = abuf.n_samples;
  }
  gst_apm_checkpoint_series_add (&self->series, S_SAMPLES, frames);

  while (offset < frames) {
    guint64 have = gst_apm_audio_stats_frames (self->stats);
    gsize n;

    if (have >= self->interval_frames) {
      /* the interval was shortened */
      gst_apm_checkpoint_publish (self, now);
      continue;
    }
    n = MIN (frames - offset, self->interval_frames - have);
    if (have == 0 && (self->anchor || !GST_CLOCK_TIME_IS_VALID (self->iv.ts))
        && GST_CLOCK_TIME_IS_VALID (pts)) {
      self->iv.ts = pts + GST_FRAMES_TO_CLOCK_TIME (offset, rate);
      self->anchor = FALSE;
    }
    if (gap)
      gst_apm_audio_stats_process_gap (self->stats, n);
    else
      gst_apm_audio_stats_process (self->stats, abuf.planes, offset, n);
    offset += n;
    if (have + n >= self->interval_frames)
      gst_apm_checkpoint_publish (self, now);
  }

  if (!gap)
    gst_audio_buffer_unmap (&abuf);
}
