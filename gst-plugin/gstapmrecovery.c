/* gst-apm: automated recovery, the GStreamer side (the core's part, the
 * policies and attempts, is src/apm-recovery.c)
 *
 * Faults are found where they already are: stalls and stuck state changes
 * on the service thread's tick, from what the watch keeps; ERROR messages
 * in a bus sync handler, only on the buses of pipelines whose application
 * opted in (apm_monitor_set_recovery() with the error trigger).  Actions
 * run on the core's recovery thread, never a streaming thread or the
 * service thread: a restart is a state change, which may block.  The
 * pipeline is held only for the length of an action (its watch keeps a
 * weak reference).
 */
#include "gstapmwatch-private.h"
#include "gstapmrecovery.h"

#include "apm-recovery.h"

#define GST_CAT_DEFAULT apm_watch_debug

/* how long a restart waits for PLAYING before reporting what it saw */
#define RESTART_WAIT (5 * GST_SECOND)

/* the correlation id of @w's current run, else of its last one */
static gchar *
run_correlation_id (PipelineWatch * w)
{
  gchar *cid;

  g_mutex_lock (&w->lock);
  cid = g_strdup (w->last_cid);
  g_mutex_unlock (&w->lock);
  return cid;
}

static ApmRecoveryDecision
trigger (PipelineWatch * w, ApmRecoveryTrigger reason)
{
  gchar *cid = run_correlation_id (w);
  ApmRecoveryDecision d = apm_recovery_trigger (w->label, reason, cid);

  g_free (cid);
  return d;
}

void
gst_apm_recovery_tick (const gchar * label, GstState state,
    gdouble stalled_s, gdouble stuck_s)
{
  PipelineWatch *w;

  if (!(w = gst_apm_watch_ref_by_label (label)))
    return;
  if (stuck_s > 0) {
    trigger (w, APM_RECOVERY_ON_STUCK);
  } else if (state == GST_STATE_PLAYING && stalled_s > 0) {
    gboolean running;

    /* a run that ended (EOS, an ERROR the application sees) is not
     * stalled: restarting it would replay it or fight the application */
    g_mutex_lock (&w->lock);
    running = w->job_id != NULL;
    g_mutex_unlock (&w->lock);
    if (running)
      trigger (w, APM_RECOVERY_ON_STALL);
  }
  else if (state == GST_STATE_PLAYING)
    apm_recovery_note_healthy (label);
  gst_apm_watch_unref (w);
}

/* --- errors: only where the application opted in --- */

/* the posting thread (often a streaming one): an ERROR the recovery takes
 * on is kept from the application; others pass */
static GstBusSyncReply
on_bus_message (GstBus * bus, GstMessage * message, gpointer user_data)
{
  PipelineWatch *w = user_data;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR
      || g_atomic_int_get (&w->gone))
    return GST_BUS_PASS;
  if (trigger (w, APM_RECOVERY_ON_ERROR) != APM_RECOVERY_SCHEDULED)
    return GST_BUS_PASS;
  GST_INFO ("%s: ERROR from %s kept from the application: recovering",
      w->label, GST_MESSAGE_SRC_NAME (message));
  /* a dropped message is the handler's to free */
  gst_message_unref (message);
  return GST_BUS_DROP;
}

void
gst_apm_recovery_watch_bus (GstElement * pipeline)
{
  PipelineWatch *w = gst_apm_watch_of (pipeline);
  ApmRecoveryPolicy policy;
  gboolean from_app = FALSE, install;
  GstBus *bus;

  if (!w || !apm_recovery_lookup (w->label, &policy, &from_app)
      || !from_app || !(policy.triggers & APM_RECOVERY_ON_ERROR))
    return;
  g_mutex_lock (&w->lock);
  install = !w->bus_intercepted;
  w->bus_intercepted = TRUE;
  g_mutex_unlock (&w->lock);
  if (!install)
    return;
  bus = gst_element_get_bus (pipeline);
  if (bus) {
    gst_bus_set_sync_handler (bus, on_bus_message,
        g_atomic_rc_box_acquire (w), (GDestroyNotify) gst_apm_watch_unref);
    gst_object_unref (bus);
    GST_INFO_OBJECT (pipeline, "%s: errors intercepted for recovery, as its "
        "application asked", w->label);
  }
}

