/* gst-apm: the service's state, shared by the service's own files
 *
 *   apm-service.c           creation, fork and exit, the service thread
 *   apm-service-settings.c  apm_service_configure: first setting wins
 *   apm-service-ticks.c     the periodic work: collectors, flushers, the
 *                           sweep and alert ticks
 *   apm-service-publish.c   events to WebSocket clients and the webhook
 *
 * Everything else goes through apm-service.h.  The helpers below are
 * G_GNUC_INTERNAL: the plugin has no use for them, so they stay out of the
 * library's exports (see libgstapm.map).
 */
#pragma once

#include "apm-service.h"
#include "apm-http.h"
#include "apm-webhook.h"

#include <sys/types.h>

G_BEGIN_DECLS

struct _ApmService
{
  pid_t pid;                    /* owner: a forked child starts afresh */
  ApmRegistry *registry;
  ApmHealth *health;
  ApmJobs *jobs;
  ApmAlerts *alerts;
  ApmSysres *sysres;
  ApmLog *log;
  struct _ApmAccess *access;
  gchar *webhook_url;           /* under lock */
  guint webhook_timeout;
  ApmBreakerSettings webhook_breaker;   /* under lock */
  ApmWebhook *webhook;          /* service thread */
  GSource *alert_source;        /* service thread */
  gint64 created_wall_us;
  gint n_websockets;
  gint64 series_grace_us;
  GArray *collectors;           /* Collector, under lock */
  GArray *flushers;             /* Collector, under lock */
  ApmDescribeFunc describe;     /* under lock */
  ApmDotFunc dot;
  gpointer provider_data;

  GMutex lock;
  GCond cond;
  /* configuration, first setting wins */
  gint port;
  gchar *address;
  gboolean quiet;
  gint ws_rate;
  gint alert_interval;
  gboolean port_set, address_set, quiet_set, ws_rate_set, alert_interval_set;

  /* thread state, under lock */
  GThread *thread;
  gboolean start_done;          /* the thread's work started (export too) */
  gboolean http_wanted;         /* FALSE: the thread runs for OTLP alone */
  gboolean http_begun, http_done;       /* the HTTP server's start-up */
  gint export_decided;          /* atomic: apm_service_ensure_exporting */
  GError *start_error;
  gchar *port_note;             /* why the default port was not used */
  GMainContext *context;
  GMainLoop *loop;
  ApmHttp *http;
  guint bound_port;
  gchar *url;
  gchar *discovery_path;        /* service thread */
  gchar *discovery_address;     /* service thread */
  gchar **pipeline_names;       /* for the discovery file, under lock */
  gchar *state_dir;             /* under lock, first setting wins */
  gboolean state_dir_set;
  struct _ApmState *state;      /* service thread (apm-state.c) */
  GHashTable *otlp_settings;    /* OTEL_* name -> value, under lock */
  GRWLock otlp_lock;            /* otlp: made and freed on the service
                                 * thread, used from any */
  struct _ApmOtlp *otlp;
};

typedef struct
{
  ApmCollectFunc func;
  gpointer user_data;
} Collector;

/* apm-service.c: the service thread's context (a reference), or NULL while
 * there is no thread: not started, or stopped; with @started_only also
 * while it is still starting. */
G_GNUC_INTERNAL
GMainContext *apm_service_ref_thread_context (ApmService * s,
    gboolean started_only);

/* apm-service-ticks.c, on the service thread: starts the sweep tick (each
 * second) and the alert tick (each @alert_interval seconds); stop destroys
 * the alert tick (the sweep tick goes with the context). */
G_GNUC_INTERNAL
void apm_service_start_ticks (ApmService * s, guint alert_interval);
G_GNUC_INTERNAL
void apm_service_stop_ticks (ApmService * s);

/* apm-service-publish.c: at creation, sends log lines, jobs and health
 * events to WebSocket clients. */
G_GNUC_INTERNAL
void apm_service_connect_feeds (ApmService * s);
/* apm-service-publish.c, on the service thread: sends alert events to
 * WebSocket clients and the webhook (made now if configured); stop frees
 * the webhook. */
G_GNUC_INTERNAL
void apm_service_start_alert_feeds (ApmService * s);
G_GNUC_INTERNAL
void apm_service_stop_webhook (ApmService * s);

/* apm-service-otlp.c, on the service thread: the OpenTelemetry export,
 * if configured; stop flushes it (bounded) and frees it. */
G_GNUC_INTERNAL
void apm_service_start_otlp (ApmService * s);
G_GNUC_INTERNAL
void apm_service_stop_otlp (ApmService * s);
/* any thread: whether an OTLP endpoint is configured (environment,
 * configuration file, tracer params) */
G_GNUC_INTERNAL
gboolean apm_service_otlp_configured (ApmService * s);
/* any thread: a log line and a job (start or end) for the export */
G_GNUC_INTERNAL
void apm_service_otlp_log_line (ApmService * s, JsonNode * line);
G_GNUC_INTERNAL
void apm_service_otlp_job (ApmService * s, JsonNode * job);

G_END_DECLS
