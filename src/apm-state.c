/* gst-apm: the state file (see apm-state.h) */
#include "apm-state.h"
#include "apm-history.h"
#include "apm-service-private.h"
#include "apm-time.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define MAGIC "GSTAPMST"
#define HEADER_LEN (8 + 4 + 4 + 8 + 8)
#define TAG(a, b, c, d) ((guint32) (a) | (guint32) (b) << 8 | \
    (guint32) (c) << 16 | (guint32) (d) << 24)
#define TAG_HISTORY TAG ('H', 'I', 'S', 'T')
#define TAG_ALERTS TAG ('A', 'L', 'R', 'T')
#define TAG_JOBS TAG ('J', 'O', 'B', 'S')

struct _ApmState
{
  gchar *path;
  gint lock_fd;
  GSource *timer;               /* service thread */
  GThread *writer;              /* service thread */
  gint writing;                 /* atomic: a write is under way */
  GMutex lock;                  /* the figures below */
  gint64 saved_at_us;
  gsize bytes;
  gdouble save_ms;
  gchar *error;
  gchar *set_aside;
  guint restored_series, restored_alerts, restored_jobs;
};

/* A 64-bit check of the payload, eight bytes a step: each step is a
 * bijection of the running value, so one damaged word always shows, and
 * it runs at memory speed (SHA-256 took 0.5 s on 80 MB); integrity, not
 * authenticity. */
static guint64
checksum (const guint8 * p, gsize len)
{
  guint64 h = G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) ^ len;
  gsize i = 0;

  for (; i + 8 <= len; i += 8) {
    guint64 w;

    memcpy (&w, p + i, 8);
    h = (h ^ GUINT64_FROM_LE (w)) * G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
    h ^= h >> 32;
  }
  if (i < len) {
    guint64 w = 0;

    for (gsize k = 0; i + k < len; k++)
      w |= (guint64) p[i + k] << (8 * k);
    h = (h ^ w) * G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
    h ^= h >> 29;
  }
  return h;
}

/* --- encoding --- */

static void
put_section (GByteArray * b, guint32 tag, const guint8 * data, gsize len)
{
  guint32 t = GUINT32_TO_LE (tag);
  guint64 l = GUINT64_TO_LE (len);

  g_byte_array_append (b, (guint8 *) & t, 4);
  g_byte_array_append (b, (guint8 *) & l, 8);
  g_byte_array_append (b, data, len);
}

static void
put_json_section (GByteArray * b, guint32 tag, JsonNode * node)
{
  gsize len;
  gchar *text = json_to_string (node, FALSE);

  len = strlen (text);
  put_section (b, tag, (const guint8 *) text, len);
  g_free (text);
}

/* the sections (service thread: it copies under the owners' locks) */
static GByteArray *
encode_payload (ApmRegistry * registry, ApmAlerts * alerts, ApmJobs * jobs,
    guint32 * n)
{
  GByteArray *payload = g_byte_array_new ();

  *n = 0;
  if (registry) {
    GBytes *h = apm_history_save (registry);
    gsize len;
    const guint8 *data = g_bytes_get_data (h, &len);

    put_section (payload, TAG_HISTORY, data, len);
    g_bytes_unref (h);
    (*n)++;
  }
  if (alerts) {
    JsonNode *node = apm_alerts_history_json (alerts);

    put_json_section (payload, TAG_ALERTS, json_object_get_member
        (json_node_get_object (node), "alerts"));
    json_node_unref (node);
    (*n)++;
  }
  if (jobs) {
    JsonNode *node = apm_jobs_to_json (jobs, 0);

    put_json_section (payload, TAG_JOBS, json_object_get_member
        (json_node_get_object (node), "finished"));
    json_node_unref (node);
    (*n)++;
  }
  return payload;
}

/* the header with its checksum before @payload (taken): the slow part of
 * a large state, done in the writer thread */
