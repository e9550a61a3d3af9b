/* gst-apm tests: circuit breakers (issue 18)
 *
 * Runs with GST_TRACERS="apm(port=0,quiet=true,alert-interval=1,config=F)"
 * and CK_FORK=no (one service per process).  The state machine runs on a
 * clock the test drives; what a user sees of a breaker (its health check,
 * its metrics, its WebSocket events and log lines) is read over HTTP.  The
 * service's own outbound calls have one breaker each: the webhook and the
 * HTTP health check of the configuration file point at a test server that
 * fails on demand.
 */
#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-breaker-private.h"
#include "apm-service.h"
#include "apm-config.h"

#define S ((gint64) G_USEC_PER_SEC)
/* deadlines (upper bounds) stretch under valgrind and sanitizers */
#define T (APM_TEST_SCALED (G_USEC_PER_SEC))

static SoupSession *session;
static gchar *base_url;
static gchar *tmp_dir, *config_path;

/* --- a clock the tests drive --- */

static gint64
fake_clock (gpointer user_data)
{
  return *(gint64 *) user_data;
}

/* --- the test server: webhook receiver and probe target --- */

static struct
{
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  SoupServer *server;
  guint port;
  GMutex lock;
  GCond cond;
  gboolean started;
  gboolean failing;             /* every request gets 500 */
  guint probe_requests;         /* GET /flaky */
  GPtrArray *delivered;         /* bodies of POST /hook answered 200 */
  guint hook_failed;            /* POST /hook answered 500 */
} srv;

static void
server_callback (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  SoupMessageBody *req = soup_server_message_get_request_body (msg);
  GBytes *bytes = soup_message_body_flatten (req);
  guint status;

  g_mutex_lock (&srv.lock);
  status = srv.failing ? 500 : 200;
  if (g_strcmp0 (path, "/flaky") == 0) {
    srv.probe_requests++;
  } else if (status == 200) {
    g_ptr_array_add (srv.delivered, g_strndup (g_bytes_get_data (bytes,
                NULL), g_bytes_get_size (bytes)));
  } else {
    srv.hook_failed++;
  }
  g_cond_broadcast (&srv.cond);
  g_mutex_unlock (&srv.lock);
  g_bytes_unref (bytes);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_STATIC, "{}", 2);
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
  srv.delivered = g_ptr_array_new_with_free_func (g_free);
  srv.failing = TRUE;
  srv.context = g_main_context_new ();
  srv.loop = g_main_loop_new (srv.context, FALSE);
  srv.thread = g_thread_new ("test-server", server_thread, NULL);
  g_mutex_lock (&srv.lock);
  while (!srv.started)
    g_cond_wait (&srv.cond, &srv.lock);
  g_mutex_unlock (&srv.lock);
}

static void
server_set_failing (gboolean failing)
{
  g_mutex_lock (&srv.lock);
  srv.failing = failing;
  g_mutex_unlock (&srv.lock);
}

static guint
probe_requests (void)
{
  guint n;

  g_mutex_lock (&srv.lock);
  n = srv.probe_requests;
  g_mutex_unlock (&srv.lock);
  return n;
}

/* Waits until a body holding @marker was delivered (answered 200). */
static gboolean
wait_delivered (const gchar * marker, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gboolean found = FALSE;

  g_mutex_lock (&srv.lock);
  while (!found) {
    for (guint i = 0; i < srv.delivered->len && !found; i++)
      found = strstr (srv.delivered->pdata[i], marker) != NULL;
    if (!found && !g_cond_wait_until (&srv.cond, &srv.lock, deadline))
      break;
  }
  g_mutex_unlock (&srv.lock);
  return found;
}

/* --- the service --- */

static void
setup (void)
{
  if (base_url)
    return;
  base_url = apm_test_start_service ();
  session = apm_test_session_new ();
}

typedef struct
{
  const gchar *name;
  const gchar *const *labels;   /* name, value, ..., NULL */
  gdouble value;
  gboolean at_least;
} MetricQuery;

