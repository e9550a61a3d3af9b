/* gst-apm tests: apmonitor's audio measurements (gstapmaudiostats.c)
 *
 * The computation alone, without an element: known signals in every raw
 * format and both layouts give the analytic levels, the level element's
 * own formulas give the same dB on random data, and silence, clipping,
 * DC offset and GAP handling follow their definitions.
 */
#include <gst/check/gstcheck.h>
#include <gst/audio/audio.h>
#include <math.h>
#include <string.h>

#include "gstapmaudiostats.h"

#define RATE 48000

static GstApmAudioStats *
stats_new (GstAudioFormat format, GstAudioLayout layout, gint channels)
{
  GstAudioInfo info;
  GstApmAudioStats *st;

  gst_audio_info_set_format (&info, format, RATE, channels, NULL);
  info.layout = layout;
  st = gst_apm_audio_stats_new (&info);
  fail_unless (st != NULL);
  return st;
}

static gdouble
db (gdouble amplitude)
{
  return 20.0 * log10 (amplitude);
}

/* channel 0: 0.5 sin; channel 1: 0.25 sin + 0.125; 1 kHz, 100 periods */
#define SIG_FRAMES 4800

static gdouble
signal_value (guint c, guint i)
{
  gdouble s = sin (2.0 * G_PI * 1000.0 * i / RATE);

  return c == 0 ? 0.5 * s : 0.25 * s + 0.125;
}

/* Packs the test signal in @format: one interleaved plane, or one plane
 * per channel.  Goes through GStreamer's own pack functions. */
static void
pack_signal (const GstAudioFormatInfo * finfo, gboolean planar,
    guint8 ** planes)
{
  gsize width = finfo->width / 8;
  gboolean is_float = finfo->unpack_format == GST_AUDIO_FORMAT_F64;

  for (guint c = 0; c < (planar ? 2u : 1u); c++) {
    guint n = planar ? SIG_FRAMES : SIG_FRAMES * 2;
    gpointer src = g_malloc (n * 8);

    planes[c] = g_malloc (n * width);
    for (guint k = 0; k < n; k++) {
      guint ch = planar ? c : k % 2, i = planar ? k : k / 2;
      gdouble x = signal_value (ch, i);

      if (is_float)
        ((gdouble *) src)[k] = x;
      else
        ((gint32 *) src)[k] = (gint32) lrint (x * 2147483648.0);
    }
    finfo->pack_func (finfo, 0, src, planes[c], n);
    g_free (src);
  }
}

static const struct
{
  GstAudioFormat format;
  GstAudioLayout layout;
} all_formats[] = {
#define BOTH(f) {f, GST_AUDIO_LAYOUT_INTERLEAVED}, \
    {f, GST_AUDIO_LAYOUT_NON_INTERLEAVED}
  BOTH (GST_AUDIO_FORMAT_S8), BOTH (GST_AUDIO_FORMAT_U8),
  BOTH (GST_AUDIO_FORMAT_S16LE), BOTH (GST_AUDIO_FORMAT_S16BE),
  BOTH (GST_AUDIO_FORMAT_U16LE), BOTH (GST_AUDIO_FORMAT_U16BE),
  BOTH (GST_AUDIO_FORMAT_S24_32LE), BOTH (GST_AUDIO_FORMAT_S24_32BE),
  BOTH (GST_AUDIO_FORMAT_U24_32LE), BOTH (GST_AUDIO_FORMAT_U24_32BE),
  BOTH (GST_AUDIO_FORMAT_S32LE), BOTH (GST_AUDIO_FORMAT_S32BE),
  BOTH (GST_AUDIO_FORMAT_U32LE), BOTH (GST_AUDIO_FORMAT_U32BE),
  BOTH (GST_AUDIO_FORMAT_S24LE), BOTH (GST_AUDIO_FORMAT_S24BE),
  BOTH (GST_AUDIO_FORMAT_U24LE), BOTH (GST_AUDIO_FORMAT_U24BE),
  BOTH (GST_AUDIO_FORMAT_S20LE), BOTH (GST_AUDIO_FORMAT_S20BE),
  BOTH (GST_AUDIO_FORMAT_U20LE), BOTH (GST_AUDIO_FORMAT_U20BE),
  BOTH (GST_AUDIO_FORMAT_S18LE), BOTH (GST_AUDIO_FORMAT_S18BE),
  BOTH (GST_AUDIO_FORMAT_U18LE), BOTH (GST_AUDIO_FORMAT_U18BE),
  BOTH (GST_AUDIO_FORMAT_F32LE), BOTH (GST_AUDIO_FORMAT_F32BE),
  BOTH (GST_AUDIO_FORMAT_F64LE), BOTH (GST_AUDIO_FORMAT_F64BE),
#undef BOTH
};

