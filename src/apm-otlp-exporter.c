/* gst-apm: one OTLP/HTTP exporter, for one signal (see apm-otlp-exporter.h)
 *
 * Threads: enqueue() from any thread takes the queue's lock for a push;
 * everything else runs on the service thread, whose context the exporter
 * was made on, and never blocks it (libsoup's async API, timers).
 */
#include "apm-otlp-exporter.h"
#include "apm-breaker-private.h"
#include "apm-otlp-response.h"

#include <libsoup/soup.h>
#include <string.h>

/* one request in flight: outlives its exporter if that is freed first */
typedef struct
{
  ApmOtlpExporter *exporter;    /* NULL: freed meanwhile */
  gboolean timed_out;
} Request;

struct _ApmOtlpExporter
{
  ApmOtlpSignal signal;
  gchar *url;
  ApmOtlpEncoding encoding;
  gchar **headers;
  gboolean gzip;
  guint timeout_ms, delay_ms, max_queue, max_batch;
  guint backoff_base_ms;
  ApmOtlpEncodeFunc encode;
  GDestroyNotify item_free;
  gpointer user_data;
  ApmLog *log;

  GMutex lock;                  /* the queue */
  GQueue queue;
  gboolean wake_pending;

  /* service thread */
  GMainContext *context;
  SoupSession *session;
  ApmCircuitBreaker *breaker;
  GSource *tick, *retry, *timeout;
  GCancellable *cancel;
  GBytes *pending;              /* the batch being sent or retried */
  guint pending_items;
  guint attempts;
  Request *request;              /* in flight */
  gboolean failing;
  gint64 sent_us;
  gchar *last_problem;
  gchar *last_reason;
  ApmOtlpAnswerLog answers;

  ApmSeries *exported, *dropped, *latency, *rejected;
  ApmFamily *f_failed;
};

static void try_send (ApmOtlpExporter * e);


static void
count_failure (ApmOtlpExporter * e, const gchar * reason)
{
  const gchar *values[3] = { apm_otlp_signal_name (e->signal), reason, NULL };
  ApmSeries *s;

  if (!e->f_failed)
    return;
  s = apm_family_series (e->f_failed, values);
  apm_counter_add_int (s, 1);
  apm_series_unref (s);
}

static GSource *
attach_timeout (ApmOtlpExporter * e, guint ms, GSourceFunc func)
{
  GSource *src = g_timeout_source_new (ms);

  g_source_set_callback (src, func, e, NULL);
  g_source_attach (src, e->context);
  return src;
}

static void
clear_source (GSource ** src)
{
  if (*src) {
    g_source_destroy (*src);
    g_clear_pointer (src, g_source_unref);
  }
}

static void
drop_pending (ApmOtlpExporter * e)
{
  apm_counter_add_int (e->dropped, e->pending_items);
  g_clear_pointer (&e->pending, g_bytes_unref);
  e->pending_items = 0;
  e->attempts = 0;
}

/* a state change, logged once (not every failure: this exporter may be
 * exporting its own lines); again when the reason changes */
static void
set_failing (ApmOtlpExporter * e, const gchar * reason, const gchar * problem,
    gboolean retrying)
{
  if (problem && (!e->failing || g_strcmp0 (reason, e->last_reason))) {
    JsonObject *ctx = json_object_new ();

    json_object_set_string_member (ctx, "signal",
        apm_otlp_signal_name (e->signal));
    json_object_set_string_member (ctx, "endpoint", e->url);
    json_object_set_string_member (ctx, "reason", reason);
    if (e->log)
      apm_log_write (e->log, APM_LOG_WARNING, "otlp", NULL, ctx,
          "OTLP export of %s to %s failing: %s (%s)",
          apm_otlp_signal_name (e->signal), e->url, problem, retrying ?
          "retrying with backoff" : "a permanent error: the batch is "
          "dropped, not retried");
    else
      json_object_unref (ctx);
  } else if (!problem && e->failing && e->log) {
    apm_log_write (e->log, APM_LOG_INFO, "otlp", NULL, NULL,
        "OTLP export of %s to %s resumed",
        apm_otlp_signal_name (e->signal), e->url);
  }
  e->failing = problem != NULL;
  if (problem) {
    g_free (e->last_problem);
    e->last_problem = g_strdup (problem);
    g_free (e->last_reason);
    e->last_reason = g_strdup (reason);
  }
}

