/* gst-apm: the per-process monitoring service
 *
 * One service per process, shared by the tracer, every apmonitor and the
 * application.  It owns the metric registry and health checks, and once
 * started runs an HTTP server on its own thread with its own GMainContext.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-metrics.h"
#include "apm-health.h"
#include "apm-jobs.h"
#include "apm-alerts.h"
#include "apm-sysres.h"
#include "apm-log-store.h"
#include "apm-breaker-private.h"

G_BEGIN_DECLS

#define APM_DEFAULT_PORT 9464
/* with the default port, the service takes the first free one up to this
 * (another process on the host may serve on the default) */
#define APM_DEFAULT_PORT_LAST 9563
#define APM_DEFAULT_ADDRESS "127.0.0.1"

typedef struct _ApmService ApmService;

typedef struct
{
  gint port;                    /* -1: unset */
  gchar *address;               /* NULL: unset */
  gint quiet;                   /* -1: unset */
  gint ws_rate;                 /* WebSocket updates per second, -1: unset */
  gint alert_interval;          /* seconds between rule evaluations */
  gchar *log_file;              /* NULL: unset */
  gint log_stderr;              /* -1: unset */
  gint log_level;               /* ApmLogLevel, -1: unset */
  gchar *token;                 /* bearer token, NULL: unset */
  gint token_for_all;           /* -1: unset */
  gint bus_messages;            /* tracer messages on buses, -1: unset */
  /* the plugin's pipeline runs: the W3C traceparent they continue (checked)
   * and their labels, key, value pairs; NULL: unset */
  gchar *run_traceparent;
  gchar **run_labels;
  gchar *state_dir;             /* kept across restarts, NULL: unset */
  gchar *otlp_endpoint;         /* OTEL_EXPORTER_OTLP_ENDPOINT's fallback,
                                 * NULL: unset */
  gint stuck_timeout;           /* seconds (the plugin's), -1: unset */
  gchar *recovery;              /* the recovery= param (apm-recovery.h) */
} ApmServiceConfig;

#define APM_SERVICE_CONFIG_INIT \
  { -1, NULL, -1, -1, -1, NULL, -1, -1, NULL, -1, -1, NULL, NULL, NULL, \
    NULL, -1, NULL }
void apm_service_config_clear (ApmServiceConfig * config);
#define APM_DEFAULT_ALERT_INTERVAL 30
#define APM_DEFAULT_WS_RATE 1
#define APM_MAX_WS_RATE 20

/* Called once in a forked child, with the child's fresh service, to
 * configure it as the parent's was (the configuration survives fork). */
typedef void (*ApmServiceForkFunc) (ApmService * service);
void apm_service_set_fork_func (ApmServiceForkFunc func);

/* Called with the default service when it is made (and with a forked
 * child's new one), right after the core's defaults; at once if it exists
 * already.  How a library built on the core (the GStreamer plugin) adds
 * its default rules and checks.  At most 8.  @func runs under the lock
 * that makes the service: it uses the service it is given and must not call
 * apm_service_get_default(). */
typedef void (*ApmServiceSetupFunc) (ApmService * service);
void apm_service_add_setup (ApmServiceSetupFunc func);

/* The process-wide service, created on first use (not started). */
ApmService *apm_service_get_default (void);

/* Applies the fields of @config that are set and not yet configured: the
 * first configuration of each field wins.  Returns FALSE (and a message in
 * @ignored) when a field had already been configured with another value. */
gboolean apm_service_configure (ApmService * service,
    const ApmServiceConfig * config, gchar ** ignored);

/* Starts the service thread and HTTP server if not running.  Safe to call
 * from any thread, many times.  Returns FALSE with @error when the server
 * could not listen; the service then keeps collecting without HTTP. */
gboolean apm_service_ensure_started (ApmService * service, GError ** error);

/* Starts the service thread without the HTTP server when an OTLP endpoint
 * is configured and the thread does not run yet, so that an application
 * that never serves (jobs and logs through the C or GI API) still exports;
 * does nothing otherwise.  Cheap once decided (an atomic read). */
void apm_service_ensure_exporting (ApmService * service);

gboolean apm_service_is_running (ApmService * service);

