/* gst-apm: parsing of the apm tracer's parameters */
#include "gstapmparams.h"

#include "apm-config.h"
#include "apm-tracecontext.h"
#include "apm-recovery.h"

#include <stdlib.h>
#include <string.h>

typedef enum
{
  PARAM_INT,
  PARAM_BOOL,
  PARAM_STRING,
} ParamType;

typedef struct
{
  const gchar *key;
  ParamType type;
  gint min, max;                /* PARAM_INT */
  const gchar *meaning;         /* for messages */
} Param;

static const Param params_table[] = {
  {"port", PARAM_INT, 0, 65535, "a TCP port (0 picks a free one)"},
  {"address", PARAM_STRING, 0, 0, "an IP address"},
  {"quiet", PARAM_BOOL, 0, 0, "true or false"},
  {"bus-messages", PARAM_BOOL, 0, 0, "true or false"},
  {"ws-rate", PARAM_INT, 1, APM_MAX_WS_RATE, "WebSocket updates per second"},
  {"alert-interval", PARAM_INT, 1, 86400, "seconds between alert "
        "evaluations"},
  {"config", PARAM_STRING, 0, 0, "the path of a JSON configuration file"},
  {"log-file", PARAM_STRING, 0, 0, "the path of a JSON-lines log file"},
  {"log-stderr", PARAM_BOOL, 0, 0, "true or false"},
  {"log-level", PARAM_STRING, 0, 0, "debug, info, warning, error or "
        "critical"},
  {"token", PARAM_STRING, 0, 0, "a bearer token"},
  {"otlp-endpoint", PARAM_STRING, 0, 0, "the http:// URL of an OTLP/HTTP "
        "collector (OTEL_EXPORTER_OTLP_ENDPOINT wins)"},
  {"state-dir", PARAM_STRING, 0, 0, "a directory where the history, the "
        "alert history and finished jobs are kept across restarts"},
  {"auth", PARAM_STRING, 0, 0, "writes or all (what needs the token)"},
  {"stuck-timeout", PARAM_INT, 1, 86400, "seconds a state change may "
        "stay pending before the pipeline counts as stuck"},
  {"recovery", PARAM_STRING, 0, 0, "recovery policies, quoted: "
        "recovery=\"GLOB=TRIGGERS:ACTION[,OPTION=VALUE...] ...\" "
        "(recovery=\"tcp*=stall+stuck:restart,max=3\")"},
  {"gst-debug", PARAM_STRING, 0, 0, "a GST_DEBUG-style list of "
        "CATEGORY:LEVEL, quoted (gst-debug=\"GST_STATES:4,audio*:5\")"},
  {"traceparent", PARAM_STRING, 0, 0, "a W3C traceparent, "
        "00-<32 hex>-<16 hex>-<2 hex>, lowercase"},
  {"labels", PARAM_STRING, 0, 0, "a list of KEY:VALUE, quoted when there "
        "are several (labels=\"variant:b,region:eu\")"},
  {"summary", PARAM_STRING, 0, 0, "true, false, or a file path ending in "
        ".json or .html"},
};

typedef struct
{
  ApmServiceConfig *config;
  gchar **config_path;
  gchar **gst_debug;            /* nullable: checked, then dropped */
  gchar **summary;              /* nullable: checked, then dropped */
  GPtrArray *problems;
} ParseCtx;

/* GStreamer's level names by number (8 has none) */
static const gchar *const gst_level_names[] = { "none", "error", "warning",
  "fixme", "info", "debug", "log", "trace", "", "memdump"
};

#define GST_DEBUG_MEANING "CATEGORY:LEVEL (a category name or a pattern " \
  "with * and ?, and a level 1-9 or ERROR, WARNING, FIXME, INFO, DEBUG, " \
  "LOG, TRACE, MEMDUMP)"

