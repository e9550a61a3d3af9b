/* gst-apm: the apmonitor element, an audio checkpoint
 *
 * SECTION:element-apmonitor
 * @title: apmonitor
 * @short_description: bit-exact passthrough that measures what passes
 *
 * Insert apmonitor anywhere in a pipeline: buffers pass through untouched
 * and uncopied (it only maps them for reading), and the process-wide apm
 * service (started with the pipeline) serves what it measures over HTTP.
 *
 * |[
 * gst-launch-1.0 -m audiotestsrc is-live=true ! apmonitor port=0 ! \
 *     audioconvert ! autoaudiosink
 * ]|
 *
 * On raw audio (every format GstAudioInfo describes, interleaved or not)
 * it measures, per channel, the peak and RMS level in dBFS with the same
 * definitions as the `level` element, the DC offset and clipped samples,
 * and detects silence: every channel below #GstApMonitor:silence-threshold
 * for at least #GstApMonitor:silence-duration.  On any stream, raw or
 * encoded, it counts buffers and bytes, DISCONT flags, timestamp gaps and
 * overlaps, arrival jitter and, on live streams, buffers that arrive after
 * their deadline on the pipeline clock (underruns).
 *
 * Every #GstApMonitor:interval the figures are published as Prometheus
 * metrics (`apm_monitor_*`, labelled `pipeline` and `monitor`, and
 * `channel` for per-channel ones) and, if #GstApMonitor:post-messages is
 * %TRUE, posted as an element message named `apmonitor` with these fields:
 *
 * * #guint64 `timestamp`: stream timestamp (PTS) of the interval's start
 * * #guint64 `stream-time`, `running-time`: the same in stream and running
 *   time
 * * #guint64 `duration`: length of the interval
 * * #gchararray `format`: audio format ("S16LE") or media type of encoded
 *   streams ("audio/mpeg"); #gint `rate`, `channels` (0 when unknown)
 * * #guint64 `buffers`, `gaps`, `overlaps`, `discont`, `underruns`:
 *   counts in the interval
 * * #gdouble `jitter`: arrival jitter in seconds, RFC 3550's estimator
 *   over buffer timestamps (gstapmjitter.h), at the interval's end
 *
 * and on raw audio also:
 *
 * * #GValueArray of #gdouble `peak`, `rms`: levels in dBFS per channel,
 *   as `level` reports them (digital silence is -350 dB peak, -700 dB RMS)
 * * #GValueArray of #gdouble `dc-offset`: mean sample per channel, as a
 *   fraction of full scale
 * * #guint64 `clipped`: clipped samples in the interval, all channels
 * * #gboolean `silent`: whether the stream is in a silent span
 * * #guint64 `silent-time`: silence counted in the interval (when a span
 *   begins, its whole qualifying stretch is counted at once)
 *
 * Two monitors delimit a stage: with #GstApMonitor:span-from naming a
 * monitor upstream, this one measures the wall-clock latency of the
 * elements between them and the throughput out of them, matching media by
 * running time (so encoders, decoders, resamplers and queues in between
 * are fine):
 *
 * |[
 * gst-launch-1.0 -m audiotestsrc is-live=true ! apmonitor name=pre ! \
 *     flacenc ! flacdec ! queue ! apmonitor name=post span-from=pre ! \
 *     fakesink
 * ]|
 *
 * The metrics are `apm_span_latency_seconds` (histogram),
 * `apm_span_current_latency_seconds`, `apm_span_buffers_total`,
 * `apm_span_bytes_total` and `apm_span_media_seconds_total`, labelled
 * `pipeline`, `span`, `from` and `to`, and the downstream monitor's
 * messages carry a #GstStructure `span` with #gchararray `name`,
 * #guint64 `buffers` and `matched` (buffers with a latency) and #guint64
 * `latency` (the last), `latency-min`, `latency-mean`, `latency-p95` and
 * `latency-max` over the interval, in nanoseconds (GST_CLOCK_TIME_NONE
 * when none matched).
 *
 * Up to 64 channels are measured; further channels are ignored.  The URL
 * served is posted on the bus as an element message named "apm-service"
 * with a "url" field.
 */
#define GLIB_DISABLE_DEPRECATION_WARNINGS       /* GValueArray, as level */

#include "gstapmonitor.h"
#include "gstapmjitter.h"
#include "gstapmaudiostats.h"
#include "gstapmspan.h"
#include "gstapmwatch.h"

#include <gst/audio/audio.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_apmonitor_debug);
#define GST_CAT_DEFAULT gst_apmonitor_debug

#define DEFAULT_INTERVAL (GST_SECOND / 10)
#define DEFAULT_POST_MESSAGES TRUE
#define DEFAULT_SILENCE_THRESHOLD -60.0
#define DEFAULT_SILENCE_DURATION (2 * GST_SECOND)
#define DEFAULT_CLIP_THRESHOLD 0.999
#define DEFAULT_TOLERANCE GST_MSECOND

