/* gst-apm: jobs, units of audio work tracked with a correlation id */
#include "apm-jobs.h"
#include "apm-json.h"
#include "apm-time.h"
#include "apm-log-store.h"

#include <math.h>
#include <string.h>

typedef struct
{
  gchar *job_id;
  gchar *correlation_id;        /* the W3C trace id */
  gchar span_id[APM_SPAN_ID_HEX_LEN + 1];
  gchar parent_span_id[APM_SPAN_ID_HEX_LEN + 1];        /* "": a root */
  guint8 trace_flags;
  JsonObject *labels;           /* string values, at most APM_JOB_MAX_LABELS */
  gchar *pipeline;
  gint64 start_wall_us;
  gint64 start_mono_us;
  gint64 end_wall_us;
  gdouble processing_seconds;
  gchar *status;                /* "running" while active */
  gchar *error;
  gdouble media_seconds;        /* < 0: unknown */
  gint64 bytes_read;            /* < 0: unknown */
  gint64 bytes_written;
  JsonObject *stages;           /* stage -> {"seconds", "labels"} */
} ApmJob;

struct _ApmJobs
{
  GMutex lock;
  GHashTable *active;           /* job_id -> ApmJob */
  GQueue finished;              /* newest last, at most keep */
  guint keep;
  guint64 n_started, n_succeeded, n_failed;
  ApmLog *log;
  ApmJobListener listener;
  gpointer listener_data;
  ApmFamily *f_started, *f_completed, *f_processing, *f_in, *f_out,
      *f_stage, *f_rate;
};

static const gdouble job_seconds_buckets[] = {
  0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600
};

/* file sizes: 1 KiB ... 1 GiB */
static const gdouble size_buckets[] = {
  1024, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
  268435456, 1073741824
};

static void
job_free (ApmJob * j)
{
  g_free (j->job_id);
  g_free (j->correlation_id);
  g_free (j->pipeline);
  g_free (j->status);
  g_free (j->error);
  json_object_unref (j->stages);
  json_object_unref (j->labels);
  g_free (j);
}

ApmJobs *
apm_jobs_new (guint keep_finished, ApmRegistry * reg)
{
  ApmJobs *jobs = g_new0 (ApmJobs, 1);
  static const gchar *const status_label[] = { "status", NULL };
  static const gchar *const success_label[] = { "success", NULL };
  static const gchar *const stage_label[] = { "stage", NULL };
  static const gchar *const dir_label[] = { "direction", NULL };

  g_mutex_init (&jobs->lock);
  jobs->active = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) job_free);
  g_queue_init (&jobs->finished);
  jobs->keep = keep_finished ? keep_finished : APM_JOBS_DEFAULT_KEEP;
  if (reg) {
    jobs->f_started = apm_registry_family (reg, "apm_jobs_started_total",
        APM_METRIC_COUNTER, "Jobs started", NULL, NULL, 0);
    jobs->f_completed = apm_registry_family (reg, "apm_jobs_completed_total",
        APM_METRIC_COUNTER, "Jobs ended, by status (success, failed, "
        "stopped, cancelled, ...)", status_label, NULL, 0);
    jobs->f_processing = apm_registry_family (reg,
        "apm_job_processing_seconds", APM_METRIC_HISTOGRAM,
        "Wall time from start to end of each job", success_label,
        job_seconds_buckets, G_N_ELEMENTS (job_seconds_buckets));
    jobs->f_in = apm_registry_family (reg, "apm_job_input_bytes",
        APM_METRIC_HISTOGRAM, "Bytes read by each job's sources (upload "
        "size distribution)", NULL, size_buckets,
        G_N_ELEMENTS (size_buckets));
    jobs->f_out = apm_registry_family (reg, "apm_job_output_bytes",
        APM_METRIC_HISTOGRAM, "Bytes written by each job's sinks (download "
        "size distribution)", NULL, size_buckets,
        G_N_ELEMENTS (size_buckets));
    jobs->f_rate = apm_registry_family (reg,
        "apm_job_transfer_bytes_per_second", APM_METRIC_HISTOGRAM,
        "Bytes per second of wall time of each job, read or written",
        dir_label, size_buckets, G_N_ELEMENTS (size_buckets));
    jobs->f_stage = apm_registry_family (reg, "apm_job_stage_seconds",
        APM_METRIC_HISTOGRAM, "Time of each recorded job stage", stage_label,
        job_seconds_buckets, G_N_ELEMENTS (job_seconds_buckets));
    /* series exist at 0 from the start, so rate() sees the first job */
    apm_series_unref (apm_family_series (jobs->f_started, NULL));
    {
      static const gchar *const statuses[] = { "success", "failed",
        "stopped", "cancelled", NULL
      };
      static const gchar *const successes[] = { "true", "false", NULL };

      for (guint i = 0; statuses[i]; i++) {
        const gchar *v[2] = { statuses[i], NULL };

        apm_series_unref (apm_family_series (jobs->f_completed, v));
      }
      for (guint i = 0; successes[i]; i++) {
        const gchar *v[2] = { successes[i], NULL };

        apm_series_unref (apm_family_series (jobs->f_processing, v));
      }
      apm_series_unref (apm_family_series (jobs->f_in, NULL));
      apm_series_unref (apm_family_series (jobs->f_out, NULL));
    }
  }
  return jobs;
}

