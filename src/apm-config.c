/* gst-apm: the configuration file (JSON) */
#include "apm-config.h"
#include "apm-probes.h"
#include "apm-access.h"
#include "apm-fsspace.h"

#include <math.h>
#include <string.h>

#define APM_CONFIG_MAX_BYTES (1024 * 1024)

typedef struct
{
  const gchar *path;
  const gchar *text;
  GError **error;
  gboolean failed;
} Ctx;

/* The line of the first @key after the first @anchor in the text: json-glib
 * 1.6 keeps no positions, so problems are located by searching. */
static guint
locate (Ctx * ctx, const gchar * anchor, const gchar * key)
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

static void
fail (Ctx * ctx, const gchar * anchor, const gchar * key,
    const gchar * format, ...) G_GNUC_PRINTF (4, 5);

static void
fail (Ctx * ctx, const gchar * anchor, const gchar * key,
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
static gboolean
get_number (Ctx * ctx, JsonObject * o, const gchar * key, const gchar * anchor,
    gdouble min, gdouble max, gdouble * out)
{
  JsonNode *n = json_object_get_member (o, key);
  gdouble v;

  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n) || (json_node_get_value_type (n) !=
          G_TYPE_INT64 && json_node_get_value_type (n) != G_TYPE_DOUBLE)) {
    fail (ctx, anchor, key, "\"%s\" must be a number", key);
    return FALSE;
  }
  v = json_node_get_double (n);
  if (!isfinite (v) || v < min || v > max) {
    fail (ctx, anchor, key, "\"%s\" must be from %g to %g", key, min, max);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static const gchar *
get_string (Ctx * ctx, JsonObject * o, const gchar * key, const gchar * anchor)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING) {
    fail (ctx, anchor, key, "\"%s\" must be a string", key);
    return NULL;
  }
  return json_node_get_string (n);
}

static gboolean
get_bool (Ctx * ctx, JsonObject * o, const gchar * key, const gchar * anchor,
    gboolean * out)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_BOOLEAN) {
    fail (ctx, anchor, key, "\"%s\" must be true or false", key);
    return FALSE;
  }
  *out = json_node_get_boolean (n);
  return TRUE;
}

static JsonObject *
get_object (Ctx * ctx, JsonObject * o, const gchar * key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (n)) {
    fail (ctx, NULL, key, "\"%s\" must be an object", key);
    return NULL;
  }
  return json_node_get_object (n);
}

static JsonArray *
get_array (Ctx * ctx, JsonObject * o, const gchar * key)
{
  JsonNode *n = json_object_get_member (o, key);

  if (!n)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (n)) {
    fail (ctx, NULL, key, "\"%s\" must be an array", key);
    return NULL;
  }
  return json_node_get_array (n);
}

static void
check_keys (Ctx * ctx, JsonObject * o, const gchar * const *known,
    const gchar * anchor, const gchar * where)
{
  GList *members = json_object_get_members (o);

  for (GList * l = members; l; l = l->next)
    if (!g_strv_contains (known, l->data)) {
      gchar *list = g_strjoinv (", ", (gchar **) known);

      fail (ctx, anchor, l->data, "unknown key \"%s\" in %s (known: %s)",
          (gchar *) l->data, where, list);
      g_free (list);
      break;
    }
  g_list_free (members);
}