enum
{
  PROP_0,
  PROP_PORT,
  PROP_ADDRESS,
  PROP_QUIET,
  PROP_INTERVAL,
  PROP_POST_MESSAGES,
  PROP_SILENCE_THRESHOLD,
  PROP_SILENCE_DURATION,
  PROP_CLIP_THRESHOLD,
  PROP_TOLERANCE,
  PROP_SILENT,
  PROP_CLIPPED_SAMPLES,
  PROP_GAPS,
  PROP_UNDERRUNS,
  PROP_SPAN_FROM,
  PROP_SPAN_NAME,
  PROP_SPAN_LATENCY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* --- metrics --- */

typedef struct
{
  const gchar *name;
  ApmMetricType type;
  const gchar *help;
} MetricDef;

/* one series per stream, labelled pipeline and monitor */
typedef enum
{
  S_BUFFERS,
  S_BYTES,
  S_DISCONT,
  S_GAPS,
  S_OVERLAPS,
  S_UNDERRUNS,
  S_JITTER,
  S_BUFFER_RATE,
  S_CAPS_CHANGES,
  /* raw audio only */
  S_SAMPLES,
  S_CLIPPED_RATIO,
  S_SILENT,
  S_SILENCE_SECONDS,
  S_SILENT_SPANS,
  N_STREAM_SERIES
} StreamSeries;

#define FIRST_AUDIO_SERIES S_SAMPLES

static const MetricDef stream_metrics[N_STREAM_SERIES] = {
  {"apm_monitor_buffers_total", APM_METRIC_COUNTER,
      "Buffers that passed the checkpoint"},
  {"apm_monitor_bytes_total", APM_METRIC_COUNTER,
      "Bytes that passed the checkpoint"},
  {"apm_monitor_discont_total", APM_METRIC_COUNTER,
      "Buffers flagged DISCONT"},
  {"apm_monitor_gaps_total", APM_METRIC_COUNTER,
      "Buffers starting later than the previous buffer's end, beyond the "
        "tolerance"},
  {"apm_monitor_overlaps_total", APM_METRIC_COUNTER,
      "Buffers starting earlier than the previous buffer's end, beyond the "
        "tolerance"},
  {"apm_monitor_underruns_total", APM_METRIC_COUNTER,
      "Buffers of a live stream arriving after their deadline on the "
        "pipeline clock (running time + pipeline latency + tolerance)"},
  {"apm_monitor_jitter_seconds", APM_METRIC_GAUGE,
      "Arrival jitter: smoothed deviation of inter-arrival time from the "
        "inter-PTS time (RFC 3550 estimator)"},
  {"apm_monitor_buffer_rate_hertz", APM_METRIC_GAUGE,
      "Buffers per second of wall time over the last interval"},
  {"apm_monitor_caps_changes_total", APM_METRIC_COUNTER,
      "Times the caps changed after the first negotiation"},
  {"apm_monitor_samples_total", APM_METRIC_COUNTER,
      "Audio frames (samples per channel) measured"},
  {"apm_monitor_clipped_ratio", APM_METRIC_GAUGE,
      "Fraction of samples at or above the clip threshold over the last "
        "interval, all channels"},
  {"apm_monitor_silent", APM_METRIC_GAUGE,
      "1 while every channel has been below the silence threshold for the "
        "silence duration, else 0"},
  {"apm_monitor_silence_seconds_total", APM_METRIC_COUNTER,
      "Time spent in silent spans"},
  {"apm_monitor_silent_spans_total", APM_METRIC_COUNTER,
      "Silent spans that began"},
};

/* one series per channel, labelled pipeline, monitor and channel */
typedef enum
{
  C_PEAK,
  C_RMS,
  C_DC_OFFSET,
  C_CLIPPED,
  N_CHANNEL_SERIES
} ChannelSeries;

static const MetricDef channel_metrics[N_CHANNEL_SERIES] = {
  {"apm_monitor_peak_dbfs", APM_METRIC_GAUGE,
      "Peak level over the last interval in dBFS, as the level element "
        "(-350 for digital silence)"},
  {"apm_monitor_rms_dbfs", APM_METRIC_GAUGE,
      "RMS level over the last interval in dBFS, as the level element "
        "(-700 for digital silence)"},
  {"apm_monitor_dc_offset", APM_METRIC_GAUGE,
      "Mean sample value over the last interval, as a fraction of full "
        "scale"},
  {"apm_monitor_clipped_samples_total", APM_METRIC_COUNTER,
      "Samples at or above the clip threshold"},
};

static const MetricDef info_metric = {
  "apm_monitor_info", APM_METRIC_GAUGE,
  "Stream format at the checkpoint (always 1)"
};

static const gchar *const stream_labels[] = { "pipeline", "monitor", NULL };
static const gchar *const channel_labels[] = { "pipeline", "monitor",
  "channel", NULL
};
static const gchar *const info_labels[] = { "pipeline", "monitor", "format",
  "rate", "channels", "layout", NULL
};

#define MAX_CHANNELS GST_APM_AUDIO_STATS_MAX_CHANNELS

/* --- the element --- */

typedef struct
{
  GstClockTime interval;
  gboolean post_messages;
  gdouble silence_threshold;
  GstClockTime silence_duration;
  gdouble clip_threshold;
  GstClockTime tolerance;
  gboolean tolerance_set;       /* set by the user: not scaled for lateness */
} Settings;

/* counts over the current interval */
typedef struct
{
  GstClockTime ts;              /* PTS of the interval's start */
  GstClockTime end_ts;          /* end of the last buffer (non-raw) */
  GstClockTime wall_start;      /* monotonic */
  guint64 buffers, discont, gaps, overlaps, underruns;
} Interval;

struct _GstApMonitor
{
  GstBaseTransform parent;

  /* properties, under the object lock */
  gint port;
  gchar *address;
  gboolean quiet;
  gboolean port_set, address_set;
  Settings props;
  gint settings_changed;        /* atomic: props changed since loaded */

  /* read-only statistics: atomic */
  gint silent;
  guint64 clipped_samples, gaps, underruns;

  /* pipeline latency from the LATENCY event (upstream thread): atomic */
  guint64 latency;

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
  Settings cur;
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
  Interval iv;
  gboolean anchor;              /* take the next interval's start from PTS */
  GstClockTime next_pts;
  GstApmJitter jitter;

