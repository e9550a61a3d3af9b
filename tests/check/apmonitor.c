/* gst-apm tests: the apmonitor element
 *
 * apmonitor must be a bit-exact passthrough that never copies: the buffer
 * that comes out is the buffer that went in, with the same memories, the
 * same bytes and the same metadata, whatever the caps.
 */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/audio/audio.h>
#include <string.h>

#include "apmtestutil.h"

typedef struct
{
  const gchar *caps;
  gboolean raw;                 /* sizes are in frames, else in bytes */
  gboolean planar;              /* one memory per channel, GstAudioMeta */
  gsize sizes[3];
} Format;

static const Format formats[] = {
  {"audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2,"
        "channel-mask=(bitmask)0x3", TRUE, FALSE, {1, 480, 1024}},
  {"audio/x-raw,format=S32LE,layout=interleaved,rate=44100,channels=1",
      TRUE, FALSE, {7, 441, 4096}},
  {"audio/x-raw,format=F32LE,layout=interleaved,rate=48000,channels=2,"
        "channel-mask=(bitmask)0x3", TRUE, FALSE, {3, 960, 1024}},
  {"audio/x-raw,format=F64LE,layout=interleaved,rate=96000,channels=2,"
        "channel-mask=(bitmask)0x3", TRUE, FALSE, {1, 128, 2048}},
  {"audio/x-raw,format=F32LE,layout=non-interleaved,rate=48000,channels=2,"
        "channel-mask=(bitmask)0x3", TRUE, TRUE, {1, 480, 1024}},
  {"audio/x-flac,framed=(boolean)true,rate=44100,channels=2", FALSE, FALSE,
      {17, 413, 4608}},
  {"audio/mpeg,mpegversion=(int)1,layer=(int)3,rate=44100,channels=2,"
        "parsed=(boolean)true", FALSE, FALSE, {417, 418, 1}},
};

static void
fill_random (GstMemory * mem, GRand * rand)
{
  GstMapInfo map;

  fail_unless (gst_memory_map (mem, &map, GST_MAP_WRITE));
  for (gsize i = 0; i < map.size; i++)
    map.data[i] = g_rand_int (rand) & 0xff;
  gst_memory_unmap (mem, &map);
}

static GstBuffer *
make_buffer (const Format * f, const GstAudioInfo * info, guint index,
    GRand * rand)
{
  GstBuffer *buf = gst_buffer_new ();
  gsize size = f->sizes[index];

  if (f->planar) {
    gsize plane = size * GST_AUDIO_INFO_BPS (info);

    for (gint c = 0; c < GST_AUDIO_INFO_CHANNELS (info); c++) {
      GstMemory *mem = gst_allocator_alloc (NULL, plane, NULL);

      fill_random (mem, rand);
      gst_buffer_append_memory (buf, mem);
    }
    fail_unless (gst_buffer_add_audio_meta (buf, info, size, NULL));
  } else {
    GstMemory *mem = gst_allocator_alloc (NULL, f->raw ?
        size * GST_AUDIO_INFO_BPF (info) : size, NULL);

    fill_random (mem, rand);
    gst_buffer_append_memory (buf, mem);
  }

  GST_BUFFER_PTS (buf) = index * 10 * GST_MSECOND;
  GST_BUFFER_DTS (buf) = index * 10 * GST_MSECOND + 1;
  GST_BUFFER_DURATION (buf) = 10 * GST_MSECOND;
  GST_BUFFER_OFFSET (buf) = index * 1000;
  GST_BUFFER_OFFSET_END (buf) = index * 1000 + 999;
  if (index == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  if (index == 2)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_GAP);
  return buf;
}

