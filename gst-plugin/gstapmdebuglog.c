/* gst-apm: GStreamer's debug log as structured JSON log lines
 *
 * The log function runs on any thread, often with GStreamer locks held
 * (object locks, stream locks).  So it takes no lock but the queue's own (a
 * leaf: nothing is called while it is held), never calls back into the
 * logged object beyond what GStreamer's own log function reads (names and
 * parents, unlocked), and only queues: the service thread turns the queue
 * into log lines.  A message emitted while its pipeline's run plays carries
 * that run's correlation id, taken when it is emitted (a short run is over
 * before the service thread writes its lines); others are looked up there,
 * among the active jobs.  What is still queued at the end is written, not
 * dropped (before the service's exit flush).  The queue is
 * bounded; overflow is counted.  A thread-local flag keeps messages logged
 * while the bridge itself works (and the monitor's own categories, apm*)
 * out, so nothing feeds back.
 */
#include "gstapmdebuglog.h"
#include "gstapmwatch.h"

#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "apm-service.h"

/* messages waiting for the service thread; past this they are dropped */
#define QUEUE_MAX 1024
/* bins nest: stop climbing after this many parents */
#define MAX_DEPTH 64
/* at most one "dropped" line per this many microseconds */
#define DROP_REPORT_US G_USEC_PER_SEC

typedef struct
{
  GPatternSpec *pattern;
  GstDebugLevel level;
} Rule;

typedef struct
{
  GstDebugLevel level;
  gchar *category;
  gchar *object;                /* nullable */
  gchar *pipeline;              /* nullable: top-level bin of the object */
  gchar *source;                /* "file.c:123" */
  gchar *function;
  gchar *thread;
  gchar *message;
  gchar *correlation_id;        /* nullable: of the run playing then */
} Pending;

static struct
{
  GMutex lock;                  /* the queue only */
  GQueue queue;                 /* Pending, under lock */
  gboolean drain_scheduled;     /* under lock */
  gint n_queued;                /* atomic: checked before formatting */
  gint dropped;                 /* atomic */
  guint unreported;             /* drops not yet logged, service thread */
  gint64 last_report_us;        /* service thread */
  Rule *rules;                  /* fixed once installed */
  guint n_rules;
  ApmService *service;          /* under lock; NULL once stopped */
  GHashTable *runs;             /* pipeline label -> correlation id of its
                                 * run playing now, under lock */
  ApmSeries *bridged, *dropped_total;
  pid_t pid;                    /* a forked child leaves the bridge idle */
  gboolean installed;
} bridge;

/* set while this thread is in the bridge: what it logs then is skipped */
static __thread gboolean in_bridge;

static void
pending_free (Pending * p)
{
  g_free (p->category);
  g_free (p->object);
  g_free (p->pipeline);
  g_free (p->source);
  g_free (p->function);
  g_free (p->thread);
  g_free (p->message);
  g_free (p->correlation_id);
  g_free (p);
}

/* the last rule matching @category decides, as in GST_DEBUG */
static gboolean
wanted (GstDebugCategory * category, GstDebugLevel level)
{
  const gchar *name = gst_debug_category_get_name (category);
  gsize len;
  gint max = -1;

  if (!name || g_str_has_prefix (name, "apm"))
    return FALSE;
  len = strlen (name);
  for (guint i = 0; i < bridge.n_rules; i++)
    if (g_pattern_spec_match (bridge.rules[i].pattern, len, name, NULL))
      max = bridge.rules[i].level;
  return (gint) level <= max;
}

/* The name of the top-level bin holding @object, read without locks the
 * way GStreamer's own log prints pad names: the object is alive while it
 * logs, and taking its lock here could deadlock. */
static gchar *
pipeline_of (GObject * object)
{
  GstObject *o, *parent;

  if (!object || !GST_IS_OBJECT (object))
    return NULL;
  o = GST_OBJECT_CAST (object);
  for (guint depth = 0; depth < MAX_DEPTH
      && (parent = GST_OBJECT_PARENT (o)); depth++)
    o = parent;
  if (GST_IS_PIPELINE (o)) {
    gchar *label = gst_apm_watch_peek_label (GST_ELEMENT_CAST (o));

    if (label)
      return label;
  }
  return GST_IS_BIN (o) && GST_OBJECT_NAME (o) ?
      g_strdup (GST_OBJECT_NAME (o)) : NULL;
}

