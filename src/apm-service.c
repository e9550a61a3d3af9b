/* gst-apm: the per-process monitoring service */
#include "apm-service.h"
#include "apm-http.h"
#include "apm-history.h"
#include "apm-defaults.h"
#include "apm-webhook.h"
#include "apm-access.h"
#include "apm-discovery.h"

#include <stdlib.h>
#include <unistd.h>
#include <string.h>

/* Retired series stay scrapeable this long after their pad or element went
 * (env APM_SERIES_GRACE_SECONDS overrides it, for tests). */
#define SERIES_GRACE_US (30 * G_USEC_PER_SEC)

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
  gboolean start_done;
  GError *start_error;
  gchar *port_note;             /* why the default port was not used */
  GMainContext *context;
  GMainLoop *loop;
  ApmHttp *http;
  guint bound_port;
  gchar *url;
  gchar *discovery_path;        /* service thread */
};

typedef struct
{
  ApmCollectFunc func;
  gpointer user_data;
} Collector;

static void publish_log (JsonNode * line, gpointer user_data);
static void publish_job (JsonNode * job, gpointer user_data);

static void
publish_health (JsonNode * event, gpointer user_data)
{
  apm_service_publish (user_data, "health", event);
}

static GMutex default_lock;
static ApmService *default_service;
static ApmServiceForkFunc fork_func;
static gboolean atexit_registered;

static void stop_thread (ApmService * s);

/* --- sending to the service thread --- */

/* The service thread's context (a reference), or NULL while there is no
 * thread: not started, or stopped; with @started_only also while it is
 * still starting. */
static GMainContext *
ref_thread_context (ApmService * s, gboolean started_only)
{
  GMainContext *ctx = NULL;

  g_mutex_lock (&s->lock);
  if (s->context && (s->start_done || !started_only))
    ctx = g_main_context_ref (s->context);
  g_mutex_unlock (&s->lock);
  return ctx;
}

/* A JSON document for the service thread, which owns the HTTP server and
 * the webhook's session: json_call_run() hands it to @func there. */
typedef void (*JsonCallFunc) (ApmService * s, const gchar * what,
    JsonNode * node);

typedef struct
{
  ApmService *service;
  JsonCallFunc func;
  gchar *what;                  /* the event type */
  JsonNode *node;               /* nullable */
} JsonCall;

/* takes @node */
static JsonCall *
json_call_new (ApmService * s, JsonCallFunc func, const gchar * what,
    JsonNode * node)
{
  JsonCall *call = g_new (JsonCall, 1);

  call->service = s;
  call->func = func;
  call->what = g_strdup (what);
  call->node = node;
  return call;
}

static gboolean
json_call_run (gpointer data)
{
  JsonCall *call = data;

  call->func (call->service, call->what, call->node);
  return G_SOURCE_REMOVE;
}

static void
json_call_free (gpointer data)
{
  JsonCall *call = data;

  g_free (call->what);
  if (call->node)
    json_node_unref (call->node);
  g_free (call);
}

static void
at_exit (void)
{
  ApmService *s;

  /* the application's callbacks (checks, alert rules) may belong to a
   * runtime that is already gone (Python finalizes before the C exit
   * handlers run): at exit only stop the thread, release nothing, and
   * leave the service reachable */
  g_mutex_lock (&default_lock);
  s = default_service;
  g_mutex_unlock (&default_lock);
  if (s && s->pid == getpid ())
    stop_thread (s);
}

void
apm_service_set_fork_func (ApmServiceForkFunc func)
{
  g_mutex_lock (&default_lock);
  fork_func = func;
  g_mutex_unlock (&default_lock);
}

static ApmServiceSetupFunc setup_funcs[8];
static guint n_setup_funcs;

void
apm_service_add_setup (ApmServiceSetupFunc func)
{
  ApmService *existing;

  g_mutex_lock (&default_lock);
  if (n_setup_funcs == G_N_ELEMENTS (setup_funcs)) {
    g_mutex_unlock (&default_lock);
    g_critical ("apm: too many service setup functions");
    return;
  }
  setup_funcs[n_setup_funcs++] = func;
  existing = default_service && default_service->pid == getpid () ?
      default_service : NULL;
  g_mutex_unlock (&default_lock);
  if (existing)
    func (existing);
}

