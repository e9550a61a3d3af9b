/* gst-apm: the public API of the monitor
 *
 * One monitor per process, shared with the apm tracer and every apmonitor
 * element: what an application records here is served with what the
 * pipelines record, on the same /metrics, REST API, WebSocket and
 * dashboard.  Every function is safe to call from any thread.  Callbacks
 * (health checks, alert conditions) run on threads of the monitor's
 * service, never on the caller's: see each callback type.
 */
#pragma once

#include <glib-object.h>
#include "apm-enums.h"

G_BEGIN_DECLS

#define APM_TYPE_MONITOR (apm_monitor_get_type ())
G_DECLARE_FINAL_TYPE (ApmMonitor, apm_monitor, APM, MONITOR, GObject)

/**
 * ApmCheckFunc:
 * @user_data: (closure): the data given to apm_monitor_add_check()
 * @message: (out) (transfer full): a one-line message
 * @details_json: (out) (transfer full) (nullable): details as a JSON object
 *   text, or %NULL
 *
 * A custom health check.  Runs on a worker thread of the monitor (it may
 * block; past its timeout it is reported "timed out").
 *
 * Returns: the status
 */
typedef ApmHealthStatus (*ApmCheckFunc) (gpointer user_data,
    gchar ** message, gchar ** details_json);

/**
 * ApmConditionFunc:
 * @user_data: (closure): the data given to apm_monitor_add_alert_rule()
 * @value: (out): the value that was tested, shown in the alert
 *
 * A custom alert condition.  Runs on the monitor's service thread at each
 * alert evaluation: it must be quick, and must not add or remove rules.
 *
 * Returns: %TRUE while the alert condition holds
 */
typedef gboolean (*ApmConditionFunc) (gpointer user_data, gdouble * value);

ApmMonitor *apm_monitor_get_default (void);

gboolean apm_monitor_start_server (ApmMonitor * self, const gchar * address,
    guint port, GError ** error);
gchar *apm_monitor_get_url (ApmMonitor * self);

gchar *apm_monitor_start_job_tracking (ApmMonitor * self,
    const gchar * job_id);
gchar *apm_monitor_start_job_tracking_full (ApmMonitor * self,
    const gchar * job_id, const gchar * traceparent, GHashTable * labels);
gchar *apm_monitor_get_traceparent (ApmMonitor * self, const gchar * job_id);
gboolean apm_monitor_complete_job_tracking (ApmMonitor * self,
    const gchar * job_id, const gchar * status, const gchar * error);
gboolean apm_monitor_record_job_stage (ApmMonitor * self,
    const gchar * job_id, const gchar * stage, gdouble seconds,
    GHashTable * labels);
gchar *apm_monitor_get_job_json (ApmMonitor * self, const gchar * job_id);

gboolean apm_monitor_increment_counter (ApmMonitor * self,
    const gchar * name, gdouble value, GHashTable * labels);
gboolean apm_monitor_set_gauge (ApmMonitor * self, const gchar * name,
    gdouble value, GHashTable * labels);
gboolean apm_monitor_record_histogram (ApmMonitor * self, const gchar * name,
    gdouble value, GHashTable * labels);

void apm_monitor_record_audio_processing_metrics (ApmMonitor * self,
    const gchar * job_id, gint64 file_size, gdouble processing_seconds,
    gboolean success);
void apm_monitor_record_upload_metrics (ApmMonitor * self, gint64 bytes,
    gdouble seconds, gboolean success);
void apm_monitor_record_download_metrics (ApmMonitor * self, gint64 bytes,
    gdouble seconds, gboolean success);
void apm_monitor_record_cache_metrics (ApmMonitor * self,
    const gchar * cache, gboolean hit, gdouble seconds);

void apm_monitor_add_check (ApmMonitor * self, const gchar * name,
    guint interval_s, ApmCheckFunc func, gpointer user_data,
    GDestroyNotify destroy);
gboolean apm_monitor_remove_check (ApmMonitor * self, const gchar * name);

void apm_monitor_add_alert_rule (ApmMonitor * self, const gchar * name,
    ApmSeverity severity, const gchar * message, ApmConditionFunc func,
    gpointer user_data, GDestroyNotify destroy);
gboolean apm_monitor_remove_alert_rule (ApmMonitor * self,
    const gchar * name);
void apm_monitor_set_alert_interval (ApmMonitor * self, guint seconds);

gboolean apm_monitor_set_recovery (ApmMonitor * self, const gchar * pipeline,
    const gchar * policy, GError ** error);
gchar *apm_monitor_get_active_alerts (ApmMonitor * self);
guint apm_monitor_get_n_active_alerts (ApmMonitor * self);

void apm_monitor_log (ApmMonitor * self, ApmLogLevel level,
    const gchar * component, const gchar * message,
    const gchar * correlation_id, const gchar * context_json);

G_END_DECLS
