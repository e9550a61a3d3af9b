/* gst-apm: jobs, units of audio work tracked with a correlation id
 *
 * A job is one pipeline run by default (PLAYING to EOS or ERROR), or
 * whatever the application says through the public API: one file of a
 * playlist, one request.  Active jobs and the last N finished are kept.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-metrics.h"
#include "apm-log-store.h"
#include "apm-tracecontext.h"

G_BEGIN_DECLS

typedef struct _ApmJobs ApmJobs;

#define APM_JOBS_DEFAULT_KEEP 1000
/* labels of a job: at most this many, keys and values cut to this length */
#define APM_JOB_MAX_LABELS 32
#define APM_JOB_MAX_LABEL_BYTES 256

/* @registry (nullable) receives the jobs' metrics. */
ApmJobs *apm_jobs_new (guint keep_finished, ApmRegistry * registry);
/* Called (any thread, no lock held) with the job as JSON when a job
 * starts and when it ends. */
typedef void (*ApmJobListener) (JsonNode * job, gpointer user_data);
void apm_jobs_set_listener (ApmJobs * jobs, ApmJobListener func,
    gpointer user_data);

/* Job start and end are logged to @log (nullable). */
void apm_jobs_set_log (ApmJobs * jobs, ApmLog * log);
void apm_jobs_free (ApmJobs * jobs);

/* Starts tracking @job_id and returns its new correlation id, which is its
 * W3C trace id (32 lowercase hex digits).  A job already active under that
 * id is ended as "restarted" first.  @pipeline (nullable) names the
 * pipeline the job runs in. */
gchar *apm_jobs_start (ApmJobs * jobs, const gchar * job_id,
    const gchar * pipeline);

/* The same, continuing the trace of @parent (nullable: a new trace) as a
 * child of its span, with @labels (nullable), a NULL-terminated list of
 * key, value pairs (empty keys are skipped, at most APM_JOB_MAX_LABELS). */
gchar *apm_jobs_start_full (ApmJobs * jobs, const gchar * job_id,
    const gchar * pipeline, const ApmTraceContext * parent,
    const gchar * const *labels);

/* The traceparent of a job (by job id, correlation id or span id; active,
 * else the newest finished), or NULL. */
gchar *apm_jobs_traceparent (ApmJobs * jobs, const gchar * id);

/* Ends @job_id with @status ("success", "failed", ...) and @error
 * (nullable).  FALSE if no such job is active. */
gboolean apm_jobs_complete (ApmJobs * jobs, const gchar * job_id,
    const gchar * status, const gchar * error);

/* Adds @seconds to stage @stage of an active or finished job.  @labels is a
 * NULL-terminated list of key, value pairs (nullable).  FALSE if unknown. */
gboolean apm_jobs_record_stage (ApmJobs * jobs, const gchar * job_id,
    const gchar * stage, gdouble seconds, const gchar * const *labels);

/* Sets the media time and bytes read/written of an active job (values below
 * zero are left as they are). */
gboolean apm_jobs_set_transfer (ApmJobs * jobs, const gchar * job_id,
    gdouble media_seconds, gint64 bytes_read, gint64 bytes_written);

/* Active jobs, and all jobs kept (active plus finished history). */
void apm_jobs_counts (ApmJobs * jobs, guint * active, guint * tracked);

/* Among the last @n finished jobs, how many failed. */
guint apm_jobs_recent_failures (ApmJobs * jobs, guint n);
/* Wall seconds of the longest-running active job (0 if none). */
gdouble apm_jobs_longest_active_seconds (ApmJobs * jobs);

/* The correlation id of an active job, or NULL. */
gchar *apm_jobs_correlation_id (ApmJobs * jobs, const gchar * job_id);

/* {"active": [...], "finished": [...newest first], "summary": {...}};
 * @limit caps the finished list (0: all kept). */
JsonNode *apm_jobs_to_json (ApmJobs * jobs, guint limit);

/* Puts finished jobs (as the "finished" list of apm_jobs_to_json(),
 * newest first) back, before the jobs finished since; for the state file.
 * Malformed entries are skipped.  Returns how many. */
guint apm_jobs_restore_finished (ApmJobs * jobs, JsonArray * finished);

/* One job by job id, correlation id or span id (newest first), or NULL. */
JsonNode *apm_jobs_lookup_json (ApmJobs * jobs, const gchar * id);

/* What a comparison of jobs needs of one finished job. */
typedef struct
{
  gchar *value;                 /* the value of the label compared */
  gboolean success;             /* status "success" */
  gdouble processing_seconds;
  gint64 bytes_read, bytes_written;     /* < 0: unknown */
} ApmJobSample;

void apm_job_sample_clear (ApmJobSample * sample);

/* The finished jobs (oldest first) that ended at or after @since_us and
 * have label @key, as ApmJobSample (the array clears them);
 * @n_unlabelled (nullable) counts those of the time without it. */
GArray *apm_jobs_samples (ApmJobs * jobs, const gchar * key,
    gint64 since_us, guint * n_unlabelled);

G_END_DECLS
