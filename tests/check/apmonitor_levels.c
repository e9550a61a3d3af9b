/* gst-apm tests: what apmonitor measures
 *
 * Levels agree with the level element on the same buffers; silence,
 * clipping (after `volume volume=10`), timestamp gaps and overlaps, DISCONT,
 * late buffers of a live stream (a test clock), caps changes and encoded
 * streams show in the bus messages, the read-only properties and the
 * metrics of the process-wide registry.
 *
 * Most tests use GstHarness (the element is in no pipeline: the HTTP
 * service does not start, series are labelled pipeline=""); one runs a
 * real pipeline, which starts the service: run with CK_FORK=no.
 */
#define GLIB_DISABLE_DEPRECATION_WARNINGS       /* GValueArray, as level */

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/audio/audio.h>
#include <math.h>
#include <string.h>

#include "apm-service.h"

#define S16_STEREO "audio/x-raw,format=S16LE,layout=interleaved," \
    "rate=48000,channels=2,channel-mask=(bitmask)0x3"
#define S16_MONO "audio/x-raw,format=S16LE,layout=interleaved," \
    "rate=48000,channels=1"

/* --- helpers --- */

static GstHarness *
monitor_harness (void)
{
  GstHarness *h = gst_harness_new ("apmonitor");
  GstBus *bus = gst_bus_new ();

  gst_element_set_bus (h->element, bus);
  gst_object_unref (bus);
  return h;
}

/* Drops the bus first: its messages hold the element, which holds it. */
static void
teardown (GstHarness * h)
{
  gst_element_set_bus (h->element, NULL);
  gst_harness_teardown (h);
}

/* The "apmonitor" (or "level") element messages posted so far. */
static GPtrArray *
pop_messages (GstElement * element, const gchar * name)
{
  GPtrArray *msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_message_unref);
  GstBus *bus = gst_element_get_bus (element);
  GstMessage *m;

  while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (m, name))
      g_ptr_array_add (msgs, m);
    else
      gst_message_unref (m);
  }
  gst_object_unref (bus);
  return msgs;
}

static const GstStructure *
msg_s (GPtrArray * msgs, guint i)
{
  return gst_message_get_structure (g_ptr_array_index (msgs, i));
}

static gdouble
array_double (const GstStructure * s, const gchar * field, guint i)
{
  const GValue *v = gst_structure_get_value (s, field);
  GValueArray *arr;

  fail_unless (v != NULL, "no field %s", field);
  fail_unless (G_VALUE_HOLDS (v, G_TYPE_VALUE_ARRAY));
  arr = g_value_get_boxed (v);
  fail_unless (i < arr->n_values);
  return g_value_get_double (g_value_array_get_nth (arr, i));
}

static guint
array_len (const GstStructure * s, const gchar * field)
{
  const GValue *v = gst_structure_get_value (s, field);

  return ((GValueArray *) g_value_get_boxed (v))->n_values;
}

static guint64
get_u64 (const GstStructure * s, const gchar * field)
{
  guint64 v;

  fail_unless (gst_structure_get_uint64 (s, field, &v), "no field %s",
      field);
  return v;
}

/* Sums a uint64 field over all messages. */
static guint64
sum_u64 (GPtrArray * msgs, const gchar * field)
{
  guint64 sum = 0;

  for (guint i = 0; i < msgs->len; i++)
    sum += get_u64 (msg_s (msgs, i), field);
  return sum;
}

typedef struct
{
  const gchar *family;
  const gchar *const *values;
  guint found;
  gdouble value;
} Lookup;

