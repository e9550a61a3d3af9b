/* gst-apm: the configuration file (JSON): its sections, checked into a
 * Parsed, then applied (reading values and reporting problems is in
 * apm-config-reader.c) */
#include "apm-config-private.h"
#include "apm-probes.h"
#include "apm-access.h"
#include "apm-fsspace.h"
#include "apm-history.h"

#include <string.h>

#define APM_CONFIG_MAX_BYTES (1024 * 1024)

static ApmAlertRule *
parse_rule (ApmConfigCtx * ctx, JsonObject * r, GPtrArray * disabled)
{
  static const gchar *const keys[] = { "name", "enabled", "metric",
    "aggregation", "window", "op", "threshold", "for", "severity", "message",
    "match", "denominator", "require", "baseline", "horizon", NULL
  };
  const gchar *name = apm_config_get_string (ctx, r, "name", NULL);
  const gchar *metric, *text;
  gboolean enabled = TRUE;
  ApmAggregation agg = APM_AGG_LAST;
  ApmComparison op = APM_CMP_GT;
  ApmSeverity sev = APM_SEVERITY_WARNING;
  gdouble window = 60, threshold = 0, for_s = 0;
  gdouble baseline = 3600, horizon = 3600;
  JsonObject *match;
  ApmAlertRule *rule;

  if (!name) {
    apm_config_fail (ctx, NULL, "rules", "every rule needs a \"name\"");
    return NULL;
  }
  apm_config_check_keys (ctx, r, keys, name, "a rule");
  apm_config_get_bool (ctx, r, "enabled", name, &enabled);
  if (!enabled) {
    g_ptr_array_add (disabled, g_strdup (name));
    return NULL;
  }
  metric = apm_config_get_string (ctx, r, "metric", name);
  if (!metric) {
    apm_config_fail (ctx, name, NULL, "rule \"%s\" needs a \"metric\"", name);
    return NULL;
  }
  if ((text = apm_config_get_string (ctx, r, "aggregation", name))
      && !apm_aggregation_from_string (text, &agg))
    apm_config_fail (ctx, name, "aggregation",
        "rule \"%s\": aggregation must be last, "
        "avg, max, min, rate, increase, p95, ratio, change or predict", name);
  if ((text = apm_config_get_string (ctx, r, "op", name))
      && !apm_comparison_from_string (text, &op))
    apm_config_fail (ctx, name, "op",
        "rule \"%s\": op must be >, >=, <, <=, == or !=", name);
  if ((text = apm_config_get_string (ctx, r, "severity", name))
      && !apm_severity_from_string (text, &sev))
    apm_config_fail (ctx, name, "severity",
        "rule \"%s\": severity must be info, warning or critical", name);
  apm_config_get_number (ctx, r, "window", name, 1, 7 * 86400, &window);
  if (apm_config_get_number (ctx, r, "baseline", name, 1, 7 * 86400,
          &baseline) && agg != APM_AGG_CHANGE)
    apm_config_fail (ctx, name, "baseline", "rule \"%s\": \"baseline\" is "
        "for aggregation change", name);
  if (apm_config_get_number (ctx, r, "horizon", name, 0, 365 * 86400,
          &horizon) && agg != APM_AGG_PREDICT)
    apm_config_fail (ctx, name, "horizon", "rule \"%s\": \"horizon\" is "
        "for aggregation predict", name);
  if (!json_object_has_member (r, "threshold"))
    apm_config_fail (ctx, name, NULL, "rule \"%s\" needs a \"threshold\"",
        name);
  apm_config_get_number (ctx, r, "threshold", name, -1e300, 1e300, &threshold);
  apm_config_get_number (ctx, r, "for", name, 0, 86400, &for_s);
  if (agg == APM_AGG_RATIO && !json_object_has_member (r, "denominator"))
    apm_config_fail (ctx, name, "aggregation", "rule \"%s\": ratio needs a "
        "\"denominator\" metric", name);
  if (ctx->failed)
    return NULL;

  rule = apm_alert_rule_new_expr (name, metric, agg, window, op, threshold);
  apm_alert_rule_set_for (rule, for_s);
  apm_alert_rule_set_severity (rule, sev);
  apm_alert_rule_set_baseline (rule, baseline);
  apm_alert_rule_set_horizon (rule, horizon);
  if ((text = apm_config_get_string (ctx, r, "message", name)))
    apm_alert_rule_set_message (rule, text);
  if ((text = apm_config_get_string (ctx, r, "denominator", name)))
    apm_alert_rule_set_denominator (rule, text);
  if ((text = apm_config_get_string (ctx, r, "require", name)))
    apm_alert_rule_set_require (rule, text);
  if ((match = apm_config_get_object (ctx, r, "match"))) {
    GList *members = json_object_get_members (match);

    for (GList * l = members; l; l = l->next) {
      const gchar *v = apm_config_get_string (ctx, match, l->data, name);

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

/* "breaker": {"failures": N, "reset_timeout": S} of the webhook or an HTTP
 * check, into @out (which holds the defaults) */
static void
parse_breaker (ApmConfigCtx * ctx, JsonObject * o, const gchar * anchor,
    ApmBreakerSettings * out)
{
  static const gchar *const keys[] = { "failures", "reset_timeout", NULL };
  JsonObject *b = apm_config_get_object (ctx, o, "breaker");
  gdouble failures = out->failures;

  if (!b)
    return;
  apm_config_check_keys (ctx, b, keys, anchor, "a circuit breaker");
  if (apm_config_get_number (ctx, b, "failures", anchor, 1, 1000, &failures))
    out->failures = failures;
  apm_config_get_number (ctx, b, "reset_timeout", anchor, 0.1, 86400,
      &out->reset_seconds);
}

typedef struct
{
  gchar *name, *type, *target;
  guint expect, timeout, interval;
  guint64 min_free;
  ApmBreakerSettings breaker;
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
parse_check (ApmConfigCtx * ctx, JsonObject * o)
{
  static const gchar *const keys[] = { "name", "type", "url",
    "expect_status", "timeout", "interval", "path", "min_free_bytes",
    "breaker", NULL
  };
  const gchar *name = apm_config_get_string (ctx, o, "name", NULL);
  const gchar *type, *target;
  gdouble expect = 200, timeout = 5, interval = 30, min_free = 0;
  ApmBreakerSettings breaker = {
    APM_PROBE_BREAKER_FAILURES, APM_PROBE_BREAKER_RESET_S
  };
  CheckSpec *c;

  if (!name) {
    apm_config_fail (ctx, NULL, "health_checks",
        "every health check needs a \"name\"");
    return NULL;
  }
  apm_config_check_keys (ctx, o, keys, name, "a health check");
  type = apm_config_get_string (ctx, o, "type", name);
  if (g_strcmp0 (type, "http") == 0) {
    target = apm_config_get_string (ctx, o, "url", name);
    if (!target || !g_uri_is_valid (target, G_URI_FLAGS_NONE, NULL))
      apm_config_fail (ctx, name, "url",
          "health check \"%s\" needs a valid \"url\"", name);
    parse_breaker (ctx, o, name, &breaker);
  } else if (g_strcmp0 (type, "path") == 0) {
    target = apm_config_get_string (ctx, o, "path", name);
    if (!target)
      apm_config_fail (ctx, name, NULL, "health check \"%s\" needs a \"path\"",
          name);
    if (json_object_has_member (o, "breaker"))
      apm_config_fail (ctx, name, "breaker", "health check \"%s\": a "
          "\"breaker\" applies to http checks only", name);
  } else {
    apm_config_fail (ctx, name, "type",
        "health check \"%s\": type must be http or path", name);
    return NULL;
  }
  apm_config_get_number (ctx, o, "expect_status", name, 100, 599, &expect);
  apm_config_get_number (ctx, o, "timeout", name, 1, 300, &timeout);
  apm_config_get_number (ctx, o, "interval", name, 1, 86400, &interval);
  apm_config_get_number (ctx, o, "min_free_bytes", name, 0, 1e18, &min_free);
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
  c->breaker = breaker;
  return c;
}

/* What a file says, all of it checked before any of it is applied. */
typedef struct
{
  ApmServiceConfig config;      /* listen, alert_interval, websocket_rate,
                                 * bus_messages, log, security's token */
  const gchar *webhook;         /* in the parsed tree */
  gdouble webhook_timeout;
  ApmBreakerSettings webhook_breaker;
  GPtrArray *origins;           /* gchar */
  ApmSpaceLimits disk_limits;
  guint disk_interval;
  gboolean disk_set;
  GPtrArray *rules;             /* ApmAlertRule */
  GPtrArray *disabled;          /* rule names */
  GPtrArray *checks;            /* CheckSpec */
  ApmHistoryTier tiers[APM_HISTORY_MAX_TIERS];
  guint n_tiers;                /* 0: not set */
  gsize history_max_bytes;      /* 0: not set */
  GPtrArray *otlp;              /* OTEL_* name, value, ... */
  GPtrArray *recovery;          /* apm-config-recovery.c */
} Parsed;

static void
parsed_init (Parsed * p)
{
  ApmServiceConfig init = APM_SERVICE_CONFIG_INIT;

  memset (p, 0, sizeof *p);
  p->config = init;
  p->webhook_timeout = 5;
  p->webhook_breaker.failures = APM_WEBHOOK_BREAKER_FAILURES;
  p->webhook_breaker.reset_seconds = APM_WEBHOOK_BREAKER_RESET_S;
  p->origins = g_ptr_array_new_with_free_func (g_free);
  p->rules = g_ptr_array_new_with_free_func ((GDestroyNotify)
      apm_alert_rule_free);
  p->disabled = g_ptr_array_new_with_free_func (g_free);
  p->otlp = g_ptr_array_new_with_free_func (g_free);
  p->checks = g_ptr_array_new_with_free_func ((GDestroyNotify)
      check_spec_free);
  p->recovery = apm_config_recovery_new ();
}

static void
parsed_clear (Parsed * p)
{
  apm_service_config_clear (&p->config);
  g_ptr_array_unref (p->rules);
  g_ptr_array_unref (p->disabled);
  g_ptr_array_unref (p->otlp);
  g_ptr_array_unref (p->checks);
  g_ptr_array_unref (p->origins);
  g_ptr_array_unref (p->recovery);
}

/* --- the sections: each checks its part of the file into a Parsed --- */

static void
parse_listen (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "address", "port", NULL };
  JsonObject *o = apm_config_get_object (ctx, root, "listen");
  const gchar *address;
  gdouble v;

  if (!o)
    return;
  address = apm_config_get_string (ctx, o, "address", "listen");
  apm_config_check_keys (ctx, o, keys, "listen", "listen");
  if (address) {
    GInetAddress *inet = g_inet_address_new_from_string (address);

    if (!inet)
      apm_config_fail (ctx, "listen", "address",
          "listen.address \"%s\" is not an IP address", address);
    else
      g_object_unref (inet);
    p->config.address = g_strdup (address);
  }
  if (apm_config_get_number (ctx, o, "port", "listen", 0, 65535, &v))
    p->config.port = v;
}

/* alert_interval, bus_messages and websocket_rate, at the top level */
static void
parse_top_level_values (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  gdouble v;
  gboolean b;

  if (apm_config_get_number (ctx, root, "alert_interval", NULL, 1, 86400, &v))
    p->config.alert_interval = v;
  if (apm_config_get_bool (ctx, root, "bus_messages", NULL, &b))
    p->config.bus_messages = b;
  if (apm_config_get_number (ctx, root, "stuck_timeout", NULL, 1, 86400, &v))
    p->config.stuck_timeout = v;
  if (apm_config_get_number (ctx, root, "websocket_rate", NULL, 1,
          APM_MAX_WS_RATE, &v))
    p->config.ws_rate = v;
}

static void
parse_log (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "file", "stderr", "level", NULL };
  JsonObject *o = apm_config_get_object (ctx, root, "log");
  const gchar *level;
  ApmLogLevel l;
  gboolean b;

  if (!o)
    return;
  level = apm_config_get_string (ctx, o, "level", "log");
  apm_config_check_keys (ctx, o, keys, "log", "log");
  p->config.log_file = g_strdup (apm_config_get_string (ctx, o, "file", "log"));
  if (apm_config_get_bool (ctx, o, "stderr", "log", &b))
    p->config.log_stderr = b;
  if (level) {
    if (apm_log_level_from_string (level, &l))
      p->config.log_level = l;
    else
      apm_config_fail (ctx, "log", "level", "log.level must be debug, info, "
          "warning, error or critical");
  }
}

static void
parse_webhook (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "url", "timeout", "breaker", NULL };
  JsonObject *o = apm_config_get_object (ctx, root, "webhook");

  if (!o)
    return;
  apm_config_check_keys (ctx, o, keys, "webhook", "webhook");
  p->webhook = apm_config_get_string (ctx, o, "url", "webhook");
  if (!p->webhook || !g_uri_is_valid (p->webhook, G_URI_FLAGS_NONE, NULL))
    apm_config_fail (ctx, "webhook", "url", "webhook.url must be a valid URL");
  apm_config_get_number (ctx, o, "timeout", "webhook", 1, 300,
      &p->webhook_timeout);
  parse_breaker (ctx, o, "webhook", &p->webhook_breaker);
}

static void
parse_security (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "token", "auth", "allowed_origins",
    NULL
  };
  JsonObject *o = apm_config_get_object (ctx, root, "security");
  const gchar *auth;
  JsonArray *list;

  if (!o)
    return;
  auth = apm_config_get_string (ctx, o, "auth", "security");
  apm_config_check_keys (ctx, o, keys, "security", "security");
  p->config.token =
      g_strdup (apm_config_get_string (ctx, o, "token", "security"));
  if (auth && strcmp (auth, "writes") != 0 && strcmp (auth, "all") != 0)
    apm_config_fail (ctx, "security", "auth",
        "security.auth must be \"writes\" or \"all\"");
  p->config.token_for_all = g_strcmp0 (auth, "all") == 0;
  if ((list = apm_config_get_array (ctx, o, "allowed_origins")))
    for (guint i = 0; i < json_array_get_length (list); i++) {
      JsonNode *n = json_array_get_element (list, i);

      if (!JSON_NODE_HOLDS_VALUE (n)
          || json_node_get_value_type (n) != G_TYPE_STRING
          || !strstr (json_node_get_string (n), "://"))
        apm_config_fail (ctx, "security", "allowed_origins", "allowed_origins "
            "must be origins such as \"http://127.0.0.1:3000\"");
      else
        g_ptr_array_add (p->origins, g_strdup (json_node_get_string (n)));
    }
}