static gboolean drain (gpointer unused);

/* any thread */
static void
schedule_drain (ApmService * service)
{
  if (service && apm_service_is_running (service))
    apm_service_invoke (service, drain, NULL, NULL);
  else {
    /* no service thread yet: its first tick drains */
    g_mutex_lock (&bridge.lock);
    bridge.drain_scheduled = FALSE;
    g_mutex_unlock (&bridge.lock);
  }
}

static void
bridge_log (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  Pending *p;
  const gchar *text, *base;
  gchar thread[17] = "";
  ApmService *service = NULL;
  gboolean schedule = FALSE;

  if (in_bridge || !wanted (category, level) || bridge.pid != getpid ())
    return;
  if (g_atomic_int_get (&bridge.n_queued) >= QUEUE_MAX) {
    g_atomic_int_inc (&bridge.dropped);
    return;
  }
  in_bridge = TRUE;
  text = gst_debug_message_get (message);
  base = file ? strrchr (file, '/') : NULL;
  prctl (PR_GET_NAME, thread, 0, 0, 0);
  p = g_new0 (Pending, 1);
  p->level = level;
  p->category = g_strdup (gst_debug_category_get_name (category));
  p->object = g_strdup (gst_debug_message_get_id (message));
  p->pipeline = pipeline_of (object);
  p->source = g_strdup_printf ("%s:%d", base ? base + 1 : file ? file : "?",
      line);
  p->function = g_strdup (function);
  p->thread = g_strdup (thread);
  p->message = g_strdup (text ? text : "");

  g_mutex_lock (&bridge.lock);
  if (bridge.service) {
    if (p->pipeline && bridge.runs)
      p->correlation_id = g_strdup (g_hash_table_lookup (bridge.runs,
              p->pipeline));
    g_queue_push_tail (&bridge.queue, p);
    g_atomic_int_inc (&bridge.n_queued);
    p = NULL;
    if (!bridge.drain_scheduled) {
      bridge.drain_scheduled = schedule = TRUE;
      service = bridge.service;
    }
  }
  g_mutex_unlock (&bridge.lock);
  if (p)
    pending_free (p);
  if (schedule)
    schedule_drain (service);
  in_bridge = FALSE;
}

/* pipeline name -> correlation id of an application's active job naming
 * it (the tracer's runs, "pipeline#N", are not: their messages got their
 * id when emitted, and one emitted outside a run belongs to none) */
static GHashTable *
active_correlation_ids (ApmService * service)
{
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  JsonNode *root = apm_jobs_to_json (apm_service_get_jobs (service), 1);
  JsonArray *active = json_object_get_array_member (json_node_get_object
      (root), "active");

  for (guint i = 0; active && i < json_array_get_length (active); i++) {
    JsonObject *job = json_array_get_object_element (active, i);
    const gchar *pipeline, *cid, *job_id;
    gboolean run;

    if (!json_object_has_member (job, "pipeline")
        || !json_object_has_member (job, "correlation_id"))
      continue;
    pipeline = json_object_get_string_member (job, "pipeline");
    cid = json_object_get_string_member (job, "correlation_id");
    job_id = json_object_get_string_member_with_default (job, "job_id", "");
    run = pipeline && g_str_has_prefix (job_id, pipeline)
        && job_id[strlen (pipeline)] == '#';
    if (pipeline && cid && !run && !g_hash_table_contains (ids, pipeline))
      g_hash_table_insert (ids, g_strdup (pipeline), g_strdup (cid));
  }
  json_node_unref (root);
  return ids;
}

static ApmLogLevel
map_level (GstDebugLevel level)
{
  switch (level) {
    case GST_LEVEL_ERROR:
      return APM_LOG_ERROR;
    case GST_LEVEL_WARNING:
    case GST_LEVEL_FIXME:
      return APM_LOG_WARNING;
    case GST_LEVEL_INFO:
      return APM_LOG_INFO;
    default:
      return APM_LOG_DEBUG;
  }
}

