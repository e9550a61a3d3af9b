/* gst-apm tests: the configuration file and the webhook (issue 5)
 *
 * Before gst_check_init() this program starts its own HTTP server (a
 * SoupServer on its own thread and GMainContext, port 0) and writes a
 * configuration file whose webhook and HTTP health check point at it, then
 * sets GST_TRACERS="apm(port=0,quiet=true,alert-interval=1,config=FILE)":
 * the file is read at gst_init().  CK_FORK=no: one service per process.
 *
 * The tests check that the file is applied (rules added, replaced and
 * disabled by name, health checks, the tracer's params winning over the
 * file), that alert notifications reach the server in Alertmanager's
 * format, and that a failing or absent webhook loses no alert: failures
 * are counted and retried with backoff (1 s, 2 s, 4 s).
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-service.h"

#define S (G_USEC_PER_SEC)
/* deadlines (upper bounds) stretch under valgrind and sanitizers */
#define T (APM_TEST_SCALED (G_USEC_PER_SEC))

static SoupSession *session;
static gchar *base_url;
static gchar *tmp_dir, *config_path;

/* --- the test server (webhook receiver and probe target) --- */

typedef struct
{
  gint64 t_us;                  /* monotonic, at arrival */
  gchar *method, *path, *content_type, *body;
  guint answered;               /* status sent back */
} Hit;

static struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  guint port;
  GMutex lock;
  GCond cond;
  GPtrArray *hits;              /* Hit, POSTs to /hook */
  /* requests for /hook whose body holds fail_marker get 500, fail_left
   * times (-1: always) */
  gchar *fail_marker;
  gint fail_left;
  gboolean started;
} srv;

static void
hit_free (Hit * h)
{
  g_free (h->method);
  g_free (h->path);
  g_free (h->content_type);
  g_free (h->body);
  g_free (h);
}

static void
server_callback (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  SoupMessageBody *req = soup_server_message_get_request_body (msg);
  GBytes *bytes = soup_message_body_flatten (req);
  Hit *h;
  guint status = 200;

  if (g_strcmp0 (path, "/health") == 0) {
    soup_server_message_set_status (msg, 200, NULL);
    soup_server_message_set_response (msg, "application/json",
        SOUP_MEMORY_STATIC, "{}", 2);
    g_bytes_unref (bytes);
    return;
  }
  h = g_new0 (Hit, 1);
  h->t_us = g_get_monotonic_time ();
  h->method = g_strdup (soup_server_message_get_method (msg));
  h->path = g_strdup (path);
  h->content_type = g_strdup (soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL));
  h->body = g_strndup (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes));
  g_bytes_unref (bytes);

  g_mutex_lock (&srv.lock);
  if (srv.fail_marker && strstr (h->body, srv.fail_marker)
      && srv.fail_left != 0) {
    status = 500;
    if (srv.fail_left > 0)
      srv.fail_left--;
  }
  h->answered = status;
  g_ptr_array_add (srv.hits, h);
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.lock);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_STATIC, "{}", 2);
  /* a new connection for every notification, as with many receivers */
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Connection", "close");
}

static gpointer
server_thread (gpointer data)
{
  GError *error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (srv.context);
  srv.server = soup_server_new (NULL, NULL);
  soup_server_add_handler (srv.server, NULL, server_callback, NULL, NULL);
  if (!soup_server_listen_local (srv.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
          &error))
    g_error ("test server: %s", error->message);
  uris = soup_server_get_uris (srv.server);
  g_mutex_lock (&srv.lock);
  srv.port = g_uri_get_port (uris->data);
  srv.started = TRUE;
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (srv.loop);
  g_object_unref (srv.server);
  g_main_context_pop_thread_default (srv.context);
  return NULL;
}

