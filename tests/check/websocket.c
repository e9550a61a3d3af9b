/* gst-apm tests: the /ws/monitoring WebSocket feed
 *
 * Runs in-process with GST_TRACERS="apm(port=0,quiet=true,ws-rate=5,
 * alert-interval=1)" and CK_FORK=no: one service for every test here.  A
 * live pipeline runs during each test (checked fixture; each test stops it
 * at its end); clients are libsoup WebSocket clients on their own
 * GMainContext, iterated with deadlines (apmtestutil).
 *
 * The default 1 Hz rate, the 256-client cap and a stalled client at
 * ws-rate=20 are tested by tests/e2e/ws-test.sh, against gst-launch-1.0
 * processes (each with its own tracer params).
 */
#include <gst/check/gstcheck.h>
#include <string.h>

#include "apmtestutil.h"
#include "apm-service.h"
#include "apm-alerts.h"
#include "apm-log-store.h"

#define WS_RATE 5
#define UPDATE "monitoring_update"
#define SECONDS(s) ((gint64) ((s) * G_USEC_PER_SEC))

static GstElement *live;
static gchar *url;
static SoupSession *session;
/* what a test opened, closed by the teardown when the test failed early */
static GList *open_clients;     /* ApmTestWs */

static ApmTestWs *
ws_open (void)
{
  ApmTestWs *ws = apm_test_ws_connect (url, "/ws/monitoring");

  open_clients = g_list_prepend (open_clients, ws);
  return ws;
}

static void
ws_close (ApmTestWs * ws)
{
  open_clients = g_list_remove (open_clients, ws);
  apm_test_ws_free (ws);
}

static void
ws_abort (ApmTestWs * ws)
{
  open_clients = g_list_remove (open_clients, ws);
  apm_test_ws_abort (ws);
}

/* a live pipeline that keeps the service busy; fakesink syncs to the clock,
 * so its element has no own-time summary (a case the status must handle) */
static void
live_setup (void)
{
  live = apm_test_parse ("audiotestsrc is-live=true samplesperbuffer=441 ! "
      "audioconvert ! queue ! fakesink sync=true", "wslive");
  url = apm_test_play_live (live);
  session = apm_test_session_new ();
}

static void trap_criticals_reset (void);

/* Called at the end of each test body too: GST_END_TEST waits for every
 * streaming thread, so the pipeline must be stopped by then.  After a
 * failure the checked teardown does it. */
static void
live_teardown (void)
{
  while (open_clients)
    ws_close (open_clients->data);
  apm_test_stop_tracked ();
  trap_criticals_reset ();
  apm_alerts_remove_rule (apm_service_get_alerts (apm_service_get_default
          ()), "ws_test_alert");
  g_clear_object (&session);
  if (live)
    apm_test_stop (live);
  live = NULL;
  g_clear_pointer (&url, g_free);
}

/* timing and memory measurements mean nothing there: only checked when
 * not instrumented */
static gboolean
instrumented (void)
{
  return apm_test_time_scale () > 1;
}

static JsonObject *
msg_object (ApmTestWsMessage * m)
{
  fail_unless (m->root && JSON_NODE_HOLDS_OBJECT (m->root),
      "WebSocket message is not a JSON object: %s", m->text);
  return json_node_get_object (m->root);
}

/* "data" as an object */
static JsonObject *
msg_data (ApmTestWsMessage * m)
{
  JsonNode *d = json_object_get_member (msg_object (m), "data");

  fail_unless (d && JSON_NODE_HOLDS_OBJECT (d), "%s message without a data "
      "object: %.300s", GST_STR_NULL (m->type), m->text);
  return json_node_get_object (d);
}

/* Every message carries a type and an RFC 3339 timestamp close to now. */
static gint64
check_envelope (ApmTestWsMessage * m)
{
  JsonObject *o = msg_object (m);
  const gchar *ts;
  gint64 t;

  fail_unless (m->type != NULL, "message without a type: %.300s", m->text);
  ts = apm_test_member_string (o, "timestamp");
  t = apm_test_parse_time (ts);
  fail_unless (ABS (t - g_get_real_time ()) <
      APM_TEST_SCALED (SECONDS (10)), "%s: timestamp %s is far from now",
      m->type, ts);
  return t;
}

