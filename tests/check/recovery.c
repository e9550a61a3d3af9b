/* gst-apm tests: automated recovery from real faults
 *
 *  - a TCP audio source (tcpclientsrc) whose server stops sending on its
 *    first connection (the stall is found in 5 s) and serves the next one:
 *    the policy from the tracer's recovery= param restarts it;
 *  - a TCP source whose server resets its first connection: an ERROR, in
 *    an application that opted in with apm_monitor_set_recovery(): the
 *    application never sees the ERROR, the pipeline is restarted;
 *  - a sink that blocks (an appsink nobody pulls from): flushing seeks help
 *    a moment each, then recovery gives up and recovery_failed fires.
 *
 * Throughout, a canary pipeline in the same process keeps playing clean:
 * never stalled, no underrun at its apmonitor, its buffers growing.
 *
 * Runs with GST_TRACERS="apm(...,recovery=...)" and CK_FORK=no.
 */
#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "apmtestutil.h"
#include "apm-monitor.h"
#include "apm-recovery.h"
#include "apm-config.h"

#define WAIT_US (30 * G_USEC_PER_SEC)
/* 20 ms of 48 kHz mono S16LE */
#define CHUNK_BYTES 1920
#define CHUNK_US 20000

/* --- a TCP audio server with a fault on its first connection --- */

typedef enum
{
  FAULT_GO_SILENT,              /* 2 s of audio, then nothing (kept open) */
  FAULT_RESET,                  /* 1 s of audio, then a TCP reset */
} Fault;

typedef struct
{
  GSocket *listener;
  guint16 port;
  Fault fault;
  gint connections;             /* atomic */
  gint stop;                    /* atomic */
  GThread *thread;
  GPtrArray *workers;           /* GThread, accept thread only */
} Server;

typedef struct
{
  Server *server;
  GSocket *conn;
  gint n;                       /* 1 for the first connection */
} Conn;

static gpointer
serve (gpointer data)
{
  Conn *c = data;
  Server *s = c->server;
  guint8 chunk[CHUNK_BYTES];
  gint64 next = g_get_monotonic_time (), start = next;
  gboolean faulty = c->n == 1;

  memset (chunk, 0, sizeof chunk);
  for (guint i = 0; i < sizeof chunk; i += 2)
    chunk[i + 1] = (i / 2) % 48 < 24 ? 0x10 : 0xf0;    /* a square wave */
  g_socket_set_blocking (c->conn, TRUE);
  while (!g_atomic_int_get (&s->stop)) {
    gint64 sent_us = g_get_monotonic_time () - start;

    if (faulty && s->fault == FAULT_RESET && sent_us >= G_USEC_PER_SEC) {
      struct linger l = { 1, 0 };

      /* close with RST: the client's next read fails */
      setsockopt (g_socket_get_fd (c->conn), SOL_SOCKET, SO_LINGER, &l,
          sizeof l);
      break;
    }
    if (faulty && s->fault == FAULT_GO_SILENT
        && sent_us >= 2 * G_USEC_PER_SEC) {
      /* silent, connection open, until the client goes or the test ends */
      g_usleep (CHUNK_US);
      if (g_socket_condition_check (c->conn, G_IO_HUP | G_IO_ERR | G_IO_IN))
        break;
      continue;
    }
    if (g_socket_send (c->conn, (const gchar *) chunk, sizeof chunk, NULL,
            NULL) < 0)
      break;
    next += CHUNK_US;
    if (next > g_get_monotonic_time ())
      g_usleep (next - g_get_monotonic_time ());
  }
  g_socket_close (c->conn, NULL);
  g_object_unref (c->conn);
  g_free (c);
  return NULL;
}