static gboolean
metric_matches (GHashTable * m, gpointer user_data)
{
  MetricQuery *q = user_data;
  gdouble v;

  if (!apm_test_metric_valuev (m, &v, q->name, q->labels))
    return FALSE;
  return q->at_least ? v >= q->value : v == q->value;
}

/* Waits until the series @name{labels} is @value (or at least @value). */
static void
wait_metric (const gchar * name, const gchar * const *labels, gdouble value,
    gboolean at_least, gint64 timeout_us)
{
  MetricQuery q = { name, labels, value, at_least };
  GHashTable *m = apm_test_wait_metrics (session, base_url, metric_matches,
      &q, timeout_us);
  gdouble v = -1;
  gboolean present = apm_test_metric_valuev (m, &v, name, labels);

  fail_unless (metric_matches (m, &q), "%s{%s=\"%s\"...} is %s%g, expected "
      "%s%g", name, labels[0], labels[1], present ? "" : "absent: ", v,
      at_least ? ">= " : "", value);
  g_hash_table_unref (m);
}

/* The breaker's state series, as a user reads it */
static void
wait_state_metric (const gchar * breaker, ApmCircuitState state)
{
  const gchar *labels[] = { "name", breaker, NULL };

  wait_metric ("apm_circuit_breaker_state", labels, state, FALSE, 5 * T);
}

static gboolean
series_absent (GHashTable * m, gpointer user_data)
{
  const gchar *labels[] = { "name", user_data, NULL };
  gdouble v;

  return !apm_test_metric_valuev (m, &v, "apm_circuit_breaker_state",
      labels);
}

typedef struct
{
  const gchar *check, *status, *prefix;
} CheckQuery;

static gboolean
check_matches (JsonNode * doc, gpointer user_data)
{
  CheckQuery *q = user_data;
  JsonObject *c = apm_test_health_check (doc, q->check);
  const gchar *status, *message;

  if (!q->status)
    return c == NULL;
  if (!c)
    return FALSE;
  status = apm_test_str (c, "status");
  message = apm_test_str (c, "message");
  return g_strcmp0 (status, q->status) == 0 && (!q->prefix || (message
          && strstr (message, q->prefix)));
}

/* Waits until the health check @check is @status with a message holding
 * @part (NULL: any; @status NULL: until the check is gone); returns the
 * check (json_object_unref() it) or NULL when gone. */
static JsonObject *
wait_check (const gchar * check, const gchar * status, const gchar * part,
    gint64 timeout_us)
{
  CheckQuery q = { check, status, part };
  JsonNode *doc = apm_test_wait_json (session, base_url,
      "/health/monitoring", check_matches, &q, timeout_us);
  JsonObject *c = apm_test_health_check (doc, check);
  gchar *text = json_to_string (doc, TRUE);

  fail_unless (check_matches (doc, &q), "check %s not %s%s%s: %s", check,
      status ? status : "gone", part ? " with " : "", part ? part : "",
      text);
  g_free (text);
  if (c)
    json_object_ref (c);
  json_node_unref (doc);
  return c;
}

/* --- the state machine, on a driven clock --- */

