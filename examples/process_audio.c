/* gst-apm example: monitoring an audio processing service from C
 *
 * The same program as process_audio.py, with the C API (<apm.h>): a worker
 * transcodes WAV files to FLAC with GStreamer pipelines and reports each
 * job to the monitor of its process (start_job_tracking, the spec's
 * record_*_metrics helpers, record_job_stage, complete_job_tracking), with
 * a structured logger, a custom health check, custom alert rules and
 * custom metrics.  The apm tracer times every element; an apmonitor
 * element measures the audio.
 *
 * It generates its input files in a temporary directory, runs five jobs
 * (one a cache hit, one failing on purpose: its input does not exist),
 * then checks over HTTP (libsoup) what the service serves, and exits 0
 * when everything is there.
 *
 *   build/examples/process-audio [--port N] [--serve]
 *
 * (with GST_PLUGIN_PATH=build/gst-plugin when the plugin is not installed)
 */
#include <apm.h>
#include <gst/gst.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <string.h>

/* the tracer's params are read at gst_init(): quiet (we print the URL),
 * alert rules evaluated every second (default 30 s) so that this short run
 * sees its alert fire */
#define TRACER_PARAMS "quiet=true,alert-interval=1"
#define PIPELINE_TIMEOUT (20 * GST_SECOND)
#define CACHE_NAME "transcode_cache"
#define SLOW_JOB_SECONDS 3600.0

/* --- the worker --------------------------------------------------------- */

typedef struct
{
  gchar *job_id;
  gchar *correlation_id;
  gchar *status;
  gboolean transcoded;
  gdouble seconds;
} JobResult;

typedef struct
{
  ApmMonitor *monitor;
  ApmLogger *logger;
  gchar *out_dir, *upload_dir;
  GHashTable *cache;            /* sha256 of the input -> uploaded file */
  /* read by the health check (a worker thread of the monitor) and the
   * alert rules (its service thread) */
  GMutex lock;
  GPtrArray *results;           /* JobResult */
} Worker;

static void
job_result_free (JobResult * r)
{
  g_free (r->job_id);
  g_free (r->correlation_id);
  g_free (r->status);
  g_free (r);
}

static void
worker_clear (Worker * w)
{
  g_object_unref (w->logger);
  g_free (w->out_dir);
  g_free (w->upload_dir);
  g_hash_table_unref (w->cache);
  g_mutex_clear (&w->lock);
  g_ptr_array_unref (w->results);
}

/* The worker is shared with the monitor's callbacks: reference counted,
 * each callback holds a reference and releases it in its destroy notify
 * (a check may still be running when it is removed). */
static Worker *
worker_new (const gchar * work_dir)
{
  Worker *w = g_atomic_rc_box_new0 (Worker);

  w->monitor = apm_monitor_get_default ();
  w->logger = apm_logger_new ("audio_worker");  /* StructuredLogger */
  w->out_dir = g_build_filename (work_dir, "transcoded", NULL);
  w->upload_dir = g_build_filename (work_dir, "uploads", NULL);
  g_mkdir_with_parents (w->out_dir, 0700);
  g_mkdir_with_parents (w->upload_dir, 0700);
  w->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&w->lock);
  w->results = g_ptr_array_new_with_free_func ((GDestroyNotify)
      job_result_free);
  return w;
}

static gpointer
worker_ref (Worker * w)
{
  return g_atomic_rc_box_acquire (w);
}

static void
worker_unref (gpointer w)
{
  g_atomic_rc_box_release_full (w, (GDestroyNotify) worker_clear);
}

/* Plays @pipeline to EOS, or fails with the ERROR it posts or past the
 * deadline.  Leaves it in NULL. */
static gboolean
run_pipeline (GstElement * pipeline, GError ** error)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstClockTime deadline = g_get_monotonic_time () * GST_USECOND +
      PIPELINE_TIMEOUT;
  gboolean ok = FALSE, done = FALSE;

  /* a failure to start posts an ERROR too */
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (!done) {
    GstClockTime now = g_get_monotonic_time () * GST_USECOND;
    GstMessage *msg;

    if (now >= deadline) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
          "%s: no EOS within %" GST_TIME_FORMAT, GST_OBJECT_NAME (pipeline),
          GST_TIME_ARGS (PIPELINE_TIMEOUT));
      break;
    }
    msg = gst_bus_timed_pop_filtered (bus, MIN (deadline - now,
            GST_SECOND / 2), GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      ok = TRUE;
    } else {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      g_set_error (error, err->domain, err->code, "%s: %s",
          GST_MESSAGE_SRC_NAME (msg), err->message);
      g_error_free (err);
    }
    done = TRUE;
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

