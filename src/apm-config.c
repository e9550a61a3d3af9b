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

/* What a file says, all of it checked before any of it is applied. */
typedef struct
{
  ApmServiceConfig config;      /* listen, alert_interval, websocket_rate,
                                 * bus_messages, log, security's token */
  const gchar *webhook;         /* in the parsed tree */
  gdouble webhook_timeout;
  GPtrArray *origins;           /* gchar */
  ApmSpaceLimits disk_limits;
  guint disk_interval;
  gboolean disk_set;
  GPtrArray *rules;             /* ApmAlertRule */
  GPtrArray *disabled;          /* rule names */
  GPtrArray *checks;            /* CheckSpec */
} Parsed;

static void
parsed_init (Parsed * p)
{
  ApmServiceConfig init = APM_SERVICE_CONFIG_INIT;

  memset (p, 0, sizeof *p);
  p->config = init;
  p->webhook_timeout = 5;
  p->origins = g_ptr_array_new_with_free_func (g_free);
  p->rules = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_alert_rule_free);
  p->disabled = g_ptr_array_new_with_free_func (g_free);
  p->checks = g_ptr_array_new_with_free_func ((GDestroyNotify)
      check_spec_free);
}

static void
parsed_clear (Parsed * p)
{
  apm_service_config_clear (&p->config);
  g_ptr_array_unref (p->rules);
  g_ptr_array_unref (p->disabled);
  g_ptr_array_unref (p->checks);
  g_ptr_array_unref (p->origins);
}

/* --- the sections: each checks its part of the file into a Parsed --- */

static void
parse_listen (Ctx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "address", "port", NULL };
  JsonObject *o = get_object (ctx, root, "listen");
  const gchar *address;
  gdouble v;

  if (!o)
    return;
  address = get_string (ctx, o, "address", "listen");
  check_keys (ctx, o, keys, "listen", "listen");
  if (address) {
    GInetAddress *inet = g_inet_address_new_from_string (address);

    if (!inet)
      fail (ctx, "listen", "address", "listen.address \"%s\" is not an "
          "IP address", address);
    else
      g_object_unref (inet);
    p->config.address = g_strdup (address);
  }
  if (get_number (ctx, o, "port", "listen", 0, 65535, &v))
    p->config.port = v;
}

/* alert_interval, bus_messages and websocket_rate, at the top level */
static void
parse_top_level_values (Ctx * ctx, JsonObject * root, Parsed * p)
{
  gdouble v;
  gboolean b;

  if (get_number (ctx, root, "alert_interval", NULL, 1, 86400, &v))
    p->config.alert_interval = v;
  if (get_bool (ctx, root, "bus_messages", NULL, &b))
    p->config.bus_messages = b;
  if (get_number (ctx, root, "websocket_rate", NULL, 1, APM_MAX_WS_RATE, &v))
    p->config.ws_rate = v;
}

static void
parse_log (Ctx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "file", "stderr", "level", NULL };
  JsonObject *o = get_object (ctx, root, "log");
  const gchar *level;
  ApmLogLevel l;
  gboolean b;

  if (!o)
    return;
  level = get_string (ctx, o, "level", "log");
  check_keys (ctx, o, keys, "log", "log");
  p->config.log_file = g_strdup (get_string (ctx, o, "file", "log"));
  if (get_bool (ctx, o, "stderr", "log", &b))
    p->config.log_stderr = b;
  if (level) {
    if (apm_log_level_from_string (level, &l))
      p->config.log_level = l;
    else
      fail (ctx, "log", "level", "log.level must be debug, info, "
          "warning, error or critical");
  }
}

static void
parse_webhook (Ctx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "url", "timeout", NULL };
  JsonObject *o = get_object (ctx, root, "webhook");

  if (!o)
    return;
  check_keys (ctx, o, keys, "webhook", "webhook");
  p->webhook = get_string (ctx, o, "url", "webhook");
  if (!p->webhook || !g_uri_is_valid (p->webhook, G_URI_FLAGS_NONE, NULL))
    fail (ctx, "webhook", "url", "webhook.url must be a valid URL");
  get_number (ctx, o, "timeout", "webhook", 1, 300, &p->webhook_timeout);
}