static void
server_start (void)
{
  g_mutex_init (&srv.lock);
  g_cond_init (&srv.cond);
  srv.hits = g_ptr_array_new_with_free_func ((GDestroyNotify) hit_free);
  srv.context = g_main_context_new ();
  srv.loop = g_main_loop_new (srv.context, FALSE);
  srv.thread = g_thread_new ("test-server", server_thread, NULL);
  g_mutex_lock (&srv.lock);
  while (!srv.started)
    g_cond_wait (&srv.cond, &srv.lock);
  g_mutex_unlock (&srv.lock);
}

static gboolean
disconnect_on_thread (gpointer data)
{
  soup_server_disconnect (srv.server);
  g_mutex_lock (&srv.lock);
  srv.started = FALSE;
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.lock);
  return G_SOURCE_REMOVE;
}

static gboolean
listen_on_thread (gpointer data)
{
  GError *error = NULL;

  if (!soup_server_listen_local (srv.server, srv.port,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("test server: listening again on %u: %s", srv.port,
        error->message);
  g_mutex_lock (&srv.lock);
  srv.started = TRUE;
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.lock);
  return G_SOURCE_REMOVE;
}

/* Listens again on the same port. */
static void
server_reconnect (void)
{
  g_main_context_invoke (srv.context, listen_on_thread, NULL);
  g_mutex_lock (&srv.lock);
  while (!srv.started)
    g_cond_wait (&srv.cond, &srv.lock);
  g_mutex_unlock (&srv.lock);
}

/* Stops listening: the webhook's port then has nothing behind it. */
static void
server_disconnect (void)
{
  g_main_context_invoke (srv.context, disconnect_on_thread, NULL);
  g_mutex_lock (&srv.lock);
  while (srv.started)
    g_cond_wait (&srv.cond, &srv.lock);
  g_mutex_unlock (&srv.lock);
}

static void
server_fail (const gchar * marker, gint times)
{
  g_mutex_lock (&srv.lock);
  g_free (srv.fail_marker);
  srv.fail_marker = g_strdup (marker);
  srv.fail_left = times;
  g_mutex_unlock (&srv.lock);
}

/* The hits (in arrival order) whose body holds @marker; with @answered
 * not 0, only those answered so. */
static GPtrArray *
hits_with (const gchar * marker, guint answered)
{
  GPtrArray *out = g_ptr_array_new ();

  g_mutex_lock (&srv.lock);
  for (guint i = 0; i < srv.hits->len; i++) {
    Hit *h = srv.hits->pdata[i];

    if (strstr (h->body, marker) && (!answered || h->answered == answered))
      g_ptr_array_add (out, h);
  }
  g_mutex_unlock (&srv.lock);
  return out;
}

/* The number of hits holding @marker, answered @answered, after waiting
 * up to @timeout_us for @n of them (no failure). */
static guint
count_hits_within (const gchar * marker, guint answered, guint n,
    gint64 timeout_us, gboolean iterate_default_context)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  GPtrArray *got;
  guint count;

  for (;;) {
    got = hits_with (marker, answered);
    count = got->len;
    g_ptr_array_unref (got);
    if (count >= n || g_get_monotonic_time () >= deadline)
      return count;
    if (iterate_default_context)
      while (g_main_context_iteration (NULL, FALSE));
    g_usleep (10 * 1000);
  }
}

/* Waits until @n hits hold @marker (answered @answered if not 0). */
static GPtrArray *
wait_hits (const gchar * marker, guint answered, guint n, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  GPtrArray *got;

  for (;;) {
    got = hits_with (marker, answered);
    if (got->len >= n)
      return got;
    g_ptr_array_unref (got);
    g_mutex_lock (&srv.lock);
    if (!g_cond_wait_until (&srv.cond, &srv.lock, deadline)) {
      g_mutex_unlock (&srv.lock);
      got = hits_with (marker, answered);
      fail_unless (got->len >= n, "webhook: %u requests holding %s "
          "(answered %u) within %" G_GINT64_FORMAT " s, expected %u",
          got->len, marker, answered, timeout_us / S, n);
      return got;
    }
    g_mutex_unlock (&srv.lock);
  }
}

/* --- the service --- */

static ApmService *
service (void)
{
  return apm_service_get_default ();
}

