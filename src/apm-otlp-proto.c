/* gst-apm: OTLP export requests as protocol buffers
 *
 * Field numbers from opentelemetry-proto (v1): common/v1/common.proto,
 * resource/v1/resource.proto, trace/v1/trace.proto, logs/v1/logs.proto,
 * metrics/v1/metrics.proto and the collector's *_service.proto.  The
 * e2e test decodes what this writes with OpenTelemetry's generated code.
 */
#include "apm-otlp-data.h"
#include "apm-protobuf.h"

#include <math.h>

/* common.proto: AnyValue */
enum
{
  ANY_STRING = 1, ANY_BOOL = 2, ANY_INT = 3, ANY_DOUBLE = 4,
};

/* KeyValue { key = 1; value = 2 } */
static void
put_attrs (ApmPbWriter * w, guint field, GArray * attrs)
{
  for (guint i = 0; attrs && i < attrs->len; i++) {
    ApmOtlpAttr *a = &g_array_index (attrs, ApmOtlpAttr, i);
    ApmPbMark kv = apm_pb_begin (w, field), any;

    apm_pb_string (w, 1, a->key);
    any = apm_pb_begin (w, 2);
    /* a oneof member is written even when it is its type's default */
    switch (a->type) {
      case APM_OTLP_STRING:
        apm_pb_string (w, ANY_STRING, a->s);
        break;
      case APM_OTLP_BOOL:
        apm_pb_bool (w, ANY_BOOL, a->i != 0);
        break;
      case APM_OTLP_INT:
        apm_pb_int64 (w, ANY_INT, a->i);
        break;
      case APM_OTLP_DOUBLE:
        apm_pb_double (w, ANY_DOUBLE, a->d);
        break;
    }
    apm_pb_end (w, any);
    apm_pb_end (w, kv);
  }
}

/* Resource { attributes = 1 }, field 1 of every Resource* message */
static void
put_resource (ApmPbWriter * w, const ApmOtlpResource * res)
{
  ApmPbMark r = apm_pb_begin (w, 1);

  put_attrs (w, 1, res->attrs);
  apm_pb_end (w, r);
}

/* InstrumentationScope { name = 1; version = 2 }, field 1 of every
 * Scope* message */
static void
put_scope (ApmPbWriter * w, const ApmOtlpResource * res)
{
  ApmPbMark s = apm_pb_begin (w, 1);

  apm_pb_string (w, 1, res->scope_name);
  if (res->scope_version)
    apm_pb_string (w, 2, res->scope_version);
  apm_pb_end (w, s);
}

/* trace.proto: Span */
static void
put_span (ApmPbWriter * w, ApmOtlpSpan * span)
{
  ApmPbMark m = apm_pb_begin (w, 2);    /* ScopeSpans.spans */

  apm_pb_bytes (w, 1, span->trace_id, 16);
  apm_pb_bytes (w, 2, span->span_id, 8);
  if (span->has_parent)
    apm_pb_bytes (w, 4, span->parent_span_id, 8);
  apm_pb_string (w, 5, span->name);
  apm_pb_uint64 (w, 6, span->kind);
  apm_pb_fixed64 (w, 7, span->start_ns);
  apm_pb_fixed64 (w, 8, span->end_ns);
  put_attrs (w, 9, span->attrs);
  for (guint i = 0; i < span->events->len; i++) {
    ApmOtlpEvent *e = &g_array_index (span->events, ApmOtlpEvent, i);
    ApmPbMark em = apm_pb_begin (w, 11);

    apm_pb_fixed64 (w, 1, e->time_ns);
    apm_pb_string (w, 2, e->name);
    put_attrs (w, 3, e->attrs);
    apm_pb_end (w, em);
  }
  if (span->status_code != APM_OTLP_STATUS_UNSET || span->status_message) {
    ApmPbMark st = apm_pb_begin (w, 15);

    if (span->status_message)
      apm_pb_string (w, 2, span->status_message);
    if (span->status_code)
      apm_pb_uint64 (w, 3, span->status_code);
    apm_pb_end (w, st);
  }
  apm_pb_end (w, m);
}

GBytes *
apm_otlp_proto_traces (const ApmOtlpResource * res, GPtrArray * spans)
{
  ApmPbWriter w;
  ApmPbMark rs, ss;

  apm_pb_writer_init (&w);
  rs = apm_pb_begin (&w, 1);    /* ExportTraceServiceRequest.resource_spans */
  put_resource (&w, res);
  ss = apm_pb_begin (&w, 2);    /* ResourceSpans.scope_spans */
  put_scope (&w, res);
  for (guint i = 0; i < spans->len; i++)
    put_span (&w, spans->pdata[i]);
  apm_pb_end (&w, ss);
  apm_pb_end (&w, rs);
  return apm_pb_writer_finish (&w);
}

