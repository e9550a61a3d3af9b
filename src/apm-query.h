/* gst-apm: the query parameters the REST API shares */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ?since=UNIX_SECONDS or ?since=-SECONDS (before @now_us).  Absent: 0.
 * FALSE with @problem set when malformed. */
gboolean apm_query_since (GHashTable * query, gint64 now_us,
    gint64 * since_us, const gchar ** problem);

/* ?limit=N, 0..100000.  Absent: 0 (no limit). */
gboolean apm_query_limit (GHashTable * query, guint * limit,
    const gchar ** problem);

/* ?step=SECONDS, 1..604800 (the points' spacing).  Absent: 0. */
gboolean apm_query_step (GHashTable * query, gint64 * step_us,
    const gchar ** problem);

G_END_DECLS