static ApmAlertRule *
parse_rule (Ctx * ctx, JsonObject * r, GPtrArray * disabled)
{
  static const gchar *const keys[] = { "name", "enabled", "metric",
    "aggregation", "window", "op", "threshold", "for", "severity", "message",
    "match", "denominator", "require", NULL
  };
  const gchar *name = get_string (ctx, r, "name", NULL);
  const gchar *metric, *text;
  gboolean enabled = TRUE;
  ApmAggregation agg = APM_AGG_LAST;
  ApmComparison op = APM_CMP_GT;
  ApmSeverity sev = APM_SEVERITY_WARNING;
  gdouble window = 60, threshold = 0, for_s = 0;
  JsonObject *match;
  ApmAlertRule *rule;

  if (!name) {
    fail (ctx, NULL, "rules", "every rule needs a \"name\"");
    return NULL;
  }
  check_keys (ctx, r, keys, name, "a rule");
  get_bool (ctx, r, "enabled", name, &enabled);
  if (!enabled) {
    g_ptr_array_add (disabled, g_strdup (name));
    return NULL;
  }
  metric = get_string (ctx, r, "metric", name);
  if (!metric) {
    fail (ctx, name, NULL, "rule \"%s\" needs a \"metric\"", name);
    return NULL;
  }
  if ((text = get_string (ctx, r, "aggregation", name))
      && !apm_aggregation_from_string (text, &agg))
    fail (ctx, name, "aggregation", "rule \"%s\": aggregation must be last, "
        "avg, max, min, rate, increase, p95 or ratio", name);
  if ((text = get_string (ctx, r, "op", name))
      && !apm_comparison_from_string (text, &op))
    fail (ctx, name, "op", "rule \"%s\": op must be >, >=, <, <=, == or !=",
        name);
  if ((text = get_string (ctx, r, "severity", name))
      && !apm_severity_from_string (text, &sev))
    fail (ctx, name, "severity", "rule \"%s\": severity must be info, "
        "warning or critical", name);
  get_number (ctx, r, "window", name, 1, 86400, &window);
  if (!json_object_has_member (r, "threshold"))
    fail (ctx, name, NULL, "rule \"%s\" needs a \"threshold\"", name);
  get_number (ctx, r, "threshold", name, -1e300, 1e300, &threshold);
  get_number (ctx, r, "for", name, 0, 86400, &for_s);
  if (agg == APM_AGG_RATIO && !json_object_has_member (r, "denominator"))
    fail (ctx, name, "aggregation", "rule \"%s\": ratio needs a "
        "\"denominator\" metric", name);
  if (ctx->failed)
    return NULL;

  rule = apm_alert_rule_new_expr (name, metric, agg, window, op, threshold);
  apm_alert_rule_set_for (rule, for_s);
  apm_alert_rule_set_severity (rule, sev);
  if ((text = get_string (ctx, r, "message", name)))
    apm_alert_rule_set_message (rule, text);
  if ((text = get_string (ctx, r, "denominator", name)))
    apm_alert_rule_set_denominator (rule, text);
  if ((text = get_string (ctx, r, "require", name)))
    apm_alert_rule_set_require (rule, text);
  if ((match = get_object (ctx, r, "match"))) {
    GList *members = json_object_get_members (match);

    for (GList * l = members; l; l = l->next) {
      const gchar *v = get_string (ctx, match, l->data, name);

      if (v)
        apm_alert_rule_add_match (rule, l->data, v);
    }
    g_list_free (members);
  }
  if (ctx->failed) {
    apm_alert_rule_free (rule);
    return NULL;
  }
  return rule;
}

typedef struct
{
  gchar *name, *type, *target;
  guint expect, timeout, interval;
  guint64 min_free;
} CheckSpec;

static void
check_spec_free (CheckSpec * c)
{
  g_free (c->name);
  g_free (c->type);
  g_free (c->target);
  g_free (c);
}