static gpointer
accept_loop (gpointer data)
{
  Server *s = data;

  while (!g_atomic_int_get (&s->stop)) {
    GError *error = NULL;
    GSocket *conn = g_socket_accept (s->listener, NULL, &error);
    Conn *c;

    if (!conn) {
      g_clear_error (&error);   /* the 1 s timeout: check stop */
      continue;
    }
    c = g_new0 (Conn, 1);
    c->server = s;
    c->conn = conn;
    c->n = g_atomic_int_add (&s->connections, 1) + 1;
    g_ptr_array_add (s->workers, g_thread_new ("test-tcp-conn", serve, c));
  }
  return NULL;
}

static Server *
server_start (Fault fault)
{
  Server *s = g_new0 (Server, 1);
  GInetAddress *lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (lo, 0), *bound;

  s->fault = fault;
  s->workers = g_ptr_array_new ();
  s->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  fail_unless (s->listener != NULL);
  fail_unless (g_socket_bind (s->listener, addr, TRUE, NULL));
  fail_unless (g_socket_listen (s->listener, NULL));
  g_socket_set_timeout (s->listener, 1);
  bound = g_socket_get_local_address (s->listener, NULL);
  s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_object_unref (bound);
  g_object_unref (addr);
  g_object_unref (lo);
  s->thread = g_thread_new ("test-tcp-server", accept_loop, s);
  return s;
}

static void
server_stop (Server * s)
{
  g_atomic_int_set (&s->stop, 1);
  g_thread_join (s->thread);
  for (guint i = 0; i < s->workers->len; i++)
    g_thread_join (s->workers->pdata[i]);
  g_ptr_array_unref (s->workers);
  g_socket_close (s->listener, NULL);
  g_object_unref (s->listener);
  g_free (s);
}

static GstElement *
tcp_pipeline (const gchar * name, guint16 port)
{
  gchar *desc = g_strdup_printf ("tcpclientsrc host=127.0.0.1 port=%u ! "
      "rawaudioparse use-sink-caps=false format=pcm pcm-format=s16le "
      "sample-rate=48000 num-channels=1 ! fakesink name=out sync=true",
      port);
  GstElement *p = apm_test_parse_tracked (desc, name);

  g_free (desc);
  return p;
}

/* --- what the user checks --- */

static gdouble
metric (SoupSession * session, const gchar * url, const gchar * name, ...)
{
  GHashTable *m = apm_test_fetch_metrics (session, url);
  GPtrArray *labels = g_ptr_array_new ();
  const gchar *l;
  gdouble v = 0;
  va_list args;

  va_start (args, name);
  while ((l = va_arg (args, const gchar *)))
     g_ptr_array_add (labels, (gpointer) l);
  va_end (args);
  g_ptr_array_add (labels, NULL);
  if (!apm_test_metric_valuev (m, &v, name,
          (const gchar * const *) labels->pdata))
    v = 0;
  g_ptr_array_unref (labels);
  g_hash_table_unref (m);
  return v;
}

typedef struct
{
  SoupSession *session;
  const gchar *url;
  GstElement *pipeline;
  gdouble first_buffers, first_underruns;
  gint64 started_us;
} Canary;

static Canary canary;

static gdouble
canary_buffers (void)
{
  return metric (canary.session, canary.url, "apm_monitor_buffers_total",
      "pipeline", "canary", "monitor", "canary", NULL);
}

/* the canary plays on: never stalled, no underrun, buffers at its rate
 * (43 a second: 1024 samples at 44.1 kHz) since it started */
static void
check_canary (void)
{
  gdouble got = canary_buffers () - canary.first_buffers, underruns;
  gdouble seconds = (g_get_monotonic_time () - canary.started_us) / 1e6;

  fail_unless (metric (canary.session, canary.url,
          "apm_pipeline_stalled_seconds", "pipeline", "canary", NULL) == 0,
      "the canary stalled");
  underruns = metric (canary.session, canary.url,
      "apm_monitor_underruns_total", "pipeline", "canary", "monitor",
      "canary", NULL) - canary.first_underruns;
  fail_unless (underruns == 0, "the canary had %.0f underruns", underruns);
  fail_unless (metric (canary.session, canary.url,
          "apm_pipeline_recoveries_total", "pipeline", "canary", "reason",
          "stall", "result", "success", NULL) == 0);
  /* fed to the second: at least 80 % of real time, allowing for the
   * metrics' one-second fold */
  fail_unless (got >= (seconds - 2) * 43 * 0.8, "the canary got %.0f "
      "buffers in %.1f s", got, seconds);
  GST_INFO ("canary: %.0f buffers in %.1f s, no stall, no underrun", got,
      seconds);
}

