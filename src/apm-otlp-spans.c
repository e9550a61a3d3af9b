/* gst-apm: ended jobs as OTLP spans
 *
 * Each job (a pipeline run, or the application's own job) is a span; its
 * recorded stages and its pipeline's apmonitor stage spans are child
 * spans, its elements' own-time summary are attributes (never a span per
 * buffer).  The attribute names are in README.md ("OpenTelemetry").
 */
#include "apm-otlp-private.h"
#include "apm-json.h"

#include <math.h>
#include <string.h>

static gboolean
get_number (JsonObject * o, const gchar * key, gdouble * out)
{
  *out = apm_json_number (o, key, NAN);
  return !isnan (*out);
}

/* a child's span id: made from the parent's trace and the child's name, so
 * the same stage of the same job always has the same id */
static void
derive_span_id (const gchar * seed_a, const gchar * seed_b, guint8 out[8])
{
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (sum, (const guchar *) seed_a, -1);
  g_checksum_update (sum, (const guchar *) "\x1f", 1);
  g_checksum_update (sum, (const guchar *) (seed_b ? seed_b : ""), -1);
  g_checksum_get_digest (sum, digest, &len);
  g_checksum_free (sum);
  memcpy (out, digest, 8);
  if (!memcmp (out, "\0\0\0\0\0\0\0\0", 8))
    out[7] = 1;                 /* all zero is not a valid id */
}

gboolean
apm_otlp_job_ids (JsonObject * job, guint8 trace_id[16], guint8 span_id[8])
{
  const gchar *cid = apm_json_string (job, "correlation_id");
  gchar hex[APM_TRACE_ID_LEN + 1];

  if (!apm_otlp_id_from_hex (apm_json_string (job, "trace_id"), trace_id, 16)) {
    if (!cid || !apm_trace_id_from_correlation_id (cid, hex)
        || !apm_otlp_id_from_hex (hex, trace_id, 16))
      return FALSE;
  }
  if (!apm_otlp_id_from_hex (apm_json_string (job, "span_id"), span_id, 8))
    derive_span_id (cid ? cid : "", "job", span_id);
  return TRUE;
}

static void
add_labels (GArray * attrs, const gchar * prefix, JsonObject * labels)
{
  GList *members = labels ? json_object_get_members (labels) : NULL;

  for (GList * l = members; l; l = l->next) {
    const gchar *v = apm_json_string (labels, l->data);
    gchar *key;

    if (!v)
      continue;
    key = g_strconcat (prefix, l->data, NULL);
    apm_otlp_attrs_add_string (attrs, key, v);
    g_free (key);
  }
  g_list_free (members);
}

static ApmOtlpSpan *
child_span (ApmOtlpSpan * parent, const gchar * name, const gchar * cid)
{
  ApmOtlpSpan *c = apm_otlp_span_new (name);

  memcpy (c->trace_id, parent->trace_id, 16);
  memcpy (c->parent_span_id, parent->span_id, 8);
  c->has_parent = TRUE;
  derive_span_id (cid, name, c->span_id);
  return c;
}

/* recorded stages (record_job_stage): their time is a total, ending when
 * last recorded (or at the job's end) */
static void
add_stage_spans (ApmOtlpSpan * job, JsonObject * stages, const gchar * cid,
    GPtrArray * out)
{
  GList *members = stages ? json_object_get_members (stages) : NULL;

  for (GList * l = members; l; l = l->next) {
    JsonNode *n = json_object_get_member (stages, l->data);
    JsonObject *st;
    gchar *name;
    gdouble seconds = 0, count = 0, last_us = 0;
    ApmOtlpSpan *c;

    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    st = json_node_get_object (n);
    get_number (st, "seconds", &seconds);
    get_number (st, "count", &count);
    name = g_strconcat ("stage ", (gchar *) l->data, NULL);
    c = child_span (job, name, cid);
    g_free (name);
    c->end_ns = get_number (st, "last_recorded_us", &last_us) && last_us > 0 ?
        (guint64) last_us * 1000 : job->end_ns;
    c->start_ns = c->end_ns - MIN ((guint64) (seconds * 1e9),
        c->end_ns - MIN (job->start_ns, c->end_ns));
    apm_otlp_attrs_add_string (c->attrs, "gstreamer.stage", l->data);
    apm_otlp_attrs_add_double (c->attrs, "gstreamer.stage.seconds", seconds);
    apm_otlp_attrs_add_int (c->attrs, "gstreamer.stage.count",
        (gint64) count);
    if (json_object_has_member (st, "labels")
        && JSON_NODE_HOLDS_OBJECT (json_object_get_member (st, "labels")))
      add_labels (c->attrs, "gstreamer.stage.label.",
          json_object_get_object_member (st, "labels"));
    g_ptr_array_add (out, c);
  }
  g_list_free (members);
}