static GstElement *
make_pipeline (const gchar * description, const gchar * name)
{
  GError *error = NULL;
  GstElement *p = gst_parse_launch (description, &error);

  if (!p)
    g_error ("cannot build '%s': %s", description, error->message);
  gst_object_set_name (GST_OBJECT (p), name);
  return p;
}

static void
set_location (GstElement * pipeline, const gchar * element,
    const gchar * path)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (pipeline), element);

  g_object_set (e, "location", path, NULL);
  gst_object_unref (e);
}

static gboolean
transcode (const gchar * job_id, const gchar * in, const gchar * out,
    GError ** error)
{
  gchar *name = g_strconcat ("transcode-", job_id, NULL);
  /* the tracer labels every metric of this run with the pipeline's name */
  GstElement *p = make_pipeline ("filesrc name=src ! wavparse ! "
      "audioconvert ! audioresample ! apmonitor name=levels ! "
      "flacenc name=encoder ! filesink name=sink", name);
  gboolean ok;

  set_location (p, "src", in);
  set_location (p, "sink", out);
  ok = run_pipeline (p, error);
  gst_object_unref (p);
  g_free (name);
  return ok;
}

static gchar *
json_text (const gchar * first, ...)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *node;
  const gchar *key;
  gchar *text;
  va_list args;

  json_builder_begin_object (b);
  va_start (args, first);
  for (key = first; key; key = va_arg (args, const gchar *)) {
    json_builder_set_member_name (b, key);
    json_builder_add_string_value (b, va_arg (args, const gchar *));
  }
  va_end (args);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  g_object_unref (b);
  return text;
}

static GHashTable *
labels1 (const gchar * key, const gchar * value)
{
  GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (t, (gpointer) key, (gpointer) value);
  return t;
}

static void
finish (Worker * w, const gchar * job_id, const gchar * cid,
    const gchar * status, const gchar * error, gboolean transcoded,
    gint64 start)
{
  JobResult *r = g_new0 (JobResult, 1);
  GHashTable *labels = labels1 ("result", status);

  apm_monitor_complete_job_tracking (w->monitor, job_id, status, error);
  apm_monitor_increment_counter (w->monitor, "audio_jobs_total", 1, labels);
  g_hash_table_unref (labels);

  r->job_id = g_strdup (job_id);
  r->correlation_id = g_strdup (cid);
  r->status = g_strdup (status);
  r->transcoded = transcoded;
  r->seconds = (g_get_monotonic_time () - start) / 1e6;
  g_mutex_lock (&w->lock);
  g_ptr_array_add (w->results, r);
  g_mutex_unlock (&w->lock);
}

