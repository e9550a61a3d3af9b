/* gst-apm tests: shared helpers (pipelines, HTTP client, metrics parser) */
#pragma once

#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Per-pop timeout while waiting on a bus: generous, never reached when the
 * code works (it only bounds a hang). */
#define APM_TEST_BUS_TIMEOUT (20 * GST_SECOND)

/* Removes variables that would hide our plugin, then sets GST_TRACERS (if
 * @tracers is not NULL).  Call before gst_check_init(). */
void apm_test_prepare_env (const gchar * tracers);

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

/* Prometheus text: a table "name{k="v",...}" (labels sorted by name) -> value.
 * Fails the test on a malformed line, a sample without # TYPE, or a
 * duplicate series. */
GHashTable *apm_test_parse_metrics (const gchar * text);

/* Looks up a pad series; returns FALSE if it is absent. */
gboolean apm_test_pad_value (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad,
    gdouble * value);

/* Number of series of @family with label pipeline=@pipeline. */
guint apm_test_count_series (GHashTable * metrics, const gchar * family,
    const gchar * pipeline);

/* GET base_url/metrics, check status and content type, and parse. */
GHashTable *apm_test_fetch_metrics (SoupSession * session,
    const gchar * base_url);

/* Path of @element inside its top-level pipeline as the tracer labels it
 * ("bin0/identity0"). */
gchar *apm_test_element_path (GstElement * element);

/* Looks up any series: @name (with its _bucket/_sum/_count suffix for
 * histograms) and NULL-terminated label name/value pairs, in any order.
 * Returns FALSE if it is absent. */
gboolean apm_test_metric_value (GHashTable * metrics, gdouble * value,
    const gchar * name, ...) G_GNUC_NULL_TERMINATED;
/* The same with @labels a NULL-terminated array of name, value, ... */
gboolean apm_test_metric_valuev (GHashTable * metrics, gdouble * value,
    const gchar * name, const gchar * const *labels);

typedef gboolean (*ApmTestMetricsPredicate) (GHashTable * metrics,
    gpointer user_data);

/* Fetches /metrics until @done returns TRUE or @timeout_us has passed;
 * returns the last table fetched (the caller asserts on it). */
GHashTable *apm_test_wait_metrics (SoupSession * session,
    const gchar * base_url, ApmTestMetricsPredicate done, gpointer user_data,
    gint64 timeout_us);

/* --- JSON endpoints (alerts, health) --- */

/* @method @path, fails unless the answer is @expect_status with a JSON
 * body; returns the root (json_node_unref() it). */
JsonNode *apm_test_http_json (SoupSession * session, const gchar * method,
    const gchar * base_url, const gchar * path, guint expect_status);

typedef gboolean (*ApmTestJsonPredicate) (JsonNode * doc, gpointer user_data);

/* GETs @path (expecting 200 and JSON) until @done returns TRUE or
 * @timeout_us has passed; returns the last document (the caller asserts
 * on it). */
JsonNode *apm_test_wait_json (SoupSession * session, const gchar * base_url,
    const gchar * path, ApmTestJsonPredicate done, gpointer user_data,
    gint64 timeout_us);

/* In a document {"alerts": [...]}: the first alert of @rule whose labels
 * hold @label=@value (any labels when @label is NULL), or with @id when
 * @rule is NULL; NULL if none.  Borrowed from @doc. */
JsonObject *apm_test_find_alert (JsonNode * doc, const gchar * rule,
    const gchar * label, const gchar * value);
JsonObject *apm_test_find_alert_id (JsonNode * doc, const gchar * id);

/* An ISO 8601 time of the service's documents as Unix microseconds; fails
 * the test if it does not parse. */
gint64 apm_test_parse_time (const gchar * iso);

G_END_DECLS
