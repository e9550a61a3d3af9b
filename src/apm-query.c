/* gst-apm: the query parameters the REST API shares */
#include "apm-query.h"

#include <math.h>

gboolean
apm_query_since (GHashTable * query, gint64 now_us, gint64 * since_us,
    const gchar ** problem)
{
  const gchar *text = query ? g_hash_table_lookup (query, "since") : NULL;
  gchar *end = NULL;
  gdouble v;

  *since_us = 0;
  if (!text)
    return TRUE;
  v = g_ascii_strtod (text, &end);
  /* bounded so the microseconds fit in 64 bits */
  if (!end || *end || end == text || !isfinite (v) || fabs (v) > 1e12) {
    *problem = "since must be Unix seconds, or negative seconds before now";
    return FALSE;
  }
  *since_us = v < 0 ? now_us + (gint64) (v * 1e6) : (gint64) (v * 1e6);
  return TRUE;
}

gboolean
apm_query_limit (GHashTable * query, guint * limit, const gchar ** problem)
{
  const gchar *text = query ? g_hash_table_lookup (query, "limit") : NULL;
  guint64 v = 0;

  *limit = 0;
  if (text && !g_ascii_string_to_unsigned (text, 10, 0, 100000, &v, NULL)) {
    *problem = "limit must be a number from 0 to 100000";
    return FALSE;
  }
  *limit = v;
  return TRUE;
}

gboolean
apm_query_step (GHashTable * query, gint64 * step_us, const gchar ** problem)
{
  const gchar *text = query ? g_hash_table_lookup (query, "step") : NULL;
  gchar *end = NULL;
  gdouble v;

  *step_us = 0;
  if (!text)
    return TRUE;
  v = g_ascii_strtod (text, &end);
  if (!end || *end || end == text || !isfinite (v) || v < 1 || v > 604800) {
    *problem = "step must be seconds from 1 to 604800";
    return FALSE;
  }
  *step_us = (gint64) (v * 1e6);
  return TRUE;
}