/* The spec's process_audio_job(): one job, from start to complete. */
static void
process_audio_job (Worker * w, const gchar * job_id, const gchar * path)
{
  ApmMonitor *monitor = w->monitor;
  gchar *cid = apm_monitor_start_job_tracking (monitor, job_id);
  gint64 start = g_get_monotonic_time (), t0;
  gchar *ctx, *contents = NULL, *key = NULL, *out = NULL, *uploaded = NULL;
  const gchar *cached = NULL;
  gsize size = 0;
  gdouble secs;
  GHashTable *labels;
  GError *error = NULL;
  GFile *from, *to;

  ctx = json_text ("job_id", job_id, "input", path, NULL);
  apm_logger_info (w->logger, "Job started", cid, ctx);
  g_free (ctx);

  /* 1. the cache: an input processed before is not transcoded again */
  t0 = g_get_monotonic_time ();
  if (g_file_get_contents (path, &contents, &size, NULL)) {
    key = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *)
        contents, size);
    cached = g_hash_table_lookup (w->cache, key);
  }
  secs = (g_get_monotonic_time () - t0) / 1e6;
  apm_monitor_record_cache_metrics (monitor, CACHE_NAME, cached != NULL,
      secs);
  labels = labels1 ("result", cached ? "hit" : "miss");
  apm_monitor_record_job_stage (monitor, job_id, "cache_lookup", secs,
      labels);
  g_hash_table_unref (labels);
  if (cached) {
    ctx = json_text ("job_id", job_id, "output", cached, NULL);
    apm_logger_info (w->logger, "Cache hit", cid, ctx);
    g_free (ctx);
    finish (w, job_id, cid, "success", NULL, FALSE, start);
    goto out;
  }

  /* 2. the transcode, a real GStreamer pipeline */
  out = g_strdup_printf ("%s/%s.flac", w->out_dir, job_id);
  t0 = g_get_monotonic_time ();
  if (!transcode (job_id, path, out, &error)) {
    apm_monitor_record_audio_processing_metrics (monitor, job_id, size,
        (g_get_monotonic_time () - t0) / 1e6, FALSE);
    goto failed;
  }
  secs = (g_get_monotonic_time () - t0) / 1e6;
  apm_monitor_record_audio_processing_metrics (monitor, job_id, size, secs,
      TRUE);
  labels = labels1 ("format", "flac");
  apm_monitor_record_job_stage (monitor, job_id, "transcode", secs, labels);
  g_hash_table_unref (labels);
  labels = labels1 ("success", "true");
  apm_monitor_record_histogram (monitor, "audio_processing_time_seconds",
      secs, labels);
  g_hash_table_unref (labels);

  /* 3. the "upload": a copy into the upload directory */
  t0 = g_get_monotonic_time ();
  uploaded = g_strdup_printf ("%s/%s.flac", w->upload_dir, job_id);
  from = g_file_new_for_path (out);
  to = g_file_new_for_path (uploaded);
  if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL,
          &error)) {
    apm_monitor_record_upload_metrics (monitor, 0,
        (g_get_monotonic_time () - t0) / 1e6, FALSE);
  } else {
    GFileInfo *info = g_file_query_info (to, G_FILE_ATTRIBUTE_STANDARD_SIZE,
        G_FILE_QUERY_INFO_NONE, NULL, NULL);
    gint64 out_size = info ? g_file_info_get_size (info) : 0;
    gchar *n1, *n2;

    secs = (g_get_monotonic_time () - t0) / 1e6;
    apm_monitor_record_upload_metrics (monitor, out_size, secs, TRUE);
    labels = labels1 ("destination", "local");
    apm_monitor_record_job_stage (monitor, job_id, "upload", secs, labels);
    g_hash_table_unref (labels);
    g_hash_table_insert (w->cache, g_strdup (key), g_strdup (uploaded));
    n1 = g_strdup_printf ("%" G_GSIZE_FORMAT, size);
    n2 = g_strdup_printf ("%" G_GINT64_FORMAT, out_size);
    ctx = json_text ("job_id", job_id, "input_bytes", n1, "output_bytes",
        n2, NULL);
    apm_logger_info (w->logger, "Operation completed", cid, ctx);
    g_free (ctx);
    g_free (n1);
    g_free (n2);
    g_clear_object (&info);
  }
  g_object_unref (from);
  g_object_unref (to);
  if (error)
    goto failed;
  finish (w, job_id, cid, "success", NULL, TRUE, start);
  goto out;

failed:
  ctx = json_text ("job_id", job_id, "error", error->message, NULL);
  apm_logger_error (w->logger, "Job failed", cid, ctx);
  g_free (ctx);
  finish (w, job_id, cid, "failed", error->message, FALSE, start);
  g_error_free (error);
out:
  g_free (contents);
  g_free (key);
  g_free (out);
  g_free (uploaded);
  g_free (cid);
}

/* --- what the monitor calls back ---------------------------------------- */

/* The custom health check, on a worker thread of the monitor. */
static ApmHealthStatus
check_transcoder (gpointer user_data, gchar ** message, gchar ** details)
{
  Worker *w = user_data;
  const gchar *needed[] = { "wavparse", "flacenc", "apmonitor" };
  GString *missing = g_string_new (NULL);
  GFile *dir = g_file_new_for_path (w->upload_dir);
  GFileInfo *fs = g_file_query_filesystem_info (dir,
      G_FILE_ATTRIBUTE_FILESYSTEM_FREE, NULL, NULL);
  guint64 free_bytes = fs ? g_file_info_get_attribute_uint64 (fs,
      G_FILE_ATTRIBUTE_FILESYSTEM_FREE) : 0;
  ApmHealthStatus status = APM_HEALTH_HEALTHY;

  for (guint i = 0; i < G_N_ELEMENTS (needed); i++) {
    GstElementFactory *f = gst_element_factory_find (needed[i]);

    if (!f)
      g_string_append_printf (missing, "%s%s", missing->len ? ", " : "",
          needed[i]);
    else
      gst_object_unref (f);
  }
  *details = g_strdup_printf ("{\"upload_dir\": \"%s\", \"free_bytes\": %"
      G_GUINT64_FORMAT ", \"missing_elements\": \"%s\"}", w->upload_dir,
      free_bytes, missing->str);
  if (missing->len) {
    *message = g_strdup_printf ("Missing elements: %s", missing->str);
    status = APM_HEALTH_UNHEALTHY;
  } else if (free_bytes < 100 * 1024 * 1024) {
    *message = g_strdup_printf ("Low disk space: %.1f MB free",
        free_bytes / 1e6);
    status = APM_HEALTH_DEGRADED;
  } else {
    *message = g_strdup_printf ("Transcoder is ready (%.1f GB free)",
        free_bytes / 1e9);
  }
  g_string_free (missing, TRUE);
  g_clear_object (&fs);
  g_object_unref (dir);
  return status;
}

