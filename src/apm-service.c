/* gst-apm: the per-process monitoring service
 *
 * Its creation (once per process, again in a forked child), the service
 * thread with its GMainContext and HTTP server, stopping at exit and
 * shutdown, and the accessors.  The settings, the periodic work and the
 * events it publishes have their own files (see apm-service-private.h).
 */
#include "apm-service-private.h"
#include "apm-access.h"
#include "apm-breaker-private.h"
#include "apm-defaults.h"
#include "apm-discovery.h"
#include "apm-state.h"

#include <stdlib.h>
#include <unistd.h>
#include <string.h>

/* Retired series stay scrapeable this long after their pad or element went
 * (env APM_SERIES_GRACE_SECONDS overrides it, for tests). */
#define SERIES_GRACE_US (30 * G_USEC_PER_SEC)

static GMutex default_lock;
static ApmService *default_service;
static ApmServiceForkFunc fork_func;
static gboolean atexit_registered;

static void stop_thread (ApmService * s);

/* --- sending to the service thread --- */

/* (publishing uses it too: apm-service-publish.c) */
GMainContext *
apm_service_ref_thread_context (ApmService * s, gboolean started_only)
{
  GMainContext *ctx = NULL;

  g_mutex_lock (&s->lock);
  if (s->context && (s->start_done || !started_only))
    ctx = g_main_context_ref (s->context);
  g_mutex_unlock (&s->lock);
  return ctx;
}

void
apm_service_invoke (ApmService * s, GSourceFunc func, gpointer data,
    GDestroyNotify notify)
{
  GMainContext *ctx = apm_service_ref_thread_context (s, FALSE);

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

/* --- the process-wide service --- */

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
    apm_jobs_set_log (s->jobs, s->log);
    apm_health_set_log (s->health, s->log);
    apm_service_connect_feeds (s);
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
    g_rw_lock_init (&s->otlp_lock);
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

/* --- the service thread --- */

static void publish_discovery (ApmService * s, const gchar * address);

/* service thread: the HTTP server and the discovery file, once: at
 * start-up, or later when a service started for the OTLP export alone is
 * asked to serve */
static void
start_http (ApmService * s)
{
  GError *error = NULL;
  gchar *address;
  gint port, last_port, rate;

  g_mutex_lock (&s->lock);
  if (s->http_begun) {
    g_mutex_unlock (&s->lock);
    return;
  }
  s->http_begun = TRUE;
  address = g_strdup (s->address);
  port = s->port;
  /* the default port, taken by another monitored process on this host:
   * the next free one of the range (an explicit port is used as given) */
  last_port = !s->port_set && port == APM_DEFAULT_PORT ?
      APM_DEFAULT_PORT_LAST : port;
  rate = s->ws_rate;
  g_mutex_unlock (&s->lock);

  s->http = apm_http_new (s, 1000 / rate);
  if (!apm_http_listen (s->http, address, port, last_port, &s->bound_port,
          &error)) {
    apm_http_free (s->http);
    s->http = NULL;
  }

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
  s->http_done = TRUE;
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
}

static gboolean
start_http_now (gpointer data)
{
  start_http (data);
  return G_SOURCE_REMOVE;
}

static gpointer
service_thread (gpointer user_data)
{
  ApmService *s = user_data;
  gint alert_interval;
  gboolean serve;

  g_main_context_push_thread_default (s->context);

  g_mutex_lock (&s->lock);
  alert_interval = s->alert_interval;
  serve = s->http_wanted;
  g_mutex_unlock (&s->lock);

  apm_service_start_ticks (s, alert_interval);
  apm_service_start_alert_feeds (s);
  apm_service_start_otlp (s);

  g_mutex_lock (&s->lock);
  s->start_done = TRUE;
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  if (serve)
    start_http (s);
  else
    apm_log_write (s->log, APM_LOG_INFO, "service", NULL, NULL,
        "service started without HTTP, for the OTLP export");

  /* after start-up is reported: the application does not wait for it */
  apm_state_start (s);
  g_main_loop_run (s->loop);
  apm_log_write (s->log, APM_LOG_INFO, "service", NULL, NULL,
      "service stopping");
  /* the spans of a short run still go out (bounded) */
  apm_service_stop_otlp (s);

  apm_discovery_withdraw (s->discovery_path);
  g_clear_pointer (&s->discovery_path, g_free);
  g_clear_pointer (&s->discovery_address, g_free);
  if (s->http)
    apm_http_free (s->http);
  s->http = NULL;
  apm_service_stop_webhook (s);
  apm_service_stop_ticks (s);
  apm_state_stop (s);
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
  gchar *url, **names;

  g_mutex_lock (&s->lock);
  url = g_strdup (s->url);
  names = g_strdupv (s->pipeline_names);
  g_mutex_unlock (&s->lock);
  if (address != s->discovery_address) {
    g_free (s->discovery_address);
    s->discovery_address = g_strdup (address);
  }
  g_free (s->discovery_path);
  s->discovery_path = apm_discovery_publish (url, s->bound_port, address,
      (const gchar * const *) names, &error);
  g_strfreev (names);
  if (error) {
    apm_log_write (s->log, APM_LOG_WARNING, "service", NULL, NULL,
        "discovery file not written: %s", error->message);
    g_error_free (error);
  }
  g_free (url);
}

/* service thread: the file again, with the pipelines of now */
static gboolean
republish_discovery (gpointer data)
{
  ApmService *s = data;

  if (s->discovery_path)
    publish_discovery (s, s->discovery_address);
  return G_SOURCE_REMOVE;
}

void
apm_service_set_pipeline_names (ApmService * s, const gchar * const *names)
{
  g_mutex_lock (&s->lock);
  g_strfreev (s->pipeline_names);
  s->pipeline_names = g_strdupv ((gchar **) names);
  g_mutex_unlock (&s->lock);
  apm_service_invoke (s, republish_discovery, s, NULL);
}

/* called with the lock */
static void
start_thread (ApmService * s)
{
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  s->thread = g_thread_new ("apm-service", service_thread, s);
}

gboolean
apm_service_ensure_started (ApmService * s, GError ** error)
{
  gboolean ok;

  g_mutex_lock (&s->lock);
  if (!s->http_wanted) {
    s->http_wanted = TRUE;
    if (!s->thread && !s->start_done) {
      start_thread (s);
    } else if (s->thread) {
      /* running for the OTLP export alone: now it serves too */
      GSource *idle = g_idle_source_new ();

      g_source_set_callback (idle, start_http_now, s, NULL);
      g_source_attach (idle, s->context);
      g_source_unref (idle);
    }
  }
  while (s->thread && !s->http_done)
    g_cond_wait (&s->cond, &s->lock);
  ok = s->start_error == NULL && s->http_done;
  if (!ok && error)
    *error = s->start_error ? g_error_copy (s->start_error) :
        g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED, "service stopped");
  g_mutex_unlock (&s->lock);
  return ok;
}

