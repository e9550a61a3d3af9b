/* gst-apm: OTLP export requests as OTLP/JSON
 *
 * The protobuf JSON mapping with OTLP's exceptions: trace and span ids as
 * hex strings (not base64), enums as integers, lowerCamelCase keys;
 * 64-bit integers (times, counts, int values) as decimal strings.
 */
#include "apm-otlp-data.h"

#include <json-glib/json-glib.h>
#include <math.h>

static void
add_u64 (JsonBuilder * b, const gchar * key, guint64 v)
{
  gchar text[24];

  g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, v);
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, text);
}

static void
add_id (JsonBuilder * b, const gchar * key, const guint8 * id, guint len)
{
  gchar hex[33];

  apm_otlp_id_to_hex (id, len, hex);
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, hex);
}

/* JSON has no NaN or infinities */
static void
add_double (JsonBuilder * b, const gchar * key, gdouble v)
{
  json_builder_set_member_name (b, key);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_string_value (b, isnan (v) ? "NaN" : v > 0 ?
        "Infinity" : "-Infinity");
}

static void
add_attrs (JsonBuilder * b, const gchar * key, GArray * attrs)
{
  json_builder_set_member_name (b, key);
  json_builder_begin_array (b);
  for (guint i = 0; attrs && i < attrs->len; i++) {
    ApmOtlpAttr *a = &g_array_index (attrs, ApmOtlpAttr, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "key");
    json_builder_add_string_value (b, a->key);
    json_builder_set_member_name (b, "value");
    json_builder_begin_object (b);
    switch (a->type) {
      case APM_OTLP_STRING:
        json_builder_set_member_name (b, "stringValue");
        json_builder_add_string_value (b, a->s);
        break;
      case APM_OTLP_BOOL:
        json_builder_set_member_name (b, "boolValue");
        json_builder_add_boolean_value (b, a->i != 0);
        break;
      case APM_OTLP_INT:{
        gchar text[24];

        g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, a->i);
        json_builder_set_member_name (b, "intValue");
        json_builder_add_string_value (b, text);
        break;
      }
      case APM_OTLP_DOUBLE:
        add_double (b, "doubleValue", a->d);
        break;
    }
    json_builder_end_object (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

/* {"resource": {...}, "<scope_key>": [{"scope": {...}, "<items_key>": [
 * — left open for the items */
static void
begin_request (JsonBuilder * b, const gchar * top, const gchar * scope_key,
    const gchar * items_key, const ApmOtlpResource * res)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, top);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resource");
  json_builder_begin_object (b);
  add_attrs (b, "attributes", res->attrs);
  json_builder_end_object (b);
  json_builder_set_member_name (b, scope_key);
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "scope");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, res->scope_name);
  if (res->scope_version) {
    json_builder_set_member_name (b, "version");
    json_builder_add_string_value (b, res->scope_version);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, items_key);
  json_builder_begin_array (b);
}

static GBytes *
end_request (JsonBuilder * b)
{
  JsonGenerator *gen;
  JsonNode *root;
  gchar *text;
  gsize len;

  json_builder_end_array (b);   /* items */
  json_builder_end_object (b);  /* scope */
  json_builder_end_array (b);
  json_builder_end_object (b);  /* resource */
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, &len);
  g_object_unref (gen);
  json_node_unref (root);
  g_object_unref (b);
  return g_bytes_new_take (text, len);
}

GBytes *
apm_otlp_json_traces (const ApmOtlpResource * res, GPtrArray * spans)
{
  JsonBuilder *b = json_builder_new ();

  begin_request (b, "resourceSpans", "scopeSpans", "spans", res);
  for (guint i = 0; i < spans->len; i++) {
    ApmOtlpSpan *s = spans->pdata[i];

    json_builder_begin_object (b);
    add_id (b, "traceId", s->trace_id, 16);
    add_id (b, "spanId", s->span_id, 8);
    if (s->has_parent)
      add_id (b, "parentSpanId", s->parent_span_id, 8);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, s->name);
    json_builder_set_member_name (b, "kind");
    json_builder_add_int_value (b, s->kind);
    add_u64 (b, "startTimeUnixNano", s->start_ns);
    add_u64 (b, "endTimeUnixNano", s->end_ns);
    add_attrs (b, "attributes", s->attrs);
    json_builder_set_member_name (b, "events");
    json_builder_begin_array (b);
    for (guint e = 0; e < s->events->len; e++) {
      ApmOtlpEvent *ev = &g_array_index (s->events, ApmOtlpEvent, e);

      json_builder_begin_object (b);
      add_u64 (b, "timeUnixNano", ev->time_ns);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, ev->name);
      add_attrs (b, "attributes", ev->attrs);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_set_member_name (b, "status");
    json_builder_begin_object (b);
    if (s->status_message) {
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, s->status_message);
    }
    json_builder_set_member_name (b, "code");
    json_builder_add_int_value (b, s->status_code);
    json_builder_end_object (b);
    json_builder_end_object (b);
  }
  return end_request (b);
}