typedef struct
{
  JsonNode *job;
  GPtrArray *stage_series;      /* ApmSeries of apm_span_latency_seconds */
  GPtrArray *element_series;    /* of apm_element_processing_seconds */
} TraceItem;

/* the series of @family whose pipeline is @pipeline (references) */
static GPtrArray *
pipeline_series (ApmRegistry * reg, const gchar * family,
    const gchar * pipeline)
{
  GPtrArray *all = apm_registry_list_series (reg, family);
  GPtrArray *mine = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_series_unref);

  for (guint i = 0; all && i < all->len; i++)
    if (g_strcmp0 (apm_series_label (all->pdata[i], "pipeline"),
            pipeline) == 0)
      g_ptr_array_add (mine, apm_series_ref (all->pdata[i]));
  if (all)
    g_ptr_array_unref (all);
  return mine;
}

gpointer
apm_otlp_trace_item_new (ApmOtlp * otlp, JsonNode * job)
{
  TraceItem *item = g_new0 (TraceItem, 1);
  const gchar *pipeline = apm_json_string (json_node_get_object (job),
      "pipeline");

  item->job = json_node_ref (job);
  if (pipeline) {
    item->stage_series = pipeline_series (otlp->registry,
        "apm_span_latency_seconds", pipeline);
    item->element_series = pipeline_series (otlp->registry,
        "apm_element_processing_seconds", pipeline);
  }
  return item;
}

void
apm_otlp_trace_item_free (gpointer data)
{
  TraceItem *item = data;

  json_node_unref (item->job);
  if (item->stage_series)
    g_ptr_array_unref (item->stage_series);
  if (item->element_series)
    g_ptr_array_unref (item->element_series);
  g_free (item);
}

static void
add_quantiles (GArray * attrs, const gchar * prefix, ApmSeries * s)
{
  static const struct { gdouble q; const gchar *name; } qs[] = {
    {0.5, "p50"}, {0.95, "p95"}, {0.99, "p99"}
  };
  guint64 count = apm_series_count (s);

  for (guint i = 0; i < G_N_ELEMENTS (qs); i++) {
    gdouble v = apm_series_quantile (s, qs[i].q);
    gchar *key = g_strconcat (prefix, qs[i].name, NULL);

    if (isfinite (v))
      apm_otlp_attrs_add_double (attrs, key, v);
    g_free (key);
  }
  if (count) {
    gchar *key = g_strconcat (prefix, "mean", NULL);

    apm_otlp_attrs_add_double (attrs, key, apm_series_sum (s) / count);
    g_free (key);
  }
}

/* the apmonitor stage spans of @pipeline: a child span each, over the
 * run, with the latency percentiles (since the pipeline started) */
