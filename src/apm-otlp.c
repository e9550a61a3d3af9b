/* gst-apm: OpenTelemetry export (see apm-otlp.h): lifecycle, the
 * resource, the listeners and the per-job events */
#include "apm-otlp-private.h"
#include "apm-json.h"
#include "apm-time.h"
#include "apm-service.h"

#include <string.h>
#include <unistd.h>

static void
add_default_resource (GArray * attrs)
{
  const gchar *have[8] = { NULL };
  guint n = 0;
  gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *exe_name = exe ? g_path_get_basename (exe) :
      g_strdup (g_get_prgname ()? g_get_prgname () : "unknown");

  for (guint i = 0; i < attrs->len && n < G_N_ELEMENTS (have); i++) {
    const gchar *k = g_array_index (attrs, ApmOtlpAttr, i).key;

    if (!strcmp (k, "service.name") || !strcmp (k, "host.name")
        || !strcmp (k, "service.instance.id"))
      have[n++] = k;
  }
  /* the spec's default: unknown_service:<process executable name> */
  if (!g_strv_contains (have, "service.name")) {
    gchar *name = g_strconcat ("unknown_service:", exe_name, NULL);

    apm_otlp_attrs_add_string (attrs, "service.name", name);
    g_free (name);
  }
  if (!g_strv_contains (have, "service.instance.id")) {
    gchar *id = g_uuid_string_random ();

    apm_otlp_attrs_add_string (attrs, "service.instance.id", id);
    g_free (id);
  }
  if (!g_strv_contains (have, "host.name"))
    apm_otlp_attrs_add_string (attrs, "host.name", g_get_host_name ());
  apm_otlp_attrs_add_int (attrs, "process.pid", getpid ());
  apm_otlp_attrs_add_string (attrs, "process.executable.name", exe_name);
  if (exe)
    apm_otlp_attrs_add_string (attrs, "process.executable.path", exe);
  apm_otlp_attrs_add_string (attrs, "telemetry.sdk.name", "gst-apm");
  apm_otlp_attrs_add_string (attrs, "telemetry.sdk.language", "c");
  apm_otlp_attrs_add_string (attrs, "telemetry.sdk.version", APM_VERSION);
  g_free (exe);
  g_free (exe_name);
}

static ApmHealthStatus
otlp_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  ApmOtlp *otlp = user_data;
  GString *text = g_string_new (NULL);
  gboolean ok = TRUE;

  *details = json_object_new ();
  for (guint i = 0; i < APM_OTLP_N_SIGNALS; i++) {
    gchar *line;

    if (!otlp->exporter[i])
      continue;
    ok &= apm_otlp_exporter_healthy (otlp->exporter[i], &line);
    json_object_set_string_member (*details, apm_otlp_signal_name (i),
        otlp->config->signal[i].url);
    g_string_append_printf (text, "%s%s", text->len ? "; " : "", line);
    g_free (line);
  }
  *message = g_string_free (text, FALSE);
  /* a collector down is not the audio's problem: degraded, not unhealthy */
  return ok ? APM_HEALTH_HEALTHY : APM_HEALTH_DEGRADED;
}

static gboolean
on_metric_tick (gpointer data)
{
  ApmOtlp *otlp = data;

  /* the series are up to date after the flush functions (apm-local.h) */
  apm_service_flush (otlp->service);
  apm_otlp_exporter_enqueue (otlp->exporter[APM_OTLP_METRICS],
      apm_otlp_snapshot_metrics (otlp));
  apm_otlp_exporter_kick (otlp->exporter[APM_OTLP_METRICS]);
  return G_SOURCE_CONTINUE;
}

