/* gst-apm: which pipelines the service watches, and telling the user */
#include "gstapmwatch.h"

#include <math.h>
#include <string.h>
#include "gstapmstats.h"
#include "gstapmmodel.h"
#include "apm-fsspace.h"

GST_DEBUG_CATEGORY_STATIC (apm_watch_debug);
#define GST_CAT_DEFAULT apm_watch_debug

#define WATCH_QUARK watch_quark ()

/* in a g_atomic_rc_box: held by the pipeline's qdata, its health check,
 * the list and the weak-ref notify, and briefly by readers */
typedef struct
{
  GWeakRef pipeline;
  gchar *label;                 /* gst_apm_watch_pipeline_label(), fixed */
  gchar *check_name;
  GMutex lock;
  gchar *last_error;            /* under lock */
  gchar *job_id;                /* the active run, under lock */
  guint n_runs;
  gdouble run_start[3];         /* media, bytes read, bytes written */
  GstClockTime run_start_ts;    /* tracer hook time */
  GstApmFlow flow;              /* stall detection (gstapmaggregate.c) */
  /* local files, under lock */
  GstState files_state;         /* when last scanned; NULL: none known */
  gboolean service_posted;      /* "apm-service" is on its bus, watch_lock */
  /* what the service thread reads instead of the pipeline, so that it never
   * holds a reference on it: kept by the tracer's hooks */
  gint state, pending;          /* GstState, atomic: its STATE_CHANGED */
  gint gone;                    /* atomic: the pipeline was freed */
  gboolean latency_known, live; /* its last latency query, under lock */
  GstClockTime latency_min, latency_max;
} PipelineWatch;

static GMutex watch_lock;
static GList *watches;          /* PipelineWatch refs, under watch_lock */
/* the labels of the watched pipelines that exist, under watch_lock */
static GHashTable *labels_in_use;
static GPtrArray *pending_problems;
static gboolean announced;
/* the tracer's messages on the pipelines' buses (apm-service, warnings,
 * alerts): off unless the bus-messages param or configuration asks, so an
 * application sees no message it did not ask for.  -1: not configured */
static gint bus_messages = -1;
/* the tracer's hooks keep each watch's state: the service thread needs no
 * reference on the pipeline (apmonitor alone: it reads it, briefly) */
static gint traced;
/* the filesystems of the pipelines' files, for the service that has them */
static ApmFsSpace *fsspace;     /* under watch_lock */
static ApmService *fsspace_service;

static void alert_to_bus (const gchar * event, JsonNode * alert,
    gpointer user_data);
static void watch_state (PipelineWatch * w, GstState * state,
    GstState * pending);

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

static GQuark
watch_quark (void)
{
  static gsize q;

  if (g_once_init_enter (&q)) {
    GST_DEBUG_CATEGORY_INIT (apm_watch_debug, "apmwatch", 0,
        "apm pipeline watch");
    g_once_init_leave (&q, g_quark_from_static_string ("apm-watch"));
  }
  return (GQuark) q;
}

void
gst_apm_watch_configure (const ApmServiceConfig * config,
    GPtrArray * problems)
{
  gchar *ignored = NULL;

  (void) WATCH_QUARK;
  if (config->bus_messages >= 0)
    g_atomic_int_compare_and_exchange (&bus_messages, -1,
        config->bus_messages);
  if (!apm_service_configure (apm_service_get_default (), config, &ignored)) {
    GST_INFO ("%s", ignored);
    g_free (ignored);
  }
  if (!problems || problems->len == 0)
    return;
  g_mutex_lock (&watch_lock);
  if (!pending_problems)
    pending_problems = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < problems->len; i++) {
    GST_WARNING ("%s", (gchar *) g_ptr_array_index (problems, i));
    g_ptr_array_add (pending_problems,
        g_strdup (g_ptr_array_index (problems, i)));
  }
  g_mutex_unlock (&watch_lock);
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
  g_mutex_clear (&w->lock);
}

static void
watch_unref (PipelineWatch * w)
{
  g_atomic_rc_box_release_full (w, (GDestroyNotify) watch_clear);
}

