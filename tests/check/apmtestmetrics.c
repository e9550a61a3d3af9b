/* gst-apm tests: a strict parser of the Prometheus text format and
 * lookups in what it parsed */
#include "apmtestutil.h"

#include <string.h>

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar **) a, *(const gchar **) b);
}

/* Builds the lookup key from a name and "k=\"v\"" pairs (sorted here). */
static gchar *
make_key (const gchar * name, GPtrArray * pairs)
{
  GString *key = g_string_new (name);

  if (pairs->len == 0)
    return g_string_free (key, FALSE);
  g_ptr_array_sort (pairs, compare_strings);
  g_string_append_c (key, '{');
  for (guint i = 0; i < pairs->len; i++) {
    if (i)
      g_string_append_c (key, ',');
    g_string_append (key, g_ptr_array_index (pairs, i));
  }
  g_string_append_c (key, '}');
  return g_string_free (key, FALSE);
}

static gboolean
is_name_char (gchar c, gboolean first)
{
  return g_ascii_isalpha (c) || c == '_' || c == ':' || (!first
      && g_ascii_isdigit (c));
}

/* The family a sample belongs to, if it was declared with # TYPE. */
static gboolean
sample_has_type (GHashTable * types, const gchar * name)
{
  static const gchar *suffixes[] = { "_bucket", "_sum", "_count", NULL };

  if (g_hash_table_contains (types, name))
    return TRUE;
  for (guint i = 0; suffixes[i]; i++) {
    if (g_str_has_suffix (name, suffixes[i])) {
      gchar *base = g_strndup (name, strlen (name) - strlen (suffixes[i]));
      const gchar *type = g_hash_table_lookup (types, base);
      gboolean ok = type && (strcmp (type, "histogram") == 0
          || strcmp (type, "summary") == 0);

      g_free (base);
      if (ok)
        return TRUE;
    }
  }
  return FALSE;
}

static void
parse_sample (GHashTable * table, GHashTable * types, const gchar * line)
{
  const gchar *p = line;
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  gchar *name, *key, *end = NULL;
  gdouble value, *stored;

  fail_unless (is_name_char (*p, TRUE), "bad metric line: '%s'", line);
  while (is_name_char (*p, FALSE))
    p++;
  name = g_strndup (line, p - line);

  if (*p == '{') {
    p++;
    while (*p != '}') {
      const gchar *k = p;
      GString *v = g_string_new (NULL);
      gchar *kname;

      fail_unless (is_name_char (*p, TRUE), "bad label in '%s'", line);
      while (is_name_char (*p, FALSE) && *p != ':')
        p++;
      kname = g_strndup (k, p - k);
      fail_unless (p[0] == '=' && p[1] == '"', "bad label in '%s'", line);
      p += 2;
      while (*p != '"') {
        fail_unless (*p != '\0', "unterminated label value in '%s'", line);
        if (*p == '\\') {
          p++;
          fail_unless (*p == '\\' || *p == '"' || *p == 'n',
              "bad escape in '%s'", line);
          g_string_append_c (v, *p == 'n' ? '\n' : *p);
        } else {
          g_string_append_c (v, *p);
        }
        p++;
      }
      p++;
      g_ptr_array_add (pairs, g_strdup_printf ("%s=\"%s\"", kname, v->str));
      g_free (kname);
      g_string_free (v, TRUE);
      if (*p == ',')
        p++;
      else
        fail_unless (*p == '}', "bad label list in '%s'", line);
    }
    p++;
  }
  fail_unless (*p == ' ', "no value in '%s'", line);
  p++;
  value = g_ascii_strtod (p, &end);
  fail_unless (end != p && (*end == '\0' || *end == ' '),
      "bad value in '%s'", line);

  fail_unless (sample_has_type (types, name), "sample before its # TYPE: "
      "'%s'", line);
  key = make_key (name, pairs);
  fail_if (g_hash_table_contains (table, key), "duplicate series %s", key);
  stored = g_new (gdouble, 1);
  *stored = value;
  g_hash_table_insert (table, key, stored);
  g_free (name);
  g_ptr_array_unref (pairs);
}

