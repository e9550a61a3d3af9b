/* gst-apm: which pipelines the service watches, and telling the user */
#include "gstapmwatch.h"

GST_DEBUG_CATEGORY_STATIC (apm_watch_debug);
#define GST_CAT_DEFAULT apm_watch_debug

#define WATCH_QUARK watch_quark ()

typedef struct
{
  gint ref_count;
  GWeakRef pipeline;
  gchar *check_name;
  GMutex lock;
  gchar *last_error;            /* under lock */
} PipelineWatch;

static GMutex watch_lock;
static GPtrArray *pending_problems;
static gboolean announced;

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
watch_unref (PipelineWatch * w)
{
  if (!g_atomic_int_dec_and_test (&w->ref_count))
    return;
  g_weak_ref_clear (&w->pipeline);
  g_free (w->check_name);
  g_free (w->last_error);
  g_mutex_clear (&w->lock);
  g_free (w);
}

static ApmHealthStatus
pipeline_check (gpointer user_data, gchar ** message, JsonObject ** details)
{
  PipelineWatch *w = user_data;
  GstElement *p = g_weak_ref_get (&w->pipeline);
  GstState state, pending;
  ApmHealthStatus status;
  gchar *error;

  if (!p) {
    *message = g_strdup ("pipeline is gone");
    return APM_HEALTH_DEGRADED;
  }
  GST_OBJECT_LOCK (p);
  state = GST_STATE (p);
  pending = GST_STATE_PENDING (p);
  GST_OBJECT_UNLOCK (p);
  g_mutex_lock (&w->lock);
  error = g_strdup (w->last_error);
  g_mutex_unlock (&w->lock);

  *details = json_object_new ();
  json_object_set_string_member (*details, "pipeline", GST_OBJECT_NAME (p));
  json_object_set_string_member (*details, "state",
      gst_element_state_get_name (state));
  json_object_set_string_member (*details, "pending_state",
      gst_element_state_get_name (pending));
  if (error) {
    status = APM_HEALTH_UNHEALTHY;
    *message = g_strdup_printf ("%s: error: %s", GST_OBJECT_NAME (p), error);
    json_object_set_string_member (*details, "error", error);
  } else if (state == GST_STATE_NULL) {
    status = APM_HEALTH_DEGRADED;
    *message = g_strdup_printf ("%s is stopped (NULL)", GST_OBJECT_NAME (p));
  } else {
    status = APM_HEALTH_HEALTHY;
    *message = g_strdup_printf ("%s is %s", GST_OBJECT_NAME (p),
        gst_element_state_get_name (state));
  }
  g_free (error);
  gst_object_unref (p);
  return status;
}

static void
remove_check (gpointer data, GObject * where_the_object_was)
{
  gchar *name = data;
  ApmService *service = apm_service_get_default ();

  apm_health_remove_check (apm_service_get_health (service), name);
  g_free (name);
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
    for (guint i = 0; i < problems->len; i++)
      g_printerr ("apm: warning: %s\n",
          (gchar *) g_ptr_array_index (problems, i));
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
gst_apm_watch_pipeline (GstElement * pipeline)
{
  ApmService *service;
  PipelineWatch *w;
  GPtrArray *problems = NULL;
  gchar *url;
  GstStructure *s;

  g_mutex_lock (&watch_lock);
  if (g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK)) {
    g_mutex_unlock (&watch_lock);
    return;
  }
  w = g_new0 (PipelineWatch, 1);
  w->ref_count = 2;             /* the pipeline's qdata and the check */
  g_weak_ref_init (&w->pipeline, pipeline);
  g_mutex_init (&w->lock);
  w->check_name = g_strdup_printf ("pipeline:%s", GST_OBJECT_NAME (pipeline));
  g_object_set_qdata_full (G_OBJECT (pipeline), WATCH_QUARK, w,
      (GDestroyNotify) watch_unref);
  g_mutex_unlock (&watch_lock);

  service = apm_service_get_default ();
  url = announce (pipeline, &problems);

  /* the check holds only a weak ref; it goes with the pipeline */
  apm_health_add_check (apm_service_get_health (service), w->check_name,
      pipeline_check, w, (GDestroyNotify) watch_unref, 1);
  g_object_weak_ref (G_OBJECT (pipeline), remove_check,
      g_strdup (w->check_name));

  for (guint i = 0; i < problems->len; i++) {
    GError *err = g_error_new_literal (GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_SETTINGS, g_ptr_array_index (problems, i));

    gst_element_post_message (pipeline,
        gst_message_new_warning (GST_OBJECT (pipeline), err, "apm monitor"));
    g_error_free (err);
  }
  g_ptr_array_unref (problems);

  s = gst_structure_new ("apm-service", "url", G_TYPE_STRING, url,
      "port", G_TYPE_UINT, apm_service_get_port (service), NULL);
  gst_element_post_message (pipeline,
      gst_message_new_element (GST_OBJECT (pipeline), s));
  GST_DEBUG_OBJECT (pipeline, "watching, service at %s", url);
  g_free (url);
}

void
gst_apm_watch_note_error (GstElement * pipeline, const gchar * source,
    const GError * error)
{
  PipelineWatch *w = g_object_get_qdata (G_OBJECT (pipeline), WATCH_QUARK);

  if (!w)
    return;
  g_mutex_lock (&w->lock);
  g_free (w->last_error);
  w->last_error = g_strdup_printf ("%s: %s", source, error->message);
  g_mutex_unlock (&w->lock);
}