/* --- the local files a pipeline reads and writes (free-space checks) --- */

static void
set_files (PipelineWatch * w, const gchar * const *paths)
{
  ApmFsSpace *space;

  g_mutex_lock (&watch_lock);
  space = fsspace;
  g_mutex_unlock (&watch_lock);
  if (space)
    apm_fsspace_set_paths (space, w->label, paths);
}

/* The file named by @element's "location" if it is a local one (a path or
 * a file:// URI; URLs such as souphttpsrc's are not), or NULL. */
static gchar *
local_location (GstElement * element)
{
  GParamSpec *ps = g_object_class_find_property (G_OBJECT_GET_CLASS
      (element), "location");
  gchar *location = NULL, *file = NULL;
  const gchar *scheme;

  if (!ps || ps->value_type != G_TYPE_STRING
      || !(ps->flags & G_PARAM_READABLE))
    return NULL;
  g_object_get (element, "location", &location, NULL);
  if (!location || !*location) {
    g_free (location);
    return NULL;
  }
  scheme = g_uri_peek_scheme (location);
  if (!scheme)
    file = g_steal_pointer (&location);
  else if (strcmp (scheme, "file") == 0)
    file = g_filename_from_uri (location, NULL, NULL);
  g_free (location);
  return file;
}

/* Every local file of the elements of @pipeline, inside bins too (service
 * thread: properties are read, never on a streaming thread). */
static gchar **
local_files (GstElement * pipeline)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (pipeline));
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  GValue v = G_VALUE_INIT;
  gboolean done = FALSE;
  gchar *file;

  while (!done) {
    switch (gst_iterator_next (it, &v)) {
      case GST_ITERATOR_OK:
        if ((file = local_location (g_value_get_object (&v))))
          g_ptr_array_add (files, file);
        g_value_reset (&v);
        break;
      case GST_ITERATOR_RESYNC:
        g_ptr_array_set_size (files, 0);
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  g_ptr_array_add (files, NULL);
  return (gchar **) g_ptr_array_free (files, FALSE);
}

/* Scans @pipeline for its files once it is READY or PAUSED and forgets
 * them at NULL.  In the thread that changes the state, which holds a
 * reference and no object lock: the service thread never takes one. */
static void
sync_files (PipelineWatch * w, GstElement * pipeline, GstState state)
{
  gboolean clear = FALSE, scan = FALSE;

  g_mutex_lock (&w->lock);
  if (state == GST_STATE_NULL) {
    clear = w->files_state != GST_STATE_NULL;
    w->files_state = GST_STATE_NULL;
  } else {
    /* locations are final at PAUSED: filesink opens its file then */
    scan = TRUE;
    w->files_state = state;
  }
  g_mutex_unlock (&w->lock);
  /* element properties are read without the watch's lock held */
  if (clear)
    set_files (w, NULL);
  if (scan) {
    gchar **files = local_files (pipeline);

    GST_DEBUG_OBJECT (pipeline, "%u local files", g_strv_length (files));
    set_files (w, (const gchar * const *) files);
    g_strfreev (files);
  }
}

void
gst_apm_watch_scan_files (GstElement * pipeline)
{
  PipelineWatch *w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);
  GstState state;

  if (!w)
    return;
  GST_OBJECT_LOCK (pipeline);
  state = GST_STATE (pipeline);
  GST_OBJECT_UNLOCK (pipeline);
  sync_files (w, pipeline, MAX (state, GST_STATE_READY));
}

/* Called with watch_lock: the filesystem checks of @service's pipelines. */
static void
ensure_fsspace_locked (ApmService * service)
{
  if (fsspace_service == service)
    return;
  /* a new service (only after a shutdown): the old one's is gone with its
   * health checks and registry */
  fsspace_service = service;
  fsspace = apm_fsspace_new (apm_service_get_health (service),
      apm_service_get_registry (service));
}

