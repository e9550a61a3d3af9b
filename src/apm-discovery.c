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
  return g_build_filename (g_get_user_runtime_dir (), "gst-apm", NULL);
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
        && kill ((pid_t) pid, 0) < 0 && errno == ESRCH) {
      gchar *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
      g_free (path);
    }
  }
  g_dir_close (d);
}

gchar *
apm_discovery_publish (const gchar * url, guint port, const gchar * address,
    GError ** error)
{
  gchar *dir = apm_discovery_dir ();
  gchar *name = g_strdup_printf ("%d.json", (gint) getpid ());
  gchar *path = g_build_filename (dir, name, NULL);
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  GDateTime *now = g_date_time_new_now_utc ();
  gchar *started = g_date_time_format_iso8601 (now);
  JsonNode *root;
  gchar *text;
  gboolean ok;

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