/* Every format and layout: the analytic peak, RMS and DC offset, whether
 * the data is read in place or unpacked, and in one call or many. */
GST_START_TEST (test_all_formats)
{
  GstAudioFormat format = all_formats[__i__].format;
  gboolean planar =
      all_formats[__i__].layout == GST_AUDIO_LAYOUT_NON_INTERLEAVED;
  const GstAudioFormatInfo *finfo = gst_audio_format_get_info (format);
  /* an 8-bit step is 0.4% of 0.25: allow for quantisation */
  gdouble tol = finfo->depth <= 8 ? 0.1 : 0.001;
  gdouble dc_tol = finfo->depth <= 8 ? 0.01 : 1e-4;
  guint8 *planes[2] = { NULL, NULL };
  GstApmAudioStats *st = stats_new (format, all_formats[__i__].layout, 2);
  GstApmAudioLevels l;

  pack_signal (finfo, planar, planes);

  for (guint pass = 0; pass < 2; pass++) {
    if (pass == 0) {
      gst_apm_audio_stats_process (st, (gpointer *) planes, 0, SIG_FRAMES);
    } else {
      /* odd pieces, crossing blocks and unpack chunks */
      for (gsize off = 0; off < SIG_FRAMES; off += 333)
        gst_apm_audio_stats_process (st, (gpointer *) planes, off,
            MIN (333, SIG_FRAMES - off));
    }
    fail_unless_equals_uint64 (gst_apm_audio_stats_frames (st), SIG_FRAMES);
    gst_apm_audio_stats_take (st, &l);

    GST_INFO ("%s %s: peak %f %f rms %f %f dc %g %g", finfo->name,
        planar ? "planar" : "interleaved", l.peak_db[0], l.peak_db[1],
        l.rms_db[0], l.rms_db[1], l.dc_offset[0], l.dc_offset[1]);
    fail_unless_equals_int (l.channels, 2);
    fail_unless_equals_uint64 (l.frames, SIG_FRAMES);
    fail_unless (fabs (l.peak_db[0] - db (0.5)) < tol, "%s: peak %f",
        finfo->name, l.peak_db[0]);
    fail_unless (fabs (l.rms_db[0] - db (0.5 / G_SQRT2)) < tol,
        "%s: rms %f", finfo->name, l.rms_db[0]);
    fail_unless (fabs (l.dc_offset[0]) < dc_tol, "%s: dc %g", finfo->name,
        l.dc_offset[0]);
    fail_unless (fabs (l.peak_db[1] - db (0.375)) < tol, "%s: peak %f",
        finfo->name, l.peak_db[1]);
    fail_unless (fabs (l.rms_db[1] - db (sqrt (0.25 * 0.25 / 2 +
                    0.125 * 0.125))) < tol, "%s: rms %f", finfo->name,
        l.rms_db[1]);
    fail_unless (fabs (l.dc_offset[1] - 0.125) < dc_tol, "%s: dc %g",
        finfo->name, l.dc_offset[1]);
    fail_unless_equals_uint64 (l.clipped_total, 0);
  }

  g_free (planes[0]);
  g_free (planes[1]);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

/* A full-scale sine is -3.01 dBFS RMS and 0 dBFS peak. */
GST_START_TEST (test_full_scale_sine)
{
  GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_F32,
      GST_AUDIO_LAYOUT_INTERLEAVED, 1);
  gfloat *data = g_new (gfloat, RATE);
  gpointer planes[1] = { data };
  GstApmAudioLevels l;

  for (guint i = 0; i < RATE; i++)
    data[i] = sin (2.0 * G_PI * 1000.0 * i / RATE);
  gst_apm_audio_stats_configure (st, 1.0, -60.0, 2 * GST_SECOND);
  gst_apm_audio_stats_process (st, planes, 0, RATE);
  gst_apm_audio_stats_take (st, &l);
  fail_unless (fabs (l.rms_db[0] - (-3.0103)) < 0.001, "rms %f", l.rms_db[0]);
  fail_unless (fabs (l.peak_db[0]) < 0.001, "peak %f", l.peak_db[0]);
  /* the peaks are exactly 1.0: clipped at a threshold of 1.0 */
  fail_unless (l.clipped[0] > 0);

  g_free (data);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

/* The level element's computation (gstlevel.c), for S16 interleaved. */
static void
level_reference (const gint16 * in, guint frames, guint channels, guint c,
    gdouble * rms_db, gdouble * peak_db)
{
  gdouble squaresum = 0.0, peaksquare = 0.0;
  const gdouble normalizer = (gdouble) (G_GINT64_CONSTANT (1) << 30);

  for (guint j = c; j < frames * channels; j += channels) {
    gdouble square = ((gdouble) in[j]) * in[j];

    if (square > peaksquare)
      peaksquare = square;
    squaresum += square;
  }
  *rms_db = 20 * log10 (sqrt (squaresum / normalizer / frames) + 1e-35f);
  *peak_db = 10 * log10 (peaksquare / normalizer + 1e-35f);
}

/* Random S16 at random levels: the same dB as level's own formulas. */
GST_START_TEST (test_level_formulas)
{
  GRand *rand = g_rand_new_with_seed (42);
  GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_S16,
      GST_AUDIO_LAYOUT_INTERLEAVED, 3);

  for (guint round = 0; round < 20; round++) {
    guint frames = g_rand_int_range (rand, 1, 20000);
    gint16 *data = g_new (gint16, frames * 3);
    gpointer planes[1] = { data };
    gint amp = g_rand_int_range (rand, 0, 32768);
    GstApmAudioLevels l;

    for (guint i = 0; i < frames * 3; i++)
      data[i] = amp ? g_rand_int_range (rand, -amp, amp) : 0;
    gst_apm_audio_stats_process (st, planes, 0, frames);
    gst_apm_audio_stats_take (st, &l);
    for (guint c = 0; c < 3; c++) {
      gdouble rms, peak;

      level_reference (data, frames, 3, c, &rms, &peak);
      fail_unless (fabs (l.rms_db[c] - rms) < 1e-9, "rms %f vs level %f",
          l.rms_db[c], rms);
      fail_unless (fabs (l.peak_db[c] - peak) < 1e-9, "peak %f vs level %f",
          l.peak_db[c], peak);
    }
    g_free (data);
  }

  g_rand_free (rand);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

/* Digital silence reads as level reads it: -700 dB RMS, -350 dB peak. */
GST_START_TEST (test_digital_silence_floor)
{
  GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_S16,
      GST_AUDIO_LAYOUT_INTERLEAVED, 2);
  gint16 *data = g_new0 (gint16, 4800 * 2);
  gpointer planes[1] = { data };
  GstApmAudioLevels l;

  gst_apm_audio_stats_process (st, planes, 0, 4800);
  gst_apm_audio_stats_take (st, &l);
  for (guint c = 0; c < 2; c++) {
    fail_unless (fabs (l.rms_db[c] + 700.0) < 1e-3, "rms %f", l.rms_db[c]);
    fail_unless (fabs (l.peak_db[c] + 350.0) < 1e-3, "peak %f",
        l.peak_db[c]);
    fail_unless (l.dc_offset[c] == 0.0);
  }
  g_free (data);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

static guint64
clipped_of (GstAudioFormat format, gdouble threshold, gconstpointer samples,
    guint n)
{
  GstApmAudioStats *st = stats_new (format, GST_AUDIO_LAYOUT_INTERLEAVED, 1);
  gpointer planes[1] = { (gpointer) samples };
  GstApmAudioLevels l;

  gst_apm_audio_stats_configure (st, threshold, -60.0, 2 * GST_SECOND);
  gst_apm_audio_stats_process (st, planes, 0, n);
  gst_apm_audio_stats_take (st, &l);
  gst_apm_audio_stats_free (st);
  fail_unless_equals_uint64 (l.clipped[0], l.clipped_total);
  return l.clipped_total;
}

/* |x| >= threshold x full scale; integers never above max - 1. */
GST_START_TEST (test_clipping)
{
  /* S16: 0.999 x 32768 = 32735.2, so from 32736 */
  const gint16 s16[] = { 32767, -32768, 32766, 32736, 32735, -32736,
    -32735, 0, 1000
  };
  /* S8: 0.999 x 128 = 127.9: capped to max - 1 = 126 */
  const gint8 s8[] = { 127, -128, 126, -126, 125, -125, 0 };
  const gfloat f32[] = { 1.0f, -0.9995f, 0.998f, 1.5f, -2.0f, 0.0f };
  /* S24LE, unpacked: 0.999 x 8388608 = 8380219.4, so from 8380220 */
  const gint32 s24[] = { 8388607, -8388608, 8380220, 8380219, -8380220 };
  const GstAudioFormatInfo *finfo =
      gst_audio_format_get_info (GST_AUDIO_FORMAT_S24LE);
  guint8 s24_packed[G_N_ELEMENTS (s24) * 3];
  gint32 s24_msb[G_N_ELEMENTS (s24)];

  fail_unless_equals_uint64 (clipped_of (GST_AUDIO_FORMAT_S16, 0.999, s16,
          G_N_ELEMENTS (s16)), 5);
  fail_unless_equals_uint64 (clipped_of (GST_AUDIO_FORMAT_S16, 1.0, s16,
          G_N_ELEMENTS (s16)), 3);
  fail_unless_equals_uint64 (clipped_of (GST_AUDIO_FORMAT_S16, 0.5, s16,
          G_N_ELEMENTS (s16)), 7);
  fail_unless_equals_uint64 (clipped_of (GST_AUDIO_FORMAT_S8, 0.999, s8,
          G_N_ELEMENTS (s8)), 4);
  fail_unless_equals_uint64 (clipped_of (GST_AUDIO_FORMAT_F32, 0.999, f32,
          G_N_ELEMENTS (f32)), 4);

  for (guint i = 0; i < G_N_ELEMENTS (s24); i++)
    s24_msb[i] = (gint32) ((guint32) s24[i] << 8);
  finfo->pack_func (finfo, 0, s24_msb, s24_packed, G_N_ELEMENTS (s24));
  fail_unless_equals_uint64 (clipped_of (GST_AUDIO_FORMAT_S24LE, 0.999,
          s24_packed, G_N_ELEMENTS (s24)), 4);
}

GST_END_TEST;

/* Feeds @seconds of F32 mono at @amplitude in pieces of @piece frames. */
static void
feed (GstApmAudioStats * st, gdouble seconds, gdouble amplitude,
    guint piece)
{
  guint frames = (guint) (seconds * RATE);
  gfloat *data = g_new (gfloat, frames);
  gpointer planes[1] = { data };

  for (guint i = 0; i < frames; i++)
    data[i] = amplitude * sin (2.0 * G_PI * 440.0 * i / RATE);
  for (guint off = 0; off < frames; off += piece)
    gst_apm_audio_stats_process (st, planes, off, MIN (piece,
            frames - off));
  g_free (data);
}

/* Silence: below the threshold for at least the duration makes one span,
 * all of whose time counts; shorter quiet stretches do not. */
GST_START_TEST (test_silence)
{
  guint pieces[] = { 480, 441, 4096, 1 };

  for (guint p = 0; p < G_N_ELEMENTS (pieces); p++) {
    GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_F32,
        GST_AUDIO_LAYOUT_INTERLEAVED, 1);
    GstApmAudioLevels l;
    guint piece = pieces[p];

    gst_apm_audio_stats_configure (st, 0.999, -60.0, 2 * GST_SECOND);

    feed (st, 1.0, 0.5, piece);
    gst_apm_audio_stats_take (st, &l);
    fail_if (l.silent);
    fail_unless_equals_int (l.silent_spans, 0);
    fail_unless_equals_uint64 (l.silent_frames, 0);

    /* -80 dBFS for 3 s: a span from 2 s on, with all 3 s of silence */
    feed (st, 3.0, 1e-4, piece);
    gst_apm_audio_stats_take (st, &l);
    fail_unless (l.silent);
    fail_unless_equals_int (l.silent_spans, 1);
    /* the block straddling the end of a piece may not be counted yet */
    fail_unless (l.silent_frames <= 3 * RATE
        && l.silent_frames + RATE / 100 >= 3 * RATE, "%" G_GUINT64_FORMAT,
        l.silent_frames);

    /* loud again: the span ends */
    feed (st, 0.5, 0.5, piece);
    gst_apm_audio_stats_take (st, &l);
    fail_if (l.silent);
    fail_unless_equals_int (l.silent_spans, 0);

    /* 1.5 s of quiet is not long enough */
    feed (st, 1.5, 1e-4, piece);
    gst_apm_audio_stats_take (st, &l);
    fail_if (l.silent);
    fail_unless_equals_int (l.silent_spans, 0);
    fail_unless_equals_uint64 (l.silent_frames, 0);

    /* -50 dBFS is above the threshold: never silent */
    feed (st, 3.0, pow (10, -50 / 20.0), piece);
    gst_apm_audio_stats_take (st, &l);
    fail_if (l.silent);
    fail_unless_equals_int (l.silent_spans, 0);

    /* a lower threshold, a shorter duration */
    gst_apm_audio_stats_configure (st, 0.999, -40.0, GST_SECOND / 2);
    feed (st, 1.0, pow (10, -50 / 20.0), piece);
    gst_apm_audio_stats_take (st, &l);
    fail_unless (l.silent);
    fail_unless_equals_int (l.silent_spans, 1);

    /* reset forgets the span */
    gst_apm_audio_stats_reset (st);
    gst_apm_audio_stats_take (st, &l);
    fail_if (l.silent);
    gst_apm_audio_stats_free (st);
  }
}