static void
lookup_func (const gchar * name, ApmMetricType type, const gchar * help,
    const gchar * const *label_names, GPtrArray * series, gpointer user_data)
{
  Lookup *lk = user_data;

  if (strcmp (name, lk->family))
    return;
  for (guint i = 0; i < series->len; i++) {
    ApmSeries *s = g_ptr_array_index (series, i);
    const gchar *const *lv = apm_series_label_values (s);
    guint n = 0;

    if (!lv || __atomic_load_n (&s->retired_at, __ATOMIC_RELAXED))
      continue;
    while (lk->values[n] && lv[n] && !strcmp (lk->values[n], lv[n]))
      n++;
    if (!lk->values[n] && !lv[n]) {
      lk->found++;
      lk->value = apm_series_value (s);
    }
  }
}

/* The value of the live series of @family with exactly @values. */
static gboolean
series_value (const gchar * family, const gchar * const *values,
    gdouble * value)
{
  Lookup lk = { family, values, 0, 0.0 };

  apm_registry_foreach (apm_service_get_registry (apm_service_get_default
          ()), lookup_func, &lk);
  fail_unless (lk.found <= 1, "duplicate series of %s", family);
  if (lk.found && value)
    *value = lk.value;
  return lk.found == 1;
}

/* A series of a harnessed monitor (pipeline=""), optionally per channel. */
static gdouble
metric (GstHarness * h, const gchar * family, const gchar * channel)
{
  const gchar *values[] = { "", GST_OBJECT_NAME (h->element), channel,
    NULL
  };
  gdouble v = 0.0;

  fail_unless (series_value (family, values, &v), "no series %s{%s}",
      family, channel ? channel : "");
  return v;
}

static gboolean
has_metric (GstHarness * h, const gchar * family, const gchar * channel)
{
  const gchar *values[] = { "", GST_OBJECT_NAME (h->element), channel,
    NULL
  };

  return series_value (family, values, NULL);
}

static guint64
prop_u64 (GstHarness * h, const gchar * name)
{
  guint64 v;

  g_object_get (h->element, name, &v, NULL);
  return v;
}

/* @frames of S16 (@channels, all alike) at @amplitude (full scale 1.0). */
static GstBuffer *
s16_buffer_ch (guint frames, guint channels, gdouble amplitude,
    GstClockTime pts)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, frames * channels * 2,
      NULL);
  GstMapInfo map;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (guint i = 0; i < frames; i++)
    for (guint c = 0; c < channels; c++)
      ((gint16 *) map.data)[i * channels + c] = (gint16) lrint (amplitude *
          32767.0 * sin (2.0 * G_PI * 1000.0 * i / 48000));
  gst_buffer_unmap (buf, &map);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_int (frames, GST_SECOND,
      48000);
  return buf;
}

static GstBuffer *
s16_buffer (guint frames, gdouble amplitude, GstClockTime pts)
{
  return s16_buffer_ch (frames, 1, amplitude, pts);
}

static GstBuffer *
zeros (gsize size)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);

  gst_buffer_memset (buf, 0, 0, size);
  return buf;
}

/* --- levels against the level element --- */

static const struct
{
  const gchar *format;
  const gchar *wave;
} level_cases[] = {
  {"S16LE", "sine"}, {"S16LE", "pink-noise"}, {"S8", "square"},
  {"S32LE", "white-noise"}, {"F32LE", "saw"}, {"F64LE", "sine"},
  {"S16LE", "silence"},
};

/* The same buffers through apmonitor and level: the same dB, interval by
 * interval (level's own interval and framing). */
