/* gst-apm: audio measurements for apmonitor (pure computation)
 *
 * Native-endian S8, S16, S32, F32 and F64 are read in place; every other
 * format is unpacked (GstAudioFormatInfo's unpack function, to S32 or F64)
 * a few hundred frames at a time into a scratch buffer allocated up front.
 */
#include "gstapmaudiostats.h"

#include <math.h>
#include <string.h>

/* level's floor: log10 of 0 is avoided by adding this */
#define EPSILON ((gdouble) 1e-35f)

/* frames unpacked at a time for formats that are not read in place */
#define UNPACK_FRAMES 256

typedef struct
{
  gdouble sum;
  gdouble sum_sq;
  gdouble peak;                 /* max |x| */
  guint64 clipped;
} Acc;

/* Measures @n samples of one channel, @stride samples apart, in the
 * kernel's raw units. */
typedef void (*KernelFunc) (const guint8 * data, gsize stride, gsize n,
    gdouble clip, Acc * acc);

struct _GstApmAudioStats
{
  GstAudioInfo info;
  guint channels;               /* measured */
  gboolean interleaved;
  gsize stride;                 /* samples between frames of a channel */
  gsize bps;                    /* bytes per sample in the stream (width) */
  gboolean unpack;
  KernelFunc kernel;
  guint kbps;                   /* bytes per sample as the kernel reads it */
  gdouble scale;                /* raw kernel unit to full scale */
  guint8 *scratch;

  /* configuration */
  gdouble clip_raw;             /* in raw kernel units */
  gdouble silence_amp;          /* normalised */
  guint64 silence_min_frames;
  gsize block_frames;

  /* the interval */
  guint64 frames;
  Acc acc[GST_APM_AUDIO_STATS_MAX_CHANNELS];    /* normalised */
  guint64 silent_frames;
  guint silent_spans;

  /* silence */
  gsize block_pos;
  gdouble block_peak;           /* normalised, all channels */
  guint64 run_frames;
  gboolean in_silence;
};

#define DEFINE_KERNEL(TYPE)                                                   \
static void                                                                   \
kernel_##TYPE (const guint8 * data, gsize stride, gsize n, gdouble clip,      \
    Acc * acc)                                                                \
{                                                                             \
  const TYPE *p = (const TYPE *) data;                                        \
  gdouble sum = 0.0, sum_sq = 0.0, peak = 0.0;                                \
  guint64 clipped = 0;                                                        \
                                                                              \
  for (gsize i = 0; i < n; i++, p += stride) {                                \
    gdouble x = (gdouble) *p;                                                 \
    gdouble a = fabs (x);                                                     \
                                                                              \
    sum += x;                                                                 \
    sum_sq += x * x;                                                          \
    if (a > peak)                                                             \
      peak = a;                                                               \
    clipped += (a >= clip);                                                   \
  }                                                                           \
  acc->sum = sum;                                                             \
  acc->sum_sq = sum_sq;                                                       \
  acc->peak = peak;                                                           \
  acc->clipped = clipped;                                                     \
}

DEFINE_KERNEL (gint8);
DEFINE_KERNEL (gint16);
DEFINE_KERNEL (gint32);
DEFINE_KERNEL (gfloat);
DEFINE_KERNEL (gdouble);

gdouble
gst_apm_audio_rms_db (gdouble mean_square)
{
  return 20.0 * log10 (sqrt (mean_square) + EPSILON);
}

gdouble
gst_apm_audio_peak_db (gdouble peak_square)
{
  return 10.0 * log10 (peak_square + EPSILON);
}