static CheckSpec *
parse_check (Ctx * ctx, JsonObject * o)
{
  static const gchar *const keys[] = { "name", "type", "url",
    "expect_status", "timeout", "interval", "path", "min_free_bytes", NULL
  };
  const gchar *name = get_string (ctx, o, "name", NULL);
  const gchar *type, *target;
  gdouble expect = 200, timeout = 5, interval = 30, min_free = 0;
  CheckSpec *c;

  if (!name) {
    fail (ctx, NULL, "health_checks", "every health check needs a \"name\"");
    return NULL;
  }
  check_keys (ctx, o, keys, name, "a health check");
  type = get_string (ctx, o, "type", name);
  if (g_strcmp0 (type, "http") == 0) {
    target = get_string (ctx, o, "url", name);
    if (!target || !g_uri_is_valid (target, G_URI_FLAGS_NONE, NULL))
      fail (ctx, name, "url", "health check \"%s\" needs a valid \"url\"",
          name);
  } else if (g_strcmp0 (type, "path") == 0) {
    target = get_string (ctx, o, "path", name);
    if (!target)
      fail (ctx, name, NULL, "health check \"%s\" needs a \"path\"", name);
  } else {
    fail (ctx, name, "type", "health check \"%s\": type must be http or "
        "path", name);
    return NULL;
  }
  get_number (ctx, o, "expect_status", name, 100, 599, &expect);
  get_number (ctx, o, "timeout", name, 1, 300, &timeout);
  get_number (ctx, o, "interval", name, 1, 86400, &interval);
  get_number (ctx, o, "min_free_bytes", name, 0, 1e18, &min_free);
  if (ctx->failed)
    return NULL;
  c = g_new0 (CheckSpec, 1);
  c->name = g_strdup (name);
  c->type = g_strdup (type);
  c->target = g_strdup (target);
  c->expect = expect;
  c->timeout = timeout;
  c->interval = interval;
  c->min_free = min_free;
  return c;
}

static gboolean load_text (ApmService * service, const gchar * path,
    gchar * text, gsize len, ApmServiceConfig * config, GError ** error);

gboolean
apm_config_load (ApmService * service, const gchar * path,
    ApmServiceConfig * config, GError ** error)
{
  gchar *text = NULL;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  return load_text (service, path, text, len, config, error);
}

gboolean
apm_config_check_data (const gchar * name, const gchar * data, gsize len,
    GError ** error)
{
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;
  gboolean ok = load_text (NULL, name, g_strndup (data, len), len, &config,
      error);

  apm_service_config_clear (&config);
  return ok;
}

