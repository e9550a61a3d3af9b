/* gst-apm tests: pipelines of the same name in one process
 *
 * Applications name their pipelines ("player") and may run two at once, or
 * start a new one before the old one is freed.  Each watched pipeline gets
 * a label of its own for its lifetime (its name, else "name#2",
 * "name#3"...): its series, health check, jobs and /monitoring/pipelines
 * entry use it, so twins' figures never mix.
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true)" and CK_FORK=no (one
 * service per process, shared by the tests).
 */
#include <gst/check/gstcheck.h>
#include <gst/audio/audio.h>
#include <string.h>

#include "apmtestutil.h"

#define BUFFERS "apm_pad_buffers_total"
#define BYTES "apm_pad_bytes_total"
#define GONE_TIMEOUT_US APM_TEST_SCALED (10 * G_USEC_PER_SEC)
#define COLLECT_TIMEOUT_US APM_TEST_SCALED (10 * G_USEC_PER_SEC)

/* a source, an apmonitor, maybe a volume, a sink: @n buffers of @spb */
static GstElement *
twin_new (const gchar * name, guint n, guint spb, gboolean with_volume)
{
  gchar *desc = g_strdup_printf ("audiotestsrc name=src num-buffers=%u "
      "samplesperbuffer=%u ! apmonitor name=mon %s! fakesink name=sink",
      n, spb, with_volume ? "! volume name=vol " : "");
  GstElement *p = apm_test_track (apm_test_parse (desc, name));

  g_free (desc);
  return p;
}