GST_END_TEST;

/* Every channel must be quiet: one loud channel prevents silence. */
GST_START_TEST (test_silence_all_channels)
{
  GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_S16,
      GST_AUDIO_LAYOUT_NON_INTERLEAVED, 2);
  gint16 *quiet = g_new0 (gint16, 3 * RATE), *loud = g_new (gint16,
      3 * RATE);
  gpointer planes[2] = { quiet, loud };
  GstApmAudioLevels l;

  for (guint i = 0; i < 3 * RATE; i++)
    loud[i] = (gint16) (10000 * sin (2.0 * G_PI * 440.0 * i / RATE));
  gst_apm_audio_stats_process (st, planes, 0, 3 * RATE);
  gst_apm_audio_stats_take (st, &l);
  fail_if (l.silent);
  fail_unless_equals_int (l.silent_spans, 0);

  planes[1] = quiet;
  gst_apm_audio_stats_process (st, planes, 0, 3 * RATE);
  gst_apm_audio_stats_take (st, &l);
  fail_unless (l.silent);
  fail_unless_equals_int (l.silent_spans, 1);

  g_free (quiet);
  g_free (loud);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

/* GAP buffers count as digital silence: frames, no energy. */
GST_START_TEST (test_gap)
{
  GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_F32,
      GST_AUDIO_LAYOUT_INTERLEAVED, 1);
  GstApmAudioLevels l;

  gst_apm_audio_stats_configure (st, 0.999, -60.0, GST_SECOND);
  gst_apm_audio_stats_process_gap (st, 2 * RATE);
  gst_apm_audio_stats_take (st, &l);
  fail_unless_equals_uint64 (l.frames, 2 * RATE);
  fail_unless (l.rms_db[0] < -600.0);
  fail_unless (l.silent);
  fail_unless_equals_uint64 (l.silent_frames, 2 * RATE);

  /* half signal, half gap: RMS 3 dB below the signal's, as level */
  feed (st, 1.0, 0.5, 480);
  gst_apm_audio_stats_process_gap (st, RATE);
  gst_apm_audio_stats_take (st, &l);
  fail_unless (fabs (l.rms_db[0] - (db (0.5 / G_SQRT2) - 3.0103)) < 0.001,
      "rms %f", l.rms_db[0]);
  fail_unless (fabs (l.peak_db[0] - db (0.5)) < 0.01);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