static ApmHealthStatus
pipeline_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  PipelineWatch *w = user_data;
  GstState state, pending;
  ApmHealthStatus status;
  gchar *error;

  if (g_atomic_int_get (&w->gone)) {
    *message = g_strdup ("pipeline is gone");
    return APM_HEALTH_DEGRADED;
  }
  watch_state (w, &state, &pending);
  g_mutex_lock (&w->lock);
  error = g_strdup (w->last_error);
  g_mutex_unlock (&w->lock);

  *details = json_object_new ();
  json_object_set_string_member (*details, "pipeline", w->label);
  json_object_set_string_member (*details, "state",
      gst_element_state_get_name (state));
  json_object_set_string_member (*details, "pending_state",
      gst_element_state_get_name (pending));
  json_object_set_double_member (*details, "stalled_seconds", w->flow.stalled_s);
  if (error) {
    status = APM_HEALTH_UNHEALTHY;
    *message = g_strdup_printf ("%s: error: %s", w->label, error);
    json_object_set_string_member (*details, "error", error);
  } else if (state == GST_STATE_PLAYING
      && w->flow.stalled_s >= GST_APM_DEFAULT_STALL_TIMEOUT) {
    status = APM_HEALTH_UNHEALTHY;
    *message = g_strdup_printf ("%s is PLAYING but stalled: no buffer "
        "reached a sink for %.0f s", w->label, w->flow.stalled_s);
  } else if (state == GST_STATE_NULL) {
    status = APM_HEALTH_DEGRADED;
    *message = g_strdup_printf ("%s is stopped (NULL)", w->label);
  } else {
    status = APM_HEALTH_HEALTHY;
    *message = g_strdup_printf ("%s is %s", w->label,
        gst_element_state_get_name (state));
  }
  g_free (error);
  return status;
}

static void
pipeline_gone (gpointer data, GObject * where_the_object_was)
{
  PipelineWatch *w = data;
  ApmService *service = apm_service_get_default ();
  gchar *job_id;

  g_atomic_int_set (&w->gone, 1);
  g_mutex_lock (&w->lock);
  job_id = w->job_id;
  w->job_id = NULL;
  g_mutex_unlock (&w->lock);
  if (job_id) {
    apm_jobs_complete (apm_service_get_jobs (service), job_id, "cancelled",
        "pipeline disposed while running");
    g_free (job_id);
  }
  set_files (w, NULL);
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
  g_mutex_unlock (&watch_lock);
  watch_unref (w);              /* the list's */
  watch_unref (w);              /* this notify's */
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
  PipelineWatch *w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);

  return w ? g_strdup (w->label) : NULL;
}