static ApmAlerts *
alerts (void)
{
  return apm_service_get_alerts (service ());
}

static void
setup (void)
{
  if (base_url)
    return;
  base_url = apm_test_start_service ();
  session = apm_test_session_new ();
}

static gdouble
metric (const gchar * name)
{
  GHashTable *m = apm_test_fetch_metrics (session, base_url);
  gdouble v = 0;

  apm_test_metric_value (m, &v, name, NULL);
  g_hash_table_unref (m);
  return v;
}

typedef struct
{
  const gchar *name;
  gdouble min;
} MetricMin;

static gboolean
metric_reaches (GHashTable * m, gpointer user_data)
{
  MetricMin *q = user_data;
  gdouble v = 0;

  return apm_test_metric_value (m, &v, q->name, NULL) && v >= q->min;
}

static void
wait_metric (const gchar * name, gdouble min, gint64 timeout_us)
{
  MetricMin q = { name, min };
  GHashTable *m = apm_test_wait_metrics (session, base_url, metric_reaches,
      &q, timeout_us);
  gdouble v = -1;

  apm_test_metric_value (m, &v, name, NULL);
  fail_unless (metric_reaches (m, &q), "%s is %g, expected >= %g", name, v,
      min);
  g_hash_table_unref (m);
}

typedef struct
{
  gint on;
} Switch;

static gboolean
switch_condition (gpointer user_data, gdouble * value)
{
  Switch *sw = user_data;

  *value = g_atomic_int_get (&sw->on);
  return g_atomic_int_get (&sw->on);
}

static Switch *
add_switch_rule (const gchar * name)
{
  Switch *sw = g_new0 (Switch, 1);
  ApmAlertRule *r = apm_alert_rule_new_func (name, switch_condition, sw,
      g_free);

  apm_alert_rule_set_severity (r, APM_SEVERITY_CRITICAL);
  apm_alert_rule_set_message (r, "{{rule}} is on");
  apm_alerts_add_rule (alerts (), r);
  return sw;
}

/* Waits for an alert of @rule in @state in /monitoring/alerts; returns it
 * (json_object_unref() it). */
static JsonObject *
wait_alert (const gchar * rule, const gchar * state, gint64 timeout_us)
{
  return apm_test_wait_alert (session, base_url, "/monitoring/alerts", rule,
      NULL, NULL, state, timeout_us);
}

/* The one alert of a webhook body (an Alertmanager v2 array). */
static JsonObject *
body_alert (Hit * h)
{
  JsonParser *parser = json_parser_new ();
  JsonNode *root;
  JsonArray *arr;
  JsonObject *a;

  fail_unless (json_parser_load_from_data (parser, h->body, -1, NULL),
      "webhook body is not JSON: %s", h->body);
  root = json_parser_get_root (parser);
  fail_unless (JSON_NODE_HOLDS_ARRAY (root), "webhook body is not an "
      "array: %s", h->body);
  arr = json_node_get_array (root);
  fail_unless_equals_int (json_array_get_length (arr), 1);
  a = json_object_ref (json_array_get_object_element (arr, 0));
  g_object_unref (parser);
  return a;
}

static const gchar *
sub_string (JsonObject * o, const gchar * member, const gchar * key)
{
  JsonObject *sub = json_object_get_object_member (o, member);

  fail_unless (sub != NULL, "no \"%s\"", member);
  return json_object_has_member (sub, key) ?
      json_object_get_string_member (sub, key) : NULL;
}

static JsonObject *
find_rule (JsonNode * doc, const gchar * name)
{
  JsonArray *rules = json_object_get_array_member (json_node_get_object (doc),
      "rules");

  for (guint i = 0; i < json_array_get_length (rules); i++) {
    JsonObject *r = json_array_get_object_element (rules, i);

    if (g_strcmp0 (json_object_get_string_member (r, "name"), name) == 0)
      return r;
  }
  return NULL;
}

/* --- the tests --- */