static void
check_same_content (GstBuffer * out, GstBuffer * expected)
{
  gsize size = gst_buffer_get_size (expected);
  gpointer a, b;
  gsize asize, bsize;

  fail_unless_equals_int (gst_buffer_get_size (out), size);
  gst_buffer_extract_dup (out, 0, size, &a, &asize);
  gst_buffer_extract_dup (expected, 0, size, &b, &bsize);
  fail_unless_equals_int (asize, bsize);
  fail_unless (memcmp (a, b, asize) == 0, "content changed");
  g_free (a);
  g_free (b);

  fail_unless_equals_uint64 (GST_BUFFER_PTS (out), GST_BUFFER_PTS (expected));
  fail_unless_equals_uint64 (GST_BUFFER_DTS (out), GST_BUFFER_DTS (expected));
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (out),
      GST_BUFFER_DURATION (expected));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out),
      GST_BUFFER_OFFSET (expected));
  fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out),
      GST_BUFFER_OFFSET_END (expected));
  /* DISCONT and GAP as set; nothing added or removed */
  fail_unless_equals_int (GST_BUFFER_FLAGS (out) & (GST_BUFFER_FLAG_DISCONT |
          GST_BUFFER_FLAG_GAP | GST_BUFFER_FLAG_CORRUPTED),
      GST_BUFFER_FLAGS (expected) & (GST_BUFFER_FLAG_DISCONT |
          GST_BUFFER_FLAG_GAP | GST_BUFFER_FLAG_CORRUPTED));
}

static void
check_audio_meta (GstBuffer * out, GstBuffer * expected)
{
  GstAudioMeta *m = gst_buffer_get_audio_meta (out);
  GstAudioMeta *e = gst_buffer_get_audio_meta (expected);

  if (!e) {
    fail_if (m != NULL, "an audio meta appeared");
    return;
  }
  fail_unless (m != NULL, "the audio meta was lost");
  fail_unless_equals_int (m->samples, e->samples);
  fail_unless_equals_int (GST_AUDIO_INFO_CHANNELS (&m->info),
      GST_AUDIO_INFO_CHANNELS (&e->info));
  fail_unless_equals_int (GST_AUDIO_INFO_FORMAT (&m->info),
      GST_AUDIO_INFO_FORMAT (&e->info));
  for (gint c = 0; c < GST_AUDIO_INFO_CHANNELS (&e->info); c++)
    fail_unless_equals_int (m->offsets[c], e->offsets[c]);
}

/* Loop test, one iteration per format.  Buffers 0 and 2 are pushed while
 * the test holds a reference (so they are not writable: any write would
 * force a copy); buffer 1 is pushed writable, and its memories are held
 * instead, so that a copy would show as new memories. */