GBytes *
apm_otlp_json_logs (const ApmOtlpResource * res, GPtrArray * records)
{
  JsonBuilder *b = json_builder_new ();

  begin_request (b, "resourceLogs", "scopeLogs", "logRecords", res);
  for (guint i = 0; i < records->len; i++) {
    ApmOtlpLogRecord *r = records->pdata[i];

    json_builder_begin_object (b);
    add_u64 (b, "timeUnixNano", r->time_ns);
    add_u64 (b, "observedTimeUnixNano", r->observed_ns ? r->observed_ns :
        r->time_ns);
    json_builder_set_member_name (b, "severityNumber");
    json_builder_add_int_value (b, r->severity_number);
    if (r->severity_text) {
      json_builder_set_member_name (b, "severityText");
      json_builder_add_string_value (b, r->severity_text);
    }
    if (r->body) {
      json_builder_set_member_name (b, "body");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "stringValue");
      json_builder_add_string_value (b, r->body);
      json_builder_end_object (b);
    }
    add_attrs (b, "attributes", r->attrs);
    if (r->has_trace_id)
      add_id (b, "traceId", r->trace_id, 16);
    if (r->has_span_id)
      add_id (b, "spanId", r->span_id, 8);
    json_builder_end_object (b);
  }
  return end_request (b);
}

static void
add_points (JsonBuilder * b, ApmOtlpMetric * m)
{
  json_builder_set_member_name (b, "dataPoints");
  json_builder_begin_array (b);
  for (guint i = 0; i < m->points->len; i++) {
    ApmOtlpPoint *pt = m->points->pdata[i];

    if (m->kind != APM_OTLP_METRIC_HISTOGRAM && !isfinite (pt->value))
      continue;
    json_builder_begin_object (b);
    add_attrs (b, "attributes", pt->attrs);
    add_u64 (b, "startTimeUnixNano", m->start_ns);
    add_u64 (b, "timeUnixNano", m->time_ns);
    if (m->kind == APM_OTLP_METRIC_HISTOGRAM) {
      add_u64 (b, "count", pt->count);
      add_double (b, "sum", pt->sum);
      json_builder_set_member_name (b, "bucketCounts");
      json_builder_begin_array (b);
      for (guint k = 0; k <= m->n_bounds; k++) {
        gchar text[24];

        g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT,
            pt->bucket_counts[k]);
        json_builder_add_string_value (b, text);
      }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "explicitBounds");
      json_builder_begin_array (b);
      for (guint k = 0; k < m->n_bounds; k++)
        json_builder_add_double_value (b, m->bounds[k]);
      json_builder_end_array (b);
    } else {
      add_double (b, "asDouble", pt->value);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
}

GBytes *
apm_otlp_json_metrics (const ApmOtlpResource * res, GPtrArray * metrics)
{
  JsonBuilder *b = json_builder_new ();

  begin_request (b, "resourceMetrics", "scopeMetrics", "metrics", res);
  for (guint i = 0; i < metrics->len; i++) {
    ApmOtlpMetric *m = metrics->pdata[i];

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, m->name);
    if (m->description) {
      json_builder_set_member_name (b, "description");
      json_builder_add_string_value (b, m->description);
    }
    if (m->unit) {
      json_builder_set_member_name (b, "unit");
      json_builder_add_string_value (b, m->unit);
    }
    json_builder_set_member_name (b, m->kind == APM_OTLP_METRIC_GAUGE ?
        "gauge" : m->kind == APM_OTLP_METRIC_SUM ? "sum" : "histogram");
    json_builder_begin_object (b);
    add_points (b, m);
    if (m->kind != APM_OTLP_METRIC_GAUGE) {
      json_builder_set_member_name (b, "aggregationTemporality");
      json_builder_add_int_value (b, 2);        /* cumulative */
    }
    if (m->kind == APM_OTLP_METRIC_SUM) {
      json_builder_set_member_name (b, "isMonotonic");
      json_builder_add_boolean_value (b, TRUE);
    }
    json_builder_end_object (b);
    json_builder_end_object (b);
  }
  return end_request (b);
}