/* The file is applied: no warning on the bus; its rules are listed (added,
 * a default replaced by name, one disabled), the tracer's alert-interval
 * wins over the file's; its health checks run. */
GST_START_TEST (test_config_applied)
{
  GstElement *p;
  gchar *url = NULL;
  guint port = 0;
  JsonNode *doc;
  JsonObject *r, *c;

  /* the first pipeline of the process: configuration problems would be
   * posted on its bus as WARNING messages, which apm_test_wait() fails on */
  p = apm_test_parse ("audiotestsrc num-buffers=3 ! fakesink", "apm_cfg0");
  apm_test_run_to_eos (p, &url, &port);
  apm_test_stop (p);
  fail_unless (url != NULL && port > 0);
  setup ();
  fail_unless_equals_string (url, base_url);
  g_free (url);

  doc = apm_test_http_json (session, "GET", base_url, "/monitoring/status",
      200);
  fail_unless_equals_int (json_object_get_int_member
      (json_object_get_object_member (json_object_get_object_member
              (json_node_get_object (doc), "service"), "config"),
          "alert_interval_seconds"), 1);
  json_node_unref (doc);

  doc = apm_test_http_json (session, "GET", base_url,
      "/monitoring/alerts/rules", 200);
  r = find_rule (doc, "apm_cfg_memory");
  fail_unless (r != NULL, "rule from the file not listed");
  fail_unless_equals_string (json_object_get_string_member (r, "severity"),
      "info");
  fail_unless_equals_string (json_object_get_string_member (r, "expression"),
      "last(apm_system_memory_used_percent[60s]) >= 0");
  fail_unless_equals_string (json_object_get_string_member (r, "message"),
      "memory at {{value}}%");
  r = find_rule (doc, "apm_cfg_match");
  fail_unless (r != NULL);
  fail_unless_equals_string (json_object_get_string_member (r, "expression"),
      "p95(apm_element_processing_seconds{factory=\"audioresample\"}[60s]) "
      "> 0.005");
  r = find_rule (doc, "high_memory_usage");
  fail_unless (r != NULL);
  fail_unless_equals_string (json_object_get_string_member (r, "expression"),
      "max(apm_system_memory_used_percent[5s]) > 1000");
  fail_unless_equals_string (json_object_get_string_member (r, "severity"),
      "critical");
  fail_unless_equals_float (json_object_get_double_member (r, "for_seconds"),
      2);
  fail_unless (find_rule (doc, "audio_silence") == NULL,
      "rule disabled in the file still listed");
  fail_unless (find_rule (doc, "pipeline_stalled") != NULL,
      "a default rule the file does not name is gone");
  json_node_unref (doc);

  /* health checks from the file: an HTTP probe of our server, paths */
  {
    gint64 deadline = g_get_monotonic_time () + 10 * T;
    gboolean done = FALSE;

    while (!done) {
      doc = apm_test_http_json (session, "GET", base_url,
          "/health/monitoring", 200);
      done = TRUE;
      for (guint i = 0; i < 3; i++) {
        const gchar *names[] = { "cfg_http", "cfg_path", "cfg_missing" };

        c = apm_test_health_check (doc, names[i]);
        fail_unless (c != NULL, "check %s from the file not listed",
            names[i]);
        if (g_strcmp0 (json_object_get_string_member (c, "status"),
                "unknown") == 0)
          done = FALSE;
      }
      if (done || g_get_monotonic_time () > deadline)
        break;
      json_node_unref (doc);
      g_usleep (50 * 1000);
    }
    fail_unless (done, "the file's checks did not run");
    c = apm_test_health_check (doc, "cfg_http");
    fail_unless_equals_string (json_object_get_string_member (c, "status"),
        "healthy");
    fail_unless_equals_string (json_object_get_string_member (c, "message"),
        "responding (200)");
    c = apm_test_health_check (doc, "cfg_path");
    fail_unless_equals_string (json_object_get_string_member (c, "status"),
        "healthy");
    c = apm_test_health_check (doc, "cfg_missing");
    fail_unless_equals_string (json_object_get_string_member (c, "status"),
        "unhealthy");
    fail_unless (g_str_has_suffix (json_object_get_string_member (c,
                "message"), "does not exist"));
    json_node_unref (doc);
  }
}