GST_START_TEST (test_levels_match_level)
{
  GstHarness *h = monitor_harness (), *hl = gst_harness_new ("level");
  GstBus *bus = gst_bus_new ();
  GPtrArray *ours, *theirs;
  gchar *src;
  GstCaps *caps;

  gst_element_set_bus (hl->element, bus);
  gst_object_unref (bus);
  src = g_strdup_printf ("audiotestsrc num-buffers=45 wave=%s volume=0.6 "
      "samplesperbuffer=1000 ! capsfilter caps=\"audio/x-raw,format=%s,"
      "rate=44100,channels=2\"", level_cases[__i__].wave,
      level_cases[__i__].format);
  gst_harness_add_src_parse (h, src, FALSE);
  g_free (src);

  fail_unless_equals_int (gst_harness_src_crank_and_push_many (h, 0, 45),
      GST_FLOW_OK);
  caps = gst_pad_get_current_caps (h->sinkpad);
  gst_harness_set_src_caps (hl, caps);
  for (guint i = 0; i < 45; i++)
    fail_unless_equals_int (gst_harness_push (hl, gst_harness_pull (h)),
        GST_FLOW_OK);

  ours = pop_messages (h->element, "apmonitor");
  theirs = pop_messages (hl->element, "level");
  /* 45000 frames at 44100 Hz: ten full intervals of 100 ms */
  fail_unless_equals_int (ours->len, 10);
  fail_unless_equals_int (theirs->len, 10);
  for (guint i = 0; i < ours->len; i++) {
    const GstStructure *a = msg_s (ours, i), *b = msg_s (theirs, i);

    fail_unless_equals_uint64 (get_u64 (a, "timestamp"),
        get_u64 (b, "timestamp"));
    fail_unless_equals_uint64 (get_u64 (a, "duration"),
        get_u64 (b, "duration"));
    fail_unless_equals_int (array_len (a, "peak"), 2);
    for (guint c = 0; c < 2; c++) {
      gdouble dp = array_double (a, "peak", c) - array_double (b, "peak", c);
      gdouble dr = array_double (a, "rms", c) - array_double (b, "rms", c);

      /* well within the 0.5 dB asked for: the formulas are level's */
      fail_unless (fabs (dp) < 1e-6 && fabs (dr) < 1e-6,
          "%s %s interval %u ch %u: peak %f/%f rms %f/%f",
          level_cases[__i__].format, level_cases[__i__].wave, i, c,
          array_double (a, "peak", c), array_double (b, "peak", c),
          array_double (a, "rms", c), array_double (b, "rms", c));
    }
  }

  g_ptr_array_unref (ours);
  g_ptr_array_unref (theirs);
  teardown (hl);
  teardown (h);
}

GST_END_TEST;

/* A real pipeline, apmonitor then level: the messages agree, running time
 * included, and a full-scale sine reads -3.01 dBFS RMS.  Starts the
 * process-wide service (port 0). */