/* The spec's custom alert condition, on the monitor's service thread at
 * each evaluation (keep it quick): the longest of the last 10 jobs. */
static gboolean
very_slow_jobs (gpointer user_data, gdouble * value)
{
  Worker *w = user_data;
  gdouble longest = 0;

  g_mutex_lock (&w->lock);
  for (guint i = w->results->len > 10 ? w->results->len - 10 : 0;
      i < w->results->len; i++)
    longest = MAX (longest,
        ((JobResult *) g_ptr_array_index (w->results, i))->seconds);
  g_mutex_unlock (&w->lock);
  *value = longest;
  return longest > SLOW_JOB_SECONDS;
}

static gboolean
failed_jobs (gpointer user_data, gdouble * value)
{
  Worker *w = user_data;
  guint failed = 0;

  g_mutex_lock (&w->lock);
  for (guint i = 0; i < w->results->len; i++)
    if (g_strcmp0 (((JobResult *) g_ptr_array_index (w->results,
                    i))->status, "failed") == 0)
      failed++;
  g_mutex_unlock (&w->lock);
  *value = failed;
  return failed > 0;
}

/* --- input files -------------------------------------------------------- */

static void
generate_wav (const gchar * path, const gchar * wave, gdouble freq,
    gdouble seconds)
{
  gchar *base = g_path_get_basename (path);
  gchar *name = g_strconcat ("generate-", base, NULL);
  GstElement *p = make_pipeline ("audiotestsrc name=src "
      "samplesperbuffer=4410 ! audio/x-raw,format=S16LE,rate=44100,"
      "channels=2 ! wavenc ! filesink name=sink", name);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GError *error = NULL;

  g_object_set (src, "num-buffers", (gint) (seconds * 10), "freq", freq,
      NULL);
  gst_util_set_object_arg (G_OBJECT (src), "wave", wave);
  gst_object_unref (src);
  set_location (p, "sink", path);
  if (!run_pipeline (p, &error))
    g_error ("cannot generate %s: %s", path, error->message);
  gst_object_unref (p);
  g_free (name);
  g_free (base);
}

/* --- checking what the service serves ----------------------------------- */

typedef struct
{
  SoupSession *session;
  gchar *base_url;
  guint passed, failed;
} Checker;

static gboolean
check (Checker * c, gboolean condition, const gchar * format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
check (Checker * c, gboolean condition, const gchar * format, ...)
{
  va_list args;
  gchar *what;

  if (condition) {
    c->passed++;
    return TRUE;
  }
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("  FAIL: %s\n", what);
  g_free (what);
  c->failed++;
  return FALSE;
}

/* GET @path: the body, or NULL (and a failed check) */
static gchar *
http_get (Checker * c, const gchar * path)
{
  gchar *uri = g_strconcat (c->base_url, path, NULL);
  SoupMessage *msg = soup_message_new ("GET", uri);
  GError *error = NULL;
  GBytes *body = soup_session_send_and_read (c->session, msg, NULL, &error);
  gchar *text = NULL;

  if (body && soup_message_get_status (msg) == SOUP_STATUS_OK)
    text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  else
    check (c, FALSE, "GET %s: %s %u", path, error ? error->message :
        "status", soup_message_get_status (msg));
  g_clear_error (&error);
  if (body)
    g_bytes_unref (body);
  g_object_unref (msg);
  g_free (uri);
  return text;
}

/* GET @path as JSON: the root object's node, or NULL */
static JsonNode *
get_json (Checker * c, const gchar * path)
{
  gchar *text = http_get (c, path);
  JsonNode *node = text ? json_from_string (text, NULL) : NULL;

  if (text && !(node && JSON_NODE_HOLDS_OBJECT (node))) {
    check (c, FALSE, "GET %s is a JSON object", path);
    g_clear_pointer (&node, json_node_unref);
  }
  g_free (text);
  return node;
}

typedef gboolean (*JsonPredicate) (JsonObject * root);

/* GETs @path until @done holds or 10 s have passed: the last document */
static JsonNode *
poll_json (Checker * c, const gchar * path, JsonPredicate done)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;) {
    JsonNode *doc = get_json (c, path);

    if (!doc || done (json_node_get_object (doc))
        || g_get_monotonic_time () >= deadline)
      return doc;
    json_node_unref (doc);
    g_usleep (100 * 1000);
  }
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar **) a, *(const gchar **) b);
}

