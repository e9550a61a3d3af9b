/* gst-apm tests: shared helpers for pipelines and the process (the
 * environment, deadlines, running and stopping pipelines, the service)
 *
 * The other helpers, declared in apmtestutil.h too: apmtesthttp.c (HTTP
 * client), apmtestmetrics.c (Prometheus text), apmtestjson.c (the
 * service's JSON documents), apmtestws.c (WebSocket client). */
#include "apmtestutil.h"
#include "apm-service.h"

#include <stdlib.h>
#include <string.h>

void
apm_test_prepare_env (const gchar * tracers)
{
  /* a whitelist would keep our plugin out; meson 1.0 cannot unset it */
  g_unsetenv ("GST_PLUGIN_LOADING_WHITELIST");
  if (tracers)
    g_setenv ("GST_TRACERS", tracers, TRUE);
}

gint
apm_test_time_scale (void)
{
  const gchar *m = g_getenv ("CK_TIMEOUT_MULTIPLIER");
  gint v = m ? atoi (m) : 1;

  return CLAMP (v, 1, 100);
}

gint64
apm_test_deadline_in (gdouble seconds)
{
  return g_get_monotonic_time () +
      APM_TEST_SCALED ((gint64) (seconds * G_USEC_PER_SEC));
}

GstElement *
apm_test_parse (const gchar * description, const gchar * name)
{
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (description, &error);

  fail_unless (pipeline != NULL, "could not parse '%s': %s", description,
      error ? error->message : "?");
  fail_unless (error == NULL, "parse warning for '%s': %s", description,
      error ? error->message : "?");
  fail_unless (GST_IS_PIPELINE (pipeline), "'%s' is not a pipeline",
      description);
  if (name)
    fail_unless (gst_object_set_name (GST_OBJECT (pipeline), name));
  return pipeline;
}

void
apm_test_wait (GstElement * pipeline, gboolean expect_error, gchar ** url,
    guint * port, GPtrArray * warnings)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean seen_service = FALSE;
  gboolean done = FALSE;

  if (url)
    *url = NULL;
  if (port)
    *port = 0;

  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, APM_TEST_BUS_TIMEOUT,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING |
        GST_MESSAGE_ELEMENT);
    GError *err = NULL;
    gchar *dbg = NULL;

    fail_unless (msg != NULL, "%s: no %s within %" GST_TIME_FORMAT,
        GST_OBJECT_NAME (pipeline), expect_error ? "ERROR" : "EOS",
        GST_TIME_ARGS (APM_TEST_BUS_TIMEOUT));

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        fail_if (expect_error, "%s: EOS where an ERROR was expected",
            GST_OBJECT_NAME (pipeline));
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:
        gst_message_parse_error (msg, &err, &dbg);
        fail_unless (expect_error, "%s: ERROR from %s: %s (%s)",
            GST_OBJECT_NAME (pipeline), GST_MESSAGE_SRC_NAME (msg),
            err->message, GST_STR_NULL (dbg));
        done = TRUE;
        break;
      case GST_MESSAGE_WARNING:
        gst_message_parse_warning (msg, &err, &dbg);
        fail_unless (warnings != NULL, "%s: unexpected WARNING from %s: %s",
            GST_OBJECT_NAME (pipeline), GST_MESSAGE_SRC_NAME (msg),
            err->message);
        g_ptr_array_add (warnings, g_strdup (err->message));
        break;
      case GST_MESSAGE_ELEMENT:{
        const GstStructure *s = gst_message_get_structure (msg);

        if (s && gst_structure_has_name (s, "apm-service")) {
          guint p = 0;

          fail_if (seen_service, "%s: two apm-service messages",
              GST_OBJECT_NAME (pipeline));
          seen_service = TRUE;
          fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (pipeline),
              "apm-service posted by %s, not the pipeline",
              GST_MESSAGE_SRC_NAME (msg));
          fail_unless (gst_structure_has_field_typed (s, "url",
                  G_TYPE_STRING), "apm-service without a string url: %"
              GST_PTR_FORMAT, s);
          fail_unless (gst_structure_get_uint (s, "port", &p),
              "apm-service without a uint port: %" GST_PTR_FORMAT, s);
          if (url)
            *url = g_strdup (gst_structure_get_string (s, "url"));
          if (port)
            *port = p;
        }
        break;
      }
      default:
        break;
    }
    g_clear_error (&err);
    g_free (dbg);
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  /* the tracer posts nothing on the bus by default: ask the service */
  if (!seen_service) {
    ApmService *service = apm_service_get_default ();

    if (url)
      *url = apm_service_get_url (service);
    if (port)
      *port = apm_service_get_port (service);
  }
}

void
apm_test_run_to_eos (GstElement * pipeline, gchar ** url, guint * port)
{
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "%s could not go to PLAYING",
      GST_OBJECT_NAME (pipeline));
  apm_test_wait (pipeline, FALSE, url, port, NULL);
}

void
apm_test_stop (GstElement * pipeline)
{
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (pipeline);
}