static void
play (GstElement * pipeline)
{
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

/* bytes per frame of what @pipeline's "src" produced */
static gint
source_bpf (GstElement * pipeline)
{
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  GstPad *pad = gst_element_get_static_pad (src, "src");
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstAudioInfo info;

  fail_unless (caps != NULL, "the source has no caps");
  fail_unless (gst_audio_info_from_caps (&info, caps));
  gst_caps_unref (caps);
  gst_object_unref (pad);
  gst_object_unref (src);
  return GST_AUDIO_INFO_BPF (&info);
}

/* What a user checks of a pipeline's series: every pad and the monitor
 * counted exactly its own @n buffers of @spb frames, and there are
 * @n_pads pad series labelled with it, no more. */
static void
check_series (GHashTable * m, const gchar * label, guint n, guint spb,
    gint bpf, guint n_pads, gboolean with_volume)
{
  static const gchar *const pads[][2] = {
    {"src", "src"}, {"mon", "sink"}, {"mon", "src"}, {"vol", "sink"},
    {"vol", "src"}, {"sink", "sink"},
  };
  gdouble v = -1;

  for (guint i = 0; i < G_N_ELEMENTS (pads); i++) {
    if (!with_volume && strcmp (pads[i][0], "vol") == 0)
      continue;
    gdouble bytes = apm_test_pad_get (m, BYTES, label, pads[i][0],
        pads[i][1]);

    fail_unless_equals_int ((gint) apm_test_pad_get (m, BUFFERS, label,
            pads[i][0], pads[i][1]), n);
    fail_unless (bytes == (gdouble) n * spb * bpf, "%s %s:%s: %.0f bytes, "
        "expected %u x %u x %d", label, pads[i][0], pads[i][1], bytes, n, spb,
        bpf);
  }
  fail_unless_equals_int (apm_test_count_series (m, BUFFERS, label), n_pads);
  fail_unless (apm_test_metric_value (m, &v, "apm_element_buffers_out_total",
          "pipeline", label, "element", "src", "factory", "audiotestsrc",
          NULL), "no element series of %s's source", label);
  fail_unless_equals_int ((gint) v, n);
  fail_unless (apm_test_metric_value (m, &v, "apm_monitor_buffers_total",
          "pipeline", label, "monitor", "mon", NULL),
      "no apmonitor series of %s", label);
  fail_unless_equals_int ((gint) v, n);
}

/* The /monitoring/pipelines entries named @label (fails unless exactly
 * one, and unless every entry's name is unique). */
static JsonObject *
pipeline_entry (JsonNode * doc, const gchar * label)
{
  JsonArray *all = json_object_get_array_member (json_node_get_object (doc),
      "pipelines");
  GHashTable *names = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *found = NULL;

  fail_unless (all != NULL, "no pipelines array");
  for (guint i = 0; i < json_array_get_length (all); i++) {
    JsonObject *p = json_array_get_object_element (all, i);
    const gchar *name = json_object_get_string_member (p, "name");

    fail_unless (name != NULL);
    fail_if (g_hash_table_contains (names, name),
        "two /monitoring/pipelines entries named %s", name);
    g_hash_table_add (names, (gpointer) name);
    if (strcmp (name, label) == 0)
      found = p;
  }
  g_hash_table_unref (names);
  fail_unless (found != NULL, "no /monitoring/pipelines entry %s", label);
  return found;
}

/* buffers_out of element @element in a pipeline entry, -1 if absent */
static gint64
entry_buffers_out (JsonObject * entry, const gchar * element)
{
  JsonArray *elements = json_object_get_array_member (entry, "elements");

  for (guint i = 0; i < json_array_get_length (elements); i++) {
    JsonObject *e = json_array_get_object_element (elements, i);

    if (strcmp (json_object_get_string_member (e, "name"), element) == 0)
      return json_object_get_int_member (e, "buffers_out");
  }
  return -1;
}

static void
check_entry (JsonObject * entry, const gchar * object_name, guint n,
    gboolean with_volume)
{
  fail_unless_equals_string (json_object_get_string_member (entry,
          "object_name"), object_name);
  fail_unless_equals_int (entry_buffers_out (entry, "src"), n);
  fail_unless_equals_int (entry_buffers_out (entry, "vol"),
      with_volume ? (gint64) n : -1);
}

/* The health check pipeline:@label, which says it is about @label. */
static JsonObject *
health_check (JsonNode * doc, const gchar * label)
{
  gchar *name = g_strdup_printf ("pipeline:%s", label);
  JsonObject *check = apm_test_health_check (doc, name);

  fail_unless (check != NULL, "no health check %s", name);
  fail_unless_equals_string (json_object_get_string_member
      (json_object_get_object_member (check, "details"), "pipeline"), label);
  fail_unless (g_str_has_prefix (json_object_get_string_member (check,
              "message"), label), "%s: message '%s'", name,
      json_object_get_string_member (check, "message"));
  g_free (name);
  return check;
}

/* The only job of pipeline @label (fails unless exactly one), finished
 * with success as "@label#1", having read @bytes. */
static void
check_job (JsonNode * doc, const gchar * label, gint64 bytes)
{
  JsonObject *root = json_node_get_object (doc);
  const gchar *lists[] = { "active", "finished" };
  JsonObject *job = NULL;
  guint n = 0;
  gchar *id = g_strdup_printf ("%s#1", label);

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++) {
    JsonArray *jobs = json_object_get_array_member (root, lists[l]);

    for (guint i = 0; i < json_array_get_length (jobs); i++) {
      JsonObject *j = json_array_get_object_element (jobs, i);

      if (json_object_has_member (j, "pipeline")
          && g_strcmp0 (json_object_get_string_member (j, "pipeline"),
              label) == 0) {
        job = j;
        n++;
      }
    }
  }
  fail_unless_equals_int (n, 1);
  fail_unless_equals_string (json_object_get_string_member (job, "job_id"),
      id);
  fail_unless_equals_string (json_object_get_string_member (job, "status"),
      "success");
  fail_unless_equals_int (json_object_get_int_member (job, "bytes_read"),
      bytes);
  g_free (id);
}

static gboolean
has_states (GHashTable * m, gpointer user_data)
{
  const gchar *const *labels = user_data;
  gdouble v;

  for (guint i = 0; labels[i]; i++)
    if (!apm_test_metric_value (m, &v, "apm_pipeline_state", "pipeline",
            labels[i], NULL) || v != GST_STATE_PLAYING)
      return FALSE;
  return TRUE;
}

static gboolean
check_gone (JsonNode * doc, gpointer user_data)
{
  return apm_test_health_check (doc, user_data) == NULL;
}

