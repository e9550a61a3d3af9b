/* gst-apm: what the OTLP exporter sends, as plain structs
 *
 * Spans, log records and metric points made on the service thread from
 * jobs, log lines and the registry, then written as OTLP/protobuf
 * (apm-otlp-proto.c) or OTLP/JSON (apm-otlp-json.c).  Ids are raw bytes;
 * times are nanoseconds since the Unix epoch.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  APM_OTLP_PROTOBUF,
  APM_OTLP_JSON,
} ApmOtlpEncoding;

typedef enum
{
  APM_OTLP_STRING,
  APM_OTLP_INT,
  APM_OTLP_DOUBLE,
  APM_OTLP_BOOL,
} ApmOtlpValueType;

typedef struct
{
  gchar *key;
  ApmOtlpValueType type;
  gchar *s;
  gint64 i;                     /* INT and BOOL */
  gdouble d;
} ApmOtlpAttr;

/* attribute lists: GArray of ApmOtlpAttr that frees its members */
GArray *apm_otlp_attrs_new (void);
void apm_otlp_attrs_add_string (GArray * attrs, const gchar * key,
    const gchar * value);
void apm_otlp_attrs_add_int (GArray * attrs, const gchar * key, gint64 v);
void apm_otlp_attrs_add_double (GArray * attrs, const gchar * key,
    gdouble v);
void apm_otlp_attrs_add_bool (GArray * attrs, const gchar * key,
    gboolean v);

typedef struct
{
  guint64 time_ns;
  gchar *name;
  GArray *attrs;
} ApmOtlpEvent;

/* OTLP's Span.SpanKind and Status.StatusCode */
enum { APM_OTLP_KIND_INTERNAL = 1, APM_OTLP_KIND_SERVER = 2 };
enum { APM_OTLP_STATUS_UNSET, APM_OTLP_STATUS_OK, APM_OTLP_STATUS_ERROR };

typedef struct
{
  guint8 trace_id[16];
  guint8 span_id[8];
  guint8 parent_span_id[8];
  gboolean has_parent;
  gchar *name;
  gint kind;
  guint64 start_ns, end_ns;
  GArray *attrs;
  GArray *events;               /* ApmOtlpEvent */
  gint status_code;
  gchar *status_message;
} ApmOtlpSpan;

ApmOtlpSpan *apm_otlp_span_new (const gchar * name);
void apm_otlp_span_add_event (ApmOtlpSpan * span, guint64 time_ns,
    const gchar * name, GArray * attrs /* transfer full, nullable */ );
void apm_otlp_span_free (ApmOtlpSpan * span);

/* OTLP's SeverityNumber: the first of each range */
enum
{
  APM_OTLP_SEVERITY_DEBUG = 5,
  APM_OTLP_SEVERITY_INFO = 9,
  APM_OTLP_SEVERITY_WARN = 13,
  APM_OTLP_SEVERITY_ERROR = 17,
  APM_OTLP_SEVERITY_FATAL = 21,
};

typedef struct
{
  guint64 time_ns, observed_ns;
  gint severity_number;
  gchar *severity_text;
  gchar *body;
  GArray *attrs;
  guint8 trace_id[16];
  guint8 span_id[8];
  gboolean has_trace_id, has_span_id;
} ApmOtlpLogRecord;

ApmOtlpLogRecord *apm_otlp_log_record_new (void);
void apm_otlp_log_record_free (ApmOtlpLogRecord * rec);

typedef enum
{
  APM_OTLP_METRIC_SUM,          /* cumulative, monotonic */
  APM_OTLP_METRIC_GAUGE,
  APM_OTLP_METRIC_HISTOGRAM,    /* cumulative, explicit bounds */
} ApmOtlpMetricKind;

typedef struct
{
  GArray *attrs;
  gdouble value;
  guint64 count;
  gdouble sum;
  guint64 *bucket_counts;       /* histograms: n_bounds + 1, per bucket */
} ApmOtlpPoint;

typedef struct
{
  gchar *name, *description, *unit;
  ApmOtlpMetricKind kind;
  gdouble *bounds;
  guint n_bounds;
  guint64 start_ns, time_ns;
  GPtrArray *points;            /* ApmOtlpPoint */
} ApmOtlpMetric;

ApmOtlpMetric *apm_otlp_metric_new (const gchar * name,
    ApmOtlpMetricKind kind);
ApmOtlpPoint *apm_otlp_metric_add_point (ApmOtlpMetric * m);
void apm_otlp_metric_free (ApmOtlpMetric * m);

/* Who sends: the resource's attributes and the instrumentation scope. */
typedef struct
{
  GArray *attrs;
  const gchar *scope_name;
  const gchar *scope_version;
} ApmOtlpResource;

/* The three export requests, in @encoding.  @items: ApmOtlpSpan,
 * ApmOtlpLogRecord or ApmOtlpMetric. */
GBytes *apm_otlp_encode_traces (const ApmOtlpResource * res,
    GPtrArray * spans, ApmOtlpEncoding encoding);
GBytes *apm_otlp_encode_logs (const ApmOtlpResource * res,
    GPtrArray * records, ApmOtlpEncoding encoding);
GBytes *apm_otlp_encode_metrics (const ApmOtlpResource * res,
    GPtrArray * metrics, ApmOtlpEncoding encoding);

/* apm-otlp-proto.c and apm-otlp-json.c */
GBytes *apm_otlp_proto_traces (const ApmOtlpResource * res,
    GPtrArray * spans);
GBytes *apm_otlp_proto_logs (const ApmOtlpResource * res,
    GPtrArray * records);
GBytes *apm_otlp_proto_metrics (const ApmOtlpResource * res,
    GPtrArray * metrics);
GBytes *apm_otlp_json_traces (const ApmOtlpResource * res,
    GPtrArray * spans);
GBytes *apm_otlp_json_logs (const ApmOtlpResource * res,
    GPtrArray * records);
GBytes *apm_otlp_json_metrics (const ApmOtlpResource * res,
    GPtrArray * metrics);

/* @hex: 2 * @len lowercase or uppercase hex digits into @out; FALSE if not,
 * or if all zero (an invalid W3C id). */
gboolean apm_otlp_id_from_hex (const gchar * hex, guint8 * out, guint len);
/* 2 * @len lowercase hex digits and a NUL into @out */
void apm_otlp_id_to_hex (const guint8 * id, guint len, gchar * out);

G_END_DECLS