void
apm_jobs_set_listener (ApmJobs * jobs, ApmJobListener func,
    gpointer user_data)
{
  jobs->listener = func;
  jobs->listener_data = user_data;
}

static JsonNode *job_to_json (ApmJob * j);

/* tells the listener about @job_id, active or just finished */
static void
announce (ApmJobs * jobs, const gchar * job_id)
{
  JsonNode *node;

  if (!jobs->listener)
    return;
  node = apm_jobs_lookup_json (jobs, job_id);
  if (node) {
    jobs->listener (node, jobs->listener_data);
    json_node_unref (node);
  }
}

void
apm_jobs_set_log (ApmJobs * jobs, ApmLog * log)
{
  jobs->log = log;
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

/* @cid: with an observation, the job's correlation id, whose trace id
 * becomes the bucket's exemplar */
static void
family_add (ApmFamily * f, const gchar * label, gdouble v, gboolean observe,
    const gchar * cid)
{
  const gchar *values[2] = { label, NULL };
  gchar trace_id[APM_TRACE_ID_LEN + 1];
  ApmSeries *s;

  if (!f)
    return;
  s = apm_family_series (f, label ? values : NULL);
  if (observe) {
    apm_histogram_observe (s, v);
    if (cid && apm_trace_id_from_correlation_id (cid, trace_id))
      apm_histogram_set_exemplar (s, v, trace_id);
  } else {
    apm_series_add (s, v);
  }
  apm_series_unref (s);
}

/* called with the lock; takes @j */
static void
finish_locked (ApmJobs * jobs, ApmJob * j, const gchar * status,
    const gchar * error)
{
  gboolean success;

  j->end_wall_us = g_get_real_time ();
  j->processing_seconds = (g_get_monotonic_time () - j->start_mono_us) / 1e6;
  g_free (j->status);
  j->status = g_strdup (status ? status : "success");
  success = g_strcmp0 (j->status, "success") == 0;
  j->error = g_strdup (error);
  if (success)
    jobs->n_succeeded++;
  else if (g_strcmp0 (j->status, "failed") == 0)
    jobs->n_failed++;

  family_add (jobs->f_completed, j->status, 1, FALSE, NULL);
  family_add (jobs->f_processing, success ? "true" : "false",
      j->processing_seconds, TRUE, j->correlation_id);
  if (j->bytes_read >= 0) {
    family_add (jobs->f_in, NULL, j->bytes_read, TRUE, j->correlation_id);
    if (j->processing_seconds > 0)
      family_add (jobs->f_rate, "read", j->bytes_read /
          j->processing_seconds, TRUE, j->correlation_id);
  }
  if (j->bytes_written >= 0) {
    family_add (jobs->f_out, NULL, j->bytes_written, TRUE,
        j->correlation_id);
    if (j->processing_seconds > 0)
      family_add (jobs->f_rate, "written", j->bytes_written /
          j->processing_seconds, TRUE, j->correlation_id);
  }

  g_queue_push_tail (&jobs->finished, j);
  while (jobs->finished.length > jobs->keep)
    job_free (g_queue_pop_head (&jobs->finished));
}

gchar *
apm_jobs_start (ApmJobs * jobs, const gchar * job_id, const gchar * pipeline)
{
  return apm_jobs_start_full (jobs, job_id, pipeline, NULL, NULL);
}

/* keys and values kept as valid UTF-8 of bounded length */
static gchar *
bounded_utf8 (const gchar * text, gsize max_bytes)
{
  gchar *valid = g_utf8_make_valid (text, -1);

  if (strlen (valid) > max_bytes) {
    const gchar *end = g_utf8_find_prev_char (valid, valid + max_bytes + 1);

    valid[end ? end - valid : 0] = '\0';
  }
  return valid;
}

static JsonObject *
labels_object (const gchar * const *labels)
{
  JsonObject *o = json_object_new ();

  for (guint i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
    gchar *key, *value;

    if (!*labels[i] || json_object_get_size (o) >= APM_JOB_MAX_LABELS)
      continue;
    key = bounded_utf8 (labels[i], APM_JOB_MAX_LABEL_BYTES);
    value = bounded_utf8 (labels[i + 1], APM_JOB_MAX_LABEL_BYTES);
    json_object_set_string_member (o, key, value);
    g_free (key);
    g_free (value);
  }
  return o;
}

gchar *
apm_jobs_start_full (ApmJobs * jobs, const gchar * job_id,
    const gchar * pipeline, const ApmTraceContext * parent,
    const gchar * const *labels)
{
  ApmJob *j, *old;
  gchar *cid;
  gchar trace_id[APM_TRACE_ID_HEX_LEN + 1];
  gchar span_id[APM_SPAN_ID_HEX_LEN + 1];

  g_return_val_if_fail (job_id != NULL, NULL);

  j = g_new0 (ApmJob, 1);
  j->job_id = g_strdup (job_id);
  /* a remote parent's trace goes on; else a new trace, sampled: every job
   * is recorded */
  if (parent) {
    j->correlation_id = g_strdup (parent->trace_id);
    memcpy (j->parent_span_id, parent->span_id, sizeof j->parent_span_id);
    j->trace_flags = parent->flags & APM_TRACE_FLAG_SAMPLED;
  } else {
    apm_trace_id_generate (trace_id);
    j->correlation_id = g_strdup (trace_id);
    j->trace_flags = APM_TRACE_FLAG_SAMPLED;
  }
  apm_span_id_generate (j->span_id);
  memcpy (span_id, j->span_id, sizeof span_id);
  j->labels = labels_object (labels);
  j->pipeline = g_strdup (pipeline);
  j->start_wall_us = g_get_real_time ();
  j->start_mono_us = g_get_monotonic_time ();
  j->status = g_strdup ("running");
  j->media_seconds = -1;
  j->bytes_read = j->bytes_written = -1;
  j->stages = json_object_new ();
  cid = g_strdup (j->correlation_id);

  g_mutex_lock (&jobs->lock);
  if (g_hash_table_steal_extended (jobs->active, job_id, NULL,
          (gpointer *) & old))
    finish_locked (jobs, old, "restarted", "started again with the same id");
  g_hash_table_insert (jobs->active, j->job_id, j);
  jobs->n_started++;
  g_mutex_unlock (&jobs->lock);
  family_add (jobs->f_started, NULL, 1, FALSE, NULL);
  if (jobs->log) {
    JsonObject *ctx = json_object_new ();

    json_object_set_string_member (ctx, "job_id", job_id);
    json_object_set_string_member (ctx, "span_id", span_id);
    if (parent)
      json_object_set_string_member (ctx, "parent_span_id", parent->span_id);
    if (pipeline)
      json_object_set_string_member (ctx, "pipeline", pipeline);
    apm_log_write (jobs->log, APM_LOG_INFO, "jobs", cid, ctx,
        "job %s started", job_id);
  }
  announce (jobs, span_id);
  return cid;
}

gboolean
apm_jobs_complete (ApmJobs * jobs, const gchar * job_id, const gchar * status,
    const gchar * error)
{
  ApmJob *j;

  g_return_val_if_fail (job_id != NULL, FALSE);

  g_mutex_lock (&jobs->lock);
  if (!g_hash_table_steal_extended (jobs->active, job_id, NULL,
          (gpointer *) & j)) {
    g_mutex_unlock (&jobs->lock);
    return FALSE;
  }
  {
    gboolean failed = g_strcmp0 (status, "failed") == 0;
    JsonObject *ctx = json_object_new ();
    gchar *cid = g_strdup (j->correlation_id);
    gchar span_id[APM_SPAN_ID_HEX_LEN + 1];
    gdouble secs;

    memcpy (span_id, j->span_id, sizeof span_id);
    finish_locked (jobs, j, status, error);
    secs = j->processing_seconds;
    json_object_set_string_member (ctx, "job_id", job_id);
    json_object_set_string_member (ctx, "span_id", span_id);
    json_object_set_string_member (ctx, "status", j->status);
    json_object_set_double_member (ctx, "duration", secs);
    if (j->pipeline)
      json_object_set_string_member (ctx, "pipeline", j->pipeline);
    if (j->bytes_read >= 0)
      json_object_set_int_member (ctx, "bytes_read", j->bytes_read);
    if (j->bytes_written >= 0)
      json_object_set_int_member (ctx, "bytes_written", j->bytes_written);
    if (error)
      json_object_set_string_member (ctx, "error", error);
    g_mutex_unlock (&jobs->lock);
    if (jobs->log)
      apm_log_write (jobs->log, failed ? APM_LOG_ERROR : APM_LOG_INFO,
          "jobs", cid, ctx, "job %s %s%s%s", job_id, failed ? "failed" :
          "completed", error ? ": " : "", error ? error : "");
    else
      json_object_unref (ctx);
    /* by span id: unique, where job and trace ids may be shared */
    announce (jobs, span_id);
    g_free (cid);
  }
  return TRUE;
}

/* called with the lock: by job id, correlation (trace) id or span id, an
 * active job, else the newest finished one */
static ApmJob *
find_locked (ApmJobs * jobs, const gchar * id)
{
  ApmJob *j = g_hash_table_lookup (jobs->active, id);
  GHashTableIter it;

  if (j)
    return j;
  g_hash_table_iter_init (&it, jobs->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & j))
    if (g_strcmp0 (j->correlation_id, id) == 0
        || g_strcmp0 (j->span_id, id) == 0)
      return j;
  for (GList * l = jobs->finished.tail; l; l = l->prev) {
    j = l->data;
    if (g_strcmp0 (j->job_id, id) == 0
        || g_strcmp0 (j->correlation_id, id) == 0
        || g_strcmp0 (j->span_id, id) == 0)
      return j;
  }
  return NULL;
}

