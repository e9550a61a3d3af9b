/* gst-apm: timestamps as the JSON documents and logs write them */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 3339 in UTC with microseconds: "2026-11-24T05:04:36.123456Z". */
gchar *apm_time_format (gint64 wall_us);

/* Back from RFC 3339 (what apm_time_format writes); 0 if malformed. */
gint64 apm_time_parse (const gchar * text);

G_END_DECLS
