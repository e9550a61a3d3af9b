/* gst-apm: which pipelines the service watches
 *
 * A watch per top-level pipeline, in its qdata: the label its series carry,
 * its health check, and what the tracer's hooks keep of it (state, latency)
 * so that the service thread never holds a reference on it.  The other
 * concerns of a watched pipeline have their own files (see
 * gstapmwatch-private.h).
 */
#include "gstapmwatch-private.h"

#include <string.h>
#include "gstapmstats.h"
#include "gstapmmodel.h"
#include "gstapmreport.h"
#include "apm-recovery.h"

GST_DEBUG_CATEGORY (apm_watch_debug);
#define GST_CAT_DEFAULT apm_watch_debug

#define WATCH_QUARK gst_apm_watch_quark ()

static GMutex watch_lock;
static GList *watches;          /* PipelineWatch refs, under watch_lock */
/* the labels of the watched pipelines that exist, under watch_lock */
static GHashTable *labels_in_use;
/* the tracer's hooks keep each watch's state: the service thread needs no
 * reference on the pipeline (apmonitor alone: it reads it, briefly) */
static gint traced;

/* Called with watch_lock: the watch of the live pipeline labelled @label */
static PipelineWatch *
watch_by_label_locked (const gchar * label)
{
  for (GList * l = watches; l; l = l->next) {
    PipelineWatch *w = l->data;

    if (strcmp (w->label, label) == 0)
      return w;
  }
  return NULL;
}

GQuark
gst_apm_watch_quark (void)
{
  static gsize q;

  if (g_once_init_enter (&q)) {
    GST_DEBUG_CATEGORY_INIT (apm_watch_debug, "apmwatch", 0,
        "apm pipeline watch");
    g_once_init_leave (&q, g_quark_from_static_string ("apm-watch"));
  }
  return (GQuark) q;
}

GstElement *
gst_apm_watch_find_top (GstElement * element)
{
  GstObject *top = gst_object_ref (GST_OBJECT (element)), *parent;

  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  if (top == GST_OBJECT (element) || !GST_IS_BIN (top)) {
    gst_object_unref (top);
    return NULL;
  }
  return GST_ELEMENT (top);
}

static void
watch_clear (PipelineWatch * w)
{
  g_weak_ref_clear (&w->pipeline);
  g_free (w->check_name);
  g_free (w->label);
  g_free (w->last_error);
  g_free (w->job_id);
  g_strfreev (w->sinks);
  g_free (w->stuck_message);
  g_free (w->last_cid);
  g_mutex_clear (&w->lock);
}

void
gst_apm_watch_unref (PipelineWatch * w)
{
  g_atomic_rc_box_release_full (w, (GDestroyNotify) watch_clear);
}

void
gst_apm_watch_set_traced (void)
{
  g_atomic_int_set (&traced, 1);
}

/* The state of @w's pipeline, from the tracer's hooks, else read from it */
static void
watch_state (PipelineWatch * w, GstState * state, GstState * pending)
{
  GstElement *p;

  if (!g_atomic_int_get (&traced) && (p = g_weak_ref_get (&w->pipeline))) {
    GST_OBJECT_LOCK (p);
    g_atomic_int_set (&w->state, GST_STATE (p));
    g_atomic_int_set (&w->pending, GST_STATE_PENDING (p));
    GST_OBJECT_UNLOCK (p);
    gst_object_unref (p);
  }
  *state = g_atomic_int_get (&w->state);
  if (pending)
    *pending = g_atomic_int_get (&w->pending);
}

static ApmHealthStatus
pipeline_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  PipelineWatch *w = user_data;
  GstState state, pending;
  ApmHealthStatus status;
  gchar *error, *stuck, *missing = NULL;
  gdouble stuck_s;

  if (g_atomic_int_get (&w->gone)) {
    *message = g_strdup ("pipeline is gone");
    return APM_HEALTH_DEGRADED;
  }
  watch_state (w, &state, &pending);
  g_mutex_lock (&w->lock);
  error = g_strdup (w->last_error);
  stuck = g_strdup (w->stuck_message);
  stuck_s = w->stuck_s;
  g_mutex_unlock (&w->lock);

  *details = json_object_new ();
  json_object_set_string_member (*details, "pipeline", w->label);
  json_object_set_string_member (*details, "state",
      gst_element_state_get_name (state));
  json_object_set_string_member (*details, "pending_state",
      gst_element_state_get_name (pending));
  json_object_set_double_member (*details, "stalled_seconds",
      w->flow.stalled_s);
  json_object_set_double_member (*details, "stuck_seconds", stuck_s);
  if (error) {
    status = APM_HEALTH_UNHEALTHY;
    *message = g_strdup_printf ("%s: error: %s", w->label, error);
    json_object_set_string_member (*details, "error", error);
  } else if (stuck) {
    status = APM_HEALTH_UNHEALTHY;
    *message = g_strdup (stuck);
  } else if (state == GST_STATE_PLAYING
      && w->flow.stalled_s >= GST_APM_DEFAULT_STALL_TIMEOUT) {
    status = APM_HEALTH_UNHEALTHY;
    missing = gst_apm_stuck_missing_sinks (w);
    *message = g_strdup_printf ("%s is PLAYING but stalled: no buffer "
        "reached a sink for %.0f s%s%s", w->label, w->flow.stalled_s,
        missing ? ": " : "", missing ? missing : "");
  } else if (state == GST_STATE_NULL) {
    status = APM_HEALTH_DEGRADED;
    *message = g_strdup_printf ("%s is stopped (NULL)", w->label);
  } else {
    status = APM_HEALTH_HEALTHY;
    *message = g_strdup_printf ("%s is %s", w->label,
        gst_element_state_get_name (state));
  }
  g_free (error);
  g_free (stuck);
  g_free (missing);
  return status;
}