/* pipelines whose test has not stopped them yet (see the header) */
static GSList *tracked_pipelines;

GstElement *
apm_test_track (GstElement * pipeline)
{
  tracked_pipelines = g_slist_prepend (tracked_pipelines, pipeline);
  return pipeline;
}

GstElement *
apm_test_parse_tracked (const gchar * description, const gchar * name)
{
  return apm_test_track (apm_test_parse (description, name));
}

void
apm_test_stop_untrack (GstElement * pipeline)
{
  apm_test_stop (pipeline);
  /* only now: when stopping fails, the teardown tries again */
  tracked_pipelines = g_slist_remove (tracked_pipelines, pipeline);
}

void
apm_test_stop_tracked (void)
{
  GSList *l;

  for (l = tracked_pipelines; l; l = l->next) {
    GstElement *pipeline = l->data;

    GST_INFO ("stopping %s, left behind by its test",
        GST_OBJECT_NAME (pipeline));
    gst_element_set_state (pipeline, GST_STATE_NULL);
    gst_object_unref (pipeline);
  }
  g_slist_free (tracked_pipelines);
  tracked_pipelines = NULL;
}

gchar *
apm_test_element_path (GstElement * element)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GstObject *obj = gst_object_ref (GST_OBJECT (element)), *parent;
  GString *path = g_string_new (NULL);

  while ((parent = gst_object_get_parent (obj))) {
    g_ptr_array_add (names, gst_object_get_name (obj));
    gst_object_unref (obj);
    obj = parent;
  }
  gst_object_unref (obj);
  for (guint i = names->len; i > 0; i--) {
    g_string_append (path, g_ptr_array_index (names, i - 1));
    if (i > 1)
      g_string_append_c (path, '/');
  }
  g_ptr_array_unref (names);
  return g_string_free (path, FALSE);
}

gchar *
apm_test_play_live (GstElement * pipeline)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gchar *url = NULL;
  gboolean seen = FALSE;

  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE, "%s could not go to PLAYING",
      GST_OBJECT_NAME (pipeline));
  /* the service starts (and listens) when the pipeline goes to READY */
  url = apm_service_get_url (apm_service_get_default ());
  {
    GstMessage *msg = gst_bus_pop_filtered (bus,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS);

    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      fail ("%s: ERROR from %s: %s", GST_OBJECT_NAME (pipeline),
          GST_MESSAGE_SRC_NAME (msg), err->message);
    }
    fail_if (msg != NULL, "%s: EOS before PLAYING",
        GST_OBJECT_NAME (pipeline));
  }
  (void) seen;
  gst_object_unref (bus);
  fail_unless (url != NULL, "%s: the service is not listening",
      GST_OBJECT_NAME (pipeline));
  /* the message comes at NULL -> READY: wait for PLAYING too */
  {
    GstState state = GST_STATE_VOID_PENDING;

    fail_unless (gst_element_get_state (pipeline, &state, NULL,
            APM_TEST_BUS_TIMEOUT) != GST_STATE_CHANGE_FAILURE,
        "%s could not go to PLAYING", GST_OBJECT_NAME (pipeline));
    fail_unless (state == GST_STATE_PLAYING, "%s is %s, not PLAYING",
        GST_OBJECT_NAME (pipeline), gst_element_state_get_name (state));
  }
  return url;
}

gchar *
apm_test_start_service (void)
{
  ApmService *service = apm_service_get_default ();
  GError *error = NULL;
  gchar *url;

  fail_unless (apm_service_ensure_started (service, &error),
      "service not started: %s", error ? error->message : "?");
  url = apm_service_get_url (service);
  fail_unless (url != NULL, "the service has no URL");
  return url;
}

/* the URL of the process's one service, once a run has reported it */
static gchar *run_url;

const gchar *
apm_test_url_of_run (gchar * url)
{
  fail_unless (url != NULL, "apm-service without a URL: not listening?");
  if (!run_url)
    run_url = g_strdup (url);
  else
    fail_unless_equals_string (url, run_url);
  g_free (url);
  return run_url;
}

guint64
apm_test_self_rss (void)
{
  gchar *text = NULL, *p;
  guint64 kb = 0;

  fail_unless (g_file_get_contents ("/proc/self/status", &text, NULL, NULL));
  p = strstr (text, "\nVmRSS:");
  fail_unless (p != NULL, "no VmRSS in /proc/self/status");
  kb = g_ascii_strtoull (p + 7, NULL, 10);
  g_free (text);
  return kb * 1024;
}

guint
apm_test_count_fds (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  fail_unless (dir != NULL, "cannot list /proc/self/fd");
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n - 1;                 /* the directory's own */
}

const gchar *
apm_test_service_url (const gchar * name)
{
  static gchar *url;

  if (!url) {
    GstElement *p = apm_test_parse ("audiotestsrc num-buffers=2 ! fakesink",
        name);

    apm_test_run_to_eos (p, &url, NULL);
    apm_test_stop (p);
    fail_unless (url != NULL, "the service did not report its URL");
  }
  return url;
}