/* called with the lock */
static gchar *
job_traceparent (ApmJob * j)
{
  ApmTraceContext ctx;

  g_strlcpy (ctx.trace_id, j->correlation_id, sizeof ctx.trace_id);
  memcpy (ctx.span_id, j->span_id, sizeof ctx.span_id);
  ctx.flags = j->trace_flags;
  return apm_traceparent_format (&ctx);
}

gchar *
apm_jobs_traceparent (ApmJobs * jobs, const gchar * id)
{
  ApmJob *j;
  gchar *text = NULL;

  g_return_val_if_fail (id != NULL, NULL);

  g_mutex_lock (&jobs->lock);
  j = find_locked (jobs, id);
  if (j)
    text = job_traceparent (j);
  g_mutex_unlock (&jobs->lock);
  return text;
}

gboolean
apm_jobs_record_stage (ApmJobs * jobs, const gchar * job_id,
    const gchar * stage, gdouble seconds, const gchar * const *labels)
{
  ApmJob *j;
  JsonObject *o, *l;
  gchar *cid;

  g_return_val_if_fail (job_id != NULL && stage != NULL, FALSE);
  if (!isfinite (seconds) || seconds < 0)
    return FALSE;

  g_mutex_lock (&jobs->lock);
  j = find_locked (jobs, job_id);
  if (!j) {
    g_mutex_unlock (&jobs->lock);
    return FALSE;
  }
  o = json_object_has_member (j->stages, stage) ?
      json_object_get_object_member (j->stages, stage) : NULL;
  if (!o) {
    o = json_object_new ();
    json_object_set_double_member (o, "seconds", 0);
    json_object_set_int_member (o, "count", 0);
    json_object_set_object_member (j->stages, stage, o);
  }
  json_object_set_double_member (o, "seconds",
      json_object_get_double_member (o, "seconds") + seconds);
  json_object_set_int_member (o, "count",
      json_object_get_int_member (o, "count") + 1);
  /* when the stage (its last part) ended: where a trace places it */
  json_object_set_int_member (o, "last_recorded_us", g_get_real_time ());
  if (labels && labels[0]) {
    l = json_object_new ();
    for (guint i = 0; labels[i] && labels[i + 1]; i += 2)
      json_object_set_string_member (l, labels[i], labels[i + 1]);
    json_object_set_object_member (o, "labels", l);
  }
  cid = g_strdup (j->correlation_id);
  g_mutex_unlock (&jobs->lock);
  family_add (jobs->f_stage, stage, seconds, TRUE, cid);
  g_free (cid);
  return TRUE;
}

