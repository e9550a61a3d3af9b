/* gst-apm tests: one OTLP exporter (apm-otlp-exporter.c) against a
 * collector in the same process (a SoupServer on the test's GMainContext,
 * which plays the service thread's part): batches and their headers, the
 * bounded queue's drops, a Retry-After honoured, a time out, and freeing
 * with a request in flight (run under valgrind: nothing leaks or is used
 * after it is freed), and what the collector answers: partial successes
 * (protobuf and JSON), 2xx answers that are not OTLP, and permanent errors
 * with a google.rpc.Status or garbage.
 */
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <string.h>

#include "apm-otlp-exporter.h"
#include "apm-service.h"

typedef enum
{
  ANSWER_OK,
  ANSWER_503,                   /* with Retry-After: 1 */
  ANSWER_502,
  ANSWER_HOLD,                  /* never answer: the client times out */
  ANSWER_CUSTOM,                /* status, content type and body below */
} Answer;

typedef struct
{
  GMainContext *ctx;
  SoupServer *server;
  gchar *url;
  Answer answer;
  GPtrArray *bodies;            /* gchar, in arrival order */
  GArray *times;                /* gint64 monotonic us of each request */
  gchar *content_type, *header;
  GPtrArray *held;              /* SoupServerMessage paused */
  ApmRegistry *reg;
  ApmLog *log;
  guint status;                 /* ANSWER_CUSTOM */
  const gchar *answer_type;
  GBytes *answer_body;
} Fixture;

static Fixture fx;

static void
handler (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  gint64 now = g_get_monotonic_time ();
  GBytes *bytes = soup_message_body_flatten (body);

  g_ptr_array_add (fx.bodies, g_strndup (g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes)));
  g_bytes_unref (bytes);
  g_array_append_val (fx.times, now);
  g_free (fx.content_type);
  fx.content_type = g_strdup (soup_message_headers_get_content_type (h,
          NULL));
  g_free (fx.header);
  fx.header = g_strdup (soup_message_headers_get_one (h, "x-api-key"));
  switch (fx.answer) {
    case ANSWER_OK:
      soup_server_message_set_status (msg, 200, NULL);
      break;
    case ANSWER_503:
      soup_message_headers_append (soup_server_message_get_response_headers
          (msg), "Retry-After", "1");
      soup_server_message_set_status (msg, 503, NULL);
      break;
    case ANSWER_502:
      soup_server_message_set_status (msg, 502, NULL);
      break;
    case ANSWER_HOLD:
      soup_server_message_pause (msg);
      g_ptr_array_add (fx.held, g_object_ref (msg));
      break;
    case ANSWER_CUSTOM:
      soup_server_message_set_status (msg, fx.status, NULL);
      if (fx.answer_body)
        soup_server_message_set_response (msg, fx.answer_type,
            SOUP_MEMORY_COPY, g_bytes_get_data (fx.answer_body, NULL),
            g_bytes_get_size (fx.answer_body));
      break;
  }
}

static void
setup (void)
{
  GSList *uris;

  memset (&fx, 0, sizeof fx);
  fx.ctx = g_main_context_new ();
  g_main_context_push_thread_default (fx.ctx);
  fx.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (fx.server, "/v1/traces", handler, NULL, NULL);
  fail_unless (soup_server_listen_local (fx.server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, NULL));
  uris = soup_server_get_uris (fx.server);
  fx.url = g_strdup_printf ("http://127.0.0.1:%d/v1/traces",
      g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  fx.bodies = g_ptr_array_new_with_free_func (g_free);
  fx.times = g_array_new (FALSE, FALSE, sizeof (gint64));
  fx.held = g_ptr_array_new_with_free_func (g_object_unref);
  fx.reg = apm_registry_new (1000);
  fx.log = apm_log_new (100);
}

static void
teardown (void)
{
  g_ptr_array_unref (fx.held);
  soup_server_disconnect (fx.server);
  g_object_unref (fx.server);
  while (g_main_context_iteration (fx.ctx, FALSE));
  g_main_context_pop_thread_default (fx.ctx);
  g_main_context_unref (fx.ctx);
  g_ptr_array_unref (fx.bodies);
  g_array_unref (fx.times);
  g_free (fx.url);
  g_free (fx.content_type);
  g_free (fx.header);
  apm_registry_free (fx.reg);
  apm_log_free (fx.log);
  g_clear_pointer (&fx.answer_body, g_bytes_unref);
  apm_service_shutdown ();      /* the breakers' default service */
}

/* items are strings; a batch is them joined by '|' */
static GBytes *
encode (GPtrArray * items, guint * n_sent, gpointer user_data)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    g_string_append_printf (s, "%s%s", i ? "|" : "",
        (gchar *) items->pdata[i]);
  *n_sent = items->len;
  return g_string_free_to_bytes (s);
}