GST_START_TEST (test_passthrough_formats)
{
  const Format *f = &formats[__i__];
  GstHarness *h = gst_harness_new ("apmonitor");
  GstCaps *caps = gst_caps_from_string (f->caps), *out_caps;
  GRand *rand = g_rand_new_with_seed (0x5eed + __i__);
  GstAudioInfo info;

  GST_INFO ("format %s", f->caps);
  fail_unless (caps != NULL);
  gst_audio_info_init (&info);
  if (f->raw)
    fail_unless (gst_audio_info_from_caps (&info, caps));
  gst_harness_set_src_caps (h, gst_caps_ref (caps));

  for (guint i = 0; i < G_N_ELEMENTS (f->sizes); i++) {
    GstBuffer *in = make_buffer (f, &info, i, rand);
    GstBuffer *expected = gst_buffer_copy_deep (in);
    guint n_mem = gst_buffer_n_memory (in);
    GstMemory *mems[8] = { NULL, };
    gboolean keep_ref = (i != 1);
    gconstpointer in_ptr = in;
    GstBuffer *out;

    fail_unless (n_mem <= G_N_ELEMENTS (mems));
    for (guint m = 0; m < n_mem; m++)
      mems[m] = gst_memory_ref (gst_buffer_peek_memory (in, m));
    if (keep_ref)
      gst_buffer_ref (in);

    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_try_pull (h);
    fail_unless (out != NULL, "no output for buffer %u", i);

    /* the very same buffer, not a copy */
    fail_unless (out == in_ptr, "buffer %u was replaced (%p -> %p)", i,
        in_ptr, out);
    fail_unless_equals_int (gst_buffer_n_memory (out), n_mem);
    for (guint m = 0; m < n_mem; m++)
      fail_unless (gst_buffer_peek_memory (out, m) == mems[m],
          "memory %u of buffer %u was replaced", m, i);
    check_same_content (out, expected);
    check_audio_meta (out, expected);

    for (guint m = 0; m < n_mem; m++)
      gst_memory_unref (mems[m]);
    if (keep_ref)
      gst_buffer_unref (in);
    gst_buffer_unref (out);
    gst_buffer_unref (expected);
  }

  fail_unless_equals_int (gst_harness_buffers_received (h),
      G_N_ELEMENTS (f->sizes));
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  out_caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (out_caps != NULL);
  fail_unless (gst_caps_is_equal (out_caps, caps), "caps changed: %"
      GST_PTR_FORMAT " -> %" GST_PTR_FORMAT, caps, out_caps);
  gst_caps_unref (out_caps);

  gst_caps_unref (caps);
  g_rand_free (rand);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Events pass unchanged too (segment, EOS). */
GST_START_TEST (test_passthrough_events)
{
  GstHarness *h = gst_harness_new ("apmonitor");
  GstSegment segment;
  GstEvent *ev;
  const GstSegment *out_segment;

  gst_harness_set_src_caps_str (h, "audio/x-raw,format=S16LE,"
      "layout=interleaved,rate=48000,channels=1");
  /* drop stream-start, caps and the harness's own segment */
  while ((ev = gst_harness_try_pull_event (h)))
    gst_event_unref (ev);

  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.start = 5 * GST_SECOND;
  segment.rate = 2.0;
  fail_unless (gst_harness_push_event (h, gst_event_new_segment (&segment)));
  ev = gst_harness_try_pull_event (h);
  fail_unless (ev != NULL && GST_EVENT_TYPE (ev) == GST_EVENT_SEGMENT);
  gst_event_parse_segment (ev, &out_segment);
  fail_unless_equals_uint64 (out_segment->start, 5 * GST_SECOND);
  fail_unless (out_segment->rate == 2.0);
  gst_event_unref (ev);

  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  ev = gst_harness_try_pull_event (h);
  fail_unless (ev != NULL && GST_EVENT_TYPE (ev) == GST_EVENT_EOS);
  gst_event_unref (ev);

  gst_harness_teardown (h);
}

GST_END_TEST;

/* A buffer list comes out as the same buffers, in order. */
GST_START_TEST (test_passthrough_buffer_list)
{
  GstHarness *h = gst_harness_new ("apmonitor");
  GstBufferList *list = gst_buffer_list_new ();
  GstBuffer *in[4];

  gst_harness_set_src_caps_str (h, "audio/x-raw,format=S16LE,"
      "layout=interleaved,rate=48000,channels=1");
  for (guint i = 0; i < G_N_ELEMENTS (in); i++) {
    in[i] = gst_buffer_new_allocate (NULL, 64 * (i + 1), NULL);
    gst_buffer_memset (in[i], 0, 0x10 + i, 64 * (i + 1));
    GST_BUFFER_PTS (in[i]) = i * GST_MSECOND;
    gst_buffer_list_add (list, gst_buffer_ref (in[i]));
  }
  fail_unless_equals_int (gst_pad_push_list (h->srcpad, list), GST_FLOW_OK);
  for (guint i = 0; i < G_N_ELEMENTS (in); i++) {
    GstBuffer *out = gst_harness_try_pull (h);

    fail_unless (out == in[i], "list buffer %u was replaced", i);
    fail_unless_equals_int (gst_buffer_get_size (out), 64 * (i + 1));
    gst_buffer_unref (out);
    gst_buffer_unref (in[i]);
  }
  fail_unless (gst_harness_try_pull (h) == NULL);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_properties)
{
  GstElement *e = gst_element_factory_make ("apmonitor", NULL);
  GParamSpec *pspec;
  gchar *address = NULL;
  gint port = -1;
  gboolean quiet = TRUE;

  fail_unless (e != NULL);
  fail_unless (GST_IS_BASE_TRANSFORM (e));
  g_object_get (e, "port", &port, "address", &address, "quiet", &quiet, NULL);
  fail_unless_equals_int (port, 9464);
  fail_unless_equals_string (address, "127.0.0.1");
  fail_unless (!quiet);
  g_free (address);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e), "port");
  fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->minimum, 0);
  fail_unless_equals_int (G_PARAM_SPEC_INT (pspec)->maximum, 65535);

  g_object_set (e, "port", 0, "address", "::1", "quiet", TRUE, NULL);
  g_object_get (e, "port", &port, "address", &address, "quiet", &quiet, NULL);
  fail_unless_equals_int (port, 0);
  fail_unless_equals_string (address, "::1");
  fail_unless (quiet);
  g_free (address);

  fail_unless (gst_base_transform_is_passthrough (GST_BASE_TRANSFORM (e)));
  gst_object_unref (e);
}