/* Called with watch_lock: the labels of the watched pipelines, for the
 * host's registry of instances */
static gchar **
watched_labels_locked (void)
{
  GStrvBuilder *b = g_strv_builder_new ();
  gchar **names;

  for (GList * l = g_list_last (watches); l; l = l->prev)
    g_strv_builder_add (b, ((PipelineWatch *) l->data)->label);
  names = g_strv_builder_end (b);
  g_strv_builder_unref (b);
  return names;
}

static void
pipeline_gone (gpointer data, GObject * where_the_object_was)
{
  PipelineWatch *w = data;
  ApmService *service = apm_service_get_default ();
  gchar **names;

  g_atomic_int_set (&w->gone, 1);
  /* gone: nothing to count what it transferred */
  gst_apm_run_end (w, "cancelled", "pipeline disposed while running");
  gst_apm_files_forget (w);
  apm_recovery_forget (w->label);
  /* its series go after the grace period, with those of its pads */
  apm_registry_retire_label (apm_service_get_registry (service), "pipeline",
      w->label);
  apm_health_remove_check (apm_service_get_health (service), w->check_name);
  /* last: the label is free for the next pipeline of that name once
   * nothing of this one holds it (retired series are replaced by new ones),
   * and at once after its check goes, which tests and users can see */
  g_mutex_lock (&watch_lock);
  watches = g_list_remove (watches, w);
  g_hash_table_remove (labels_in_use, w->label);
  names = watched_labels_locked ();
  g_mutex_unlock (&watch_lock);
  apm_service_set_pipeline_names (service, (const gchar * const *) names);
  g_strfreev (names);
  gst_apm_watch_unref (w);      /* the list's */
  gst_apm_watch_unref (w);      /* this notify's */
}

/* Called with watch_lock: @name if no watched pipeline that exists has it
 * as its label, else the first free of "name#2", "name#3"... */
static gchar *
choose_label_locked (const gchar * name)
{
  gchar *label;

  if (!labels_in_use)
    labels_in_use = g_hash_table_new (g_str_hash, g_str_equal);
  if (!g_hash_table_contains (labels_in_use, name))
    return g_strdup (name);
  /* ends: at most one candidate per watched pipeline is taken */
  for (guint n = 2;; n++) {
    label = g_strdup_printf ("%s#%u", name, n);
    if (!g_hash_table_contains (labels_in_use, label))
      return label;
    g_free (label);
  }
}

gchar *
gst_apm_watch_pipeline_label (GstElement * pipeline)
{
  PipelineWatch *w;

  g_return_val_if_fail (GST_IS_ELEMENT (pipeline), NULL);
  /* the watch and its label live as long as the pipeline's qdata, that is
   * as long as the caller's ref: no lock */
  w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);
  return w ? g_strdup (w->label) : gst_object_get_name (GST_OBJECT (pipeline));
}

gchar *
gst_apm_watch_peek_label (GstElement * pipeline)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);

  return w ? g_strdup (w->label) : NULL;
}