GST_START_TEST (test_pipeline_with_level)
{
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *m;
  GPtrArray *ours = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_message_unref);
  GPtrArray *theirs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_message_unref);
  GError *error = NULL;
  gboolean eos = FALSE;

  pipeline = gst_parse_launch ("audiotestsrc num-buffers=50 volume=1.0 "
      "freq=1000 ! audio/x-raw,format=F32LE,rate=48000,channels=1 ! "
      "apmonitor name=mon port=0 quiet=true interval=50000000 ! "
      "level interval=50000000 ! fakesink sync=false", &error);
  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  bus = gst_element_get_bus (pipeline);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_ASYNC);
  while (!eos && (m = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
              GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      fail ("error from %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (m)));
    eos = GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
    if (gst_message_has_name (m, "apmonitor"))
      g_ptr_array_add (ours, gst_message_ref (m));
    else if (gst_message_has_name (m, "level"))
      g_ptr_array_add (theirs, gst_message_ref (m));
    gst_message_unref (m);
  }
  fail_unless (eos, "no EOS");

  /* 50 x 1024 frames = 1.067 s: 21 intervals of 50 ms and the rest */
  fail_unless (ours->len >= 21, "%u messages", ours->len);
  fail_unless_equals_int (ours->len, theirs->len);
  for (guint i = 0; i < 21; i++) {
    const GstStructure *a = msg_s (ours, i), *b = msg_s (theirs, i);

    fail_unless_equals_uint64 (get_u64 (a, "running-time"),
        get_u64 (b, "running-time"));
    fail_unless (fabs (array_double (a, "rms", 0) -
            array_double (b, "rms", 0)) < 0.5);
    fail_unless (fabs (array_double (a, "peak", 0) -
            array_double (b, "peak", 0)) < 0.5);
    fail_unless (fabs (array_double (a, "rms", 0) - (-3.0103)) < 0.01,
        "rms %f", array_double (a, "rms", 0));
    fail_unless (fabs (array_double (a, "peak", 0)) < 0.01);
    fail_unless_equals_string (gst_structure_get_string (a, "format"),
        "F32LE");
  }

  {
    const gchar *values[] = { GST_OBJECT_NAME (pipeline), "mon", NULL };
    gdouble v;

    fail_unless (series_value ("apm_monitor_buffers_total", values, &v));
    fail_unless_equals_int ((gint) v, 50);
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_ptr_array_unref (ours);
  g_ptr_array_unref (theirs);
}

GST_END_TEST;

/* Planar audio (GstAudioMeta): each channel measured on its own plane. */
GST_START_TEST (test_planar)
{
  GstHarness *h = monitor_harness ();
  GstAudioInfo info;
  GstBuffer *buf;
  GstMapInfo map;
  GPtrArray *msgs;
  const guint frames = 4800;

  gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
      "layout=non-interleaved,rate=48000,channels=2,"
      "channel-mask=(bitmask)0x3");
  gst_audio_info_set_format (&info, GST_AUDIO_FORMAT_F32LE, 48000, 2, NULL);
  info.layout = GST_AUDIO_LAYOUT_NON_INTERLEAVED;
  buf = gst_buffer_new_allocate (NULL, frames * 2 * 4, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (guint i = 0; i < frames; i++) {
    gdouble s = sin (2.0 * G_PI * 1000.0 * i / 48000);

    ((gfloat *) map.data)[i] = 0.5 * s;
    ((gfloat *) map.data)[frames + i] = 0.25 * s;
  }
  gst_buffer_unmap (buf, &map);
  gst_buffer_add_audio_meta (buf, &info, frames, NULL);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 100 * GST_MSECOND;
  fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);

  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 1);
  fail_unless (fabs (array_double (msg_s (msgs, 0), "peak", 0) -
          20 * log10 (0.5)) < 0.001);
  fail_unless (fabs (array_double (msg_s (msgs, 0), "peak", 1) -
          20 * log10 (0.25)) < 0.001);
  fail_unless (fabs (metric (h, "apm_monitor_rms_dbfs", "1") -
          20 * log10 (0.25 / G_SQRT2)) < 0.001);
  {
    const gchar *values[] = { "", GST_OBJECT_NAME (h->element), "F32LE",
      "48000", "2", "non-interleaved", NULL
    };
    gdouble v;

    fail_unless (series_value ("apm_monitor_info", values, &v));
    fail_unless_equals_int ((gint) v, 1);
  }
  g_ptr_array_unref (msgs);
  teardown (h);
}

GST_END_TEST;

/* --- silence, clipping --- */

static void
on_notify (GObject * object, GParamSpec * pspec, gpointer user_data)
{
  (*(gint *) user_data)++;
}

/* 3 s of audiotestsrc wave=silence: one silent span of 3 s (the property,
 * a notification, the messages and the metrics); sound ends it. */
