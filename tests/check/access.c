/* gst-apm tests: the security defaults as a client meets them
 *
 * The bearer token for writes (resolve), the Origin policy (writes, CORS,
 * the WebSocket handshake), names that need escaping in JSON and in
 * Prometheus label values, and a pipeline destroyed while clients read
 * its data.  The tracer runs with token=s3cret and a configuration file
 * allowing one other origin; CK_FORK=no (one service per process).
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "apmtestutil.h"

#define TOKEN "s3cret"
#define ALLOWED_ORIGIN "http://allowed.example:3000"
#define EVIL_ORIGIN "http://evil.example"
/* quotes, backslash, newline, markup, non-ASCII */
#define NASTY_NAME "apm \"q\" <b>&amp;</b>\\ line\nnext é"

static gchar *config_path;

static void
teardown (void)
{
  apm_test_stop_tracked ();
}

/* A request with optional Authorization and Origin headers; returns the
 * status, and the response headers in @headers (nullable, unref them). */
static guint
request (SoupSession * session, const gchar * method, const gchar * url,
    const gchar * path, const gchar * token, const gchar * origin,
    SoupMessageHeaders ** headers)
{
  gchar *full = g_strconcat (url, path, NULL);
  SoupMessage *msg = soup_message_new (method, full);
  SoupMessageHeaders *req;
  GError *error = NULL;
  GBytes *body;
  guint status;

  fail_unless (msg != NULL, "bad URL %s", full);
  req = soup_message_get_request_headers (msg);
  if (token) {
    gchar *auth = g_strdup_printf ("Bearer %s", token);

    soup_message_headers_replace (req, "Authorization", auth);
    g_free (auth);
  }
  if (origin)
    soup_message_headers_replace (req, "Origin", origin);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  fail_unless (body != NULL, "%s %s: %s", method, path,
      error ? error->message : "?");
  status = soup_message_get_status (msg);
  if (headers)
    *headers = soup_message_headers_ref (soup_message_get_response_headers
        (msg));
  g_bytes_unref (body);
  g_object_unref (msg);
  g_free (full);
  return status;
}

/* the live pipeline each test plays (the service starts with the first);
 * stopped by the test (GST_END_TEST waits for its task) or, when the test
 * fails, by the teardown */
static GstElement *live;

static gchar *
start_service (const gchar * name)
{
  live = apm_test_track (apm_test_parse ("audiotestsrc is-live=true "
          "samplesperbuffer=441 ! fakesink name=sink sync=true", name));
  return apm_test_play_live (live);
}

static void
stop_service (void)
{
  apm_test_stop_untrack (live);
  live = NULL;
}

GST_START_TEST (test_token_required_for_writes)
{
  gchar *url = start_service ("apm_access_token");
  SoupSession *session = apm_test_session_new ();
  SoupMessageHeaders *h;

  /* reads need no token (auth=writes, the default) */
  fail_unless_equals_int (request (session, "GET", url, "/health", NULL,
          NULL, NULL), 200);
  fail_unless_equals_int (request (session, "GET", url, "/metrics", NULL,
          NULL, NULL), 200);

  /* resolve: refused without it or with a wrong one, before the route */
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", NULL, NULL, &h), 401);
  fail_unless (g_str_has_prefix (soup_message_headers_get_one (h,
              "WWW-Authenticate"), "Bearer"));
  soup_message_headers_unref (h);
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", "wrong", NULL, NULL), 401);
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", TOKEN "x", NULL, NULL), 401);
  /* with it the request reaches the route: no such alert */
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", TOKEN, NULL, NULL), 404);

  g_object_unref (session);
  g_free (url);
  stop_service ();
}

GST_END_TEST;

GST_START_TEST (test_origin_policy)
{
  gchar *url = start_service ("apm_access_origin");
  gchar *own = g_strdup (url);
  SoupSession *session = apm_test_session_new ();
  SoupMessageHeaders *h;

  /* a page elsewhere cannot write, even with the token */
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", TOKEN, EVIL_ORIGIN, &h), 403);
  fail_unless (soup_message_headers_get_one (h,
          "Access-Control-Allow-Origin") == NULL);
  soup_message_headers_unref (h);
  /* the allowed one can, and gets CORS headers for it alone */
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", TOKEN, ALLOWED_ORIGIN, &h), 404);
  fail_unless_equals_string (soup_message_headers_get_one (h,
          "Access-Control-Allow-Origin"), ALLOWED_ORIGIN);
  soup_message_headers_unref (h);
  /* the dashboard's own origin is always allowed */
  fail_unless_equals_int (request (session, "POST", url,
          "/monitoring/alerts/none/resolve", TOKEN, own, NULL), 404);
  /* reads from another origin are answered, but without CORS: the
   * browser does not hand them to the page */
  fail_unless_equals_int (request (session, "GET", url, "/metrics", NULL,
          EVIL_ORIGIN, &h), 200);
  fail_unless (soup_message_headers_get_one (h,
          "Access-Control-Allow-Origin") == NULL);
  soup_message_headers_unref (h);

  g_object_unref (session);
  g_free (own);
  g_free (url);
  stop_service ();
}