/* The base URL served ("http://127.0.0.1:9464"), or NULL if not listening. */
gchar *apm_service_get_url (ApmService * service);
guint apm_service_get_port (ApmService * service);
gchar *apm_service_get_address (ApmService * service);

ApmRegistry *apm_service_get_registry (ApmService * service);
ApmHealth *apm_service_get_health (ApmService * service);
ApmJobs *apm_service_get_jobs (ApmService * service);
ApmAlerts *apm_service_get_alerts (ApmService * service);
ApmLog *apm_service_get_log (ApmService * service);
struct _ApmAccess *apm_service_get_access (ApmService * service);
ApmSysres *apm_service_get_sysres (ApmService * service);
guint apm_service_get_alert_interval (ApmService * service);
/* Changes the alert interval, also while running (any thread). */
void apm_service_set_alert_interval (ApmService * service, guint seconds);
guint apm_service_n_websockets (ApmService * service);
gint64 apm_service_start_time_us (ApmService * service);
gboolean apm_service_is_quiet (ApmService * service);
/* The pipelines this process runs, for its entry in the host's registry
 * (apm-discovery.h), rewritten on the service thread.  Any thread. */
void apm_service_set_pipeline_names (ApmService * service,
    const gchar * const *names);

/* Why the service does not serve on the port asked (the default was taken),
 * or NULL (a new string). */
gchar *apm_service_dup_port_note (ApmService * service);

/* Stops the thread and frees everything.  Idempotent; in a forked child it
 * only forgets the parent's state.  Called at gst_deinit() and exit. */
void apm_service_shutdown (void);

/* @func runs on the service thread once a second, to sample and aggregate
 * what the streaming threads recorded. */
typedef void (*ApmCollectFunc) (ApmService * service, gpointer user_data);
void apm_service_add_collector (ApmService * service, ApmCollectFunc func,
    gpointer user_data);

/* @func brings the series up to date with what writers keep on their own
 * (see apm-local.h).  The service runs the flush functions before it
 * reads series: each request, alert evaluation and sample.  They may run
 * on any thread that calls apm_service_flush(), and must serialise
 * themselves. */
void apm_service_add_flush_func (ApmService * service, ApmCollectFunc func,
    gpointer user_data);
void apm_service_flush (ApmService * service);

/* Pipelines are described by the GStreamer glue; the core only serves the
 * descriptions.  @describe gets a pipeline name, or NULL for a JSON array of
 * all pipelines; it returns NULL for an unknown name.  @dot returns Graphviz
 * text for one pipeline, or NULL.  Both run on the service thread. */
typedef JsonNode *(*ApmDescribeFunc) (const gchar * name, gpointer user_data);
typedef gchar *(*ApmDotFunc) (const gchar * name, gpointer user_data);
void apm_service_set_pipelines_provider (ApmService * service,
    ApmDescribeFunc describe, ApmDotFunc dot, gpointer user_data);
JsonNode *apm_service_describe_pipelines (ApmService * service,
    const gchar * name);
gchar *apm_service_pipeline_dot (ApmService * service, const gchar * name);

/* An OpenTelemetry setting (OTEL_EXPORTER_OTLP_ENDPOINT, ...) from the
 * configuration file or the tracer's params, used when the environment
 * does not set it; the first setting of each name wins.  Read when the
 * service thread starts. */
void apm_service_set_otlp_setting (ApmService * service, const gchar * name,
    const gchar * value);

/* Alert notifications are also POSTed to @url (Alertmanager format). */
void apm_service_set_webhook (ApmService * service, const gchar * url,
    guint timeout_s);
/* The same, with the settings of its circuit breaker (NULL: defaults,
 * see apm-breaker-private.h). */
void apm_service_set_webhook_full (ApmService * service, const gchar * url,
    guint timeout_s, const ApmBreakerSettings * breaker);

/* Sends an event ({"type": @type, "data": @data}) to the WebSocket clients
 * at once.  Any thread; takes a reference on @data. */
void apm_service_publish (ApmService * service, const gchar * type,
    JsonNode * data);

/* Counts WebSocket connections (service thread). */
void apm_service_count_websocket (ApmService * service, gint delta);

/* Runs @func on the service thread (at once if called from it). */
void apm_service_invoke (ApmService * service, GSourceFunc func,
    gpointer data, GDestroyNotify notify);

G_END_DECLS
