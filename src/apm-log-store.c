/* gst-apm: the log store: ring, file and stderr sinks of structured lines */
#include "apm-log-store.h"
#include "apm-log-summary.h"
#include "apm-time.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

typedef struct
{
  gint64 t_us;
  ApmLogLevel level;
  gchar *component;
  gchar *correlation_id;
  /* the whole line as JSON text: a parsed tree costs ~2 KB a line, the
   * text a few hundred bytes (parsed again when the ring is queried) */
  gchar *text;
} Entry;

struct _ApmLog
{
  GMutex lock;
  Entry *ring;
  guint size, next, len;
  ApmLogLevel min_level;
  gchar *path;
  gint fd;
  dev_t dev;
  ino_t ino;
  gboolean to_stderr;
  ApmLogListener listener;
  gpointer listener_data;
  /* reopens the file on SIGHUP; created with the file, attached to the
   * service thread's context at its first apm_log_check_file() */
  GSource *sighup;
  gboolean sighup_attached;
  gboolean sighup_taken;        /* the application's: say so once */
  ApmLogSummary *summary;       /* its own lock */
};

static const gchar *level_names[] = { "debug", "info", "warning", "error",
  "critical"
};

ApmLogSummary *
apm_log_get_summary (ApmLog * log)
{
  return log->summary;
}

const gchar *
apm_log_level_to_string (ApmLogLevel level)
{
  return level_names[CLAMP (level, 0, 4)];
}

gboolean
apm_log_level_from_string (const gchar * text, ApmLogLevel * out)
{
  for (guint i = 0; text && i < G_N_ELEMENTS (level_names); i++)
    if (g_ascii_strcasecmp (text, level_names[i]) == 0) {
      *out = i;
      return TRUE;
    }
  return FALSE;
}

static void
entry_clear (Entry * e)
{
  g_free (e->component);
  g_free (e->correlation_id);
  g_free (e->text);
  memset (e, 0, sizeof *e);
}

ApmLog *
apm_log_new (guint ring_size)
{
  ApmLog *log = g_new0 (ApmLog, 1);

  g_mutex_init (&log->lock);
  log->size = ring_size ? ring_size : APM_LOG_RING_SIZE;
  log->ring = g_new0 (Entry, log->size);
  log->min_level = APM_LOG_INFO;
  log->fd = -1;
  log->summary = apm_log_summary_new (APM_LOG_SUMMARY_TEMPLATES);
  return log;
}

void
apm_log_free (ApmLog * log)
{
  if (!log)
    return;
  if (log->sighup) {
    g_source_destroy (log->sighup);
    g_source_unref (log->sighup);
  }
  for (guint i = 0; i < log->size; i++)
    entry_clear (&log->ring[i]);
  g_free (log->ring);
  apm_log_summary_free (log->summary);
  if (log->fd >= 0)
    close (log->fd);
  g_free (log->path);
  g_mutex_clear (&log->lock);
  g_free (log);
}

/* called with the lock */
static gboolean
open_file_locked (ApmLog * log, GError ** error)
{
  struct stat st;
  gint fd = g_open (log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
      0644);

  if (fd < 0) {
    gint err = errno;

    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
        "cannot open log file %s: %s", log->path, g_strerror (err));
    return FALSE;
  }
  if (log->fd >= 0)
    close (log->fd);
  log->fd = fd;
  if (fstat (fd, &st) == 0) {
    log->dev = st.st_dev;
    log->ino = st.st_ino;
  }
  return TRUE;
}

static gboolean
reopen_on_sighup (gpointer user_data)
{
  ApmLog *log = user_data;
  GError *error = NULL;
  JsonObject *ctx;
  gchar *path;
  gboolean ok = FALSE;

  g_mutex_lock (&log->lock);
  path = g_strdup (log->path);
  if (path)
    ok = open_file_locked (log, &error);
  g_mutex_unlock (&log->lock);
  if (!path)
    return G_SOURCE_CONTINUE;
  ctx = json_object_new ();
  json_object_set_string_member (ctx, "path", path);
  json_object_set_string_member (ctx, "signal", "SIGHUP");
  if (ok)
    apm_log_write (log, APM_LOG_INFO, "log", NULL, ctx,
        "log file reopened on SIGHUP");
  else
    apm_log_write (log, APM_LOG_ERROR, "log", NULL, ctx,
        "log file not reopened on SIGHUP: %s", error->message);
  g_clear_error (&error);
  g_free (path);
  return G_SOURCE_CONTINUE;
}