GST_END_TEST;

/* The WebSocket handshake for @origin (NULL: none, as non-browser clients
 * do): the status line, and in @first_frame the first two bytes of the
 * first frame after a 101 (0x81: text, 0x88: close) and @close_code the
 * code of a close frame. */
static gchar *
ws_handshake_status (const gchar * url, const gchar * origin,
    guint * first_frame, guint * close_code)
{
  GUri *uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  GSocketClient *client = g_socket_client_new ();
  GSocketConnection *conn;
  GDataInputStream *in;
  gchar *req, *line;
  GError *error = NULL;

  g_socket_client_set_timeout (client, APM_TEST_SCALED (10));
  conn = g_socket_client_connect_to_host (client, g_uri_get_host (uri),
      g_uri_get_port (uri), NULL, &error);
  fail_unless (conn != NULL, "connect: %s", error ? error->message : "?");
  req = g_strdup_printf ("GET /ws/monitoring HTTP/1.1\r\nHost: %s:%d\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n", g_uri_get_host (uri),
      g_uri_get_port (uri), origin ? "Origin: " : "", origin ? origin : "",
      origin ? "\r\n" : "");
  fail_unless (g_output_stream_write_all (g_io_stream_get_output_stream
          (G_IO_STREAM (conn)), req, strlen (req), NULL, NULL, &error));
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM
          (conn)));
  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  fail_unless (line != NULL, "no answer to the handshake: %s",
      error ? error->message : "closed");
  g_strchomp (line);
  *first_frame = *close_code = 0;
  if (g_str_has_prefix (line, "HTTP/1.1 101")) {
    gchar *header;
    guchar frame[4];

    /* the headers, then the server's first frame (unmasked) */
    while ((header = g_data_input_stream_read_line (in, NULL, NULL, NULL))
        && strcmp (g_strchomp (header), "") != 0)
      g_free (header);
    g_free (header);
    fail_unless (g_input_stream_read_all (G_INPUT_STREAM (in), frame, 2,
            NULL, NULL, NULL));
    *first_frame = frame[0];
    if ((frame[0] & 0x0f) == 0x8 && (frame[1] & 0x7f) >= 2
        && g_input_stream_read_all (G_INPUT_STREAM (in), frame + 2, 2, NULL,
            NULL, NULL))
      *close_code = frame[2] << 8 | frame[3];
  }
  g_object_unref (in);
  g_object_unref (conn);
  g_object_unref (client);
  g_free (req);
  g_uri_unref (uri);
  return line;
}

GST_START_TEST (test_websocket_origin)
{
  gchar *url = start_service ("apm_access_ws");
  const gchar *origins[] = { ALLOWED_ORIGIN, url, NULL };
  guint frame, code;
  gchar *status;

  /* another origin: refused, or (libsoup completes the handshake before
   * our handler runs) closed with 1008 before any data frame */
  status = ws_handshake_status (url, EVIL_ORIGIN, &frame, &code);
  fail_unless (g_str_has_prefix (status, "HTTP/1.1 403")
      || (g_str_has_prefix (status, "HTTP/1.1 101") && frame == 0x88
          && code == 1008), "Origin %s: %s, first frame 0x%02x (close "
      "code %u)", EVIL_ORIGIN, status, frame, code);
  g_free (status);
  /* allowed, own, or none (not a browser): the snapshot comes first */
  for (guint i = 0; i < G_N_ELEMENTS (origins); i++) {
    status = ws_handshake_status (url, origins[i], &frame, &code);
    fail_unless (g_str_has_prefix (status, "HTTP/1.1 101") && frame == 0x81,
        "Origin %s: %s, first frame 0x%02x (close code %u)",
        GST_STR_NULL (origins[i]), status, frame, code);
    g_free (status);
  }
  g_free (url);
  stop_service ();
}

GST_END_TEST;

static gboolean
has_nasty_pipeline (JsonNode * doc, gpointer user_data)
{
  JsonArray *pipelines = json_object_get_array_member (json_node_get_object
      (doc), "pipelines");

  for (guint i = 0; pipelines && i < json_array_get_length (pipelines); i++) {
    JsonObject *p = json_array_get_object_element (pipelines, i);

    if (g_strcmp0 (json_object_get_string_member (p, "name"),
            NASTY_NAME) == 0)
      return TRUE;
  }
  return FALSE;
}