static void
parse_disk_space (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "degraded_free_percent",
    "unhealthy_free_percent", "degraded_free_bytes", "unhealthy_free_bytes",
    "interval", NULL
  };
  JsonObject *o = apm_config_get_object (ctx, root, "disk_space");
  gdouble v;

  if (!o)
    return;
  apm_config_check_keys (ctx, o, keys, "disk_space", "disk_space");
  apm_fsspace_get_defaults (&p->disk_limits, &p->disk_interval);
  if (apm_config_get_number (ctx, o, "degraded_free_percent", "disk_space", 0,
          100, &v))
    p->disk_limits.degraded_ratio = v / 100;
  if (apm_config_get_number (ctx, o, "unhealthy_free_percent", "disk_space", 0,
          100, &v))
    p->disk_limits.unhealthy_ratio = v / 100;
  if (apm_config_get_number (ctx, o, "degraded_free_bytes", "disk_space", 0,
          1e18, &v))
    p->disk_limits.degraded_bytes = v;
  if (apm_config_get_number (ctx, o, "unhealthy_free_bytes", "disk_space", 0,
          1e18, &v))
    p->disk_limits.unhealthy_bytes = v;
  if (apm_config_get_number (ctx, o, "interval", "disk_space", 1, 86400, &v))
    p->disk_interval = v;
  p->disk_set = TRUE;
}