/* "name" and its labels in any order -> "name{a=\"1\",b=\"2\"}" */
static gchar *
series_key (const gchar * name, GPtrArray * pairs)
{
  GString *key = g_string_new (name);

  if (pairs->len) {
    g_ptr_array_sort (pairs, compare_strings);
    g_string_append_c (key, '{');
    for (guint i = 0; i < pairs->len; i++)
      g_string_append_printf (key, "%s%s", i ? "," : "",
          (gchar *) g_ptr_array_index (pairs, i));
    g_string_append_c (key, '}');
  }
  return g_string_free (key, FALSE);
}

/* Prometheus text -> { series key -> value text } */
static GHashTable *
parse_metrics (const gchar * text)
{
  GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  gchar **lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    gchar *p = lines[i], *name_end = p + strcspn (p, "{ ");
    GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
    gchar *name;

    if (!*p || *p == '#') {
      g_ptr_array_unref (pairs);
      continue;
    }
    name = g_strndup (p, name_end - p);
    p = name_end;
    if (*p == '{') {
      p++;
      while (*p && *p != '}') {
        gchar *start = p;

        p = strchr (p, '"');    /* opening quote */
        if (!p)
          break;
        for (p++; *p && *p != '"'; p++)
          if (*p == '\\' && p[1])
            p++;
        if (*p)
          p++;                  /* closing quote */
        g_ptr_array_add (pairs, g_strndup (start, p - start));
        if (*p == ',')
          p++;
      }
      if (*p == '}')
        p++;
    }
    if (*p == ' ')
      g_hash_table_insert (t, series_key (name, pairs), g_strdup (p + 1));
    g_free (name);
    g_ptr_array_unref (pairs);
  }
  g_strfreev (lines);
  return t;
}

/* the value of a series (NULL-terminated label name, value pairs), or -1 */
static gdouble
metric (GHashTable * metrics, const gchar * name, ...)
{
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  const gchar *k;
  gchar *key;
  const gchar *v;
  va_list args;

  va_start (args, name);
  while ((k = va_arg (args, const gchar *))) {
    const gchar *value = va_arg (args, const gchar *);

    g_ptr_array_add (pairs, g_strdup_printf ("%s=\"%s\"", k, value));
  }
  va_end (args);
  key = series_key (name, pairs);
  v = g_hash_table_lookup (metrics, key);
  g_free (key);
  g_ptr_array_unref (pairs);
  return v ? g_ascii_strtod (v, NULL) : -1;
}

static JsonObject *
find_job (JsonArray * jobs, const gchar * job_id)
{
  for (guint i = 0; i < json_array_get_length (jobs); i++) {
    JsonObject *j = json_array_get_object_element (jobs, i);

    if (g_strcmp0 (json_object_get_string_member (j, "job_id"), job_id) == 0)
      return j;
  }
  return NULL;
}

static gboolean
transcoder_has_run (JsonObject * root)
{
  JsonObject *checks = json_object_get_object_member
      (json_object_get_object_member (root, "monitoring"), "health_checks");
  JsonObject *tc = json_object_has_member (checks, "transcoder") ?
      json_object_get_object_member (checks, "transcoder") : NULL;

  return tc && json_object_has_member (tc, "last_run");
}

static JsonObject *
find_alert (JsonObject * root, const gchar * rule)
{
  JsonArray *alerts = json_object_get_array_member (root, "alerts");

  for (guint i = 0; i < json_array_get_length (alerts); i++) {
    JsonObject *a = json_array_get_object_element (alerts, i);

    if (g_strcmp0 (json_object_get_string_member (a, "rule"), rule) == 0)
      return a;
  }
  return NULL;
}

static gboolean
failed_jobs_firing (JsonObject * root)
{
  JsonObject *a = find_alert (root, "failed_jobs");

  return a && g_strcmp0 (json_object_get_string_member (a, "state"),
      "firing") == 0;
}