/* the collector's answer on a 2xx: what it accepted */
static void
read_success (ApmOtlpExporter * e, SoupMessage * msg, guint status,
    GBytes * body)
{
  ApmOtlpAnswer a;
  guint64 rejected;

  apm_otlp_answer_parse (&a, TRUE, soup_message_headers_get_content_type
      (soup_message_get_response_headers (msg), NULL), body);
  rejected = MIN ((guint64) a.rejected, e->pending_items);
  apm_counter_add_int (e->exported, e->pending_items - rejected);
  apm_counter_add_int (e->rejected, rejected);
  if (a.kind == APM_OTLP_ANSWER_GARBAGE || a.kind == APM_OTLP_ANSWER_NOT_OTLP)
    count_failure (e, "bad_response");
  apm_otlp_answer_log_success (&e->answers, &a, status, rejected,
      e->pending_items);
  apm_otlp_answer_clear (&a);
}

/* "HTTP 400 Bad Request: what the collector said" */
static gchar *
describe_error (SoupMessage * msg, guint status, GBytes * body)
{
  ApmOtlpAnswer a;
  gchar *text;

  apm_otlp_answer_parse (&a, FALSE, soup_message_headers_get_content_type
      (soup_message_get_response_headers (msg), NULL), body);
  text = apm_otlp_answer_describe_error (&a, status,
      soup_message_get_reason_phrase (msg));
  apm_otlp_answer_clear (&a);
  return text;
}

static gboolean
retry_now (gpointer data)
{
  ApmOtlpExporter *e = data;

  g_clear_pointer (&e->retry, g_source_unref);
  try_send (e);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (ApmOtlpExporter * e, guint ms)
{
  clear_source (&e->retry);
  e->retry = attach_timeout (e, MAX (ms, 1), retry_now);
}

/* 1 s, 2 s, 4 s ... at most APM_OTLP_MAX_BACKOFF_MS, each between half
 * and all of it (jitter: exporters that failed together spread out) */
static guint
backoff_ms (ApmOtlpExporter * e, guint attempt)
{
  guint64 full = MIN ((guint64) e->backoff_base_ms << MIN (attempt - 1, 20),
      APM_OTLP_MAX_BACKOFF_MS);

  return (guint) (full / 2 + g_random_int_range (0, (gint32) (full / 2) + 1));
}

static gboolean
on_timeout (gpointer data)
{
  ApmOtlpExporter *e = data;

  g_clear_pointer (&e->timeout, g_source_unref);
  e->request->timed_out = TRUE;
  g_cancellable_cancel (e->cancel);
  return G_SOURCE_REMOVE;
}

static void
on_response (GObject * source, GAsyncResult * res, gpointer data)
{
  Request *req = data;
  ApmOtlpExporter *e = req->exporter;
  gboolean timed_out = req->timed_out;
  GError *error = NULL;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source),
      res, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION
      (source), res);
  guint status = msg && !error ? soup_message_get_status (msg) : 0;
  gchar *problem = NULL, *reason = NULL;
  gboolean retryable = FALSE;

  g_free (req);
  if (!e) {
    g_clear_error (&error);
    if (body)
      g_bytes_unref (body);
    return;                     /* the exporter is gone */
  }
  e->request = NULL;
  clear_source (&e->timeout);
  g_clear_object (&e->cancel);

  if (!error && SOUP_STATUS_IS_SUCCESSFUL (status)) {
    apm_histogram_observe (e->latency,
        (g_get_monotonic_time () - e->sent_us) / 1e6);
    read_success (e, msg, status, body);
    apm_circuit_breaker_record_success (e->breaker);
    g_clear_pointer (&e->pending, g_bytes_unref);
    e->pending_items = 0;
    e->attempts = 0;
    set_failing (e, NULL, NULL, FALSE);
    if (body)
      g_bytes_unref (body);
    /* more may wait (a backlog after an outage): the next batch soon, not
     * at once, so that draining it is spread out */
    schedule_retry (e, APM_OTLP_BATCH_GAP_MS);
    return;
  }
  if (timed_out) {
    reason = g_strdup ("timeout");
    problem = g_strdup_printf ("no answer within %u ms", e->timeout_ms);
    retryable = TRUE;
  } else if (error) {
    reason = g_strdup ("connection");
    problem = g_strdup (error->message);
    retryable = TRUE;
  } else {
    reason = g_strdup_printf ("http_%u", status);
    problem = describe_error (msg, status, body);
    /* the OTLP spec's retryable codes; every other one (400 included) is
     * permanent */
    retryable = status == 429 || status == 502 || status == 503
        || status == 504;
  }
  count_failure (e, reason);
  set_failing (e, reason, problem, retryable);
  if (retryable) {
    apm_circuit_breaker_record_failure (e->breaker);
    if (++e->attempts >= APM_OTLP_MAX_ATTEMPTS) {
      drop_pending (e);
      try_send (e);
    } else {
      guint wait = backoff_ms (e, e->attempts);

      if (msg && status)
        wait = MAX (wait, apm_otlp_retry_after_ms (soup_message_headers_get_one
                (soup_message_get_response_headers (msg), "Retry-After")));
      schedule_retry (e, wait);
    }
  } else {
    /* the collector refused the request itself: sending it again would
     * not help (it is alive, so the breaker hears a success) */
    apm_circuit_breaker_record_success (e->breaker);
    drop_pending (e);
    try_send (e);
  }
  g_free (reason);
  g_free (problem);
  if (body)
    g_bytes_unref (body);
  g_clear_error (&error);
}