static ApmOtlpExporter *
exporter_new (guint timeout_ms, guint max_queue, guint max_batch)
{
  gchar *headers[] = { (gchar *) "x-api-key", (gchar *) "k 1", NULL };
  ApmOtlpSignalConfig sc = { 0 };

  sc.url = fx.url;
  sc.encoding = APM_OTLP_PROTOBUF;
  sc.headers = headers;
  sc.timeout_ms = timeout_ms;
  sc.schedule_delay_ms = 50;
  sc.max_queue = max_queue;
  sc.max_batch = max_batch;

  return apm_otlp_exporter_new (APM_OTLP_TRACES, &sc, fx.reg, fx.log, encode,
      g_free, NULL);
}

static gdouble
counter (const gchar * family, const gchar * reason)
{
  GPtrArray *series = apm_registry_list_series (fx.reg, family);
  gdouble sum = 0;

  for (guint i = 0; series && i < series->len; i++)
    if (!reason || g_strcmp0 (apm_series_label (series->pdata[i], "reason"),
            reason) == 0)
      sum += apm_series_value (series->pdata[i]);
  if (series)
    g_ptr_array_unref (series);
  return sum;
}

/* iterates the context until @n requests arrived, or fails at @seconds */
static void
wait_requests (guint n, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (fx.bodies->len < n) {
    fail_unless (g_get_monotonic_time () < end, "%u requests, not %u",
        fx.bodies->len, n);
    g_main_context_iteration (fx.ctx, FALSE);
    g_usleep (1000);
  }
}

static void
iterate_for (gdouble seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end) {
    g_main_context_iteration (fx.ctx, FALSE);
    g_usleep (1000);
  }
}

