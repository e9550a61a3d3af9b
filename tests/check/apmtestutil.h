/* gst-apm tests: shared helpers, one header for the helpers' files:
 * apmtestutil.c (pipelines and the process), apmtesthttp.c (HTTP client),
 * apmtestmetrics.c (Prometheus text), apmtestjson.c (the service's JSON
 * documents) and apmtestws.c (WebSocket client) */
#pragma once

#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* --- pipelines and the process (apmtestutil.c) --- */

/* Deadlines stretch under valgrind and sanitizers: CK_TIMEOUT_MULTIPLIER
 * (set by those test setups) scales them all. */
gint apm_test_time_scale (void);
#define APM_TEST_SCALED(t) ((t) * apm_test_time_scale ())

/* Per-pop timeout while waiting on a bus: generous, never reached when the
 * code works (it only bounds a hang). */
#define APM_TEST_BUS_TIMEOUT APM_TEST_SCALED (20 * GST_SECOND)

/* Removes variables that would hide our plugin, then sets GST_TRACERS (if
 * @tracers is not NULL).  Call before gst_check_init(). */
void apm_test_prepare_env (const gchar * tracers);

/* g_get_monotonic_time() + @seconds, scaled by apm_test_time_scale() */
gint64 apm_test_deadline_in (gdouble seconds);

/* gst_parse_launch() that fails the test on error; names the top-level
 * pipeline @name (if not NULL). */
GstElement *apm_test_parse (const gchar * description, const gchar * name);

/* Pops messages from @pipeline's bus until EOS (or ERROR when
 * @expect_error).  Records the "apm-service" message: @url (nullable) and
 * @port (nullable) receive its fields; fails if none was seen and @url is
 * given.  WARNING messages fail the test unless @warnings is given, where
 * their texts are appended. */
void apm_test_wait (GstElement * pipeline, gboolean expect_error,
    gchar ** url, guint * port, GPtrArray * warnings);

/* Sets @pipeline to PLAYING and apm_test_wait()s for EOS. */
void apm_test_run_to_eos (GstElement * pipeline, gchar ** url, guint * port);

/* Stops and frees a pipeline. */
void apm_test_stop (GstElement * pipeline);

/* The service starts with the first pipeline: the first call runs a short
 * one (named @name) to EOS; returns the service's URL (valid until exit). */
const gchar *apm_test_service_url (const gchar * name);

/* A failed test (CK_FORK=no) jumps out before its apm_test_stop(): the
 * pipeline's streaming tasks stay and the next test's
 * gst_task_cleanup_all() waits on them forever.  apm_test_track() records
 * @pipeline, owner of the test's reference, and returns it;
 * apm_test_stop_untrack() stops and frees it like apm_test_stop() and
 * forgets it.  apm_test_stop_tracked(), for a checked teardown fixture,
 * sets every pipeline still recorded to NULL and drops its reference; it
 * never fails the test (a failure in a teardown has nowhere to jump to). */
GstElement *apm_test_track (GstElement * pipeline);
/* apm_test_track (apm_test_parse (@description, @name)) */
GstElement *apm_test_parse_tracked (const gchar * description,
    const gchar * name);
void apm_test_stop_untrack (GstElement * pipeline);
void apm_test_stop_tracked (void);

/* Path of @element inside its top-level pipeline as the tracer labels it
 * ("bin0/identity0"). */
gchar *apm_test_element_path (GstElement * element);

/* Sets @pipeline to PLAYING, pops its bus until the "apm-service"
 * message, then waits until it is PLAYING; returns the URL (fails the test
 * on ERROR, on no URL, or after APM_TEST_BUS_TIMEOUT).  The pipeline keeps
 * running. */
gchar *apm_test_play_live (GstElement * pipeline);

/* Starts the process-wide service (its settings from GST_TRACERS) and
 * returns its base URL (g_free() it); fails the test if it cannot start. */
gchar *apm_test_start_service (void);

/* Takes the URL a run reported (apm_test_run_to_eos(), freed here): fails
 * if it is NULL or differs from the first run's (one service per
 * process); returns the process's URL (valid until exit). */
const gchar *apm_test_url_of_run (gchar * url);

/* VmRSS of this process in bytes (from /proc/self/status). */
guint64 apm_test_self_rss (void);

/* File descriptors this process has open (from /proc/self/fd). */
guint apm_test_count_fds (void);

/* --- HTTP client (apmtesthttp.c) --- */

typedef struct
{
  guint status;
  gchar *content_type;          /* full header value, nullable */
  SoupMessageHeaders *headers;  /* response headers (owned) */
  GBytes *body;
} ApmTestResponse;