/* Reports pending configuration problems and the URL, once per process. */
static gchar *
announce (GstElement * pipeline, GPtrArray ** problems_out)
{
  ApmService *service = apm_service_get_default ();
  GError *error = NULL;
  GPtrArray *problems;
  gchar *url;

  g_mutex_lock (&watch_lock);
  problems = pending_problems;
  pending_problems = NULL;
  g_mutex_unlock (&watch_lock);
  if (!problems)
    problems = g_ptr_array_new_with_free_func (g_free);

  if (!apm_service_ensure_started (service, &error)) {
    g_mutex_lock (&watch_lock);
    if (!announced)
      g_ptr_array_add (problems, g_strdup_printf ("HTTP service not "
              "started: %s; monitoring goes on without it (set "
              "GST_TRACERS=\"apm(port=0)\" to pick a free port)",
              error->message));
    g_mutex_unlock (&watch_lock);
    g_clear_error (&error);
  }
  url = apm_service_get_url (service);

  g_mutex_lock (&watch_lock);
  if (!announced) {
    announced = TRUE;
    for (guint i = 0; i < problems->len; i++) {
      g_printerr ("apm: warning: %s\n",
          (gchar *) g_ptr_array_index (problems, i));
      apm_log_write (apm_service_get_log (service), APM_LOG_WARNING, "config",
          NULL, NULL, "%s", (gchar *) g_ptr_array_index (problems, i));
    }
    if (url) {
      GST_INFO ("serving %s", url);
      if (!apm_service_is_quiet (service))
        g_printerr ("apm: serving %s (metrics at %s/metrics)\n", url, url);
    }
  }
  g_mutex_unlock (&watch_lock);
  *problems_out = problems;
  return url;
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

gboolean
gst_apm_watch_bus_messages (void)
{
  return g_atomic_int_get (&bus_messages) > 0;
}

/* "apm-service" with the URL, once per pipeline */
static void
post_service (GstElement * pipeline, PipelineWatch * w, const gchar * url)
{
  GstStructure *s;
  gboolean post;

  g_mutex_lock (&watch_lock);
  post = !w->service_posted;
  w->service_posted = TRUE;
  g_mutex_unlock (&watch_lock);
  if (!post)
    return;
  s = gst_structure_new ("apm-service", "url", G_TYPE_STRING, url,
      "port", G_TYPE_UINT, apm_service_get_port (apm_service_get_default ()),
      NULL);
  gst_element_post_message (pipeline,
      gst_message_new_element (GST_OBJECT (pipeline), s));
}

void
gst_apm_watch_pipeline (GstElement * pipeline, gboolean post)
{
  ApmService *service;
  PipelineWatch *w;
  GPtrArray *problems = NULL;
  gchar *url, *name;

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
      post_service (pipeline, w, url);
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
  w->files_state = GST_STATE_NULL;
  w->state = GST_STATE (pipeline);      /* hooks keep it from here on */
  w->pending = GST_STATE_VOID_PENDING;
  g_object_set_qdata_full (G_OBJECT (pipeline), WATCH_QUARK, w,
      (GDestroyNotify) watch_unref);
  g_mutex_unlock (&watch_lock);

  service = apm_service_get_default ();
  gst_apm_model_install (service);
  {
    static ApmService *bridged;

    g_mutex_lock (&watch_lock);
    if (bridged != service) {
      bridged = service;
      apm_alerts_add_listener (apm_service_get_alerts (service),
          alert_to_bus, NULL);
    }
    ensure_fsspace_locked (service);
    g_mutex_unlock (&watch_lock);
  }
  url = announce (pipeline, &problems);

  /* the check holds only a weak ref; it goes with the pipeline */
  apm_health_add_check (apm_service_get_health (service), w->check_name,
      pipeline_check, g_atomic_rc_box_acquire (w),
      (GDestroyNotify) watch_unref, 1);
  g_mutex_lock (&watch_lock);
  watches = g_list_prepend (watches, g_atomic_rc_box_acquire (w));
  g_mutex_unlock (&watch_lock);
  g_object_weak_ref (G_OBJECT (pipeline), pipeline_gone,
      g_atomic_rc_box_acquire (w));

  /* the problems are on stderr and in the log already */
  for (guint i = 0; post && i < problems->len; i++) {
    GError *err = g_error_new_literal (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, g_ptr_array_index (problems, i));

    gst_element_post_message (pipeline,
        gst_message_new_warning (GST_OBJECT (pipeline), err, "apm monitor"));
    g_error_free (err);
  }
  g_ptr_array_unref (problems);
  if (post)
    post_service (pipeline, w, url);
  GST_DEBUG_OBJECT (pipeline, "watching as %s, service at %s", w->label,
      url);
  g_free (url);
  g_free (name);
}

static PipelineWatch *
watch_of (GstElement * pipeline)
{
  return g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);
}

typedef struct
{
  const gchar *pipeline;
  gdouble totals[3];
} TransferSums;

static void
add_transfer (gpointer data, gpointer user_data)
{
  GstApmElementStats *es = data;
  TransferSums *t = user_data;

  if (g_strcmp0 (es->pipeline, t->pipeline) != 0)
    return;
  if (es->is_sink) {
    /* media time of a run: what its slowest sink received */
    t->totals[0] = MAX (t->totals[0], apm_series_value (es->media_in));
    t->totals[2] += apm_series_value (es->bytes_in);
  }
  if (es->is_source)
    t->totals[1] += apm_series_value (es->bytes_out);
}

/* media time, bytes read by the sources and written by the sinks so far */
static void
transfer_totals (const gchar * pipeline, gdouble totals[3])
{
  TransferSums t = { pipeline, {0, 0, 0} };

  gst_apm_stats_fold ();
  gst_apm_element_stats_foreach (add_transfer, &t);
  memcpy (totals, t.totals, sizeof t.totals);
}