void
gst_apm_watch_pipeline (GstElement * pipeline, gboolean post)
{
  ApmService *service;
  PipelineWatch *w;
  GPtrArray *problems = NULL;
  gchar *url, *name, **names;

  post = post || gst_apm_watch_bus_messages ();
  name = gst_object_get_name (GST_OBJECT (pipeline));
  g_mutex_lock (&watch_lock);
  w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);
  if (w) {
    g_mutex_unlock (&watch_lock);
    g_free (name);
    /* watched by the tracer, now asked by an apmonitor that posts */
    if (post) {
      url = apm_service_get_url (apm_service_get_default ());
      gst_apm_announce_service (pipeline, w, url);
      g_free (url);
    }
    return;
  }
  w = g_atomic_rc_box_new0 (PipelineWatch);    /* the qdata's */
  g_weak_ref_init (&w->pipeline, pipeline);
  g_mutex_init (&w->lock);
  w->label = choose_label_locked (name);
  g_hash_table_add (labels_in_use, w->label);
  w->check_name = g_strdup_printf ("pipeline:%s", w->label);
  w->run_start_ts = GST_CLOCK_TIME_NONE;
  w->run_start_mono = w->run_end_mono = GST_CLOCK_TIME_NONE;
  w->files_state = GST_STATE_NULL;
  w->state = GST_STATE (pipeline);      /* hooks keep it from here on */
  w->pending = GST_STATE_VOID_PENDING;
  g_object_set_qdata_full (G_OBJECT (pipeline), WATCH_QUARK, w,
      (GDestroyNotify) gst_apm_watch_unref);
  g_mutex_unlock (&watch_lock);

  service = apm_service_get_default ();
  gst_apm_model_install (service);
  gst_apm_report_install (service);
  gst_apm_announce_alerts (service);
  gst_apm_files_ensure (service);
  url = gst_apm_announce (&problems);

  /* the check holds only a weak ref; it goes with the pipeline */
  apm_health_add_check (apm_service_get_health (service), w->check_name,
      pipeline_check, g_atomic_rc_box_acquire (w),
      (GDestroyNotify) gst_apm_watch_unref, 1);
  g_mutex_lock (&watch_lock);
  watches = g_list_prepend (watches, g_atomic_rc_box_acquire (w));
  names = watched_labels_locked ();
  g_mutex_unlock (&watch_lock);
  apm_service_set_pipeline_names (service, (const gchar * const *) names);
  g_strfreev (names);
  g_object_weak_ref (G_OBJECT (pipeline), pipeline_gone,
      g_atomic_rc_box_acquire (w));

  gst_apm_announce_post (pipeline, w, post, problems, url);
  GST_DEBUG_OBJECT (pipeline, "watching as %s, service at %s", w->label,
      url);
  g_free (url);
  g_free (name);
}

PipelineWatch *
gst_apm_watch_of (GstElement * pipeline)
{
  return g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);
}

/* By the label its stats carry when it has carried buffers, so that
 * messages at stream rate (QoS) reference no pipeline. */
PipelineWatch *
gst_apm_watch_of_element (GstElement * element, gboolean is_top)
{
  GstApmElementStats *es = gst_apm_element_stats_peek (element);
  PipelineWatch *w = NULL;
  GstElement *top;

  if (is_top || !es) {
    top = is_top ? gst_object_ref (element) : gst_apm_watch_find_top
        (element);
    if (top && (w = gst_apm_watch_of (top)))
      g_atomic_rc_box_acquire (w);
    if (top)
      gst_object_unref (top);
    return w;
  }
  return gst_apm_watch_ref_by_label (es->pipeline);
}

PipelineWatch *
gst_apm_watch_ref_by_label (const gchar * label)
{
  PipelineWatch *w;

  g_mutex_lock (&watch_lock);
  if ((w = watch_by_label_locked (label)))
    g_atomic_rc_box_acquire (w);
  g_mutex_unlock (&watch_lock);
  return w;
}

void
gst_apm_watch_pipeline_state (GstElement * pipeline, GstState state,
    GstState pending)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);

  if (!w)
    return;
  g_atomic_int_set (&w->state, state);
  g_atomic_int_set (&w->pending, pending);
  gst_apm_stuck_progress (w);
}

void
gst_apm_watch_pipeline_latency (GstElement * pipeline, GstQuery * query)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);
  gboolean live;
  GstClockTime min, max;

  if (!w)
    return;
  gst_query_parse_latency (query, &live, &min, &max);
  g_mutex_lock (&w->lock);
  w->latency_known = TRUE;
  w->live = live;
  w->latency_min = min;
  w->latency_max = max;
  g_mutex_unlock (&w->lock);
}

void
gst_apm_watch_foreach_info (GstApmWatchInfoFunc func, gpointer user_data)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_apm_watch_unref);

  g_mutex_lock (&watch_lock);
  for (GList * l = watches; l; l = l->next) {
    PipelineWatch *w = l->data;

    if (g_atomic_int_get (&w->gone))
      continue;
    g_atomic_rc_box_acquire (w);
    g_ptr_array_add (list, w);
  }
  g_mutex_unlock (&watch_lock);
  for (guint i = 0; i < list->len; i++) {
    PipelineWatch *w = g_ptr_array_index (list, i);
    GstApmWatchInfo info = { w->label, GST_STATE_NULL };

    watch_state (w, &info.state, &info.pending);
    info.stuck_s = gst_apm_stuck_update (w, info.state, info.pending);
    g_mutex_lock (&w->lock);
    info.latency_known = w->latency_known;
    info.live = w->live;
    info.latency_min = w->latency_min;
    info.latency_max = w->latency_max;
    g_mutex_unlock (&w->lock);
    info.flow = &w->flow;
    func (&info, user_data);
  }
  g_ptr_array_unref (list);
}

void
gst_apm_watch_foreach_pipeline (GFunc func, gpointer user_data)
{
  GPtrArray *live = g_ptr_array_new_with_free_func (gst_object_unref);

  g_mutex_lock (&watch_lock);
  for (GList * l = watches; l; l = l->next) {
    PipelineWatch *w = l->data;
    GstElement *p = g_weak_ref_get (&w->pipeline);

    if (p)
      g_ptr_array_add (live, p);
  }
  g_mutex_unlock (&watch_lock);
  for (guint i = 0; i < live->len; i++)
    func (g_ptr_array_index (live, i), user_data);
  g_ptr_array_unref (live);
}
