/* gst-apm: stage spans between two apmonitor elements
 *
 * A span is the stage between an upstream apmonitor (its origin) and a
 * downstream one (its end).  The origin records, per buffer on its
 * streaming thread, when each stretch of running time passed it; the end,
 * on its own thread, looks up when the running time at the start of its
 * buffer passed the origin.  Matching on running time (not on buffers or
 * PTS) survives whatever happens in between: new buffers (encoders,
 * decoders), other sizes, rates and formats, queues and threads.
 *
 * The origin's record is a preallocated ring with one writer and any
 * number of lock-free readers (a seqlock per slot), so several spans can
 * share an origin.  Neither side allocates, locks or logs per buffer.
 */
#pragma once

#include <gst/gst.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* --- the origin: where running time passed, written by one thread --- */

typedef struct _GstApmSpanOrigin GstApmSpanOrigin;

GstApmSpanOrigin *gst_apm_span_origin_new (void);
GstApmSpanOrigin *gst_apm_span_origin_ref (GstApmSpanOrigin * origin);
void gst_apm_span_origin_unref (GstApmSpanOrigin * origin);

/* Writer only: the buffer covering running time [@start, @end) (@end
 * GST_CLOCK_TIME_NONE when unknown) passed at monotonic time @now.  A
 * start before the previous one (a new segment that went back) empties
 * the record first. */
void gst_apm_span_origin_record (GstApmSpanOrigin * origin,
    GstClockTime start, GstClockTime end, GstClockTime now);

/* Writer only (or while it does not run): forgets what was recorded
 * (flush, restart). */
void gst_apm_span_origin_reset (GstApmSpanOrigin * origin);

/* Any thread: when running time @rt passed the origin.  Inside a recorded
 * buffer: that buffer's time; in a hole between two: interpolated between
 * them.  FALSE if @rt is older than the record holds or has not passed
 * yet. */
gboolean gst_apm_span_origin_lookup (GstApmSpanOrigin * origin,
    GstClockTime rt, GstClockTime * when);

/* --- the span, measured at its downstream end --- */

typedef struct _GstApmSpan GstApmSpan;

/* One publication interval of a span, for the monitor's bus message. */
typedef struct
{
  guint64 buffers;              /* through the end */
  guint64 matched;              /* of which with a latency */
  GstClockTime last, min, mean, p95, max;       /* NONE: none matched */
} GstApmSpanInterval;

/* Creates the span's series (apm_span_*, labelled pipeline, span, from,
 * to) and takes a reference on @origin. */
GstApmSpan *gst_apm_span_new (GstApmSpanOrigin * origin,
    const gchar * pipeline, const gchar * name, const gchar * from,
    const gchar * to);
/* Retires the series and drops the origin. */
void gst_apm_span_free (GstApmSpan * span);

/* Per buffer at the end (its streaming thread): @rt the running time of
 * the buffer's start (NONE when unknown), @now the monotonic time it
 * arrived. */
void gst_apm_span_buffer (GstApmSpan * span, GstClockTime rt,
    GstClockTime now, gsize bytes, GstClockTime duration);

/* Streaming thread: the interval's figures; starts a new interval. */
void gst_apm_span_take_interval (GstApmSpan * span, GstApmSpanInterval * iv);

/* Streaming thread: forgets the interval (flush). */
void gst_apm_span_reset_interval (GstApmSpan * span);

const gchar *gst_apm_span_get_name (GstApmSpan * span);

/* The last latency measured (any thread), or GST_CLOCK_TIME_NONE. */
GstClockTime gst_apm_span_last_latency (GstApmSpan * span);

/* Any thread, while the span exists: its description since it started,
 * {"name", "from", "to", "buffers", "bytes", "media_seconds", "matched",
 * "unmatched", "latency": {"count", "last_seconds", "mean_seconds",
 * "p50_seconds", "p95_seconds"}}. */
JsonObject *gst_apm_span_describe (GstApmSpan * span);

G_END_DECLS