GHashTable *
apm_test_parse_metrics (const gchar * text)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  GHashTable *types = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  gchar **lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    const gchar *line = lines[i];

    if (*line == '\0')
      continue;
    if (g_str_has_prefix (line, "# TYPE ")) {
      gchar **f = g_strsplit (line + 7, " ", -1);

      fail_unless (g_strv_length (f) == 2, "bad TYPE line '%s'", line);
      fail_if (g_hash_table_contains (types, f[0]), "family %s declared "
          "twice", f[0]);
      g_hash_table_insert (types, g_strdup (f[0]), g_strdup (f[1]));
      g_strfreev (f);
      continue;
    }
    if (*line == '#')
      continue;
    parse_sample (table, types, line);
  }
  g_strfreev (lines);
  g_hash_table_unref (types);
  return table;
}

gboolean
apm_test_metric_valuev (GHashTable * metrics, gdouble * value,
    const gchar * name, const gchar * const *labels)
{
  GPtrArray *pairs = g_ptr_array_new_with_free_func (g_free);
  gchar *key;
  gdouble *v;

  for (guint i = 0; labels && labels[i]; i += 2) {
    fail_unless (labels[i + 1] != NULL, "label %s without a value",
        labels[i]);
    g_ptr_array_add (pairs, g_strdup_printf ("%s=\"%s\"", labels[i],
            labels[i + 1]));
  }
  key = make_key (name, pairs);
  v = g_hash_table_lookup (metrics, key);
  g_free (key);
  g_ptr_array_unref (pairs);
  if (!v)
    return FALSE;
  if (value)
    *value = *v;
  return TRUE;
}

gboolean
apm_test_metric_value (GHashTable * metrics, gdouble * value,
    const gchar * name, ...)
{
  GPtrArray *labels = g_ptr_array_new ();
  va_list args;
  const gchar *k;
  gboolean found;

  va_start (args, name);
  while ((k = va_arg (args, const gchar *))) {
    g_ptr_array_add (labels, (gpointer) k);
    g_ptr_array_add (labels, va_arg (args, gpointer));
  }
  va_end (args);
  g_ptr_array_add (labels, NULL);
  found = apm_test_metric_valuev (metrics, value, name,
      (const gchar * const *) labels->pdata);
  g_ptr_array_unref (labels);
  return found;
}

gboolean
apm_test_pad_value (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad,
    gdouble * value)
{
  gchar *key = g_strdup_printf ("%s{element=\"%s\",pad=\"%s\","
      "pipeline=\"%s\"}", family, element, pad, pipeline);
  gdouble *v = g_hash_table_lookup (metrics, key);

  g_free (key);
  if (!v)
    return FALSE;
  if (value)
    *value = *v;
  return TRUE;
}

gdouble
apm_test_pad_get (GHashTable * metrics, const gchar * family,
    const gchar * pipeline, const gchar * element, const gchar * pad)
{
  gdouble v = -1;

  fail_unless (apm_test_pad_value (metrics, family, pipeline, element, pad,
          &v), "no series %s{pipeline=\"%s\",element=\"%s\",pad=\"%s\"}",
      family, pipeline, element, pad);
  return v;
}

guint
apm_test_count_series (GHashTable * metrics, const gchar * family,
    const gchar * pipeline)
{
  gchar *prefix = g_strdup_printf ("%s{", family);
  gchar *needle = g_strdup_printf ("pipeline=\"%s\"", pipeline);
  GHashTableIter it;
  const gchar *key;
  guint n = 0;

  g_hash_table_iter_init (&it, metrics);
  while (g_hash_table_iter_next (&it, (gpointer *) & key, NULL)) {
    if (g_str_has_prefix (key, prefix) && strstr (key, needle))
      n++;
  }
  g_free (prefix);
  g_free (needle);
  return n;
}
