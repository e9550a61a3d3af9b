/* gst-apm: apmonitor's series (the apm_monitor_* metrics) */
#include "gstapmonitormetrics.h"
#include "gstapmwatch.h"

GST_DEBUG_CATEGORY_EXTERN (gst_apm_checkpoint_debug);
#define GST_CAT_DEFAULT gst_apm_checkpoint_debug

typedef struct
{
  const gchar *name;
  ApmMetricType type;
  const gchar *help;
} MetricDef;

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

static inline void
add_int (ApmSeries * s, gint64 n)
{
  if (G_LIKELY (s))
    apm_counter_add_int (s, n);
}

static void
retire_channel_series (GstApmCheckpointSeries * s)
{
  for (guint k = 0; k < N_CHANNEL_SERIES; k++)
    for (guint c = 0; c < s->n_channels; c++)
      g_clear_pointer (&s->channel[k][c], apm_series_retire);
  s->n_channels = 0;
}

void
gst_apm_checkpoint_series_retire (GstApmCheckpointSeries * s)
{
  for (guint i = 0; i < N_STREAM_SERIES; i++)
    g_clear_pointer (&s->stream[i], apm_series_retire);
  retire_channel_series (s);
  g_clear_pointer (&s->info, apm_series_retire);
  g_clear_pointer (&s->info_key, g_free);
}

void
gst_apm_checkpoint_series_clear (GstApmCheckpointSeries * s)
{
  gst_apm_checkpoint_series_retire (s);
  g_clear_pointer (&s->label_pipeline, g_free);
  g_clear_pointer (&s->label_monitor, g_free);
}

void
gst_apm_checkpoint_series_update (GstApmCheckpointSeries * s,
    GstElement * monitor, gboolean raw, const gchar * format, gint rate,
    gint channels, const gchar * layout)
{
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  GstElement *top = gst_apm_watch_find_top (monitor);
  gchar *pipeline, *name, *rate_str, *channels_str, *key;
  const gchar *values[7];
  guint n;

  pipeline = top ? gst_apm_watch_pipeline_label (top) : g_strdup ("");
  if (top)
    gst_object_unref (top);
  name = gst_object_get_name (GST_OBJECT (monitor));
  if (g_strcmp0 (pipeline, s->label_pipeline)
      || g_strcmp0 (name, s->label_monitor))
    gst_apm_checkpoint_series_retire (s);
  g_free (s->label_pipeline);
  g_free (s->label_monitor);
  s->label_pipeline = pipeline;
  s->label_monitor = name;

  values[0] = pipeline;
  values[1] = name;
  values[2] = NULL;
  for (guint i = 0; i < N_STREAM_SERIES; i++) {
    gboolean want = i < S_SAMPLES || raw;

    if (want && !s->stream[i])
      s->stream[i] = new_series (reg, &stream_metrics[i], stream_labels,
          values);
    else if (!want)
      g_clear_pointer (&s->stream[i], apm_series_retire);
  }

  n = raw ? MIN (channels, MAX_CHANNELS) : 0;
  if (n != s->n_channels) {
    retire_channel_series (s);
    for (guint c = 0; c < n; c++) {
      gchar num[16];

      g_snprintf (num, sizeof (num), "%u", c);
      values[2] = num;
      values[3] = NULL;
      for (guint k = 0; k < N_CHANNEL_SERIES; k++)
        s->channel[k][c] = new_series (reg, &channel_metrics[k],
            channel_labels, values);
    }
    s->n_channels = n;
  }

  rate_str = g_strdup_printf ("%d", rate);
  channels_str = g_strdup_printf ("%d", channels);
  key = g_strjoin ("\n", format, rate_str, channels_str, layout, NULL);
  if (g_strcmp0 (key, s->info_key)) {
    g_clear_pointer (&s->info, apm_series_retire);
    values[2] = format;
    values[3] = rate_str;
    values[4] = channels_str;
    values[5] = layout;
    values[6] = NULL;
    s->info = new_series (reg, &info_metric, info_labels, values);
    set_gauge (s->info, 1.0);
    g_free (s->info_key);
    s->info_key = key;
  } else {
    g_free (key);
  }
  g_free (rate_str);
  g_free (channels_str);
}

void
gst_apm_checkpoint_series_publish (GstApmCheckpointSeries * s, gdouble jitter,
    gdouble buffer_rate, const GstApmAudioLevels * l, gint rate)
{
  guint64 samples;

  set_gauge (s->stream[S_JITTER], jitter);
  if (buffer_rate >= 0.0)
    set_gauge (s->stream[S_BUFFER_RATE], buffer_rate);
  if (!l)
    return;

  for (guint c = 0; c < l->channels && c < s->n_channels; c++) {
    set_gauge (s->channel[C_PEAK][c], l->peak_db[c]);
    set_gauge (s->channel[C_RMS][c], l->rms_db[c]);
    set_gauge (s->channel[C_DC_OFFSET][c], l->dc_offset[c]);
    add_int (s->channel[C_CLIPPED][c], l->clipped[c]);
  }
  samples = l->frames * l->channels;
  set_gauge (s->stream[S_CLIPPED_RATIO],
      samples ? (gdouble) l->clipped_total / samples : 0.0);
  set_gauge (s->stream[S_SILENT], l->silent ? 1.0 : 0.0);
  if (l->silent_frames && s->stream[S_SILENCE_SECONDS])
    apm_series_add (s->stream[S_SILENCE_SECONDS],
        (gdouble) l->silent_frames / rate);
  add_int (s->stream[S_SILENT_SPANS], l->silent_spans);
}