/* @body gzipped (Content-Encoding: gzip), or NULL if that failed */
static GBytes *
gzip_bytes (GBytes * body)
{
  GZlibCompressor *z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP,
      -1);
  GOutputStream *mem = g_memory_output_stream_new_resizable ();
  GOutputStream *out = g_converter_output_stream_new (mem, G_CONVERTER (z));
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);
  GBytes *zipped = NULL;

  if (g_output_stream_write_all (out, data, len, NULL, NULL, NULL)
      && g_output_stream_close (out, NULL, NULL))
    zipped = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM
        (mem));
  g_object_unref (out);
  g_object_unref (mem);
  g_object_unref (z);
  return zipped;
}

/* takes the next batch off the queue and encodes it */
static void
take_batch (ApmOtlpExporter * e)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (e->item_free);
  guint n = 0;

  g_mutex_lock (&e->lock);
  while (items->len < e->max_batch && e->queue.length)
    g_ptr_array_add (items, g_queue_pop_head (&e->queue));
  e->wake_pending = FALSE;
  g_mutex_unlock (&e->lock);
  if (items->len)
    e->pending = e->encode (items, &n, e->user_data);
  if (e->pending && e->gzip) {
    GBytes *zipped = gzip_bytes (e->pending);

    g_bytes_unref (e->pending);
    e->pending = zipped;
  }
  e->pending_items = e->pending ? n : 0;
  g_ptr_array_unref (items);
}

static void
try_send (ApmOtlpExporter * e)
{
  SoupMessage *msg;

  if (e->request || e->retry)
    return;
  if (!e->pending)
    take_batch (e);
  if (!e->pending)
    return;
  if (!apm_circuit_breaker_allow (e->breaker)) {
    /* open: ask again when it half-opens; the queue fills meanwhile */
    gint64 wait_us = apm_circuit_breaker_get_retry_in_us (e->breaker);

    count_failure (e, "circuit_open");
    schedule_retry (e, (guint) MAX (wait_us / 1000, 100));
    return;
  }
  msg = soup_message_new ("POST", e->url);
  if (!msg) {
    drop_pending (e);
    return;
  }
  for (guint i = 0; e->headers && e->headers[i]; i += 2)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        e->headers[i], e->headers[i + 1]);
  if (e->gzip)
    soup_message_headers_replace (soup_message_get_request_headers (msg),
        "Content-Encoding", "gzip");
  soup_message_set_request_body_from_bytes (msg,
      e->encoding == APM_OTLP_JSON ? "application/json" :
      "application/x-protobuf", e->pending);
  e->request = g_new0 (Request, 1);
  e->request->exporter = e;
  e->cancel = g_cancellable_new ();
  e->timeout = attach_timeout (e, e->timeout_ms, on_timeout);
  e->sent_us = g_get_monotonic_time ();
  soup_session_send_and_read_async (e->session, msg, G_PRIORITY_DEFAULT,
      e->cancel, on_response, e->request);
  g_object_unref (msg);
}