  /* series, created at set_caps, retired at stop */
  gchar *label_pipeline, *label_monitor, *info_key;
  ApmSeries *series[N_STREAM_SERIES];
  guint n_channel_series;
  ApmSeries *channel_series[N_CHANNEL_SERIES][MAX_CHANNELS];
  ApmSeries *info_series;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE (GstApMonitor, gst_apmonitor, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (apmonitor, "apmonitor", GST_RANK_NONE,
    GST_TYPE_APMONITOR,
    GST_DEBUG_CATEGORY_INIT (gst_apmonitor_debug, "apmonitor", 0,
        "audio pipeline monitor checkpoint"));

static inline void
add_int (ApmSeries * s, gint64 n)
{
  if (G_LIKELY (s))
    apm_counter_add_int (s, n);
}

static inline void
set_gauge (ApmSeries * s, gdouble v)
{
  if (G_LIKELY (s))
    apm_gauge_set (s, v);
}

static ApmSeries *
new_series (ApmRegistry * reg, const MetricDef * def,
    const gchar * const *label_names, const gchar * const *values)
{
  ApmFamily *f = apm_registry_family (reg, def->name, def->type, def->help,
      label_names, NULL, 0);

  if (!f) {
    GST_WARNING ("metric %s exists with other labels or type", def->name);
    return NULL;
  }
  return apm_family_series (f, values);
}

static void
retire_channel_series (GstApMonitor * self)
{
  for (guint k = 0; k < N_CHANNEL_SERIES; k++)
    for (guint c = 0; c < self->n_channel_series; c++)
      g_clear_pointer (&self->channel_series[k][c], apm_series_retire);
  self->n_channel_series = 0;
}

static void
retire_series (GstApMonitor * self)
{
  for (guint i = 0; i < N_STREAM_SERIES; i++)
    g_clear_pointer (&self->series[i], apm_series_retire);
  retire_channel_series (self);
  g_clear_pointer (&self->info_series, apm_series_retire);
  g_clear_pointer (&self->info_key, g_free);
}

static const gchar *
layout_name (GstApMonitor * self)
{
  if (self->stats)
    return GST_AUDIO_INFO_LAYOUT (&self->info) ==
        GST_AUDIO_LAYOUT_INTERLEAVED ? "interleaved" : "non-interleaved";
  if (self->format && g_str_has_prefix (self->format, "audio/"))
    return "encoded";
  return "";
}

/* Creates the series for the current caps: once per stream, per channel
 * when the channel count changes, the info series when the format does. */
static void
update_series (GstApMonitor * self)
{
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  GstElement *top = gst_apm_watch_find_top (GST_ELEMENT (self));
  gchar *pipeline, *monitor, *rate, *channels, *key;
  const gchar *values[7];
  guint n;

  pipeline = top ? gst_apm_watch_pipeline_label (top) : g_strdup ("");
  if (top)
    gst_object_unref (top);
  monitor = gst_object_get_name (GST_OBJECT (self));
  if (g_strcmp0 (pipeline, self->label_pipeline)
      || g_strcmp0 (monitor, self->label_monitor))
    retire_series (self);
  g_free (self->label_pipeline);
  g_free (self->label_monitor);
  self->label_pipeline = pipeline;
  self->label_monitor = monitor;

  values[0] = pipeline;
  values[1] = monitor;
  values[2] = NULL;
  for (guint i = 0; i < N_STREAM_SERIES; i++) {
    gboolean want = i < FIRST_AUDIO_SERIES || self->stats;

    if (want && !self->series[i])
      self->series[i] = new_series (reg, &stream_metrics[i], stream_labels,
          values);
    else if (!want)
      g_clear_pointer (&self->series[i], apm_series_retire);
  }

  n = self->stats ? MIN (self->channels, MAX_CHANNELS) : 0;
  if (n != self->n_channel_series) {
    retire_channel_series (self);
    for (guint c = 0; c < n; c++) {
      gchar num[16];

      g_snprintf (num, sizeof (num), "%u", c);
      values[2] = num;
      values[3] = NULL;
      for (guint k = 0; k < N_CHANNEL_SERIES; k++)
        self->channel_series[k][c] = new_series (reg, &channel_metrics[k],
            channel_labels, values);
    }
    self->n_channel_series = n;
  }

  rate = g_strdup_printf ("%d", self->rate);
  channels = g_strdup_printf ("%d", self->channels);
  key = g_strjoin ("\n", self->format, rate, channels, layout_name (self),
      NULL);
  if (g_strcmp0 (key, self->info_key)) {
    g_clear_pointer (&self->info_series, apm_series_retire);
    values[2] = self->format;
    values[3] = rate;
    values[4] = channels;
    values[5] = layout_name (self);
    values[6] = NULL;
    self->info_series = new_series (reg, &info_metric, info_labels, values);
    set_gauge (self->info_series, 1.0);
    g_free (self->info_key);
    self->info_key = key;
  } else {
    g_free (key);
  }
  g_free (rate);
  g_free (channels);
}

/* Copies the properties for the streaming thread: at caps, and on the
 * next buffer after a property changed. */
static void
load_settings (GstApMonitor * self)
{
  GST_OBJECT_LOCK (self);
  self->cur = self->props;
  GST_OBJECT_UNLOCK (self);

  self->tolerance = self->cur.tolerance;
  if (self->stats) {
    gint rate = GST_AUDIO_INFO_RATE (&self->info);

    gst_apm_audio_stats_configure (self->stats, self->cur.clip_threshold,
        self->cur.silence_threshold, self->cur.silence_duration);
    self->interval_frames = MAX (1,
        GST_CLOCK_TIME_TO_FRAMES (self->cur.interval, rate));
    self->tolerance = MAX (self->tolerance, GST_FRAMES_TO_CLOCK_TIME (1,
            rate));
  }
}

static void
reset_timing (GstApMonitor * self)
{
  self->anchor = TRUE;
  self->next_pts = GST_CLOCK_TIME_NONE;
  gst_apm_jitter_restart (&self->jitter);
}

static void
reset_interval (GstApMonitor * self, GstClockTime now)
{
  GstClockTime ts = self->iv.ts;

  memset (&self->iv, 0, sizeof (self->iv));
  self->iv.ts = ts;
  self->iv.end_ts = GST_CLOCK_TIME_NONE;
  self->iv.wall_start = now;
}

/* --- stage spans --- */

/* The record of where running time passed this monitor, created when a
 * downstream monitor first asks for it; a new reference. */
static GstApmSpanOrigin *
acquire_origin (GstApMonitor * self)
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
static void
resolve_span (GstApMonitor * self, gboolean report)
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
  if (!peer || !GST_IS_APMONITOR (peer) || peer == GST_ELEMENT (self)) {
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

  origin = acquire_origin (GST_APMONITOR (peer));
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
static void
release_span (GstApMonitor * self)
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
static void
track_span (GstApMonitor * self, GstBuffer * buf, GstClockTime now,
    gsize size, GstClockTime duration)
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
gst_apmonitor_describe_span (GstElement * element)
{
  GstApMonitor *self;
  JsonObject *o = NULL;

  if (!GST_IS_APMONITOR (element))
    return NULL;
  self = GST_APMONITOR (element);
  g_mutex_lock (&self->span_lock);
  if (self->span)
    o = gst_apm_span_describe (self->span);
  g_mutex_unlock (&self->span_lock);
  return o;
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
build_message (GstApMonitor * self, GstClockTime duration, gdouble jitter,
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
/* A span whose end hardly ever matches (span-from names a monitor
 * downstream, or one on a stream with other running times) measures
 * nothing: say so once, at interval rate, from the streaming thread like
 * the interval message. */
static void
warn_if_never_matched (GstApMonitor * self, const GstApmSpanInterval * iv)
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

static void
publish (GstApMonitor * self, GstClockTime now)
{
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  gdouble jitter = 0.0, wall;
  gboolean silence_changed = FALSE;
  GstApmSpanInterval span_iv;

  jitter = gst_apm_jitter_get_ns (&self->jitter) / 1e9;
  set_gauge (self->series[S_JITTER], jitter);
  wall = (gdouble) GST_CLOCK_DIFF (self->iv.wall_start, now) / GST_SECOND;
  if (wall > 0.0)
    set_gauge (self->series[S_BUFFER_RATE], self->iv.buffers / wall);

  if (self->stats) {
    GstApmAudioLevels *l = &self->levels;
    gint rate = GST_AUDIO_INFO_RATE (&self->info);
    guint64 samples;

    gst_apm_audio_stats_take (self->stats, l);
    duration = GST_FRAMES_TO_CLOCK_TIME (l->frames, rate);
    for (guint c = 0; c < l->channels && c < self->n_channel_series; c++) {
      set_gauge (self->channel_series[C_PEAK][c], l->peak_db[c]);
      set_gauge (self->channel_series[C_RMS][c], l->rms_db[c]);
      set_gauge (self->channel_series[C_DC_OFFSET][c], l->dc_offset[c]);
      add_int (self->channel_series[C_CLIPPED][c], l->clipped[c]);
    }
    samples = l->frames * l->channels;
    set_gauge (self->series[S_CLIPPED_RATIO],
        samples ? (gdouble) l->clipped_total / samples : 0.0);
    set_gauge (self->series[S_SILENT], l->silent ? 1.0 : 0.0);
    if (l->silent_frames && self->series[S_SILENCE_SECONDS])
      apm_series_add (self->series[S_SILENCE_SECONDS],
          (gdouble) l->silent_frames / rate);
    add_int (self->series[S_SILENT_SPANS], l->silent_spans);

    __atomic_fetch_add (&self->clipped_samples, l->clipped_total,
        __ATOMIC_RELAXED);
    silence_changed = g_atomic_int_get (&self->silent) != l->silent;
    g_atomic_int_set (&self->silent, l->silent);
  } else if (GST_CLOCK_TIME_IS_VALID (self->iv.ts)
      && GST_CLOCK_TIME_IS_VALID (self->iv.end_ts)
      && self->iv.end_ts >= self->iv.ts) {
    duration = self->iv.end_ts - self->iv.ts;
  } else {
    duration = GST_CLOCK_DIFF (self->iv.wall_start, now);
  }

  if (self->span) {
    gst_apm_span_take_interval (self->span, &span_iv);
    warn_if_never_matched (self, &span_iv);
  }
  if (self->cur.post_messages)
    gst_element_post_message (GST_ELEMENT (self),
        build_message (self, duration, jitter, self->span ? &span_iv :
            NULL));
  if (silence_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SILENT]);

  /* raw audio: the next interval follows on (re-anchored on a PTS after a
   * discontinuity); others: it starts with the next buffer */
  if (self->stats && GST_CLOCK_TIME_IS_VALID (self->iv.ts)
      && GST_CLOCK_TIME_IS_VALID (duration))
    self->iv.ts += duration;    /* as level: no rounding drift */
  else if (!self->stats)
    self->iv.ts = GST_CLOCK_TIME_NONE;
  reset_interval (self, now);
}

/* Publishes what the current interval holds, if anything (caps change,
 * EOS). */
static void
publish_pending (GstApMonitor * self)
{
  if (self->stats ? gst_apm_audio_stats_frames (self->stats) > 0 :
      self->iv.buffers > 0)
    publish (self, gst_util_get_timestamp ());
}

/* Whether a buffer of a live stream arrives after the pipeline clock has
 * passed its deadline: base time + running time + pipeline latency, plus
 * the tolerance (by default at least half the buffer's duration). */
static gboolean
is_late (GstApMonitor * self, GstClockTime pts, GstClockTime duration)
{
  GstSegment *segment = &GST_BASE_TRANSFORM (self)->segment;
  GstClock *clock = NULL;
  GstClockTime base_time, running_time, latency, tolerance = self->tolerance;
  gboolean late = FALSE;

  if (segment->format != GST_FORMAT_TIME)
    return FALSE;
  GST_OBJECT_LOCK (self);
  if (GST_STATE (self) == GST_STATE_PLAYING && GST_ELEMENT_CLOCK (self))
    clock = gst_object_ref (GST_ELEMENT_CLOCK (self));
  base_time = GST_ELEMENT_CAST (self)->base_time;
  GST_OBJECT_UNLOCK (self);
  if (!clock)
    return FALSE;

  running_time = gst_segment_to_running_time (segment, GST_FORMAT_TIME, pts);
  if (GST_CLOCK_TIME_IS_VALID (running_time)) {
    latency = __atomic_load_n (&self->latency, __ATOMIC_RELAXED);
    if (!GST_CLOCK_TIME_IS_VALID (latency))
      latency = GST_CLOCK_TIME_IS_VALID (self->upstream_latency) ?
          self->upstream_latency : 0;
    /* a source wakes up once per buffer: by default, half a buffer of
     * scheduling delay is jitter, not an underrun */
    if (!self->cur.tolerance_set && GST_CLOCK_TIME_IS_VALID (duration))
      tolerance = MAX (tolerance, duration / 2);
    late = gst_clock_get_time (clock) >
        base_time + running_time + latency + tolerance;
  }
  gst_object_unref (clock);
  return late;
}

/* Per buffer: flags, arrival jitter, timestamp continuity, lateness. */
static void
check_timing (GstApMonitor * self, GstBuffer * buf, GstClockTime now,
    GstClockTime duration)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);

  self->iv.buffers++;
  if (GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DISCONT)) {
    self->anchor = TRUE;
    self->iv.discont++;
    add_int (self->series[S_DISCONT], 1);
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
      add_int (self->series[S_GAPS], 1);
      __atomic_fetch_add (&self->gaps, 1, __ATOMIC_RELAXED);
    } else if (d < -(GstClockTimeDiff) self->tolerance) {
      self->anchor = TRUE;
      self->iv.overlaps++;
      add_int (self->series[S_OVERLAPS], 1);
    }
  }
  self->next_pts = GST_CLOCK_TIME_IS_VALID (duration) ?
      pts + duration : GST_CLOCK_TIME_NONE;
  if (!self->stats && !GST_CLOCK_TIME_IS_VALID (self->iv.ts))
    self->iv.ts = pts;
  self->iv.end_ts = self->next_pts;

