/* gst-apm: the service's events, to WebSocket clients and the webhook
 *
 * Log lines, jobs, health and alert events come from any thread; the HTTP
 * server and the webhook's session belong to the service thread, so each
 * event travels there as a JsonCall.
 */
#include "apm-service-private.h"

#include <string.h>

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

/* --- WebSocket clients --- */

static void
broadcast_on_thread (ApmService * s, const gchar * type, JsonNode * data)
{
  if (s->http)
    apm_http_broadcast (s->http, type, data);
}

void
apm_service_publish (ApmService * s, const gchar * type, JsonNode * data)
{
  GMainContext *ctx = apm_service_ref_thread_context (s, TRUE);

  if (!ctx)
    return;                     /* no service thread, so no clients */
  g_main_context_invoke_full (ctx, G_PRIORITY_DEFAULT, json_call_run,
      json_call_new (s, broadcast_on_thread, type,
          data ? json_node_ref (data) : NULL), json_call_free);
  g_main_context_unref (ctx);
}

void
apm_service_count_websocket (ApmService * s, gint delta)
{
  g_atomic_int_add (&s->n_websockets, delta);
}

guint
apm_service_n_websockets (ApmService * s)
{
  return g_atomic_int_get (&s->n_websockets);
}

static void
publish_log (JsonNode * line, gpointer user_data)
{
  apm_service_publish (user_data, "log", line);
}

static void
publish_job (JsonNode * job, gpointer user_data)
{
  apm_service_publish (user_data, "job", job);
}

static void
publish_health (JsonNode * event, gpointer user_data)
{
  apm_service_publish (user_data, "health", event);
}

void
apm_service_connect_feeds (ApmService * s)
{
  apm_log_set_listener (s->log, publish_log, s);
  apm_jobs_set_listener (s->jobs, publish_job, s);
  apm_health_set_listener (s->health, (ApmHealthListener) publish_health, s);
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

/* --- the webhook --- */

static gboolean
ensure_webhook (gpointer user_data)
{
  ApmService *s = user_data;
  gchar *url;
  guint timeout;
  ApmBreakerSettings breaker;

  g_mutex_lock (&s->lock);
  url = g_strdup (s->webhook_url);
  timeout = s->webhook_timeout;
  breaker = s->webhook_breaker;
  g_mutex_unlock (&s->lock);
  if (url && !s->webhook)
    s->webhook = apm_webhook_new (url, timeout, &breaker, s->registry,
        s->log);
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

void
apm_service_set_webhook (ApmService * s, const gchar * url, guint timeout_s)
{
  apm_service_set_webhook_full (s, url, timeout_s, NULL);
}

void
apm_service_set_webhook_full (ApmService * s, const gchar * url,
    guint timeout_s, const ApmBreakerSettings * breaker)
{
  static const ApmBreakerSettings defaults = {
    APM_WEBHOOK_BREAKER_FAILURES, APM_WEBHOOK_BREAKER_RESET_S
  };
  gboolean running;

  g_mutex_lock (&s->lock);
  if (s->webhook_url) {
    g_mutex_unlock (&s->lock);
    return;                     /* first configuration wins */
  }
  s->webhook_url = g_strdup (url);
  s->webhook_timeout = timeout_s;
  s->webhook_breaker = breaker ? *breaker : defaults;
  running = s->start_done;
  g_mutex_unlock (&s->lock);
  if (running)
    apm_service_invoke (s, ensure_webhook, s, NULL);
}

void
apm_service_start_alert_feeds (ApmService * s)
{
  apm_alerts_add_listener (s->alerts, publish_alert, s);
  apm_alerts_add_listener (s->alerts, notify_webhook, s);
  ensure_webhook (s);
}

void
apm_service_stop_webhook (ApmService * s)
{
  g_clear_pointer (&s->webhook, apm_webhook_free);
}
