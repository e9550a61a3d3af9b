/* gst-apm: alert notifications POSTed to a webhook (Alertmanager format) */
#include "apm-webhook.h"

#include <libsoup/soup.h>

typedef struct
{
  gchar *body;
  guint attempts;
} Pending;

struct _ApmWebhook
{
  gchar *url;
  SoupSession *session;
  GQueue queue;                 /* Pending, the head is in flight */
  gboolean in_flight;
  GSource *retry;
  GCancellable *cancel;
  ApmSeries *sent, *failures, *dropped, *deferred;
  ApmCircuitBreaker *breaker;
  ApmLog *log;
  gboolean holding;             /* waiting on the open breaker (logged) */
};

static void send_next (ApmWebhook * hook);

static void
pending_free (Pending * p)
{
  g_free (p->body);
  g_free (p);
}

JsonNode *
apm_webhook_body (const gchar * event, JsonNode * alert)
{
  JsonObject *a = json_node_get_object (alert);
  JsonObject *out = json_object_new (), *labels = json_object_new ();
  JsonObject *annotations = json_object_new ();
  JsonObject *src = json_object_get_object_member (a, "labels");
  JsonArray *arr = json_array_new ();
  JsonNode *node;
  GList *members = src ? json_object_get_members (src) : NULL;

  json_object_set_string_member (labels, "alertname",
      json_object_get_string_member (a, "rule"));
  json_object_set_string_member (labels, "severity",
      json_object_get_string_member (a, "severity"));
  json_object_set_string_member (labels, "alert_id",
      json_object_get_string_member (a, "id"));
  for (GList * l = members; l; l = l->next)
    json_object_set_string_member (labels, l->data,
        json_object_get_string_member (src, l->data));
  g_list_free (members);
  json_object_set_string_member (annotations, "summary",
      json_object_get_string_member (a, "message"));
  json_object_set_string_member (annotations, "state", event);
  json_object_set_object_member (out, "labels", labels);
  json_object_set_object_member (out, "annotations", annotations);
  if (!json_object_get_null_member (a, "fired_at"))
    json_object_set_string_member (out, "startsAt",
        json_object_get_string_member (a, "fired_at"));
  else
    json_object_set_string_member (out, "startsAt",
        json_object_get_string_member (a, "started_at"));
  if (!json_object_get_null_member (a, "resolved_at"))
    json_object_set_string_member (out, "endsAt",
        json_object_get_string_member (a, "resolved_at"));
  json_object_set_string_member (out, "generatorURL",
      "/monitoring/alerts");
  json_array_add_object_element (arr, out);
  node = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (node, arr);
  return node;
}

static gboolean
retry_now (gpointer user_data)
{
  ApmWebhook *hook = user_data;

  g_source_unref (hook->retry);
  hook->retry = NULL;
  send_next (hook);
  return G_SOURCE_REMOVE;
}

static void
on_sent (GObject * source, GAsyncResult * res, gpointer user_data)
{
  ApmWebhook *hook = user_data;
  GError *error = NULL;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source),
      res, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), res);
  guint status = msg ? soup_message_get_status (msg) : 0;
  Pending *p;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error);
    return;                     /* hook is being freed */
  }
  hook->in_flight = FALSE;
  p = g_queue_peek_head (&hook->queue);
  if (body && SOUP_STATUS_IS_SUCCESSFUL (status)) {
    apm_circuit_breaker_record_success (hook->breaker);
    apm_counter_add_int (hook->sent, 1);
    pending_free (g_queue_pop_head (&hook->queue));
    send_next (hook);
  } else {
    apm_circuit_breaker_record_failure (hook->breaker);
    apm_counter_add_int (hook->failures, 1);
    if (p && ++p->attempts > APM_WEBHOOK_RETRIES) {
      /* given up on this one: move on, it is counted */
      pending_free (g_queue_pop_head (&hook->queue));
      apm_counter_add_int (hook->dropped, 1);
      send_next (hook);
    } else if (p) {
      /* 1 s, 2 s, 4 s... */
      hook->retry = g_timeout_source_new_seconds (1u << (p->attempts - 1));
      g_source_set_callback (hook->retry, retry_now, hook, NULL);
      g_source_attach (hook->retry, g_main_context_get_thread_default ());
    }
  }
  if (body)
    g_bytes_unref (body);
  g_clear_error (&error);
}

/* The breaker refused the head: it stays queued, and is tried again when
 * the breaker half-opens (or, with another trial out, a second later). */
static void
hold (ApmWebhook * hook)
{
  gint64 wait_us = apm_circuit_breaker_get_retry_in_us (hook->breaker);
  guint wait_ms = wait_us > 0 ? (guint) MIN ((wait_us + 999) / 1000,
      G_MAXUINT / 2) : 1000;

  apm_counter_add_int (hook->deferred, 1);
  if (!hook->holding) {
    hook->holding = TRUE;
    apm_log_write (hook->log, APM_LOG_WARNING, "webhook", NULL, NULL,
        "webhook: circuit breaker %s is open: %u notifications held, next "
        "try in %.1f s", apm_circuit_breaker_get_name (hook->breaker),
        hook->queue.length, wait_ms / 1e3);
  }
  hook->retry = g_timeout_source_new (wait_ms);
  g_source_set_callback (hook->retry, retry_now, hook, NULL);
  g_source_attach (hook->retry, g_main_context_get_thread_default ());
}