/* data.pipelines holds a PLAYING pipeline named @name */
static void
check_has_pipeline (JsonObject * data, const gchar * name)
{
  JsonNode *n = json_object_get_member (data, "pipelines");
  JsonArray *arr;
  gboolean found = FALSE;

  fail_unless (n && JSON_NODE_HOLDS_ARRAY (n), "no pipelines array");
  arr = json_node_get_array (n);
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonObject *p = json_array_get_object_element (arr, i);

    if (g_strcmp0 (apm_test_member_string (p, "name"), name) == 0) {
      found = TRUE;
      fail_unless_equals_string (apm_test_member_string (p, "state"),
          "PLAYING");
      fail_unless (json_object_has_member (p, "elements"),
          "pipeline %s without elements", name);
    }
  }
  fail_unless (found, "pipeline %s not in data.pipelines", name);
}

static gint64
system_ws_connections (JsonObject * data)
{
  return json_object_get_int_member (apm_test_member_object (data,
          "system_metrics"), "websocket_connections");
}

/* The server handles a client's messages in order and answers a bad one at
 * once: after the error reply to a marker, everything sent before it has
 * been applied. */
static void
sync_with_server (ApmTestWs * ws)
{
  ApmTestWsMessage *m;

  apm_test_ws_send_text (ws, "sync marker (not JSON)");
  m = apm_test_ws_wait_type (ws, "error", apm_test_deadline_in (5));
  fail_unless (m != NULL, "no error reply to a marker within 5 s");
  apm_test_ws_message_free (m);
}

static void
subscribe (ApmTestWs * ws, const gchar * topics_json)
{
  gchar *text = g_strdup_printf ("{\"type\": \"subscribe\", \"topics\": %s}",
      topics_json);

  apm_test_ws_send_text (ws, text);
  g_free (text);
  sync_with_server (ws);
}

static ApmTestWs *
connect_after_snapshot (void)
{
  ApmTestWs *ws = ws_open ();
  ApmTestWsMessage *m = apm_test_ws_wait_type (ws, "snapshot",
      apm_test_deadline_in (5));

  fail_unless (m != NULL, "no snapshot within 5 s of connecting");
  apm_test_ws_message_free (m);
  return ws;
}

GST_START_TEST (test_snapshot_on_connect)
{
  gint64 t0 = g_get_monotonic_time ();
  ApmTestWs *ws = ws_open ();
  ApmTestWsMessage *first, *snap;
  /* not on the heap: a failure must not leak them */
  gchar first_type[64], first_text[301];
  JsonObject *data;

  first = apm_test_ws_next (ws, apm_test_deadline_in (5));
  fail_unless (first != NULL, "no message within 5 s of connecting");
  g_strlcpy (first_type, first->type ? first->type : "(none)",
      sizeof first_type);
  g_strlcpy (first_text, first->text, sizeof first_text);
  if (g_strcmp0 (first->type, "snapshot") == 0) {
    snap = first;
  } else {
    apm_test_ws_message_free (first);
    snap = apm_test_ws_wait_type (ws, "snapshot", apm_test_deadline_in (5));
    fail_unless (snap != NULL, "no snapshot within 5 s of connecting");
  }
  fail_unless (snap->arrival_us - t0 < APM_TEST_SCALED (SECONDS (2)),
      "the snapshot came %.2f s after connecting",
      (snap->arrival_us - t0) / 1e6);
  check_envelope (snap);
  data = msg_data (snap);
  check_has_pipeline (data, "wslive");
  fail_unless (json_object_has_member (data, "status"));
  apm_test_member_string (data, "status");
  apm_test_member_object (data, "service");
  fail_unless (system_ws_connections (data) >= 1,
      "the snapshot counts %" G_GINT64_FORMAT " WebSocket connections",
      system_ws_connections (data));
  apm_test_ws_message_free (snap);

  /* the protocol: the snapshot is the first message a client gets */
  fail_unless (g_strcmp0 (first_type, "snapshot") == 0,
      "the first message on connect is a '%s', not the snapshot: %s",
      first_type, first_text);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_update_rate)
{
  ApmTestWs *ws = connect_after_snapshot ();
  ApmTestWsMessage *m;
  gint64 t1, last, max_gap = 0, prev_ts;
  guint in_window = 0, total = 0;
  gdouble rate;

  /* the first update after the snapshot starts the clock */
  m = apm_test_ws_wait_type (ws, UPDATE, apm_test_deadline_in (3));
  fail_unless (m != NULL, "no monitoring_update within 3 s");
  t1 = last = m->arrival_us;
  prev_ts = check_envelope (m);
  check_has_pipeline (msg_data (m), "wslive");
  apm_test_ws_message_free (m);
  in_window = total = 1;

  /* count over 1.2 s (ws-rate=5: 6 or 7), then go on to 3 s for the rate */
  while ((m = apm_test_ws_wait_type (ws, UPDATE, t1 +
              APM_TEST_SCALED (SECONDS (3))))) {
    gint64 ts = check_envelope (m);

    fail_unless (ts >= prev_ts, "update timestamps go backwards");
    prev_ts = ts;
    check_has_pipeline (msg_data (m), "wslive");
    total++;
    if (m->arrival_us <= t1 + SECONDS (1.2))
      in_window++;
    max_gap = MAX (max_gap, m->arrival_us - last);
    last = m->arrival_us;
    apm_test_ws_message_free (m);
  }
  GST_INFO ("%u updates in 1.2 s, %u in 3 s, max gap %.3f s", in_window,
      total, max_gap / 1e6);
  fail_unless (total >= 2, "too few updates to measure a rate");
  if (instrumented ()) {
    live_teardown ();
    return;
  }
  fail_unless (in_window >= 4, "ws-rate=%d: only %u updates in 1.2 s",
      WS_RATE, in_window);
  fail_unless (in_window <= 9, "ws-rate=%d: %u updates in 1.2 s", WS_RATE,
      in_window);
  rate = (total - 1) / ((last - t1) / 1e6);
  fail_unless (rate >= WS_RATE * 0.75 && rate <= WS_RATE * 1.3,
      "ws-rate=%d: measured %.2f updates/s", WS_RATE, rate);
  fail_unless (max_gap < SECONDS (3.0 / WS_RATE),
      "a gap of %.3f s between updates at ws-rate=%d", max_gap / 1e6,
      WS_RATE);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

/* Counts the messages of each type that arrive until @deadline_us. */
static GHashTable *
count_types (ApmTestWs * ws, gint64 deadline_us)
{
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  ApmTestWsMessage *m;

  while ((m = apm_test_ws_next (ws, deadline_us))) {
    const gchar *type = m->type ? m->type : "(none)";

    g_hash_table_insert (counts, g_strdup (type),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts,
                    type)) + 1));
    apm_test_ws_message_free (m);
  }
  return counts;
}