static void
parse_rules (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  JsonArray *arr = apm_config_get_array (ctx, root, "rules");

  if (!arr)
    return;
  for (guint i = 0; i < json_array_get_length (arr) && !ctx->failed; i++) {
    JsonNode *n = json_array_get_element (arr, i);
    ApmAlertRule *rule;

    if (!JSON_NODE_HOLDS_OBJECT (n)) {
      apm_config_fail (ctx, NULL, "rules", "rules[%u] must be an object", i);
      break;
    }
    if ((rule = parse_rule (ctx, json_node_get_object (n), p->disabled)))
      g_ptr_array_add (p->rules, rule);
  }
}

static void
parse_health_checks (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  JsonArray *arr = apm_config_get_array (ctx, root, "health_checks");

  if (!arr)
    return;
  for (guint i = 0; i < json_array_get_length (arr) && !ctx->failed; i++) {
    JsonNode *n = json_array_get_element (arr, i);
    CheckSpec *c;

    if (!JSON_NODE_HOLDS_OBJECT (n)) {
      apm_config_fail (ctx, NULL, "health_checks",
          "health_checks[%u] must be an object", i);
      break;
    }
    if ((c = parse_check (ctx, json_node_get_object (n))))
      g_ptr_array_add (p->checks, c);
  }
}