/* Ends the active run of @w, if any, with what it transferred. */
static void
end_run (PipelineWatch * w, const gchar * status, const gchar * error)
{
  ApmJobs *jobs = apm_service_get_jobs (apm_service_get_default ());
  gboolean alive = !g_atomic_int_get (&w->gone);
  gchar *job_id;
  gdouble now[3];

  g_mutex_lock (&w->lock);
  job_id = w->job_id;
  w->job_id = NULL;
  g_mutex_unlock (&w->lock);
  if (job_id && alive) {
    transfer_totals (w->label, now);
    apm_jobs_set_transfer (jobs, job_id, now[0] - w->run_start[0],
        (gint64) (now[1] - w->run_start[1]),
        (gint64) (now[2] - w->run_start[2]));
  }
  if (job_id)
    apm_jobs_complete (jobs, job_id, status, error);
  g_free (job_id);
}

/* Starts a run (a job) of @w's pipeline unless one is active; @fresh forgets
 * the previous run's error. */
/* The watch of the pipeline @element belongs to (a new reference), or
 * NULL.  By the label its stats carry when it has carried buffers, so that
 * messages at stream rate (QoS) reference no pipeline. */
static PipelineWatch *
watch_of_element (GstElement * element, gboolean is_top)
{
  GstApmElementStats *es = gst_apm_element_stats_peek (element);
  PipelineWatch *w = NULL;
  GstElement *top;

  if (is_top || !es) {
    top = is_top ? gst_object_ref (element) : gst_apm_watch_find_top
        (element);
    if (top && (w = watch_of (top)))
      g_atomic_rc_box_acquire (w);
    if (top)
      gst_object_unref (top);
    return w;
  }
  g_mutex_lock (&watch_lock);
  if ((w = watch_by_label_locked (es->pipeline)))
    g_atomic_rc_box_acquire (w);
  g_mutex_unlock (&watch_lock);
  return w;
}

static void
start_run (PipelineWatch * w, gboolean fresh)
{
  gchar *job_id = NULL, *cid;

  g_mutex_lock (&w->lock);
  if (!w->job_id) {
    w->job_id = g_strdup_printf ("%s#%u", w->label, ++w->n_runs);
    job_id = g_strdup (w->job_id);
    if (fresh)
      g_clear_pointer (&w->last_error, g_free);
  }
  g_mutex_unlock (&w->lock);
  if (!job_id)
    return;
  cid = apm_jobs_start (apm_service_get_jobs (apm_service_get_default ()),
      job_id, w->label);
  GST_DEBUG ("%s: run %s started, correlation id %s", w->label, job_id,
      cid);
  g_free (cid);
  g_free (job_id);
}

typedef struct
{
  const gchar *pipeline;
} RunReset;

static void
reset_first_buffer (gpointer data, gpointer user_data)
{
  GstApmElementStats *es = data;
  RunReset *r = user_data;

  if (g_strcmp0 (es->pipeline, r->pipeline) == 0)
    es->first_ts = 0;
}

void
gst_apm_watch_state_changing (GstElement * pipeline,
    GstStateChange transition, GstClockTime ts)
{
  PipelineWatch *w = watch_of (pipeline);

  if (!w || transition != GST_STATE_CHANGE_READY_TO_PAUSED)
    return;
  /* before the sources start: time to first byte counts from here, and a
   * new attempt's errors are its own (cleared after the change, a source
   * that already failed would count as a second failed run) */
  g_mutex_lock (&w->lock);
  if (!w->job_id) {
    w->run_start_ts = ts;
    g_clear_pointer (&w->last_error, g_free);
  }
  g_mutex_unlock (&w->lock);
}

GstClockTime
gst_apm_watch_run_start (const gchar * label)
{
  GstClockTime start = GST_CLOCK_TIME_NONE;
  PipelineWatch *w;

  g_mutex_lock (&watch_lock);
  if ((w = watch_by_label_locked (label)))
    start = w->run_start_ts;
  g_mutex_unlock (&watch_lock);
  return start;
}