static void
verify_jobs (Checker * c, Worker * w, guint * n_ok, guint * n_failed,
    guint * n_transcoded)
{
  JsonNode *doc = get_json (c, "/monitoring/jobs?limit=0");
  JsonArray *finished;

  if (!doc)
    return;
  finished = json_object_get_array_member (json_node_get_object (doc),
      "finished");
  for (guint i = 0; i < w->results->len; i++) {
    JobResult *r = g_ptr_array_index (w->results, i);
    JsonObject *j = find_job (finished, r->job_id), *stages;

    if (g_strcmp0 (r->status, "success") == 0)
      (*n_ok)++;
    else
      (*n_failed)++;
    if (r->transcoded)
      (*n_transcoded)++;
    if (!check (c, j != NULL, "job %s in /monitoring/jobs", r->job_id))
      continue;
    check (c, g_strcmp0 (json_object_get_string_member (j,
                "correlation_id"), r->correlation_id) == 0,
        "job %s has correlation id %s", r->job_id, r->correlation_id);
    check (c, g_strcmp0 (json_object_get_string_member (j, "status"),
            r->status) == 0, "job %s is %s", r->job_id, r->status);
    stages = json_object_get_object_member (j, "stages");
    if (g_strcmp0 (r->status, "failed") == 0)
      check (c, !json_object_get_null_member (j, "error"),
          "failed job %s has an error", r->job_id);
    else if (r->transcoded)
      check (c, json_object_has_member (stages, "cache_lookup")
          && json_object_has_member (stages, "transcode")
          && json_object_has_member (stages, "audio_processing")
          && json_object_has_member (stages, "upload"),
          "job %s has all its stages", r->job_id);
    else
      check (c, json_object_has_member (stages, "cache_lookup"),
          "cached job %s has its cache_lookup stage", r->job_id);
  }
  json_node_unref (doc);

  /* a job is found by its correlation id too */
  {
    JobResult *r = g_ptr_array_index (w->results, 0);
    gchar *path = g_strconcat ("/monitoring/jobs/", r->correlation_id, NULL);

    doc = get_json (c, path);
    check (c, doc && g_strcmp0 (json_object_get_string_member
            (json_node_get_object (doc), "job_id"), r->job_id) == 0,
        "GET %s is job %s", path, r->job_id);
    if (doc)
      json_node_unref (doc);
    g_free (path);
  }
}

static void
verify_health_and_alerts (Checker * c, Worker * w, guint n_failed)
{
  JsonNode *doc;
  gchar *text;

  doc = poll_json (c, "/health/monitoring", transcoder_has_run);
  if (doc) {
    gboolean ran = transcoder_has_run (json_node_get_object (doc));

    if (check (c, ran, "custom check transcoder in /health/monitoring")) {
      JsonObject *tc = json_object_get_object_member
          (json_object_get_object_member (json_object_get_object_member
              (json_node_get_object (doc), "monitoring"), "health_checks"),
          "transcoder");

      check (c, g_strcmp0 (json_object_get_string_member (tc, "status"),
              "healthy") == 0, "transcoder is healthy: %s",
          json_object_get_string_member (tc, "message"));
      check (c, json_object_has_member (json_object_get_object_member (tc,
                  "details"), "free_bytes"), "transcoder check details");
    }
    json_node_unref (doc);
  }

  doc = poll_json (c, "/monitoring/alerts", failed_jobs_firing);
  if (doc) {
    JsonObject *root = json_node_get_object (doc);
    JsonObject *a = find_alert (root, "failed_jobs");

    if (check (c, a != NULL, "custom alert failed_jobs is active"))
      check (c, failed_jobs_firing (root)
          && json_object_get_double_member (a, "value") == n_failed
          && g_strcmp0 (json_object_get_string_member (a, "severity"),
              "warning") == 0, "failed_jobs alert is firing with value %u",
          n_failed);
    check (c, find_alert (root, "very_slow_jobs") == NULL,
        "very_slow_jobs does not fire");
    json_node_unref (doc);
  }
  text = apm_monitor_get_active_alerts (w->monitor);
  check (c, strstr (text, "\"failed_jobs\"") != NULL,
      "apm_monitor_get_active_alerts() has failed_jobs");
  g_free (text);

  /* the logger's lines, by correlation id */
  for (guint i = 0; i < w->results->len; i++) {
    JobResult *r = g_ptr_array_index (w->results, i);
    gchar *path;
    gboolean found = FALSE;
    JsonArray *logs;

    if (g_strcmp0 (r->status, "failed") != 0)
      continue;
    path = g_strconcat ("/monitoring/logs?correlation_id=",
        r->correlation_id, NULL);
    doc = get_json (c, path);
    logs = doc ? json_object_get_array_member (json_node_get_object (doc),
        "logs") : NULL;
    for (guint k = 0; logs && k < json_array_get_length (logs); k++) {
      JsonObject *l = json_array_get_object_element (logs, k);

      found |= g_strcmp0 (json_object_get_string_member (l, "component"),
          "audio_worker") == 0 && g_strcmp0 (json_object_get_string_member
          (l, "message"), "Job failed") == 0;
    }
    check (c, found, "logger line of failed job %s in %s", r->job_id, path);
    if (doc)
      json_node_unref (doc);
    g_free (path);
  }
}