  if (self->live && is_late (self, pts, duration)) {
    self->iv.underruns++;
    add_int (self->series[S_UNDERRUNS], 1);
    __atomic_fetch_add (&self->underruns, 1, __ATOMIC_RELAXED);
  }
}

/* Measures a raw audio buffer, publishing at each interval boundary. */
static void
measure_audio (GstApMonitor * self, GstBuffer * buf, gsize frames,
    GstClockTime now)
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
  add_int (self->series[S_SAMPLES], frames);

  while (offset < frames) {
    guint64 have = gst_apm_audio_stats_frames (self->stats);
    gsize n;

    if (have >= self->interval_frames) {
      /* the interval was shortened */
      publish (self, now);
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
      publish (self, now);
  }

  if (!gap)
    gst_audio_buffer_unmap (&abuf);
}

static GstFlowReturn
gst_apmonitor_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstApMonitor *self = GST_APMONITOR (trans);
  GstClockTime now = gst_util_get_timestamp ();
  GstClockTime duration = GST_BUFFER_DURATION (buf);
  gsize size = gst_buffer_get_size (buf);
  gsize frames = 0;

  if (G_UNLIKELY (g_atomic_int_get (&self->settings_changed))) {
    g_atomic_int_set (&self->settings_changed, 0);
    load_settings (self);
  }