ApmOtlp *
apm_otlp_new (ApmOtlpConfig * config, ApmService * service)
{
  ApmRegistry *registry = apm_service_get_registry (service);
  ApmLog *log = apm_service_get_log (service);
  ApmHealth *health = apm_service_get_health (service);
  static const ApmOtlpEncodeFunc encoders[] = {
    apm_otlp_encode_job_spans, apm_otlp_encode_log_lines,
    apm_otlp_encode_metric_snapshots
  };
  static const GDestroyNotify item_free[] = {
    apm_otlp_trace_item_free, (GDestroyNotify) json_node_unref,
    (GDestroyNotify) g_ptr_array_unref
  };
  ApmOtlp *otlp;

  if (!config)
    return NULL;
  otlp = g_new0 (ApmOtlp, 1);
  otlp->config = config;
  otlp->service = service;
  otlp->registry = registry;
  otlp->jobs = apm_service_get_jobs (service);
  otlp->health = health;
  otlp->resource.attrs = g_array_ref (config->resource);
  add_default_resource (otlp->resource.attrs);
  otlp->resource.scope_name = "gst-apm";
  otlp->resource.scope_version = APM_VERSION;
  otlp->start_ns = (guint64) g_get_real_time () * 1000;
  g_mutex_init (&otlp->lock);
  otlp->tracks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) apm_otlp_track_free);
  g_queue_init (&otlp->track_order);

  for (guint i = 0; i < APM_OTLP_N_SIGNALS; i++)
    if (config->signal[i].url)
      otlp->exporter[i] = apm_otlp_exporter_new (i, &config->signal[i],
          registry, log, encoders[i], item_free[i], otlp);
  if (otlp->exporter[APM_OTLP_METRICS]) {
    otlp->metric_tick = g_timeout_source_new (config->metric_interval_ms);
    g_source_set_callback (otlp->metric_tick, on_metric_tick, otlp, NULL);
    g_source_attach (otlp->metric_tick, g_main_context_get_thread_default ());
  }
  apm_health_add_check (health, "otlp", otlp_check, otlp, NULL, 0);
  {
    JsonObject *ctx = json_object_new ();

    for (guint i = 0; i < APM_OTLP_N_SIGNALS; i++)
      if (config->signal[i].url)
        json_object_set_string_member (ctx, apm_otlp_signal_name (i),
            config->signal[i].url);
    apm_log_write (log, APM_LOG_INFO, "otlp", NULL, ctx,
        "exporting OpenTelemetry (OTLP/HTTP) to the configured collector");
  }
  return otlp;
}

/* --- per-job events, from log lines --- */

void
apm_otlp_track_free (ApmOtlpJobTrack * t)
{
  if (!t)
    return;
  g_free (t->correlation_id);
  g_free (t->pipeline);
  g_array_unref (t->events);
  g_free (t);
}

static void
event_clear (gpointer p)
{
  ApmOtlpEvent *e = p;

  g_free (e->name);
  if (e->attrs)
    g_array_unref (e->attrs);
}

/* called with the lock: the track of @cid, made if @create */
static ApmOtlpJobTrack *
track_locked (ApmOtlp * otlp, const gchar * cid, gboolean create)
{
  ApmOtlpJobTrack *t = g_hash_table_lookup (otlp->tracks, cid);

  if (t || !create)
    return t;
  while (g_hash_table_size (otlp->tracks) >= APM_OTLP_MAX_TRACKED) {
    gchar *old = g_queue_pop_head (&otlp->track_order);

    g_hash_table_remove (otlp->tracks, old);
    g_free (old);
  }
  t = g_new0 (ApmOtlpJobTrack, 1);
  t->correlation_id = g_strdup (cid);
  t->events = g_array_new (FALSE, TRUE, sizeof (ApmOtlpEvent));
  g_array_set_clear_func (t->events, event_clear);
  g_hash_table_insert (otlp->tracks, t->correlation_id, t);
  g_queue_push_tail (&otlp->track_order, g_strdup (cid));
  return t;
}

ApmOtlpJobTrack *
apm_otlp_take_track (ApmOtlp * otlp, const gchar * cid)
{
  ApmOtlpJobTrack *t = NULL;
  GList *l;

  g_mutex_lock (&otlp->lock);
  if (g_hash_table_steal_extended (otlp->tracks, cid, NULL, (gpointer *) & t)) {
    l = g_queue_find_custom (&otlp->track_order, cid, (GCompareFunc) strcmp);
    if (l) {
      g_free (l->data);
      g_queue_delete_link (&otlp->track_order, l);
    }
  }
  g_mutex_unlock (&otlp->lock);
  return t;
}