void
gst_apm_watch_pipeline_state (GstElement * pipeline, GstState state,
    GstState pending)
{
  PipelineWatch *w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);

  if (!w)
    return;
  g_atomic_int_set (&w->state, state);
  g_atomic_int_set (&w->pending, pending);
}

void
gst_apm_watch_pipeline_latency (GstElement * pipeline, GstQuery * query)
{
  PipelineWatch *w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);
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
      watch_unref);

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

    watch_state (w, &info.state, NULL);
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
gst_apm_watch_state_changed (GstElement * pipeline, GstStateChange transition,
    GstClockTime ts)
{
  PipelineWatch *w = watch_of (pipeline);

  if (!w)
    return;
  {
    ApmService *service = apm_service_get_default ();
    JsonObject *ctx = json_object_new ();
    const gchar *from = gst_element_state_get_name
        (GST_STATE_TRANSITION_CURRENT (transition));
    const gchar *to = gst_element_state_get_name
        (GST_STATE_TRANSITION_NEXT (transition));
    gchar *active_cid = NULL;

    g_mutex_lock (&w->lock);
    if (w->job_id)
      active_cid = apm_jobs_correlation_id (apm_service_get_jobs (service),
          w->job_id);
    g_mutex_unlock (&w->lock);
    json_object_set_string_member (ctx, "pipeline", w->label);
    json_object_set_string_member (ctx, "from", from);
    json_object_set_string_member (ctx, "to", to);
    apm_log_write (apm_service_get_log (service), APM_LOG_INFO, "pipeline",
        active_cid, ctx, "pipeline %s: %s -> %s", w->label, from, to);
    g_free (active_cid);
  }
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      || transition == GST_STATE_CHANGE_READY_TO_PAUSED
      || transition == GST_STATE_CHANGE_READY_TO_NULL)
    sync_files (w, pipeline, GST_STATE_TRANSITION_NEXT (transition));
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING) {
    gboolean failed;

    /* an attempt that failed while prerolling (its run already counted as
     * failed) may still reach PLAYING before the application stops it: no
     * new run, or the source's follow-up "stream stopped" error would fail
     * that one too */
    g_mutex_lock (&w->lock);
    failed = w->last_error != NULL && w->job_id == NULL;
    g_mutex_unlock (&w->lock);
    if (!failed)
      start_run (w, TRUE);
  } else if (transition == GST_STATE_CHANGE_READY_TO_NULL
      || transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    end_run (w, "stopped", NULL);
  }
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      || transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    RunReset r = { w->label };

    /* the next run reads from preroll on: count from here, in READY where
     * nothing streams (at READY_TO_PAUSED's end the sources have already
     * pushed their first buffers) */
    gst_apm_element_stats_foreach (reset_first_buffer, &r);
    transfer_totals (w->label, w->run_start);
  }
}

typedef enum
{
  MESSAGE_COUNT,                /* counter += 1, with a "type" label */
  MESSAGE_COUNT_PLAIN,          /* counter += 1 */
  MESSAGE_SET_COUNTER,          /* counter = value (a running total) */
  MESSAGE_SET_GAUGE,            /* gauge = value */
} MessageMetric;

/* per-element metrics of posted messages (not per buffer: on the poster's
 * thread, at message rate) */