/* takes @text; with no @service only checks */
static gboolean
load_text (ApmService * service, const gchar * path, gchar * text, gsize len,
    ApmServiceConfig * config, GError ** error)
{
  static const gchar *const top_keys[] = { "listen", "alert_interval",
    "websocket_rate", "log", "webhook", "rules", "health_checks",
    "security", "disk_space", "bus_messages", NULL
  };
  GPtrArray *origins = g_ptr_array_new_with_free_func (g_free);
  JsonParser *parser;
  JsonObject *root, *o;
  JsonArray *arr;
  Ctx ctx = { path, NULL, error, FALSE };
  GPtrArray *rules = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_alert_rule_free);
  GPtrArray *disabled = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *checks = g_ptr_array_new_with_free_func ((GDestroyNotify)
      check_spec_free);
  ApmServiceConfig parsed = APM_SERVICE_CONFIG_INIT;
  const gchar *webhook = NULL;
  gdouble v, webhook_timeout = 5;
  gboolean b;
  ApmSpaceLimits disk_limits;
  guint disk_interval;
  gboolean disk_set = FALSE;

  if (len > APM_CONFIG_MAX_BYTES) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "%s: larger than %d bytes", path, APM_CONFIG_MAX_BYTES);
    ctx.failed = TRUE;
    goto out;
  }
  ctx.text = text;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, text, len, error)) {
    /* json-glib says "<data>:LINE:COL: ...": name the file instead */
    if (error && *error) {
      gchar *msg = (*error)->message;
      const gchar *rest = g_str_has_prefix (msg, "<data>:") ? msg + 7 : msg;

      (*error)->message = g_strdup_printf ("%s:%s", path, rest);
      g_free (msg);
    }
    g_object_unref (parser);
    ctx.failed = TRUE;
    goto out;
  }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    fail (&ctx, NULL, NULL, "the top level must be a JSON object");
    g_object_unref (parser);
    goto out;
  }
  root = json_node_get_object (json_parser_get_root (parser));
  check_keys (&ctx, root, top_keys, NULL, "the top level");

  if ((o = get_object (&ctx, root, "listen"))) {
    static const gchar *const keys[] = { "address", "port", NULL };
    const gchar *address = get_string (&ctx, o, "address", "listen");
    GInetAddress *inet;

    check_keys (&ctx, o, keys, "listen", "listen");
    if (address) {
      inet = g_inet_address_new_from_string (address);
      if (!inet)
        fail (&ctx, "listen", "address", "listen.address \"%s\" is not an "
            "IP address", address);
      else
        g_object_unref (inet);
      parsed.address = g_strdup (address);
    }
    if (get_number (&ctx, o, "port", "listen", 0, 65535, &v))
      parsed.port = v;
  }
  if (get_number (&ctx, root, "alert_interval", NULL, 1, 86400, &v))
    parsed.alert_interval = v;
  if (get_bool (&ctx, root, "bus_messages", NULL, &b))
    parsed.bus_messages = b;
  if (get_number (&ctx, root, "websocket_rate", NULL, 1, APM_MAX_WS_RATE, &v))
    parsed.ws_rate = v;
  if ((o = get_object (&ctx, root, "log"))) {
    static const gchar *const keys[] = { "file", "stderr", "level", NULL };
    const gchar *level = get_string (&ctx, o, "level", "log");
    ApmLogLevel l;

    check_keys (&ctx, o, keys, "log", "log");
    parsed.log_file = g_strdup (get_string (&ctx, o, "file", "log"));
    if (get_bool (&ctx, o, "stderr", "log", &b))
      parsed.log_stderr = b;
    if (level) {
      if (apm_log_level_from_string (level, &l))
        parsed.log_level = l;
      else
        fail (&ctx, "log", "level", "log.level must be debug, info, "
            "warning, error or critical");
    }
  }
  if ((o = get_object (&ctx, root, "webhook"))) {
    static const gchar *const keys[] = { "url", "timeout", NULL };

    check_keys (&ctx, o, keys, "webhook", "webhook");
    webhook = get_string (&ctx, o, "url", "webhook");
    if (!webhook || !g_uri_is_valid (webhook, G_URI_FLAGS_NONE, NULL))
      fail (&ctx, "webhook", "url", "webhook.url must be a valid URL");
    get_number (&ctx, o, "timeout", "webhook", 1, 300, &webhook_timeout);
  }
  if ((o = get_object (&ctx, root, "security"))) {
    static const gchar *const keys[] = { "token", "auth", "allowed_origins",
      NULL
    };
    const gchar *auth = get_string (&ctx, o, "auth", "security");
    JsonArray *list;

    check_keys (&ctx, o, keys, "security", "security");
    parsed.token = g_strdup (get_string (&ctx, o, "token", "security"));
    if (auth && strcmp (auth, "writes") != 0 && strcmp (auth, "all") != 0)
      fail (&ctx, "security", "auth", "security.auth must be \"writes\" or "
          "\"all\"");
    parsed.token_for_all = g_strcmp0 (auth, "all") == 0;
    if ((list = get_array (&ctx, o, "allowed_origins")))
      for (guint i = 0; i < json_array_get_length (list); i++) {
        JsonNode *n = json_array_get_element (list, i);

        if (!JSON_NODE_HOLDS_VALUE (n)
            || json_node_get_value_type (n) != G_TYPE_STRING
            || !strstr (json_node_get_string (n), "://"))
          fail (&ctx, "security", "allowed_origins", "allowed_origins "
              "must be origins such as \"http://127.0.0.1:3000\"");
        else
          g_ptr_array_add (origins, g_strdup (json_node_get_string (n)));
      }
  }
  if ((o = get_object (&ctx, root, "disk_space"))) {
    static const gchar *const keys[] = { "degraded_free_percent",
      "unhealthy_free_percent", "degraded_free_bytes", "unhealthy_free_bytes",
      "interval", NULL
    };

    check_keys (&ctx, o, keys, "disk_space", "disk_space");
    apm_fsspace_get_defaults (&disk_limits, &disk_interval);
    if (get_number (&ctx, o, "degraded_free_percent", "disk_space", 0, 100,
            &v))
      disk_limits.degraded_ratio = v / 100;
    if (get_number (&ctx, o, "unhealthy_free_percent", "disk_space", 0, 100,
            &v))
      disk_limits.unhealthy_ratio = v / 100;
    if (get_number (&ctx, o, "degraded_free_bytes", "disk_space", 0, 1e18,
            &v))
      disk_limits.degraded_bytes = v;
    if (get_number (&ctx, o, "unhealthy_free_bytes", "disk_space", 0, 1e18,
            &v))
      disk_limits.unhealthy_bytes = v;
    if (get_number (&ctx, o, "interval", "disk_space", 1, 86400, &v))
      disk_interval = v;
    disk_set = TRUE;
  }
  if ((arr = get_array (&ctx, root, "rules")))
    for (guint i = 0; i < json_array_get_length (arr) && !ctx.failed; i++) {
      JsonNode *n = json_array_get_element (arr, i);
      ApmAlertRule *rule;

      if (!JSON_NODE_HOLDS_OBJECT (n)) {
        fail (&ctx, NULL, "rules", "rules[%u] must be an object", i);
        break;
      }
      if ((rule = parse_rule (&ctx, json_node_get_object (n), disabled)))
        g_ptr_array_add (rules, rule);
    }
  if ((arr = get_array (&ctx, root, "health_checks")))
    for (guint i = 0; i < json_array_get_length (arr) && !ctx.failed; i++) {
      JsonNode *n = json_array_get_element (arr, i);
      CheckSpec *c;

      if (!JSON_NODE_HOLDS_OBJECT (n)) {
        fail (&ctx, NULL, "health_checks", "health_checks[%u] must be an "
            "object", i);
        break;
      }
      if ((c = parse_check (&ctx, json_node_get_object (n))))
        g_ptr_array_add (checks, c);
    }
  if (!ctx.failed && service) {
    /* all checked: apply */
    ApmAlerts *alerts = apm_service_get_alerts (service);
    ApmHealth *health = apm_service_get_health (service);

    for (guint i = 0; i < disabled->len; i++)
      apm_alerts_remove_rule (alerts, disabled->pdata[i]);
    while (rules->len)
      apm_alerts_add_rule (alerts, g_ptr_array_steal_index (rules, 0));
    for (guint i = 0; i < checks->len; i++) {
      CheckSpec *c = checks->pdata[i];

      if (strcmp (c->type, "http") == 0)
        apm_probes_add_http (health, c->name, c->target, c->expect,
            c->timeout, c->interval);
      else
        apm_probes_add_path (health, c->name, c->target, c->min_free,
            c->interval);
    }
    if (disk_set)
      apm_fsspace_set_defaults (&disk_limits, disk_interval);
    if (webhook)
      apm_service_set_webhook (service, webhook, webhook_timeout);
    if (origins->len) {
      g_ptr_array_add (origins, NULL);
      apm_access_set_origins (apm_service_get_access (service),
          (const gchar * const *) origins->pdata);
    }
    if (parsed.token && !config->token) {
      config->token = g_steal_pointer (&parsed.token);
      config->token_for_all = parsed.token_for_all;
    }
    if (parsed.address) {
      g_free (config->address);
      config->address = g_steal_pointer (&parsed.address);
    }
    if (parsed.port >= 0)
      config->port = parsed.port;
    if (parsed.alert_interval > 0)
      config->alert_interval = parsed.alert_interval;
    if (parsed.ws_rate > 0)
      config->ws_rate = parsed.ws_rate;
    if (parsed.log_file) {
      g_free (config->log_file);
      config->log_file = g_steal_pointer (&parsed.log_file);
    }
    if (parsed.log_stderr >= 0)
      config->log_stderr = parsed.log_stderr;
    if (parsed.bus_messages >= 0)
      config->bus_messages = parsed.bus_messages;
    if (parsed.log_level >= 0)
      config->log_level = parsed.log_level;
  }
  g_object_unref (parser);

out:
  apm_service_config_clear (&parsed);
  g_ptr_array_unref (rules);
  g_ptr_array_unref (disabled);
  g_ptr_array_unref (checks);
  g_ptr_array_unref (origins);
  g_free (text);
  return !ctx.failed;
}