gboolean
apm_otlp_lookup_span_id (ApmOtlp * otlp, const gchar * cid, guint8 span_id[8])
{
  ApmOtlpJobTrack *t;
  gboolean found = FALSE;

  g_mutex_lock (&otlp->lock);
  t = track_locked (otlp, cid, FALSE);
  if (t) {
    memcpy (span_id, t->span_id, 8);
    found = TRUE;
  }
  g_mutex_unlock (&otlp->lock);
  return found;
}

/* the context's scalar members as attributes */
static GArray *
context_attrs (JsonObject * ctx)
{
  GArray *attrs = apm_otlp_attrs_new ();
  GList *members = ctx ? json_object_get_members (ctx) : NULL;

  for (GList * l = members; l; l = l->next) {
    JsonNode *n = json_object_get_member (ctx, l->data);

    if (!JSON_NODE_HOLDS_VALUE (n))
      continue;
    switch (json_node_get_value_type (n)) {
      case G_TYPE_STRING:
        apm_otlp_attrs_add_string (attrs, l->data, json_node_get_string (n));
        break;
      case G_TYPE_INT64:
        apm_otlp_attrs_add_int (attrs, l->data, json_node_get_int (n));
        break;
      case G_TYPE_DOUBLE:
        apm_otlp_attrs_add_double (attrs, l->data, json_node_get_double (n));
        break;
      case G_TYPE_BOOLEAN:
        apm_otlp_attrs_add_bool (attrs, l->data, json_node_get_boolean (n));
        break;
      default:
        break;
    }
  }
  g_list_free (members);
  return attrs;
}

GArray *
apm_otlp_context_attrs (JsonObject * ctx)
{
  return context_attrs (ctx);
}

/* called with the lock: the active job of @pipeline, or NULL */
static ApmOtlpJobTrack *
track_of_pipeline_locked (ApmOtlp * otlp, const gchar * pipeline)
{
  for (GList * l = otlp->track_order.tail; l; l = l->prev) {
    ApmOtlpJobTrack *t = g_hash_table_lookup (otlp->tracks, l->data);

    if (t && g_strcmp0 (t->pipeline, pipeline) == 0)
      return t;
  }
  return NULL;
}

void
apm_otlp_track_line (ApmOtlp * otlp, JsonObject * line)
{
  const gchar *cid = apm_json_string (line, "correlation_id");
  const gchar *level = apm_json_string (line, "level");
  const gchar *component = apm_json_string (line, "component");
  JsonObject *ctx = json_object_has_member (line, "context") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (line, "context")) ?
      json_object_get_object_member (line, "context") : NULL;
  ApmOtlpJobTrack *t;
  gboolean alert = g_strcmp0 (component, "alerts") == 0;

  if (!cid && !alert)
    return;
  /* debug lines are log records, not events; so are GStreamer's own
   * bridged lines below warning (dozens a state change) */
  if (g_strcmp0 (level, "debug") == 0 || (g_strcmp0 (component,
              "gstreamer") == 0 && (g_strcmp0 (level, "info") == 0)))
    return;
  g_mutex_lock (&otlp->lock);
  if (cid) {
    t = track_locked (otlp, cid, FALSE);
  } else {
    /* an alert names its pipeline in its labels */
    JsonObject *labels = ctx && json_object_has_member (ctx, "labels")
        && JSON_NODE_HOLDS_OBJECT (json_object_get_member (ctx, "labels")) ?
        json_object_get_object_member (ctx, "labels") : NULL;
    const gchar *pipeline = apm_json_string (labels, "pipeline");

    t = pipeline ? track_of_pipeline_locked (otlp, pipeline) : NULL;
  }
  if (t && t->events->len >= APM_OTLP_MAX_EVENTS) {
    t->dropped_events++;
  } else if (t) {
    ApmOtlpEvent e;

    e.time_ns = apm_otlp_time_ns (apm_json_string (line, "timestamp"));
    e.name = g_strdup (apm_json_string (line, "message"));
    e.attrs = context_attrs (ctx);
    apm_otlp_attrs_add_string (e.attrs, "log.level", level);
    if (component)
      apm_otlp_attrs_add_string (e.attrs, "gstreamer.apm.component",
          component);
    g_array_append_val (t->events, e);
  }
  g_mutex_unlock (&otlp->lock);
}