/* 1-9 from a number or a name, else -1 */
static gint
parse_gst_level (const gchar * text)
{
  gchar *end = NULL;
  guint64 n;

  if (g_ascii_isdigit (*text)) {
    n = g_ascii_strtoull (text, &end, 10);
    return *end == '\0' && n >= 1 && n <= 9 ? (gint) n : -1;
  }
  for (guint i = 1; i < G_N_ELEMENTS (gst_level_names); i++)
    if (*gst_level_names[i]
        && g_ascii_strcasecmp (text, gst_level_names[i]) == 0)
      return i;
  return -1;
}

static gboolean
valid_category_pattern (const gchar * text)
{
  if (!*text)
    return FALSE;
  for (const gchar * c = text; *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("_-.*?", *c))
      return FALSE;
  return TRUE;
}

/* "GST_STATES:4, audio*:debug" -> "GST_STATES:4,audio*:5"; each bad entry
 * is a problem and is left out; NULL if none is good */
static gchar *
check_gst_debug (const gchar * value, GPtrArray * problems)
{
  gchar **entries = g_strsplit (value, ",", -1);
  GString *clean = g_string_new (NULL);

  for (guint i = 0; entries[i]; i++) {
    gchar *entry = g_strstrip (entries[i]), *colon = strrchr (entry, ':');
    gint level = -1;

    if (!*entry)
      continue;
    if (colon) {
      *colon = '\0';
      level = parse_gst_level (colon + 1);
    }
    if (level < 1 || !valid_category_pattern (entry)) {
      if (colon)
        *colon = ':';
      g_ptr_array_add (problems, g_strdup_printf ("param gst-debug: '%s' "
              "is not %s: ignored", entry, GST_DEBUG_MEANING));
      continue;
    }
    g_string_append_printf (clean, "%s%s:%d", clean->len ? "," : "", entry,
        level);
  }
  g_strfreev (entries);
  if (clean->len == 0) {
    g_ptr_array_add (problems, g_strdup_printf ("param gst-debug='%s' has "
            "no valid %s: the GStreamer debug log is not bridged", value,
            GST_DEBUG_MEANING));
    g_string_free (clean, TRUE);
    return NULL;
  }
  return g_string_free (clean, FALSE);
}

#define LABELS_MEANING "KEY:VALUE (a key of letters, digits, '_', '.' or " \
  "'-', and a value without ',')"

static gboolean
valid_label_key (const gchar * key)
{
  if (!*key)
    return FALSE;
  for (const gchar * c = key; *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("_.-", *c))
      return FALSE;
  return TRUE;
}

static gboolean
label_given (GPtrArray * pairs, const gchar * key)
{
  for (guint i = 0; i < pairs->len; i += 2)
    if (strcmp (pairs->pdata[i], key) == 0)
      return TRUE;
  return FALSE;
}

/* "variant:b,region:eu" -> {"variant", "b", "region", "eu", NULL}; each
 * bad entry is a problem and is left out; NULL if none is good */
static gchar **
parse_labels (const gchar * value, GPtrArray * problems)
{
  gchar **entries = g_strsplit (value, ",", -1);
  GPtrArray *pairs = g_ptr_array_new ();

  for (guint i = 0; entries[i]; i++) {
    gchar *entry = g_strstrip (entries[i]), *colon = strchr (entry, ':');

    if (!*entry)
      continue;
    if (colon)
      *colon = '\0';
    if (!colon || !valid_label_key (entry) || !*g_strstrip (colon + 1)) {
      if (colon)
        *colon = ':';
      g_ptr_array_add (problems, g_strdup_printf ("param labels: '%s' is "
              "not %s: ignored", entry, LABELS_MEANING));
      continue;
    }
    if (label_given (pairs, entry)) {
      g_ptr_array_add (problems, g_strdup_printf ("param labels: '%s' is "
              "given twice: the first value is kept", entry));
      continue;
    }
    if (pairs->len / 2 >= APM_JOB_MAX_LABELS) {
      g_ptr_array_add (problems, g_strdup_printf ("param labels: more than "
              "%d labels: '%s:%s' and the next are ignored",
              APM_JOB_MAX_LABELS, entry, colon + 1));
      break;
    }
    g_ptr_array_add (pairs, g_strdup (entry));
    g_ptr_array_add (pairs, g_strdup (g_strstrip (colon + 1)));
  }
  g_strfreev (entries);
  if (pairs->len == 0) {
    g_ptr_array_add (problems, g_strdup_printf ("param labels='%s' has no "
            "valid %s: runs get no labels", value, LABELS_MEANING));
    g_ptr_array_free (pairs, TRUE);
    return NULL;
  }
  g_ptr_array_add (pairs, NULL);
  return (gchar **) g_ptr_array_free (pairs, FALSE);
}