gboolean
apm_jobs_set_transfer (ApmJobs * jobs, const gchar * job_id,
    gdouble media_seconds, gint64 bytes_read, gint64 bytes_written)
{
  ApmJob *j;

  g_mutex_lock (&jobs->lock);
  j = g_hash_table_lookup (jobs->active, job_id);
  if (j) {
    if (media_seconds >= 0)
      j->media_seconds = media_seconds;
    if (bytes_read >= 0)
      j->bytes_read = bytes_read;
    if (bytes_written >= 0)
      j->bytes_written = bytes_written;
  }
  g_mutex_unlock (&jobs->lock);
  return j != NULL;
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

guint
apm_jobs_recent_failures (ApmJobs * jobs, guint n)
{
  guint failed = 0, seen = 0;

  g_mutex_lock (&jobs->lock);
  for (GList * l = jobs->finished.tail; l && seen < n; l = l->prev, seen++)
    if (g_strcmp0 (((ApmJob *) l->data)->status, "failed") == 0)
      failed++;
  g_mutex_unlock (&jobs->lock);
  return failed;
}

gdouble
apm_jobs_longest_active_seconds (ApmJobs * jobs)
{
  GHashTableIter it;
  ApmJob *j;
  gint64 now = g_get_monotonic_time (), longest = 0;

  g_mutex_lock (&jobs->lock);
  g_hash_table_iter_init (&it, jobs->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & j))
    longest = MAX (longest, now - j->start_mono_us);
  g_mutex_unlock (&jobs->lock);
  return longest / 1e6;
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

static void
set_time (JsonObject * o, const gchar * name, gint64 wall_us)
{
  gchar *text = apm_time_format (wall_us);

  json_object_set_string_member (o, name, text);
  g_free (text);
}

/* called with the lock */
static JsonNode *
job_to_json (ApmJob * j)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gboolean active = j->end_wall_us == 0;
  gdouble seconds = active ?
      (g_get_monotonic_time () - j->start_mono_us) / 1e6 :
      j->processing_seconds;
  gchar *traceparent;

  json_object_set_string_member (o, "job_id", j->job_id);
  json_object_set_string_member (o, "correlation_id", j->correlation_id);
  json_object_set_string_member (o, "trace_id", j->correlation_id);
  json_object_set_string_member (o, "span_id", j->span_id);
  if (*j->parent_span_id)
    json_object_set_string_member (o, "parent_span_id", j->parent_span_id);
  else
    json_object_set_null_member (o, "parent_span_id");
  traceparent = job_traceparent (j);
  json_object_set_string_member (o, "traceparent", traceparent);
  g_free (traceparent);
  json_object_set_object_member (o, "labels", json_object_ref (j->labels));
  if (j->pipeline)
    json_object_set_string_member (o, "pipeline", j->pipeline);
  json_object_set_string_member (o, "status", j->status);
  set_time (o, "started_at", j->start_wall_us);
  if (active)
    json_object_set_null_member (o, "ended_at");
  else
    set_time (o, "ended_at", j->end_wall_us);
  json_object_set_double_member (o, "processing_seconds", seconds);
  if (j->error)
    json_object_set_string_member (o, "error", j->error);
  else
    json_object_set_null_member (o, "error");
  if (j->media_seconds >= 0) {
    json_object_set_double_member (o, "media_seconds", j->media_seconds);
    if (seconds > 0)
      json_object_set_double_member (o, "realtime_factor",
          j->media_seconds / seconds);
  }
  if (j->bytes_read >= 0)
    json_object_set_int_member (o, "bytes_read", j->bytes_read);
  if (j->bytes_written >= 0)
    json_object_set_int_member (o, "bytes_written", j->bytes_written);
  json_object_set_object_member (o, "stages", json_object_ref (j->stages));
  json_node_take_object (node, o);
  return node;
}

