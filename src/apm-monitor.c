/* gst-apm: the public API of the monitor */
#include "apm-monitor.h"
#include "apm-service.h"
#include "apm-probes.h"

#include <math.h>
#include <string.h>

struct _ApmMonitor
{
  GObject parent;
};

G_DEFINE_TYPE (ApmMonitor, apm_monitor, G_TYPE_OBJECT);

static void
apm_monitor_class_init (ApmMonitorClass * klass)
{
}

static void
apm_monitor_init (ApmMonitor * self)
{
}

/* the service, running if it has something to do without a server: an
 * application that only tracks jobs and logs still exports them over
 * OTLP when that is configured */
static ApmService *
service (void)
{
  ApmService *s = apm_service_get_default ();

  apm_service_ensure_exporting (s);
  return s;
}

/**
 * apm_monitor_get_default:
 *
 * The monitor of this process, shared with the apm tracer and apmonitor.
 *
 * Returns: (transfer none): the monitor
 */
ApmMonitor *
apm_monitor_get_default (void)
{
  static ApmMonitor *monitor;

  if (g_once_init_enter (&monitor))
    g_once_init_leave (&monitor, g_object_new (APM_TYPE_MONITOR, NULL));
  return monitor;
}

/**
 * apm_monitor_start_server:
 * @self: the monitor
 * @address: (nullable): IP address to bind, %NULL for 127.0.0.1
 * @port: TCP port, 0 for a free one
 * @error: a #GError
 *
 * Starts the HTTP service for an application that has no pipeline yet.
 * The first configuration in the process wins: if the service already
 * runs, this returns %TRUE and it goes on where it is (see
 * apm_monitor_get_url()).
 *
 * Returns: %TRUE if the service is serving
 */
gboolean
apm_monitor_start_server (ApmMonitor * self, const gchar * address,
    guint port, GError ** error)
{
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;

  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  g_return_val_if_fail (port <= 65535, FALSE);

  config.port = port;
  config.address = g_strdup (address);
  apm_service_configure (apm_service_get_default (), &config, NULL);
  apm_service_config_clear (&config);
  return apm_service_ensure_started (apm_service_get_default (), error);
}

/**
 * apm_monitor_get_url:
 * @self: the monitor
 *
 * Returns: (transfer full) (nullable): the base URL served, or %NULL if the
 *   service is not serving
 */
gchar *
apm_monitor_get_url (ApmMonitor * self)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), NULL);
  return apm_service_get_url (service ());
}

/**
 * apm_monitor_start_job_tracking:
 * @self: the monitor
 * @job_id: the application's name for the job
 *
 * Starts tracking one unit of audio work, as the root of a new trace.
 *
 * Returns: (transfer full): the job's new correlation id, which is its W3C
 *   trace id (32 lowercase hex digits)
 */
gchar *
apm_monitor_start_job_tracking (ApmMonitor * self, const gchar * job_id)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), NULL);
  g_return_val_if_fail (job_id != NULL, NULL);
  return apm_jobs_start (apm_service_get_jobs (service ()), job_id, NULL);
}

/**
 * apm_monitor_complete_job_tracking:
 * @self: the monitor
 * @job_id: the job
 * @status: "success", "failed" or another outcome
 * @error: (nullable): what went wrong
 *
 * Returns: %FALSE if no such job is active
 */
gboolean
apm_monitor_complete_job_tracking (ApmMonitor * self, const gchar * job_id,
    const gchar * status, const gchar * error)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  g_return_val_if_fail (job_id != NULL, FALSE);
  return apm_jobs_complete (apm_service_get_jobs (service ()), job_id,
      status, error);
}

static gchar **
labels_to_pairs (GHashTable * labels)
{
  GPtrArray *pairs = g_ptr_array_new ();
  GList *keys;

  if (labels) {
    keys = g_list_sort (g_hash_table_get_keys (labels),
        (GCompareFunc) g_strcmp0);
    for (GList * l = keys; l; l = l->next) {
      g_ptr_array_add (pairs, g_strdup (l->data));
      g_ptr_array_add (pairs, g_strdup (g_hash_table_lookup (labels,
                  l->data)));
    }
    g_list_free (keys);
  }
  g_ptr_array_add (pairs, NULL);
  return (gchar **) g_ptr_array_free (pairs, FALSE);
}

