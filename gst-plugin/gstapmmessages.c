/* gst-apm: the messages elements post (ERROR, WARNING, EOS, QOS)
 *
 * On the poster's thread, at message rate: per-element counts of errors,
 * warnings and QoS messages; a pipeline's first error (its health check
 * reports it); the end of the run an ERROR fails or an EOS completes.
 */
#include "gstapmwatch-private.h"

#include "gstapmstats.h"

typedef enum
{
  MESSAGE_COUNT,                /* counter += 1, with a "type" label */
  MESSAGE_COUNT_PLAIN,          /* counter += 1 */
  MESSAGE_SET_COUNTER,          /* counter = value (a running total) */
  MESSAGE_SET_GAUGE,            /* gauge = value */
} MessageMetric;

/* The series of a per-element metric of posted messages (not per buffer:
 * on the poster's thread, at message rate), a new reference, or NULL */
static ApmSeries *
message_series (GstElement * element, const gchar * family_name,
    const gchar * help, MessageMetric kind, const gchar * type)
{
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  static const gchar *const typed[] = { "pipeline", "element", "type", NULL };
  static const gchar *const plain[] = { "pipeline", "element", NULL };
  GstApmElementStats *es = gst_apm_element_stats_peek (element);
  gchar *pipeline, *path;
  ApmFamily *f;
  ApmSeries *s = NULL;
  const gchar *values[4];

  /* an element that carried buffers has its labels already: no walk up
   * its parents (which would reference the pipeline, if briefly) */
  if (es) {
    pipeline = g_strdup (es->pipeline);
    path = g_strdup (es->path);
  } else if (!gst_apm_element_path (element, &pipeline, &path)) {
    if (!GST_IS_BIN (element) || GST_OBJECT_PARENT (element))
      return NULL;
    pipeline = gst_apm_watch_pipeline_label (element);
    path = g_strdup ("");
  }
  values[0] = pipeline;
  values[1] = path;
  values[2] = kind == MESSAGE_COUNT ? type : NULL;
  values[3] = NULL;
  f = apm_registry_family (reg, family_name, kind == MESSAGE_SET_GAUGE ?
      APM_METRIC_GAUGE : APM_METRIC_COUNTER, help,
      kind == MESSAGE_COUNT ? typed : plain, NULL, 0);
  if (f)
    s = apm_family_series (f, values);
  g_free (pipeline);
  g_free (path);
  return s;
}

static void
message_apply (ApmSeries * s, MessageMetric kind, gdouble value)
{
  if (kind == MESSAGE_COUNT || kind == MESSAGE_COUNT_PLAIN)
    apm_counter_add_int (s, 1);
  else
    apm_gauge_set (s, value);
}

static void
record_message (GstElement * element, const gchar * family_name,
    const gchar * help, MessageMetric kind, const gchar * type,
    gdouble value)
{
  ApmSeries *s = message_series (element, family_name, help, kind, type);

  if (s) {
    message_apply (s, kind, value);
    apm_series_unref (s);
  }
}

typedef struct
{
  const gchar *name, *help;
  MessageMetric kind;
} QosMetric;

/* indexed like GstApmElementStats.qos */
static const QosMetric qos_metrics[GST_APM_N_QOS] = {
  {"apm_element_qos_messages_total",
      "QoS messages posted by the element (late or dropped buffers)",
      MESSAGE_COUNT_PLAIN},
  {"apm_element_qos_dropped_buffers_total",
      "Buffers dropped by the element, as its QoS messages count them",
      MESSAGE_SET_COUNTER},
  {"apm_element_lateness_seconds",
      "Lateness of the last late buffer against the clock, from QoS",
      MESSAGE_SET_GAUGE},
};

/* A late sink posts a QoS message per buffer: an element that carried
 * buffers keeps its QoS series in its stats once made, so later messages
 * take no lock, copy no label and allocate nothing. */
