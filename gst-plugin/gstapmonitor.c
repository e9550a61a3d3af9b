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
#include "gstapmonitorprivate.h"

#include <gst/audio/audio.h>

GST_DEBUG_CATEGORY (gst_apm_checkpoint_debug);
#define GST_CAT_DEFAULT gst_apm_checkpoint_debug

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

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static gpointer gst_apm_checkpoint_parent_class = NULL;
static void gst_apm_checkpoint_class_init (GstApmCheckpointClass * klass);
static void gst_apm_checkpoint_init (GstApmCheckpoint * self);

static void
gst_apm_checkpoint_class_intern_init (gpointer klass)
{
  gst_apm_checkpoint_parent_class = g_type_class_peek_parent (klass);
  gst_apm_checkpoint_class_init ((GstApmCheckpointClass *) klass);
}

/* G_DEFINE_TYPE, but registered under the GType name GstApMonitor (which
 * gst-inspect shows) rather than the C type's name. */
GType
gst_apm_checkpoint_get_type (void)
{
  static gsize type = 0;

  if (g_once_init_enter (&type)) {
    GType t = g_type_register_static_simple (GST_TYPE_BASE_TRANSFORM,
        g_intern_static_string ("GstApMonitor"),
        sizeof (GstApmCheckpointClass),
        (GClassInitFunc) (void (*)(void)) gst_apm_checkpoint_class_intern_init,
        sizeof (GstApmCheckpoint),
        (GInstanceInitFunc) (void (*)(void)) gst_apm_checkpoint_init, 0);

    g_once_init_leave (&type, t);
  }
  return type;
}

GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (apmonitor, "apmonitor", GST_RANK_NONE,
    GST_TYPE_APM_CHECKPOINT,
    GST_DEBUG_CATEGORY_INIT (gst_apm_checkpoint_debug, "apmonitor", 0,
        "audio pipeline monitor checkpoint"));

static const gchar *
layout_name (GstApmCheckpoint * self)
{
  if (self->stats)
    return GST_AUDIO_INFO_LAYOUT (&self->info) ==
        GST_AUDIO_LAYOUT_INTERLEAVED ? "interleaved" : "non-interleaved";
  if (self->format && g_str_has_prefix (self->format, "audio/"))
    return "encoded";
  return "";
}

/* Copies the properties for the streaming thread: at caps, and on the
 * next buffer after a property changed. */
static void
load_settings (GstApmCheckpoint * self)
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


static GstFlowReturn
gst_apm_checkpoint_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (trans);
  GstClockTime now = gst_util_get_timestamp ();
  GstClockTime duration = GST_BUFFER_DURATION (buf);
  gsize size = gst_buffer_get_size (buf);
  gsize frames = 0;

  if (G_UNLIKELY (g_atomic_int_get (&self->settings_changed))) {
    g_atomic_int_set (&self->settings_changed, 0);
    load_settings (self);
  }

  gst_apm_checkpoint_series_add (&self->series, S_BUFFERS, 1);
  gst_apm_checkpoint_series_add (&self->series, S_BYTES, size);

  if (self->stats) {
    gint rate = GST_AUDIO_INFO_RATE (&self->info);

    frames = size / GST_AUDIO_INFO_BPF (&self->info);
    if (frames == 0 && GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_GAP)
        && GST_CLOCK_TIME_IS_VALID (duration))
      frames = GST_CLOCK_TIME_TO_FRAMES (duration, rate);
    if (!GST_CLOCK_TIME_IS_VALID (duration))
      duration = GST_FRAMES_TO_CLOCK_TIME (frames, rate);
  }

  gst_apm_checkpoint_check_timing (self, buf, now, duration);
  gst_apm_checkpoint_track_span (self, buf, now, size, duration);

  if (self->stats) {
    gst_apm_checkpoint_measure_audio (self, buf, frames, now);
  } else if (GST_CLOCK_TIME_IS_VALID (self->iv.ts)
      && GST_CLOCK_TIME_IS_VALID (self->iv.end_ts)) {
    if (self->iv.end_ts >= self->iv.ts + self->cur.interval)
      gst_apm_checkpoint_publish (self, now);
  } else if (now >= self->iv.wall_start + self->cur.interval) {
    gst_apm_checkpoint_publish (self, now);
  }
  return GST_FLOW_OK;
}

static void
parse_caps (GstApmCheckpoint * self, GstCaps * caps)
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
gst_apm_checkpoint_set_caps (GstBaseTransform * trans, GstCaps * incaps,
    GstCaps * outcaps)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (trans);
  GstQuery *query;

  if (self->caps && gst_caps_is_equal (self->caps, incaps))
    return TRUE;

  /* the interval so far belongs to the old format */
  gst_apm_checkpoint_publish_pending (self);

  if (self->caps)
    gst_apm_checkpoint_series_add (&self->series, S_CAPS_CHANGES, 1);
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
  gst_apm_checkpoint_series_update (&self->series, GST_ELEMENT (self),
      self->stats != NULL, self->format, self->rate, self->channels,
      layout_name (self));
  /* a monitor added while the pipeline runs: its span origin is looked up
   * now, with its first caps */
  gst_apm_checkpoint_resolve_span (self, TRUE);
  GST_DEBUG_OBJECT (self, "caps %" GST_PTR_FORMAT ", live %d", incaps,
      self->live);
  return TRUE;
}