static void
verify_metrics (Checker * c, Worker * w, guint n_ok, guint n_failed,
    guint n_transcoded)
{
  gchar *text = http_get (c, "/metrics");
  GHashTable *m;
  guint n_hits = n_ok - n_transcoded;
  struct
  {
    const gchar *name, *k1, *v1, *k2, *v2;
    gdouble want;
  } expect[] = {
    {"pipeline_audio_processing_seconds_count", "success", "true", NULL,
        NULL, n_transcoded},
    {"pipeline_audio_processing_seconds_count", "success", "false", NULL,
        NULL, n_failed},
    {"pipeline_audio_file_size_bytes_count", "success", "true", NULL, NULL,
        n_transcoded},
    {"pipeline_uploads_total", "success", "true", NULL, NULL, n_transcoded},
    {"pipeline_cache_requests_total", "cache", CACHE_NAME, "result", "hit",
        n_hits},
    {"pipeline_cache_requests_total", "cache", CACHE_NAME, "result", "miss",
        w->results->len - n_hits},
    {"audio_jobs_total", "result", "success", NULL, NULL, n_ok},
    {"audio_jobs_total", "result", "failed", NULL, NULL, n_failed},
    {"audio_processing_time_seconds_count", "success", "true", NULL, NULL,
        n_transcoded},
    {"audio_queue_length", NULL, NULL, NULL, NULL, 0},
  };

  if (!text)
    return;
  m = parse_metrics (text);
  for (guint i = 0; i < G_N_ELEMENTS (expect); i++) {
    gdouble got = metric (m, expect[i].name, expect[i].k1, expect[i].v1,
        expect[i].k2, expect[i].v2, NULL);

    check (c, got == expect[i].want, "%s{%s=%s,%s=%s} == %g (got %g)",
        expect[i].name, expect[i].k1, expect[i].v1, expect[i].k2,
        expect[i].v2, expect[i].want, got);
  }
  /* the tracer timed the encoder of each transcode pipeline */
  for (guint i = 0; i < w->results->len; i++) {
    JobResult *r = g_ptr_array_index (w->results, i);
    gchar *pipeline;
    gdouble n;

    if (!r->transcoded)
      continue;
    pipeline = g_strconcat ("transcode-", r->job_id, NULL);
    n = metric (m, "apm_element_processing_seconds_count", "pipeline",
        pipeline, "element", "encoder", "factory", "flacenc", NULL);
    check (c, n > 0, "the tracer timed flacenc in %s (%g buffers)",
        pipeline, n);
    /* and the apmonitor in it measured the audio */
    {
      gchar *needle = g_strdup_printf ("pipeline=\"%s\"", pipeline);
      GHashTableIter it;
      const gchar *key, *value;
      gdouble samples = 0;

      g_hash_table_iter_init (&it, m);
      while (g_hash_table_iter_next (&it, (gpointer *) & key,
              (gpointer *) & value))
        if (g_str_has_prefix (key, "apm_monitor_samples_total{")
            && strstr (key, needle))
          samples += g_ascii_strtod (value, NULL);
      check (c, samples > 0, "apmonitor counted samples in %s", pipeline);
      g_free (needle);
    }
    g_free (pipeline);
  }
  g_hash_table_unref (m);
  g_free (text);
}