JsonNode *
apm_jobs_to_json (ApmJobs * jobs, guint limit)
{
  JsonObject *root = json_object_new (), *summary = json_object_new ();
  JsonArray *active = json_array_new (), *finished = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  GHashTableIter it;
  ApmJob *j;
  guint n = 0;

  g_mutex_lock (&jobs->lock);
  g_hash_table_iter_init (&it, jobs->active);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & j))
    json_array_add_element (active, job_to_json (j));
  for (GList * l = jobs->finished.tail; l && (!limit || n < limit);
      l = l->prev, n++)
    json_array_add_element (finished, job_to_json (l->data));
  json_object_set_int_member (summary, "active", g_hash_table_size
      (jobs->active));
  json_object_set_int_member (summary, "started", jobs->n_started);
  json_object_set_int_member (summary, "succeeded", jobs->n_succeeded);
  json_object_set_int_member (summary, "failed", jobs->n_failed);
  json_object_set_int_member (summary, "kept", jobs->finished.length);
  g_mutex_unlock (&jobs->lock);

  json_object_set_object_member (root, "summary", summary);
  json_object_set_array_member (root, "active", active);
  json_object_set_array_member (root, "finished", finished);
  json_node_take_object (node, root);
  return node;
}

JsonNode *
apm_jobs_lookup_json (ApmJobs * jobs, const gchar * id)
{
  ApmJob *j;
  JsonNode *node = NULL;

  g_mutex_lock (&jobs->lock);
  j = find_locked (jobs, id);
  if (j)
    node = job_to_json (j);
  g_mutex_unlock (&jobs->lock);
  return node;
}

