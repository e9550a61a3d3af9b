/* libFuzzer harness: the state file (header, checksum, sections), and its
 * history section on its own, past the checksum that guards it in a file */
#include "apm-state.h"
#include "apm-history.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  ApmRegistry *registry = apm_registry_new (0);
  ApmAlerts *alerts = apm_alerts_new (registry, 10);
  ApmJobs *jobs = apm_jobs_new (10, NULL);
  GError *error = NULL;
  guint n = 0;

  if (!apm_state_decode (data, size, registry, alerts, jobs, &error)) {
    g_assert (error != NULL);
    g_clear_error (&error);
  }
  if (apm_history_restore (registry, data, size, &n))
    g_assert (n <= APM_HISTORY_MAX_SERIES);
  apm_alerts_free (alerts);
  apm_jobs_free (jobs);
  apm_registry_free (registry);
  return 0;
}