static void
parse_security (Ctx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "token", "auth", "allowed_origins",
    NULL
  };
  JsonObject *o = get_object (ctx, root, "security");
  const gchar *auth;
  JsonArray *list;

  if (!o)
    return;
  auth = get_string (ctx, o, "auth", "security");
  check_keys (ctx, o, keys, "security", "security");
  p->config.token = g_strdup (get_string (ctx, o, "token", "security"));
  if (auth && strcmp (auth, "writes") != 0 && strcmp (auth, "all") != 0)
    fail (ctx, "security", "auth", "security.auth must be \"writes\" or "
        "\"all\"");
  p->config.token_for_all = g_strcmp0 (auth, "all") == 0;
  if ((list = get_array (ctx, o, "allowed_origins")))
    for (guint i = 0; i < json_array_get_length (list); i++) {
      JsonNode *n = json_array_get_element (list, i);

      if (!JSON_NODE_HOLDS_VALUE (n)
          || json_node_get_value_type (n) != G_TYPE_STRING
          || !strstr (json_node_get_string (n), "://"))
        fail (ctx, "security", "allowed_origins", "allowed_origins "
            "must be origins such as \"http://127.0.0.1:3000\"");
      else
        g_ptr_array_add (p->origins, g_strdup (json_node_get_string (n)));
    }
}

static void
parse_disk_space (Ctx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "degraded_free_percent",
    "unhealthy_free_percent", "degraded_free_bytes", "unhealthy_free_bytes",
    "interval", NULL
  };
  JsonObject *o = get_object (ctx, root, "disk_space");
  gdouble v;

  if (!o)
    return;
  check_keys (ctx, o, keys, "disk_space", "disk_space");
  apm_fsspace_get_defaults (&p->disk_limits, &p->disk_interval);
  if (get_number (ctx, o, "degraded_free_percent", "disk_space", 0, 100, &v))
    p->disk_limits.degraded_ratio = v / 100;
  if (get_number (ctx, o, "unhealthy_free_percent", "disk_space", 0, 100, &v))
    p->disk_limits.unhealthy_ratio = v / 100;
  if (get_number (ctx, o, "degraded_free_bytes", "disk_space", 0, 1e18, &v))
    p->disk_limits.degraded_bytes = v;
  if (get_number (ctx, o, "unhealthy_free_bytes", "disk_space", 0, 1e18, &v))
    p->disk_limits.unhealthy_bytes = v;
  if (get_number (ctx, o, "interval", "disk_space", 1, 86400, &v))
    p->disk_interval = v;
  p->disk_set = TRUE;
}

static void
parse_rules (Ctx * ctx, JsonObject * root, Parsed * p)
{
  JsonArray *arr = get_array (ctx, root, "rules");

  if (!arr)
    return;
  for (guint i = 0; i < json_array_get_length (arr) && !ctx->failed; i++) {
    JsonNode *n = json_array_get_element (arr, i);
    ApmAlertRule *rule;

    if (!JSON_NODE_HOLDS_OBJECT (n)) {
      fail (ctx, NULL, "rules", "rules[%u] must be an object", i);
      break;
    }
    if ((rule = parse_rule (ctx, json_node_get_object (n), p->disabled)))
      g_ptr_array_add (p->rules, rule);
  }
}

static void
parse_health_checks (Ctx * ctx, JsonObject * root, Parsed * p)
{
  JsonArray *arr = get_array (ctx, root, "health_checks");

  if (!arr)
    return;
  for (guint i = 0; i < json_array_get_length (arr) && !ctx->failed; i++) {
    JsonNode *n = json_array_get_element (arr, i);
    CheckSpec *c;

    if (!JSON_NODE_HOLDS_OBJECT (n)) {
      fail (ctx, NULL, "health_checks", "health_checks[%u] must be an "
          "object", i);
      break;
    }
    if ((c = parse_check (ctx, json_node_get_object (n))))
      g_ptr_array_add (p->checks, c);
  }
}