/* A synchronous request; fails the test on a transport error. */
ApmTestResponse *apm_test_http (SoupSession * session, const gchar * method,
    const gchar * base_url, const gchar * path);
void apm_test_response_free (ApmTestResponse * r);
SoupSession *apm_test_session_new (void);

/* Parses a JSON body (fails the test if it is not JSON); returns the root. */
JsonNode *apm_test_parse_json (ApmTestResponse * r);

/* @method @path, fails unless the answer is @expect_status with a JSON
 * body (the status message quotes up to 400 bytes of the body); returns
 * the root (json_node_unref() it). */
JsonNode *apm_test_http_json (SoupSession * session, const gchar * method,
    const gchar * base_url, const gchar * path, guint expect_status);

/* GET @path as text (g_free() it); fails unless the status is
 * @expect_status. */
gchar *apm_test_http_text (SoupSession * session, const gchar * base_url,
    const gchar * path, guint expect_status);

typedef gboolean (*ApmTestJsonPredicate) (JsonNode * doc, gpointer user_data);

/* GETs @path (expecting 200 and JSON) until @done returns TRUE or
 * @timeout_us has passed; returns the last document (the caller asserts
 * on it). */
JsonNode *apm_test_wait_json (SoupSession * session, const gchar * base_url,
    const gchar * path, ApmTestJsonPredicate done, gpointer user_data,
    gint64 timeout_us);

/* Waits until GET @path lists an alert of @rule (with label @label=@value
 * unless @label is NULL) in @state (any state if NULL); returns it
 * (json_object_unref() it).  Fails the test, quoting the last document,
 * if none did within @timeout_us (scaled). */
JsonObject *apm_test_wait_alert (SoupSession * session,
    const gchar * base_url, const gchar * path, const gchar * rule,
    const gchar * label, const gchar * value, const gchar * state,
    gint64 timeout_us);

/* GET base_url/metrics, check status and content type, and parse. */
GHashTable *apm_test_fetch_metrics (SoupSession * session,
    const gchar * base_url);

typedef gboolean (*ApmTestMetricsPredicate) (GHashTable * metrics,
    gpointer user_data);

/* Fetches /metrics until @done returns TRUE or @timeout_us has passed;
 * returns the last table fetched (the caller asserts on it). */
GHashTable *apm_test_wait_metrics (SoupSession * session,
    const gchar * base_url, ApmTestMetricsPredicate done, gpointer user_data,
    gint64 timeout_us);

/* --- Prometheus text (apmtestmetrics.c) --- */

/* Prometheus text: a table "name{k="v",...}" (labels sorted by name) -> value.
 * Fails the test on a malformed line, a sample without # TYPE, or a
 * duplicate series. */
GHashTable *apm_test_parse_metrics (const gchar * text);

/* Looks up any series: @name (with its _bucket/_sum/_count suffix for
 * histograms) and NULL-terminated label name/value pairs, in any order.
 * Returns FALSE if it is absent. */
gboolean apm_test_metric_value (GHashTable * metrics, gdouble * value,
    const gchar * name, ...) G_GNUC_NULL_TERMINATED;
/* The same with @labels a NULL-terminated array of name, value, ... */
gboolean apm_test_metric_valuev (GHashTable * metrics, gdouble * value,
    const gchar * name, const gchar * const *labels);

/* Looks up a pad series; returns FALSE if it is absent. */
gboolean apm_test_pad_value (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad,
    gdouble * value);

/* apm_test_pad_value() that fails the test if the series is absent */
gdouble apm_test_pad_get (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad);

/* Number of series of @family with label pipeline=@pipeline. */
guint apm_test_count_series (GHashTable * metrics, const gchar * family,
    const gchar * pipeline);

/* --- the service's JSON documents (apmtestjson.c) --- */

/* typed members: fail the test when absent or of another type */
JsonObject *apm_test_member_object (JsonObject * o, const gchar * name);
const gchar *apm_test_member_string (JsonObject * o, const gchar * name);
gint64 apm_test_member_int (JsonObject * o, const gchar * name);
/* @name's string value; NULL when absent or not a string (never fails) */
const gchar *apm_test_str (JsonObject * o, const gchar * name);

/* A time of the service's documents (RFC 3339 UTC with exactly 6
 * fractional digits and Z: "2026-11-24T05:04:36.123456Z") as Unix
 * microseconds; fails the test if @text is not one. */
gint64 apm_test_parse_time (const gchar * text);

