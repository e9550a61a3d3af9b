/* gst-apm: HTTP content negotiation (Accept, Accept-Encoding) and gzip
 *
 * What Prometheus sends: Accept: application/openmetrics-text;
 * version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,
 * text/plain;version=0.0.4;q=0.5,*\/\*;q=0.1 and Accept-Encoding: gzip.
 */
#include "apm-negotiate.h"

#include <gio/gio.h>
#include <string.h>

/* how specifically @range ("*\/\*", "text/\*", "text/plain", "gzip", "*")
 * covers @type: 0 not at all, then wildcard < subtype wildcard < exact */
static gint
coverage (const gchar * range, const gchar * type)
{
  const gchar *slash = strchr (type, '/');

  if (g_ascii_strcasecmp (range, type) == 0)
    return 3;
  if (slash && g_str_has_suffix (range, "/*")
      && g_ascii_strncasecmp (range, type, slash - type + 1) == 0
      && strlen (range) == (gsize) (slash - type) + 2)
    return 2;
  if (strcmp (range, "*/*") == 0 || strcmp (range, "*") == 0)
    return 1;
  return 0;
}

gdouble
apm_negotiate_quality (const gchar * header, const gchar * type,
    const gchar * const *versions)
{
  gchar **entries;
  gdouble best_q = 0;
  gint best_cov = 0;

  if (!header)
    return 1;
  entries = g_strsplit (header, ",", -1);
  for (guint i = 0; entries[i]; i++) {
    gchar **parts = g_strsplit (entries[i], ";", -1);
    gchar *range = g_strstrip (parts[0]);
    gdouble q = 1;
    gboolean version_ok = TRUE;
    gint cov = coverage (range, type);

    for (guint p = 1; parts[p]; p++) {
      gchar *param = g_strstrip (parts[p]), *eq = strchr (param, '=');
      gchar *value;

      if (!eq)
        continue;
      *eq = '\0';
      value = g_strstrip (eq + 1);
      g_strstrip (param);
      if (g_ascii_strcasecmp (param, "q") == 0) {
        gchar *end;

        q = g_ascii_strtod (value, &end);
        if (*end || q < 0 || q > 1)
          q = 0;                /* malformed: not acceptable */
      } else if (g_ascii_strcasecmp (param, "version") == 0 && cov == 3
          && versions) {
        version_ok = g_strv_contains (versions, value);
      }
    }
    /* the most specific entry decides (RFC 9110 12.5.1) */
    if (cov > 0 && version_ok && cov >= best_cov) {
      if (cov > best_cov)
        best_q = q;
      else
        best_q = MAX (best_q, q);
      best_cov = cov;
    }
    g_strfreev (parts);
  }
  g_strfreev (entries);
  return best_q;
}

guint8 *
apm_gzip (const guint8 * data, gsize len, gsize * out_len)
{
  /* level 1: a third of level 6's time on the service thread, for a body
   * still about 20 times smaller (metric text repeats itself) */
  GZlibCompressor *z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP,
      1);
  GByteArray *out = g_byte_array_sized_new (len / 4 + 64);
  guint8 buf[16384];
  GConverterResult r;

  do {
    gsize read = 0, written = 0;
    GError *error = NULL;

    r = g_converter_convert (G_CONVERTER (z), data, len, buf, sizeof buf,
        G_CONVERTER_INPUT_AT_END, &read, &written, &error);
    if (r == G_CONVERTER_ERROR) {
      /* memory to memory, so not expected: the caller sends it plain */
      g_warning ("apm: gzip failed: %s", error->message);
      g_error_free (error);
      g_object_unref (z);
      g_byte_array_unref (out);
      return NULL;
    }
    data += read;
    len -= read;
    g_byte_array_append (out, buf, written);
  } while (r != G_CONVERTER_FINISHED);
  g_object_unref (z);
  *out_len = out->len;
  return g_byte_array_free (out, FALSE);
}