GST_START_TEST (test_silence_detected)
{
  GstHarness *h = monitor_harness ();
  GPtrArray *msgs;
  const GstStructure *last;
  gint notified = 0;
  gboolean silent;

  g_object_set (h->element, "silence-duration", GST_SECOND, NULL);
  g_signal_connect (h->element, "notify::silent", G_CALLBACK (on_notify),
      &notified);
  gst_harness_add_src_parse (h, "audiotestsrc num-buffers=300 wave=silence "
      "samplesperbuffer=480 ! capsfilter caps=\"" S16_STEREO "\"", FALSE);
  fail_unless_equals_int (gst_harness_src_crank_and_push_many (h, 0, 300),
      GST_FLOW_OK);

  g_object_get (h->element, "silent", &silent, NULL);
  fail_unless (silent);
  fail_unless_equals_int (notified, 1);
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 30);
  last = msg_s (msgs, msgs->len - 1);
  fail_unless (gst_structure_get_boolean (last, "silent", &silent));
  fail_unless (silent);
  fail_unless (array_double (last, "rms", 0) < -600.0);
  fail_unless_equals_uint64 (sum_u64 (msgs, "silent-time"), 3 * GST_SECOND);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_silent", NULL), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_silent_spans_total",
          NULL), 1);
  fail_unless (fabs (metric (h, "apm_monitor_silence_seconds_total",
              NULL) - 3.0) < 1e-6);
  g_ptr_array_unref (msgs);

  /* sound: no longer silent */
  for (guint i = 0; i < 10; i++)
    gst_harness_push (h, s16_buffer_ch (480, 2, 0.5,
            3 * GST_SECOND + i * 10 * GST_MSECOND));
  g_object_get (h->element, "silent", &silent, NULL);
  fail_if (silent);
  fail_unless_equals_int (notified, 2);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_silent", NULL), 0);
  teardown (h);
}

GST_END_TEST;

/* S16 after volume volume=10 clips: counted per channel and in all. */
GST_START_TEST (test_clipping_after_volume)
{
  GstHarness *h = monitor_harness ();
  GPtrArray *msgs;
  guint64 clipped = prop_u64 (h, "clipped-samples");

  fail_unless_equals_uint64 (clipped, 0);
  gst_harness_add_src_parse (h, "audiotestsrc num-buffers=20 "
      "samplesperbuffer=480 ! capsfilter caps=\"" S16_STEREO "\" ! "
      "volume volume=10", FALSE);
  fail_unless_equals_int (gst_harness_src_crank_and_push_many (h, 0, 20),
      GST_FLOW_OK);

  clipped = prop_u64 (h, "clipped-samples");
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 2);
  /* a sine at 0.8 x 10: |x| >= 0.999 for about 92% of samples */
  fail_unless (clipped > 0.85 * 9600 * 2 && clipped < 0.97 * 9600 * 2,
      "%" G_GUINT64_FORMAT, clipped);
  fail_unless_equals_uint64 (sum_u64 (msgs, "clipped"), clipped);
  fail_unless_equals_uint64 ((guint64) (metric (h,
              "apm_monitor_clipped_samples_total", "0") + metric (h,
              "apm_monitor_clipped_samples_total", "1")), clipped);
  fail_unless (metric (h, "apm_monitor_clipped_ratio", NULL) > 0.85);
  fail_unless (array_double (msg_s (msgs, 1), "peak", 0) > -0.01);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_samples_total",
          NULL), 9600);
  g_ptr_array_unref (msgs);
  teardown (h);
}

GST_END_TEST;

/* Without volume: nothing clips. */
GST_START_TEST (test_no_clipping)
{
  GstHarness *h = monitor_harness ();

  gst_harness_add_src_parse (h, "audiotestsrc num-buffers=20 "
      "samplesperbuffer=480 ! capsfilter caps=\"" S16_STEREO "\"", FALSE);
  fail_unless_equals_int (gst_harness_src_crank_and_push_many (h, 0, 20),
      GST_FLOW_OK);
  fail_unless_equals_uint64 (prop_u64 (h, "clipped-samples"), 0);
  fail_unless_equals_int ((gint) metric (h,
          "apm_monitor_clipped_samples_total", "0"), 0);
  teardown (h);
}

GST_END_TEST;

/* A GAP buffer is silence whatever its bytes hold. */
GST_START_TEST (test_gap_buffer)
{
  GstHarness *h = monitor_harness ();
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 4800 * 2, NULL);
  GPtrArray *msgs;

  gst_harness_set_src_caps_str (h, S16_MONO);
  gst_buffer_memset (buf, 0, 0x7f, 4800 * 2);
  GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  GST_BUFFER_PTS (buf) = 0;
  GST_BUFFER_DURATION (buf) = 100 * GST_MSECOND;
  gst_harness_push (h, buf);
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 1);
  fail_unless (array_double (msg_s (msgs, 0), "peak", 0) < -300.0);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "clipped"), 0);
  g_ptr_array_unref (msgs);
  teardown (h);
}

