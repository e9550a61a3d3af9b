/* gst-apm: timestamps as the JSON documents and logs write them */
#include "apm-time.h"

gchar *
apm_time_format (gint64 wall_us)
{
  /* GLib 2.74 has no microsecond constructor: add them by hand */
  GDateTime *dt = g_date_time_new_from_unix_utc (wall_us / G_USEC_PER_SEC);
  gchar *base, *text;

  if (!dt)
    return g_strdup ("1970-01-01T00:00:00.000000Z");
  base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  text = g_strdup_printf ("%s.%06" G_GINT64_FORMAT "Z", base,
      wall_us % G_USEC_PER_SEC);
  g_free (base);
  g_date_time_unref (dt);
  return text;
}

gint64
apm_time_parse (const gchar * text)
{
  GDateTime *dt = text ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
  gint64 us;

  if (!dt)
    return 0;
  us = g_date_time_to_unix (dt) * G_USEC_PER_SEC +
      g_date_time_get_microsecond (dt);
  g_date_time_unref (dt);
  return us;
}