GST_END_TEST;

/* A firing alert is POSTed to the webhook as an Alertmanager v2 array:
 * labels.alertname (and severity, alert_id, the alert's labels),
 * annotations.summary (the message), startsAt (when it fired). */
GST_START_TEST (test_webhook_receives_alert)
{
  GPtrArray *got;
  Hit *h;
  JsonObject *body, *a;
  const gchar *id;

  setup ();
  /* the file's rule apm_cfg_memory (memory >= 0 %) fires at once */
  a = wait_alert ("apm_cfg_memory", "firing", 10 * T);
  id = json_object_get_string_member (a, "id");
  got = wait_hits ("\"apm_cfg_memory\"", 200, 1, 10 * T);
  h = got->pdata[0];
  fail_unless_equals_string (h->method, "POST");
  fail_unless_equals_string (h->path, "/hook");
  fail_unless_equals_string (h->content_type, "application/json");
  body = body_alert (h);
  fail_unless_equals_string (sub_string (body, "labels", "alertname"),
      "apm_cfg_memory");
  fail_unless_equals_string (sub_string (body, "labels", "severity"),
      "info");
  fail_unless_equals_string (sub_string (body, "labels", "alert_id"), id);
  /* the message as rendered when it fired ({{value}} moves on since) */
  fail_unless (g_str_has_prefix (sub_string (body, "annotations", "summary"),
          "memory at "), "summary '%s'", sub_string (body, "annotations",
          "summary"));
  fail_unless (g_str_has_suffix (sub_string (body, "annotations", "summary"),
          "%"));
  fail_unless (json_object_has_member (body, "startsAt"));
  fail_unless_equals_int64 (apm_test_parse_time
      (json_object_get_string_member (body, "startsAt")),
      apm_test_parse_time (json_object_get_string_member (a, "fired_at")));
  fail_if (json_object_has_member (body, "endsAt"), "endsAt while firing");
  /* pending is not sent: one POST for the alert, the firing one */
  fail_unless_equals_string (sub_string (body, "annotations", "state"),
      "firing");
  json_object_unref (body);
  g_ptr_array_unref (got);
  json_object_unref (a);
  wait_metric ("apm_webhook_sent_total", 1, 5 * T);
}

GST_END_TEST;

/* Resolution, automatic and by hand, is POSTed too, with endsAt. */
GST_START_TEST (test_webhook_receives_resolution)
{
  Switch *sw;
  JsonObject *a, *body;
  GPtrArray *got;
  gchar *id, *path;

  setup ();
  sw = add_switch_rule ("apm_cfg_auto");
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("apm_cfg_auto", "firing", 10 * T);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);
  g_ptr_array_unref (wait_hits ("\"apm_cfg_auto\"", 200, 1, 10 * T));
  g_atomic_int_set (&sw->on, 0);
  got = wait_hits ("\"apm_cfg_auto\"", 200, 2, 10 * T);
  body = body_alert (got->pdata[1]);
  fail_unless_equals_string (sub_string (body, "annotations", "state"),
      "resolved");
  fail_unless_equals_string (sub_string (body, "labels", "alert_id"), id);
  apm_test_parse_time (json_object_get_string_member (body, "endsAt"));
  json_object_unref (body);
  g_ptr_array_unref (got);
  g_free (id);

  /* by hand, over HTTP */
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("apm_cfg_auto", "firing", 10 * T);
  id = g_strdup (json_object_get_string_member (a, "id"));
  json_object_unref (a);
  g_ptr_array_unref (wait_hits ("\"apm_cfg_auto\"", 200, 3, 10 * T));
  path = g_strdup_printf ("/monitoring/alerts/%s/resolve", id);
  json_node_unref (apm_test_http_json (session, "POST", base_url, path, 200));
  got = wait_hits ("\"apm_cfg_auto\"", 200, 4, 10 * T);
  body = body_alert (got->pdata[3]);
  fail_unless_equals_string (sub_string (body, "annotations", "state"),
      "resolved");
  fail_unless_equals_string (sub_string (body, "labels", "alert_id"), id);
  json_object_unref (body);
  g_ptr_array_unref (got);
  apm_alerts_remove_rule (alerts (), "apm_cfg_auto");
  g_free (path);
  g_free (id);
}