static gboolean
gst_apm_checkpoint_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      gst_apm_checkpoint_publish_pending (self);
      break;
    case GST_EVENT_FLUSH_STOP:
      if (self->stats)
        gst_apm_audio_stats_reset (self->stats);
      self->iv.ts = GST_CLOCK_TIME_NONE;
      gst_apm_checkpoint_reset_interval (self, gst_util_get_timestamp ());
      gst_apm_checkpoint_reset_timing (self);
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
      gst_apm_checkpoint_reset_timing (self);
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
  return GST_BASE_TRANSFORM_CLASS (gst_apm_checkpoint_parent_class)->sink_event
      (trans, event);
}

static gboolean
gst_apm_checkpoint_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (trans);

  if (GST_EVENT_TYPE (event) == GST_EVENT_LATENCY) {
    GstClockTime latency;

    gst_event_parse_latency (event, &latency);
    GST_DEBUG_OBJECT (self, "pipeline latency %" GST_TIME_FORMAT,
        GST_TIME_ARGS (latency));
    __atomic_store_n (&self->latency, latency, __ATOMIC_RELAXED);
  }
  return GST_BASE_TRANSFORM_CLASS (gst_apm_checkpoint_parent_class)->src_event
      (trans, event);
}

static gboolean
gst_apm_checkpoint_start (GstBaseTransform * trans)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (trans);
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
  gst_apm_checkpoint_reset_interval (self, gst_util_get_timestamp ());
  gst_apm_checkpoint_reset_timing (self);
  gst_apm_jitter_init (&self->jitter);
  load_settings (self);
  return TRUE;
}

static gboolean
gst_apm_checkpoint_stop (GstBaseTransform * trans)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (trans);

  gst_apm_checkpoint_series_retire (&self->series);
  gst_apm_checkpoint_drop_clock (self);
  g_clear_pointer (&self->stats, gst_apm_audio_stats_free);
  gst_caps_replace (&self->caps, NULL);
  g_clear_pointer (&self->format, g_free);
  self->rate = self->channels = 0;
  return TRUE;
}

/* --- properties --- */

void
gst_apm_checkpoint_notify_silent (GstApmCheckpoint * self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SILENT]);
}

static void
gst_apm_checkpoint_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (object);

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
gst_apm_checkpoint_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (object);

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

static GstStateChangeReturn
gst_apm_checkpoint_change_state (GstElement * element,
    GstStateChange transition)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (element);
  GstStateChangeReturn ret;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      || transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    gst_apm_checkpoint_watch (self);
  /* before streaming starts; the first caps try again */
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    gst_apm_checkpoint_resolve_span (self, FALSE);
  if (transition == GST_STATE_CHANGE_PLAYING_TO_PAUSED)
    gst_apm_checkpoint_clock_changed (self, FALSE);

  ret = GST_ELEMENT_CLASS (gst_apm_checkpoint_parent_class)->change_state
      (element, transition);

  /* the base time and clock of this run are set by now */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING
      && ret != GST_STATE_CHANGE_FAILURE)
    gst_apm_checkpoint_clock_changed (self, TRUE);

  /* streaming has stopped */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    gst_apm_checkpoint_release_span (self);
  return ret;
}

static gboolean
gst_apm_checkpoint_set_clock (GstElement * element, GstClock * clock)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (element);
  gboolean ok = GST_ELEMENT_CLASS (gst_apm_checkpoint_parent_class)->set_clock
      (element, clock);

  gst_apm_checkpoint_clock_changed (self,
      g_atomic_int_get (&self->playing));
  return ok;
}

static void
gst_apm_checkpoint_finalize (GObject * object)
{
  GstApmCheckpoint *self = GST_APM_CHECKPOINT (object);

  gst_apm_checkpoint_series_clear (&self->series);
  gst_clear_object (&self->stream_clock);
  gst_apm_checkpoint_release_span (self);
  gst_apm_span_origin_unref (self->origin);
  g_mutex_clear (&self->span_lock);
  g_free (self->span_from);
  g_free (self->span_name);
  gst_apm_audio_stats_free (self->stats);
  gst_caps_replace (&self->caps, NULL);
  g_free (self->format);
  g_free (self->address);
  G_OBJECT_CLASS (gst_apm_checkpoint_parent_class)->finalize (object);
}

static void
gst_apm_checkpoint_class_init (GstApmCheckpointClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_apm_checkpoint_set_property;
  gobject_class->get_property = gst_apm_checkpoint_get_property;
  gobject_class->finalize = gst_apm_checkpoint_finalize;

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

  element_class->change_state = gst_apm_checkpoint_change_state;
  element_class->set_clock = gst_apm_checkpoint_set_clock;
  trans_class->set_caps = gst_apm_checkpoint_set_caps;
  trans_class->sink_event = gst_apm_checkpoint_sink_event;
  trans_class->src_event = gst_apm_checkpoint_src_event;
  trans_class->start = gst_apm_checkpoint_start;
  trans_class->stop = gst_apm_checkpoint_stop;
  trans_class->transform_ip = gst_apm_checkpoint_transform_ip;
  trans_class->passthrough_on_same_caps = TRUE;
}

static void
gst_apm_checkpoint_init (GstApmCheckpoint * self)
{
  self->stream_clock_gen = -1;        /* take the clock at the first check */
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
  gst_apm_checkpoint_reset_timing (self);
  gst_audio_info_init (&self->info);
  g_mutex_init (&self->span_lock);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