  add_int (self->series[S_BUFFERS], 1);
  add_int (self->series[S_BYTES], size);

  if (self->stats) {
    gint rate = GST_AUDIO_INFO_RATE (&self->info);

    frames = size / GST_AUDIO_INFO_BPF (&self->info);
    if (frames == 0 && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
        && GST_CLOCK_TIME_IS_VALID (duration))
      frames = GST_CLOCK_TIME_TO_FRAMES (duration, rate);
    if (!GST_CLOCK_TIME_IS_VALID (duration))
      duration = GST_FRAMES_TO_CLOCK_TIME (frames, rate);
  }

  check_timing (self, buf, now, duration);
  track_span (self, buf, now, size, duration);

  if (self->stats) {
    measure_audio (self, buf, frames, now);
  } else if (GST_CLOCK_TIME_IS_VALID (self->iv.ts)
      && GST_CLOCK_TIME_IS_VALID (self->iv.end_ts)) {
    if (self->iv.end_ts >= self->iv.ts + self->cur.interval)
      publish (self, now);
  } else if (now >= self->iv.wall_start + self->cur.interval) {
    publish (self, now);
  }
  return GST_FLOW_OK;
}

static void
parse_caps (GstApMonitor * self, GstCaps * caps)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);

  gst_apm_audio_stats_free (self->stats);
  self->stats = NULL;
  g_free (self->format);

  if (gst_structure_has_name (s, "audio/x-raw")
      && gst_audio_info_from_caps (&self->info, caps)) {
    self->stats = gst_apm_audio_stats_new (&self->info);
  }
  if (self->stats) {
    self->format = g_strdup (GST_AUDIO_INFO_NAME (&self->info));
    self->rate = GST_AUDIO_INFO_RATE (&self->info);
    self->channels = GST_AUDIO_INFO_CHANNELS (&self->info);
  } else {
    gst_audio_info_init (&self->info);
    self->format = g_strdup (gst_structure_get_name (s));
    if (!gst_structure_get_int (s, "rate", &self->rate))
      self->rate = 0;
    if (!gst_structure_get_int (s, "channels", &self->channels))
      self->channels = 0;
  }
}

static gboolean
gst_apmonitor_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstApMonitor *self = GST_APMONITOR (trans);
  GstQuery *query;

  if (self->caps && gst_caps_is_equal (self->caps, incaps))
    return TRUE;

  /* the interval so far belongs to the old format */
  publish_pending (self);

  if (self->caps)
    add_int (self->series[S_CAPS_CHANGES], 1);
  gst_caps_replace (&self->caps, incaps);
  parse_caps (self, incaps);

  self->live = FALSE;
  self->upstream_latency = GST_CLOCK_TIME_NONE;
  query = gst_query_new_latency ();
  if (gst_pad_peer_query (GST_BASE_TRANSFORM_SINK_PAD (trans), query))
    gst_query_parse_latency (query, &self->live, &self->upstream_latency,
        NULL);
  gst_query_unref (query);

  load_settings (self);
  update_series (self);
  /* a monitor added while the pipeline runs: its span origin is looked up
   * now, with its first caps */
  resolve_span (self, TRUE);
  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT ", live %d", incaps,
      self->live);
  return TRUE;
}