GST_START_TEST (test_batches)
{
  ApmOtlpExporter *e;

  setup ();
  e = exporter_new (2000, 10, 2);
  apm_otlp_exporter_enqueue (e, g_strdup ("a"));
  apm_otlp_exporter_enqueue (e, g_strdup ("b"));
  apm_otlp_exporter_enqueue (e, g_strdup ("c"));
  wait_requests (2, 5);
  fail_unless_equals_string (fx.bodies->pdata[0], "a|b");
  fail_unless_equals_string (fx.bodies->pdata[1], "c");
  fail_unless_equals_string (fx.content_type, "application/x-protobuf");
  fail_unless_equals_string (fx.header, "k 1");
  iterate_for (0.1);
  fail_unless_equals_int ((gint) counter ("apm_otlp_exported_total", NULL), 3);
  fail_unless (!apm_otlp_exporter_busy (e));
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_END_TEST;

GST_START_TEST (test_queue_bound)
{
  ApmOtlpExporter *e;

  setup ();
  e = exporter_new (2000, 4, 2);
  /* the context does not run meanwhile: nothing is sent yet */
  for (guint i = 0; i < 10; i++)
    apm_otlp_exporter_enqueue (e, g_strdup_printf ("%u", i));
  fail_unless_equals_int ((gint) counter ("apm_otlp_dropped_total", NULL), 6);
  wait_requests (2, 5);
  fail_unless_equals_string (fx.bodies->pdata[0], "0|1");
  fail_unless_equals_string (fx.bodies->pdata[1], "2|3");
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_END_TEST;

GST_START_TEST (test_retry_after)
{
  ApmOtlpExporter *e;
  gint64 gap;

  setup ();
  fx.answer = ANSWER_503;
  e = exporter_new (2000, 10, 1);
  apm_otlp_exporter_enqueue (e, g_strdup ("x"));
  wait_requests (2, 8);
  gap = g_array_index (fx.times, gint64, 1) - g_array_index (fx.times,
      gint64, 0);
  /* the backoff alone would be 0.5-1 s: Retry-After makes it 1 s at least */
  fail_unless (gap >= 950 * 1000, "retried after %" G_GINT64_FORMAT " us",
      gap);
  fail_unless_equals_string (fx.bodies->pdata[1], "x");
  fx.answer = ANSWER_OK;
  wait_requests (3, 8);
  iterate_for (0.1);
  fail_unless_equals_int ((gint) counter ("apm_otlp_failed_total",
          "http_503"), 2);
  fail_unless_equals_int ((gint) counter ("apm_otlp_exported_total", NULL), 1);
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_END_TEST;

GST_START_TEST (test_timeout_and_free_in_flight)
{
  ApmOtlpExporter *e;
  gint64 end;

  setup ();
  fx.answer = ANSWER_HOLD;
  e = exporter_new (200, 10, 1);
  apm_otlp_exporter_enqueue (e, g_strdup ("slow"));
  wait_requests (1, 5);
  end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (counter ("apm_otlp_failed_total", "timeout") < 1) {
    fail_unless (g_get_monotonic_time () < end, "no time out counted");
    g_main_context_iteration (fx.ctx, FALSE);
    g_usleep (1000);
  }
  {
    gchar *message = NULL;

    fail_if (apm_otlp_exporter_healthy (e, &message));
    fail_unless (strstr (message, "no answer within 200 ms"), "%s", message);
    g_free (message);
  }
  /* the retry goes out and is held too: free with it in flight */
  wait_requests (2, 5);
  apm_otlp_exporter_free (e);
  iterate_for (0.05);
  teardown ();
}

GST_END_TEST;

/* five failures in a row open the breaker: no calls for its reset time
 * (1 s here, APM_OTLP_BREAKER_RESET_SECONDS), then one probe, whose
 * success closes it */
GST_START_TEST (test_circuit_breaker)
{
  ApmOtlpExporter *e;
  guint n_open;
  gint64 opened, probe;

  setup ();
  fx.answer = ANSWER_502;
  e = exporter_new (2000, 10, 1);
  /* retries 10 ms apart (and more), not a second: the test is short */
  apm_otlp_exporter_set_backoff_base (e, 10);
  apm_otlp_exporter_enqueue (e, g_strdup ("x"));
  wait_requests (5, 5);
  opened = g_get_monotonic_time ();
  fx.answer = ANSWER_OK;
  /* open: nothing is sent for the reset time, though the retry is due */
  iterate_for (0.6);
  n_open = fx.bodies->len;
  fail_unless_equals_int (n_open, 5);
  fail_unless (counter ("apm_otlp_failed_total", "circuit_open") >= 1);
  {
    gchar *message = NULL;

    fail_if (apm_otlp_exporter_healthy (e, &message));
    fail_unless (strstr (message, "breaker open"), "%s", message);
    g_free (message);
  }
  /* then one probe, answered: the batch is delivered, the breaker closes */
  wait_requests (6, 5);
  probe = g_array_index (fx.times, gint64, 5);
  fail_unless (probe - opened >= 900 * 1000, "probed after %" G_GINT64_FORMAT
      " us", probe - opened);
  iterate_for (0.1);
  fail_unless_equals_int ((gint) counter ("apm_otlp_exported_total", NULL), 1);
  {
    gchar *message = NULL;

    fail_unless (apm_otlp_exporter_healthy (e, &message), "%s", message);
    g_free (message);
  }
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_END_TEST;

/* --- the collector's answers --- */

static void
answer_with (guint status, const gchar * type, const void *body, gsize len)
{
  fx.answer = ANSWER_CUSTOM;
  fx.status = status;
  fx.answer_type = type;
  g_clear_pointer (&fx.answer_body, g_bytes_unref);
  if (body)
    fx.answer_body = g_bytes_new (body, len);
}

/* a length-delimited field, written by hand (short: one-byte lengths) */
static void
put_len (GByteArray * b, guint field, const void *data, guint8 len)
{
  guint8 key = (guint8) (field << 3 | 2);

  g_byte_array_append (b, &key, 1);
  g_byte_array_append (b, &len, 1);
  g_byte_array_append (b, data, len);
}

/* ExportTraceServiceResponse { partial_success { rejected_spans,
 * error_message } } */
static GBytes *
partial_success_pb (guint8 rejected, const gchar * message)
{
  GByteArray *inner = g_byte_array_new (), *outer = g_byte_array_new ();
  guint8 count[2] = { 1 << 3 | 0, rejected };

  g_byte_array_append (inner, count, 2);
  put_len (inner, 2, message, strlen (message));
  put_len (outer, 1, inner->data, inner->len);
  g_byte_array_unref (inner);
  return g_byte_array_free_to_bytes (outer);
}

/* google.rpc.Status { code, message } */
static GBytes *
status_pb (guint8 code, const gchar * message)
{
  GByteArray *b = g_byte_array_new ();
  guint8 c[2] = { 1 << 3 | 0, code };

  g_byte_array_append (b, c, 2);
  put_len (b, 2, message, strlen (message));
  return g_byte_array_free_to_bytes (b);
}

/* the exporter's warnings and notes with @needle in their message */
static guint
log_lines_with (const gchar * needle)
{
  JsonNode *doc = apm_log_query (fx.log, -1, NULL, "otlp", 0, 0);
  JsonArray *lines = json_object_get_array_member (json_node_get_object (doc),
      "logs");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (lines); i++) {
    JsonObject *line = json_array_get_object_element (lines, i);

    if (strstr (json_object_get_string_member (line, "message"), needle))
      n++;
  }
  json_node_unref (doc);
  return n;
}

static void
wait_counter (const gchar * family, const gchar * reason, gdouble value)
{
  gint64 end = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (counter (family, reason) < value) {
    fail_unless (g_get_monotonic_time () < end, "%s{%s} %g, not %g",
        family, reason, counter (family, reason), value);
    g_main_context_iteration (fx.ctx, FALSE);
    g_usleep (1000);
  }
}

static void
check_partial_success (const gchar * type, GBytes * body,
    const gchar * message)
{
  ApmOtlpExporter *e;

  setup ();
  answer_with (200, type, g_bytes_get_data (body, NULL),
      g_bytes_get_size (body));
  e = exporter_new (2000, 10, 3);
  for (guint i = 0; i < 6; i++)
    apm_otlp_exporter_enqueue (e, g_strdup_printf ("%u", i));
  wait_requests (2, 5);
  wait_counter ("apm_otlp_rejected_total", NULL, 4);
  /* 2 of each 3 rejected: 1 of each accepted, nothing sent again */
  fail_unless_equals_int ((gint) counter ("apm_otlp_exported_total", NULL), 2);
  fail_unless_equals_int ((gint) counter ("apm_otlp_failed_total", NULL), 0);
  /* the collector's words, once for the burst */
  fail_unless_equals_int (log_lines_with (message), 1);
  fail_unless_equals_int (log_lines_with ("rejected 2 of 3 spans"), 1);
  /* then everything accepted: the burst ends, said once */
  answer_with (200, type, NULL, 0);
  apm_otlp_exporter_enqueue (e, g_strdup ("7"));
  wait_requests (3, 5);
  wait_counter ("apm_otlp_exported_total", NULL, 3);
  fail_unless_equals_int (log_lines_with ("accepts all spans again (4 "
          "rejected meanwhile)"), 1);
  iterate_for (0.1);
  fail_unless_equals_int (fx.bodies->len, 3);
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_START_TEST (test_partial_success_protobuf)
{
  GBytes *body = partial_success_pb (2, "2 spans too old");

  check_partial_success ("application/x-protobuf", body, "2 spans too old");
  g_bytes_unref (body);
}

GST_END_TEST;

GST_START_TEST (test_partial_success_json)
{
  const gchar *json = "{\"partialSuccess\": {\"rejectedSpans\": \"2\", "
      "\"errorMessage\": \"attribute too long\"}}";
  GBytes *body = g_bytes_new_static (json, strlen (json));

  check_partial_success ("application/json", body, "attribute too long");
  g_bytes_unref (body);
}

GST_END_TEST;

/* a 200 whose body is garbage, or a proxy's page: counted as exported (the
 * collector said yes: sending again would duplicate), counted as a bad
 * response, logged once, not sent again, no crash */
GST_START_TEST (test_success_not_otlp)
{
  static const guint8 garbage[] = { 0x0a, 0x7f, 0x08 }; /* a length past the end */
  const gchar *html = "<html><body>Welcome</body></html>";
  ApmOtlpExporter *e;

  setup ();
  answer_with (200, "application/x-protobuf", garbage, sizeof garbage);
  e = exporter_new (2000, 10, 1);
  apm_otlp_exporter_enqueue (e, g_strdup ("a"));
  wait_counter ("apm_otlp_failed_total", "bad_response", 1);
  fail_unless_equals_int (log_lines_with ("with an unparsable "
          "application/x-protobuf body, not an OTLP response"), 1);
  answer_with (200, "text/html", html, strlen (html));
  apm_otlp_exporter_enqueue (e, g_strdup ("b"));
  wait_counter ("apm_otlp_failed_total", "bad_response", 2);
  iterate_for (0.2);
  fail_unless_equals_int (fx.bodies->len, 2);
  fail_unless_equals_int ((gint) counter ("apm_otlp_exported_total", NULL), 2);
  fail_unless_equals_int ((gint) counter ("apm_otlp_dropped_total", NULL), 0);
  /* one burst: the second is counted, not logged again */
  fail_unless_equals_int (log_lines_with ("not an OTLP response"), 1);
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_END_TEST;

/* 400 is permanent (OTLP/HTTP: only 429, 502, 503 and 504 are retried):
 * the batch is dropped and counted, the collector's Status logged */
static void
check_bad_request (const gchar * type, GBytes * body, const gchar * expect)
{
  ApmOtlpExporter *e;

  setup ();
  answer_with (400, type, body ? g_bytes_get_data (body, NULL) : NULL,
      body ? g_bytes_get_size (body) : 0);
  e = exporter_new (2000, 10, 1);
  apm_otlp_exporter_enqueue (e, g_strdup ("a"));
  wait_counter ("apm_otlp_dropped_total", NULL, 1);
  iterate_for (0.3);
  fail_unless_equals_int (fx.bodies->len, 1);
  fail_unless_equals_int ((gint) counter ("apm_otlp_failed_total",
          "http_400"), 1);
  fail_unless_equals_int ((gint) counter ("apm_otlp_exported_total", NULL), 0);
  fail_unless_equals_int (log_lines_with (expect), 1);
  fail_unless_equals_int (log_lines_with ("a permanent error: the batch is "
          "dropped, not retried"), 1);
  {
    gchar *message = NULL;

    fail_if (apm_otlp_exporter_healthy (e, &message));
    fail_unless (strstr (message, expect), "%s", message);
    g_free (message);
  }
  apm_otlp_exporter_free (e);
  teardown ();
}

GST_START_TEST (test_bad_request_status_protobuf)
{
  GBytes *body = status_pb (3, "span id must be 8 bytes");

  check_bad_request ("application/x-protobuf", body,
      "HTTP 400 Bad Request: span id must be 8 bytes (status code 3)");
  g_bytes_unref (body);
}

GST_END_TEST;

GST_START_TEST (test_bad_request_status_json)
{
  const gchar *json = "{\"code\": 3, \"message\": \"unknown field\"}";
  GBytes *body = g_bytes_new_static (json, strlen (json));

  check_bad_request ("application/json", body,
      "HTTP 400 Bad Request: unknown field (status code 3)");
  g_bytes_unref (body);
}

GST_END_TEST;

GST_START_TEST (test_bad_request_garbage)
{
  const gchar *json = "{\"code\": 3, \"mess";
  GBytes *body = g_bytes_new_static (json, strlen (json));

  check_bad_request ("application/json", body,
      "HTTP 400 Bad Request, with an unparsable application/json body");
  g_bytes_unref (body);
}

GST_END_TEST;

GST_START_TEST (test_bad_request_not_otlp)
{
  const gchar *html = "<html>400 Bad Request (nginx)</html>";
  GBytes *body = g_bytes_new_static (html, strlen (html));

  check_bad_request ("text/html", body,
      "HTTP 400 Bad Request, with a text/html body, not an OTLP answer");
  g_bytes_unref (body);
}

GST_END_TEST;

static Suite *
otlp_export_suite (void)
{
  Suite *s = suite_create ("otlp_export");
  TCase *tc = tcase_create ("exporter");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 40);
  tcase_add_test (tc, test_batches);
  tcase_add_test (tc, test_queue_bound);
  tcase_add_test (tc, test_retry_after);
  tcase_add_test (tc, test_timeout_and_free_in_flight);
  tcase_add_test (tc, test_circuit_breaker);
  tcase_add_test (tc, test_partial_success_protobuf);
  tcase_add_test (tc, test_partial_success_json);
  tcase_add_test (tc, test_success_not_otlp);
  tcase_add_test (tc, test_bad_request_status_protobuf);
  tcase_add_test (tc, test_bad_request_status_json);
  tcase_add_test (tc, test_bad_request_garbage);
  tcase_add_test (tc, test_bad_request_not_otlp);
  return s;
}

int
main (int argc, char **argv)
{
  g_setenv ("APM_OTLP_BREAKER_RESET_SECONDS", "1", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (otlp_export_suite (), "otlp_export", __FILE__);
}
