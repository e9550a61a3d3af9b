/* gst-apm: the service's status documents and self-metrics */
#include "apm-status.h"
#include "apm-service.h"
#include "apm-history.h"
#include "apm-state.h"
#include "apm-time.h"

/* The worst of the health checks and of the firing alerts' severities. */
static ApmHealthStatus
overall_status (ApmService * service, JsonObject ** checks)
{
  ApmHealthStatus overall = apm_health_evaluate (apm_service_get_health
      (service), FALSE, checks);
  gint worst_alert;

  if (apm_alerts_n_firing (apm_service_get_alerts (service), &worst_alert)) {
    if (worst_alert == APM_SEVERITY_CRITICAL)
      overall = APM_HEALTH_UNHEALTHY;
    else if (worst_alert == APM_SEVERITY_WARNING)
      overall = MAX (overall, APM_HEALTH_DEGRADED);
  }
  return overall;
}

ApmHealthStatus
apm_status_overall (ApmService * service)
{
  return overall_status (service, NULL);
}

JsonNode *
apm_status_health_monitoring (ApmService * service)
{
  JsonObject *root = json_object_new ();
  JsonObject *monitoring = json_object_new ();
  JsonObject *system = json_object_new ();
  JsonObject *checks = NULL;
  ApmHealthStatus overall;
  guint active, tracked;
  JsonNode *node;

  JsonNode *alerts;

  overall = overall_status (service, &checks);
  apm_jobs_counts (apm_service_get_jobs (service), &active, &tracked);

  json_object_set_string_member (root, "status",
      apm_health_status_to_string (overall));
  json_object_set_object_member (monitoring, "health_checks", checks);
  alerts = apm_alerts_active_json (apm_service_get_alerts (service), TRUE);
  json_object_set_member (monitoring, "active_alerts",
      json_node_copy (json_object_get_member (json_node_get_object (alerts),
              "alerts")));
  json_node_unref (alerts);
  json_object_set_int_member (system, "active_jobs", active);
  json_object_set_int_member (system, "tracked_jobs", tracked);
  json_object_set_int_member (system, "websocket_connections",
      apm_service_n_websockets (service));
  json_object_set_object_member (monitoring, "system_metrics", system);
  json_object_set_object_member (root, "monitoring", monitoring);

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  return node;
}

JsonNode *
apm_status_detailed (ApmService * service)
{
  JsonObject *root = json_object_new (), *svc = json_object_new ();
  JsonObject *config = json_object_new (), *system = json_object_new ();
  JsonObject *checks = NULL;
  JsonNode *jobs, *node;
  ApmHealthStatus overall;
  gint64 start = apm_service_start_time_us (service);
  gchar *url = apm_service_get_url (service);
  gchar *address = apm_service_get_address (service);
  gchar *started = apm_time_format (start);
  guint active, tracked;

  JsonObject *alerts = json_object_new ();
  gint worst;

  overall = overall_status (service, &checks);
  apm_jobs_counts (apm_service_get_jobs (service), &active, &tracked);

  json_object_set_string_member (root, "status",
      apm_health_status_to_string (overall));
  json_object_set_string_member (svc, "version", APM_VERSION);
  json_object_set_int_member (config, "alert_interval_seconds",
      apm_service_get_alert_interval (service));
  json_object_set_string_member (svc, "started_at", started);
  json_object_set_double_member (svc, "uptime_seconds",
      (g_get_real_time () - start) / 1e6);
  if (url)
    json_object_set_string_member (svc, "url", url);
  else
    json_object_set_null_member (svc, "url");
  json_object_set_string_member (config, "address", address);
  json_object_set_int_member (config, "port", apm_service_get_port (service));
  json_object_set_object_member (svc, "config", config);
  {
    JsonObject *history = json_object_new ();

    json_object_set_member (history, "tiers",
        apm_history_tiers_json (apm_service_get_registry (service)));
    json_object_set_int_member (history, "max_series",
        APM_HISTORY_MAX_SERIES);
    json_object_set_int_member (history, "max_bytes",
        apm_history_get_max_bytes (apm_service_get_registry (service)));
    json_object_set_object_member (svc, "history", history);
  }
  apm_state_describe (service, svc);
  json_object_set_object_member (root, "service", svc);

  json_object_set_object_member (root, "health_checks", checks);
  json_object_set_member (root, "pipelines",
      apm_service_describe_pipelines (service, NULL));
  jobs = apm_jobs_to_json (apm_service_get_jobs (service), 0);
  json_object_set_member (root, "jobs", json_node_copy (json_object_get_member
          (json_node_get_object (jobs), "summary")));
  json_node_unref (jobs);
  json_object_set_int_member (system, "active_jobs", active);
  json_object_set_int_member (system, "tracked_jobs", tracked);
  json_object_set_int_member (system, "websocket_connections",
      apm_service_n_websockets (service));
  json_object_set_int_member (system, "series",
      apm_registry_n_series (apm_service_get_registry (service)));
  json_object_set_object_member (root, "system_metrics", system);
  {
    ApmAlerts *al = apm_service_get_alerts (service);
    JsonNode *active_alerts = apm_alerts_active_json (al, FALSE);

    json_object_set_int_member (alerts, "firing",
        apm_alerts_n_firing (al, &worst));
    json_object_set_int_member (alerts, "pending", apm_alerts_n_pending (al));
    json_object_set_member (alerts, "active", json_node_copy
        (json_object_get_member (json_node_get_object (active_alerts),
                "alerts")));
    json_node_unref (active_alerts);
  }
  json_object_set_object_member (root, "alerts", alerts);

  g_free (url);
  g_free (address);
  g_free (started);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, root);
  return node;
}