GST_END_TEST;

/* Without the tracer, the first apmonitor of a pipeline starts the service
 * with its properties; later ones share it (first configuration wins) and
 * get their problems reported as WARNING messages. */
GST_START_TEST (test_service_from_element)
{
  GstElement *a = apm_test_parse ("audiotestsrc num-buffers=5 "
      "! apmonitor port=0 quiet=true ! fakesink", "apm_mon_a");
  GstElement *b = apm_test_parse ("audiotestsrc num-buffers=5 "
      "! apmonitor port=1 quiet=true ! fakesink", "apm_mon_b");
  GstElement *c = apm_test_parse ("audiotestsrc num-buffers=5 "
      "! apmonitor address=not-an-address quiet=true ! fakesink",
      "apm_mon_c");
  SoupSession *session = apm_test_session_new ();
  GPtrArray *warnings = g_ptr_array_new_with_free_func (g_free);
  JsonNode *health;
  gchar *url_a, *url_b, *url_c, *expected;
  guint port_a, port_b, port_c;

  apm_test_run_to_eos (a, &url_a, &port_a);
  fail_unless (url_a != NULL, "apmonitor port=0 is not serving");
  fail_unless (port_a > 0);
  expected = g_strdup_printf ("http://127.0.0.1:%u", port_a);
  fail_unless_equals_string (url_a, expected);
  g_free (expected);

  /* port=1 comes second: ignored, the same service */
  apm_test_run_to_eos (b, &url_b, &port_b);
  fail_unless_equals_string (url_b, url_a);
  fail_unless_equals_int (port_b, port_a);

  /* a bad address is reported on the pipeline's bus, and it runs on */
  fail_if (gst_element_set_state (c, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  apm_test_wait (c, FALSE, &url_c, &port_c, warnings);
  fail_unless_equals_string (url_c, url_a);
  fail_unless_equals_int (warnings->len, 1);
  fail_unless (strstr (g_ptr_array_index (warnings, 0), "address") != NULL,
      "warning does not name the property: %s",
      (gchar *) g_ptr_array_index (warnings, 0));
  fail_unless (strstr (g_ptr_array_index (warnings, 0), "not-an-address")
      != NULL);

  health = apm_test_http_json (session, "GET", url_a, "/health/monitoring",
      200);
  fail_unless (apm_test_health_check (health, "pipeline:apm_mon_a") != NULL);
  fail_unless (apm_test_health_check (health, "pipeline:apm_mon_b") != NULL);
  fail_unless (apm_test_health_check (health, "pipeline:apm_mon_c") != NULL);
  json_node_unref (health);

  g_ptr_array_unref (warnings);
  g_free (url_a);
  g_free (url_b);
  g_free (url_c);
  g_object_unref (session);
  apm_test_stop (a);
  apm_test_stop (b);
  apm_test_stop (c);
}

GST_END_TEST;

static Suite *
apmonitor_suite (void)
{
  Suite *s = suite_create ("apmonitor");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_loop_test (tc, test_passthrough_formats, 0,
      G_N_ELEMENTS (formats));
  tcase_add_test (tc, test_passthrough_events);
  tcase_add_test (tc, test_passthrough_buffer_list);
  tcase_add_test (tc, test_properties);
  /* last: it configures the process-wide service */
  tcase_add_test (tc, test_service_from_element);
  return s;
}

int
main (int argc, char **argv)
{
  /* no tracer here: the element alone */
  g_unsetenv ("GST_TRACERS");
  apm_test_prepare_env (NULL);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apmonitor_suite (), "apmonitor", __FILE__);
}