static void
write_line (ApmLog * log, Pending * p, GHashTable * cids)
{
  JsonObject *ctx = json_object_new ();
  gchar *level = g_strstrip (g_strdup (gst_debug_level_get_name (p->level)));
  const gchar *cid = p->correlation_id ? p->correlation_id :
      p->pipeline && cids ? g_hash_table_lookup (cids, p->pipeline) : NULL;

  json_object_set_string_member (ctx, "category", p->category);
  json_object_set_string_member (ctx, "gst_level", level);
  if (p->object)
    json_object_set_string_member (ctx, "object", p->object);
  if (p->pipeline)
    json_object_set_string_member (ctx, "pipeline", p->pipeline);
  json_object_set_string_member (ctx, "source", p->source);
  if (p->function)
    json_object_set_string_member (ctx, "function", p->function);
  if (*p->thread)
    json_object_set_string_member (ctx, "thread", p->thread);
  apm_log_write (log, map_level (p->level), "gstreamer", cid, ctx, "%s",
      p->message);
  g_free (level);
}

/* @batch's messages as log lines; those of no run get the correlation id
 * of a job active in their pipeline now */
static void
write_batch (ApmService * service, GQueue * batch)
{
  ApmLog *log = apm_service_get_log (service);
  GHashTable *cids = NULL;

  for (GList * l = batch->head; l; l = l->next) {
    Pending *p = l->data;

    if (p->pipeline && !p->correlation_id) {
      cids = active_correlation_ids (service);
      break;
    }
  }
  for (GList * l = batch->head; l; l = l->next)
    write_line (log, l->data, cids);
  if (bridge.bridged)
    apm_counter_add_int (bridge.bridged, batch->length);
  if (cids)
    g_hash_table_unref (cids);
}

/* service thread: the queue becomes log lines */
static gboolean
drain (gpointer unused)
{
  GQueue batch = G_QUEUE_INIT;
  ApmService *service;
  guint dropped;
  gint64 now;

  in_bridge = TRUE;
  g_mutex_lock (&bridge.lock);
  batch = bridge.queue;
  g_queue_init (&bridge.queue);
  g_atomic_int_set (&bridge.n_queued, 0);
  bridge.drain_scheduled = FALSE;
  service = bridge.service;
  g_mutex_unlock (&bridge.lock);
  dropped = g_atomic_int_exchange (&bridge.dropped, 0);

  if (service) {
    ApmLog *log = apm_service_get_log (service);

    write_batch (service, &batch);
    if (dropped && bridge.dropped_total)
      apm_counter_add_int (bridge.dropped_total, dropped);
    bridge.unreported += dropped;
    now = g_get_monotonic_time ();
    if (bridge.unreported && now - bridge.last_report_us >= DROP_REPORT_US) {
      JsonObject *ctx = json_object_new ();

      json_object_set_int_member (ctx, "dropped", bridge.unreported);
      json_object_set_int_member (ctx, "queue_size", QUEUE_MAX);
      apm_log_write (log, APM_LOG_WARNING, "gstreamer", NULL, ctx,
          "%u GStreamer debug messages dropped: more than %u were waiting "
          "(narrow gst-debug)", bridge.unreported, QUEUE_MAX);
      bridge.unreported = 0;
      bridge.last_report_us = now;
    }
  }
  g_queue_clear_full (&batch, (GDestroyNotify) pending_free);
  in_bridge = FALSE;
  return G_SOURCE_REMOVE;
}

/* once a second on the service thread, for messages queued before it ran */
static void
collect (ApmService * service, gpointer user_data)
{
  drain (NULL);
}

static ApmSeries *
counter (ApmRegistry * reg, const gchar * name, const gchar * help)
{
  ApmFamily *f = apm_registry_family (reg, name, APM_METRIC_COUNTER, help,
      NULL, NULL, 0);

  return f ? apm_family_series (f, NULL) : NULL;
}

