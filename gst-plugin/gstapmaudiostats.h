/* gst-apm: audio measurements for apmonitor (pure computation)
 *
 * Accumulates per-channel peak, RMS, DC offset and clipping over an interval
 * and tracks silence spans, for any raw audio format GstAudioInfo describes,
 * interleaved or not.  No element code: it is given sample pointers and
 * frame counts and can be tested alone.  Everything is allocated by
 * gst_apm_audio_stats_new(); processing never allocates, locks or logs.
 *
 * Levels follow the level element: samples are normalised to full scale
 * (2^(depth-1) for integers, 1.0 for floats), RMS in dB is
 * 20 * log10 (sqrt (mean (x^2)) + 1e-35) and peak in dB is
 * 10 * log10 (max (x^2) + 1e-35), so digital silence reads -700 dB RMS and
 * -350 dB peak, exactly as level reports it.
 */
#pragma once

#include <gst/gst.h>
#include <gst/audio/audio.h>

G_BEGIN_DECLS

/* Channels measured; further channels of a wider stream are ignored. */
#define GST_APM_AUDIO_STATS_MAX_CHANNELS 64

/* Silence is evaluated on blocks of this length, whatever the buffer size. */
#define GST_APM_AUDIO_STATS_BLOCK_TIME (10 * GST_MSECOND)

typedef struct _GstApmAudioStats GstApmAudioStats;

/* One interval's results, filled by gst_apm_audio_stats_take(). */
typedef struct
{
  guint channels;               /* measured channels */
  guint64 frames;               /* frames (samples per channel) measured */
  gdouble peak_db[GST_APM_AUDIO_STATS_MAX_CHANNELS];
  gdouble rms_db[GST_APM_AUDIO_STATS_MAX_CHANNELS];
  gdouble dc_offset[GST_APM_AUDIO_STATS_MAX_CHANNELS];  /* mean, full = 1 */
  guint64 clipped[GST_APM_AUDIO_STATS_MAX_CHANNELS];
  guint64 clipped_total;        /* all measured channels */
  guint64 silent_frames;        /* frames spent in (qualified) silence */
  guint silent_spans;           /* silent spans that began */
  gboolean silent;              /* in silence at the end of the interval */
} GstApmAudioLevels;

/* NULL if @info is not a valid raw audio format. */
GstApmAudioStats *gst_apm_audio_stats_new (const GstAudioInfo * info);
void gst_apm_audio_stats_free (GstApmAudioStats * stats);

/* @clip_threshold: a sample counts as clipped when |x| >= it, as a
 * fraction of full scale; for integer formats the threshold is never above
 * max - 1 (so one step from the rail always counts).
 * @silence_threshold_db: a block is silent when no sample of any measured
 * channel reaches this level (dBFS).
 * @silence_duration: silent blocks must last this long to make a span.
 * Can be called between intervals; takes effect at once. */
void gst_apm_audio_stats_configure (GstApmAudioStats * stats,
    gdouble clip_threshold, gdouble silence_threshold_db,
    GstClockTime silence_duration);

/* Measures @n_frames frames from frame @offset of @planes: one pointer for
 * interleaved data, one per channel otherwise (as in GstAudioBuffer). */
void gst_apm_audio_stats_process (GstApmAudioStats * stats,
    gpointer const *planes, gsize offset, gsize n_frames);

/* Counts @n_frames frames of a GAP buffer as digital silence. */
void gst_apm_audio_stats_process_gap (GstApmAudioStats * stats,
    gsize n_frames);

/* Frames accumulated since the last take. */
guint64 gst_apm_audio_stats_frames (const GstApmAudioStats * stats);

/* Fills @levels with the interval's results and starts a new interval;
 * the silence state carries over. */
void gst_apm_audio_stats_take (GstApmAudioStats * stats,
    GstApmAudioLevels * levels);

/* Forgets everything, silence state included (flush, new stream). */
void gst_apm_audio_stats_reset (GstApmAudioStats * stats);

/* dB as level computes it, for amplitudes normalised to full scale. */
gdouble gst_apm_audio_rms_db (gdouble mean_square);
gdouble gst_apm_audio_peak_db (gdouble peak_square);

G_END_DECLS