GST_END_TEST;

/* The server fails twice (500), then accepts: the notification arrives on
 * the third attempt, after backoffs of about 1 s and 2 s; both failures
 * are counted; the alert was never lost. */
GST_START_TEST (test_webhook_retries_with_backoff)
{
  Switch *sw;
  GPtrArray *got;
  JsonObject *a, *first_body, *last_body;
  gdouble failures;
  gint64 gap1, gap2;

  setup ();
  failures = metric ("apm_webhook_failures_total");
  server_fail ("\"apm_cfg_retry\"", 2);
  sw = add_switch_rule ("apm_cfg_retry");
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("apm_cfg_retry", "firing", 10 * T);

  got = wait_hits ("\"apm_cfg_retry\"", 0, 3, 15 * T);
  fail_unless_equals_int (((Hit *) got->pdata[0])->answered, 500);
  fail_unless_equals_int (((Hit *) got->pdata[1])->answered, 500);
  fail_unless_equals_int (((Hit *) got->pdata[2])->answered, 200);
  /* the same notification each time */
  first_body = body_alert (got->pdata[0]);
  last_body = body_alert (got->pdata[2]);
  fail_unless_equals_string (sub_string (first_body, "labels", "alert_id"),
      json_object_get_string_member (a, "id"));
  fail_unless_equals_string (sub_string (last_body, "labels", "alert_id"),
      json_object_get_string_member (a, "id"));
  fail_unless_equals_string (sub_string (last_body, "annotations", "state"),
      "firing");
  /* backoff: 1 s then 2 s (whole-second timers: a quarter second early at
   * most) */
  gap1 = ((Hit *) got->pdata[1])->t_us - ((Hit *) got->pdata[0])->t_us;
  gap2 = ((Hit *) got->pdata[2])->t_us - ((Hit *) got->pdata[1])->t_us;
  fail_unless (gap1 >= 700 * 1000, "first_body retry after %.3f s", gap1 / 1e6);
  fail_unless (gap2 >= 1700 * 1000, "second retry after %.3f s",
      gap2 / 1e6);
  fail_unless (gap2 < 5 * T);
  wait_metric ("apm_webhook_failures_total", failures + 2, 5 * T);
  /* still firing all along */
  json_object_unref (wait_alert ("apm_cfg_retry", "firing", 1 * T));

  json_object_unref (first_body);
  json_object_unref (last_body);
  g_ptr_array_unref (got);
  json_object_unref (a);
  g_atomic_int_set (&sw->on, 0);
  g_ptr_array_unref (wait_hits ("\"apm_cfg_retry\"", 200, 2, 10 * T));
  apm_alerts_remove_rule (alerts (), "apm_cfg_retry");
}

GST_END_TEST;

/* A webhook that always fails: the alert is still served, every attempt
 * is a counted failure, and after the retries the notification is dropped
 * (and counted) so that the next ones go through. */