/**
 * apm_monitor_start_job_tracking_full:
 * @self: the monitor
 * @job_id: the application's name for the job
 * @traceparent: (nullable): a W3C traceparent header value (for example an
 *   incoming request's, or $TRACEPARENT) whose trace the job continues, as
 *   a child of its span; %NULL starts a new trace
 * @labels: (element-type utf8 utf8) (nullable): labels of the job (for
 *   example `{"variant": "b"}`, which `/monitoring/jobs/compare?by=variant`
 *   groups by); at most 32, keys and values cut to 256 bytes
 *
 * Starts tracking one unit of audio work within a distributed trace.  A
 * malformed @traceparent never fails the job: a warning is logged (component
 * "jobs") and the job starts a new trace.
 *
 * Returns: (transfer full): the job's correlation id, which is its trace id
 *   (the remote trace's, when @traceparent is valid)
 */
gchar *
apm_monitor_start_job_tracking_full (ApmMonitor * self, const gchar * job_id,
    const gchar * traceparent, GHashTable * labels)
{
  ApmTraceContext parent;
  const gchar *why = NULL;
  gboolean continued = FALSE;
  gchar **pairs;
  gchar *cid;

  g_return_val_if_fail (APM_IS_MONITOR (self), NULL);
  g_return_val_if_fail (job_id != NULL, NULL);

  if (traceparent)
    continued = apm_traceparent_parse (traceparent, &parent, &why);
  pairs = labels_to_pairs (labels);
  cid = apm_jobs_start_full (apm_service_get_jobs (service ()), job_id, NULL,
      continued ? &parent : NULL, (const gchar * const *) pairs);
  g_strfreev (pairs);
  if (traceparent && !continued) {
    JsonObject *ctx = json_object_new ();
    gchar *shown = g_utf8_make_valid (traceparent, -1);

    /* what a caller passed may be anything: shown valid and short */
    if (strlen (shown) > 128)
      strcpy (g_utf8_find_prev_char (shown, shown + 126), "…");
    json_object_set_string_member (ctx, "job_id", job_id);
    json_object_set_string_member (ctx, "traceparent", shown);
    apm_log_write (apm_service_get_log (service ()), APM_LOG_WARNING,
        "jobs", cid, ctx, "job %s: traceparent '%s' is not valid (%s): "
        "the job starts a new trace", job_id, shown, why);
    g_free (shown);
  }
  return cid;
}

/**
 * apm_monitor_get_traceparent:
 * @self: the monitor
 * @job_id: a job id or correlation id (an active job, else the newest
 *   finished one)
 *
 * The W3C traceparent of a job's span: pass it on (the `traceparent` HTTP
 * header, or `TRACEPARENT` in the environment of a gst-launch-1.0 run with
 * the apm tracer) so that the work done elsewhere joins the job's trace.
 *
 * Returns: (transfer full) (nullable): "00-<trace id>-<span id>-<flags>",
 *   or %NULL for an unknown job
 */
gchar *
apm_monitor_get_traceparent (ApmMonitor * self, const gchar * job_id)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), NULL);
  g_return_val_if_fail (job_id != NULL, NULL);
  return apm_jobs_traceparent (apm_service_get_jobs (service ()), job_id);
}

/**
 * apm_monitor_record_job_stage:
 * @self: the monitor
 * @job_id: the job (active or recently finished)
 * @stage: the stage's name
 * @seconds: time spent in it
 * @labels: (element-type utf8 utf8) (nullable): labels of the stage
 *
 * Returns: %FALSE if no such job is known
 */
gboolean
apm_monitor_record_job_stage (ApmMonitor * self, const gchar * job_id,
    const gchar * stage, gdouble seconds, GHashTable * labels)
{
  gchar **pairs;
  gboolean ok;

  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  g_return_val_if_fail (job_id != NULL && stage != NULL, FALSE);
  pairs = labels_to_pairs (labels);
  ok = apm_jobs_record_stage (apm_service_get_jobs (service ()), job_id,
      stage, seconds, (const gchar * const *) pairs);
  g_strfreev (pairs);
  return ok;
}

/**
 * apm_monitor_get_job_json:
 * @self: the monitor
 * @job_id: a job id or correlation id
 *
 * Returns: (transfer full) (nullable): the job as JSON text, or %NULL
 */
gchar *
apm_monitor_get_job_json (ApmMonitor * self, const gchar * job_id)
{
  JsonNode *node;
  gchar *text;

  g_return_val_if_fail (APM_IS_MONITOR (self), NULL);
  node = apm_jobs_lookup_json (apm_service_get_jobs (service ()), job_id);
  if (!node)
    return NULL;
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  return text;
}