/* pipeline:twin reports the NULL state (checks are re-run once a second) */
static gboolean
first_twin_stopped (JsonNode * doc, gpointer user_data)
{
  JsonObject *check = apm_test_health_check (doc, "pipeline:twin");
  JsonObject *details = check && json_object_has_member (check, "details") ?
      json_object_get_object_member (check, "details") : NULL;

  return details && json_object_has_member (details, "state")
      && g_strcmp0 (json_object_get_string_member (details, "state"),
      "NULL") == 0;
}

static void
teardown (void)
{
  apm_test_stop_tracked ();
}

/* Two pipelines named "twin" PLAYING at once, then a third while the
 * first is stopped but not freed. */
GST_START_TEST (test_twins_apart)
{
  GstElement *a = twin_new ("twin", 17, 256, FALSE);
  GstElement *b = twin_new ("twin", 29, 512, TRUE);
  GstElement *c;
  SoupSession *session = apm_test_session_new ();
  const gchar *both[] = { "twin", "twin#2", NULL };
  GHashTable *m;
  JsonNode *doc;
  JsonObject *entry;
  gchar *url, *url_b, *url_c, *text;
  gint bpf_a, bpf_b, bpf_c;

  /* a first: it is watched first, so it keeps the plain name */
  play (a);
  play (b);
  apm_test_wait (a, FALSE, &url, NULL, NULL);
  apm_test_wait (b, FALSE, &url_b, NULL, NULL);
  fail_unless_equals_string (url, url_b);
  bpf_a = source_bpf (a);
  bpf_b = source_bpf (b);

  /* series: each its own counts */
  m = apm_test_fetch_metrics (session, url);
  check_series (m, "twin", 17, 256, bpf_a, 4, FALSE);
  check_series (m, "twin#2", 29, 512, bpf_b, 6, TRUE);
  g_hash_table_unref (m);
  /* the once-a-second collector labels its series the same way */
  m = apm_test_wait_metrics (session, url, has_states, both,
      COLLECT_TIMEOUT_US);
  fail_unless (has_states (m, both), "no apm_pipeline_state of both twins");
  g_hash_table_unref (m);

  /* the model: both, told apart, each fetched by its label */
  doc = apm_test_http_json (session, "GET", url, "/monitoring/pipelines", 200);
  check_entry (pipeline_entry (doc, "twin"), "twin", 17, FALSE);
  check_entry (pipeline_entry (doc, "twin#2"), "twin", 29, TRUE);
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", url,
      "/monitoring/pipelines/twin%232", 200);
  entry = json_node_get_object (doc);
  fail_unless_equals_string (json_object_get_string_member (entry, "name"),
      "twin#2");
  check_entry (entry, "twin", 29, TRUE);
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", url,
      "/monitoring/pipelines/twin", 200);
  check_entry (json_node_get_object (doc), "twin", 17, FALSE);
  json_node_unref (doc);
  json_node_unref (apm_test_http_json (session, "GET", url,
          "/monitoring/pipelines/twin%233", 404));
  text = apm_test_http_text (session, url,
      "/monitoring/pipelines/twin%232?format=dot", 200);
  fail_unless (strstr (text, "\\ntwin#2") && strstr (text, "vol"),
      "the DOT of twin#2 is not titled twin#2 or lacks its volume:\n%.300s",
      text);
  g_free (text);

  /* health checks and jobs, one each */
  doc = apm_test_http_json (session, "GET", url, "/health/monitoring", 200);
  health_check (doc, "twin");
  health_check (doc, "twin#2");
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/jobs", 200);
  check_job (doc, "twin", 17 * 256 * bpf_a);
  check_job (doc, "twin#2", 29 * 512 * bpf_b);
  json_node_unref (doc);

  /* the first stops but still exists: a third twin takes neither label */
  fail_unless_equals_int (gst_element_set_state (a, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  c = twin_new ("twin", 7, 128, FALSE);
  play (c);
  apm_test_wait (c, FALSE, &url_c, NULL, NULL);
  bpf_c = source_bpf (c);
  m = apm_test_fetch_metrics (session, url);
  check_series (m, "twin#3", 7, 128, bpf_c, 4, FALSE);
  check_series (m, "twin", 17, 256, bpf_a, 4, FALSE);
  check_series (m, "twin#2", 29, 512, bpf_b, 6, TRUE);
  g_hash_table_unref (m);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/pipelines", 200);
  check_entry (pipeline_entry (doc, "twin#3"), "twin", 7, FALSE);
  fail_unless_equals_string (json_object_get_string_member (pipeline_entry
          (doc, "twin"), "state"), "NULL");
  json_node_unref (doc);
  doc = apm_test_wait_json (session, url, "/health/monitoring",
      first_twin_stopped, NULL, COLLECT_TIMEOUT_US);
  health_check (doc, "twin#3");
  health_check (doc, "twin");
  fail_unless (first_twin_stopped (doc, NULL),
      "pipeline:twin does not say it is stopped");
  json_node_unref (doc);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/jobs", 200);
  check_job (doc, "twin#3", 7 * 128 * bpf_c);
  check_job (doc, "twin", 17 * 256 * bpf_a);
  json_node_unref (doc);

  apm_test_stop_untrack (c);
  apm_test_stop_untrack (b);
  apm_test_stop_untrack (a);
  g_free (url);
  g_free (url_b);
  g_free (url_c);
  g_object_unref (session);
}

GST_END_TEST;

/* A label is free again once its pipeline is freed: the next pipeline of
 * that name counts from zero.  A renamed pipeline keeps its label. */
GST_START_TEST (test_label_reused_and_kept)
{
  GstElement *p = twin_new ("reborn", 5, 256, FALSE), *q, *r;
  SoupSession *session = apm_test_session_new ();
  GHashTable *m;
  JsonNode *doc;
  gchar *url, *url_q, *url_r;
  gint bpf;

  play (p);
  apm_test_wait (p, FALSE, &url, NULL, NULL);
  apm_test_stop_untrack (p);
  /* its check goes last of what it holds, then the label is free */
  json_node_unref (apm_test_wait_json (session, url, "/health/monitoring",
          check_gone, "pipeline:reborn", GONE_TIMEOUT_US));
  doc = apm_test_http_json (session, "GET", url, "/health/monitoring", 200);
  fail_unless (check_gone (doc, "pipeline:reborn"),
      "pipeline:reborn stays after its pipeline is freed");
  json_node_unref (doc);

  q = twin_new ("reborn", 9, 256, FALSE);
  play (q);
  apm_test_wait (q, FALSE, &url_q, NULL, NULL);
  bpf = source_bpf (q);
  m = apm_test_fetch_metrics (session, url);
  /* 9, not 5 + 9: the freed one's series are not continued */
  check_series (m, "reborn", 9, 256, bpf, 4, FALSE);
  fail_unless_equals_int (apm_test_count_series (m, BUFFERS, "reborn#2"), 0);
  g_hash_table_unref (m);

  /* renamed while running: still "reborn" everywhere, so a new "reborn"
   * gets the next label */
  fail_unless (gst_object_set_name (GST_OBJECT (q), "renamed"));
  r = twin_new ("reborn", 3, 256, FALSE);
  play (r);
  apm_test_wait (r, FALSE, &url_r, NULL, NULL);
  m = apm_test_fetch_metrics (session, url);
  check_series (m, "reborn#2", 3, 256, bpf, 4, FALSE);
  check_series (m, "reborn", 9, 256, bpf, 4, FALSE);
  fail_unless_equals_int (apm_test_count_series (m, BUFFERS, "renamed"), 0);
  g_hash_table_unref (m);
  doc = apm_test_http_json (session, "GET", url, "/monitoring/pipelines", 200);
  check_entry (pipeline_entry (doc, "reborn"), "renamed", 9, FALSE);
  check_entry (pipeline_entry (doc, "reborn#2"), "reborn", 3, FALSE);
  json_node_unref (doc);

  apm_test_stop_untrack (r);
  apm_test_stop_untrack (q);
  g_free (url);
  g_free (url_q);
  g_free (url_r);
  g_object_unref (session);
}

GST_END_TEST;

static Suite *
apm_names_suite (void)
{
  Suite *s = suite_create ("apm_tracer_names");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_add_test (tc, test_twins_apart);
  tcase_add_test (tc, test_label_reused_and_kept);
  return s;
}

int
main (int argc, char **argv)
{
  /* one service per process, shared by the tests: no forking */
  apm_test_prepare_env ("apm(port=0,quiet=true)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_names_suite (), "apm_tracer_names",
      __FILE__);
}