static void
canary_start (SoupSession * session, const gchar * url)
{
  /* an underrun: a buffer later than an audio sink with 200 ms of
   * buffering (audiobasesink's default buffer-time) could absorb; half a
   * buffer, apmonitor's default, is exceeded by scheduling noise alone on
   * a loaded machine, with or without the monitor */
  gchar *desc = g_strdup_printf ("audiotestsrc is-live=true ! apmonitor "
      "name=canary tolerance=%" G_GUINT64_FORMAT " ! fakesink sync=true",
      (guint64) APM_TEST_SCALED (200 * GST_MSECOND));

  canary.session = session;
  canary.url = url;
  canary.pipeline = apm_test_parse_tracked (desc, "canary");
  g_free (desc);
  g_free (apm_test_play_live (canary.pipeline));
  /* past its start (the first buffer may come before the latency is set):
   * two reports of its apmonitor's intervals */
  {
    gint64 deadline = apm_test_deadline_in (10);
    gdouble first = canary_buffers (), second = first;

    while ((first <= 0 || second <= first)
        && g_get_monotonic_time () < deadline) {
      g_usleep (100000);
      if (first <= 0)
        first = second = canary_buffers ();
      else
        second = canary_buffers ();
    }
    fail_unless (second > first && first > 0, "the canary does not play");
  }
  canary.started_us = g_get_monotonic_time ();
  canary.first_buffers = canary_buffers ();
  canary.first_underruns = metric (session, url,
      "apm_monitor_underruns_total", "pipeline", "canary", "monitor",
      "canary", NULL);
}

static void
canary_stop (void)
{
  check_canary ();
  apm_test_stop_untrack (canary.pipeline);
  canary.pipeline = NULL;
}

/* waits until the counter of @pipeline's recoveries for @reason with
 * @result reaches @n; returns it */
static gdouble
wait_recoveries (SoupSession * session, const gchar * url,
    const gchar * pipeline, const gchar * reason, const gchar * result,
    gdouble n)
{
  gint64 deadline = apm_test_deadline_in (WAIT_US / 1e6);
  gdouble v;

  while ((v = metric (session, url, "apm_pipeline_recoveries_total",
              "pipeline", pipeline, "reason", reason, "result", result,
              NULL)) < n && g_get_monotonic_time () < deadline)
    g_usleep (500000);
  fail_unless (v >= n, "apm_pipeline_recoveries_total{pipeline=\"%s\","
      "reason=\"%s\",result=\"%s\"} is %.0f after %.0f s, expected %.0f",
      pipeline, reason, result, v, WAIT_US / 1e6, n);
  return v;
}

/* waits until @pipeline's sink has received @more buffers than now */
static void
wait_flowing (SoupSession * session, const gchar * url,
    const gchar * pipeline, gdouble more)
{
  gint64 deadline = apm_test_deadline_in (WAIT_US / 1e6);
  gdouble first = metric (session, url, "apm_pad_buffers_total", "pipeline",
      pipeline, "element", "out", "pad", "sink", NULL), now;

  while ((now = metric (session, url, "apm_pad_buffers_total", "pipeline",
              pipeline, "element", "out", "pad", "sink", NULL)) < first + more
      && g_get_monotonic_time () < deadline)
    g_usleep (500000);
  fail_unless (now >= first + more, "%s is not flowing again: %.0f buffers "
      "at its sink, %.0f before", pipeline, now, first);
}