static GBytes *
seal (GByteArray * payload, guint32 n)
{
  GByteArray *out = g_byte_array_sized_new (HEADER_LEN + payload->len);
  guint32 version = GUINT32_TO_LE (APM_STATE_VERSION);
  guint32 sections = GUINT32_TO_LE (n);
  guint64 len = GUINT64_TO_LE (payload->len);
  guint64 check = GUINT64_TO_LE (checksum (payload->data, payload->len));

  g_byte_array_append (out, (const guint8 *) MAGIC, 8);
  g_byte_array_append (out, (guint8 *) & version, 4);
  g_byte_array_append (out, (guint8 *) & sections, 4);
  g_byte_array_append (out, (guint8 *) & len, 8);
  g_byte_array_append (out, (guint8 *) & check, 8);
  g_byte_array_append (out, payload->data, payload->len);
  g_byte_array_unref (payload);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
apm_state_encode (ApmRegistry * registry, ApmAlerts * alerts, ApmJobs * jobs)
{
  guint32 n;
  GByteArray *payload = encode_payload (registry, alerts, jobs, &n);

  return seal (payload, n);
}

/* --- decoding --- */

static JsonArray *
parse_array (const guint8 * data, gsize len, JsonParser ** parser)
{
  *parser = json_parser_new ();
  if (!json_parser_load_from_data (*parser, (const gchar *) data, len, NULL)
      || !JSON_NODE_HOLDS_ARRAY (json_parser_get_root (*parser)))
    return NULL;
  return json_node_get_array (json_parser_get_root (*parser));
}

static gboolean
fail (GError ** error, const gchar * what)
{
  g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, what);
  return FALSE;
}

gboolean
apm_state_decode (const guint8 * data, gsize len, ApmRegistry * registry,
    ApmAlerts * alerts, ApmJobs * jobs, GError ** error)
{
  guint32 version, n_sections;
  guint64 payload_len, check;
  const guint8 *p, *end;
  /* checked whole before anything is restored */
  const guint8 *hist = NULL, *alrt = NULL, *jobs_data = NULL;
  gsize hist_len = 0, alrt_len = 0, jobs_len = 0;
  JsonParser *alerts_parser = NULL, *jobs_parser = NULL;
  JsonArray *alerts_arr = NULL, *jobs_arr = NULL;
  gboolean ok;

  if (len < 8 || memcmp (data, MAGIC, 8) != 0)
    return fail (error, "not a gst-apm state file");
  if (len < HEADER_LEN)
    return fail (error, "truncated header");
  memcpy (&version, data + 8, 4);
  memcpy (&n_sections, data + 12, 4);
  memcpy (&payload_len, data + 16, 8);
  version = GUINT32_FROM_LE (version);
  n_sections = GUINT32_FROM_LE (n_sections);
  payload_len = GUINT64_FROM_LE (payload_len);
  if (version != APM_STATE_VERSION) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
        "state file version %u (this is version %u)", version,
        APM_STATE_VERSION);
    return FALSE;
  }
  if (payload_len != len - HEADER_LEN)
    return fail (error, "truncated or extended (length differs)");
  memcpy (&check, data + 24, 8);
  if (checksum (data + HEADER_LEN, payload_len) != GUINT64_FROM_LE (check))
    return fail (error, "checksum mismatch (damaged)");

  p = data + HEADER_LEN;
  end = data + len;
  for (guint i = 0; i < n_sections; i++) {
    guint32 tag;
    guint64 slen;

    if (end - p < 12)
      return fail (error, "truncated section header");
    memcpy (&tag, p, 4);
    memcpy (&slen, p + 4, 8);
    tag = GUINT32_FROM_LE (tag);
    slen = GUINT64_FROM_LE (slen);
    p += 12;
    if (slen > (guint64) (end - p))
      return fail (error, "truncated section");
    if (tag == TAG_HISTORY) {
      hist = p;
      hist_len = slen;
    } else if (tag == TAG_ALERTS) {
      alrt = p;
      alrt_len = slen;
    } else if (tag == TAG_JOBS) {
      jobs_data = p;
      jobs_len = slen;
    }                           /* others: a later minor addition, skipped */
    p += slen;
  }
  if (p != end)
    return fail (error, "data after the last section");

  ok = TRUE;
  if (alrt && !(alerts_arr = parse_array (alrt, alrt_len, &alerts_parser)))
    ok = fail (error, "alert history is not a JSON array");
  if (ok && jobs_data && !(jobs_arr = parse_array (jobs_data, jobs_len,
              &jobs_parser)))
    ok = fail (error, "jobs are not a JSON array");
  if (ok && hist && registry && !apm_history_restore (registry, hist,
          hist_len, NULL))
    ok = fail (error, "history section malformed");
  if (ok && alerts_arr && alerts)
    apm_alerts_restore_history (alerts, alerts_arr);
  if (ok && jobs_arr && jobs)
    apm_jobs_restore_finished (jobs, jobs_arr);
  g_clear_object (&alerts_parser);
  g_clear_object (&jobs_parser);
  return ok;
}

/* --- files --- */