static void
add_monitor_spans (GPtrArray * series, ApmOtlpSpan * job,
    const gchar * pipeline, const gchar * cid, GPtrArray * out)
{
  for (guint i = 0; series && i < series->len; i++) {
    ApmSeries *s = series->pdata[i];
    const gchar *span = apm_series_label (s, "span");
    gchar *name;
    ApmOtlpSpan *c;

    if (g_strcmp0 (apm_series_label (s, "pipeline"), pipeline) != 0 || !span)
      continue;
    name = g_strconcat ("apmonitor span ", span, NULL);
    c = child_span (job, name, cid);
    g_free (name);
    c->start_ns = job->start_ns;
    c->end_ns = job->end_ns;
    apm_otlp_attrs_add_string (c->attrs, "gstreamer.pipeline", pipeline);
    apm_otlp_attrs_add_string (c->attrs, "gstreamer.span", span);
    if (apm_series_label (s, "from"))
      apm_otlp_attrs_add_string (c->attrs, "gstreamer.span.from",
          apm_series_label (s, "from"));
    if (apm_series_label (s, "to"))
      apm_otlp_attrs_add_string (c->attrs, "gstreamer.span.to",
          apm_series_label (s, "to"));
    apm_otlp_attrs_add_int (c->attrs, "gstreamer.span.buffers",
        (gint64) apm_series_count (s));
    add_quantiles (c->attrs, "gstreamer.span.latency.", s);
    g_ptr_array_add (out, c);
  }
}

/* the elements of @pipeline, a short child span each with its own time
 * (mean, p95) and buffers: one per element, never per buffer */
static void
add_element_summaries (GPtrArray * series, ApmOtlpSpan * job,
    const gchar * pipeline, const gchar * cid, GPtrArray * out)
{
  guint n = 0;

  for (guint i = 0; series && i < series->len && n < 64; i++) {
    ApmSeries *s = series->pdata[i];
    const gchar *element = apm_series_label (s, "element");
    const gchar *factory = apm_series_label (s, "factory");
    gchar *name;
    ApmOtlpSpan *c;

    if (g_strcmp0 (apm_series_label (s, "pipeline"), pipeline) != 0
        || !element || !apm_series_count (s))
      continue;
    name = g_strconcat ("element ", element, NULL);
    c = child_span (job, name, cid);
    g_free (name);
    c->start_ns = job->start_ns;
    c->end_ns = job->end_ns;
    apm_otlp_attrs_add_string (c->attrs, "gstreamer.pipeline", pipeline);
    apm_otlp_attrs_add_string (c->attrs, "gstreamer.element", element);
    if (factory)
      apm_otlp_attrs_add_string (c->attrs, "gstreamer.factory", factory);
    apm_otlp_attrs_add_int (c->attrs, "gstreamer.element.buffers",
        (gint64) apm_series_count (s));
    add_quantiles (c->attrs, "gstreamer.element.own_time.", s);
    g_ptr_array_add (out, c);
    n++;
  }
}