/* SIGHUP is ours to take unless the application handles it already */
static gboolean
sighup_unclaimed (void)
{
  struct sigaction sa;

  return sigaction (SIGHUP, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO)
      && (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN);
}

/* called with the lock: a SIGHUP watch while there is a file.  GLib
 * installs its handler here, so a SIGHUP before the service thread runs
 * is kept pending instead of ending the process.  Returns FALSE if the
 * application handles SIGHUP itself. */
static gboolean
update_sighup_locked (ApmLog * log)
{
  if (log->path && !log->sighup) {
    if (!sighup_unclaimed ())
      return FALSE;
    log->sighup = g_unix_signal_source_new (SIGHUP);
    g_source_set_callback (log->sighup, reopen_on_sighup, log, NULL);
    log->sighup_attached = FALSE;
  } else if (!log->path && log->sighup) {
    g_source_destroy (log->sighup);
    g_clear_pointer (&log->sighup, g_source_unref);
  }
  return TRUE;
}

gboolean
apm_log_set_file (ApmLog * log, const gchar * path, GError ** error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&log->lock);
  g_free (log->path);
  log->path = g_strdup (path);
  if (log->fd >= 0) {
    close (log->fd);
    log->fd = -1;
  }
  if (path)
    ok = open_file_locked (log, error);
  /* no line here: callers may hold locks a line's listener takes */
  log->sighup_taken = !update_sighup_locked (log);
  g_mutex_unlock (&log->lock);
  return ok;
}

void
apm_log_set_stderr (ApmLog * log, gboolean enabled)
{
  g_mutex_lock (&log->lock);
  log->to_stderr = enabled;
  g_mutex_unlock (&log->lock);
}

void
apm_log_set_min_level (ApmLog * log, ApmLogLevel level)
{
  g_mutex_lock (&log->lock);
  log->min_level = level;
  g_mutex_unlock (&log->lock);
}

void
apm_log_set_listener (ApmLog * log, ApmLogListener func, gpointer user_data)
{
  g_mutex_lock (&log->lock);
  log->listener = func;
  log->listener_data = user_data;
  g_mutex_unlock (&log->lock);
}

/* called with the lock: rotate by size, keeping one old file */
static void
rotate_if_big_locked (ApmLog * log)
{
  struct stat st;
  gchar *old;

  if (log->fd < 0 || fstat (log->fd, &st) != 0
      || st.st_size < APM_LOG_MAX_FILE_BYTES)
    return;
  old = g_strconcat (log->path, ".1", NULL);
  if (g_rename (log->path, old) == 0)
    open_file_locked (log, NULL);
  g_free (old);
}

static void
write_all (gint fd, const gchar * text, gsize len)
{
  while (len > 0) {
    gssize n = write (fd, text, len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;                   /* a full disk must not stop the audio */
    text += n;
    len -= n;
  }
}

void
apm_log_write (ApmLog * log, ApmLogLevel level, const gchar * component,
    const gchar * correlation_id, JsonObject * context,
    const gchar * format, ...)
{
  JsonObject *o;
  JsonNode *node;
  Entry *e;
  gchar *message, *ts, *text, *valid;
  va_list args;
  gint64 now = g_get_real_time ();
  ApmLogListener listener;
  gpointer listener_data;

  if (level < log->min_level) {
    if (context)
      json_object_unref (context);
    return;
  }
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  ts = apm_time_format (now);

  o = json_object_new ();
  json_object_set_string_member (o, "timestamp", ts);
  json_object_set_string_member (o, "level", level_names[level]);
  json_object_set_string_member (o, "component", component);
  valid = g_utf8_make_valid (message, -1);
  json_object_set_string_member (o, "message", valid);
  apm_log_summary_add (log->summary, now, level, component, valid);
  g_free (valid);
  if (correlation_id)
    json_object_set_string_member (o, "correlation_id", correlation_id);
  else
    json_object_set_null_member (o, "correlation_id");
  json_object_set_object_member (o, "context", context ? context :
      json_object_new ());
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, o);
  text = json_to_string (node, FALSE);
  if (!g_utf8_validate (text, -1, NULL)) {
    /* names in the context come from users: keep lines UTF-8, in the
     * ring too (it is served as JSON) */
    gchar *utf8 = g_utf8_make_valid (text, -1);
    JsonNode *clean = json_from_string (utf8, NULL);

    if (clean) {
      json_node_unref (node);
      node = clean;
    }
    g_free (text);
    text = utf8;
  }
  valid = g_strconcat (text, "\n", NULL);

  g_mutex_lock (&log->lock);
  e = &log->ring[log->next];
  entry_clear (e);
  e->t_us = now;
  e->level = level;
  e->component = g_strdup (component);
  e->correlation_id = g_strdup (correlation_id);
  e->text = g_strdup (text);
  log->next = (log->next + 1) % log->size;
  if (log->len < log->size)
    log->len++;
  if (log->fd >= 0) {
    rotate_if_big_locked (log);
    write_all (log->fd, valid, strlen (valid));
  }
  if (log->to_stderr)
    write_all (STDERR_FILENO, valid, strlen (valid));
  listener = log->listener;
  listener_data = log->listener_data;
  g_mutex_unlock (&log->lock);

  if (listener)
    listener (node, listener_data);
  json_node_unref (node);
  g_free (valid);
  g_free (text);
  g_free (ts);
  g_free (message);
}