/* "history": {"tiers": [{"resolution": 1, "retention": 900}, ...]} */
static void
parse_history (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  static const gchar *const keys[] = { "tiers", "max_bytes", NULL };
  static const gchar *const tier_keys[] = { "resolution", "retention", NULL };
  JsonObject *o = apm_config_get_object (ctx, root, "history");
  JsonArray *arr;
  GError *error = NULL;
  gdouble max_bytes;
  guint n;

  if (!o)
    return;
  apm_config_check_keys (ctx, o, keys, "history", "history");
  if (apm_config_get_number (ctx, o, "max_bytes", "history", 1 << 20,
          (gdouble) G_MAXSIZE / 2, &max_bytes))
    p->history_max_bytes = max_bytes;
  if (!(arr = apm_config_get_array (ctx, o, "tiers")))
    return;
  n = json_array_get_length (arr);
  if (n < 1 || n > APM_HISTORY_MAX_TIERS) {
    apm_config_fail (ctx, "history", "tiers", "history.tiers needs 1 to %d "
        "tiers", APM_HISTORY_MAX_TIERS);
    return;
  }
  for (guint i = 0; i < n && !ctx->failed; i++) {
    JsonNode *node = json_array_get_element (arr, i);
    JsonObject *t;
    gdouble res = 0, ret = 0;

    if (!JSON_NODE_HOLDS_OBJECT (node)) {
      apm_config_fail (ctx, "history", "tiers", "history.tiers[%u] must be "
          "an object {\"resolution\": seconds, \"retention\": seconds}", i);
      return;
    }
    t = json_node_get_object (node);
    apm_config_check_keys (ctx, t, tier_keys, "history", "a history tier");
    if (!apm_config_get_number (ctx, t, "resolution", "history", 1, 86400,
            &res) || !apm_config_get_number (ctx, t, "retention", "history",
            1, 366 * 86400, &ret)) {
      apm_config_fail (ctx, "history", "tiers", "history.tiers[%u] needs "
          "\"resolution\" and \"retention\" in seconds", i);
      return;
    }
    if (res != (guint) res || ret != (guint) ret) {
      apm_config_fail (ctx, "history", "tiers", "history.tiers[%u]: whole "
          "seconds", i);
      return;
    }
    p->tiers[i].resolution_s = res;
    p->tiers[i].retention_s = ret;
  }
  if (ctx->failed)
    return;
  if (!apm_history_tiers_check (p->tiers, n, &error)) {
    apm_config_fail (ctx, "history", "tiers", "%s", error->message);
    g_error_free (error);
    return;
  }
  p->n_tiers = n;
}