GST_START_TEST (test_state_machine)
{
  gint64 now = 1000 * S;
  ApmCircuitBreaker *b = apm_circuit_breaker_new ("apm_test_sm", 3, 10);

  apm_circuit_breaker_set_clock (b, fake_clock, &now);
  fail_unless_equals_string (apm_circuit_breaker_get_name (b), "apm_test_sm");
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_CLOSED);

  /* failures below the threshold, then a success: they start again */
  fail_unless (apm_circuit_breaker_allow (b));
  apm_circuit_breaker_record_failure (b);
  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_CLOSED);
  apm_circuit_breaker_record_success (b);
  apm_circuit_breaker_record_failure (b);
  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_CLOSED);
  fail_unless (apm_circuit_breaker_allow (b));

  /* the third in a row opens it: calls are refused */
  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_OPEN);
  fail_if (apm_circuit_breaker_allow (b));
  fail_if (apm_circuit_breaker_allow (b));
  fail_unless_equals_int (apm_circuit_breaker_get_n_rejected (b), 2);
  /* a late result of an earlier call changes nothing */
  apm_circuit_breaker_record_success (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_OPEN);

  /* open for the whole reset timeout */
  now += 10 * S - 1;
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_OPEN);
  fail_unless_equals_int (apm_circuit_breaker_get_retry_in_us (b), 1);
  fail_if (apm_circuit_breaker_allow (b));

  /* then half-open: exactly one trial call */
  now += 1;
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_HALF_OPEN);
  fail_unless (apm_circuit_breaker_allow (b));
  fail_if (apm_circuit_breaker_allow (b));
  fail_if (apm_circuit_breaker_allow (b));
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_HALF_OPEN);

  /* the trial fails: open again, for another reset timeout */
  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_OPEN);
  fail_if (apm_circuit_breaker_allow (b));
  now += 5 * S;
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_OPEN);
  now += 5 * S;
  fail_unless (apm_circuit_breaker_allow (b));
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_HALF_OPEN);

  /* a trial whose result never comes: another one after a reset timeout */
  fail_if (apm_circuit_breaker_allow (b));
  now += 10 * S;
  fail_unless (apm_circuit_breaker_allow (b));
  fail_if (apm_circuit_breaker_allow (b));

  /* the trial succeeds: closed, calls go through, failures from zero */
  apm_circuit_breaker_record_success (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_CLOSED);
  fail_unless (apm_circuit_breaker_allow (b));
  fail_unless (apm_circuit_breaker_allow (b));
  apm_circuit_breaker_record_failure (b);
  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_CLOSED);
  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_OPEN);

  g_object_unref (b);
}

GST_END_TEST;

/* A threshold of 0 counts as 1; a timeout of 0 half-opens at once; the
 * state enumeration is registered for bindings. */
GST_START_TEST (test_edge_settings)
{
  ApmCircuitBreaker *b = apm_circuit_breaker_new ("apm_test_edge", 0, 0);
  GEnumClass *klass;

  apm_circuit_breaker_record_failure (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_HALF_OPEN);
  fail_unless (apm_circuit_breaker_allow (b));
  apm_circuit_breaker_record_success (b);
  fail_unless_equals_int (apm_circuit_breaker_get_state (b),
      APM_CIRCUIT_STATE_CLOSED);
  g_object_unref (b);

  klass = g_type_class_ref (APM_TYPE_CIRCUIT_STATE);
  fail_unless_equals_string (g_enum_get_value (klass,
          APM_CIRCUIT_STATE_OPEN)->value_nick, "open");
  fail_unless_equals_int (g_enum_get_value_by_nick (klass,
          "half-open")->value, 1);
  g_type_class_unref (klass);
}

GST_END_TEST;

/* Many threads asking and recording at once: the breaker stays
 * consistent (a transition count per state change, every call counted).
 * Its clock advances a microsecond per reading while they run, then
 * stops, so that the final state can be compared with the series. */
static gint64 ticks;
static gint ticking;

static gint64
tick_clock (gpointer user_data)
{
  if (g_atomic_int_get (&ticking))
    return __atomic_add_fetch (&ticks, 1, __ATOMIC_RELAXED);
  return __atomic_load_n (&ticks, __ATOMIC_RELAXED);
}

typedef struct
{
  ApmCircuitBreaker *breaker;
  guint allowed;
} Hammer;

static gpointer
hammer_thread (gpointer data)
{
  Hammer *h = data;

  for (guint i = 0; i < 2000; i++) {
    if (apm_circuit_breaker_allow (h->breaker)) {
      h->allowed++;
      if (i % 3)
        apm_circuit_breaker_record_failure (h->breaker);
      else
        apm_circuit_breaker_record_success (h->breaker);
    }
    (void) apm_circuit_breaker_get_state (h->breaker);
  }
  return NULL;
}