void
apm_service_ensure_exporting (ApmService * s)
{
  gint decided = g_atomic_int_get (&s->export_decided);

  if (decided)
    return;
  /* once the thread runs (or has run), the export is what it started
   * with: nothing more to decide */
  g_mutex_lock (&s->lock);
  if (s->thread || s->start_done) {
    g_mutex_unlock (&s->lock);
    g_atomic_int_set (&s->export_decided, 1);
    return;
  }
  g_mutex_unlock (&s->lock);
  if (!apm_service_otlp_configured (s)) {
    /* asked again if a setting arrives (apm_service_set_otlp_setting) */
    g_atomic_int_set (&s->export_decided, 1);
    return;
  }
  g_mutex_lock (&s->lock);
  if (!s->thread && !s->start_done)
    start_thread (s);
  while (s->thread && !s->start_done)
    g_cond_wait (&s->cond, &s->lock);
  g_mutex_unlock (&s->lock);
  g_atomic_int_set (&s->export_decided, 1);
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
  /* a start_server() waiting for a listener that never came */
  g_cond_broadcast (&s->cond);
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
  g_clear_pointer (&s->pipeline_names, g_strfreev);
  g_clear_pointer (&s->otlp_settings, g_hash_table_unref);
  /* before the checks and series they hold go */
  apm_breakers_detach (s);
  apm_health_free (s->health);
  apm_jobs_free (s->jobs);
  apm_alerts_free (s->alerts);
  apm_sysres_free (s->sysres);
  apm_log_free (s->log);
  apm_access_free (s->access);
  g_clear_pointer (&s->state, apm_state_free);
  g_free (s->state_dir);
  g_free (s->webhook_url);
  g_array_unref (s->collectors);
  g_array_unref (s->flushers);
  apm_registry_free (s->registry);
  g_free (s->address);
  g_free (s->url);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_rw_lock_clear (&s->otlp_lock);
  g_free (s);
}

/* --- accessors --- */

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

ApmSysres *
apm_service_get_sysres (ApmService * s)
{
  return s->sysres;
}

gint64
apm_service_start_time_us (ApmService * s)
{
  return s->created_wall_us;
}

/* --- the pipelines, as the GStreamer glue describes them --- */

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
