/* gst-apm: the OTLP exporter's plain structs (see apm-otlp-data.h) */
#include "apm-otlp-data.h"

#include <string.h>

static void
attr_clear (gpointer p)
{
  ApmOtlpAttr *a = p;

  g_free (a->key);
  g_free (a->s);
}

GArray *
apm_otlp_attrs_new (void)
{
  GArray *attrs = g_array_new (FALSE, TRUE, sizeof (ApmOtlpAttr));

  g_array_set_clear_func (attrs, attr_clear);
  return attrs;
}

static ApmOtlpAttr *
attrs_append (GArray * attrs, const gchar * key, ApmOtlpValueType type)
{
  ApmOtlpAttr a = { 0 };

  a.key = g_strdup (key);
  a.type = type;
  g_array_append_val (attrs, a);
  return &g_array_index (attrs, ApmOtlpAttr, attrs->len - 1);
}

void
apm_otlp_attrs_add_string (GArray * attrs, const gchar * key,
    const gchar * value)
{
  /* OTLP strings are UTF-8: names come from users */
  attrs_append (attrs, key, APM_OTLP_STRING)->s =
      g_utf8_make_valid (value ? value : "", -1);
}

void
apm_otlp_attrs_add_int (GArray * attrs, const gchar * key, gint64 v)
{
  attrs_append (attrs, key, APM_OTLP_INT)->i = v;
}

void
apm_otlp_attrs_add_double (GArray * attrs, const gchar * key, gdouble v)
{
  attrs_append (attrs, key, APM_OTLP_DOUBLE)->d = v;
}

void
apm_otlp_attrs_add_bool (GArray * attrs, const gchar * key, gboolean v)
{
  attrs_append (attrs, key, APM_OTLP_BOOL)->i = v ? 1 : 0;
}

static void
event_clear (gpointer p)
{
  ApmOtlpEvent *e = p;

  g_free (e->name);
  if (e->attrs)
    g_array_unref (e->attrs);
}

ApmOtlpSpan *
apm_otlp_span_new (const gchar * name)
{
  ApmOtlpSpan *span = g_new0 (ApmOtlpSpan, 1);

  span->name = g_utf8_make_valid (name, -1);
  span->kind = APM_OTLP_KIND_INTERNAL;
  span->attrs = apm_otlp_attrs_new ();
  span->events = g_array_new (FALSE, TRUE, sizeof (ApmOtlpEvent));
  g_array_set_clear_func (span->events, event_clear);
  return span;
}

void
apm_otlp_span_add_event (ApmOtlpSpan * span, guint64 time_ns,
    const gchar * name, GArray * attrs)
{
  ApmOtlpEvent e;

  e.time_ns = time_ns;
  e.name = g_utf8_make_valid (name, -1);
  e.attrs = attrs ? attrs : apm_otlp_attrs_new ();
  g_array_append_val (span->events, e);
}

void
apm_otlp_span_free (ApmOtlpSpan * span)
{
  if (!span)
    return;
  g_free (span->name);
  g_free (span->status_message);
  g_array_unref (span->attrs);
  g_array_unref (span->events);
  g_free (span);
}

ApmOtlpLogRecord *
apm_otlp_log_record_new (void)
{
  ApmOtlpLogRecord *rec = g_new0 (ApmOtlpLogRecord, 1);

  rec->attrs = apm_otlp_attrs_new ();
  return rec;
}

void
apm_otlp_log_record_free (ApmOtlpLogRecord * rec)
{
  if (!rec)
    return;
  g_free (rec->severity_text);
  g_free (rec->body);
  g_array_unref (rec->attrs);
  g_free (rec);
}

static void
point_free (gpointer p)
{
  ApmOtlpPoint *pt = p;

  g_array_unref (pt->attrs);
  g_free (pt->bucket_counts);
  g_free (pt);
}

ApmOtlpMetric *
apm_otlp_metric_new (const gchar * name, ApmOtlpMetricKind kind)
{
  ApmOtlpMetric *m = g_new0 (ApmOtlpMetric, 1);

  m->name = g_strdup (name);
  m->kind = kind;
  m->points = g_ptr_array_new_with_free_func (point_free);
  return m;
}

ApmOtlpPoint *
apm_otlp_metric_add_point (ApmOtlpMetric * m)
{
  ApmOtlpPoint *pt = g_new0 (ApmOtlpPoint, 1);

  pt->attrs = apm_otlp_attrs_new ();
  if (m->kind == APM_OTLP_METRIC_HISTOGRAM)
    pt->bucket_counts = g_new0 (guint64, m->n_bounds + 1);
  g_ptr_array_add (m->points, pt);
  return pt;
}

void
apm_otlp_metric_free (ApmOtlpMetric * m)
{
  if (!m)
    return;
  g_free (m->name);
  g_free (m->description);
  g_free (m->unit);
  g_free (m->bounds);
  g_ptr_array_unref (m->points);
  g_free (m);
}

GBytes *
apm_otlp_encode_traces (const ApmOtlpResource * res, GPtrArray * spans,
    ApmOtlpEncoding encoding)
{
  return encoding == APM_OTLP_JSON ? apm_otlp_json_traces (res, spans) :
      apm_otlp_proto_traces (res, spans);
}

GBytes *
apm_otlp_encode_logs (const ApmOtlpResource * res, GPtrArray * records,
    ApmOtlpEncoding encoding)
{
  return encoding == APM_OTLP_JSON ? apm_otlp_json_logs (res, records) :
      apm_otlp_proto_logs (res, records);
}

GBytes *
apm_otlp_encode_metrics (const ApmOtlpResource * res, GPtrArray * metrics,
    ApmOtlpEncoding encoding)
{
  return encoding == APM_OTLP_JSON ? apm_otlp_json_metrics (res, metrics) :
      apm_otlp_proto_metrics (res, metrics);
}

gboolean
apm_otlp_id_from_hex (const gchar * hex, guint8 * out, guint len)
{
  gboolean nonzero = FALSE;

  if (!hex || strlen (hex) != len * 2)
    return FALSE;
  for (guint i = 0; i < len; i++) {
    gint hi = g_ascii_xdigit_value (hex[2 * i]);
    gint lo = g_ascii_xdigit_value (hex[2 * i + 1]);

    if (hi < 0 || lo < 0)
      return FALSE;
    out[i] = (guint8) (hi << 4 | lo);
    nonzero |= out[i] != 0;
  }
  return nonzero;
}

void
apm_otlp_id_to_hex (const guint8 * id, guint len, gchar * out)
{
  static const gchar digits[] = "0123456789abcdef";

  for (guint i = 0; i < len; i++) {
    out[2 * i] = digits[id[i] >> 4];
    out[2 * i + 1] = digits[id[i] & 15];
  }
  out[2 * len] = '\0';
}