gboolean
gst_apm_debug_log_start (const gchar * spec)
{
  gchar **entries;
  ApmService *service;
  ApmRegistry *reg;
  const gchar *env = g_getenv ("GST_DEBUG");

  g_return_val_if_fail (spec != NULL, FALSE);
  if (bridge.installed)
    return FALSE;
  bridge.installed = TRUE;
  bridge.pid = getpid ();

  entries = g_strsplit (spec, ",", -1);
  bridge.rules = g_new0 (Rule, g_strv_length (entries));
  for (guint i = 0; entries[i]; i++) {
    gchar *colon = strrchr (entries[i], ':');

    if (!colon)
      continue;                 /* the parser let none through */
    *colon = '\0';
    bridge.rules[bridge.n_rules].pattern = g_pattern_spec_new (entries[i]);
    bridge.rules[bridge.n_rules].level = atoi (colon + 1);
    bridge.n_rules++;
  }
  g_strfreev (entries);

  service = apm_service_get_default ();
  reg = apm_service_get_registry (service);
  bridge.bridged = counter (reg, "apm_gst_debug_messages_total",
      "GStreamer debug messages passed to the structured log (gst-debug); "
      "lines below log-level are then dropped");
  bridge.dropped_total = counter (reg, "apm_gst_debug_messages_dropped_total",
      "GStreamer debug messages dropped because too many were waiting for "
      "the service thread");
  g_mutex_lock (&bridge.lock);
  bridge.service = service;
  g_mutex_unlock (&bridge.lock);
  apm_service_add_collector (service, collect, NULL);

  gst_debug_set_threshold_from_string (spec, FALSE);
  if (!env || !*env)
    gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (bridge_log, NULL, NULL);
  return TRUE;
}

void
gst_apm_debug_log_stop (void)
{
  GQueue left;
  ApmService *service;

  if (!bridge.installed || bridge.pid != getpid ())
    return;
  gst_debug_remove_log_function (bridge_log);
  g_mutex_lock (&bridge.lock);
  service = bridge.service;
  bridge.service = NULL;
  left = bridge.queue;
  g_queue_init (&bridge.queue);
  g_atomic_int_set (&bridge.n_queued, 0);
  g_clear_pointer (&bridge.runs, g_hash_table_unref);
  g_mutex_unlock (&bridge.lock);
  /* a short run's lines may still wait for the service thread: written
   * here, they reach the log and the OTLP export's flush at exit */
  if (service) {
    in_bridge = TRUE;
    write_batch (service, &left);
    in_bridge = FALSE;
  }
  g_queue_clear_full (&left, (GDestroyNotify) pending_free);
  {
    guint n = bridge.n_rules;

    bridge.n_rules = 0;
    for (guint i = 0; i < n; i++)
      g_pattern_spec_free (bridge.rules[i].pattern);
    g_clear_pointer (&bridge.rules, g_free);
  }
  g_clear_pointer (&bridge.bridged, apm_series_unref);
  g_clear_pointer (&bridge.dropped_total, apm_series_unref);
}

void
gst_apm_debug_log_set_run (const gchar * pipeline, const gchar * correlation_id)
{
  g_return_if_fail (pipeline != NULL && correlation_id != NULL);

  g_mutex_lock (&bridge.lock);
  if (bridge.service && bridge.pid == getpid ()) {
    if (!bridge.runs)
      bridge.runs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
          g_free);
    g_hash_table_insert (bridge.runs, g_strdup (pipeline),
        g_strdup (correlation_id));
  }
  g_mutex_unlock (&bridge.lock);
}

void
gst_apm_debug_log_end_run (const gchar * pipeline,
    const gchar * correlation_id)
{
  g_return_if_fail (pipeline != NULL);

  g_mutex_lock (&bridge.lock);
  if (bridge.runs && (!correlation_id
          || !g_strcmp0 (g_hash_table_lookup (bridge.runs, pipeline),
              correlation_id)))
    g_hash_table_remove (bridge.runs, pipeline);
  g_mutex_unlock (&bridge.lock);
}