static void
record_qos (GstElement * element, guint which, gdouble value)
{
  const QosMetric *q = &qos_metrics[which];
  GstApmElementStats *es = gst_apm_element_stats_peek (element);
  ApmSeries *s = es ? __atomic_load_n (&es->qos[which], __ATOMIC_ACQUIRE) :
      NULL, *none = NULL;

  if (s) {
    message_apply (s, q->kind, value);
    return;
  }
  s = message_series (element, q->name, q->help, q->kind, NULL);
  if (!s)
    return;
  message_apply (s, q->kind, value);
  /* kept by the stats (the same series if another poster raced us) */
  if (!es || !__atomic_compare_exchange_n (&es->qos[which], &none, s, FALSE,
          __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
    apm_series_unref (s);
}

/* A warning or a burst of QoS as a log line with the active run's
 * correlation id: an event of the run's span in OTLP exports.  At message
 * rate, on the poster's thread. */
static void
log_run_event (PipelineWatch * w, GstElement * element, ApmLogLevel level,
    JsonObject * ctx, const gchar * text)
{
  ApmService *service = apm_service_get_default ();
  gchar *job_id, *cid = NULL;

  g_mutex_lock (&w->lock);
  job_id = g_strdup (w->job_id);
  g_mutex_unlock (&w->lock);
  if (job_id)
    cid = apm_jobs_correlation_id (apm_service_get_jobs (service), job_id);
  json_object_set_string_member (ctx, "pipeline", w->label);
  json_object_set_string_member (ctx, "element", GST_OBJECT_NAME (element));
  apm_log_write (apm_service_get_log (service), level, "pipeline", cid, ctx,
      "pipeline %s: %s", w->label, text);
  g_free (cid);
  g_free (job_id);
}

/* Counts one more message of a kind logged at most once a second: how
 * many to log now (those since the last line), or 0 (under @w's lock) */
static guint
throttle_count (PipelineWatch * w, guint * unlogged, gint64 * logged_us)
{
  gint64 now = g_get_monotonic_time ();
  guint n = 0;

  g_mutex_lock (&w->lock);
  (*unlogged)++;
  if (now - *logged_us >= G_USEC_PER_SEC) {
    n = *unlogged;
    *unlogged = 0;
    *logged_us = now;
  }
  g_mutex_unlock (&w->lock);
  return n;
}

/* QoS comes in bursts (a late sink posts one per buffer): one line a
 * second at most, with how many came */
static void
log_qos (PipelineWatch * w, GstElement * element, gint64 jitter_ns)
{
  guint n = throttle_count (w, &w->qos_unlogged, &w->qos_logged_us);

  if (n) {
    JsonObject *ctx = json_object_new ();
    gchar *text = g_strdup_printf ("QoS: %s late by %.1f ms (%u QoS "
        "messages)", GST_OBJECT_NAME (element), jitter_ns / 1e6, n);

    json_object_set_int_member (ctx, "qos_messages", n);
    json_object_set_double_member (ctx, "lateness_seconds", jitter_ns / 1e9);
    log_run_event (w, element, APM_LOG_WARNING, ctx, text);
    g_free (text);
  }
}

/* A decoder may post a WARNING per corrupt frame, holding its stream lock:
 * one line a second at most, with how many came (each is counted in
 * apm_element_messages_total all the same) */
static void
log_warning (PipelineWatch * w, GstElement * element, GstMessage * message)
{
  guint n = throttle_count (w, &w->warnings_unlogged,
      &w->warning_logged_us);
  GError *err = NULL;
  JsonObject *ctx;

  if (!n)
    return;
  gst_message_parse_warning (message, &err, NULL);
  ctx = json_object_new ();
  if (n > 1)
    json_object_set_int_member (ctx, "warnings", n);
  log_run_event (w, element, APM_LOG_WARNING, ctx,
      err ? err->message : "warning");
  g_clear_error (&err);
}

void
gst_apm_watch_message (GstElement * element, GstMessage * message)
{
  gboolean is_top = GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element);
  PipelineWatch *w;

  /* bins re-post their children's messages: count the original only */
  if (GST_MESSAGE_SRC (message) != GST_OBJECT (element))
    return;
  w = gst_apm_watch_of_element (element, is_top);

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *text;

      record_message (element, "apm_element_messages_total",
          "ERROR and WARNING messages posted by the element", MESSAGE_COUNT,
          "error", 0);
      if (GST_OBJECT_FLAG_IS_SET (element, GST_ELEMENT_FLAG_SOURCE)
          || GST_OBJECT_FLAG_IS_SET (element, GST_ELEMENT_FLAG_SINK))
        record_message (element, "apm_transfer_failures_total", "Errors "
            "posted by source and sink elements (failed reads and writes)",
            MESSAGE_COUNT, GST_OBJECT_FLAG_IS_SET (element,
                GST_ELEMENT_FLAG_SOURCE) ? "read" : "write", 0);
      gst_message_parse_error (message, &err, NULL);
      text = g_strdup_printf ("%s: %s", GST_OBJECT_NAME (element),
          err->message);
      if (w) {
        gboolean running, first;

        /* the first error is the cause; later ones are consequences */
        g_mutex_lock (&w->lock);
        first = w->last_error == NULL;
        if (first)
          w->last_error = g_strdup (text);
        running = w->job_id != NULL;
        g_mutex_unlock (&w->lock);
        if (!running && first)
          gst_apm_run_start (w, FALSE);     /* failed before PLAYING: a run */
        gst_apm_run_end (w, "failed", text);
      }
      g_free (text);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_WARNING:
      record_message (element, "apm_element_messages_total",
          "ERROR and WARNING messages posted by the element", MESSAGE_COUNT,
          "warning", 0);
      if (w)
        log_warning (w, element, message);
      break;
    case GST_MESSAGE_EOS:
      if (w && is_top)
        gst_apm_run_end (w, "success", NULL);
      break;
    case GST_MESSAGE_QOS:{
      GstFormat format;
      guint64 processed, dropped;
      gint64 jitter;

      record_qos (element, GST_APM_QOS_MESSAGES, 0);
      gst_message_parse_qos_stats (message, &format, &processed, &dropped);
      if (format == GST_FORMAT_BUFFERS || format == GST_FORMAT_DEFAULT)
        record_qos (element, GST_APM_QOS_DROPPED, dropped);
      gst_message_parse_qos_values (message, &jitter, NULL, NULL);
      record_qos (element, GST_APM_QOS_LATENESS, jitter / 1e9);
      if (w)
        log_qos (w, element, jitter);
      break;
    }
    default:
      break;
  }
  if (w)
    gst_apm_watch_unref (w);
}
