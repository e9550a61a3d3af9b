/* gst-apm: apmonitor's side of a stage span
 *
 * A monitor with span-from measures the stage from the upstream monitor
 * that property names to itself (gstapmspan.h): it finds that monitor,
 * takes a reference on its origin record and feeds the span per buffer.
 * Any monitor is an origin once a downstream one asks: it then records
 * per buffer where running time passed it.
 */
#include "gstapmonitorprivate.h"
#include "gstapmwatch.h"

#define GST_CAT_DEFAULT gst_apm_checkpoint_debug

/* The record of where running time passed this monitor, created when a
 * downstream monitor first asks for it; a new reference. */
static GstApmSpanOrigin *
acquire_origin (GstApmCheckpoint * self)
{
  GstApmSpanOrigin *origin;

  GST_OBJECT_LOCK (self);
  origin = self->origin;
  if (!origin) {
    origin = gst_apm_span_origin_new ();
    __atomic_store_n (&self->origin, origin, __ATOMIC_RELEASE);
  }
  gst_apm_span_origin_ref (origin);
  GST_OBJECT_UNLOCK (self);
  return origin;
}

/* Finds the monitor that span-from names (nearest first: this bin, its
 * children, then the bins above) and starts measuring the span.  Tried at
 * READY->PAUSED, and with the first caps for monitors added while the
 * pipeline runs; @report: the last try of this run, which warns (once)
 * when the monitor is still missing. */
void
gst_apm_checkpoint_resolve_span (GstApmCheckpoint * self, gboolean report)
{
  GstObject *parent = NULL;
  GstElement *peer = NULL, *top;
  gchar *from, *name, *to, *pipeline, *label;
  GstApmSpanOrigin *origin;
  GstApmSpan *span;

  GST_OBJECT_LOCK (self);
  from = g_strdup (self->span_from);
  name = g_strdup (self->span_name);
  to = g_strdup (GST_OBJECT_NAME (self));
  GST_OBJECT_UNLOCK (self);
  if (self->span || self->span_warned || !from || !*from)
    goto done;

  parent = gst_object_get_parent (GST_OBJECT (self));
  if (parent && GST_IS_BIN (parent))
    peer = gst_bin_get_by_name_recurse_up (GST_BIN (parent), from);
  if (!peer || !GST_IS_APM_CHECKPOINT (peer) || peer == GST_ELEMENT (self)) {
    if (report) {
      self->span_warned = TRUE;
      if (!peer)
        GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
            ("span-from='%s': no element of that name in the pipeline; "
                "the span is not measured", from), (NULL));
      else
        GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
            ("span-from='%s' must name another apmonitor upstream; "
                "the span is not measured", from), (NULL));
    }
    goto done;
  }

  origin = acquire_origin (GST_APM_CHECKPOINT (peer));
  top = gst_apm_watch_find_top (GST_ELEMENT (self));
  pipeline = top ? gst_apm_watch_pipeline_label (top) : g_strdup ("");
  if (top)
    gst_object_unref (top);
  label = name && *name ? g_strdup (name) : g_strdup_printf ("%s->%s", from,
      to);
  span = gst_apm_span_new (origin, pipeline, label, from, to);
  GST_INFO_OBJECT (self, "measuring span %s", label);
  g_mutex_lock (&self->span_lock);
  self->span = span;
  g_mutex_unlock (&self->span_lock);
  gst_apm_span_origin_unref (origin);
  g_free (pipeline);
  g_free (label);

done:
  if (peer)
    gst_object_unref (peer);
  if (parent)
    gst_object_unref (parent);
  g_free (from);
  g_free (name);
  g_free (to);
}

/* After streaming stopped. */
void
gst_apm_checkpoint_release_span (GstApmCheckpoint * self)
{
  GstApmSpan *span;

  g_mutex_lock (&self->span_lock);
  span = self->span;
  self->span = NULL;
  g_mutex_unlock (&self->span_lock);
  gst_apm_span_free (span);
  self->span_warned = FALSE;
  self->span_buffers = self->span_matched = 0;
  self->span_unmatched_warned = FALSE;
}

/* Per buffer: as an origin, records where its running time passed; as a
 * span's end, measures how long ago that running time passed the
 * origin. */
void
gst_apm_checkpoint_track_span (GstApmCheckpoint * self, GstBuffer * buf,
    GstClockTime now, gsize size, GstClockTime duration)
{
  GstApmSpanOrigin *origin = __atomic_load_n (&self->origin,
      __ATOMIC_ACQUIRE);
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClockTime pts = GST_BUFFER_PTS (buf), start = GST_CLOCK_TIME_NONE,
      end = GST_CLOCK_TIME_NONE;

  if (!origin && !self->span)
    return;
  /* running time is what both ends share, whatever happens in between */
  if (segment->format == GST_FORMAT_TIME && segment->rate > 0.0
      && GST_CLOCK_TIME_IS_VALID (pts)) {
    start = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
    if (GST_CLOCK_TIME_IS_VALID (duration))
      end = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
          pts + duration);
  }
  if (origin)
    gst_apm_span_origin_record (origin, start, end, now);
  if (self->span)
    gst_apm_span_buffer (self->span, start, now, size, duration);
}

JsonObject *
gst_apm_checkpoint_describe_span (GstElement * element)
{
  GstApmCheckpoint *self;
  JsonObject *o = NULL;

  if (!GST_IS_APM_CHECKPOINT (element))
    return NULL;
  self = GST_APM_CHECKPOINT (element);
  g_mutex_lock (&self->span_lock);
  if (self->span)
    o = gst_apm_span_describe (self->span);
  g_mutex_unlock (&self->span_lock);
  return o;
}

/* A span whose end hardly ever matches (span-from names a monitor
 * downstream, or one on a stream with other running times) measures
 * nothing: say so once, at interval rate, from the streaming thread like
 * the interval message. */
static void
warn_if_never_matched (GstApmCheckpoint * self, const GstApmSpanInterval * iv)
{
  self->span_buffers += iv->buffers;
  self->span_matched += iv->matched;
  /* a working span matches nearly every buffer; fewer than one in ten
   * after 64 is no span */
  if (self->span_unmatched_warned || self->span_buffers < 64
      || self->span_matched * 10 >= self->span_buffers)
    return;
  self->span_unmatched_warned = TRUE;
  GST_ELEMENT_WARNING (self, STREAM, FAILED,
      ("span %s: only %" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT
          " buffers that reached this monitor carried media that had passed "
          "the span-from monitor; is it upstream of this one, in the same "
          "stream?", gst_apm_span_get_name (self->span), self->span_matched,
          self->span_buffers), (NULL));
}

/* Streaming thread, at the end of an interval: the span's figures for it,
 * FALSE without a span. */
gboolean
gst_apm_checkpoint_take_span_interval (GstApmCheckpoint * self,
    GstApmSpanInterval * iv)
{
  if (!self->span)
    return FALSE;
  gst_apm_span_take_interval (self->span, iv);
  warn_if_never_matched (self, iv);
  return TRUE;
}
