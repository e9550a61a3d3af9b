/* gst-apm: the configuration file's "recovery" block
 *
 *   "recovery": {
 *     "capture*": {"on": ["stall", "stuck"], "action": "restart",
 *                  "max_attempts": 5, "window": 300, "backoff": 1,
 *                  "max_backoff": 60}
 *   }
 *
 * Each member is a glob over pipeline labels and its policy
 * (apm-recovery.h); checked with the rest of the file, applied with it.
 */
#include "apm-config-private.h"
#include "apm-recovery.h"

#include <string.h>

typedef struct
{
  gchar *glob;
  ApmRecoveryPolicy policy;
} RecoveryEntry;

static void
recovery_entry_free (RecoveryEntry * e)
{
  g_free (e->glob);
  g_free (e);
}

GPtrArray *
apm_config_recovery_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)
      recovery_entry_free);
}

static void
parse_policy (ApmConfigCtx * ctx, const gchar * glob, JsonObject * o,
    GPtrArray * out)
{
  static const gchar *const keys[] = { "on", "action", "max_attempts",
    "window", "backoff", "max_backoff", NULL
  };
  ApmRecoveryPolicy p = { 0, APM_RECOVERY_RESTART,
    APM_RECOVERY_DEFAULT_MAX_ATTEMPTS, APM_RECOVERY_DEFAULT_WINDOW,
    APM_RECOVERY_DEFAULT_BACKOFF, APM_RECOVERY_DEFAULT_MAX_BACKOFF
  };
  const gchar *action;
  JsonArray *on;
  RecoveryEntry *e;
  gdouble v;

  apm_config_check_keys (ctx, o, keys, glob, "a recovery policy");
  on = apm_config_get_array (ctx, o, "on");
  for (guint i = 0; on && i < json_array_get_length (on); i++) {
    JsonNode *n = json_array_get_element (on, i);
    const gchar *t = JSON_NODE_HOLDS_VALUE (n)
        && json_node_get_value_type (n) == G_TYPE_STRING ?
        json_node_get_string (n) : "";

    if (strcmp (t, "stall") == 0)
      p.triggers |= APM_RECOVERY_ON_STALL;
    else if (strcmp (t, "stuck") == 0)
      p.triggers |= APM_RECOVERY_ON_STUCK;
    else if (strcmp (t, "error") == 0)
      p.triggers |= APM_RECOVERY_ON_ERROR;
    else
      apm_config_fail (ctx, glob, "on", "recovery \"%s\": \"on\" lists "
          "triggers: \"stall\", \"stuck\", \"error\"", glob);
  }
  if (!p.triggers)
    apm_config_fail (ctx, glob, "on", "recovery \"%s\" needs \"on\": a "
        "list of triggers (\"stall\", \"stuck\", \"error\")", glob);
  action = apm_config_get_string (ctx, o, "action", glob);
  if (g_strcmp0 (action, "flush") == 0)
    p.action = APM_RECOVERY_FLUSH;
  else if (action && strcmp (action, "restart") != 0)
    apm_config_fail (ctx, glob, "action", "recovery \"%s\": \"action\" must "
        "be \"restart\" or \"flush\"", glob);
  if (apm_config_get_number (ctx, o, "max_attempts", glob, 1, 1000, &v))
    p.max_attempts = v;
  apm_config_get_number (ctx, o, "window", glob, 1, 86400, &p.window_s);
  apm_config_get_number (ctx, o, "backoff", glob, 0, 3600, &p.backoff_s);
  apm_config_get_number (ctx, o, "max_backoff", glob, 0, 3600,
      &p.max_backoff_s);
  p.max_backoff_s = MAX (p.max_backoff_s, p.backoff_s);
  e = g_new0 (RecoveryEntry, 1);
  e->glob = g_strdup (glob);
  e->policy = p;
  g_ptr_array_add (out, e);
}

void
apm_config_parse_recovery (ApmConfigCtx * ctx, JsonObject * root,
    GPtrArray * out)
{
  JsonObject *o = apm_config_get_object (ctx, root, "recovery");
  GList *members;

  if (!o)
    return;
  members = json_object_get_members (o);
  for (GList * l = members; l && !ctx->failed; l = l->next) {
    JsonNode *n = json_object_get_member (o, l->data);

    if (!*(const gchar *) l->data)
      apm_config_fail (ctx, "recovery", NULL, "recovery: a pipeline "
          "pattern must not be empty");
    else if (!JSON_NODE_HOLDS_OBJECT (n))
      apm_config_fail (ctx, l->data, NULL, "recovery \"%s\" must be an "
          "object {\"on\": [...], \"action\": ...}", (gchar *) l->data);
    else
      parse_policy (ctx, l->data, json_node_get_object (n), out);
  }
  g_list_free (members);
}

void
apm_config_apply_recovery (GPtrArray * entries)
{
  for (guint i = 0; i < entries->len; i++) {
    RecoveryEntry *e = entries->pdata[i];

    apm_recovery_set_policy (e->glob, &e->policy, FALSE);
  }
}