void
apm_job_sample_clear (ApmJobSample * sample)
{
  g_clear_pointer (&sample->value, g_free);
}

GArray *
apm_jobs_samples (ApmJobs * jobs, const gchar * key, gint64 since_us,
    guint * n_unlabelled)
{
  GArray *samples = g_array_new (FALSE, FALSE, sizeof (ApmJobSample));
  guint unlabelled = 0;

  g_array_set_clear_func (samples, (GDestroyNotify) apm_job_sample_clear);
  g_mutex_lock (&jobs->lock);
  for (GList * l = jobs->finished.head; l; l = l->next) {
    ApmJob *j = l->data;
    ApmJobSample sample;

    if (j->end_wall_us < since_us)
      continue;
    if (!json_object_has_member (j->labels, key)) {
      unlabelled++;
      continue;
    }
    sample.value = g_strdup (json_object_get_string_member (j->labels, key));
    sample.success = g_strcmp0 (j->status, "success") == 0;
    sample.processing_seconds = j->processing_seconds;
    sample.bytes_read = j->bytes_read;
    sample.bytes_written = j->bytes_written;
    g_array_append_val (samples, sample);
  }
  g_mutex_unlock (&jobs->lock);
  if (n_unlabelled)
    *n_unlabelled = unlabelled;
  return samples;
}