static const gchar *const firing_labels[] = { "rule", "severity", NULL };

static void
set_firing_gauge (const gchar * rule, ApmSeverity severity, guint n_firing,
    gpointer family)
{
  const gchar *values[] = { rule, apm_severity_to_string (severity), NULL };
  ApmSeries *s = apm_family_series (family, values);

  apm_gauge_set_int (s, n_firing);
  apm_series_unref (s);
}

void
apm_status_refresh_metrics (ApmService * service)
{
  ApmRegistry *reg = apm_service_get_registry (service);
  ApmFamily *f;
  ApmSeries *s;
  guint active, tracked;

  f = apm_registry_family (reg, "apm_service_series", APM_METRIC_GAUGE,
      "Series currently held by the monitor", NULL, NULL, 0);
  s = apm_family_series (f, NULL);
  apm_gauge_set_int (s, apm_registry_n_series (reg));
  apm_series_unref (s);

  f = apm_registry_family (reg, "apm_service_series_dropped_total",
      APM_METRIC_COUNTER,
      "Series not created because the series cap was reached", NULL, NULL, 0);
  s = apm_family_series (f, NULL);
  apm_gauge_set_int (s, apm_registry_n_dropped (reg));
  apm_series_unref (s);

  f = apm_registry_family (reg, "apm_service_start_time_seconds",
      APM_METRIC_GAUGE, "Start time of the monitor since the Unix epoch",
      NULL, NULL, 0);
  s = apm_family_series (f, NULL);
  apm_gauge_set (s, apm_service_start_time_us (service) / 1e6);
  apm_series_unref (s);

  /* firing alerts by rule, so Grafana can show the monitor's own alerts;
   * rules with nothing firing read 0 */
  f = apm_registry_family (reg, "apm_alerts_firing", APM_METRIC_GAUGE,
      "Alerts firing now, by rule", firing_labels, NULL, 0);
  if (f)
    apm_alerts_foreach_rule (apm_service_get_alerts (service),
        set_firing_gauge, f);

  apm_jobs_counts (apm_service_get_jobs (service), &active, &tracked);
  f = apm_registry_family (reg, "apm_jobs_active", APM_METRIC_GAUGE,
      "Jobs in progress", NULL, NULL, 0);
  s = apm_family_series (f, NULL);
  apm_gauge_set_int (s, active);
  apm_series_unref (s);
}