static void
parse_state_dir (ApmConfigCtx * ctx, JsonObject * root, Parsed * p)
{
  const gchar *dir = apm_config_get_string (ctx, root, "state_dir", NULL);

  if (dir && !*dir)
    apm_config_fail (ctx, NULL, "state_dir", "state_dir must be a directory");
  else if (dir)
    p->config.state_dir = g_strdup (dir);
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
      apm_probes_add_http_full (health, c->name, c->target, c->expect,
          c->timeout, c->interval, &c->breaker);
    else
      apm_probes_add_path (health, c->name, c->target, c->min_free,
          c->interval);
  }
  if (p->history_max_bytes)
    apm_history_set_max_bytes (apm_service_get_registry (service),
        p->history_max_bytes);
  if (p->n_tiers)
    apm_history_set_tiers (apm_service_get_registry (service), p->tiers,
        p->n_tiers);
  if (parsed->state_dir && !config->state_dir)
    config->state_dir = g_steal_pointer (&parsed->state_dir);
  apm_config_apply_recovery (p->recovery);
  if (p->disk_set)
    apm_fsspace_set_defaults (&p->disk_limits, p->disk_interval);
  if (p->webhook)
    apm_service_set_webhook_full (service, p->webhook, p->webhook_timeout,
        &p->webhook_breaker);
  for (guint i = 0; i + 1 < p->otlp->len; i += 2)
    apm_service_set_otlp_setting (service, p->otlp->pdata[i],
        p->otlp->pdata[i + 1]);
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
  if (parsed->stuck_timeout > 0)
    config->stuck_timeout = parsed->stuck_timeout;
}