ApmService *
apm_service_get_default (void)
{
  ApmService *s;
  ApmServiceForkFunc forked = NULL;

  g_mutex_lock (&default_lock);
  if (default_service && default_service->pid != getpid ()) {
    /* forked child: the parent's thread does not exist here, so its state
     * cannot be stopped or freed safely; start afresh, configured again
     * as the parent was */
    default_service = NULL;
    forked = fork_func;
  }
  if (!default_service) {
    s = g_new0 (ApmService, 1);
    s->pid = getpid ();
    s->registry = apm_registry_new (20000);
    s->health = apm_health_new ();
    s->jobs = apm_jobs_new (APM_JOBS_DEFAULT_KEEP, s->registry);
    s->collectors = g_array_new (FALSE, FALSE, sizeof (Collector));
    s->flushers = g_array_new (FALSE, FALSE, sizeof (Collector));
    s->log = apm_log_new (APM_LOG_RING_SIZE);
    s->access = apm_access_new ();
    apm_access_set_token (s->access, g_getenv ("APM_TOKEN"), FALSE);
    apm_log_set_listener (s->log, publish_log, s);
    apm_jobs_set_log (s->jobs, s->log);
    apm_jobs_set_listener (s->jobs, publish_job, s);
    apm_health_set_listener (s->health, (ApmHealthListener) publish_health,
        s);
    apm_health_set_log (s->health, s->log);
    s->alerts = apm_alerts_new (s->registry, 1000);
    s->sysres = apm_sysres_new (s->registry);
    s->alert_interval = APM_DEFAULT_ALERT_INTERVAL;
    apm_defaults_install (s);
    for (guint i = 0; i < n_setup_funcs; i++)
      setup_funcs[i] (s);
    s->series_grace_us = SERIES_GRACE_US;
    {
      const gchar *grace = g_getenv ("APM_SERIES_GRACE_SECONDS");
      gchar *end = NULL;
      gdouble v = grace ? g_ascii_strtod (grace, &end) : -1;

      if (grace && end && *end == '\0' && v >= 0 && v <= 86400)
        s->series_grace_us = (gint64) (v * G_USEC_PER_SEC);
    }
    s->created_wall_us = g_get_real_time ();
    g_mutex_init (&s->lock);
    g_cond_init (&s->cond);
    s->port = APM_DEFAULT_PORT;
    s->ws_rate = APM_DEFAULT_WS_RATE;
    s->address = g_strdup (APM_DEFAULT_ADDRESS);
    default_service = s;
    if (!atexit_registered) {
      atexit_registered = TRUE;
      atexit (at_exit);
    }
  }
  s = default_service;
  g_mutex_unlock (&default_lock);
  if (forked)
    forked (s);
  return s;
}

gboolean
apm_service_configure (ApmService * s, const ApmServiceConfig * config,
    gchar ** ignored)
{
  GString *why = g_string_new (NULL);

  g_mutex_lock (&s->lock);
  if (config->port >= 0) {
    if (!s->port_set) {
      s->port = config->port;
      s->port_set = TRUE;
    } else if (s->port != config->port) {
      g_string_append_printf (why, "port=%d ignored: already %d; ",
          config->port, s->port);
    }
  }
  if (config->address) {
    if (!s->address_set) {
      g_free (s->address);
      s->address = g_strdup (config->address);
      s->address_set = TRUE;
    } else if (g_strcmp0 (s->address, config->address) != 0) {
      g_string_append_printf (why, "address=%s ignored: already %s; ",
          config->address, s->address);
    }
  }
  if (config->ws_rate > 0 && !s->ws_rate_set) {
    s->ws_rate = CLAMP (config->ws_rate, 1, APM_MAX_WS_RATE);
    s->ws_rate_set = TRUE;
  }
  if (config->alert_interval > 0 && !s->alert_interval_set) {
    s->alert_interval = config->alert_interval;
    s->alert_interval_set = TRUE;
  }
  if (config->token)
    apm_access_set_token (s->access, config->token,
        config->token_for_all > 0);
  if (config->log_level >= 0)
    apm_log_set_min_level (s->log, config->log_level);
  if (config->log_stderr >= 0)
    apm_log_set_stderr (s->log, config->log_stderr);
  if (config->log_file) {
    GError *error = NULL;

    if (!apm_log_set_file (s->log, config->log_file, &error)) {
      g_string_append_printf (why, "%s; ", error->message);
      g_clear_error (&error);
    }
  }
  if (config->quiet >= 0 && !s->quiet_set) {
    s->quiet = config->quiet;
    s->quiet_set = TRUE;
  }
  g_mutex_unlock (&s->lock);

  if (why->len) {
    g_string_truncate (why, why->len - 2);
    if (ignored)
      *ignored = g_string_free (why, FALSE);
    else
      g_string_free (why, TRUE);
    return FALSE;
  }
  g_string_free (why, TRUE);
  if (ignored)
    *ignored = NULL;
  return TRUE;
}

