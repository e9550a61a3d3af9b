/* gst-apm: parsing of the apm tracer's parameters */
#include "gstapmparams.h"

#include <string.h>

static const gchar *const known_keys[] = { "port", "address", "quiet",
  "ws-rate", NULL
};

typedef struct
{
  ApmServiceConfig *config;
  GPtrArray *problems;
} ParseCtx;

static gboolean
check_field (GQuark field, const GValue * value, gpointer user_data)
{
  ParseCtx *ctx = user_data;
  const gchar *key = g_quark_to_string (field);

  if (!g_strv_contains (known_keys, key)) {
    g_ptr_array_add (ctx->problems, g_strdup_printf ("unknown param '%s' "
            "(known: port, address, quiet, ws-rate)", key));
    return TRUE;
  }

  if (strcmp (key, "port") == 0) {
    if (!G_VALUE_HOLDS_INT (value)) {
      gchar *text = gst_value_serialize (value);

      g_ptr_array_add (ctx->problems, g_strdup_printf ("param port='%s' is "
              "not a number: using default %d", text ? text : "?",
              APM_DEFAULT_PORT));
      g_free (text);
    } else if (g_value_get_int (value) < 0 || g_value_get_int (value) > 65535) {
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param port=%d is out "
              "of range 0..65535: using default %d", g_value_get_int (value),
              APM_DEFAULT_PORT));
    } else {
      ctx->config->port = g_value_get_int (value);
    }
  } else if (strcmp (key, "address") == 0) {
    GInetAddress *inet = NULL;
    gchar *text = G_VALUE_HOLDS_STRING (value) ?
        g_value_dup_string (value) : gst_value_serialize (value);

    if (text)
      inet = g_inet_address_new_from_string (text);
    if (!inet) {
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param address='%s' "
              "is not an IP address: using default %s", text ? text : "?",
              APM_DEFAULT_ADDRESS));
    } else {
      g_free (ctx->config->address);
      ctx->config->address = g_strdup (text);
      g_object_unref (inet);
    }
    g_free (text);
  } else if (strcmp (key, "ws-rate") == 0) {
    if (G_VALUE_HOLDS_INT (value) && g_value_get_int (value) >= 1
        && g_value_get_int (value) <= APM_MAX_WS_RATE) {
      ctx->config->ws_rate = g_value_get_int (value);
    } else {
      gchar *text = gst_value_serialize (value);

      g_ptr_array_add (ctx->problems, g_strdup_printf ("param ws-rate='%s' "
              "must be a number of updates per second from 1 to %d: using "
              "default %d", text ? text : "?", APM_MAX_WS_RATE,
              APM_DEFAULT_WS_RATE));
      g_free (text);
    }
  } else if (strcmp (key, "quiet") == 0) {
    if (G_VALUE_HOLDS_BOOLEAN (value)) {
      ctx->config->quiet = g_value_get_boolean (value);
    } else {
      gchar *text = gst_value_serialize (value);

      g_ptr_array_add (ctx->problems, g_strdup_printf ("param quiet='%s' is "
              "not a boolean (true/false)", text ? text : "?"));
      g_free (text);
    }
  }
  return TRUE;
}

gboolean
gst_apm_params_parse (const gchar * params, ApmServiceConfig * config,
    GPtrArray * problems)
{
  guint n_before = problems->len;
  GstStructure *s;
  gchar *text;
  ParseCtx ctx = { config, problems };

  if (!params || !*params)
    return TRUE;

  text = g_strdup_printf ("apm,%s", params);
  s = gst_structure_from_string (text, NULL);
  g_free (text);
  if (!s) {
    g_ptr_array_add (problems, g_strdup_printf ("could not parse params "
            "'%s' (expected key=value,key=value): using defaults", params));
    return FALSE;
  }
  gst_structure_foreach (s, check_field, &ctx);
  gst_structure_free (s);
  return problems->len == n_before;
}
