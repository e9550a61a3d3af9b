/* gst-apm: the apmonitor element's instance, shared by its files
 *
 * gstapmonitor.c        the element: properties, caps, events, state
 *                       changes, the per-buffer entry point
 * gstapmonitorinterval.c measuring raw audio into intervals, and
 *                       publishing each: series, read-only properties,
 *                       the bus message
 * gstapmonitormetrics.c its series (apm_monitor_*)
 * gstapmonitortiming.c  per-buffer timing: DISCONT, jitter, gaps and
 *                       overlaps, underruns
 * gstapmonitorspan.c    its side of a stage span (span-from), measured by
 *                       gstapmspan.c
 * gstapmonitorservice.c the service properties (port, address, quiet) of
 *                       every monitor of a pipeline, and watching it
 *
 * Audio levels, clipping and silence are computed by gstapmaudiostats.c.
 */
#pragma once

#include "gstapmonitor.h"
#include "gstapmonitormetrics.h"
#include "gstapmjitter.h"
#include "gstapmaudiostats.h"
#include "gstapmspan.h"

G_BEGIN_DECLS

GST_DEBUG_CATEGORY_EXTERN (gst_apm_checkpoint_debug);

/* the properties the streaming thread works with */
typedef struct
{
  GstClockTime interval;
  gboolean post_messages;
  gdouble silence_threshold;
  GstClockTime silence_duration;
  gdouble clip_threshold;
  GstClockTime tolerance;
  gboolean tolerance_set;       /* set by the user: not scaled for lateness */
} GstApmCheckpointSettings;

/* counts over the current interval */
typedef struct
{
  GstClockTime ts;              /* PTS of the interval's start */
  GstClockTime end_ts;          /* end of the last buffer (non-raw) */
  GstClockTime wall_start;      /* monotonic */
  guint64 buffers, discont, gaps, overlaps, underruns;
} GstApmCheckpointInterval;

struct _GstApmCheckpoint
{
  GstBaseTransform parent;

  /* properties, under the object lock */
  gint port;
  gchar *address;
  gboolean quiet;
  gboolean port_set, address_set;
  GstApmCheckpointSettings props;
  gint settings_changed;        /* atomic: props changed since loaded */

  /* read-only statistics: atomic */
  gint silent;
  guint64 clipped_samples, gaps, underruns;

  /* pipeline latency from the LATENCY event (upstream thread): atomic */
  guint64 latency;

  /* the clock underruns are judged on: set_clock and the PLAYING
   * transitions bump clock_gen (atomic) and set playing; the streaming
   * thread takes the clock and base time again only when clock_gen moved,
   * so a buffer takes no lock and no reference */
  gint clock_gen, playing;
  gint stream_clock_gen;        /* streaming thread */
  GstClock *stream_clock;       /* streaming thread: ref, or NULL */
  GstClockTime stream_base_time;

  /* stage spans.  As a span's origin: the record of where running time
   * passed, created when a downstream monitor first asks (atomic pointer,
   * then kept until finalize).  As a span's end: the span, set before
   * streaming starts (or in set_caps) and freed after it stops; span_lock
   * guards it against readers on other threads. */
  gchar *span_from, *span_name; /* properties, under the object lock */
  GstApmSpanOrigin *origin;
  GstApmSpan *span;
  GMutex span_lock;
  gboolean span_warned;
  /* as a span's end (streaming thread): totals since the span started,
   * to tell a span-from that names no upstream monitor */
  guint64 span_buffers, span_matched;
  gboolean span_unmatched_warned;

  /* streaming state: touched by the streaming thread, and by start/stop
   * while it does not run */
  GstApmCheckpointSettings cur;
  GstClockTime tolerance;       /* cur.tolerance, at least one frame */
  GstCaps *caps;
  GstAudioInfo info;
  GstApmAudioStats *stats;      /* NULL unless raw audio */
  GstApmAudioLevels levels;
  guint64 interval_frames;
  gchar *format;
  gint rate, channels;
  gboolean live;
  GstClockTime upstream_latency;
  gboolean warned_map;
  GstApmCheckpointInterval iv;
  gboolean anchor;              /* take the next interval's start from PTS */
  GstClockTime next_pts;
  GstApmJitter jitter;

  /* series, created at set_caps, retired at stop */
  GstApmCheckpointSeries series;
};

/* gstapmonitortiming.c: the element's clock or PLAYING state changed (any
 * thread); forget the streaming thread's clock (streaming stopped) */
void gst_apm_checkpoint_clock_changed (GstApmCheckpoint * self,
    gboolean playing);
void gst_apm_checkpoint_drop_clock (GstApmCheckpoint * self);

/* gstapmonitor.c: the silent property changed */
void gst_apm_checkpoint_notify_silent (GstApmCheckpoint * self);

/* gstapmonitorinterval.c: streaming thread (or while it does not run) */
void gst_apm_checkpoint_reset_interval (GstApmCheckpoint * self,
    GstClockTime now);
/* Measures a raw audio buffer of @frames frames, publishing at each
 * interval boundary. */
void gst_apm_checkpoint_measure_audio (GstApmCheckpoint * self,
    GstBuffer * buf, gsize frames, GstClockTime now);
/* Publishes the interval that ends now. */
void gst_apm_checkpoint_publish (GstApmCheckpoint * self, GstClockTime now);
/* Publishes what the current interval holds, if anything (caps change,
 * EOS). */
void gst_apm_checkpoint_publish_pending (GstApmCheckpoint * self);

/* gstapmonitortiming.c: streaming thread (or while it does not run) */
void gst_apm_checkpoint_reset_timing (GstApmCheckpoint * self);
void gst_apm_checkpoint_check_timing (GstApmCheckpoint * self, GstBuffer * buf,
    GstClockTime now, GstClockTime duration);

/* gstapmonitorspan.c: resolve before streaming (READY->PAUSED, caps),
 * release after it stopped; track per buffer and take at the end of each
 * interval on the streaming thread */
void gst_apm_checkpoint_resolve_span (GstApmCheckpoint * self, gboolean report);
void gst_apm_checkpoint_release_span (GstApmCheckpoint * self);
void gst_apm_checkpoint_track_span (GstApmCheckpoint * self, GstBuffer * buf,
    GstClockTime now, gsize size, GstClockTime duration);
gboolean gst_apm_checkpoint_take_span_interval (GstApmCheckpoint * self,
    GstApmSpanInterval * iv);

/* gstapmonitorservice.c: at NULL->READY and READY->PAUSED */
void gst_apm_checkpoint_watch (GstApmCheckpoint * self);

G_END_DECLS