static void
run_collectors (ApmService * s, GArray * list)
{
  GArray *copy;

  g_mutex_lock (&s->lock);
  copy = g_array_copy (list);
  g_mutex_unlock (&s->lock);
  for (guint i = 0; i < copy->len; i++) {
    Collector *c = &g_array_index (copy, Collector, i);

    c->func (s, c->user_data);
  }
  g_array_unref (copy);
}

void
apm_service_flush (ApmService * s)
{
  run_collectors (s, s->flushers);
}

static gboolean
sweep_tick (gpointer user_data)
{
  ApmService *s = user_data;

  apm_service_flush (s);
  run_collectors (s, s->collectors);
  apm_sysres_sample (s->sysres);
  apm_health_tick (s->health);
  apm_log_check_file (s->log);
  apm_history_sample (s->registry, g_get_real_time ());
  apm_registry_sweep (s->registry, s->series_grace_us);
  return G_SOURCE_CONTINUE;
}

static gboolean
alert_tick (gpointer user_data)
{
  ApmService *s = user_data;

  apm_service_flush (s);
  apm_alerts_evaluate (s->alerts, g_get_real_time ());
  return G_SOURCE_CONTINUE;
}

/* Alert lifecycle events go to WebSocket clients at once. */
static void
publish_alert (const gchar * event, JsonNode * alert, gpointer user_data)
{
  ApmService *s = user_data;
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (o, "event", event);
  json_object_set_member (o, "alert", json_node_copy (alert));
  json_node_take_object (node, o);
  /* resolves come from any thread: the feed is the service thread's */
  apm_service_publish (s, "alert", node);
  json_node_unref (node);

  {
    JsonObject *a = json_node_get_object (alert);
    JsonObject *ctx = json_object_new ();

    json_object_set_string_member (ctx, "alert_id",
        json_object_get_string_member (a, "id"));
    json_object_set_string_member (ctx, "rule",
        json_object_get_string_member (a, "rule"));
    json_object_set_string_member (ctx, "severity",
        json_object_get_string_member (a, "severity"));
    json_object_set_object_member (ctx, "labels",
        json_object_ref (json_object_get_object_member (a, "labels")));
    apm_log_write (s->log, strcmp (event, "firing") == 0 ? APM_LOG_WARNING :
        APM_LOG_INFO, "alerts", NULL, ctx, "alert %s %s: %s",
        json_object_get_string_member (a, "id"), event,
        json_object_get_string_member (a, "message"));
  }
}

static gboolean
ensure_webhook (gpointer user_data)
{
  ApmService *s = user_data;
  gchar *url;
  guint timeout;

  g_mutex_lock (&s->lock);
  url = g_strdup (s->webhook_url);
  timeout = s->webhook_timeout;
  g_mutex_unlock (&s->lock);
  if (url && !s->webhook)
    s->webhook = apm_webhook_new (url, timeout, s->registry);
  g_free (url);
  return G_SOURCE_REMOVE;
}

static void
webhook_on_thread (ApmService * s, const gchar * event, JsonNode * alert)
{
  if (s->webhook)
    apm_webhook_notify (s->webhook, event, alert);
}

/* the webhook's session belongs to the service thread: go there */
static void
notify_webhook (const gchar * event, JsonNode * alert, gpointer user_data)
{
  ApmService *s = user_data;

  apm_service_invoke (s, json_call_run, json_call_new (s, webhook_on_thread,
          event, json_node_copy (alert)), json_call_free);
}

static void
publish_job (JsonNode * job, gpointer user_data)
{
  apm_service_publish (user_data, "job", job);
}

void
apm_service_set_webhook (ApmService * s, const gchar * url, guint timeout_s)
{
  gboolean running;

  g_mutex_lock (&s->lock);
  if (s->webhook_url) {
    g_mutex_unlock (&s->lock);
    return;                     /* first configuration wins */
  }
  s->webhook_url = g_strdup (url);
  s->webhook_timeout = timeout_s;
  running = s->start_done;
  g_mutex_unlock (&s->lock);
  if (running)
    apm_service_invoke (s, ensure_webhook, s, NULL);
}