static void
record_message (GstElement * element, const gchar * family_name,
    const gchar * help, MessageMetric kind, const gchar * type,
    gdouble value)
{
  ApmRegistry *reg = apm_service_get_registry (apm_service_get_default ());
  static const gchar *const typed[] = { "pipeline", "element", "type", NULL };
  static const gchar *const plain[] = { "pipeline", "element", NULL };
  GstApmElementStats *es = gst_apm_element_stats_peek (element);
  gchar *pipeline, *path;
  ApmFamily *f;
  ApmSeries *s;
  const gchar *values[4];

  /* an element that carried buffers has its labels already: no walk up
   * its parents (which would reference the pipeline, if briefly) */
  if (es) {
    pipeline = g_strdup (es->pipeline);
    path = g_strdup (es->path);
  } else if (!gst_apm_element_path (element, &pipeline, &path)) {
    if (!GST_IS_BIN (element) || GST_OBJECT_PARENT (element))
      return;
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
  if (f) {
    s = apm_family_series (f, values);
    if (kind == MESSAGE_COUNT || kind == MESSAGE_COUNT_PLAIN)
      apm_counter_add_int (s, 1);
    else
      apm_gauge_set (s, value);
    apm_series_unref (s);
  }
  g_free (pipeline);
  g_free (path);
}

void
gst_apm_watch_message (GstElement * element, GstMessage * message)
{
  gboolean is_top = GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element);
  PipelineWatch *w;

  /* bins re-post their children's messages: count the original only */
  if (GST_MESSAGE_SRC (message) != GST_OBJECT (element))
    return;
  w = watch_of_element (element, is_top);

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
          start_run (w, FALSE);         /* failed before PLAYING: a run */
        end_run (w, "failed", text);
      }
      g_free (text);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_WARNING:
      record_message (element, "apm_element_messages_total",
          "ERROR and WARNING messages posted by the element", MESSAGE_COUNT,
          "warning", 0);
      break;
    case GST_MESSAGE_EOS:
      if (w && is_top)
        end_run (w, "success", NULL);
      break;
    case GST_MESSAGE_QOS:{
      GstFormat format;
      guint64 processed, dropped;
      gint64 jitter;

      record_message (element, "apm_element_qos_messages_total",
          "QoS messages posted by the element (late or dropped buffers)",
          MESSAGE_COUNT_PLAIN, NULL, 0);
      gst_message_parse_qos_stats (message, &format, &processed, &dropped);
      if (format == GST_FORMAT_BUFFERS || format == GST_FORMAT_DEFAULT)
        record_message (element, "apm_element_qos_dropped_buffers_total",
            "Buffers dropped by the element, as its QoS messages count them",
            MESSAGE_SET_COUNTER, NULL, dropped);
      gst_message_parse_qos_values (message, &jitter, NULL, NULL);
      record_message (element, "apm_element_lateness_seconds",
          "Lateness of the last late buffer against the clock, from QoS",
          MESSAGE_SET_GAUGE, NULL, jitter / 1e9);
      break;
    }
    default:
      break;
  }
  if (w)
    watch_unref (w);
}

typedef struct
{
  const gchar *event;
  JsonObject *alert;
  const gchar *pipeline;        /* NULL: every watched pipeline */
} AlertPost;

static void
post_alert (gpointer data, gpointer user_data)
{
  GstElement *pipeline = data;
  AlertPost *a = user_data;
  PipelineWatch *w = watch_of (pipeline);
  GstStructure *s;

  /* alerts name pipelines by their label, like the series they watch */
  if (a->pipeline && (!w || g_strcmp0 (a->pipeline, w->label)))
    return;
  s = gst_structure_new ("apm-alert",
      "event", G_TYPE_STRING, a->event,
      "id", G_TYPE_STRING, json_object_get_string_member (a->alert, "id"),
      "rule", G_TYPE_STRING, json_object_get_string_member (a->alert, "rule"),
      "severity", G_TYPE_STRING, json_object_get_string_member (a->alert,
          "severity"),
      "message", G_TYPE_STRING, json_object_get_string_member (a->alert,
          "message"), NULL);
  gst_element_post_message (pipeline,
      gst_message_new_element (GST_OBJECT (pipeline), s));
}

/* alert events as "apm-alert" element messages on the pipeline's bus (or
 * every watched pipeline's, for alerts about the whole process) */
static void
alert_to_bus (const gchar * event, JsonNode * alert, gpointer user_data)
{
  AlertPost a = { event, json_node_get_object (alert), NULL };
  JsonObject *labels;

  if (!gst_apm_watch_bus_messages ())
    return;
  labels = json_object_get_object_member (a.alert, "labels");

  if (labels && json_object_has_member (labels, "pipeline"))
    a.pipeline = json_object_get_string_member (labels, "pipeline");
  gst_apm_watch_foreach_pipeline (post_alert, &a);
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