/* --- listeners (any thread) --- */

void
apm_otlp_on_job (ApmOtlp * otlp, JsonNode * job)
{
  JsonObject *o = json_node_get_object (job);
  const gchar *status = apm_json_string (o, "status");
  const gchar *cid = apm_json_string (o, "correlation_id");

  if (!cid)
    return;
  if (g_strcmp0 (status, "running") == 0) {
    guint8 trace_id[16], span_id[8];
    ApmOtlpJobTrack *t;

    if (!apm_otlp_job_ids (o, trace_id, span_id))
      return;
    g_mutex_lock (&otlp->lock);
    t = track_locked (otlp, cid, TRUE);
    memcpy (t->span_id, span_id, 8);
    g_free (t->pipeline);
    t->pipeline = g_strdup (apm_json_string (o, "pipeline"));
    g_mutex_unlock (&otlp->lock);
    return;
  }
  if (otlp->exporter[APM_OTLP_TRACES])
    apm_otlp_exporter_enqueue (otlp->exporter[APM_OTLP_TRACES],
        apm_otlp_trace_item_new (otlp, job));
  else
    apm_otlp_track_free (apm_otlp_take_track (otlp, cid));
}

void
apm_otlp_on_log_line (ApmOtlp * otlp, JsonNode * line)
{
  if (otlp->exporter[APM_OTLP_TRACES])
    apm_otlp_track_line (otlp, json_node_get_object (line));
  if (otlp->exporter[APM_OTLP_LOGS])
    apm_otlp_exporter_enqueue (otlp->exporter[APM_OTLP_LOGS],
        json_node_ref (line));
}

/* --- the end --- */

void
apm_otlp_flush (ApmOtlp * otlp, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  if (!otlp)
    return;
  /* the spans first: a short gst-launch run's trace matters most */
  for (guint i = 0; i < APM_OTLP_N_SIGNALS; i++)
    if (otlp->exporter[i] && i != APM_OTLP_METRICS)
      apm_otlp_exporter_flush (otlp->exporter[i], deadline);
  /* then the metrics as they are at the end, as OpenTelemetry's periodic
   * readers do at shutdown */
  if (otlp->exporter[APM_OTLP_METRICS]) {
    apm_service_flush (otlp->service);
    apm_otlp_exporter_enqueue (otlp->exporter[APM_OTLP_METRICS],
        apm_otlp_snapshot_metrics (otlp));
    apm_otlp_exporter_flush (otlp->exporter[APM_OTLP_METRICS], deadline);
  }
}

void
apm_otlp_free (ApmOtlp * otlp)
{
  if (!otlp)
    return;
  if (otlp->metric_tick) {
    g_source_destroy (otlp->metric_tick);
    g_source_unref (otlp->metric_tick);
  }
  for (guint i = 0; i < APM_OTLP_N_SIGNALS; i++)
    apm_otlp_exporter_free (otlp->exporter[i]);
  g_hash_table_destroy (otlp->tracks);
  g_queue_clear_full (&otlp->track_order, g_free);
  g_mutex_clear (&otlp->lock);
  g_array_unref (otlp->resource.attrs);
  apm_otlp_config_free (otlp->config);
  g_free (otlp);
}

guint64
apm_otlp_time_ns (const gchar * text)
{
  gint64 us = apm_time_parse (text);

  return us > 0 ? (guint64) us * 1000 : 0;
}
