/* gst-apm: reading the configuration file's JSON
 *
 * Typed getters and key checks that report the first problem as
 * "FILE:LINE: what", for the sections in apm-config.c.
 */
#include "apm-config-private.h"

#include <math.h>
#include <string.h>

/* The line of the first @key after the first @anchor in the text: json-glib
 * 1.6 keeps no positions, so problems are located by searching. */
static guint
locate (ApmConfigCtx * ctx, const gchar * anchor, const gchar * key)
{
  const gchar *p = ctx->text, *hit;
  gchar *quoted;
  guint line = 1;

  if (anchor) {
    quoted = g_strdup_printf ("\"%s\"", anchor);
    hit = strstr (p, quoted);
    g_free (quoted);
    if (hit)
      p = hit;
  }
  if (key) {
    /* the occurrence of the key nearest to the anchor, before or after it
     * (JSON members come in any order) */
    const gchar *best = NULL;

    quoted = g_strdup_printf ("\"%s\"", key);
    for (hit = strstr (ctx->text, quoted); hit; hit = strstr (hit + 1, quoted))
      if (!best || ABS (hit - p) < ABS (best - p))
        best = hit;
    g_free (quoted);
    if (best)
      p = best;
  }
  for (const gchar * c = ctx->text; c < p; c++)
    if (*c == '\n')
      line++;
  return line;
}

void
apm_config_fail (ApmConfigCtx * ctx, const gchar * anchor, const gchar * key,
    const gchar * format, ...)
{
  va_list args;
  gchar *what;

  if (ctx->failed)
    return;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (ctx->error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
      "%s:%u: %s", ctx->path, locate (ctx, anchor, key), what);
  g_free (what);
  ctx->failed = TRUE;
}

/* typed getters: report a wrong type and return the default */
gboolean
apm_config_get_number (ApmConfigCtx * ctx, JsonObject * o, const gchar * key,
    const gchar * anchor, gdouble min, gdouble max, gdouble * out)
{
  JsonNode *n = json_object_get_member (o, key);
  gdouble v;

  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n) || (json_node_get_value_type (n) !=
          G_TYPE_INT64 && json_node_get_value_type (n) != G_TYPE_DOUBLE)) {
    apm_config_fail (ctx, anchor, key, "\"%s\" must be a number", key);
    return FALSE;
  }
  v = json_node_get_double (n);
  if (!isfinite (v) || v < min || v > max) {
    apm_config_fail (ctx, anchor, key, "\"%s\" must be from %g to %g", key,
        min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

const gchar *
apm_config_get_string (ApmConfigCtx * ctx, JsonObject * o, const gchar * key,
    const gchar * anchor)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    apm_config_fail (ctx, anchor, key, "\"%s\" must be a string", key);
    return NULL;
  }
  return json_node_get_string (n);
}

gboolean
apm_config_get_bool (ApmConfigCtx * ctx, JsonObject * o, const gchar * key,
    const gchar * anchor, gboolean * out)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
    apm_config_fail (ctx, anchor, key, "\"%s\" must be true or false", key);
    return FALSE;
  }
  *out = json_node_get_boolean (n);
  return TRUE;
}

JsonObject *
apm_config_get_object (ApmConfigCtx * ctx, JsonObject * o, const gchar * key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (n)) {
    apm_config_fail (ctx, NULL, key, "\"%s\" must be an object", key);
    return NULL;
  }
  return json_node_get_object (n);
}

JsonArray *
apm_config_get_array (ApmConfigCtx * ctx, JsonObject * o, const gchar * key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (n)) {
    apm_config_fail (ctx, NULL, key, "\"%s\" must be an array", key);
    return NULL;
  }
  return json_node_get_array (n);
}

void
apm_config_check_keys (ApmConfigCtx * ctx, JsonObject * o,
    const gchar * const *known, const gchar * anchor, const gchar * where)
{
  GList *members = json_object_get_members (o);

  for (GList * l = members; l; l = l->next)
    if (!g_strv_contains (known, l->data)) {
      gchar *list = g_strjoinv (", ", (gchar **) known);

      apm_config_fail (ctx, anchor, l->data,
          "unknown key \"%s\" in %s (known: %s)", (gchar *) l->data, where,
          list);
      g_free (list);
      break;
    }
  g_list_free (members);
}

JsonParser *
apm_config_parse_json (ApmConfigCtx * ctx, gsize len)
{
  JsonParser *parser = json_parser_new ();
  GError **error = ctx->error;

  if (!json_parser_load_from_data (parser, ctx->text, len, error)) {
    /* json-glib says "<data>:LINE:COL: ...": name the file instead */
    if (error && *error) {
      gchar *msg = (*error)->message;
      const gchar *rest = g_str_has_prefix (msg, "<data>:") ? msg + 7 : msg;

      (*error)->message = g_strdup_printf ("%s:%s", ctx->path, rest);
      g_free (msg);
    }
    g_object_unref (parser);
    ctx->failed = TRUE;
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    apm_config_fail (ctx, NULL, NULL, "the top level must be a JSON object");
    g_object_unref (parser);
    return NULL;
  }
  return parser;
}