/* the job @job_id: fails unless it exists; returns it (unref it) */
static JsonObject *
job (SoupSession * session, const gchar * url, const gchar * job_id)
{
  gchar *escaped = g_uri_escape_string (job_id, NULL, FALSE);
  gchar *path = g_strdup_printf ("/monitoring/jobs/%s", escaped);
  JsonNode *doc = apm_test_http_json (session, "GET", url, path, 200);
  JsonObject *o = json_object_ref (json_node_get_object (doc));

  json_node_unref (doc);
  g_free (path);
  g_free (escaped);
  return o;
}

/* a recovery log line of @pipeline with @cid as its correlation id */
static void
check_log_line (SoupSession * session, const gchar * url,
    const gchar * pipeline, const gchar * cid, const gchar * reason)
{
  gchar *path = g_strdup_printf ("/monitoring/logs?component=recovery&"
      "correlation_id=%s", cid);
  JsonNode *doc = apm_test_http_json (session, "GET", url, path, 200);
  JsonArray *logs = json_object_get_array_member (json_node_get_object (doc),
      "logs");
  gboolean found = FALSE;

  for (guint i = 0; logs && i < json_array_get_length (logs); i++) {
    JsonObject *line = json_array_get_object_element (logs, i);
    JsonObject *ctx = apm_test_member_object (line, "context");

    apm_test_check_log_line (line);
    found |= g_strcmp0 (apm_test_str (ctx, "pipeline"), pipeline) == 0
        && g_strcmp0 (apm_test_str (ctx, "reason"), reason) == 0
        && g_strcmp0 (apm_test_str (line, "correlation_id"), cid) == 0;
  }
  fail_unless (found, "no recovery log line of %s (%s) with correlation id "
      "%s", pipeline, reason, cid);
  json_node_unref (doc);
  g_free (path);
}

/* the next "recovery" WebSocket event of @pipeline */
static JsonObject *
wait_ws_event (ApmTestWs * ws, const gchar * pipeline)
{
  gint64 deadline = apm_test_deadline_in (WAIT_US / 1e6);
  ApmTestWsMessage *m;

  while ((m = apm_test_ws_wait_type (ws, "recovery", deadline))) {
    JsonObject *data = json_object_get_object_member
        (json_node_get_object (m->root), "data");

    if (data && g_strcmp0 (apm_test_str (data, "pipeline"), pipeline) == 0) {
      data = json_object_ref (data);
      apm_test_ws_message_free (m);
      return data;
    }
    apm_test_ws_message_free (m);
  }
  fail ("no recovery event of %s on the WebSocket", pipeline);
  return NULL;
}

static void
teardown (void)
{
  apm_test_stop_tracked ();
}

/* the server goes silent on the first connection: stall, restart, the
 * second connection plays */
