/* gst-apm: health checks of things outside the process: HTTP and paths */
#include "apm-probes.h"

#include <libsoup/soup.h>
#include <errno.h>
#include <sys/statvfs.h>

typedef struct
{
  gchar *url;
  guint expect;
  guint timeout_s;
  ApmCircuitBreaker *breaker;
  /* the last request's result; one run at a time (apm-health.c) */
  ApmHealthStatus last_status;
  gchar *last_message;
} HttpProbe;

static void
http_probe_free (gpointer data)
{
  HttpProbe *p = data;

  g_free (p->url);
  g_free (p->last_message);
  g_object_unref (p->breaker);
  g_free (p);
}

/* The breaker is open: no request, the last status stands, said so. */
static ApmHealthStatus
http_probe_skipped (HttpProbe * p, gchar ** message, JsonObject * details)
{
  gdouble retry_s = apm_circuit_breaker_get_retry_in_us (p->breaker) / 1e6;

  json_object_set_boolean_member (details, "skipped", TRUE);
  json_object_set_string_member (details, "breaker",
      apm_circuit_breaker_get_name (p->breaker));
  *message = g_strdup_printf ("not requested: circuit breaker %s is open "
      "after %u failures in a row (next try in %.1f s); last result: %s",
      apm_circuit_breaker_get_name (p->breaker),
      apm_circuit_breaker_get_n_failures (p->breaker), retry_s,
      p->last_message ? p->last_message : "none");
  return p->last_status;
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
  if (!apm_circuit_breaker_allow (p->breaker)) {
    g_clear_object (&msg);
    g_object_unref (session);
    return http_probe_skipped (p, message, *details);
  }
  if (!msg) {
    g_object_unref (session);
    *message = g_strdup_printf ("invalid URL %s", p->url);
    apm_circuit_breaker_record_failure (p->breaker);
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
  if (status == APM_HEALTH_HEALTHY)
    apm_circuit_breaker_record_success (p->breaker);
  else
    apm_circuit_breaker_record_failure (p->breaker);
  p->last_status = status;
  g_free (p->last_message);
  p->last_message = g_strdup (*message);
  return status;
}

void
apm_probes_add_http (ApmHealth * health, const gchar * name,
    const gchar * url, guint expect_status, guint timeout_s, guint interval_s)
{
  apm_probes_add_http_full (health, name, url, expect_status, timeout_s,
      interval_s, NULL);
}

void
apm_probes_add_http_full (ApmHealth * health, const gchar * name,
    const gchar * url, guint expect_status, guint timeout_s,
    guint interval_s, const ApmBreakerSettings * breaker)
{
  HttpProbe *p = g_new0 (HttpProbe, 1);
  gchar *breaker_name = g_strconcat ("health:", name, NULL);

  p->breaker = apm_circuit_breaker_new (breaker_name,
      breaker ? breaker->failures : APM_PROBE_BREAKER_FAILURES,
      breaker ? breaker->reset_seconds : APM_PROBE_BREAKER_RESET_S);
  g_free (breaker_name);
  p->url = g_strdup (url);
  p->expect = expect_status ? expect_status : 200;
  p->timeout_s = timeout_s ? timeout_s : 5;
  /* the check's own timeout a little past the request's */
  apm_health_add_check_full (health, name, http_probe, p, http_probe_free,
      interval_s, p->timeout_s + 1, TRUE);
}

gboolean
apm_probes_disk_space (const gchar * path, ApmDiskSpace * space)
{
  struct statvfs st;

  if (statvfs (path, &st) != 0)
    return FALSE;
  space->free_bytes = (guint64) st.f_bfree * st.f_frsize;
  space->avail_bytes = (guint64) st.f_bavail * st.f_frsize;
  space->size_bytes = (guint64) st.f_blocks * st.f_frsize;
  return TRUE;
}

/* "1.5 GiB" (g_format_size puts a no-break space in it) */
static gchar *
format_bytes (guint64 bytes)
{
  static const gchar *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB",
    "PiB", "EiB"
  };
  gdouble v = bytes;
  guint u = 0;

  while (v >= 1024 && u + 1 < G_N_ELEMENTS (units)) {
    v /= 1024;
    u++;
  }
  return u ? g_strdup_printf ("%.1f %s", v, units[u]) :
      g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
}

/* the limit (bytes or ratio) @avail is below, as text, or NULL */
static gchar *
limit_passed (guint64 avail, gdouble ratio, guint64 limit_bytes,
    gdouble limit_ratio)
{
  if (limit_bytes && avail < limit_bytes) {
    gchar *b = format_bytes (limit_bytes), *text;

    text = g_strdup_printf ("below %s", b);
    g_free (b);
    return text;
  }
  if (limit_ratio > 0 && ratio < limit_ratio)
    return g_strdup_printf ("below %g %%", limit_ratio * 100);
  return NULL;
}

ApmHealthStatus
apm_probes_space_status (const ApmDiskSpace * space,
    const ApmSpaceLimits * limits, JsonObject * details, gchar ** message)
{
  gdouble ratio = space->size_bytes ?
      (gdouble) space->avail_bytes / space->size_bytes : 0;
  gchar *avail = format_bytes (space->avail_bytes);
  gchar *size = format_bytes (space->size_bytes);
  gchar *passed;
  ApmHealthStatus status = APM_HEALTH_HEALTHY;

  json_object_set_int_member (details, "free_bytes", space->avail_bytes);
  json_object_set_int_member (details, "total_bytes", space->size_bytes);
  json_object_set_double_member (details, "free_ratio", ratio);
  if ((passed = limit_passed (space->avail_bytes, ratio,
              limits->unhealthy_bytes, limits->unhealthy_ratio)))
    status = APM_HEALTH_UNHEALTHY;
  else if ((passed = limit_passed (space->avail_bytes, ratio,
              limits->degraded_bytes, limits->degraded_ratio)))
    status = APM_HEALTH_DEGRADED;
  *message = g_strdup_printf ("%s free of %s (%.1f %%)%s%s", avail, size,
      ratio * 100, passed ? ", " : "", passed ? passed : "");
  g_free (passed);
  g_free (avail);
  g_free (size);
  return status;
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
  ApmSpaceLimits limits = { 2 * p->min_free, p->min_free, 0, 0 };
  ApmDiskSpace space;

  *details = json_object_new ();
  json_object_set_string_member (*details, "path", p->path);
  if (!g_file_test (p->path, G_FILE_TEST_EXISTS)) {
    *message = g_strdup_printf ("%s does not exist", p->path);
    return APM_HEALTH_UNHEALTHY;
  }
  if (!apm_probes_disk_space (p->path, &space)) {
    *message = g_strdup_printf ("cannot read free space of %s: %s", p->path,
        g_strerror (errno));
    return APM_HEALTH_DEGRADED;
  }
  json_object_set_int_member (*details, "min_free_bytes", p->min_free);
  return apm_probes_space_status (&space, &limits, *details, message);
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