static guint
count_of (GHashTable * counts, const gchar * type)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, type));
}

GST_START_TEST (test_subscribe_alert_only)
{
  ApmTestWs *ws = connect_after_snapshot ();
  ApmTestWsMessage *m;
  GHashTable *counts;
  ApmLog *log = apm_service_get_log (apm_service_get_default ());

  /* all topics by default */
  m = apm_test_ws_wait_type (ws, UPDATE, apm_test_deadline_in (3));
  fail_unless (m != NULL, "no monitoring_update before subscribing");
  apm_test_ws_message_free (m);

  subscribe (ws, "[\"alert\"]");
  /* a log line is not an alert either */
  apm_log_write (log, APM_LOG_WARNING, "wstest", NULL, NULL,
      "not for alert subscribers");
  counts = count_types (ws, apm_test_deadline_in (7.0 / WS_RATE));
  fail_unless_equals_int (count_of (counts, UPDATE), 0);
  fail_unless_equals_int (count_of (counts, "log"), 0);
  fail_unless_equals_int (count_of (counts, "snapshot"), 0);
  g_hash_table_unref (counts);
  fail_unless (apm_test_ws_is_open (ws));

  /* and back: updates resume */
  subscribe (ws, "[\"monitoring_update\", \"alert\"]");
  m = apm_test_ws_wait_type (ws, UPDATE,
      apm_test_deadline_in (3.0 / WS_RATE + 1));
  fail_unless (m != NULL, "no monitoring_update after subscribing to it");
  apm_test_ws_message_free (m);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

/* Criticals from the service thread (json-glib's included) are fatal in
 * the test environment (G_DEBUG=fatal-criticals), which would kill every
 * test here: while trapping, they are counted instead and the test fails
 * with the first one's text. */
static GMutex trap_lock;
static guint trapped;
static gchar *first_trapped;
static GLogLevelFlags saved_fatal;
static guint trap_handlers[3];
static const gchar *trap_domains[] = { "Json", "GLib", "libsoup" };

static void
trap_critical (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  g_mutex_lock (&trap_lock);
  if (!trapped++)
    first_trapped = g_strdup_printf ("%s-CRITICAL: %s", domain, message);
  g_mutex_unlock (&trap_lock);
}

static gboolean trap_active;

static void
trap_criticals_begin (void)
{
  trap_active = TRUE;
  trapped = 0;
  g_clear_pointer (&first_trapped, g_free);
  saved_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  for (guint i = 0; i < G_N_ELEMENTS (trap_domains); i++)
    trap_handlers[i] = g_log_set_handler (trap_domains[i],
        G_LOG_LEVEL_CRITICAL, trap_critical, NULL);
}

static void
trap_criticals_reset (void)
{
  if (!trap_active)
    return;
  trap_active = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (trap_domains); i++)
    g_log_remove_handler (trap_domains[i], trap_handlers[i]);
  g_log_set_always_fatal (saved_fatal);
}