GstApmAudioStats *
gst_apm_audio_stats_new (const GstAudioInfo * info)
{
  GstApmAudioStats *st;
  const GstAudioFormatInfo *finfo;
  gint channels, rate;

  g_return_val_if_fail (info != NULL, NULL);

  finfo = info->finfo;
  channels = GST_AUDIO_INFO_CHANNELS (info);
  rate = GST_AUDIO_INFO_RATE (info);
  if (!finfo || GST_AUDIO_INFO_FORMAT (info) == GST_AUDIO_FORMAT_UNKNOWN
      || GST_AUDIO_INFO_FORMAT (info) == GST_AUDIO_FORMAT_ENCODED
      || channels <= 0 || rate <= 0 || GST_AUDIO_INFO_BPF (info) <= 0)
    return NULL;

  st = g_new0 (GstApmAudioStats, 1);
  st->info = *info;
  st->channels = MIN (channels, GST_APM_AUDIO_STATS_MAX_CHANNELS);
  st->interleaved =
      GST_AUDIO_INFO_LAYOUT (info) == GST_AUDIO_LAYOUT_INTERLEAVED;
  st->stride = st->interleaved ? (gsize) channels : 1;
  /* not GST_AUDIO_INFO_BPS: that is the depth (2 for S20, 3 for S24_32) */
  st->bps = GST_AUDIO_INFO_WIDTH (info) / 8;
  st->kbps = st->bps;

  switch (GST_AUDIO_INFO_FORMAT (info)) {
    case GST_AUDIO_FORMAT_S8:
      st->kernel = kernel_gint8;
      st->scale = 1.0 / 128.0;
      break;
    case GST_AUDIO_FORMAT_S16:
      st->kernel = kernel_gint16;
      st->scale = 1.0 / 32768.0;
      break;
    case GST_AUDIO_FORMAT_S32:
      st->kernel = kernel_gint32;
      st->scale = 1.0 / 2147483648.0;
      break;
    case GST_AUDIO_FORMAT_F32:
      st->kernel = kernel_gfloat;
      st->scale = 1.0;
      break;
    case GST_AUDIO_FORMAT_F64:
      st->kernel = kernel_gdouble;
      st->scale = 1.0;
      break;
    default:
      /* everything else is unpacked to S32 (integers, MSB aligned, zero
       * low bits) or F64 */
      st->unpack = TRUE;
      if (finfo->unpack_format == GST_AUDIO_FORMAT_F64) {
        st->kernel = kernel_gdouble;
        st->kbps = 8;
        st->scale = 1.0;
      } else {
        st->kernel = kernel_gint32;
        st->kbps = 4;
        st->scale = 1.0 / 2147483648.0;
      }
      st->scratch = g_malloc ((gsize) UNPACK_FRAMES * st->stride * st->kbps);
      break;
  }

  st->block_frames = MAX (1, gst_util_uint64_scale_int
      (GST_APM_AUDIO_STATS_BLOCK_TIME, rate, GST_SECOND));
  gst_apm_audio_stats_configure (st, 0.999, -60.0, 2 * GST_SECOND);
  return st;
}

void
gst_apm_audio_stats_free (GstApmAudioStats * st)
{
  if (!st)
    return;
  g_free (st->scratch);
  g_free (st);
}

void
gst_apm_audio_stats_configure (GstApmAudioStats * st, gdouble clip_threshold,
    gdouble silence_threshold_db, GstClockTime silence_duration)
{
  const GstAudioFormatInfo *finfo = st->info.finfo;

  if (GST_AUDIO_FORMAT_INFO_IS_FLOAT (finfo)) {
    st->clip_raw = clip_threshold;
  } else {
    /* integers: full scale is 2^(depth-1); count from max - 1 at most */
    gdouble fs = ldexp (1.0, finfo->depth - 1);
    gdouble thr = MIN (ceil (clip_threshold * fs), fs - 2.0);

    thr = MAX (thr, 1.0);
    st->clip_raw = thr / fs / st->scale;
  }
  st->silence_amp = pow (10.0, silence_threshold_db / 20.0);
  st->silence_min_frames = GST_CLOCK_TIME_IS_VALID (silence_duration) ?
      gst_util_uint64_scale_int (silence_duration,
      GST_AUDIO_INFO_RATE (&st->info), GST_SECOND) : 0;
}

/* folds a kernel's raw result for channel @c into the interval */
static inline void
fold (GstApmAudioStats * st, guint c, const Acc * k)
{
  Acc *a = &st->acc[c];
  gdouble peak = k->peak * st->scale;

  a->sum += k->sum * st->scale;
  a->sum_sq += k->sum_sq * st->scale * st->scale;
  if (peak > a->peak)
    a->peak = peak;
  if (peak > st->block_peak)
    st->block_peak = peak;
  a->clipped += k->clipped;
}