/* one ended job: its span and its children into @out */
static void
job_spans (ApmOtlp * otlp, TraceItem * item, GPtrArray * out)
{
  JsonObject *o = json_node_get_object (item->job);
  const gchar *cid = apm_json_string (o, "correlation_id");
  const gchar *job_id = apm_json_string (o, "job_id");
  const gchar *pipeline = apm_json_string (o, "pipeline");
  const gchar *status = apm_json_string (o, "status");
  const gchar *error = apm_json_string (o, "error");
  gboolean is_run = pipeline && job_id && g_str_has_prefix (job_id, pipeline)
      && job_id[strlen (pipeline)] == '#';
  ApmOtlpJobTrack *track = cid ? apm_otlp_take_track (otlp, cid) : NULL;
  ApmOtlpSpan *span;
  gchar *name;
  gdouble v;

  name = is_run ? g_strconcat ("pipeline ", pipeline, NULL) :
      g_strconcat ("job ", job_id ? job_id : "?", NULL);
  span = apm_otlp_span_new (name);
  g_free (name);
  if (!cid || !apm_otlp_job_ids (o, span->trace_id, span->span_id)) {
    apm_otlp_span_free (span);
    apm_otlp_track_free (track);
    return;
  }
  if (apm_otlp_id_from_hex (apm_json_string (o, "parent_span_id"),
          span->parent_span_id, 8))
    span->has_parent = TRUE;
  span->start_ns = apm_otlp_time_ns (apm_json_string (o, "started_at"));
  span->end_ns = apm_otlp_time_ns (apm_json_string (o, "ended_at"));
  if (span->end_ns < span->start_ns)
    span->end_ns = span->start_ns;

  if (job_id)
    apm_otlp_attrs_add_string (span->attrs, "gstreamer.job.id", job_id);
  apm_otlp_attrs_add_string (span->attrs, "gstreamer.job.correlation_id",
      cid);
  if (status)
    apm_otlp_attrs_add_string (span->attrs, "gstreamer.job.status", status);
  if (pipeline)
    apm_otlp_attrs_add_string (span->attrs, "gstreamer.pipeline", pipeline);
  if (get_number (o, "bytes_read", &v))
    apm_otlp_attrs_add_int (span->attrs, "gstreamer.bytes_read", (gint64) v);
  if (get_number (o, "bytes_written", &v))
    apm_otlp_attrs_add_int (span->attrs, "gstreamer.bytes_written",
        (gint64) v);
  if (get_number (o, "media_seconds", &v))
    apm_otlp_attrs_add_double (span->attrs, "gstreamer.media_seconds", v);
  if (get_number (o, "realtime_factor", &v))
    apm_otlp_attrs_add_double (span->attrs, "gstreamer.realtime_factor", v);
  if (get_number (o, "processing_seconds", &v))
    apm_otlp_attrs_add_double (span->attrs, "gstreamer.processing_seconds",
        v);
  if (json_object_has_member (o, "labels")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "labels")))
    add_labels (span->attrs, "gstreamer.job.label.",
        json_object_get_object_member (o, "labels"));

  if (g_strcmp0 (status, "failed") == 0) {
    span->status_code = APM_OTLP_STATUS_ERROR;
    span->status_message = g_strdup (error ? error : "failed");
    /* semantic conventions: a low-cardinality class of the error */
    apm_otlp_attrs_add_string (span->attrs, "error.type",
        is_run ? "gstreamer.error" : "job.failed");
  } else if (g_strcmp0 (status, "success") == 0) {
    span->status_code = APM_OTLP_STATUS_OK;
  } else if (error) {
    span->status_message = g_strdup (error);
  }
  if (track) {
    /* the events were kept in order; the span takes them */
    for (guint i = 0; i < track->events->len; i++) {
      ApmOtlpEvent *e = &g_array_index (track->events, ApmOtlpEvent, i);

      apm_otlp_span_add_event (span, e->time_ns ? e->time_ns : span->end_ns,
          e->name ? e->name : "", g_steal_pointer (&e->attrs));
    }
    if (track->dropped_events)
      apm_otlp_attrs_add_int (span->attrs, "gstreamer.job.dropped_events",
          track->dropped_events);
    apm_otlp_track_free (track);
  }
  if (error && g_strcmp0 (status, "failed") == 0) {
    GArray *attrs = apm_otlp_attrs_new ();

    /* the semantic conventions' exception event */
    apm_otlp_attrs_add_string (attrs, "exception.message", error);
    apm_otlp_span_add_event (span, span->end_ns, "exception", attrs);
  }
  g_ptr_array_add (out, span);
  if (json_object_has_member (o, "stages")
      && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "stages")))
    add_stage_spans (span, json_object_get_object_member (o, "stages"), cid,
        out);
  if (item->stage_series)
    add_monitor_spans (item->stage_series, span, pipeline, cid, out);
  if (item->element_series)
    add_element_summaries (item->element_series, span, pipeline, cid, out);
}

GBytes *
apm_otlp_encode_job_spans (GPtrArray * items, guint * n_sent,
    gpointer user_data)
{
  ApmOtlp *otlp = user_data;
  GPtrArray *spans = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_otlp_span_free);
  GBytes *body = NULL;

  for (guint i = 0; i < items->len; i++)
    job_spans (otlp, items->pdata[i], spans);
  *n_sent = spans->len;
  if (spans->len)
    body = apm_otlp_encode_traces (&otlp->resource, spans,
        otlp->config->signal[APM_OTLP_TRACES].encoding);
  g_ptr_array_unref (spans);
  return body;
}