static void
trap_criticals_end (const gchar * what)
{
  guint n;
  gchar *first;

  trap_criticals_reset ();
  g_mutex_lock (&trap_lock);
  n = trapped;
  first = first_trapped;
  first_trapped = NULL;
  g_mutex_unlock (&trap_lock);
  fail_unless (n == 0, "%u criticals while %s; the first: %s", n, what,
      first);
  g_free (first);
}

GST_START_TEST (test_bad_client_messages)
{
  static const gchar *bad[] = {
    "not json",
    "{",
    "",
    "[1, 2]",
    "\"subscribe\"",
    "   ",
    "null",
    "{\"type\": \"subscribe\"}",
    "{\"type\": \"subscribe\", \"topics\": \"alert\"}",
    "{\"type\": \"subscribe\", \"topics\": [\"bogus\"]}",
    "{\"type\": \"subscribe\", \"topics\": [1]}",
    "{\"type\": \"subscribe\", \"topics\": [null]}",
    /* half good: must not be applied at all */
    "{\"type\": \"subscribe\", \"topics\": [\"alert\", \"bogus\"]}",
    "{\"type\": \"unsubscribe\", \"topics\": [\"alert\"]}",
    "{\"topics\": [\"alert\"]}",
  };
  ApmTestWs *ws = connect_after_snapshot ();
  ApmTestWsMessage *m;
  const guint8 binary[] = { 0x7b, 0x00, 0xff, 0x7d };

  trap_criticals_begin ();
  for (guint i = 0; i <= G_N_ELEMENTS (bad); i++) {
    JsonNode *d;
    const gchar *what = i < G_N_ELEMENTS (bad) ? bad[i] : "(binary)";

    if (i < G_N_ELEMENTS (bad))
      apm_test_ws_send_text (ws, bad[i]);
    else
      apm_test_ws_send_binary (ws, binary, sizeof binary);
    m = apm_test_ws_wait_type (ws, "error", apm_test_deadline_in (3));
    fail_unless (m != NULL, "no error reply to '%s'", what);
    check_envelope (m);
    d = json_object_get_member (msg_object (m), "data");
    fail_unless (d != NULL, "error reply to '%s' without data", what);
    /* a string, or an object with a message */
    if (JSON_NODE_HOLDS_OBJECT (d))
      fail_unless (strlen (apm_test_member_string (json_node_get_object (d),
                  "message")) > 0);
    else
      fail_unless (JSON_NODE_HOLDS_VALUE (d)
          && json_node_get_value_type (d) == G_TYPE_STRING
          && strlen (json_node_get_string (d)) > 0,
          "error reply to '%s' has no message: %s", what, m->text);
    apm_test_ws_message_free (m);
    fail_unless (apm_test_ws_is_open (ws), "the server closed the "
        "connection after '%s'", what);
  }
  trap_criticals_end ("the server handled bad client messages");

  /* still open, still subscribed to everything */
  apm_test_ws_drain (ws);
  m = apm_test_ws_wait_type (ws, UPDATE,
      apm_test_deadline_in (3.0 / WS_RATE + 1));
  fail_unless (m != NULL,
      "no monitoring_update after the bad messages: a "
      "bad subscription was applied, or the connection is dead");
  apm_test_ws_message_free (m);
  fail_unless (apm_test_ws_is_open (ws));
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

static gint alert_condition_flag;

static gboolean
alert_condition (gpointer user_data, gdouble * value)
{
  gboolean on = g_atomic_int_get (&alert_condition_flag);

  *value = on ? 42 : 0;
  return on;
}

/* Waits for an "alert" event of rule ws_test_alert with event @event;
 * returns the message. */
static ApmTestWsMessage *
wait_alert_event (ApmTestWs * ws, const gchar * event, gint64 deadline_us,
    gboolean * saw_pending)
{
  ApmTestWsMessage *m;

  while ((m = apm_test_ws_wait_type (ws, "alert", deadline_us))) {
    JsonObject *d = msg_data (m);
    JsonObject *a = apm_test_member_object (d, "alert");

    if (g_strcmp0 (apm_test_member_string (a, "rule"), "ws_test_alert") == 0) {
      const gchar *ev = apm_test_member_string (d, "event");

      if (saw_pending && strcmp (ev, "pending") == 0)
        *saw_pending = TRUE;
      if (strcmp (ev, event) == 0)
        return m;
    }
    apm_test_ws_message_free (m);
  }
  return NULL;
}

GST_START_TEST (test_alert_event_at_once)
{
  ApmAlerts *alerts = apm_service_get_alerts (apm_service_get_default ());
  ApmAlertRule *rule;
  ApmTestWs *ws;
  ApmTestWsMessage *m;
  JsonObject *a;
  gint64 t0, sent, fired;
  gchar *id;
  gboolean saw_pending = FALSE;

  fail_unless_equals_int (apm_service_get_alert_interval
      (apm_service_get_default ()), 1);
  g_atomic_int_set (&alert_condition_flag, 0);
  rule = apm_alert_rule_new_func ("ws_test_alert", alert_condition, NULL,
      NULL);
  apm_alert_rule_set_severity (rule, APM_SEVERITY_WARNING);
  apm_alert_rule_set_message (rule, "ws test alert {{value}}");
  apm_alerts_add_rule (alerts, rule);

  ws = connect_after_snapshot ();
  subscribe (ws, "[\"alert\"]");

  t0 = g_get_monotonic_time ();
  g_atomic_int_set (&alert_condition_flag, 1);
  /* evaluated every second: firing within about 1 s, sent at once */
  m = wait_alert_event (ws, "firing", apm_test_deadline_in (4), &saw_pending);
  fail_unless (m != NULL, "no firing alert event within 4 s");
  fail_unless (m->arrival_us - t0 < APM_TEST_SCALED (SECONDS (2.5)),
      "the firing alert came %.2f s after its condition held (alert-interval"
      "=1)", (m->arrival_us - t0) / 1e6);
  fail_unless (saw_pending, "no pending event before firing");
  sent = check_envelope (m);
  a = apm_test_member_object (msg_data (m), "alert");
  fail_unless_equals_string (apm_test_member_string (a, "state"), "firing");
  fail_unless_equals_string (apm_test_member_string (a, "severity"),
      "warning");
  fail_unless_equals_string (apm_test_member_string (a, "message"),
      "ws test alert 42");
  fired = apm_test_parse_time (apm_test_member_string (a, "fired_at"));
  /* pushed when it fired, not with a later periodic update */
  fail_unless (sent - fired >= 0
      && sent - fired < APM_TEST_SCALED (SECONDS (0.5)),
      "alert fired at %s but was sent %.3f s later",
      apm_test_member_string (a, "fired_at"), (sent - fired) / 1e6);
  id = g_strdup (apm_test_member_string (a, "id"));
  apm_test_ws_message_free (m);

  t0 = g_get_monotonic_time ();
  g_atomic_int_set (&alert_condition_flag, 0);
  m = wait_alert_event (ws, "resolved", apm_test_deadline_in (4), NULL);
  fail_unless (m != NULL, "no resolved alert event within 4 s");
  a = apm_test_member_object (msg_data (m), "alert");
  fail_unless_equals_string (apm_test_member_string (a, "id"), id);
  fail_unless_equals_string (apm_test_member_string (a, "state"), "resolved");
  apm_test_ws_message_free (m);

  fail_unless (apm_alerts_remove_rule (alerts, "ws_test_alert"));
  g_free (id);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

static gint64
health_ws_connections (void)
{
  JsonNode *root = apm_test_http_json (session, "GET", url,
      "/health/monitoring", 200);
  gint64 n =
      system_ws_connections (apm_test_member_object (json_node_get_object
          (root), "monitoring"));

  json_node_unref (root);
  return n;
}

static void
wait_ws_connections (gint64 expected, gdouble timeout_s)
{
  gint64 deadline = apm_test_deadline_in (timeout_s), n;

  while ((n = health_ws_connections ()) != expected
      && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  fail_unless (n == expected, "/health/monitoring counts %" G_GINT64_FORMAT
      " WebSocket connections, expected %" G_GINT64_FORMAT " (within %.0f s)",
      n, expected, timeout_s);
}

GST_START_TEST (test_connections_counted)
{
  ApmTestWs *a, *b, *c;
  ApmTestWsMessage *m;

  /* the other tests' clients are gone */
  wait_ws_connections (0, 5);
  a = connect_after_snapshot ();
  b = connect_after_snapshot ();
  c = connect_after_snapshot ();
  fail_unless_equals_int (health_ws_connections (), 3);
  /* a's queue may still hold updates from before b and c came */
  {
    gint64 deadline = apm_test_deadline_in (3), n = -1;

    while (n != 3 && (m = apm_test_ws_wait_type (a, UPDATE, deadline))) {
      n = system_ws_connections (msg_data (m));
      fail_unless (n >= 1 && n <= 3, "an update counts %" G_GINT64_FORMAT
          " WebSocket connections", n);
      apm_test_ws_message_free (m);
    }
    fail_unless (n == 3, "no update counting the 3 connections");
  }

  ws_close (b);         /* a close frame */
  wait_ws_connections (2, 5);
  ws_abort (c);        /* gone without a close frame */
  wait_ws_connections (1, 5);
  ws_close (a);
  wait_ws_connections (0, 5);
  live_teardown ();
}

GST_END_TEST;

GST_START_TEST (test_log_lines_pushed)
{
  ApmLog *log = apm_service_get_log (apm_service_get_default ());
  ApmTestWs *ws = connect_after_snapshot ();
  ApmTestWsMessage *m;
  JsonObject *ctx, *line;
  GstElement *p;
  gboolean started = FALSE, completed = FALSE;
  gint64 deadline;

  subscribe (ws, "[\"log\"]");
  ctx = json_object_new ();
  json_object_set_string_member (ctx, "k", "v");
  apm_log_write (log, APM_LOG_WARNING, "wstest", "wstest-cid", ctx,
      "pushed %s", "\xc3\xbc \"quoted\"");
  deadline = apm_test_deadline_in (3);
  while ((m = apm_test_ws_wait_type (ws, "log", deadline))) {
    check_envelope (m);
    line = msg_data (m);
    apm_test_check_log_line (line);
    if (g_strcmp0 (apm_test_member_string (line, "component"), "wstest") == 0)
      break;
    apm_test_ws_message_free (m);
  }
  fail_unless (m != NULL, "our log line was not pushed within 3 s");
  fail_unless_equals_string (apm_test_member_string (line, "message"),
      "pushed \xc3\xbc \"quoted\"");
  fail_unless_equals_string (apm_test_member_string (line, "level"),
      "warning");
  fail_unless_equals_string (apm_test_member_string (line, "correlation_id"),
      "wstest-cid");
  fail_unless_equals_string (apm_test_member_string (apm_test_member_object
          (line, "context"), "k"), "v");
  apm_test_ws_message_free (m);

  /* a pipeline run logs its job's start and end: both pushed */
  p = apm_test_parse_tracked ("audiotestsrc num-buffers=3 ! fakesink", "wslogjob");
  apm_test_run_to_eos (p, NULL, NULL);
  deadline = apm_test_deadline_in (3);
  while ((!started || !completed)
      && (m = apm_test_ws_wait_type (ws, "log", deadline))) {
    line = msg_data (m);
    apm_test_check_log_line (line);
    if (g_strcmp0 (apm_test_member_string (line, "component"), "jobs") == 0
        && strstr (apm_test_member_string (line, "message"), "wslogjob#1")) {
      fail_if (JSON_NODE_HOLDS_NULL (json_object_get_member (line,
                  "correlation_id")), "job line without correlation id");
      if (strstr (apm_test_member_string (line, "message"), "started"))
        started = TRUE;
      else
        completed = TRUE;
    }
    apm_test_ws_message_free (m);
  }
  fail_unless (started, "no job start line pushed");
  fail_unless (completed, "no job end line pushed");
  apm_test_stop_untrack (p);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

/* The "job" topic is accepted by subscribe: a pipeline run (a job) should
 * produce events on it. */
GST_START_TEST (test_job_topic_events)
{
  ApmTestWs *ws = connect_after_snapshot ();
  ApmTestWsMessage *m;
  GstElement *p;

  subscribe (ws, "[\"job\"]");
  p = apm_test_parse_tracked ("audiotestsrc num-buffers=3 ! fakesink", "wsjobtopic");
  apm_test_run_to_eos (p, NULL, NULL);
  m = apm_test_ws_wait_type (ws, "job", apm_test_deadline_in (3));
  fail_unless (m != NULL, "subscribed to \"job\", ran a pipeline to EOS: "
      "no \"job\" event within 3 s (nothing publishes on the job topic)");
  check_envelope (m);
  fail_unless (strstr (m->text, "wsjobtopic") != NULL,
      "job event does not name the run: %.300s", m->text);
  apm_test_ws_message_free (m);
  apm_test_stop_untrack (p);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

/* The "health" topic is accepted by subscribe too: a health check that
 * changes status (a pipeline failing) should produce an event on it. */
GST_START_TEST (test_health_topic_events)
{
  ApmTestWs *ws = connect_after_snapshot ();
  ApmTestWsMessage *m;
  GstElement *p;

  subscribe (ws, "[\"health\"]");
  p = apm_test_parse_tracked ("filesrc location=/nonexistent/apm-test/missing.wav ! "
      "fakesink", "wshealth");
  gst_element_set_state (p, GST_STATE_PLAYING);
  apm_test_wait (p, TRUE, NULL, NULL, NULL);
  /* health checks run every second */
  m = apm_test_ws_wait_type (ws, "health", apm_test_deadline_in (4));
  fail_unless (m != NULL, "subscribed to \"health\", a pipeline failed: "
      "no \"health\" event within 4 s (nothing publishes on the health "
      "topic)");
  check_envelope (m);
  fail_unless (strstr (m->text, "wshealth") != NULL,
      "health event does not name the failed pipeline: %.300s", m->text);
  apm_test_ws_message_free (m);
  apm_test_stop_untrack (p);
  ws_close (ws);
  live_teardown ();
}

GST_END_TEST;

/* Every update builds the status document: it must not leak.  Built over
 * HTTP here (faster than waiting for updates); the WebSocket tick calls the
 * same apm_status_detailed(). */
GST_START_TEST (test_status_document_does_not_leak)
{
  const guint n = 1000;
  guint64 before, after;
  gsize size = 0;

  /* valgrind reports leaks itself; RSS means nothing under ASan */
  if (instrumented ()) {
    live_teardown ();
    return;
  }

  for (guint i = 0; i < 100; i++) {
    ApmTestResponse *r = apm_test_http (session, "GET", url,
        "/monitoring/status");

    fail_unless_equals_int (r->status, 200);
    size = g_bytes_get_size (r->body);
    apm_test_response_free (r);
  }
  before = apm_test_self_rss ();
  for (guint i = 0; i < n; i++) {
    ApmTestResponse *r = apm_test_http (session, "GET", url,
        "/monitoring/status");

    fail_unless_equals_int (r->status, 200);
    apm_test_response_free (r);
  }
  after = apm_test_self_rss ();
  GST_INFO ("RSS %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " after %u "
      "status documents of %" G_GSIZE_FORMAT " bytes", before, after, n,
      size);
  fail_unless (after < before + 4 * 1024 * 1024,
      "RSS grew by %.1f MB over %u GET /monitoring/status (%.1f KB each, "
      "documents of %" G_GSIZE_FORMAT " bytes): the status document leaks",
      (after - before) / 1048576.0, n, (after - before) / 1024.0 / n, size);
  live_teardown ();
}

GST_END_TEST;

static Suite *
websocket_suite (void)
{
  Suite *s = suite_create ("apm_websocket");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_checked_fixture (tc, live_setup, live_teardown);
  tcase_add_test (tc, test_snapshot_on_connect);
  tcase_add_test (tc, test_update_rate);
  tcase_add_test (tc, test_subscribe_alert_only);
  tcase_add_test (tc, test_bad_client_messages);
  tcase_add_test (tc, test_alert_event_at_once);
  tcase_add_test (tc, test_connections_counted);
  tcase_add_test (tc, test_log_lines_pushed);
  tcase_add_test (tc, test_job_topic_events);
  tcase_add_test (tc, test_health_topic_events);
  tcase_add_test (tc, test_status_document_does_not_leak);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true,ws-rate=5,alert-interval=1)");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (websocket_suite (), "apm_websocket", __FILE__);
}
