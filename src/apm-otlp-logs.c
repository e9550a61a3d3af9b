/* gst-apm: structured log lines as OTLP log records
 *
 * Every line of the service's log (apm-log-store.h), the bridged
 * GStreamer debug lines among them: its level as severity, its message as
 * body, its component and context as attributes, and the trace and span
 * of its job when it has a correlation id.
 */
#include "apm-otlp-private.h"
#include "apm-json.h"

#include <string.h>

static gint
severity_of (const gchar * level)
{
  ApmLogLevel l = APM_LOG_INFO;

  apm_log_level_from_string (level, &l);
  switch (l) {
    case APM_LOG_DEBUG:
      return APM_OTLP_SEVERITY_DEBUG;
    case APM_LOG_INFO:
      return APM_OTLP_SEVERITY_INFO;
    case APM_LOG_WARNING:
      return APM_OTLP_SEVERITY_WARN;
    case APM_LOG_ERROR:
      return APM_OTLP_SEVERITY_ERROR;
    default:
      return APM_OTLP_SEVERITY_FATAL;
  }
}

static ApmOtlpLogRecord *
record_of (ApmOtlp * otlp, JsonObject * line, guint64 now_ns)
{
  ApmOtlpLogRecord *rec = apm_otlp_log_record_new ();
  const gchar *level = apm_json_string (line, "level");
  const gchar *component = apm_json_string (line, "component");
  const gchar *cid = apm_json_string (line, "correlation_id");
  JsonNode *ctx = json_object_get_member (line, "context");
  gchar hex[APM_TRACE_ID_LEN + 1];

  rec->time_ns = apm_otlp_time_ns (apm_json_string (line, "timestamp"));
  rec->observed_ns = now_ns;
  rec->severity_number = severity_of (level);
  rec->severity_text = g_strdup (level);
  rec->body = g_strdup (apm_json_string (line, "message"));
  if (ctx && JSON_NODE_HOLDS_OBJECT (ctx)) {
    g_array_unref (rec->attrs);
    rec->attrs = apm_otlp_context_attrs (json_node_get_object (ctx));
  }
  if (component)
    apm_otlp_attrs_add_string (rec->attrs, "gstreamer.apm.component",
        component);
  if (cid) {
    apm_otlp_attrs_add_string (rec->attrs, "gstreamer.job.correlation_id",
        cid);
    if (apm_trace_id_from_correlation_id (cid, hex)
        && apm_otlp_id_from_hex (hex, rec->trace_id, 16)) {
      rec->has_trace_id = TRUE;
      rec->has_span_id = apm_otlp_lookup_span_id (otlp, cid, rec->span_id);
      if (!rec->has_span_id) {
        /* a job not seen starting (ended, or evicted): ask the jobs */
        JsonNode *job = apm_jobs_lookup_json (otlp->jobs, cid);
        guint8 trace_id[16];

        if (job) {
          rec->has_span_id = apm_otlp_job_ids (json_node_get_object (job),
              trace_id, rec->span_id);
          json_node_unref (job);
        }
      }
    }
  }
  return rec;
}

GBytes *
apm_otlp_encode_log_lines (GPtrArray * items, guint * n_sent,
    gpointer user_data)
{
  ApmOtlp *otlp = user_data;
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_otlp_log_record_free);
  guint64 now_ns = (guint64) g_get_real_time () * 1000;
  GBytes *body;

  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (records, record_of (otlp,
            json_node_get_object (items->pdata[i]), now_ns));
  *n_sent = records->len;
  body = apm_otlp_encode_logs (&otlp->resource, records,
      otlp->config->signal[APM_OTLP_LOGS].encoding);
  g_ptr_array_unref (records);
  return body;
}