static gboolean
on_tick (gpointer data)
{
  try_send (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_wake (gpointer data)
{
  try_send (data);
  return G_SOURCE_REMOVE;
}

static gdouble
breaker_reset_seconds (void)
{
  const gchar *v = g_getenv ("APM_OTLP_BREAKER_RESET_SECONDS");
  guint64 n;

  if (v && g_ascii_string_to_unsigned (v, 10, 1, 3600, &n, NULL))
    return n;
  return APM_OTLP_BREAKER_RESET_S;
}

ApmOtlpExporter *
apm_otlp_exporter_new (ApmOtlpSignal signal,
    const ApmOtlpSignalConfig * config, ApmRegistry * reg, ApmLog * log,
    ApmOtlpEncodeFunc encode, GDestroyNotify item_free, gpointer user_data)
{
  ApmOtlpExporter *e = g_new0 (ApmOtlpExporter, 1);
  static const gchar *const signal_label[] = { "signal", NULL };
  static const gchar *const failed_labels[] = { "signal", "reason", NULL };
  static const gdouble latency_buckets[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };
  const gchar *values[2] = { apm_otlp_signal_name (signal), NULL };
  gchar *name;
  ApmFamily *f;

  e->signal = signal;
  e->url = g_strdup (config->url);
  e->encoding = config->encoding;
  e->headers = g_strdupv (config->headers);
  e->gzip = config->gzip;
  e->timeout_ms = config->timeout_ms;
  e->delay_ms = config->schedule_delay_ms;
  e->max_queue = MAX (config->max_queue, 1);
  e->max_batch = MAX (config->max_batch, 1);
  e->backoff_base_ms = APM_OTLP_BACKOFF_BASE_MS;
  e->encode = encode;
  e->item_free = item_free;
  e->user_data = user_data;
  e->log = log;
  e->answers.log = log;
  e->answers.url = e->url;
  e->answers.items = signal == APM_OTLP_TRACES ? "spans" :
      signal == APM_OTLP_LOGS ? "log records" : "data points";
  g_mutex_init (&e->lock);
  g_queue_init (&e->queue);
  e->context = g_main_context_ref_thread_default ();
  /* our own timeout (ms) bounds each request; the session's is a backstop */
  e->session = soup_session_new_with_options ("timeout",
      e->timeout_ms / 1000 + 5, "user-agent", "gst-apm/" APM_VERSION, NULL);
  name = g_strdup_printf ("otlp-%s", apm_otlp_signal_name (signal));
  /* five failed requests in a row: 30 s without calls, then one probe
   * (APM_OTLP_BREAKER_RESET_SECONDS changes the 30 s) */
  e->breaker = apm_circuit_breaker_new (name, 5, breaker_reset_seconds ());
  g_free (name);

  f = apm_registry_family (reg, "apm_otlp_exported_total", APM_METRIC_COUNTER,
      "Spans, log records and metric points accepted by the OTLP collector",
      signal_label, NULL, 0);
  e->exported = apm_family_series (f, values);
  f = apm_registry_family (reg, "apm_otlp_dropped_total", APM_METRIC_COUNTER,
      "Items not exported (a job with its spans, a log record, a metrics "
      "snapshot): queue full, refused, or given up after retries",
      signal_label, NULL, 0);
  e->dropped = apm_family_series (f, values);
  f = apm_registry_family (reg, "apm_otlp_export_duration_seconds",
      APM_METRIC_HISTOGRAM, "Time of each successful OTLP export request",
      signal_label, latency_buckets, G_N_ELEMENTS (latency_buckets));
  e->latency = apm_family_series (f, values);
  f = apm_registry_family (reg, "apm_otlp_rejected_total", APM_METRIC_COUNTER,
      "Spans, log records and metric points the OTLP collector answered "
      "as rejected (partial success)", signal_label, NULL, 0);
  e->rejected = apm_family_series (f, values);
  e->f_failed = apm_registry_family (reg, "apm_otlp_failed_total",
      APM_METRIC_COUNTER, "Failed OTLP export attempts, by reason "
      "(connection, timeout, http_STATUS, circuit_open, bad_response)", failed_labels,
      NULL, 0);
  if (e->delay_ms)
    e->tick = attach_timeout (e, e->delay_ms, on_tick);
  return e;
}

void
apm_otlp_exporter_enqueue (ApmOtlpExporter * e, gpointer item)
{
  gboolean wake = FALSE;

  g_mutex_lock (&e->lock);
  if (e->queue.length >= e->max_queue && e->signal == APM_OTLP_METRICS) {
    /* cumulative snapshots: the newest supersedes the one waiting */
    gpointer old = g_queue_pop_head (&e->queue);

    g_queue_push_tail (&e->queue, item);
    g_mutex_unlock (&e->lock);
    apm_counter_add_int (e->dropped, 1);
    e->item_free (old);
    return;
  }
  if (e->queue.length >= e->max_queue) {
    g_mutex_unlock (&e->lock);
    /* the newest goes, as OpenTelemetry's batch processors do */
    apm_counter_add_int (e->dropped, 1);
    e->item_free (item);
    return;
  }
  g_queue_push_tail (&e->queue, item);
  if (e->queue.length >= e->max_batch && !e->wake_pending)
    wake = e->wake_pending = TRUE;
  g_mutex_unlock (&e->lock);
  if (wake) {
    /* a full batch: send it without waiting for the tick */
    GSource *idle = g_idle_source_new ();

    g_source_set_callback (idle, on_wake, e, NULL);
    g_source_attach (idle, e->context);
    g_source_unref (idle);
  }
}

void
apm_otlp_exporter_set_backoff_base (ApmOtlpExporter * e, guint ms)
{
  e->backoff_base_ms = MAX (ms, 1);
}

void
apm_otlp_exporter_kick (ApmOtlpExporter * e)
{
  try_send (e);
}

gboolean
apm_otlp_exporter_busy (ApmOtlpExporter * e)
{
  gboolean queued;

  g_mutex_lock (&e->lock);
  queued = e->queue.length > 0;
  g_mutex_unlock (&e->lock);
  return e->request || e->pending || queued;
}

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_REMOVE;
}

void
apm_otlp_exporter_flush (ApmOtlpExporter * e, gint64 deadline_us)
{
  GMainContext *ctx = e->context;

  while (apm_otlp_exporter_busy (e)) {
    gint64 left = deadline_us - g_get_monotonic_time ();
    GSource *wake;

    if (left <= 0)
      break;
    /* at exit, no backoff: one more try within the bound */
    if (e->retry && !e->request) {
      clear_source (&e->retry);
      try_send (e);
      if (e->retry)
        break;                  /* the breaker is open: nobody to call */
    } else if (!e->request) {
      try_send (e);
    }
    if (!e->request)
      break;
    wake = g_timeout_source_new (MAX (left / 1000, 1));
    g_source_set_callback (wake, wake_up, NULL, NULL);
    g_source_attach (wake, ctx);
    g_main_context_iteration (ctx, TRUE);
    g_source_destroy (wake);
    g_source_unref (wake);
  }
}

gboolean
apm_otlp_exporter_healthy (ApmOtlpExporter * e, gchar ** message)
{
  if (!e->failing) {
    *message = g_strdup_printf ("%s to %s", apm_otlp_signal_name (e->signal),
        e->url);
    return TRUE;
  }
  *message = g_strdup_printf ("%s to %s failing: %s (breaker %s)",
      apm_otlp_signal_name (e->signal), e->url, e->last_problem,
      apm_circuit_breaker_get_state (e->breaker) == APM_CIRCUIT_STATE_OPEN ?
      "open" : apm_circuit_breaker_get_state (e->breaker) ==
      APM_CIRCUIT_STATE_HALF_OPEN ? "half-open" : "closed");
  return FALSE;
}

void
apm_otlp_exporter_free (ApmOtlpExporter * e)
{
  guint left;

  if (!e)
    return;
  if (e->request)
    e->request->exporter = NULL;
  if (e->cancel)
    g_cancellable_cancel (e->cancel);
  clear_source (&e->tick);
  clear_source (&e->retry);
  clear_source (&e->timeout);
  g_clear_object (&e->cancel);
  if (e->pending)
    drop_pending (e);
  left = e->queue.length;
  apm_counter_add_int (e->dropped, left);
  g_queue_clear_full (&e->queue, e->item_free);
  g_object_unref (e->session);
  g_object_unref (e->breaker);
  apm_series_unref (e->exported);
  apm_series_unref (e->dropped);
  apm_series_unref (e->latency);
  apm_series_unref (e->rejected);
  g_main_context_unref (e->context);
  g_mutex_clear (&e->lock);
  g_strfreev (e->headers);
  g_free (e->url);
  g_free (e->last_problem);
  g_free (e->last_reason);
  g_free (e);
}