static const Param *
find_param (const gchar * key)
{
  for (guint i = 0; i < G_N_ELEMENTS (params_table); i++)
    if (strcmp (params_table[i].key, key) == 0)
      return &params_table[i];
  return NULL;
}

static gchar *
known_list (void)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (params_table); i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", params_table[i].key);
  return g_string_free (s, FALSE);
}

static void
apply (ParseCtx * ctx, const gchar * key, gint i, gboolean b,
    const gchar * s)
{
  ApmServiceConfig *c = ctx->config;
  ApmLogLevel level;
  GInetAddress *inet;

  if (strcmp (key, "port") == 0) {
    c->port = i;
  } else if (strcmp (key, "ws-rate") == 0) {
    c->ws_rate = i;
  } else if (strcmp (key, "alert-interval") == 0) {
    c->alert_interval = i;
  } else if (strcmp (key, "stuck-timeout") == 0) {
    c->stuck_timeout = i;
  } else if (strcmp (key, "quiet") == 0) {
    c->quiet = b;
  } else if (strcmp (key, "bus-messages") == 0) {
    c->bus_messages = b;
  } else if (strcmp (key, "log-stderr") == 0) {
    c->log_stderr = b;
  } else if (strcmp (key, "address") == 0) {
    if ((inet = g_inet_address_new_from_string (s))) {
      g_free (c->address);
      c->address = g_strdup (s);
      g_object_unref (inet);
    } else {
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param address='%s' "
              "is not an IP address: using default %s", s,
              APM_DEFAULT_ADDRESS));
    }
  } else if (strcmp (key, "config") == 0) {
    g_free (*ctx->config_path);
    *ctx->config_path = g_strdup (s);
  } else if (strcmp (key, "log-file") == 0) {
    g_free (c->log_file);
    c->log_file = g_strdup (s);
  } else if (strcmp (key, "otlp-endpoint") == 0) {
    if (g_str_has_prefix (s, "http://") || g_str_has_prefix (s, "https://")) {
      g_free (c->otlp_endpoint);
      c->otlp_endpoint = g_strdup (s);
    } else {
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param "
              "otlp-endpoint='%s' is not an http:// or https:// URL: not "
              "exporting", s));
    }
  } else if (strcmp (key, "state-dir") == 0) {
    g_free (c->state_dir);
    c->state_dir = g_strdup (s);
  } else if (strcmp (key, "recovery") == 0) {
    apm_recovery_check_policies_text (s, ctx->problems);
    g_free (c->recovery);
    c->recovery = g_strdup (s);
  } else if (strcmp (key, "token") == 0) {
    g_free (c->token);
    c->token = g_strdup (s);
  } else if (strcmp (key, "auth") == 0) {
    if (strcmp (s, "writes") == 0 || strcmp (s, "all") == 0)
      c->token_for_all = strcmp (s, "all") == 0;
    else
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param auth='%s' must "
              "be writes or all", s));
  } else if (strcmp (key, "gst-debug") == 0) {
    gchar *clean = check_gst_debug (s, ctx->problems);

    if (clean && ctx->gst_debug) {
      g_free (*ctx->gst_debug);
      *ctx->gst_debug = clean;
    } else {
      g_free (clean);
    }
  } else if (strcmp (key, "traceparent") == 0) {
    const gchar *why = NULL;

    if (apm_traceparent_parse (s, NULL, &why)) {
      g_free (c->run_traceparent);
      c->run_traceparent = g_strstrip (g_strdup (s));
    } else {
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param traceparent="
              "'%s' is not a W3C traceparent (%s): pipeline runs start new "
              "traces", s, why));
    }
  } else if (strcmp (key, "labels") == 0) {
    gchar **pairs = parse_labels (s, ctx->problems);

    if (pairs) {
      g_strfreev (c->run_labels);
      c->run_labels = pairs;
    }
  } else if (strcmp (key, "summary") == 0) {
    /* true: a table on stderr at exit; a path: the report, by extension */
    if (g_ascii_strcasecmp (s, "true") == 0
        || g_ascii_strcasecmp (s, "false") == 0
        || ((g_str_has_suffix (s, ".json") || g_str_has_suffix (s, ".html"))
            && strlen (s) > 5)) {
      if (ctx->summary) {
        g_free (*ctx->summary);
        *ctx->summary = g_strdup (s);
      }
    } else {
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param summary='%s' "
              "must be true, false, or a file path ending in .json or .html: "
              "no summary", s));
    }
  } else if (strcmp (key, "log-level") == 0) {
    if (apm_log_level_from_string (s, &level))
      c->log_level = level;
    else
      g_ptr_array_add (ctx->problems, g_strdup_printf ("param log-level='%s' "
              "must be debug, info, warning, error or critical", s));
  }
}