gboolean
apm_state_write_file (const gchar * path, GBytes * bytes, GError ** error)
{
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);

  /* a temporary file, fsync, rename: a crash leaves the old file whole */
  return g_file_set_contents_full (path, data, len,
      G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
      error);
}

gboolean
apm_state_load_file (const gchar * path, ApmRegistry * registry,
    ApmAlerts * alerts, ApmJobs * jobs, gchar ** problem)
{
  GError *error = NULL;
  gchar *data = NULL;
  gsize len;
  gboolean ok;

  *problem = NULL;
  if (!g_file_get_contents (path, &data, &len, &error)) {
    if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
      *problem = g_strdup_printf ("state file %s not read: %s", path,
          error->message);
    g_clear_error (&error);
    return FALSE;
  }
  ok = apm_state_decode ((const guint8 *) data, len, registry, alerts, jobs,
      &error);
  g_free (data);
  if (!ok) {
    GDateTime *now = g_date_time_new_now_utc ();
    gchar *stamp = g_date_time_format (now, "%Y%m%dT%H%M%S");
    gchar *aside = g_strdup_printf ("%s.corrupt-%s", path, stamp);

    if (g_rename (path, aside) == 0)
      *problem = g_strdup_printf ("state file %s not used (%s): set aside "
          "as %s; starting without the saved state", path, error->message,
          aside);
    else
      *problem = g_strdup_printf ("state file %s not used (%s) and not set "
          "aside (%s); starting without the saved state", path,
          error->message, g_strerror (errno));
    g_free (aside);
    g_free (stamp);
    g_date_time_unref (now);
    g_clear_error (&error);
  }
  return ok;
}

/* --- the service's state --- */

typedef struct
{
  ApmState *state;
  GByteArray *payload;
  guint32 n_sections;
  gint64 started_us;
} WriteJob;

static void
write_now (ApmState *st, GBytes * bytes, gint64 started_us)
{
  GError *error = NULL;
  gboolean ok = apm_state_write_file (st->path, bytes, &error);

  g_mutex_lock (&st->lock);
  g_clear_pointer (&st->error, g_free);
  if (ok) {
    st->saved_at_us = g_get_real_time ();
    st->bytes = g_bytes_get_size (bytes);
    st->save_ms = (g_get_monotonic_time () - started_us) / 1e3;
  } else {
    st->error = g_strdup (error->message);
  }
  g_mutex_unlock (&st->lock);
  g_clear_error (&error);
}

static gpointer
write_thread (gpointer data)
{
  WriteJob *job = data;
  GBytes *bytes = seal (job->payload, job->n_sections);

  write_now (job->state, bytes, job->started_us);
  g_bytes_unref (bytes);
  g_atomic_int_set (&job->state->writing, 0);
  g_free (job);
  return NULL;
}

static void
join_writer (ApmState * st)
{
  if (st->writer)
    g_thread_join (g_steal_pointer (&st->writer));
}

static gboolean
save_tick (gpointer data)
{
  ApmService *s = data;
  ApmState *st = s->state;
  WriteJob *job;

  if (g_atomic_int_get (&st->writing))
    return G_SOURCE_CONTINUE;   /* the disk is slow: the next tick */
  join_writer (st);
  job = g_new0 (WriteJob, 1);
  job->state = st;
  job->started_us = g_get_monotonic_time ();
  /* encoding copies under the locks; the disk is the writer's */
  job->payload = encode_payload (s->registry, s->alerts, s->jobs,
      &job->n_sections);
  g_atomic_int_set (&st->writing, 1);
  st->writer = g_thread_new ("apm-state", write_thread, job);
  return G_SOURCE_CONTINUE;
}

void
apm_state_free (ApmState * st)
{
  if (!st)
    return;
  join_writer (st);
  if (st->lock_fd >= 0)
    close (st->lock_fd);
  g_free (st->path);
  g_free (st->error);
  g_free (st->set_aside);
  g_mutex_clear (&st->lock);
  g_free (st);
}