GST_START_TEST (test_threads)
{
  ApmCircuitBreaker *b;
  Hammer h[4];
  GThread *threads[4];
  GHashTable *m;
  gdouble to_open = 0, to_closed = 0, to_half = 0, state = -1, rejected = 0;
  guint64 allowed = 0;

  setup ();
  b = apm_circuit_breaker_new ("apm_test_threads", 2, 0.0002);
  apm_circuit_breaker_set_clock (b, tick_clock, NULL);
  g_atomic_int_set (&ticking, 1);
  for (guint i = 0; i < G_N_ELEMENTS (h); i++) {
    h[i].breaker = b;
    h[i].allowed = 0;
    threads[i] = g_thread_new ("hammer", hammer_thread, &h[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (h); i++) {
    g_thread_join (threads[i]);
    allowed += h[i].allowed;
  }
  g_atomic_int_set (&ticking, 0);
  /* settle a pending half-opening before reading the series */
  (void) apm_circuit_breaker_get_state (b);
  m = apm_test_fetch_metrics (session, base_url);
  fail_unless (apm_test_metric_value (m, &to_open,
          "apm_circuit_breaker_transitions_total", "name",
          "apm_test_threads", "to", "open", NULL));
  fail_unless (apm_test_metric_value (m, &to_half,
          "apm_circuit_breaker_transitions_total", "name",
          "apm_test_threads", "to", "half_open", NULL));
  fail_unless (apm_test_metric_value (m, &to_closed,
          "apm_circuit_breaker_transitions_total", "name",
          "apm_test_threads", "to", "closed", NULL));
  fail_unless (apm_test_metric_value (m, &state,
          "apm_circuit_breaker_state", "name", "apm_test_threads", NULL));
  fail_unless (apm_test_metric_value (m, &rejected,
          "apm_circuit_breaker_rejected_total", "name", "apm_test_threads",
          NULL));
  g_hash_table_unref (m);
  /* every call is counted once: allowed or rejected */
  fail_unless_equals_int ((guint64) rejected + allowed, 4 * 2000);
  fail_unless_equals_int ((guint64) rejected,
      apm_circuit_breaker_get_n_rejected (b));
  fail_unless (to_open >= 1);
  /* states alternate: closed -> open -> half-open -> closed or open */
  fail_unless (to_half <= to_open && to_half >= to_open - 1,
      "open %g, half-open %g", to_open, to_half);
  fail_unless (to_closed <= to_half);
  fail_unless_equals_int ((gint) state, apm_circuit_breaker_get_state (b));
  g_object_unref (b);
}

GST_END_TEST;

/* What a user sees: the health check breaker:NAME (degraded while open),
 * the state and transitions series, a log line and a WebSocket event per
 * transition; all of it gone with the breaker. */
GST_START_TEST (test_visible_in_monitor)
{
  gint64 now = 5000 * S;
  ApmCircuitBreaker *b;
  ApmTestWs *ws;
  ApmTestWsMessage *msg;
  JsonObject *check, *details, *data;
  JsonNode *logs;
  JsonArray *lines;
  GHashTable *m;
  const gchar *open_labels[] = { "name", "apm_test_seen", "to", "open",
    NULL
  };
  const gchar *rejected_labels[] = { "name", "apm_test_seen", NULL };
  gboolean logged = FALSE;

  setup ();
  ws = apm_test_ws_connect (base_url, "/ws/monitoring");
  b = apm_circuit_breaker_new ("apm_test_seen", 2, 30);
  apm_circuit_breaker_set_clock (b, fake_clock, &now);

  check = wait_check ("breaker:apm_test_seen", "healthy", "closed", 5 * T);
  json_object_unref (check);
  wait_state_metric ("apm_test_seen", APM_CIRCUIT_STATE_CLOSED);

  apm_circuit_breaker_record_failure (b);
  apm_circuit_breaker_record_failure (b);
  fail_if (apm_circuit_breaker_allow (b));
  check = wait_check ("breaker:apm_test_seen", "degraded", "open since",
      5 * T);
  details = apm_test_member_object (check, "details");
  fail_unless_equals_string (apm_test_member_string (details, "state"),
      "open");
  fail_unless_equals_int (apm_test_member_int (details,
          "consecutive_failures"), 2);
  fail_unless_equals_int (apm_test_member_int (details, "rejected_calls"), 1);
  json_object_unref (check);
  wait_state_metric ("apm_test_seen", APM_CIRCUIT_STATE_OPEN);
  wait_metric ("apm_circuit_breaker_transitions_total", open_labels, 1,
      FALSE, 5 * T);
  wait_metric ("apm_circuit_breaker_rejected_total", rejected_labels, 1,
      FALSE, 5 * T);

  /* the event on the WebSocket feed */
  do {
    msg = apm_test_ws_wait_type (ws, "breaker", apm_test_deadline_in (5));
    fail_unless (msg != NULL, "no breaker event on the WebSocket");
    data = apm_test_member_object (json_node_get_object (msg->root), "data");
    if (g_strcmp0 (apm_test_str (data, "name"), "apm_test_seen") == 0)
      break;
    apm_test_ws_message_free (msg);
  } while (TRUE);
  fail_unless_equals_string (apm_test_member_string (data, "state"), "open");
  fail_unless_equals_string (apm_test_member_string (data, "previous"),
      "closed");
  apm_test_parse_time (apm_test_member_string (data, "time"));
  apm_test_ws_message_free (msg);

  /* and in the log */
  logs = apm_test_http_json (session, "GET", base_url,
      "/monitoring/logs?component=breaker", 200);
  lines = json_object_get_array_member (json_node_get_object (logs), "logs");
  for (guint i = 0; i < json_array_get_length (lines); i++) {
    JsonObject *line = json_array_get_object_element (lines, i);
    JsonObject *ctx = apm_test_member_object (line, "context");

    apm_test_check_log_line (line);
    if (g_strcmp0 (apm_test_str (ctx, "breaker"), "apm_test_seen") == 0
        && g_strcmp0 (apm_test_str (ctx, "to"), "open") == 0) {
      fail_unless_equals_string (apm_test_str (line, "level"), "warning");
      logged = TRUE;
    }
  }
  fail_unless (logged, "no log line for the opening");
  json_node_unref (logs);

  /* half-open (degraded), then the trial succeeds: closed, healthy */
  now += 30 * S;
  check = wait_check ("breaker:apm_test_seen", "degraded", "half-open",
      5 * T);
  json_object_unref (check);
  wait_state_metric ("apm_test_seen", APM_CIRCUIT_STATE_HALF_OPEN);
  fail_unless (apm_circuit_breaker_allow (b));
  apm_circuit_breaker_record_success (b);
  check = wait_check ("breaker:apm_test_seen", "healthy", "closed", 5 * T);
  json_object_unref (check);
  wait_state_metric ("apm_test_seen", APM_CIRCUIT_STATE_CLOSED);
  msg = apm_test_ws_wait_type (ws, "breaker", apm_test_deadline_in (5));
  fail_unless (msg != NULL);
  apm_test_ws_message_free (msg);

  /* gone with the breaker: its check, then (past the grace period, 0
   * here) its series */
  g_object_unref (b);
  fail_unless (wait_check ("breaker:apm_test_seen", NULL, NULL, 5 * T) ==
      NULL);
  m = apm_test_wait_metrics (session, base_url, series_absent,
      (gpointer) "apm_test_seen", 5 * T);
  fail_unless (series_absent (m, (gpointer) "apm_test_seen"),
      "apm_circuit_breaker_state{name=\"apm_test_seen\"} still exposed");
  g_hash_table_unref (m);
  apm_test_ws_free (ws);
}

GST_END_TEST;

static ApmHealthStatus
replacement_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  *message = g_strdup ("replaced");
  return APM_HEALTH_HEALTHY;
}

/* The HTTP health check of the configuration file has its breaker
 * (failures 2, reset_timeout 3): once open, the URL is not requested and
 * the check says so; when the server recovers, the trial closes it. */
GST_START_TEST (test_http_check_breaker)
{
  const gchar *rejected[] = { "name", "health:flaky", NULL };
  JsonObject *check;
  guint before, during;

  setup ();
  server_set_failing (TRUE);
  wait_state_metric ("health:flaky", APM_CIRCUIT_STATE_OPEN);
  check = wait_check ("flaky", "unhealthy", "not requested: circuit breaker "
      "health:flaky is open", 5 * T);
  json_object_unref (check);
  check = wait_check ("breaker:health:flaky", "degraded", "open since",
      5 * T);
  json_object_unref (check);
  wait_metric ("apm_circuit_breaker_rejected_total", rejected, 1, TRUE,
      5 * T);

  /* the next trial recovers it (requests resume only then) */
  before = probe_requests ();
  server_set_failing (FALSE);
  check = wait_check ("flaky", "healthy", "responding", 10 * T);
  json_object_unref (check);
  wait_state_metric ("health:flaky", APM_CIRCUIT_STATE_CLOSED);
  during = probe_requests ();
  fail_unless (during > before);
  check = wait_check ("breaker:health:flaky", "healthy", "closed", 5 * T);
  json_object_unref (check);

  /* replaced by another check of the same name: the probe, and with it
   * its breaker, go (no deadlock on the health checks' lock) */
  apm_health_add_check (apm_service_get_health (apm_service_get_default ()),
      "flaky", replacement_check, NULL, NULL, 1);
  check = wait_check ("flaky", "healthy", "replaced", 5 * T);
  json_object_unref (check);
  fail_unless (wait_check ("breaker:health:flaky", NULL, NULL, 5 * T) ==
      NULL);
}

GST_END_TEST;

/* A switch alert rule: fires while on */
static gboolean
switch_condition (gpointer user_data, gdouble * value)
{
  *value = g_atomic_int_get ((gint *) user_data);
  return *value != 0;
}

/* The webhook's breaker (failures 2, reset_timeout 5): a failing receiver
 * opens it; the notification is then held (counted, logged), not lost, and
 * delivered once the receiver is back and the trial succeeds. */
GST_START_TEST (test_webhook_breaker)
{
  static gint on;
  const gchar *none[] = { NULL };
  ApmAlertRule *rule;
  JsonObject *check;
  JsonNode *logs;
  gchar *text;

  setup ();
  server_set_failing (TRUE);
  rule = apm_alert_rule_new_func ("apm_breaker_alert", switch_condition, &on,
      NULL);
  apm_alert_rule_set_severity (rule, APM_SEVERITY_WARNING);
  apm_alerts_add_rule (apm_service_get_alerts (apm_service_get_default ()),
      rule);
  g_atomic_int_set (&on, 1);

  /* two failed sends (the first and its retry 1 s later) open it; the
   * next retry, 2 s later, is held */
  wait_state_metric ("webhook", APM_CIRCUIT_STATE_OPEN);
  wait_metric ("apm_webhook_deferred_total", none, 1, TRUE, 10 * T);
  check = wait_check ("breaker:webhook", "degraded", "open", 5 * T);
  json_object_unref (check);
  logs = apm_test_http_json (session, "GET", base_url,
      "/monitoring/logs?component=webhook", 200);
  text = json_to_string (logs, FALSE);
  fail_unless (strstr (text, "notifications held") != NULL,
      "the held notifications are not logged: %s", text);
  g_free (text);
  json_node_unref (logs);

  /* the receiver is back: the trial delivers the held notification */
  server_set_failing (FALSE);
  fail_unless (wait_delivered ("\"apm_breaker_alert\"", 15 * T),
      "the held notification was not delivered");
  wait_state_metric ("webhook", APM_CIRCUIT_STATE_CLOSED);
  g_atomic_int_set (&on, 0);
  apm_alerts_remove_rule (apm_service_get_alerts (apm_service_get_default
          ()), "apm_breaker_alert");
}

GST_END_TEST;

/* The configuration's "breaker" blocks are checked like the rest of the
 * file: a bad one rejects it, with a message naming the problem. */
GST_START_TEST (test_config_checked)
{
  static const struct
  {
    const gchar *text, *problem;
  } cases[] = {
    {"{\"webhook\": {\"url\": \"http://h/x\", \"breaker\": "
          "{\"failures\": 3, \"reset_timeout\": 10}}}", NULL},
    {"{\"webhook\": {\"url\": \"http://h/x\", \"breaker\": "
          "{\"failures\": 0}}}", "failures"},
    {"{\"webhook\": {\"url\": \"http://h/x\", \"breaker\": "
          "{\"reset_timeout\": -1}}}", "reset_timeout"},
    {"{\"webhook\": {\"url\": \"http://h/x\", \"breaker\": "
          "{\"retries\": 2}}}", "retries"},
    {"{\"webhook\": {\"url\": \"http://h/x\", \"breaker\": 5}}",
        "breaker"},
    {"{\"health_checks\": [{\"name\": \"p\", \"type\": \"path\", "
          "\"path\": \"/tmp\", \"breaker\": {\"failures\": 2}}]}",
        "http checks only"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *error = NULL;
    gboolean ok = apm_config_check_data ("t.json", cases[i].text,
        strlen (cases[i].text), &error);

    if (!cases[i].problem) {
      fail_unless (ok, "%s rejected: %s", cases[i].text,
          error ? error->message : "?");
    } else {
      fail_if (ok, "%s accepted", cases[i].text);
      fail_unless (error && strstr (error->message, cases[i].problem),
          "%s: \"%s\" does not name %s", cases[i].text,
          error ? error->message : "", cases[i].problem);
    }
    g_clear_error (&error);
  }
}

GST_END_TEST;

static Suite *
apm_breaker_suite (void)
{
  Suite *s = suite_create ("apm_breaker");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_state_machine);
  tcase_add_test (tc, test_edge_settings);
  tcase_add_test (tc, test_config_checked);
  tcase_add_test (tc, test_threads);
  tcase_add_test (tc, test_visible_in_monitor);
  tcase_add_test (tc, test_http_check_breaker);
  tcase_add_test (tc, test_webhook_breaker);
  return s;
}

static void
write_config (void)
{
  GError *error = NULL;
  gchar *text = g_strdup_printf ("{\n"
      "  \"webhook\": {\"url\": \"http://127.0.0.1:%u/hook\", "
      "\"timeout\": 2,\n"
      "    \"breaker\": {\"failures\": 2, \"reset_timeout\": 5}},\n"
      "  \"health_checks\": [\n"
      "    {\"name\": \"flaky\", \"type\": \"http\",\n"
      "     \"url\": \"http://127.0.0.1:%u/flaky\", \"timeout\": 2,\n"
      "     \"interval\": 1,\n"
      "     \"breaker\": {\"failures\": 2, \"reset_timeout\": 3}}\n"
      "  ]\n"
      "}\n", srv.port, srv.port);

  config_path = g_build_filename (tmp_dir, "apm.json", NULL);
  if (!g_file_set_contents (config_path, text, -1, &error))
    g_error ("%s", error->message);
  g_free (text);
}

int
main (int argc, char **argv)
{
  gchar *tracers;
  int ret;

  server_start ();
  tmp_dir = g_dir_make_tmp ("apm-breaker-XXXXXX", NULL);
  g_assert (tmp_dir != NULL);
  write_config ();
  tracers = g_strdup_printf ("apm(port=0,quiet=true,alert-interval=1,"
      "config=%s)", config_path);
  apm_test_prepare_env (tracers);
  g_unsetenv ("APM_CONFIG");
  /* a breaker's series leave the exposition at once when it goes */
  g_setenv ("APM_SERIES_GRACE_SECONDS", "0", TRUE);
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  ret = gst_check_run_suite (apm_breaker_suite (), "apm_breaker", __FILE__);
  g_unlink (config_path);
  g_rmdir (tmp_dir);
  g_free (tracers);
  return ret;
}