/* --- main --------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  gint port = 0;
  gboolean serve = FALSE;
  GOptionEntry entries[] = {
    {"port", 0, 0, G_OPTION_ARG_INT, &port, "HTTP port (0: a free one)",
        "N"},
    {"serve", 0, 0, G_OPTION_ARG_NONE, &serve,
        "Keep serving after the checks, until killed", NULL},
    {NULL}
  };
  GOptionContext *octx = g_option_context_new ("- gst-apm example");
  GError *error = NULL;
  gchar *tracers, *work_dir, *inputs, *url;
  ApmMonitor *monitor;
  Worker *w;
  Checker c = { 0 };
  guint n_ok = 0, n_failed = 0, n_transcoded = 0;
  struct
  {
    const gchar *job_id, *file, *wave;
    gdouble freq, seconds;
  } files[] = {
    {"job-001", "tone-440.wav", "sine", 440, 1.0},
    {"job-002", "tone-1k.wav", "sine", 1000, 2.0},
    {"job-003", "noise.wav", "pink-noise", 0, 1.5},
  };
  const gchar *queue[][2] = {
    {"job-001", "tone-440.wav"},
    {"job-002", "tone-1k.wav"},
    {"job-003", "noise.wav"},
    {"job-004", "tone-440-again.wav"},  /* the same audio: a cache hit */
    {"job-005", "missing.wav"}, /* does not exist: fails */
  };

  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (octx);

  tracers = g_strdup_printf ("apm(port=%d,%s)", port, TRACER_PARAMS);
  g_setenv ("GST_TRACERS", tracers, TRUE);
  g_free (tracers);
  gst_init (&argc, &argv);

  monitor = apm_monitor_get_default ();
  if (!apm_monitor_start_server (monitor, "127.0.0.1", port, &error)) {
    g_printerr ("the monitor is not serving: %s\n", error->message);
    return 1;
  }
  url = apm_monitor_get_url (monitor);
  g_print ("gst-apm serving %s (dashboard: %s/monitoring/dashboard)\n", url,
      url);

  work_dir = g_dir_make_tmp ("apm-example-XXXXXX", &error);
  g_assert_no_error (error);
  w = worker_new (work_dir);
  apm_monitor_add_check (monitor, "transcoder", 30, check_transcoder,
      worker_ref (w), worker_unref);
  apm_monitor_add_alert_rule (monitor, "very_slow_jobs",
      APM_SEVERITY_WARNING, "Job processing time exceeded 1 hour "
      "({{value}} s)", very_slow_jobs, worker_ref (w), worker_unref);
  apm_monitor_add_alert_rule (monitor, "failed_jobs", APM_SEVERITY_WARNING,
      "{{value}} audio job(s) failed", failed_jobs, worker_ref (w),
      worker_unref);

  inputs = g_build_filename (work_dir, "inputs", NULL);
  g_mkdir_with_parents (inputs, 0700);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++) {
    gchar *path = g_build_filename (inputs, files[i].file, NULL);

    generate_wav (path, files[i].wave, files[i].freq, files[i].seconds);
    g_free (path);
  }
  {
    gchar *a = g_build_filename (inputs, "tone-440.wav", NULL);
    gchar *b = g_build_filename (inputs, "tone-440-again.wav", NULL);
    GFile *fa = g_file_new_for_path (a), *fb = g_file_new_for_path (b);

    g_file_copy (fa, fb, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_object_unref (fa);
    g_object_unref (fb);
    g_free (a);
    g_free (b);
  }

  for (guint i = 0; i < G_N_ELEMENTS (queue); i++) {
    gchar *path = g_build_filename (inputs, queue[i][1], NULL);
    JobResult *r;
    gchar *json;
    JsonNode *job;
    JsonObject *o;

    apm_monitor_set_gauge (monitor, "audio_queue_length",
        G_N_ELEMENTS (queue) - i, NULL);
    process_audio_job (w, queue[i][0], path);
    g_free (path);
    r = g_ptr_array_index (w->results, w->results->len - 1);
    json = apm_monitor_get_job_json (monitor, r->correlation_id);
    job = json_from_string (json, NULL);
    o = json_node_get_object (job);
    g_print ("  %-8s %s %-7s %6.3f s%s%s%s\n", r->job_id, r->correlation_id,
        json_object_get_string_member (o, "status"),
        json_object_get_double_member (o, "processing_seconds"),
        json_object_get_null_member (o, "error") ? "" : "  (",
        json_object_get_null_member (o, "error") ? "" :
        json_object_get_string_member (o, "error"),
        json_object_get_null_member (o, "error") ? "" : ")");
    json_node_unref (job);
    g_free (json);
  }
  apm_monitor_set_gauge (monitor, "audio_queue_length", 0, NULL);

  /* the service is local: no proxy, whatever the environment says */
  c.session = soup_session_new_with_options ("timeout", 10,
      "proxy-resolver", NULL, NULL);
  c.base_url = url;
  verify_jobs (&c, w, &n_ok, &n_failed, &n_transcoded);
  verify_health_and_alerts (&c, w, n_failed);
  verify_metrics (&c, w, n_ok, n_failed, n_transcoded);
  g_print ("%u checks passed, %u failed\n", c.passed, c.failed);
  g_object_unref (c.session);

  if (serve) {
    GMainLoop *loop = g_main_loop_new (NULL, FALSE);

    g_print ("serving %s until killed\n", url);
    g_main_loop_run (loop);
  }

  apm_monitor_remove_check (monitor, "transcoder");
  apm_monitor_remove_alert_rule (monitor, "very_slow_jobs");
  apm_monitor_remove_alert_rule (monitor, "failed_jobs");
  worker_unref (w);
  {
    /* the temporary files */
    const gchar *dirs[] = { "inputs", "transcoded", "uploads" };

    for (guint i = 0; i < G_N_ELEMENTS (dirs); i++) {
      gchar *d = g_build_filename (work_dir, dirs[i], NULL);
      GDir *dir = g_dir_open (d, 0, NULL);
      const gchar *f;

      while (dir && (f = g_dir_read_name (dir))) {
        gchar *p = g_build_filename (d, f, NULL);

        g_unlink (p);
        g_free (p);
      }
      if (dir)
        g_dir_close (dir);
      g_rmdir (d);
      g_free (d);
    }
    g_rmdir (work_dir);
  }
  g_free (inputs);
  g_free (work_dir);
  g_free (url);
  return c.failed ? 1 : 0;
}