GST_START_TEST (test_webhook_always_failing)
{
  Switch *sw;
  GPtrArray *got;
  gdouble failures, dropped;

  setup ();
  failures = metric ("apm_webhook_failures_total");
  dropped = metric ("apm_webhook_dropped_total");
  server_fail ("\"apm_cfg_broken\"", -1);
  sw = add_switch_rule ("apm_cfg_broken");
  g_atomic_int_set (&sw->on, 1);
  json_object_unref (wait_alert ("apm_cfg_broken", "firing", 10 * T));
  g_ptr_array_unref (wait_hits ("\"apm_cfg_broken\"", 500, 2, 10 * T));
  wait_metric ("apm_webhook_failures_total", failures + 2, 5 * T);
  json_object_unref (wait_alert ("apm_cfg_broken", "firing", 1 * T));

  /* 1 + 3 retries (1 s, 2 s, 4 s), then given up */
  wait_metric ("apm_webhook_dropped_total", dropped + 1, 15 * T);
  got = hits_with ("\"apm_cfg_broken\"", 500);
  fail_unless_equals_int (got->len, 4);
  g_ptr_array_unref (got);
  json_object_unref (wait_alert ("apm_cfg_broken", "firing", 1 * T));

  /* the queue moves on: a later notification is delivered */
  server_fail (NULL, 0);
  g_atomic_int_set (&sw->on, 0);
  g_ptr_array_unref (wait_hits ("\"apm_cfg_broken\"", 200, 1, 10 * T));
  apm_alerts_remove_rule (alerts (), "apm_cfg_broken");
}

GST_END_TEST;

/* Nothing listening on the webhook's port: the alert is served all the
 * same and the failures are counted. */
GST_START_TEST (test_webhook_nothing_listening)
{
  Switch *sw;
  gdouble failures;
  guint before;
  GPtrArray *got;

  setup ();
  got = hits_with ("", 0);
  before = got->len;
  g_ptr_array_unref (got);
  failures = metric ("apm_webhook_failures_total");
  server_disconnect ();
  sw = add_switch_rule ("apm_cfg_dead");
  g_atomic_int_set (&sw->on, 1);
  json_object_unref (wait_alert ("apm_cfg_dead", "firing", 10 * T));
  wait_metric ("apm_webhook_failures_total", failures + 2, 10 * T);
  json_object_unref (wait_alert ("apm_cfg_dead", "firing", 1 * T));
  got = hits_with ("", 0);
  fail_unless_equals_int (got->len, before);
  g_ptr_array_unref (got);
  apm_alerts_remove_rule (alerts (), "apm_cfg_dead");
  server_reconnect ();
}

GST_END_TEST;

/* apm_alerts_resolve() is documented "Any thread": resolving from the
 * application's thread (here the test's, which runs no main loop) must
 * notify the webhook like a resolution over HTTP does. */
GST_START_TEST (test_resolve_from_application_thread)
{
  Switch *sw;
  JsonObject *a;
  JsonNode *node;
  guint sent, after_iterating;
  gdouble sent_before;
  gint64 deadline;

  setup ();
  sw = add_switch_rule ("apm_cfg_app");
  g_atomic_int_set (&sw->on, 1);
  a = wait_alert ("apm_cfg_app", "firing", 10 * T);
  g_ptr_array_unref (wait_hits ("\"apm_cfg_app\"", 200, 1, 20 * T));
  sent_before = metric ("apm_webhook_sent_total");
  node = apm_alerts_resolve (alerts (), json_object_get_string_member (a,
          "id"));
  fail_unless (node != NULL);
  fail_unless_equals_string (json_object_get_string_member
      (json_node_get_object (node), "resolved_by"), "manual");
  json_node_unref (node);
  json_object_unref (a);
  sent = count_hits_within ("\"apm_cfg_app\"", 200, 2, 10 * T, FALSE);
  /* whatever the call left on this thread's default context, run it, so
   * that the webhook is usable by the next tests (and to tell why) */
  after_iterating = count_hits_within ("\"apm_cfg_app\"", 200, 2, 10 * T,
      TRUE);
  /* ... until its completion has run too (it counts the delivery) */
  deadline = g_get_monotonic_time () + 10 * T;
  while (metric ("apm_webhook_sent_total") < sent_before + 1
      && g_get_monotonic_time () < deadline) {
    while (g_main_context_iteration (NULL, FALSE));
    g_usleep (10 * 1000);
  }
  apm_alerts_remove_rule (alerts (), "apm_cfg_app");
  fail_unless (sent >= 2, "the resolution was not sent to the webhook "
      "within 10 s%s", after_iterating >= 2 ? ": it went out only once the "
      "calling thread iterated its default GMainContext (the webhook's "
      "request was started on the calling thread, not the service's)" : "");
}