/* Prometheus metric names, outside apm_: the monitor's own metrics (its
 * families' buckets and meaning are fixed by whoever publishes them) */
static gboolean
valid_name (const gchar * name)
{
  if (!name || !(g_ascii_isalpha (*name) || *name == '_' || *name == ':')
      || g_str_has_prefix (name, "apm_"))
    return FALSE;
  for (const gchar * c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '_' && *c != ':')
      return FALSE;
  return TRUE;
}

/* Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*, "__" is reserved, and
 * a histogram's "le" is its own */
static gboolean
valid_label_name (const gchar * name, ApmMetricType type)
{
  if (!name || !(g_ascii_isalpha (*name) || *name == '_')
      || g_str_has_prefix (name, "__")
      || (type == APM_METRIC_HISTOGRAM && strcmp (name, "le") == 0))
    return FALSE;
  for (const gchar * c = name; *c; c++)
    if (!g_ascii_isalnum (*c) && *c != '_')
      return FALSE;
  return TRUE;
}

/* the series of metric @name with @labels; NULL (and a warning) when the
 * name is invalid or in use with another type or other label names */
static ApmSeries *
series_for (const gchar * name, ApmMetricType type, GHashTable * labels)
{
  ApmRegistry *reg = apm_service_get_registry (service ());
  GPtrArray *names = g_ptr_array_new (), *values = g_ptr_array_new ();
  GList *keys = labels ? g_list_sort (g_hash_table_get_keys (labels),
      (GCompareFunc) g_strcmp0) : NULL;
  ApmFamily *f;
  ApmSeries *s = NULL;

  if (!valid_name (name)) {
    g_warning ("apm: invalid metric name '%s' (Prometheus syntax; apm_ is "
        "the monitor's own)", name ? name : "(null)");
    goto out;
  }
  for (GList * l = keys; l; l = l->next) {
    if (!valid_label_name (l->data, type)) {
      g_warning ("apm: invalid label name '%s'", (gchar *) l->data);
      goto out;
    }
    g_ptr_array_add (names, l->data);
    g_ptr_array_add (values, g_hash_table_lookup (labels, l->data));
  }
  g_ptr_array_add (names, NULL);
  g_ptr_array_add (values, NULL);
  f = apm_registry_family (reg, name, type, name,
      (const gchar * const *) names->pdata, NULL, 0);
  if (!f) {
    g_warning ("apm: metric '%s' already exists with another type or other "
        "label names", name);
    goto out;
  }
  s = apm_family_series (f, (const gchar * const *) values->pdata);
out:
  g_list_free (keys);
  g_ptr_array_unref (names);
  g_ptr_array_unref (values);
  return s;
}

/**
 * apm_monitor_increment_counter:
 * @self: the monitor
 * @name: a Prometheus metric name (ending in _total, by convention)
 * @value: what to add (>= 0)
 * @labels: (element-type utf8 utf8) (nullable): labels
 *
 * Returns: %FALSE if the name, labels or value are not valid (names
 * starting with apm_ are the monitor's own)
 */
gboolean
apm_monitor_increment_counter (ApmMonitor * self, const gchar * name,
    gdouble value, GHashTable * labels)
{
  ApmSeries *s;

  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  if (!isfinite (value) || value < 0)
    return FALSE;
  s = series_for (name, APM_METRIC_COUNTER, labels);
  if (!s)
    return FALSE;
  apm_series_add (s, value);
  apm_series_unref (s);
  return TRUE;
}

/**
 * apm_monitor_set_gauge:
 * @self: the monitor
 * @name: a Prometheus metric name
 * @value: the value
 * @labels: (element-type utf8 utf8) (nullable): labels
 *
 * Returns: %FALSE if the name or labels are not valid (names starting
 * with apm_ are the monitor's own)
 */
gboolean
apm_monitor_set_gauge (ApmMonitor * self, const gchar * name, gdouble value,
    GHashTable * labels)
{
  ApmSeries *s;

  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  s = series_for (name, APM_METRIC_GAUGE, labels);
  if (!s)
    return FALSE;
  apm_gauge_set (s, value);
  apm_series_unref (s);
  return TRUE;
}