/* logs.proto: LogRecord */
static void
put_log_record (ApmPbWriter * w, ApmOtlpLogRecord * rec)
{
  ApmPbMark m = apm_pb_begin (w, 2);    /* ScopeLogs.log_records */

  apm_pb_fixed64 (w, 1, rec->time_ns);
  if (rec->severity_number)
    apm_pb_uint64 (w, 2, rec->severity_number);
  if (rec->severity_text)
    apm_pb_string (w, 3, rec->severity_text);
  if (rec->body) {
    ApmPbMark body = apm_pb_begin (w, 5);

    apm_pb_string (w, ANY_STRING, rec->body);
    apm_pb_end (w, body);
  }
  put_attrs (w, 6, rec->attrs);
  if (rec->has_trace_id)
    apm_pb_bytes (w, 9, rec->trace_id, 16);
  if (rec->has_span_id)
    apm_pb_bytes (w, 10, rec->span_id, 8);
  apm_pb_fixed64 (w, 11, rec->observed_ns ? rec->observed_ns : rec->time_ns);
  apm_pb_end (w, m);
}

GBytes *
apm_otlp_proto_logs (const ApmOtlpResource * res, GPtrArray * records)
{
  ApmPbWriter w;
  ApmPbMark rl, sl;

  apm_pb_writer_init (&w);
  rl = apm_pb_begin (&w, 1);    /* ExportLogsServiceRequest.resource_logs */
  put_resource (&w, res);
  sl = apm_pb_begin (&w, 2);    /* ResourceLogs.scope_logs */
  put_scope (&w, res);
  for (guint i = 0; i < records->len; i++)
    put_log_record (&w, records->pdata[i]);
  apm_pb_end (&w, sl);
  apm_pb_end (&w, rl);
  return apm_pb_writer_finish (&w);
}

/* metrics.proto: AggregationTemporality */
#define CUMULATIVE 2

static void
put_number_point (ApmPbWriter * w, const ApmOtlpMetric * m,
    ApmOtlpPoint * pt)
{
  ApmPbMark dp = apm_pb_begin (w, 1);   /* Gauge/Sum.data_points */

  put_attrs (w, 7, pt->attrs);
  apm_pb_fixed64 (w, 2, m->start_ns);
  apm_pb_fixed64 (w, 3, m->time_ns);
  apm_pb_double (w, 4, pt->value);      /* as_double */
  apm_pb_end (w, dp);
}

static void
put_histogram_point (ApmPbWriter * w, const ApmOtlpMetric * m,
    ApmOtlpPoint * pt)
{
  ApmPbMark dp = apm_pb_begin (w, 1);   /* Histogram.data_points */

  put_attrs (w, 9, pt->attrs);
  apm_pb_fixed64 (w, 2, m->start_ns);
  apm_pb_fixed64 (w, 3, m->time_ns);
  apm_pb_fixed64 (w, 4, pt->count);
  apm_pb_double (w, 5, pt->sum);
  apm_pb_packed_fixed64 (w, 6, pt->bucket_counts, m->n_bounds + 1);
  if (m->n_bounds)
    apm_pb_packed_double (w, 7, m->bounds, m->n_bounds);
  apm_pb_end (w, dp);
}

static void
put_metric (ApmPbWriter * w, ApmOtlpMetric * m)
{
  ApmPbMark mm = apm_pb_begin (w, 2);   /* ScopeMetrics.metrics */
  ApmPbMark data;
  guint field = m->kind == APM_OTLP_METRIC_GAUGE ? 5 :
      m->kind == APM_OTLP_METRIC_SUM ? 7 : 9;

  apm_pb_string (w, 1, m->name);
  if (m->description)
    apm_pb_string (w, 2, m->description);
  if (m->unit)
    apm_pb_string (w, 3, m->unit);
  data = apm_pb_begin (w, field);
  for (guint i = 0; i < m->points->len; i++) {
    ApmOtlpPoint *pt = m->points->pdata[i];

    if (m->kind == APM_OTLP_METRIC_HISTOGRAM)
      put_histogram_point (w, m, pt);
    else if (isfinite (pt->value))
      put_number_point (w, m, pt);
  }
  if (m->kind != APM_OTLP_METRIC_GAUGE)
    apm_pb_uint64 (w, 2, CUMULATIVE);
  if (m->kind == APM_OTLP_METRIC_SUM)
    apm_pb_bool (w, 3, TRUE);   /* is_monotonic */
  apm_pb_end (w, data);
  apm_pb_end (w, mm);
}

GBytes *
apm_otlp_proto_metrics (const ApmOtlpResource * res, GPtrArray * metrics)
{
  ApmPbWriter w;
  ApmPbMark rm, sm;

  apm_pb_writer_init (&w);
  rm = apm_pb_begin (&w, 1);    /* ExportMetricsServiceRequest.resource_metrics */
  put_resource (&w, res);
  sm = apm_pb_begin (&w, 2);    /* ResourceMetrics.scope_metrics */
  put_scope (&w, res);
  for (guint i = 0; i < metrics->len; i++)
    put_metric (&w, metrics->pdata[i]);
  apm_pb_end (&w, sm);
  apm_pb_end (&w, rm);
  return apm_pb_writer_finish (&w);
}