GST_END_TEST;

/* --- timing --- */

#define MS GST_MSECOND

/* Buffers of 10 ms with one gap, one overlap, a jitter within tolerance,
 * a DISCONT flag, and a new segment (not a gap). */
GST_START_TEST (test_gaps_and_overlaps)
{
  GstHarness *h = monitor_harness ();
  const GstClockTime pts[] = { 0, 10 * MS, 20 * MS, 35 * MS /* gap */ ,
    45 * MS, 50 * MS /* overlap */ , 60 * MS, 70 * MS + 300 * GST_USECOND,
    80 * MS + 300 * GST_USECOND
  };
  GstSegment segment;
  GPtrArray *msgs;
  GstBuffer *buf;

  g_object_set (h->element, "interval", GST_SECOND, NULL);
  gst_harness_set_src_caps_str (h, S16_MONO);
  for (guint i = 0; i < G_N_ELEMENTS (pts); i++) {
    buf = s16_buffer (480, 0.1, pts[i]);
    if (i == 3)
      GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }
  fail_unless_equals_uint64 (prop_u64 (h, "gaps"), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_gaps_total",
          NULL), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_overlaps_total",
          NULL), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_discont_total",
          NULL), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_buffers_total",
          NULL), G_N_ELEMENTS (pts));
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_bytes_total",
          NULL), G_N_ELEMENTS (pts) * 960);

  /* a new segment: timestamps may start again */
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_harness_push_event (h, gst_event_new_segment (&segment));
  gst_harness_push (h, s16_buffer (480, 0.1, 0));
  gst_harness_push (h, s16_buffer (480, 0.1, 10 * MS));
  fail_unless_equals_uint64 (prop_u64 (h, "gaps"), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_overlaps_total",
          NULL), 1);

  /* the interval's counts are in the message posted at EOS */
  gst_harness_push_event (h, gst_event_new_eos ());
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 1);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "gaps"), 1);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "overlaps"), 1);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "discont"), 1);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "buffers"),
      G_N_ELEMENTS (pts) + 2);
  g_ptr_array_unref (msgs);
  teardown (h);
}

GST_END_TEST;

/* A live stream (the harness answers the latency query as live) on a test
 * clock: a buffer after base time + running time + latency is late. */
GST_START_TEST (test_underruns_live)
{
  GstHarness *h = monitor_harness ();
  gboolean live = FALSE;
  GstQuery *q;

  gst_harness_use_testclock (h);
  gst_harness_set_upstream_latency (h, 20 * MS);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->element->sinkpads->data, q));
  gst_query_parse_latency (q, &live, NULL, NULL);
  gst_query_unref (q);
  fail_unless (live);

  gst_harness_set_src_caps_str (h, S16_MONO);
  /* on time: deadline 0 + 20 ms (+1 ms tolerance) */
  fail_unless (gst_harness_set_time (h, 15 * MS));
  gst_harness_push (h, s16_buffer (480, 0.1, 0));
  fail_unless (gst_harness_set_time (h, 30 * MS));
  gst_harness_push (h, s16_buffer (480, 0.1, 10 * MS));
  fail_unless_equals_uint64 (prop_u64 (h, "underruns"), 0);

  /* 50 ms late */
  fail_unless (gst_harness_set_time (h, 90 * MS));
  gst_harness_push (h, s16_buffer (480, 0.1, 20 * MS));
  fail_unless_equals_uint64 (prop_u64 (h, "underruns"), 1);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_underruns_total",
          NULL), 1);

  /* the pipeline latency, once distributed, is the deadline's */
  gst_pad_push_event (h->sinkpad, gst_event_new_latency (100 * MS));
  gst_harness_push (h, s16_buffer (480, 0.1, 30 * MS));
  fail_unless_equals_uint64 (prop_u64 (h, "underruns"), 1);
  teardown (h);
}

