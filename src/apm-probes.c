/* gst-apm: health checks of things outside the process: HTTP and paths */
#include "apm-probes.h"

#include <libsoup/soup.h>
#include <sys/statvfs.h>

typedef struct
{
  gchar *url;
  guint expect;
  guint timeout_s;
} HttpProbe;

static void
http_probe_free (gpointer data)
{
  HttpProbe *p = data;

  g_free (p->url);
  g_free (p);
}

static ApmHealthStatus
http_probe (gpointer user_data, gchar ** message, JsonObject ** details)
{
  HttpProbe *p = user_data;
  SoupSession *session = soup_session_new_with_options ("timeout",
      p->timeout_s, "idle-timeout", p->timeout_s, NULL);
  SoupMessage *msg = soup_message_new ("GET", p->url);
  GError *error = NULL;
  GBytes *body;
  gint64 t0 = g_get_monotonic_time ();
  ApmHealthStatus status;
  guint code;

  *details = json_object_new ();
  json_object_set_string_member (*details, "url", p->url);
  if (!msg) {
    g_object_unref (session);
    *message = g_strdup_printf ("invalid URL %s", p->url);
    return APM_HEALTH_UNHEALTHY;
  }
  body = soup_session_send_and_read (session, msg, NULL, &error);
  json_object_set_double_member (*details, "response_time",
      (g_get_monotonic_time () - t0) / 1e6);
  if (!body) {
    *message = g_strdup_printf ("request failed: %s", error->message);
    status = APM_HEALTH_UNHEALTHY;
    g_clear_error (&error);
  } else {
    code = soup_message_get_status (msg);
    json_object_set_int_member (*details, "status_code", code);
    if (code == p->expect) {
      *message = g_strdup_printf ("responding (%u)", code);
      status = APM_HEALTH_HEALTHY;
    } else {
      *message = g_strdup_printf ("returned %u, expected %u", code,
          p->expect);
      status = APM_HEALTH_UNHEALTHY;
    }
    g_bytes_unref (body);
  }
  g_object_unref (msg);
  g_object_unref (session);
  return status;
}

void
apm_probes_add_http (ApmHealth * health, const gchar * name,
    const gchar * url, guint expect_status, guint timeout_s, guint interval_s)
{
  HttpProbe *p = g_new0 (HttpProbe, 1);

  p->url = g_strdup (url);
  p->expect = expect_status ? expect_status : 200;
  p->timeout_s = timeout_s ? timeout_s : 5;
  /* the check's own timeout a little past the request's */
  apm_health_add_check_full (health, name, http_probe, p, http_probe_free,
      interval_s, p->timeout_s + 1, TRUE);
}

gboolean
apm_probes_disk_space (const gchar * path, guint64 * free_bytes,
    guint64 * total_bytes)
{
  struct statvfs st;

  if (statvfs (path, &st) != 0)
    return FALSE;
  *free_bytes = (guint64) st.f_bavail * st.f_frsize;
  *total_bytes = (guint64) st.f_blocks * st.f_frsize;
  return TRUE;
}

typedef struct
{
  gchar *path;
  guint64 min_free;
} PathProbe;

static void
path_probe_free (gpointer data)
{
  PathProbe *p = data;

  g_free (p->path);
  g_free (p);
}

static ApmHealthStatus
path_probe (gpointer user_data, gchar ** message, JsonObject ** details)
{
  PathProbe *p = user_data;
  guint64 free_bytes, total;

  *details = json_object_new ();
  json_object_set_string_member (*details, "path", p->path);
  if (!g_file_test (p->path, G_FILE_TEST_EXISTS)) {
    *message = g_strdup_printf ("%s does not exist", p->path);
    return APM_HEALTH_UNHEALTHY;
  }
  if (!apm_probes_disk_space (p->path, &free_bytes, &total)) {
    *message = g_strdup_printf ("cannot read free space of %s", p->path);
    return APM_HEALTH_DEGRADED;
  }
  json_object_set_int_member (*details, "free_bytes", free_bytes);
  json_object_set_int_member (*details, "total_bytes", total);
  json_object_set_int_member (*details, "min_free_bytes", p->min_free);
  *message = g_strdup_printf ("%.1fGB free", free_bytes / 1e9);
  if (p->min_free && free_bytes < p->min_free)
    return APM_HEALTH_UNHEALTHY;
  if (p->min_free && free_bytes < 2 * p->min_free)
    return APM_HEALTH_DEGRADED;
  return APM_HEALTH_HEALTHY;
}

void
apm_probes_add_path (ApmHealth * health, const gchar * name,
    const gchar * path, guint64 min_free_bytes, guint interval_s)
{
  PathProbe *p = g_new0 (PathProbe, 1);

  p->path = g_strdup (path);
  p->min_free = min_free_bytes;
  /* statvfs on a network mount can hang: in a worker */
  apm_health_add_check_full (health, name, path_probe, p, path_probe_free,
      interval_s, 10, TRUE);
}
