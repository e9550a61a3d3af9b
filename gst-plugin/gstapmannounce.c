/* gst-apm: telling the user
 *
 * Configuration problems and the service's URL on stderr and in the log,
 * once per process; with bus messages asked for (or an apmonitor, inserted
 * on purpose), the problems as WARNING messages, "apm-service" with the URL
 * and alerts as "apm-alert" element messages on the watched pipelines'
 * buses.
 */
#include "gstapmwatch-private.h"
#include "apm-recovery.h"

#define GST_CAT_DEFAULT apm_watch_debug

static GMutex announce_lock;
static GPtrArray *pending_problems;     /* under announce_lock */
static gboolean announced;
/* the tracer's messages on the pipelines' buses (apm-service, warnings,
 * alerts): off unless the bus-messages param or configuration asks, so an
 * application sees no message it did not ask for.  -1: not configured */
static gint bus_messages = -1;

static void alert_to_bus (const gchar * event, JsonNode * alert,
    gpointer user_data);

void
gst_apm_watch_configure (const ApmServiceConfig * config,
    GPtrArray * problems)
{
  gchar *ignored = NULL;

  (void) gst_apm_watch_quark ();        /* the debug category */
  gst_apm_runs_configure (config, problems);
  if (config->bus_messages >= 0)
    g_atomic_int_compare_and_exchange (&bus_messages, -1,
        config->bus_messages);
  gst_apm_stuck_configure (config->stuck_timeout);
  /* after the configuration file's: the param wins for the same pattern
   * (its problems were reported when the params were parsed) */
  if (config->recovery)
    apm_recovery_set_policies_from_text (config->recovery, NULL);
  if (!apm_service_configure (apm_service_get_default (), config, &ignored)) {
    GST_INFO ("%s", ignored);
    g_free (ignored);
  }
  if (!problems || problems->len == 0)
    return;
  g_mutex_lock (&announce_lock);
  if (!pending_problems)
    pending_problems = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < problems->len; i++) {
    GST_WARNING ("%s", (gchar *) g_ptr_array_index (problems, i));
    g_ptr_array_add (pending_problems,
        g_strdup (g_ptr_array_index (problems, i)));
  }
  g_mutex_unlock (&announce_lock);
}

gchar *
gst_apm_announce (GPtrArray ** problems_out)
{
  ApmService *service = apm_service_get_default ();
  GError *error = NULL;
  GPtrArray *problems;
  gchar *url;

  g_mutex_lock (&announce_lock);
  problems = pending_problems;
  pending_problems = NULL;
  g_mutex_unlock (&announce_lock);
  if (!problems)
    problems = g_ptr_array_new_with_free_func (g_free);

  if (!apm_service_ensure_started (service, &error)) {
    g_mutex_lock (&announce_lock);
    if (!announced)
      g_ptr_array_add (problems, g_strdup_printf ("HTTP service not "
              "started: %s; monitoring goes on without it (set "
              "GST_TRACERS=\"apm(port=0)\" to pick a free port)",
              error->message));
    g_mutex_unlock (&announce_lock);
    g_clear_error (&error);
  }
  url = apm_service_get_url (service);

  g_mutex_lock (&announce_lock);
  if (!announced) {
    announced = TRUE;
    for (guint i = 0; i < problems->len; i++) {
      g_printerr ("apm: warning: %s\n",
          (gchar *) g_ptr_array_index (problems, i));
      apm_log_write (apm_service_get_log (service), APM_LOG_WARNING, "config",
          NULL, NULL, "%s", (gchar *) g_ptr_array_index (problems, i));
    }
    if (url) {
      gchar *note = apm_service_dup_port_note (service);

      GST_INFO ("serving %s", url);
      if (!apm_service_is_quiet (service)) {
        if (note)
          g_printerr ("apm: %s\n", note);
        g_printerr ("apm: serving %s (metrics at %s/metrics)\n", url, url);
      }
      g_free (note);
    }
  }
  g_mutex_unlock (&announce_lock);
  *problems_out = problems;
  return url;
}

gboolean
gst_apm_watch_bus_messages (void)
{
  return g_atomic_int_get (&bus_messages) > 0;
}

void
gst_apm_announce_service (GstElement * pipeline, PipelineWatch * w,
    const gchar * url)
{
  GstStructure *s;
  gboolean post;

  g_mutex_lock (&announce_lock);
  post = !w->service_posted;
  w->service_posted = TRUE;
  g_mutex_unlock (&announce_lock);
  if (!post)
    return;
  s = gst_structure_new ("apm-service", "url", G_TYPE_STRING, url,
      "port", G_TYPE_UINT, apm_service_get_port (apm_service_get_default ()),
      NULL);
  gst_element_post_message (pipeline,
      gst_message_new_element (GST_OBJECT (pipeline), s));
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
  PipelineWatch *w = gst_apm_watch_of (pipeline);
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
gst_apm_announce_alerts (ApmService * service)
{
  static ApmService *bridged;

  g_mutex_lock (&announce_lock);
  if (bridged != service) {
    bridged = service;
    apm_alerts_add_listener (apm_service_get_alerts (service),
        alert_to_bus, NULL);
  }
  g_mutex_unlock (&announce_lock);
}

void
gst_apm_announce_post (GstElement * pipeline, PipelineWatch * w,
    gboolean post, GPtrArray * problems, const gchar * url)
{
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
    gst_apm_announce_service (pipeline, w, url);
}