void
apm_log_check_file (ApmLog * log)
{
  struct stat st;
  gboolean sighup_taken;

  g_mutex_lock (&log->lock);
  if (log->path && (g_stat (log->path, &st) != 0 || st.st_ino != log->ino
          || st.st_dev != log->dev))
    open_file_locked (log, NULL);
  if (log->sighup && !log->sighup_attached
      && g_main_context_get_thread_default ()) {
    g_source_attach (log->sighup, g_main_context_get_thread_default ());
    log->sighup_attached = TRUE;
  }
  sighup_taken = log->sighup_taken;
  log->sighup_taken = FALSE;
  g_mutex_unlock (&log->lock);
  if (sighup_taken)
    apm_log_write (log, APM_LOG_INFO, "log", NULL, NULL, "the application "
        "handles SIGHUP: the log file is reopened only when moved away");
}

/* Copies the text of the lines that pass the filters, oldest first. */
static GPtrArray *
pick_lines (ApmLog * log, gint min_level, const gchar * correlation_id,
    const gchar * component, gint64 since_us, guint limit)
{
  GPtrArray *picked = g_ptr_array_new_with_free_func (g_free);
  guint first, skip;

  g_mutex_lock (&log->lock);
  first = (log->next + log->size - log->len) % log->size;
  for (guint i = 0; i < log->len; i++) {
    Entry *e = &log->ring[(first + i) % log->size];

    if ((gint) e->level < min_level || e->t_us < since_us
        || (correlation_id && g_strcmp0 (correlation_id,
                e->correlation_id) != 0)
        || (component && g_strcmp0 (component, e->component) != 0))
      continue;
    g_ptr_array_add (picked, g_strdup (e->text));
  }
  g_mutex_unlock (&log->lock);
  skip = limit && picked->len > limit ? picked->len - limit : 0;
  g_ptr_array_remove_range (picked, 0, skip);
  return picked;
}

JsonNode *
apm_log_query (ApmLog * log, gint min_level, const gchar * correlation_id,
    const gchar * component, gint64 since_us, guint limit)
{
  GPtrArray *picked = pick_lines (log, min_level, correlation_id, component,
      since_us, limit);
  JsonArray *arr = json_array_new ();
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  for (guint i = 0; i < picked->len; i++) {
    JsonNode *line = json_from_string (picked->pdata[i], NULL);

    if (line)
      json_array_add_element (arr, line);
  }
  g_ptr_array_unref (picked);
  json_object_set_array_member (o, "logs", arr);
  json_node_take_object (node, o);
  return node;
}

gchar *
apm_log_query_text (ApmLog * log, gint min_level,
    const gchar * correlation_id, const gchar * component, gint64 since_us,
    guint limit, gsize * length)
{
  GPtrArray *picked = pick_lines (log, min_level, correlation_id, component,
      since_us, limit);
  GString *out = g_string_sized_new (64);

  /* the stored lines are JSON objects already (valid UTF-8, made by
   * json-glib): joined as they are, no tree of the whole ring is built */
  g_string_append (out, "{\"logs\": [");
  for (guint i = 0; i < picked->len; i++) {
    if (i)
      g_string_append (out, ",\n");
    else
      g_string_append_c (out, '\n');
    g_string_append (out, picked->pdata[i]);
  }
  g_string_append (out, "\n]}\n");
  g_ptr_array_unref (picked);
  *length = out->len;
  return g_string_free (out, FALSE);
}