/**
 * apm_monitor_record_histogram:
 * @self: the monitor
 * @name: a Prometheus metric name (with its unit, e.g. _seconds)
 * @value: the observation
 * @labels: (element-type utf8 utf8) (nullable): labels
 *
 * Observes @value in a histogram with buckets from 10 µs to 1 s, suited
 * to per-buffer times; names ending in _bytes get buckets from 1 KiB to
 * 1 GiB, other names ending in _seconds get buckets from 0.1 s to 1 h.
 *
 * Returns: %FALSE if the name, labels or value are not valid (names
 * starting with apm_ are the monitor's own)
 */
gboolean
apm_monitor_record_histogram (ApmMonitor * self, const gchar * name,
    gdouble value, GHashTable * labels)
{
  static const gdouble bytes[] = { 1024, 16384, 65536, 262144, 1048576,
    4194304, 16777216, 67108864, 268435456, 1073741824
  };
  static const gdouble long_seconds[] = { 0.1, 0.5, 1, 5, 10, 30, 60, 300,
    600, 1800, 3600
  };
  ApmRegistry *reg;
  ApmSeries *s;

  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  if (!isfinite (value) || !valid_name (name))
    return FALSE;
  /* pick the buckets before the family exists */
  reg = apm_service_get_registry (service ());
  if (!apm_registry_lookup (reg, name)) {
    GList *keys = labels ? g_list_sort (g_hash_table_get_keys (labels),
        (GCompareFunc) g_strcmp0) : NULL;
    GPtrArray *names = g_ptr_array_new ();
    gboolean labels_ok = TRUE;

    for (GList * l = keys; l; l = l->next) {
      labels_ok &= valid_label_name (l->data, APM_METRIC_HISTOGRAM);
      g_ptr_array_add (names, l->data);
    }
    g_ptr_array_add (names, NULL);
    /* invalid labels: series_for() refuses, and no family is left behind */
    if (!labels_ok)
      ;
    else if (g_str_has_suffix (name, "_bytes"))
      apm_registry_family (reg, name, APM_METRIC_HISTOGRAM, name,
          (const gchar * const *) names->pdata, bytes, G_N_ELEMENTS (bytes));
    else if (g_str_has_suffix (name, "_seconds"))
      apm_registry_family (reg, name, APM_METRIC_HISTOGRAM, name,
          (const gchar * const *) names->pdata, long_seconds,
          G_N_ELEMENTS (long_seconds));
    g_ptr_array_unref (names);
    g_list_free (keys);
  }
  s = series_for (name, APM_METRIC_HISTOGRAM, labels);
  if (!s)
    return FALSE;
  apm_histogram_observe (s, value);
  apm_series_unref (s);
  return TRUE;
}

static GHashTable *
one_label (const gchar * key, const gchar * value)
{
  GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (t, (gpointer) key, (gpointer) value);
  return t;
}

/**
 * apm_monitor_record_audio_processing_metrics:
 * @self: the monitor
 * @job_id: (nullable): the job the processing belongs to
 * @file_size: bytes of the file processed
 * @processing_seconds: how long it took
 * @success: whether it worked
 *
 * Observes pipeline_audio_processing_seconds
 * and pipeline_audio_file_size_bytes with a success label, and records a
 * "audio_processing" stage on the job.
 */
void
apm_monitor_record_audio_processing_metrics (ApmMonitor * self,
    const gchar * job_id, gint64 file_size, gdouble processing_seconds,
    gboolean success)
{
  GHashTable *labels = one_label ("success", success ? "true" : "false");

  g_return_if_fail (APM_IS_MONITOR (self));
  apm_monitor_record_histogram (self, "pipeline_audio_processing_seconds",
      processing_seconds, labels);
  apm_monitor_record_histogram (self, "pipeline_audio_file_size_bytes",
      file_size, labels);
  if (job_id)
    apm_monitor_record_job_stage (self, job_id, "audio_processing",
        processing_seconds, NULL);
  g_hash_table_unref (labels);
}

static void
record_transfer (ApmMonitor * self, const gchar * direction, gint64 bytes,
    gdouble seconds, gboolean success)
{
  GHashTable *labels = one_label ("success", success ? "true" : "false");
  gchar *size = g_strdup_printf ("pipeline_%s_size_bytes", direction);
  gchar *time = g_strdup_printf ("pipeline_%s_seconds", direction);
  gchar *total = g_strdup_printf ("pipeline_%ss_total", direction);

  apm_monitor_record_histogram (self, size, bytes, labels);
  apm_monitor_record_histogram (self, time, seconds, labels);
  apm_monitor_increment_counter (self, total, 1, labels);
  g_hash_table_unref (labels);
  g_free (size);
  g_free (time);
  g_free (total);
}