/* --- actions, on the recovery thread --- */

static gboolean
restart (PipelineWatch * w, GstElement * p, const gchar * why,
    gchar ** detail)
{
  GstStateChangeReturn ret;
  GstState state = GST_STATE_VOID_PENDING;

  gst_apm_run_end (w, "failed", why);
  /* the stall clock starts again with the new run */
  g_atomic_int_set (&w->flow.restarted, 1);
  if (gst_element_set_state (p, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE) {
    *detail = g_strdup ("could not set the pipeline to NULL");
    return FALSE;
  }
  ret = gst_element_set_state (p, GST_STATE_PLAYING);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    *detail = g_strdup ("could not set the pipeline to PLAYING");
    return FALSE;
  }
  if (ret == GST_STATE_CHANGE_ASYNC)
    ret = gst_element_get_state (p, &state, NULL, RESTART_WAIT);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    *detail = g_strdup ("the pipeline failed on its way to PLAYING");
    return FALSE;
  }
  *detail = g_strdup (ret == GST_STATE_CHANGE_ASYNC ?
      "restarted; still on its way to PLAYING" : "restarted; PLAYING");
  return TRUE;
}

static gboolean
flush (PipelineWatch * w, GstElement * p, const gchar * why, gchar ** detail)
{
  GstQuery *q = gst_query_new_seeking (GST_FORMAT_TIME);
  gboolean seekable = FALSE;
  gint64 position = 0;

  if (gst_element_query (p, q))
    gst_query_parse_seeking (q, NULL, &seekable, NULL, NULL);
  gst_query_unref (q);
  if (!seekable) {
    *detail = g_strdup ("the pipeline is not seekable");
    return FALSE;
  }
  if (!gst_element_query_position (p, GST_FORMAT_TIME, &position))
    position = 0;
  gst_apm_run_end (w, "failed", why);
  g_atomic_int_set (&w->flow.restarted, 1);
  if (!gst_element_seek_simple (p, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH,
          position)) {
    *detail = g_strdup ("the flushing seek was refused");
    return FALSE;
  }
  gst_apm_run_start (w, TRUE);
  *detail = g_strdup_printf ("flushed at %" GST_TIME_FORMAT,
      GST_TIME_ARGS (position));
  return TRUE;
}

static gboolean
act (const gchar * label, ApmRecoveryAction action, ApmRecoveryTrigger reason,
    gchar ** detail, gpointer user_data)
{
  PipelineWatch *w = gst_apm_watch_ref_by_label (label);
  GstElement *p = w ? g_weak_ref_get (&w->pipeline) : NULL;
  gboolean ok;
  gchar *why;

  if (!p) {
    *detail = g_strdup ("the pipeline is gone");
    if (w)
      gst_apm_watch_unref (w);
    return FALSE;
  }
  why = g_strdup_printf ("%s: automated recovery by %s",
      apm_recovery_trigger_name (reason), apm_recovery_action_name (action));
  GST_INFO_OBJECT (p, "%s: %s", label, why);
  ok = action == APM_RECOVERY_FLUSH ? flush (w, p, why, detail) :
      restart (w, p, why, detail);
  g_free (why);
  /* the strong reference lasted the action only */
  gst_object_unref (p);
  gst_apm_watch_unref (w);
  return ok;
}

void
gst_apm_recovery_install (void)
{
  apm_recovery_set_handler (act, NULL);
}

void
gst_apm_recovery_uninstall (void)
{
  apm_recovery_set_handler (NULL, NULL);
  apm_recovery_shutdown ();
}