GST_END_TEST;

/* Not live (audiotestsrc upstream, not the harness, which answers as a
 * live source): never an underrun, however late the clock. */
GST_START_TEST (test_no_underruns_when_not_live)
{
  GstHarness *h = gst_harness_new_parse ("audiotestsrc num-buffers=10 "
      "samplesperbuffer=480 ! capsfilter caps=\"" S16_MONO "\" ! "
      "apmonitor name=notlive port=0 quiet=true");
  GstElement *mon = gst_bin_get_by_name (GST_BIN (h->element), "notlive");
  guint64 underruns = 1;

  GstClock *clock;

  gst_harness_use_testclock (h);
  fail_unless (gst_harness_set_time (h, 100 * GST_SECOND));
  gst_harness_play (h);
  for (guint i = 0; i < 10; i++)
    gst_buffer_unref (gst_harness_pull (h));
  /* the check had what it needs: a clock, PLAYING */
  clock = gst_element_get_clock (mon);
  fail_unless (clock != NULL);
  gst_object_unref (clock);
  fail_unless_equals_int (GST_STATE (mon), GST_STATE_PLAYING);
  g_object_get (mon, "underruns", &underruns, NULL);
  fail_unless_equals_uint64 (underruns, 0);
  gst_object_unref (mon);
  teardown (h);
}

GST_END_TEST;

/* --- caps --- */

/* A format change: counted, the info series follows, channel series of
 * channels that went away are retired, and the partial interval of the
 * old format is published first. */
GST_START_TEST (test_caps_change)
{
  GstHarness *h = monitor_harness ();
  GPtrArray *msgs;
  gint channels;

  gst_harness_set_src_caps_str (h, S16_STEREO);
  gst_harness_push (h, zeros (480 * 4));
  fail_unless (has_metric (h, "apm_monitor_peak_dbfs", "1"));
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_caps_changes_total",
          NULL), 0);

  gst_harness_set_src_caps_str (h, "audio/x-raw,format=F32LE,"
      "layout=interleaved,rate=44100,channels=1");
  gst_harness_push (h, zeros (441 * 4));
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_caps_changes_total",
          NULL), 1);
  fail_unless (has_metric (h, "apm_monitor_peak_dbfs", "0"));
  fail_if (has_metric (h, "apm_monitor_peak_dbfs", "1"));
  {
    const gchar *old[] = { "", GST_OBJECT_NAME (h->element), "S16LE",
      "48000", "2", "interleaved", NULL
    };
    const gchar *cur[] = { "", GST_OBJECT_NAME (h->element), "F32LE",
      "44100", "1", "interleaved", NULL
    };

    fail_if (series_value ("apm_monitor_info", old, NULL));
    fail_unless (series_value ("apm_monitor_info", cur, NULL));
  }

  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 1);
  fail_unless (gst_structure_get_int (msg_s (msgs, 0), "channels",
          &channels));
  fail_unless_equals_int (channels, 2);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "duration"),
      10 * MS);
  g_ptr_array_unref (msgs);

  /* the series go when the element stops */
  teardown (h);
}

GST_END_TEST;