/**
 * apm_monitor_record_upload_metrics:
 * @self: the monitor
 * @bytes: size of what was uploaded
 * @seconds: how long it took
 * @success: whether it worked
 *
 * File size distribution and transfer time of uploads
 * (pipeline_upload_size_bytes, pipeline_upload_seconds,
 * pipeline_uploads_total, each with a success label).
 */
void
apm_monitor_record_upload_metrics (ApmMonitor * self, gint64 bytes,
    gdouble seconds, gboolean success)
{
  g_return_if_fail (APM_IS_MONITOR (self));
  record_transfer (self, "upload", bytes, seconds, success);
}

/**
 * apm_monitor_record_download_metrics:
 * @self: the monitor
 * @bytes: size of what was downloaded
 * @seconds: how long it took
 * @success: whether it worked
 *
 * As apm_monitor_record_upload_metrics(), for downloads.
 */
void
apm_monitor_record_download_metrics (ApmMonitor * self, gint64 bytes,
    gdouble seconds, gboolean success)
{
  g_return_if_fail (APM_IS_MONITOR (self));
  record_transfer (self, "download", bytes, seconds, success);
}

/**
 * apm_monitor_record_cache_metrics:
 * @self: the monitor
 * @cache: the cache's name
 * @hit: whether the lookup hit
 * @seconds: how long the lookup took
 *
 * pipeline_cache_requests_total{cache,result="hit"|"miss"} and
 * pipeline_cache_lookup_seconds{cache}: hit rate = hits / requests.
 */
void
apm_monitor_record_cache_metrics (ApmMonitor * self, const gchar * cache,
    gboolean hit, gdouble seconds)
{
  GHashTable *labels = g_hash_table_new (g_str_hash, g_str_equal);

  g_return_if_fail (APM_IS_MONITOR (self));
  g_hash_table_insert (labels, (gpointer) "cache", (gpointer) cache);
  g_hash_table_insert (labels, (gpointer) "result",
      (gpointer) (hit ? "hit" : "miss"));
  apm_monitor_increment_counter (self, "pipeline_cache_requests_total", 1,
      labels);
  g_hash_table_remove (labels, "result");
  apm_monitor_record_histogram (self, "pipeline_cache_lookup_seconds",
      seconds, labels);
  g_hash_table_unref (labels);
}

typedef struct
{
  ApmCheckFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
} CheckClosure;

static void
check_closure_free (gpointer data)
{
  CheckClosure *c = data;

  if (c->destroy)
    c->destroy (c->user_data);
  g_free (c);
}

static ApmHealthStatus
run_check (gpointer data, gchar ** message, JsonObject ** details)
{
  CheckClosure *c = data;
  gchar *details_json = NULL;
  ApmHealthStatus status = c->func (c->user_data, message, &details_json);

  if (details_json) {
    JsonNode *node = json_from_string (details_json, NULL);

    if (node && JSON_NODE_HOLDS_OBJECT (node))
      *details = json_object_ref (json_node_get_object (node));
    if (node)
      json_node_unref (node);
    g_free (details_json);
  }
  return CLAMP (status, APM_HEALTH_HEALTHY, APM_HEALTH_UNHEALTHY);
}

/**
 * apm_monitor_add_check:
 * @self: the monitor
 * @name: the check's name (replaces a check of that name)
 * @interval_s: seconds between runs
 * @func: (scope notified) (closure user_data) (destroy destroy): the check
 * @user_data: data for @func
 * @destroy: frees @user_data
 *
 * Adds a health check, shown in /health/monitoring.  It runs on a worker
 * thread of the monitor and is reported "timed out" after 30 s.
 */
void
apm_monitor_add_check (ApmMonitor * self, const gchar * name,
    guint interval_s, ApmCheckFunc func, gpointer user_data,
    GDestroyNotify destroy)
{
  CheckClosure *c;

  g_return_if_fail (APM_IS_MONITOR (self));
  g_return_if_fail (name != NULL && func != NULL);
  c = g_new0 (CheckClosure, 1);
  c->func = func;
  c->user_data = user_data;
  c->destroy = destroy;
  apm_health_add_check_full (apm_service_get_health (service ()), name,
      run_check, c, check_closure_free, interval_s, 30, TRUE);
}

/**
 * apm_monitor_remove_check:
 * @self: the monitor
 * @name: the check
 *
 * Returns: %FALSE if there was no such check
 */