/* Wide streams: the first 64 channels are measured. */
GST_START_TEST (test_many_channels)
{
  const guint channels = 70, frames = 960;
  GstApmAudioStats *st = stats_new (GST_AUDIO_FORMAT_S16,
      GST_AUDIO_LAYOUT_INTERLEAVED, channels);
  gint16 *data = g_new (gint16, channels * frames);
  gpointer planes[1] = { data };
  GstApmAudioLevels l;

  for (guint i = 0; i < frames; i++)
    for (guint c = 0; c < channels; c++)
      data[i * channels + c] = (i % 2 ? -1 : 1) * (gint16) (c * 256);
  gst_apm_audio_stats_process (st, planes, 0, frames);
  gst_apm_audio_stats_take (st, &l);
  fail_unless_equals_int (l.channels, GST_APM_AUDIO_STATS_MAX_CHANNELS);
  for (guint c = 1; c < GST_APM_AUDIO_STATS_MAX_CHANNELS; c++) {
    gdouble expect = db (c * 256 / 32768.0);

    fail_unless (fabs (l.peak_db[c] - expect) < 1e-9, "ch %u: %f", c,
        l.peak_db[c]);
    fail_unless (fabs (l.rms_db[c] - expect) < 1e-9, "ch %u: %f", c,
        l.rms_db[c]);
  }
  g_free (data);
  gst_apm_audio_stats_free (st);
}

GST_END_TEST;

/* Not raw audio: no stats. */
GST_START_TEST (test_invalid_info)
{
  GstAudioInfo info;

  gst_audio_info_init (&info);
  fail_unless (gst_apm_audio_stats_new (&info) == NULL);
}

GST_END_TEST;

static Suite *
audiostats_suite (void)
{
  Suite *s = suite_create ("audiostats");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_all_formats, 0, G_N_ELEMENTS (all_formats));
  tcase_add_test (tc, test_full_scale_sine);
  tcase_add_test (tc, test_level_formulas);
  tcase_add_test (tc, test_digital_silence_floor);
  tcase_add_test (tc, test_clipping);
  tcase_add_test (tc, test_silence);
  tcase_add_test (tc, test_silence_all_channels);
  tcase_add_test (tc, test_gap);
  tcase_add_test (tc, test_many_channels);
  tcase_add_test (tc, test_invalid_info);
  return s;
}

GST_CHECK_MAIN (audiostats);