static gboolean
check_field (GQuark field, const GValue * value, gpointer user_data)
{
  ParseCtx *ctx = user_data;
  const gchar *key = g_quark_to_string (field);
  const Param *p = find_param (key);
  gchar *text;

  if (!p) {
    gchar *known = known_list ();

    g_ptr_array_add (ctx->problems, g_strdup_printf ("unknown param '%s' "
            "(known: %s)", key, known));
    g_free (known);
    return TRUE;
  }
  switch (p->type) {
    case PARAM_INT:
      if (G_VALUE_HOLDS_INT (value) && g_value_get_int (value) >= p->min
          && g_value_get_int (value) <= p->max) {
        apply (ctx, key, g_value_get_int (value), FALSE, NULL);
        return TRUE;
      }
      break;
    case PARAM_BOOL:
      if (G_VALUE_HOLDS_BOOLEAN (value)) {
        apply (ctx, key, 0, g_value_get_boolean (value), NULL);
        return TRUE;
      }
      break;
    case PARAM_STRING:
      if (G_VALUE_HOLDS_STRING (value) && g_value_get_string (value)) {
        apply (ctx, key, 0, FALSE, g_value_get_string (value));
        return TRUE;
      }
      /* "address=127.0.0.1" may parse as something else: use the text */
      text = gst_value_serialize (value);
      if (text) {
        apply (ctx, key, 0, FALSE, text);
        g_free (text);
        return TRUE;
      }
      break;
  }
  text = gst_value_serialize (value);
  if (p->type == PARAM_INT && G_VALUE_HOLDS_INT (value))
    g_ptr_array_add (ctx->problems, g_strdup_printf ("param %s=%d is out of "
            "range %d..%d (%s): using the default", key,
            g_value_get_int (value), p->min, p->max, p->meaning));
  else
    g_ptr_array_add (ctx->problems, g_strdup_printf ("param %s='%s' is not "
            "%s: using the default", key, text ? text : "?", p->meaning));
  g_free (text);
  return TRUE;
}