static void
measure (GstApmAudioStats * st, gpointer const *planes, gsize offset,
    gsize n)
{
  gsize bps = st->bps;
  Acc k;

  if (!st->unpack) {
    for (guint c = 0; c < st->channels; c++) {
      const guint8 *p = st->interleaved ?
          (const guint8 *) planes[0] + (offset * st->stride + c) * bps :
          (const guint8 *) planes[c] + offset * bps;

      st->kernel (p, st->stride, n, st->clip_raw, &k);
      fold (st, c, &k);
    }
    return;
  }

  while (n > 0) {
    gsize m = MIN (n, UNPACK_FRAMES);
    const GstAudioFormatInfo *finfo = st->info.finfo;

    if (st->interleaved) {
      finfo->unpack_func (finfo, GST_AUDIO_PACK_FLAG_TRUNCATE_RANGE,
          st->scratch, (const guint8 *) planes[0] + offset * st->stride * bps,
          m * st->stride);
      for (guint c = 0; c < st->channels; c++) {
        st->kernel (st->scratch + c * st->kbps, st->stride, m, st->clip_raw,
            &k);
        fold (st, c, &k);
      }
    } else {
      for (guint c = 0; c < st->channels; c++) {
        finfo->unpack_func (finfo, GST_AUDIO_PACK_FLAG_TRUNCATE_RANGE,
            st->scratch, (const guint8 *) planes[c] + offset * bps, m);
        st->kernel (st->scratch, 1, m, st->clip_raw, &k);
        fold (st, c, &k);
      }
    }
    offset += m;
    n -= m;
  }
}

/* accounts @n frames to the current silence block */
static void
advance (GstApmAudioStats * st, gsize n)
{
  st->frames += n;
  st->block_pos += n;
  if (st->block_pos < st->block_frames)
    return;

  if (st->block_peak < st->silence_amp) {
    st->run_frames += st->block_pos;
    if (st->in_silence) {
      st->silent_frames += st->block_pos;
    } else if (st->run_frames >= st->silence_min_frames) {
      /* the run qualifies: all of it was silent */
      st->in_silence = TRUE;
      st->silent_spans++;
      st->silent_frames += st->run_frames;
    }
  } else {
    st->run_frames = 0;
    st->in_silence = FALSE;
  }
  st->block_pos = 0;
  st->block_peak = 0.0;
}

void
gst_apm_audio_stats_process (GstApmAudioStats * st, gpointer const *planes,
    gsize offset, gsize n_frames)
{
  while (n_frames > 0) {
    gsize n = MIN (n_frames, st->block_frames - st->block_pos);

    measure (st, planes, offset, n);
    advance (st, n);
    offset += n;
    n_frames -= n;
  }
}

void
gst_apm_audio_stats_process_gap (GstApmAudioStats * st, gsize n_frames)
{
  while (n_frames > 0) {
    gsize n = MIN (n_frames, st->block_frames - st->block_pos);

    advance (st, n);
    n_frames -= n;
  }
}

guint64
gst_apm_audio_stats_frames (const GstApmAudioStats * st)
{
  return st->frames;
}

void
gst_apm_audio_stats_take (GstApmAudioStats * st, GstApmAudioLevels * out)
{
  out->channels = st->channels;
  out->frames = st->frames;
  out->clipped_total = 0;
  for (guint c = 0; c < st->channels; c++) {
    Acc *a = &st->acc[c];
    gdouble n = st->frames ? (gdouble) st->frames : 1.0;

    out->peak_db[c] = gst_apm_audio_peak_db (a->peak * a->peak);
    out->rms_db[c] = gst_apm_audio_rms_db (a->sum_sq / n);
    out->dc_offset[c] = a->sum / n;
    out->clipped[c] = a->clipped;
    out->clipped_total += a->clipped;
    memset (a, 0, sizeof (*a));
  }
  out->silent_frames = st->silent_frames;
  out->silent_spans = st->silent_spans;
  out->silent = st->in_silence;
  st->frames = 0;
  st->silent_frames = 0;
  st->silent_spans = 0;
}

void
gst_apm_audio_stats_reset (GstApmAudioStats * st)
{
  st->frames = 0;
  memset (st->acc, 0, sizeof (st->acc));
  st->silent_frames = 0;
  st->silent_spans = 0;
  st->block_pos = 0;
  st->block_peak = 0.0;
  st->run_frames = 0;
  st->in_silence = FALSE;
}