/* takes @text; with no @service only checks */
static gboolean
load_text (ApmService * service, const gchar * path, gchar * text, gsize len,
    ApmServiceConfig * config, GError ** error)
{
  static const gchar *const top_keys[] = { "listen", "alert_interval",
    "websocket_rate", "log", "webhook", "rules", "health_checks",
    "security", "disk_space", "bus_messages", "history", "state_dir",
    "otlp", "stuck_timeout", "recovery", NULL
  };
  ApmConfigCtx ctx = { path, text, error, FALSE };
  JsonParser *parser = NULL;
  JsonObject *root;
  Parsed parsed;

  parsed_init (&parsed);
  if (len > APM_CONFIG_MAX_BYTES) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
        "%s: larger than %d bytes", path, APM_CONFIG_MAX_BYTES);
    ctx.failed = TRUE;
  } else if ((parser = apm_config_parse_json (&ctx, len))) {
    root = json_node_get_object (json_parser_get_root (parser));
    apm_config_check_keys (&ctx, root, top_keys, NULL, "the top level");
    parse_listen (&ctx, root, &parsed);
    parse_top_level_values (&ctx, root, &parsed);
    parse_log (&ctx, root, &parsed);
    parse_webhook (&ctx, root, &parsed);
    parse_security (&ctx, root, &parsed);
    parse_disk_space (&ctx, root, &parsed);
    parse_rules (&ctx, root, &parsed);
    parse_health_checks (&ctx, root, &parsed);
    parse_history (&ctx, root, &parsed);
    parse_state_dir (&ctx, root, &parsed);
    apm_config_parse_otlp (&ctx, root, parsed.otlp);
    apm_config_parse_recovery (&ctx, root, parsed.recovery);
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