static void
send_next (ApmWebhook * hook)
{
  Pending *p = g_queue_peek_head (&hook->queue);
  SoupMessage *msg;
  GBytes *bytes;

  if (!p || hook->in_flight || hook->retry)
    return;
  if (!apm_circuit_breaker_allow (hook->breaker)) {
    hold (hook);
    return;
  }
  if (hook->holding) {
    hook->holding = FALSE;
    apm_log_write (hook->log, APM_LOG_INFO, "webhook", NULL, NULL,
        "webhook: circuit breaker lets a trial through: sending the %u "
        "notifications held", hook->queue.length);
  }
  msg = soup_message_new ("POST", hook->url);
  if (!msg) {
    g_queue_clear_full (&hook->queue, (GDestroyNotify) pending_free);
    return;
  }
  bytes = g_bytes_new (p->body, strlen (p->body));
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  g_bytes_unref (bytes);
  hook->in_flight = TRUE;
  soup_session_send_and_read_async (hook->session, msg, G_PRIORITY_DEFAULT,
      hook->cancel, on_sent, hook);
  g_object_unref (msg);
}

ApmWebhook *
apm_webhook_new (const gchar * url, guint timeout_s,
    const ApmBreakerSettings * breaker, ApmRegistry * reg, ApmLog * log)
{
  ApmWebhook *hook = g_new0 (ApmWebhook, 1);
  ApmFamily *f;

  hook->log = log;
  hook->breaker = apm_circuit_breaker_new ("webhook",
      breaker ? breaker->failures : APM_WEBHOOK_BREAKER_FAILURES,
      breaker ? breaker->reset_seconds : APM_WEBHOOK_BREAKER_RESET_S);
  hook->url = g_strdup (url);
  hook->session = soup_session_new_with_options ("timeout",
      timeout_s ? timeout_s : 5, NULL);
  hook->cancel = g_cancellable_new ();
  g_queue_init (&hook->queue);
  f = apm_registry_family (reg, "apm_webhook_sent_total", APM_METRIC_COUNTER,
      "Alert notifications delivered to the webhook", NULL, NULL, 0);
  hook->sent = apm_family_series (f, NULL);
  f = apm_registry_family (reg, "apm_webhook_failures_total",
      APM_METRIC_COUNTER, "Failed webhook deliveries (each attempt)", NULL,
      NULL, 0);
  hook->failures = apm_family_series (f, NULL);
  f = apm_registry_family (reg, "apm_webhook_dropped_total",
      APM_METRIC_COUNTER, "Alert notifications given up after retries or "
      "pushed out of a full queue", NULL, NULL, 0);
  hook->dropped = apm_family_series (f, NULL);
  f = apm_registry_family (reg, "apm_webhook_deferred_total",
      APM_METRIC_COUNTER, "Webhook sends held back while its circuit "
      "breaker is open (the notifications stay queued)", NULL, NULL, 0);
  hook->deferred = apm_family_series (f, NULL);
  return hook;
}

void
apm_webhook_free (ApmWebhook * hook)
{
  if (!hook)
    return;
  g_cancellable_cancel (hook->cancel);
  if (hook->retry) {
    g_source_destroy (hook->retry);
    g_source_unref (hook->retry);
  }
  g_queue_clear_full (&hook->queue, (GDestroyNotify) pending_free);
  g_object_unref (hook->session);
  g_object_unref (hook->cancel);
  apm_series_unref (hook->sent);
  apm_series_unref (hook->failures);
  apm_series_unref (hook->dropped);
  apm_series_unref (hook->deferred);
  g_object_unref (hook->breaker);
  g_free (hook->url);
  g_free (hook);
}

void
apm_webhook_notify (ApmWebhook * hook, const gchar * event, JsonNode * alert)
{
  JsonNode *body;
  Pending *p;

  if (g_strcmp0 (event, "pending") == 0)
    return;                     /* Alertmanager knows firing and resolved */
  body = apm_webhook_body (event, alert);
  p = g_new0 (Pending, 1);
  p->body = json_to_string (body, FALSE);
  json_node_unref (body);
  if (hook->queue.length >= APM_WEBHOOK_MAX_QUEUE) {
    /* keep the head (in flight), drop the oldest waiting */
    Pending *old = g_queue_pop_nth (&hook->queue, 1);

    if (old) {
      pending_free (old);
      apm_counter_add_int (hook->dropped, 1);
    }
  }
  g_queue_push_tail (&hook->queue, p);
  send_next (hook);
}