gboolean
apm_monitor_remove_check (ApmMonitor * self, const gchar * name)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  return apm_health_remove_check (apm_service_get_health (service ()), name);
}

/**
 * apm_monitor_add_alert_rule:
 * @self: the monitor
 * @name: the rule's name (replaces a rule of that name)
 * @severity: the alerts' severity
 * @message: (nullable): the alerts' message; "{{value}}" is replaced by
 *   the value; %NULL for the rule's name
 * @func: (scope notified) (closure user_data) (destroy destroy): the
 *   condition
 * @user_data: data for @func
 * @destroy: frees @user_data
 *
 * Adds a custom alert rule, evaluated every alert interval on the
 * monitor's service thread.
 */
void
apm_monitor_add_alert_rule (ApmMonitor * self, const gchar * name,
    ApmSeverity severity, const gchar * message, ApmConditionFunc func,
    gpointer user_data, GDestroyNotify destroy)
{
  ApmAlertRule *rule;

  g_return_if_fail (APM_IS_MONITOR (self));
  g_return_if_fail (name != NULL && func != NULL);
  rule = apm_alert_rule_new_func (name, (ApmAlertConditionFunc) func,
      user_data, destroy);
  apm_alert_rule_set_severity (rule, severity);
  apm_alert_rule_set_message (rule, message ? message : name);
  apm_alerts_add_rule (apm_service_get_alerts (service ()), rule);
}

/**
 * apm_monitor_remove_alert_rule:
 * @self: the monitor
 * @name: the rule
 *
 * Returns: %FALSE if there was no such rule
 */
gboolean
apm_monitor_remove_alert_rule (ApmMonitor * self, const gchar * name)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  return apm_alerts_remove_rule (apm_service_get_alerts (service ()), name);
}

/**
 * apm_monitor_set_alert_interval:
 * @self: the monitor
 * @seconds: seconds between evaluations of the alert rules (>= 1)
 *
 * Takes effect at once, also while the service runs.
 */
void
apm_monitor_set_alert_interval (ApmMonitor * self, guint seconds)
{
  g_return_if_fail (APM_IS_MONITOR (self));
  g_return_if_fail (seconds >= 1);
  apm_service_set_alert_interval (service (), seconds);
}

/**
 * apm_monitor_get_active_alerts:
 * @self: the monitor
 *
 * Returns: (transfer full): the active (pending and firing) alerts as JSON
 *   text: {"alerts": [...]}, as GET /monitoring/alerts serves them
 */
gchar *
apm_monitor_get_active_alerts (ApmMonitor * self)
{
  JsonNode *node;
  gchar *text;

  g_return_val_if_fail (APM_IS_MONITOR (self), NULL);
  node = apm_alerts_active_json (apm_service_get_alerts (service ()), FALSE);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  return text;
}

/**
 * apm_monitor_get_n_active_alerts:
 * @self: the monitor
 *
 * Returns: the number of firing alerts
 */
guint
apm_monitor_get_n_active_alerts (ApmMonitor * self)
{
  g_return_val_if_fail (APM_IS_MONITOR (self), 0);
  return apm_alerts_n_firing (apm_service_get_alerts (service ()), NULL);
}

/**
 * apm_monitor_log:
 * @self: the monitor
 * @level: the level
 * @component: the component logging
 * @message: the message
 * @correlation_id: (nullable): the job's correlation id
 * @context_json: (nullable): a JSON object text with context
 *
 * Writes one structured log line: to the service's log ring, its
 * outputs (file, stderr) and the WebSocket feed.
 */
void
apm_monitor_log (ApmMonitor * self, ApmLogLevel level,
    const gchar * component, const gchar * message,
    const gchar * correlation_id, const gchar * context_json)
{
  JsonObject *context = NULL;

  g_return_if_fail (APM_IS_MONITOR (self));
  g_return_if_fail (component != NULL && message != NULL);
  if (context_json) {
    JsonNode *node = json_from_string (context_json, NULL);

    if (node && JSON_NODE_HOLDS_OBJECT (node))
      context = json_object_ref (json_node_get_object (node));
    else {
      context = json_object_new ();
      json_object_set_string_member (context, "raw", context_json);
    }
    if (node)
      json_node_unref (node);
  }
  apm_log_write (apm_service_get_log (service ()),
      CLAMP (level, APM_LOG_DEBUG, APM_LOG_CRITICAL), component,
      correlation_id, context, "%s", message);
}