void
gst_apm_params_load_config (const gchar * path, ApmServiceConfig * config,
    GPtrArray * problems)
{
  ApmServiceConfig file = APM_SERVICE_CONFIG_INIT;
  GError *error = NULL;

  if (!path)
    path = g_getenv ("APM_CONFIG");
  if (!path || !*path)
    return;
  if (!apm_config_load (apm_service_get_default (), path, &file, &error)) {
    g_ptr_array_add (problems, g_strdup_printf ("configuration file not "
            "used: %s; running with the defaults", error->message));
    g_clear_error (&error);
    return;
  }
  /* params given to the tracer win over the file */
  if (config->port < 0)
    config->port = file.port;
  if (!config->address)
    config->address = g_steal_pointer (&file.address);
  if (config->ws_rate < 0)
    config->ws_rate = file.ws_rate;
  if (config->alert_interval < 0)
    config->alert_interval = file.alert_interval;
  if (!config->log_file)
    config->log_file = g_steal_pointer (&file.log_file);
  if (config->log_stderr < 0)
    config->log_stderr = file.log_stderr;
  if (!config->state_dir)
    config->state_dir = g_steal_pointer (&file.state_dir);
  if (config->bus_messages < 0)
    config->bus_messages = file.bus_messages;
  if (config->log_level < 0)
    config->log_level = file.log_level;
  if (config->stuck_timeout < 0)
    config->stuck_timeout = file.stuck_timeout;
  if (!config->token) {
    config->token = g_steal_pointer (&file.token);
    if (config->token_for_all < 0)
      config->token_for_all = file.token_for_all;
  }
  apm_service_config_clear (&file);
}

gboolean
gst_apm_params_parse (const gchar * params, ApmServiceConfig * config,
    gchar ** config_path, GPtrArray * problems)
{
  return gst_apm_params_parse_full (params, config, config_path, NULL,
      problems);
}

/* the most common mistake: a list or a pattern left unquoted */
static const gchar *
quoting_hint (const gchar * params)
{
  const gchar *p = strstr (params, "gst-debug="), *l = strstr (params,
      "labels=");

  if (p && p[strlen ("gst-debug=")] != '"')
    return "; quote gst-debug values: gst-debug=\"GST_STATES:4,audio*:5\"";
  if (l && l[strlen ("labels=")] != '"')
    return "; quote several labels: labels=\"variant:b,region:eu\"";
  return "";
}

void
gst_apm_params_check_gst_debug (const gchar * gst_debug,
    const ApmServiceConfig * config, GPtrArray * problems)
{
  gchar **entries;
  gboolean finer = FALSE;

  if (!gst_debug || config->log_level == APM_LOG_DEBUG)
    return;
  entries = g_strsplit (gst_debug, ",", -1);
  for (guint i = 0; entries[i]; i++) {
    const gchar *colon = strrchr (entries[i], ':');

    finer |= colon && atoi (colon + 1) >= GST_LEVEL_DEBUG;
  }
  g_strfreev (entries);
  if (finer)
    g_ptr_array_add (problems, g_strdup_printf ("param gst-debug='%s' asks "
            "for DEBUG or finer messages, which are logged at level debug: "
            "they are dropped unless log-level=debug", gst_debug));
}

gboolean
gst_apm_params_parse_full (const gchar * params, ApmServiceConfig * config,
    gchar ** config_path, gchar ** gst_debug, GPtrArray * problems)
{
  return gst_apm_params_parse_tracer (params, config, config_path, gst_debug,
      NULL, problems);
}

gboolean
gst_apm_params_parse_tracer (const gchar * params, ApmServiceConfig * config,
    gchar ** config_path, gchar ** gst_debug, gchar ** summary,
    GPtrArray * problems)
{
  guint n_before = problems->len;
  GstStructure *s;
  gchar *text;
  ParseCtx ctx = { config, config_path, gst_debug, summary, problems };

  if (!params || !*params)
    return TRUE;

  /* plain key=value pairs only: no lists, ranges or typed values */
  if (strpbrk (params, "<>[]{}()")) {
    g_ptr_array_add (problems, g_strdup_printf ("could not parse params "
            "'%s' (expected key=value,key=value without brackets): using "
            "defaults", params));
    return FALSE;
  }
  text = g_strdup_printf ("apm,%s", params);
  s = gst_structure_from_string (text, NULL);
  g_free (text);
  if (!s) {
    g_ptr_array_add (problems, g_strdup_printf ("could not parse params "
            "'%s' (expected key=value,key=value%s): using defaults", params,
            quoting_hint (params)));
    return FALSE;
  }
  gst_structure_foreach (s, check_field, &ctx);
  gst_structure_free (s);
  return problems->len == n_before;
}
