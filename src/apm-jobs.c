/* gst-apm: jobs, units of audio work tracked with a correlation id */
#include "apm-jobs.h"

typedef struct
{
  gchar *job_id;
  gchar *correlation_id;
  gint64 start_wall_us;
  gint64 start_mono_us;
  gint64 end_wall_us;
  gdouble processing_seconds;
  gchar *status;                /* "running" while active */
  gchar *error;
} ApmJob;

struct _ApmJobs
{
  GMutex lock;
  GHashTable *active;           /* job_id -> ApmJob */
  GQueue finished;              /* newest last, at most keep */
  guint keep;
};

static void
job_free (ApmJob * j)
{
  g_free (j->job_id);
  g_free (j->correlation_id);
  g_free (j->status);
  g_free (j->error);
  g_free (j);
}

ApmJobs *
apm_jobs_new (guint keep_finished)
{
  ApmJobs *jobs = g_new0 (ApmJobs, 1);

  g_mutex_init (&jobs->lock);
  jobs->active = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) job_free);
  g_queue_init (&jobs->finished);
  jobs->keep = keep_finished ? keep_finished : APM_JOBS_DEFAULT_KEEP;
  return jobs;
}

void
apm_jobs_free (ApmJobs * jobs)
{
  if (!jobs)
    return;
  g_hash_table_destroy (jobs->active);
  g_queue_clear_full (&jobs->finished, (GDestroyNotify) job_free);
  g_mutex_clear (&jobs->lock);
  g_free (jobs);
}

gchar *
apm_jobs_start (ApmJobs * jobs, const gchar * job_id)
{
  ApmJob *j = g_new0 (ApmJob, 1);
  gchar *cid;

  j->job_id = g_strdup (job_id);
  j->correlation_id = g_uuid_string_random ();
  j->start_wall_us = g_get_real_time ();
  j->start_mono_us = g_get_monotonic_time ();
  j->status = g_strdup ("running");
  cid = g_strdup (j->correlation_id);
  g_mutex_lock (&jobs->lock);
  g_hash_table_replace (jobs->active, j->job_id, j);
  g_mutex_unlock (&jobs->lock);
  return cid;
}

gboolean
apm_jobs_complete (ApmJobs * jobs, const gchar * job_id, const gchar * status,
    const gchar * error)
{
  ApmJob *j;

  g_mutex_lock (&jobs->lock);
  if (!g_hash_table_steal_extended (jobs->active, job_id, NULL,
          (gpointer *) & j)) {
    g_mutex_unlock (&jobs->lock);
    return FALSE;
  }
  j->end_wall_us = g_get_real_time ();
  j->processing_seconds = (g_get_monotonic_time () - j->start_mono_us) / 1e6;
  g_free (j->status);
  j->status = g_strdup (status ? status : "success");
  j->error = g_strdup (error);
  g_queue_push_tail (&jobs->finished, j);
  while (jobs->finished.length > jobs->keep)
    job_free (g_queue_pop_head (&jobs->finished));
  g_mutex_unlock (&jobs->lock);
  return TRUE;
}

void
apm_jobs_counts (ApmJobs * jobs, guint * active, guint * tracked)
{
  g_mutex_lock (&jobs->lock);
  if (active)
    *active = g_hash_table_size (jobs->active);
  if (tracked)
    *tracked = g_hash_table_size (jobs->active) + jobs->finished.length;
  g_mutex_unlock (&jobs->lock);
}

gchar *
apm_jobs_correlation_id (ApmJobs * jobs, const gchar * job_id)
{
  ApmJob *j;
  gchar *cid = NULL;

  g_mutex_lock (&jobs->lock);
  j = g_hash_table_lookup (jobs->active, job_id);
  if (j)
    cid = g_strdup (j->correlation_id);
  g_mutex_unlock (&jobs->lock);
  return cid;
}
