/* gst-apm: one discovery file per serving process */
#include "apm-discovery.h"

#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <unistd.h>
#include <signal.h>
#include <string.h>

gchar *
apm_discovery_dir (void)
{
  const gchar *dir = g_getenv ("APM_RUNTIME_DIR");

  if (dir && *dir)
    return g_strdup (dir);
  /* root's services are system services: one directory for all of them */
  if (geteuid () == 0)
    return g_strdup ("/run/gst-apm");
  return g_build_filename (g_get_user_runtime_dir (), "gst-apm", NULL);
}

static gboolean
pid_gone (guint64 pid)
{
  return kill ((pid_t) pid, 0) < 0 && errno == ESRCH;
}

/* the command line, arguments joined by spaces (bounded) */
static gchar *
read_cmdline (void)
{
  gchar *raw = NULL;
  gsize len = 0;

  if (!g_file_get_contents ("/proc/self/cmdline", &raw, &len, NULL))
    return g_strdup (g_get_prgname ()? g_get_prgname () : "");
  len = MIN (len, 4096);
  for (gsize i = 0; i < len; i++)
    if (raw[i] == '\0')
      raw[i] = ' ';
  while (len > 0 && raw[len - 1] == ' ')
    len--;
  raw[len] = '\0';
  return raw;
}

/* files left by processes that were killed (no exit handler ran) */
static void
remove_stale (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    gchar *end = NULL;
    guint64 pid = g_ascii_strtoull (name, &end, 10);

    if (pid > 0 && pid < G_MAXINT && end && strcmp (end, ".json") == 0
        && pid_gone (pid)) {
      gchar *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
      g_free (path);
    }
  }
  g_dir_close (d);
}

gchar *
apm_discovery_publish (const gchar * url, guint port, const gchar * address,
    const gchar * const *pipelines, GError ** error)
{
  gchar *dir = apm_discovery_dir ();
  gchar *name = g_strdup_printf ("%d.json", (gint) getpid ());
  gchar *path = g_build_filename (dir, name, NULL);
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  GDateTime *now = g_date_time_new_now_utc ();
  /* a rewrite (the pipelines changed) keeps the first start time */
  static gchar *first_started;
  gchar *started;
  JsonNode *root;
  gchar *text, *cmdline = read_cmdline ();
  gboolean ok;

  if (!first_started)
    first_started = g_date_time_format_iso8601 (now);
  started = g_strdup (first_started);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "port");
  json_builder_add_int_value (b, port);
  json_builder_set_member_name (b, "address");
  json_builder_add_string_value (b, address);
  json_builder_set_member_name (b, "program");
  json_builder_add_string_value (b, g_get_prgname ()? g_get_prgname () : "");
  json_builder_set_member_name (b, "cmdline");
  json_builder_add_string_value (b, cmdline);
  json_builder_set_member_name (b, "pipelines");
  json_builder_begin_array (b);
  for (guint i = 0; pipelines && pipelines[i]; i++)
    json_builder_add_string_value (b, pipelines[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "started");
  json_builder_add_string_value (b, started);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);

  /* private to the user: the URL may be on a non-loopback address */
  ok = g_mkdir_with_parents (dir, 0700) == 0;
  if (!ok)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
        "cannot create %s: %s", dir, g_strerror (errno));
  else
    remove_stale (dir);
  if (ok)
    ok = g_file_set_contents_full (path, text, -1,
        G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);

  g_free (text);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  g_free (started);
  g_free (cmdline);
  g_date_time_unref (now);
  g_free (name);
  g_free (dir);
  if (!ok)
    g_clear_pointer (&path, g_free);
  return path;
}

void
apm_discovery_withdraw (const gchar * path)
{
  if (path)
    g_unlink (path);
}

/* file names by pid, for a stable order */
static gint
by_pid (gconstpointer a, gconstpointer b)
{
  guint64 x = g_ascii_strtoull (*(const gchar * const *) a, NULL, 10);
  guint64 y = g_ascii_strtoull (*(const gchar * const *) b, NULL, 10);

  return x < y ? -1 : x > y;
}

JsonArray *
apm_discovery_list (gboolean clean)
{
  JsonArray *out = json_array_new ();
  gchar *dir = apm_discovery_dir ();
  GDir *d = g_dir_open (dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_strdup (name));
  if (d)
    g_dir_close (d);
  g_ptr_array_sort (names, by_pid);
  for (guint i = 0; i < names->len; i++) {
    gchar *end = NULL, *path, *text = NULL;
    const gchar *n = names->pdata[i];
    guint64 pid = g_ascii_strtoull (n, &end, 10);
    JsonNode *node;

    if (pid == 0 || pid >= G_MAXINT || !end || strcmp (end, ".json") != 0)
      continue;
    path = g_build_filename (dir, n, NULL);
    if (pid_gone (pid)) {
      if (clean)
        g_unlink (path);
    } else if (g_file_get_contents (path, &text, NULL, NULL)
        && (node = json_from_string (text, NULL))) {
      /* a file we cannot read or parse is skipped, not fatal */
      if (JSON_NODE_HOLDS_OBJECT (node)
          && json_object_get_int_member_with_default (json_node_get_object
              (node), "pid", 0) == (gint64) pid)
        json_array_add_element (out, node);
      else
        json_node_unref (node);
    }
    g_free (text);
    g_free (path);
  }
  g_ptr_array_unref (names);
  g_free (dir);
  return out;
}