static gboolean
gst_apmonitor_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstApMonitor *self = GST_APMONITOR (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      publish_pending (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      if (self->stats)
        gst_apm_audio_stats_reset (self->stats);
      self->iv.ts = GST_CLOCK_TIME_NONE;
      reset_interval (self, gst_util_get_timestamp ());
      reset_timing (self);
      {
        GstApmSpanOrigin *origin = __atomic_load_n (&self->origin,
            __ATOMIC_ACQUIRE);

        /* running time restarts: what passed before no longer matches */
        if (origin)
          gst_apm_span_origin_reset (origin);
        if (self->span)
          gst_apm_span_reset_interval (self->span);
      }
      break;
    case GST_EVENT_SEGMENT:
      /* timestamps may restart: not a gap */
      reset_timing (self);
      break;
    case GST_EVENT_GAP:{
      GstClockTime ts, duration;

      gst_event_parse_gap (event, &ts, &duration);
      self->next_pts = GST_CLOCK_TIME_IS_VALID (ts)
          && GST_CLOCK_TIME_IS_VALID (duration) ? ts + duration :
          GST_CLOCK_TIME_NONE;
      gst_apm_jitter_restart (&self->jitter);
      break;
    }
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (gst_apmonitor_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_apmonitor_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstApMonitor *self = GST_APMONITOR (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_LATENCY) {
    GstClockTime latency;

    gst_event_parse_latency (event, &latency);
    GST_DEBUG_OBJECT (self, "pipeline latency %" GST_TIME_FORMAT,
        GST_TIME_ARGS (latency));
    __atomic_store_n (&self->latency, latency, __ATOMIC_RELAXED);
  }
  return GST_BASE_TRANSFORM_CLASS (gst_apmonitor_parent_class)->src_event
      (trans, event);
}

static gboolean
gst_apmonitor_start (GstBaseTransform * trans)
{
  GstApMonitor *self = GST_APMONITOR (trans);
  GstApmSpanOrigin *origin = __atomic_load_n (&self->origin,
      __ATOMIC_ACQUIRE);

  /* a new run (streaming does not run yet: we are the writer) */
  if (origin)
    gst_apm_span_origin_reset (origin);
  g_atomic_int_set (&self->silent, FALSE);
  __atomic_store_n (&self->clipped_samples, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->gaps, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->underruns, 0, __ATOMIC_RELAXED);
  __atomic_store_n (&self->latency, GST_CLOCK_TIME_NONE, __ATOMIC_RELAXED);
  self->warned_map = FALSE;
  self->iv.ts = GST_CLOCK_TIME_NONE;
  reset_interval (self, gst_util_get_timestamp ());
  reset_timing (self);
  gst_apm_jitter_init (&self->jitter);
  load_settings (self);
  return TRUE;
}

static gboolean
gst_apmonitor_stop (GstBaseTransform * trans)
{
  GstApMonitor *self = GST_APMONITOR (trans);

  retire_series (self);
  g_clear_pointer (&self->stats, gst_apm_audio_stats_free);
  gst_caps_replace (&self->caps, NULL);
  g_clear_pointer (&self->format, g_free);
  self->rate = self->channels = 0;
  return TRUE;
}

/* --- properties --- */

static void
gst_apmonitor_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstApMonitor *self = GST_APMONITOR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      self->port = g_value_get_int (value);
      self->port_set = TRUE;
      break;
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      self->address_set = TRUE;
      break;
    case PROP_QUIET:
      self->quiet = g_value_get_boolean (value);
      break;
    case PROP_INTERVAL:
      self->props.interval = g_value_get_uint64 (value);
      break;
    case PROP_POST_MESSAGES:
      self->props.post_messages = g_value_get_boolean (value);
      break;
    case PROP_SILENCE_THRESHOLD:
      self->props.silence_threshold = g_value_get_double (value);
      break;
    case PROP_SILENCE_DURATION:
      self->props.silence_duration = g_value_get_uint64 (value);
      break;
    case PROP_CLIP_THRESHOLD:
      self->props.clip_threshold = g_value_get_double (value);
      break;
    case PROP_TOLERANCE:
      self->props.tolerance = g_value_get_uint64 (value);
      self->props.tolerance_set = TRUE;
      break;
    case PROP_SPAN_FROM:
      g_free (self->span_from);
      self->span_from = g_value_dup_string (value);
      break;
    case PROP_SPAN_NAME:
      g_free (self->span_name);
      self->span_name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  g_atomic_int_set (&self->settings_changed, 1);
}

static void
gst_apmonitor_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstApMonitor *self = GST_APMONITOR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_QUIET:
      g_value_set_boolean (value, self->quiet);
      break;
    case PROP_INTERVAL:
      g_value_set_uint64 (value, self->props.interval);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, self->props.post_messages);
      break;
    case PROP_SILENCE_THRESHOLD:
      g_value_set_double (value, self->props.silence_threshold);
      break;
    case PROP_SILENCE_DURATION:
      g_value_set_uint64 (value, self->props.silence_duration);
      break;
    case PROP_CLIP_THRESHOLD:
      g_value_set_double (value, self->props.clip_threshold);
      break;
    case PROP_TOLERANCE:
      g_value_set_uint64 (value, self->props.tolerance);
      break;
    case PROP_SILENT:
      g_value_set_boolean (value, g_atomic_int_get (&self->silent));
      break;
    case PROP_CLIPPED_SAMPLES:
      g_value_set_uint64 (value, __atomic_load_n (&self->clipped_samples,
              __ATOMIC_RELAXED));
      break;
    case PROP_GAPS:
      g_value_set_uint64 (value, __atomic_load_n (&self->gaps,
              __ATOMIC_RELAXED));
      break;
    case PROP_UNDERRUNS:
      g_value_set_uint64 (value, __atomic_load_n (&self->underruns,
              __ATOMIC_RELAXED));
      break;
    case PROP_SPAN_FROM:
      g_value_set_string (value, self->span_from);
      break;
    case PROP_SPAN_NAME:
      g_value_set_string (value, self->span_name);
      break;
    case PROP_SPAN_LATENCY:
      g_mutex_lock (&self->span_lock);
      g_value_set_uint64 (value, self->span ?
          gst_apm_span_last_latency (self->span) : GST_CLOCK_TIME_NONE);
      g_mutex_unlock (&self->span_lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Applies the service properties that were set on @self (-1/NULL for the
 * others); problems with them go to @problems. */
static void
gst_apmonitor_configure_service (GstApMonitor * self, GPtrArray * problems)
{
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;

  GST_OBJECT_LOCK (self);
  config.port = self->port_set ? self->port : -1;
  if (self->address_set && self->address) {
    GInetAddress *inet = g_inet_address_new_from_string (self->address);

    if (inet) {
      config.address = g_strdup (self->address);
      g_object_unref (inet);
    } else {
      g_ptr_array_add (problems, g_strdup_printf ("%s: property address='%s'"
              " is not an IP address: using the default",
              GST_OBJECT_NAME (self), self->address));
    }
  }
  config.quiet = self->quiet ? 1 : -1;
  GST_OBJECT_UNLOCK (self);

  gst_apm_watch_configure (&config, problems);
  g_free (config.address);
}

/* Configures the service from the properties set on every apmonitor of the
 * top-level pipeline, then watches it.  Every monitor, not just @self:
 * state changes run from the sinks up, so a downstream monitor without
 * port= would otherwise start the service on the default port before the
 * upstream one that has port=N is asked. */
static void
gst_apmonitor_watch (GstApMonitor * self)
{
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *others = g_ptr_array_new_with_free_func (g_free);
  GstElement *top;

  top = gst_apm_watch_find_top (GST_ELEMENT (self));
  if (top && GST_IS_BIN (top)) {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (top));
    GValue v = G_VALUE_INIT;

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstElement *e = g_value_get_object (&v);

      /* another monitor's problems are its own to report */
      if (GST_IS_APMONITOR (e) && e != GST_ELEMENT (self))
        gst_apmonitor_configure_service (GST_APMONITOR (e), others);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  gst_apmonitor_configure_service (self, problems);
  g_ptr_array_unref (problems);
  g_ptr_array_unref (others);

  /* only a real pipeline: a bin that is set to READY before it is added
   * (playsink's sink bin) is not one; READY->PAUSED checks again */
  if (top && GST_IS_PIPELINE (top)) {
    gst_apm_watch_pipeline (top, TRUE);
    gst_apm_watch_scan_files (top);
  }
  if (top)
    gst_object_unref (top);
}

static GstStateChangeReturn
gst_apmonitor_change_state (GstElement * element, GstStateChange transition)
{
  GstApMonitor *self = GST_APMONITOR (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      || transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    gst_apmonitor_watch (self);
  /* before streaming starts; the first caps try again */
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    resolve_span (self, FALSE);

  ret = GST_ELEMENT_CLASS (gst_apmonitor_parent_class)->change_state
      (element, transition);

  /* streaming has stopped */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    release_span (self);
  return ret;
}

static void
gst_apmonitor_finalize (GObject * object)
{
  GstApMonitor *self = GST_APMONITOR (object);

  retire_series (self);
  release_span (self);
  gst_apm_span_origin_unref (self->origin);
  g_mutex_clear (&self->span_lock);
  g_free (self->span_from);
  g_free (self->span_name);
  gst_apm_audio_stats_free (self->stats);
  gst_caps_replace (&self->caps, NULL);
  g_free (self->format);
  g_free (self->label_pipeline);
  g_free (self->label_monitor);
  g_free (self->address);
  G_OBJECT_CLASS (gst_apmonitor_parent_class)->finalize (object);
}

static void
gst_apmonitor_class_init (GstApMonitorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_apmonitor_set_property;
  gobject_class->get_property = gst_apmonitor_get_property;
  gobject_class->finalize = gst_apmonitor_finalize;

  /**
   * GstApMonitor:port:
   *
   * TCP port of the process-wide apm service; 0 picks a free port.  The
   * first configuration in the process wins (the apm tracer's params, then
   * the first apmonitor to start).
   *
   * Since: 0.1
   */
  properties[PROP_PORT] = g_param_spec_int ("port", "Port",
      "TCP port of the process-wide apm HTTP service (0 = pick a free port; "
      "the first configuration in the process wins)", 0, 65535,
      APM_DEFAULT_PORT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:address:
   *
   * IP address the apm service binds to.
   *
   * Since: 0.1
   */
  properties[PROP_ADDRESS] = g_param_spec_string ("address", "Address",
      "IP address the apm HTTP service binds to (first configuration wins)",
      APM_DEFAULT_ADDRESS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:quiet:
   *
   * Do not print the URL served on stderr.
   *
   * Since: 0.1
   */
  properties[PROP_QUIET] = g_param_spec_boolean ("quiet", "Quiet",
      "Do not print the URL served on stderr", FALSE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:interval:
   *
   * Time between publications of the measurements (metrics and bus
   * message), in nanoseconds.  On raw audio an interval is exactly this
   * many samples' worth, as with the level element, so the two agree when
   * given the same interval; on other streams it is measured on buffer
   * timestamps (wall time when they have none).  Like the other settings,
   * a change applies from the next buffer.
   *
   * Since: 0.1
   */
  properties[PROP_INTERVAL] = g_param_spec_uint64 ("interval", "Interval",
      "Time between publications of the measurements (metrics and "
      "'apmonitor' bus message), in nanoseconds", GST_MSECOND, G_MAXUINT64,
      DEFAULT_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:post-messages:
   *
   * Post an element message named "apmonitor" on the bus every interval.
   *
   * Since: 0.1
   */
  properties[PROP_POST_MESSAGES] = g_param_spec_boolean ("post-messages",
      "Post messages", "Post an 'apmonitor' element message on the bus for "
      "each interval", DEFAULT_POST_MESSAGES,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:silence-threshold:
   *
   * Level in dBFS below which audio counts as silence: a 10 ms block is
   * silent when no sample of any channel reaches it.
   *
   * Since: 0.1
   */
  properties[PROP_SILENCE_THRESHOLD] =
      g_param_spec_double ("silence-threshold", "Silence threshold",
      "Silence is when no sample of any channel reaches this level (dBFS)",
      -200.0, 0.0, DEFAULT_SILENCE_THRESHOLD,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:silence-duration:
   *
   * How long audio must stay below #GstApMonitor:silence-threshold before
   * it counts as a silent span (and all of that time as silence), in
   * nanoseconds.
   *
   * Since: 0.1
   */
  properties[PROP_SILENCE_DURATION] =
      g_param_spec_uint64 ("silence-duration", "Silence duration",
      "How long every channel must stay below the silence threshold to "
      "count as a silent span, in nanoseconds", 0, G_MAXUINT64,
      DEFAULT_SILENCE_DURATION, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:clip-threshold:
   *
   * A sample counts as clipped when its magnitude is at least this
   * fraction of full scale.  For integer formats the threshold is never
   * above the largest value minus one (32766 for S16), so samples at the
   * rail always count.
   *
   * Since: 0.1
   */
  properties[PROP_CLIP_THRESHOLD] = g_param_spec_double ("clip-threshold",
      "Clip threshold", "Samples whose magnitude reaches this fraction of "
      "full scale count as clipped (integer formats: at most max - 1)",
      0.0, 1.0, DEFAULT_CLIP_THRESHOLD,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:tolerance:
   *
   * Timestamp tolerance, in nanoseconds: a buffer starting further than
   * this (and than one sample) from the previous buffer's end is a gap or
   * an overlap, and a buffer of a live stream arriving more than this
   * after its deadline is an underrun.  Left unset, lateness tolerates at
   * least half the buffer's duration, since a live source that wakes once
   * per buffer is late by its scheduling delay; set, it is used as given.
   *
   * Since: 0.1
   */
  properties[PROP_TOLERANCE] = g_param_spec_uint64 ("tolerance",
      "Tolerance", "Timestamp deviation tolerated before counting a gap, an "
      "overlap or a late buffer (underrun), in nanoseconds (unset: late "
      "buffers are tolerated at least half a buffer's duration)", 0,
      G_MAXUINT64, DEFAULT_TOLERANCE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:silent:
   *
   * Whether the audio is in a silent span, as of the last interval.
   * Notified when it changes.
   *
   * Since: 0.1
   */
  properties[PROP_SILENT] = g_param_spec_boolean ("silent", "Silent",
      "Whether the audio is in a silent span (as of the last interval)",
      FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:clipped-samples:
   *
   * Clipped samples counted since the element started, all channels.
   *
   * Since: 0.1
   */
  properties[PROP_CLIPPED_SAMPLES] = g_param_spec_uint64 ("clipped-samples",
      "Clipped samples", "Clipped samples since start, all channels (as of "
      "the last interval)", 0, G_MAXUINT64, 0,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:gaps:
   *
   * Timestamp gaps counted since the element started.
   *
   * Since: 0.1
   */
  properties[PROP_GAPS] = g_param_spec_uint64 ("gaps", "Gaps",
      "Timestamp gaps since start", 0, G_MAXUINT64, 0,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:underruns:
   *
   * Late buffers of a live stream counted since the element started.
   *
   * Since: 0.1
   */
  properties[PROP_UNDERRUNS] = g_param_spec_uint64 ("underruns",
      "Underruns", "Buffers of a live stream that arrived after their "
      "deadline on the pipeline clock, since start", 0, G_MAXUINT64, 0,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:span-from:
   *
   * Name of an apmonitor upstream of this one: the elements between the
   * two form a stage whose wall-clock latency and throughput this monitor
   * measures (`apm_span_*` metrics, a `span` structure in its bus
   * messages).  Media is matched by running time, so the stage may
   * re-buffer, encode, decode, resample and cross queues and threads.  The
   * monitor is looked up when the pipeline goes to PAUSED (the nearest of
   * that name: this bin first, then the bins above); a missing one is
   * reported once as a WARNING message and nothing is measured.  Several
   * spans may start at the same monitor.
   *
   * Since: 0.1
   */
  properties[PROP_SPAN_FROM] = g_param_spec_string ("span-from",
      "Span from", "Name of an upstream apmonitor: measure the latency and "
      "throughput of the stage from it to this one (looked up at PAUSED)",
      NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:span-name:
   *
   * Name of the span in metrics and messages (the `span` label); NULL for
   * "<span-from>-><this monitor's name>".
   *
   * Since: 0.1
   */
  properties[PROP_SPAN_NAME] = g_param_spec_string ("span-name",
      "Span name", "Name of the span measured with span-from (default: "
      "'<span-from>-><name>')", NULL,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:span-latency:
   *
   * Latency of the last buffer through the span, in nanoseconds
   * (GST_CLOCK_TIME_NONE before the first, or without a span).
   *
   * Since: 0.1
   */
  properties[PROP_SPAN_LATENCY] = g_param_spec_uint64 ("span-latency",
      "Span latency", "Wall-clock latency of the last buffer through the "
      "span (ns; none: 18446744073709551615)", 0, G_MAXUINT64,
      GST_CLOCK_TIME_NONE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Audio pipeline monitor", "Filter/Analyzer/Audio",
      "Bit-exact passthrough that measures the audio passing through and "
      "serves it as Prometheus metrics, JSON and a live dashboard",
      "gst-apm developers");

  element_class->change_state = gst_apmonitor_change_state;
  trans_class->set_caps = gst_apmonitor_set_caps;
  trans_class->sink_event = gst_apmonitor_sink_event;
  trans_class->src_event = gst_apmonitor_src_event;
  trans_class->start = gst_apmonitor_start;
  trans_class->stop = gst_apmonitor_stop;
  trans_class->transform_ip = gst_apmonitor_transform_ip;
  trans_class->passthrough_on_same_caps = TRUE;
}

static void
gst_apmonitor_init (GstApMonitor * self)
{
  self->port = APM_DEFAULT_PORT;
  self->address = g_strdup (APM_DEFAULT_ADDRESS);
  self->props.interval = DEFAULT_INTERVAL;
  self->props.post_messages = DEFAULT_POST_MESSAGES;
  self->props.silence_threshold = DEFAULT_SILENCE_THRESHOLD;
  self->props.silence_duration = DEFAULT_SILENCE_DURATION;
  self->props.clip_threshold = DEFAULT_CLIP_THRESHOLD;
  self->props.tolerance = DEFAULT_TOLERANCE;
  self->cur = self->props;
  self->latency = GST_CLOCK_TIME_NONE;
  self->upstream_latency = GST_CLOCK_TIME_NONE;
  self->iv.ts = GST_CLOCK_TIME_NONE;
  self->iv.end_ts = GST_CLOCK_TIME_NONE;
  reset_timing (self);
  gst_audio_info_init (&self->info);
  g_mutex_init (&self->span_lock);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