GST_END_TEST;

static Suite *
apm_config_suite (void)
{
  Suite *s = suite_create ("apm_config");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  /* in this order: the first_body one runs the process's first_body pipeline */
  tcase_add_test (tc, test_config_applied);
  tcase_add_test (tc, test_webhook_receives_alert);
  tcase_add_test (tc, test_webhook_receives_resolution);
  tcase_add_test (tc, test_resolve_from_application_thread);
  tcase_add_test (tc, test_webhook_retries_with_backoff);
  tcase_add_test (tc, test_webhook_always_failing);
  tcase_add_test (tc, test_webhook_nothing_listening);
  return s;
}

static void
write_config (void)
{
  GError *error = NULL;
  gchar *missing = g_build_filename (tmp_dir, "no-such-dir", NULL);
  gchar *text = g_strdup_printf ("{\n"
      "  \"alert_interval\": 30,\n"
      "  \"webhook\": {\"url\": \"http://127.0.0.1:%u/hook\", "
      "\"timeout\": 2},\n"
      "  \"rules\": [\n"
      "    {\"name\": \"apm_cfg_memory\",\n"
      "     \"metric\": \"apm_system_memory_used_percent\",\n"
      "     \"op\": \">=\", \"threshold\": 0, \"severity\": \"info\",\n"
      "     \"message\": \"memory at {{value}}%%\"},\n"
      "    {\"name\": \"apm_cfg_match\",\n"
      "     \"metric\": \"apm_element_processing_seconds\",\n"
      "     \"aggregation\": \"p95\", \"match\": {\"factory\": "
      "\"audioresample\"},\n"
      "     \"op\": \">\", \"threshold\": 0.005},\n"
      "    {\"name\": \"high_memory_usage\",\n"
      "     \"metric\": \"apm_system_memory_used_percent\",\n"
      "     \"aggregation\": \"max\", \"window\": 5, \"op\": \">\",\n"
      "     \"threshold\": 1000, \"for\": 2, \"severity\": \"critical\",\n"
      "     \"message\": \"replaced\"},\n"
      "    {\"name\": \"audio_silence\", \"enabled\": false}\n"
      "  ],\n"
      "  \"health_checks\": [\n"
      "    {\"name\": \"cfg_http\", \"type\": \"http\",\n"
      "     \"url\": \"http://127.0.0.1:%u/health\", \"expect_status\": 200,\n"
      "     \"timeout\": 2, \"interval\": 1},\n"
      "    {\"name\": \"cfg_path\", \"type\": \"path\", \"path\": \"%s\",\n"
      "     \"interval\": 1},\n"
      "    {\"name\": \"cfg_missing\", \"type\": \"path\", \"path\": \"%s\",\n"
      "     \"interval\": 1}\n"
      "  ]\n"
      "}\n", srv.port, srv.port, tmp_dir, missing);

  config_path = g_build_filename (tmp_dir, "apm.json", NULL);
  if (!g_file_set_contents (config_path, text, -1, &error))
    g_error ("%s", error->message);
  g_free (text);
  g_free (missing);
}

int
main (int argc, char **argv)
{
  gchar *tracers;
  int ret;

  /* the server's port goes into the file, which is read at gst_init() */
  server_start ();
  tmp_dir = g_dir_make_tmp ("apm-config-XXXXXX", NULL);
  g_assert (tmp_dir != NULL);
  write_config ();
  tracers = g_strdup_printf ("apm(port=0,quiet=true,alert-interval=1,"
      "config=%s)", config_path);
  apm_test_prepare_env (tracers);
  g_unsetenv ("APM_CONFIG");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  ret = gst_check_run_suite (apm_config_suite (), "apm_config", __FILE__);
  g_unlink (config_path);
  g_rmdir (tmp_dir);
  g_free (tracers);
  return ret;
}