/* --- loading --- */

/* Installs what @p holds into @service, and the fields the file sets into
 * @config (a token only if @config has none). */
static void
apply (ApmService * service, Parsed * p, ApmServiceConfig * config)
{
  ApmAlerts *alerts = apm_service_get_alerts (service);
  ApmHealth *health = apm_service_get_health (service);
  ApmServiceConfig *parsed = &p->config;

  for (guint i = 0; i < p->disabled->len; i++)
    apm_alerts_remove_rule (alerts, p->disabled->pdata[i]);
  while (p->rules->len)
    apm_alerts_add_rule (alerts, g_ptr_array_steal_index (p->rules, 0));
  for (guint i = 0; i < p->checks->len; i++) {
    CheckSpec *c = p->checks->pdata[i];

    if (strcmp (c->type, "http") == 0)
      apm_probes_add_http (health, c->name, c->target, c->expect,
          c->timeout, c->interval);
    else
      apm_probes_add_path (health, c->name, c->target, c->min_free,
          c->interval);
  }
  if (p->disk_set)
    apm_fsspace_set_defaults (&p->disk_limits, p->disk_interval);
  if (p->webhook)
    apm_service_set_webhook (service, p->webhook, p->webhook_timeout);
  if (p->origins->len) {
    g_ptr_array_add (p->origins, NULL);
    apm_access_set_origins (apm_service_get_access (service),
        (const gchar * const *) p->origins->pdata);
  }
  if (parsed->token && !config->token) {
    config->token = g_steal_pointer (&parsed->token);
    config->token_for_all = parsed->token_for_all;
  }
  if (parsed->address) {
    g_free (config->address);
    config->address = g_steal_pointer (&parsed->address);
  }
  if (parsed->port >= 0)
    config->port = parsed->port;
  if (parsed->alert_interval > 0)
    config->alert_interval = parsed->alert_interval;
  if (parsed->ws_rate > 0)
    config->ws_rate = parsed->ws_rate;
  if (parsed->log_file) {
    g_free (config->log_file);
    config->log_file = g_steal_pointer (&parsed->log_file);
  }
  if (parsed->log_stderr >= 0)
    config->log_stderr = parsed->log_stderr;
  if (parsed->bus_messages >= 0)
    config->bus_messages = parsed->bus_messages;
  if (parsed->log_level >= 0)
    config->log_level = parsed->log_level;
}

/* The JSON tree of @ctx's text, or NULL with the error set (naming the
 * file, not json-glib's "<data>"). */
static JsonParser *
parse_json (Ctx * ctx, gsize len)
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
    fail (ctx, NULL, NULL, "the top level must be a JSON object");
    g_object_unref (parser);
    return NULL;
  }
  return parser;
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
  Ctx ctx = { path, text, error, FALSE };
  JsonParser *parser = NULL;
  JsonObject *root;
  Parsed parsed;

  parsed_init (&parsed);
  if (len > APM_CONFIG_MAX_BYTES) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "%s: larger than %d bytes", path, APM_CONFIG_MAX_BYTES);
    ctx.failed = TRUE;
  } else if ((parser = parse_json (&ctx, len))) {
    root = json_node_get_object (json_parser_get_root (parser));
    check_keys (&ctx, root, top_keys, NULL, "the top level");
    parse_listen (&ctx, root, &parsed);
    parse_top_level_values (&ctx, root, &parsed);
    parse_log (&ctx, root, &parsed);
    parse_webhook (&ctx, root, &parsed);
    parse_security (&ctx, root, &parsed);
    parse_disk_space (&ctx, root, &parsed);
    parse_rules (&ctx, root, &parsed);
    parse_health_checks (&ctx, root, &parsed);
    if (!ctx.failed && service)
      apply (service, &parsed, config); /* all checked */
    g_object_unref (parser);
  }
  parsed_clear (&parsed);
  g_free (text);
  return !ctx.failed;
}

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