void
apm_state_start (ApmService * s)
{
  ApmState *st;
  gchar *dir, *lock_path, *problem = NULL;
  guint n_alerts_before, n_jobs_before, unused;

  g_mutex_lock (&s->lock);
  dir = g_strdup (s->state_dir);
  g_mutex_unlock (&s->lock);
  if (!dir || s->state)
    goto out;
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    apm_log_write (s->log, APM_LOG_WARNING, "state", NULL, NULL,
        "state dir %s not made: %s; history is not kept across restarts",
        dir, g_strerror (errno));
    goto out;
  }
  st = g_new0 (ApmState, 1);
  g_mutex_init (&st->lock);
  st->path = g_build_filename (dir, APM_STATE_FILE, NULL);
  /* one process per directory: a second one (a forked child, another
   * program with the same setting) would overwrite the first's */
  lock_path = g_build_filename (dir, "apm-state.lock", NULL);
  st->lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (st->lock_fd < 0 || flock (st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    apm_log_write (s->log, APM_LOG_WARNING, "state", NULL, NULL,
        "state dir %s is used by another process: this one keeps no state",
        dir);
    g_free (lock_path);
    apm_state_free (st);
    goto out;
  }
  g_free (lock_path);
  s->state = st;

  apm_jobs_counts (s->jobs, &unused, &n_jobs_before);
  {
    JsonNode *h = apm_alerts_history_json (s->alerts);

    n_alerts_before = json_array_get_length (json_object_get_array_member
        (json_node_get_object (h), "alerts"));
    json_node_unref (h);
  }
  if (apm_state_load_file (st->path, s->registry, s->alerts, s->jobs,
          &problem)) {
    JsonNode *h = apm_alerts_history_json (s->alerts);
    guint n_jobs, n_series;

    apm_jobs_counts (s->jobs, &unused, &n_jobs);
    st->restored_alerts = json_array_get_length
        (json_object_get_array_member (json_node_get_object (h), "alerts")) -
        n_alerts_before;
    st->restored_jobs = n_jobs - n_jobs_before;
    json_node_unref (h);
    n_series = apm_history_n_restored (s->registry);
    st->restored_series = n_series;
    apm_log_write (s->log, APM_LOG_INFO, "state", NULL, NULL,
        "state restored from %s: history of %u series, %u alerts, %u jobs",
        st->path, n_series, st->restored_alerts, st->restored_jobs);
  } else if (problem) {
    apm_log_write (s->log, APM_LOG_WARNING, "state", NULL, NULL, "%s",
        problem);
    st->set_aside = problem;
  }
  st->timer = g_timeout_source_new_seconds (APM_STATE_SAVE_INTERVAL);
  g_source_set_callback (st->timer, save_tick, s, NULL);
  g_source_attach (st->timer, s->context);
out:
  g_free (dir);
}

void
apm_state_stop (ApmService * s)
{
  ApmState *st = s->state;

  if (!st)
    return;
  if (st->timer) {
    g_source_destroy (st->timer);
    g_clear_pointer (&st->timer, g_source_unref);
  }
  join_writer (st);
  {
    gint64 started = g_get_monotonic_time ();
    GBytes *bytes = apm_state_encode (s->registry, s->alerts, s->jobs);

    write_now (st, bytes, started);
    g_bytes_unref (bytes);
  }
  if (st->error)
    apm_log_write (s->log, APM_LOG_WARNING, "state", NULL, NULL,
        "state not written to %s: %s", st->path, st->error);
}

void
apm_state_describe (ApmService * s, JsonObject * svc)
{
  JsonObject *o, *restored;
  ApmState *st = s->state;
  gchar *dir;

  g_mutex_lock (&s->lock);
  dir = g_strdup (s->state_dir);
  g_mutex_unlock (&s->lock);
  if (!dir)
    return;
  o = json_object_new ();
  json_object_set_string_member (o, "dir", dir);
  g_free (dir);
  if (!st) {
    json_object_set_boolean_member (o, "active", FALSE);
    json_object_set_object_member (svc, "state", o);
    return;
  }
  restored = json_object_new ();
  g_mutex_lock (&st->lock);
  json_object_set_boolean_member (o, "active", TRUE);
  json_object_set_string_member (o, "file", st->path);
  if (st->saved_at_us) {
    gchar *t = apm_time_format (st->saved_at_us);

    json_object_set_string_member (o, "saved_at", t);
    g_free (t);
    json_object_set_int_member (o, "bytes", st->bytes);
    json_object_set_double_member (o, "save_ms", st->save_ms);
  } else {
    json_object_set_null_member (o, "saved_at");
  }
  if (st->error)
    json_object_set_string_member (o, "error", st->error);
  if (st->set_aside)
    json_object_set_string_member (o, "set_aside", st->set_aside);
  json_object_set_int_member (restored, "series", st->restored_series);
  json_object_set_int_member (restored, "alerts", st->restored_alerts);
  json_object_set_int_member (restored, "jobs", st->restored_jobs);
  g_mutex_unlock (&st->lock);
  json_object_set_object_member (o, "restored", restored);
  json_object_set_object_member (svc, "state", o);
}
