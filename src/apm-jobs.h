/* gst-apm: jobs, units of audio work tracked with a correlation id */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _ApmJobs ApmJobs;

#define APM_JOBS_DEFAULT_KEEP 1000

ApmJobs *apm_jobs_new (guint keep_finished);
void apm_jobs_free (ApmJobs * jobs);

/* Starts tracking @job_id and returns its new correlation id (a UUID).  A
 * job already active under that id is restarted. */
gchar *apm_jobs_start (ApmJobs * jobs, const gchar * job_id);

/* Ends @job_id with @status ("success", "failed", ...).  FALSE if unknown. */
gboolean apm_jobs_complete (ApmJobs * jobs, const gchar * job_id,
    const gchar * status, const gchar * error);

/* Active jobs, and all jobs kept (active plus finished history). */
void apm_jobs_counts (ApmJobs * jobs, guint * active, guint * tracked);

/* The correlation id of an active job, or NULL. */
gchar *apm_jobs_correlation_id (ApmJobs * jobs, const gchar * job_id);

G_END_DECLS