/* the span ids and labels a saved job had (a file from before trace
 * context has none: the job gets a span id of its own) */
static void
restore_trace_context (ApmJob * j, JsonObject * o)
{
  const gchar *span = apm_json_string (o, "span_id");
  const gchar *parent = apm_json_string (o, "parent_span_id");
  JsonNode *labels = json_object_get_member (o, "labels");

  if (span && apm_trace_hex_id_is_valid (span, APM_SPAN_ID_HEX_LEN))
    g_strlcpy (j->span_id, span, sizeof j->span_id);
  else
    apm_span_id_generate (j->span_id);
  if (parent && apm_trace_hex_id_is_valid (parent, APM_SPAN_ID_HEX_LEN))
    g_strlcpy (j->parent_span_id, parent, sizeof j->parent_span_id);
  j->trace_flags = APM_TRACE_FLAG_SAMPLED;
  j->labels = json_object_new ();
  if (labels && JSON_NODE_HOLDS_OBJECT (labels)) {
    JsonObject *lo = json_node_get_object (labels);
    GList *names = json_object_get_members (lo);

    for (GList * l = names; l; l = l->next) {
      const gchar *value = apm_json_string (lo, l->data);

      if (value && json_object_get_size (j->labels) < APM_JOB_MAX_LABELS)
        json_object_set_string_member (j->labels, l->data, value);
    }
    g_list_free (names);
  }
}

guint
apm_jobs_restore_finished (ApmJobs * jobs, JsonArray * finished)
{
  guint n = 0, len = json_array_get_length (finished);

  g_mutex_lock (&jobs->lock);
  for (guint i = 0; i < len && jobs->finished.length < jobs->keep; i++) {
    JsonNode *node = json_array_get_element (finished, i);
    JsonObject *o = JSON_NODE_HOLDS_OBJECT (node) ?
        json_node_get_object (node) : NULL;
    const gchar *job_id = o ? apm_json_string (o, "job_id") : NULL;
    const gchar *cid = o ? apm_json_string (o, "correlation_id") : NULL;
    const gchar *status = o ? apm_json_string (o, "status") : NULL;
    JsonNode *stages = o ? json_object_get_member (o, "stages") : NULL;
    gint64 end = o ? apm_time_parse (apm_json_string (o, "ended_at")) : 0;
    ApmJob *j;

    if (!job_id || !cid || !status || !end)
      continue;
    j = g_new0 (ApmJob, 1);
    j->job_id = g_strdup (job_id);
    j->correlation_id = g_strdup (cid);
    j->pipeline = g_strdup (apm_json_string (o, "pipeline"));
    j->status = g_strdup (status);
    j->error = g_strdup (apm_json_string (o, "error"));
    j->start_wall_us = apm_time_parse (apm_json_string (o, "started_at"));
    j->end_wall_us = end;
    j->processing_seconds = apm_json_number (o, "processing_seconds", 0);
    j->media_seconds = apm_json_number (o, "media_seconds", -1);
    j->bytes_read = apm_json_number (o, "bytes_read", -1);
    j->bytes_written = apm_json_number (o, "bytes_written", -1);
    j->stages = stages && JSON_NODE_HOLDS_OBJECT (stages) ?
        json_object_ref (json_node_get_object (stages)) : json_object_new ();
    restore_trace_context (j, o);
    g_queue_push_head (&jobs->finished, j);
    n++;
  }
  g_mutex_unlock (&jobs->lock);
  return n;
}