GST_START_TEST (test_names_escaped)
{
  gchar *url = start_service (NASTY_NAME);
  SoupSession *session = apm_test_session_new ();
  GHashTable *metrics;
  JsonNode *doc;
  gdouble v;

  /* JSON: the exact name, after the parser's unescaping */
  doc = apm_test_wait_json (session, url, "/monitoring/pipelines",
      has_nasty_pipeline, NULL, 10 * G_USEC_PER_SEC);
  fail_unless (has_nasty_pipeline (doc, NULL), "no pipeline named exactly "
      "%s in /monitoring/pipelines", NASTY_NAME);
  json_node_unref (doc);
  /* Prometheus: the strict parser unescapes \" \\ \n and fails on any
   * other escape or a raw newline */
  metrics = apm_test_fetch_metrics (session, url);
  fail_unless (apm_test_metric_value (metrics, &v, "apm_pad_buffers_total",
          "pipeline", NASTY_NAME, "element", "sink", "pad", "sink",
          NULL), "no series for the pipeline named %s", NASTY_NAME);
  g_hash_table_unref (metrics);

  g_object_unref (session);
  g_free (url);
  stop_service ();
}

GST_END_TEST;

/* Clients read a pipeline's data while it is destroyed: they go on, the
 * pipeline leaves the documents, nothing crashes. */
GST_START_TEST (test_pipeline_destroyed_while_read)
{
  gchar *url = start_service ("apm_access_reader");
  SoupSession *session = apm_test_session_new ();
  ApmTestWs *ws = apm_test_ws_connect (url, "/ws/monitoring");
  ApmTestWsMessage *m;

  for (guint round = 0; round < 5; round++) {
    gchar *name = g_strdup_printf ("apm_doomed_%u", round);
    gchar *path = g_strdup_printf ("/monitoring/pipelines/%s", name);
    GstElement *p = apm_test_track (apm_test_parse ("audiotestsrc "
            "is-live=true samplesperbuffer=441 ! volume ! fakesink sync=true",
            name));
    ApmTestResponse *r;
    gchar *u = apm_test_play_live (p);

    /* destroyed between two requests of the client and while the feed
     * sends updates */
    r = apm_test_http (session, "GET", url, path);
    fail_unless_equals_int (r->status, 200);
    apm_test_response_free (r);
    apm_test_ws_pump (ws, g_get_monotonic_time () + 100 * 1000);
    apm_test_stop_untrack (p);
    r = apm_test_http (session, "GET", url, path);
    fail_unless_equals_int (r->status, 404);
    apm_test_response_free (r);
    r = apm_test_http (session, "GET", url, "/monitoring/status");
    fail_unless_equals_int (r->status, 200);
    apm_test_response_free (r);
    g_free (u);
    g_free (path);
    g_free (name);
  }
  /* the feed is alive and sends updates without the destroyed ones.  An
   * update made before the last destruction may still be on its way (the
   * feed and the requests are separate connections): judge the first one
   * the service made after this status, by the service's own uptime */
  {
    JsonNode *status = apm_test_http_json (session, "GET", url,
        "/monitoring/status", 200);
    gdouble after = json_object_get_double_member (json_object_get_object_member
        (json_node_get_object (status), "service"), "uptime_seconds");
    gint64 deadline = g_get_monotonic_time () +
        APM_TEST_SCALED (5 * G_USEC_PER_SEC);

    json_node_unref (status);
    while ((m = apm_test_ws_wait_type (ws, "monitoring_update", deadline))) {
      JsonObject *data = json_object_get_object_member
          (json_node_get_object (m->root), "data");

      if (json_object_get_double_member (json_object_get_object_member (data,
                  "service"), "uptime_seconds") > after)
        break;
      apm_test_ws_message_free (m);
    }
  }
  fail_unless (m != NULL, "no update after the pipelines went");
  fail_unless (strstr (m->text, "apm_doomed_") == NULL,
      "an update made after the pipelines went still names one: %s",
      m->text);
  fail_unless (strstr (m->text, "apm_access_reader") != NULL);
  apm_test_ws_message_free (m);
  fail_unless (apm_test_ws_is_open (ws));

  apm_test_ws_free (ws);
  g_object_unref (session);
  g_free (url);
  stop_service ();
}

GST_END_TEST;

static Suite *
access_suite (void)
{
  Suite *s = suite_create ("apm_access");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_add_test (tc, test_token_required_for_writes);
  tcase_add_test (tc, test_origin_policy);
  tcase_add_test (tc, test_websocket_origin);
  tcase_add_test (tc, test_names_escaped);
  tcase_add_test (tc, test_pipeline_destroyed_while_read);
  return s;
}

static void
remove_config (void)
{
  g_unlink (config_path);
  g_free (config_path);
}

int
main (int argc, char **argv)
{
  GError *error = NULL;

  config_path = g_strdup_printf ("%s/apm-access-test-%d.json",
      g_get_tmp_dir (), (int) getpid ());
  if (!g_file_set_contents (config_path, "{\"security\": "
          "{\"allowed_origins\": [\"" ALLOWED_ORIGIN "\"]}}", -1, &error))
    g_error ("%s", error->message);
  atexit (remove_config);
  g_setenv ("APM_CONFIG", config_path, TRUE);
  apm_test_prepare_env ("apm(port=0,quiet=true,ws-rate=5,token=" TOKEN ")");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (access_suite (), "apm_access", __FILE__);
}
