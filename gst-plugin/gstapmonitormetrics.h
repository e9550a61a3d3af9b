/* gst-apm: apmonitor's series (the apm_monitor_* metrics)
 *
 * One monitor's series in the registry: per stream (labelled pipeline and
 * monitor), per channel (and channel) on raw audio, and an info series
 * naming the format.  They are created and renamed when the caps arrive
 * (gst_apm_checkpoint_series_update), updated per buffer by the streaming
 * thread with the inline helpers below (no lock, no allocation: a NULL
 * series, one the registry refused, is skipped), and published into once
 * per interval.
 */
#pragma once

#include <gst/gst.h>
#include "apm-service.h"
#include "gstapmaudiostats.h"

G_BEGIN_DECLS

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
} GstApmCheckpointStreamSeries;

/* one series per channel, labelled pipeline, monitor and channel */
typedef enum
{
  C_PEAK,
  C_RMS,
  C_DC_OFFSET,
  C_CLIPPED,
  N_CHANNEL_SERIES
} GstApmCheckpointChannelSeries;

typedef struct
{
  /* the labels they carry, kept across stop/start to tell a rename */
  gchar *label_pipeline, *label_monitor;
  ApmSeries *stream[N_STREAM_SERIES];
  guint n_channels;
  ApmSeries *channel[N_CHANNEL_SERIES][GST_APM_AUDIO_STATS_MAX_CHANNELS];
  ApmSeries *info;
  gchar *info_key;              /* the format info names */
} GstApmCheckpointSeries;

/* Creates the series for the current caps of @monitor: once per stream
 * (again when the pipeline or monitor label changed), per channel when the
 * channel count changes, the info series when the format does.  @raw:
 * raw audio (the audio-only and per-channel series exist); @layout:
 * "interleaved", "non-interleaved", "encoded" or "". */
void gst_apm_checkpoint_series_update (GstApmCheckpointSeries * s,
    GstElement * monitor, gboolean raw, const gchar * format, gint rate,
    gint channels, const gchar * layout);

/* Retires every series (stop); the labels are kept. */
void gst_apm_checkpoint_series_retire (GstApmCheckpointSeries * s);

/* Retires every series and frees the labels (finalize). */
void gst_apm_checkpoint_series_clear (GstApmCheckpointSeries * s);

/* Streaming thread, once per interval: the arrival jitter, the buffer rate
 * (negative: unknown) and, on raw audio, the interval's @levels at sample
 * rate @rate. */
void gst_apm_checkpoint_series_publish (GstApmCheckpointSeries * s,
    gdouble jitter, gdouble buffer_rate, const GstApmAudioLevels * levels,
    gint rate);

/* Streaming thread, per buffer. */
static inline void
gst_apm_checkpoint_series_add (GstApmCheckpointSeries * s,
    GstApmCheckpointStreamSeries i, gint64 n)
{
  if (G_LIKELY (s->stream[i]))
    apm_counter_add_int (s->stream[i], n);
}

G_END_DECLS