/* In a document {"alerts": [...]}: the first alert of @rule (any rule when
 * NULL) whose labels hold @label=@value (any labels when @label is NULL),
 * or the alert with @id; NULL if none.  Borrowed from @doc. */
JsonObject *apm_test_find_alert (JsonNode * doc, const gchar * rule,
    const gchar * label, const gchar * value);
JsonObject *apm_test_find_alert_id (JsonNode * doc, const gchar * id);

/* An error body of the service: {"error": {"code": @code, "message":
 * "..."}} with a non-empty message. */
void apm_test_check_error_doc (JsonNode * doc, guint code);

/* What apm_test_alert_matches() looks for in a document {"alerts": [...]}:
 * the alert @id if set, else the first of @rule with @label=@value (as
 * apm_test_find_alert()); in @state if set.  With @absent, a match is
 * that there is no such alert. */
typedef struct
{
  const gchar *rule, *label, *value, *state, *id;
  gboolean absent;
} ApmTestAlertQuery;

/* an ApmTestJsonPredicate: @query is an ApmTestAlertQuery */
gboolean apm_test_alert_matches (JsonNode * doc, gpointer query);

/* monitoring.health_checks of @doc (fails the test if it has none) */
JsonObject *apm_test_health_checks (JsonNode * doc);
/* the check @name of @doc, or NULL if it is not listed */
JsonObject *apm_test_health_check (JsonNode * doc, const gchar * name);
/* healthy 0, degraded 1, unhealthy 2; fails the test on anything else */
gint apm_test_status_rank (const gchar * status);
/* The documented rule: the overall status is the worst of the checks that
 * have run and of the firing alerts (critical -> unhealthy, warning ->
 * degraded); active_alerts lists only firing alerts.  Every check has a
 * message; one that ran has a last_run and a duration, one that has not
 * (status unknown) no last_run. */
void apm_test_check_overall_status (JsonNode * doc);

/* Checks a structured log line: exactly timestamp (RFC 3339, 6 fractional
 * digits, Z), level (debug, info, warning, error, critical), component and
 * message (strings), correlation_id (string or null), context (object). */
void apm_test_check_log_line (JsonObject * line);

/* --- WebSocket client (apmtestws.c) --- */

typedef struct
{
  gint64 arrival_us;            /* g_get_monotonic_time() at reception */
  JsonNode *root;               /* the parsed message (NULL: not JSON) */
  const gchar *type;            /* root's "type" string member, or NULL */
  gchar *text;                  /* the raw text */
} ApmTestWsMessage;

typedef struct _ApmTestWs ApmTestWs;

/* Connects a WebSocket client to @base_url (http://...) + @path, with its
 * own GMainContext that the calls below iterate (bounded by deadlines).
 * Fails the test if it cannot connect within 10 s. */
ApmTestWs *apm_test_ws_connect (const gchar * base_url, const gchar * path);

/* The next message, or NULL once the monotonic @deadline_us has passed or
 * the connection closed with nothing queued.  Free with
 * apm_test_ws_message_free(). */
ApmTestWsMessage *apm_test_ws_next (ApmTestWs * ws, gint64 deadline_us);

/* The next message of @type (others are dropped), or NULL at the
 * deadline. */
ApmTestWsMessage *apm_test_ws_wait_type (ApmTestWs * ws, const gchar * type,
    gint64 deadline_us);

/* Iterates until @deadline_us, queueing what arrives. */
void apm_test_ws_pump (ApmTestWs * ws, gint64 deadline_us);

/* Drops queued messages; returns how many there were. */
guint apm_test_ws_drain (ApmTestWs * ws);

void apm_test_ws_send_text (ApmTestWs * ws, const gchar * text);
void apm_test_ws_send_binary (ApmTestWs * ws, gconstpointer data, gsize len);

/* TRUE while the connection is open (after pumping what is pending). */
gboolean apm_test_ws_is_open (ApmTestWs * ws);

/* Waits until the connection is closed (or @deadline_us); returns TRUE if
 * closed.  @code gets the peer's close code (0 if none). */
gboolean apm_test_ws_wait_closed (ApmTestWs * ws, gint64 deadline_us,
    gushort * code);

/* Drops the TCP connection without a close frame (a client that vanishes),
 * then frees like apm_test_ws_free(). */
void apm_test_ws_abort (ApmTestWs * ws);

/* Closes normally (1000), waits up to 5 s for the close, frees. */
void apm_test_ws_free (ApmTestWs * ws);

void apm_test_ws_message_free (ApmTestWsMessage * m);

G_END_DECLS