/* Encoded audio: timing and bytes only, intervals on timestamps. */
GST_START_TEST (test_encoded)
{
  GstHarness *h = monitor_harness ();
  GPtrArray *msgs;
  const GstStructure *s;
  gint rate;

  gst_harness_set_src_caps_str (h, "audio/mpeg,mpegversion=(int)1,"
      "layer=(int)3,rate=(int)44100,channels=(int)2,parsed=(boolean)true");
  for (guint i = 0; i < 20; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 417, NULL);

    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, 1152 * GST_SECOND,
        44100);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale (i + 1,
        1152 * GST_SECOND, 44100) - GST_BUFFER_PTS (buf);
    fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
  }

  /* 20 frames of 26.1 ms = 522 ms: five intervals of 100 ms or more */
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 5);
  s = msg_s (msgs, 0);
  fail_unless_equals_string (gst_structure_get_string (s, "format"),
      "audio/mpeg");
  fail_unless (gst_structure_get_int (s, "rate", &rate));
  fail_unless_equals_int (rate, 44100);
  fail_if (gst_structure_has_field (s, "peak"));
  fail_unless (get_u64 (s, "duration") >= 100 * MS);
  fail_unless_equals_uint64 (get_u64 (s, "timestamp"), 0);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 1), "timestamp"),
      get_u64 (s, "duration"));
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_bytes_total",
          NULL), 20 * 417);
  fail_unless_equals_int ((gint) metric (h, "apm_monitor_gaps_total",
          NULL), 0);
  fail_if (has_metric (h, "apm_monitor_samples_total", NULL));
  fail_if (has_metric (h, "apm_monitor_peak_dbfs", "0"));
  {
    const gchar *values[] = { "", GST_OBJECT_NAME (h->element), "audio/mpeg",
      "44100", "2", "encoded", NULL
    };

    fail_unless (series_value ("apm_monitor_info", values, NULL));
  }
  g_ptr_array_unref (msgs);
  teardown (h);
}

GST_END_TEST;

/* post-messages=false: metrics, no messages; interval is honoured. */
GST_START_TEST (test_post_messages_and_interval)
{
  GstHarness *h = monitor_harness ();
  GPtrArray *msgs;

  g_object_set (h->element, "post-messages", FALSE, NULL);
  gst_harness_set_src_caps_str (h, S16_MONO);
  for (guint i = 0; i < 20; i++)
    gst_harness_push (h, s16_buffer (480, 0.5, i * 10 * MS));
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 0);
  g_ptr_array_unref (msgs);
  fail_unless (fabs (metric (h, "apm_monitor_peak_dbfs", "0") -
          20 * log10 (0.5)) < 0.01);

  /* changes apply from the next interval */
  g_object_set (h->element, "post-messages", TRUE, "interval", 50 * MS,
      NULL);
  for (guint i = 20; i < 40; i++)
    gst_harness_push (h, s16_buffer (480, 0.5, i * 10 * MS));
  msgs = pop_messages (h->element, "apmonitor");
  fail_unless_equals_int (msgs->len, 4);
  for (guint i = 0; i < msgs->len; i++)
    fail_unless_equals_uint64 (get_u64 (msg_s (msgs, i), "duration"),
        50 * MS);
  fail_unless_equals_uint64 (get_u64 (msg_s (msgs, 0), "timestamp"),
      200 * MS);
  g_ptr_array_unref (msgs);
  teardown (h);
}

GST_END_TEST;

static Suite *
apmonitor_levels_suite (void)
{
  Suite *s = suite_create ("apmonitor_levels");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_levels_match_level, 0,
      G_N_ELEMENTS (level_cases));
  tcase_add_test (tc, test_pipeline_with_level);
  tcase_add_test (tc, test_planar);
  tcase_add_test (tc, test_silence_detected);
  tcase_add_test (tc, test_clipping_after_volume);
  tcase_add_test (tc, test_no_clipping);
  tcase_add_test (tc, test_gap_buffer);
  tcase_add_test (tc, test_gaps_and_overlaps);
  tcase_add_test (tc, test_underruns_live);
  tcase_add_test (tc, test_no_underruns_when_not_live);
  tcase_add_test (tc, test_caps_change);
  tcase_add_test (tc, test_encoded);
  tcase_add_test (tc, test_post_messages_and_interval);
  return s;
}

int
main (int argc, char **argv)
{
  /* would hide our plugin */
  g_unsetenv ("GST_PLUGIN_LOADING_WHITELIST");
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apmonitor_levels_suite (), "apmonitor_levels",
      __FILE__);
}