GST_START_TEST (test_tcp_stall_restart)
{
  SoupSession *session = apm_test_session_new ();
  Server *server = server_start (FAULT_GO_SILENT);
  GstElement *p = tcp_pipeline ("tcpstall", server->port);
  gchar *url = apm_test_start_service ();
  ApmTestWs *ws = apm_test_ws_connect (url, "/ws/monitoring");
  JsonObject *event, *run1, *run2;
  gchar *cid1;

  canary_start (session, url);
  g_free (apm_test_play_live (p));
  wait_flowing (session, url, "tcpstall", 20);

  wait_recoveries (session, url, "tcpstall", "stall", "success", 1);
  event = wait_ws_event (ws, "tcpstall");
  fail_unless_equals_string (apm_test_str (event, "reason"), "stall");
  fail_unless_equals_string (apm_test_str (event, "action"), "restart");
  fail_unless_equals_string (apm_test_str (event, "result"), "success");
  fail_unless_equals_int (apm_test_member_int (event, "attempt"), 1);

  /* the first run failed, a second one of the same pipeline plays */
  run1 = job (session, url, "tcpstall#1");
  fail_unless_equals_string (apm_test_str (run1, "status"), "failed");
  fail_unless (strstr (apm_test_str (run1, "error"), "stall") != NULL);
  cid1 = g_strdup (apm_test_str (run1, "correlation_id"));
  fail_unless_equals_string (apm_test_str (event, "correlation_id"), cid1);
  check_log_line (session, url, "tcpstall", cid1, "stall");
  wait_flowing (session, url, "tcpstall", 50);
  fail_unless (g_atomic_int_get (&server->connections) >= 2);
  run2 = job (session, url, "tcpstall#2");
  fail_unless_equals_string (apm_test_str (run2, "status"), "running");

  canary_stop ();
  apm_test_stop_untrack (p);
  json_object_unref (run1);
  json_object_unref (run2);
  json_object_unref (event);
  g_free (cid1);
  apm_test_ws_free (ws);
  server_stop (server);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

/* the server resets the first connection: tcpclientsrc posts an ERROR,
 * which the application that opted in never sees */
GST_START_TEST (test_error_once_opted_in)
{
  SoupSession *session = apm_test_session_new ();
  Server *server = server_start (FAULT_RESET);
  GError *error = NULL;
  GstElement *p;
  GstBus *bus;
  GstMessage *msg;
  gchar *url = apm_test_start_service ();
  JsonObject *run1;

  fail_unless (apm_monitor_set_recovery (apm_monitor_get_default (),
          "flaky", "error:restart,max=3,backoff=0.5", &error));
  /* a bad policy is an error that says why */
  fail_if (apm_monitor_set_recovery (apm_monitor_get_default (), "x",
          "error:reboot", &error));
  fail_unless (strstr (error->message, "reboot") != NULL);
  g_clear_error (&error);

  canary_start (session, url);
  p = tcp_pipeline ("flaky", server->port);
  bus = gst_element_get_bus (p);
  g_free (apm_test_play_live (p));
  wait_recoveries (session, url, "flaky", "error", "success", 1);
  wait_flowing (session, url, "flaky", 50);
  fail_unless (g_atomic_int_get (&server->connections) >= 2);

  /* the application saw no ERROR: recovery took it on */
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "the application got the ERROR of %s",
      msg ? GST_MESSAGE_SRC_NAME (msg) : "");
  run1 = job (session, url, "flaky#1");
  fail_unless_equals_string (apm_test_str (run1, "status"), "failed");
  GST_INFO ("run 1: %s", apm_test_str (run1, "error"));
  json_object_unref (run1);

  canary_stop ();
  apm_test_stop_untrack (p);
  gst_object_unref (bus);
  server_stop (server);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

/* an appsink nobody pulls from blocks the stream: each flushing seek
 * frees it for a buffer or two; then recovery gives up */
GST_START_TEST (test_blocked_sink_gives_up)
{
  SoupSession *session = apm_test_session_new ();
  gchar *url = apm_test_start_service ();
  ApmTestWs *ws = apm_test_ws_connect (url, "/ws/monitoring");
  GstElement *p;
  JsonObject *alert, *event;
  gboolean gave_up = FALSE;

  canary_start (session, url);
  p = apm_test_parse_tracked ("audiotestsrc ! identity sync=true ! "
      "appsink name=out max-buffers=1 sync=true", "blocked");
  g_free (apm_test_play_live (p));

  wait_recoveries (session, url, "blocked", "stall", "success", 2);
  wait_recoveries (session, url, "blocked", "stall", "gave_up", 1);
  alert = apm_test_wait_alert (session, url, "/monitoring/alerts",
      "recovery_failed", "pipeline", "blocked", "firing",
      APM_TEST_SCALED (WAIT_US));
  json_object_unref (alert);
  while (!gave_up) {
    event = wait_ws_event (ws, "blocked");
    fail_unless_equals_string (apm_test_str (event, "action"), "flush");
    gave_up = g_strcmp0 (apm_test_str (event, "result"), "gave_up") == 0;
    if (!gave_up)
      fail_unless_equals_string (apm_test_str (event, "result"), "success");
    json_object_unref (event);
  }

  canary_stop ();
  apm_test_stop_untrack (p);
  apm_test_ws_free (ws);
  g_free (url);
  g_object_unref (session);
}

GST_END_TEST;

/* the policy text of the param and the API, and the configuration block:
 * bad input is an error that names the problem */
GST_START_TEST (test_policy_syntax)
{
  static const struct
  {
    const gchar *text, *problem;
  } bad[] = {
    {"restart", "TRIGGERS:ACTION"},
    {"stall:reboot", "reboot"},
    {"stalled:restart", "stalled"},
    {":restart", "trigger"},
    {"stall:restart,max=0", "max=0"},
    {"stall:restart,max=2.5", "whole"},
    {"stall:restart,window=abc", "window=abc"},
    {"stall:restart,retries=3", "retries"},
  };
  ApmRecoveryPolicy p;
  GError *error = NULL;
  gchar *text;
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);

  fail_unless (apm_recovery_policy_parse ("stall+stuck:flush,max=3,"
          "window=60,backoff=0.5,max-backoff=4", &p, &error));
  fail_unless_equals_int (p.triggers, APM_RECOVERY_ON_STALL |
      APM_RECOVERY_ON_STUCK);
  fail_unless_equals_int (p.action, APM_RECOVERY_FLUSH);
  fail_unless_equals_int (p.max_attempts, 3);
  fail_unless (p.window_s == 60 && p.backoff_s == 0.5
      && p.max_backoff_s == 4);
  text = apm_recovery_policy_to_string (&p);
  fail_unless_equals_string (text, "stall+stuck:flush,max=3,window=60,"
      "backoff=0.5,max-backoff=4");
  g_free (text);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    fail_if (apm_recovery_policy_parse (bad[i].text, &p, &error),
        "'%s' accepted", bad[i].text);
    fail_unless (strstr (error->message, bad[i].problem) != NULL,
        "'%s': \"%s\" does not name %s", bad[i].text, error->message,
        bad[i].problem);
    g_clear_error (&error);
  }

  /* the param: a bad entry is reported and left out, the others kept */
  apm_recovery_set_policies_from_text ("syntaxp*=stuck:restart "
      "other=stall:bogus", problems);
  fail_unless_equals_int (problems->len, 1);
  fail_unless (strstr (problems->pdata[0], "bogus") != NULL);
  fail_unless (apm_recovery_lookup ("syntaxp1", &p, NULL));
  fail_unless_equals_int (p.triggers, APM_RECOVERY_ON_STUCK);
  fail_if (apm_recovery_lookup ("other", &p, NULL));
  apm_recovery_set_policy ("syntaxp*", NULL, FALSE);
  fail_if (apm_recovery_lookup ("syntaxp1", &p, NULL));
  g_ptr_array_unref (problems);

  {
    const gchar *good = "{\"recovery\": {\"cap*\": {\"on\": [\"stall\", "
        "\"error\"], \"action\": \"flush\", \"max_attempts\": 2}}}";
    const gchar *wrong = "{\"recovery\": {\n  \"cap*\": {\"on\": "
        "[\"stall\"],\n  \"action\": \"reboot\"}}}";

    fail_unless (apm_config_check_data ("good.json", good, strlen (good),
            &error));
    fail_if (apm_config_check_data ("wrong.json", wrong, strlen (wrong),
            &error));
    fail_unless (strstr (error->message, "wrong.json:3") != NULL
        && strstr (error->message, "action") != NULL, "%s", error->message);
    g_clear_error (&error);
  }
}

GST_END_TEST;

static Suite *
apm_recovery_suite (void)
{
  Suite *s = suite_create ("apm_recovery");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, NULL, teardown);
  tcase_add_test (tc, test_policy_syntax);
  tcase_add_test (tc, test_tcp_stall_restart);
  tcase_add_test (tc, test_error_once_opted_in);
  tcase_add_test (tc, test_blocked_sink_gives_up);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env ("apm(port=0,quiet=true,alert-interval=1,"
      "recovery=\"tcpstall=stall:restart,max=3,backoff=1 "
      "blocked=stall:flush,max=2,backoff=1\")");
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (apm_recovery_suite (), "apm_recovery",
      __FILE__);
}