static void
publish_log (JsonNode * line, gpointer user_data)
{
  apm_service_publish (user_data, "log", line);
}

static void publish_discovery (ApmService * s, const gchar * address);

static gpointer
service_thread (gpointer user_data)
{
  ApmService *s = user_data;
  GError *error = NULL;
  GSource *tick;
  gchar *address;
  gint port, last_port, rate, alert_interval;

  g_main_context_push_thread_default (s->context);

  g_mutex_lock (&s->lock);
  address = g_strdup (s->address);
  port = s->port;
  /* the default port, taken by another monitored process on this host:
   * the next free one of the range (an explicit port is used as given) */
  last_port = !s->port_set && port == APM_DEFAULT_PORT ?
      APM_DEFAULT_PORT_LAST : port;
  rate = s->ws_rate;
  alert_interval = s->alert_interval;
  g_mutex_unlock (&s->lock);

  s->http = apm_http_new (s, 1000 / rate);
  if (!apm_http_listen (s->http, address, port, last_port, &s->bound_port,
          &error)) {
    apm_http_free (s->http);
    s->http = NULL;
  }

  tick = g_timeout_source_new_seconds (1);
  g_source_set_callback (tick, sweep_tick, s, NULL);
  g_source_attach (tick, s->context);
  g_source_unref (tick);
  s->alert_source = g_timeout_source_new_seconds (alert_interval);
  g_source_set_callback (s->alert_source, alert_tick, s, NULL);
  g_source_attach (s->alert_source, s->context);
  apm_alerts_add_listener (s->alerts, publish_alert, s);
  apm_alerts_add_listener (s->alerts, notify_webhook, s);
  ensure_webhook (s);

  if (error)
    apm_log_write (s->log, APM_LOG_ERROR, "service", NULL, NULL,
        "HTTP service not started on %s:%d: %s", address, port,
        error->message);
  if (!error && port != 0 && s->bound_port != (guint) port) {
    gchar *note = g_strdup_printf ("port %d is in use (another monitored "
        "process?): serving on %u, the first free port of %d-%d", port,
        s->bound_port, port, last_port);

    apm_log_write (s->log, APM_LOG_INFO, "service", NULL, NULL, "%s", note);
    g_mutex_lock (&s->lock);
    s->port_note = note;
    g_mutex_unlock (&s->lock);
  }
  g_mutex_lock (&s->lock);
  if (error) {
    s->start_error = error;
  } else {
    gboolean v6 = strchr (address, ':') != NULL;

    s->url = g_strdup_printf ("http://%s%s%s:%u", v6 ? "[" : "", address,
        v6 ? "]" : "", s->bound_port);
  }
  s->start_done = TRUE;
  g_cond_broadcast (&s->cond);
  if (s->url) {
    JsonObject *ctx = json_object_new ();

    json_object_set_string_member (ctx, "url", s->url);
    json_object_set_int_member (ctx, "pid", s->pid);
    g_mutex_unlock (&s->lock);
    apm_log_write (s->log, APM_LOG_INFO, "service", NULL, ctx,
        "service started");
    publish_discovery (s, address);
  } else {
    g_mutex_unlock (&s->lock);
  }
  g_free (address);

  g_main_loop_run (s->loop);
  apm_log_write (s->log, APM_LOG_INFO, "service", NULL, NULL,
      "service stopping");

  apm_discovery_withdraw (s->discovery_path);
  g_clear_pointer (&s->discovery_path, g_free);
  if (s->http)
    apm_http_free (s->http);
  s->http = NULL;
  g_clear_pointer (&s->webhook, apm_webhook_free);
  if (s->alert_source) {
    g_source_destroy (s->alert_source);
    g_clear_pointer (&s->alert_source, g_source_unref);
  }
  /* let sources destroyed above finish their cleanup */
  while (g_main_context_iteration (s->context, FALSE));
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

/* the URL where tools and tests find it, without a bus message */
static void
publish_discovery (ApmService * s, const gchar * address)
{
  GError *error = NULL;
  gchar *url;

  g_mutex_lock (&s->lock);
  url = g_strdup (s->url);
  g_mutex_unlock (&s->lock);
  s->discovery_path = apm_discovery_publish (url, s->bound_port, address,
      &error);
  if (error) {
    apm_log_write (s->log, APM_LOG_WARNING, "service", NULL, NULL,
        "discovery file not written: %s", error->message);
    g_error_free (error);
  }
  g_free (url);
}

gboolean
apm_service_ensure_started (ApmService * s, GError ** error)
{
  gboolean ok;

  g_mutex_lock (&s->lock);
  if (!s->thread) {
    s->context = g_main_context_new ();
    s->loop = g_main_loop_new (s->context, FALSE);
    s->thread = g_thread_new ("apm-service", service_thread, s);
  }
  while (!s->start_done)
    g_cond_wait (&s->cond, &s->lock);
  ok = s->start_error == NULL;
  if (!ok && error)
    *error = g_error_copy (s->start_error);
  g_mutex_unlock (&s->lock);
  return ok;
}

gboolean
apm_service_is_running (ApmService * s)
{
  gboolean running;

  g_mutex_lock (&s->lock);
  running = s->start_done && s->url != NULL;
  g_mutex_unlock (&s->lock);
  return running;
}

gchar *
apm_service_get_url (ApmService * s)
{
  gchar *url;

  g_mutex_lock (&s->lock);
  url = g_strdup (s->url);
  g_mutex_unlock (&s->lock);
  return url;
}

guint
apm_service_get_port (ApmService * s)
{
  guint port;

  g_mutex_lock (&s->lock);
  port = s->bound_port;
  g_mutex_unlock (&s->lock);
  return port;
}

gchar *
apm_service_get_address (ApmService * s)
{
  gchar *address;

  g_mutex_lock (&s->lock);
  address = g_strdup (s->address);
  g_mutex_unlock (&s->lock);
  return address;
}

ApmRegistry *
apm_service_get_registry (ApmService * s)
{
  return s->registry;
}

ApmHealth *
apm_service_get_health (ApmService * s)
{
  return s->health;
}

ApmJobs *
apm_service_get_jobs (ApmService * s)
{
  return s->jobs;
}

ApmAlerts *
apm_service_get_alerts (ApmService * s)
{
  return s->alerts;
}

ApmLog *
apm_service_get_log (ApmService * s)
{
  return s->log;
}

struct _ApmAccess *
apm_service_get_access (ApmService * s)
{
  return s->access;
}

void
apm_service_config_clear (ApmServiceConfig * config)
{
  g_clear_pointer (&config->token, g_free);
  g_clear_pointer (&config->address, g_free);
  g_clear_pointer (&config->log_file, g_free);
}

ApmSysres *
apm_service_get_sysres (ApmService * s)
{
  return s->sysres;
}

static gboolean
rearm_alerts (gpointer user_data)
{
  ApmService *s = user_data;
  guint interval = apm_service_get_alert_interval (s);

  if (s->alert_source) {
    g_source_destroy (s->alert_source);
    g_source_unref (s->alert_source);
  }
  s->alert_source = g_timeout_source_new_seconds (interval);
  g_source_set_callback (s->alert_source, alert_tick, s, NULL);
  g_source_attach (s->alert_source, s->context);
  return G_SOURCE_REMOVE;
}

void
apm_service_set_alert_interval (ApmService * s, guint seconds)
{
  gboolean running;

  g_return_if_fail (seconds >= 1);
  g_mutex_lock (&s->lock);
  s->alert_interval = seconds;
  s->alert_interval_set = TRUE;
  running = s->start_done && s->thread != NULL;
  g_mutex_unlock (&s->lock);
  if (running)
    apm_service_invoke (s, rearm_alerts, s, NULL);
}

guint
apm_service_get_alert_interval (ApmService * s)
{
  guint v;

  g_mutex_lock (&s->lock);
  v = s->alert_interval;
  g_mutex_unlock (&s->lock);
  return v;
}

guint
apm_service_n_websockets (ApmService * s)
{
  return g_atomic_int_get (&s->n_websockets);
}

gint64
apm_service_start_time_us (ApmService * s)
{
  return s->created_wall_us;
}

gchar *
apm_service_dup_port_note (ApmService * s)
{
  gchar *note;

  g_mutex_lock (&s->lock);
  note = g_strdup (s->port_note);
  g_mutex_unlock (&s->lock);
  return note;
}

gboolean
apm_service_is_quiet (ApmService * s)
{
  gboolean quiet;

  g_mutex_lock (&s->lock);
  quiet = s->quiet;
  g_mutex_unlock (&s->lock);
  return quiet;
}

void
apm_service_add_collector (ApmService * s, ApmCollectFunc func,
    gpointer user_data)
{
  Collector c = { func, user_data };

  g_mutex_lock (&s->lock);
  g_array_append_val (s->collectors, c);
  g_mutex_unlock (&s->lock);
}

void
apm_service_add_flush_func (ApmService * s, ApmCollectFunc func,
    gpointer user_data)
{
  Collector c = { func, user_data };

  g_mutex_lock (&s->lock);
  g_array_append_val (s->flushers, c);
  g_mutex_unlock (&s->lock);
}

void
apm_service_set_pipelines_provider (ApmService * s, ApmDescribeFunc describe,
    ApmDotFunc dot, gpointer user_data)
{
  g_mutex_lock (&s->lock);
  s->describe = describe;
  s->dot = dot;
  s->provider_data = user_data;
  g_mutex_unlock (&s->lock);
}

JsonNode *
apm_service_describe_pipelines (ApmService * s, const gchar * name)
{
  ApmDescribeFunc describe;
  gpointer data;

  g_mutex_lock (&s->lock);
  describe = s->describe;
  data = s->provider_data;
  g_mutex_unlock (&s->lock);
  if (describe)
    return describe (name, data);
  if (name)
    return NULL;
  {
    JsonNode *node = json_node_new (JSON_NODE_ARRAY);

    json_node_take_array (node, json_array_new ());
    return node;
  }
}

gchar *
apm_service_pipeline_dot (ApmService * s, const gchar * name)
{
  ApmDotFunc dot;
  gpointer data;

  g_mutex_lock (&s->lock);
  dot = s->dot;
  data = s->provider_data;
  g_mutex_unlock (&s->lock);
  return dot ? dot (name, data) : NULL;
}

void
apm_service_count_websocket (ApmService * s, gint delta)
{
  g_atomic_int_add (&s->n_websockets, delta);
}

static void
broadcast_on_thread (ApmService * s, const gchar * type, JsonNode * data)
{
  if (s->http)
    apm_http_broadcast (s->http, type, data);
}

void
apm_service_publish (ApmService * s, const gchar * type, JsonNode * data)
{
  GMainContext *ctx = ref_thread_context (s, TRUE);

  if (!ctx)
    return;                     /* no service thread, so no clients */
  g_main_context_invoke_full (ctx, G_PRIORITY_DEFAULT, json_call_run,
      json_call_new (s, broadcast_on_thread, type,
          data ? json_node_ref (data) : NULL), json_call_free);
  g_main_context_unref (ctx);
}

void
apm_service_invoke (ApmService * s, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GMainContext *ctx = ref_thread_context (s, FALSE);

  if (!ctx) {
    /* not started: nothing else runs service code, so run it here */
    func (data);
    if (notify)
      notify (data);
    return;
  }
  g_main_context_invoke_full (ctx, G_PRIORITY_DEFAULT, func, data, notify);
  g_main_context_unref (ctx);
}

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* Quits the service loop and joins its thread, once. */
static void
stop_thread (ApmService * s)
{
  GThread *thread;

  g_mutex_lock (&s->lock);
  thread = g_steal_pointer (&s->thread);
  g_mutex_unlock (&s->lock);
  if (!thread)
    return;
  {
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, quit_loop, s->loop, NULL);
    g_source_attach (idle, s->context);
    g_source_unref (idle);
  }
  g_thread_join (thread);
  g_mutex_lock (&s->lock);
  g_clear_pointer (&s->loop, g_main_loop_unref);
  g_clear_pointer (&s->context, g_main_context_unref);
  g_mutex_unlock (&s->lock);
}

void
apm_service_shutdown (void)
{
  ApmService *s;

  g_mutex_lock (&default_lock);
  s = default_service;
  default_service = NULL;
  g_mutex_unlock (&default_lock);
  if (!s || s->pid != getpid ())
    return;

  stop_thread (s);
  g_clear_error (&s->start_error);
  g_clear_pointer (&s->port_note, g_free);
  apm_health_free (s->health);
  apm_jobs_free (s->jobs);
  apm_alerts_free (s->alerts);
  apm_sysres_free (s->sysres);
  apm_log_free (s->log);
  apm_access_free (s->access);
  g_free (s->webhook_url);
  g_array_unref (s->collectors);
  g_array_unref (s->flushers);
  apm_registry_free (s->registry);
  g_free (s->address);
  g_free (s->url);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}
