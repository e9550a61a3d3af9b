/* gst-apm: the public API of automated recovery (see apm-recovery.h) */
#include "apm-monitor.h"
#include "apm-recovery.h"

/**
 * apm_monitor_set_recovery:
 * @self: the monitor
 * @pipeline: the label of a pipeline (its name, or "name#2" for a second
 *   one of that name), or a glob over labels ("capture*")
 * @policy: (nullable): "TRIGGERS:ACTION[,OPTION=VALUE...]", %NULL or ""
 *   to remove the policy of @pipeline.  TRIGGERS: `stall`, `stuck`,
 *   `error`, joined by `+`; ACTION: `restart` (the pipeline to NULL, then
 *   PLAYING) or `flush` (a flushing seek to the current position, for
 *   seekable pipelines); OPTIONS: `max` (attempts per window, 5), `window`
 *   (seconds, 300), `backoff` (seconds before the first attempt, doubled for
 *   each next one, 1), `max-backoff` (seconds, 60).  Example:
 *   "stall+error:restart,max=3,window=120".
 * @error: a #GError, or %NULL
 *
 * Sets the automated recovery policy of the pipelines @pipeline matches;
 * the policy set last wins among those that match a pipeline.  Recovery
 * needs the apm tracer (GST_TRACERS=apm) in the process: it watches the
 * pipelines and acts on them, from a thread of its own.
 *
 * This is also the application's opt-in for the `error` trigger: when a
 * pipeline whose policy was set here with `error` goes from NULL to READY,
 * the monitor installs a sync handler on its bus that keeps the ERROR
 * messages it recovers from away from the application (those it gives up
 * on pass).  GStreamer allows one sync handler per bus: the application
 * must not set its own on that pipeline's bus.  Set the policy before the
 * pipeline leaves NULL.
 *
 * Returns: %TRUE if the policy was valid and set (or removed)
 */
gboolean
apm_monitor_set_recovery (ApmMonitor * self, const gchar * pipeline,
    const gchar * policy, GError ** error)
{
  ApmRecoveryPolicy p;

  g_return_val_if_fail (APM_IS_MONITOR (self), FALSE);
  g_return_val_if_fail (pipeline != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!policy || !*policy) {
    apm_recovery_set_policy (pipeline, NULL, TRUE);
    return TRUE;
  }
  if (!apm_recovery_policy_parse (policy, &p, error))
    return FALSE;
  apm_recovery_set_policy (pipeline, &p, TRUE);
  return TRUE;
}
