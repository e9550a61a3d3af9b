/* gst-apm: named health checks and their overall status */
#include "apm-health.h"
#include "apm-time.h"
#include "apm-log.h"

typedef struct
{
  gint ref_count;
  gchar *name;
  ApmHealthFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  gint64 interval_us;
  /* last result, under ApmHealth.lock */
  gint64 last_run_us;           /* monotonic, 0 = never */
  gint64 last_run_wall_us;
  gint64 duration_us;
  ApmHealthStatus status;
  gchar *message;
  JsonObject *details;
} Check;

struct _ApmHealth
{
  ApmLog *log;
  GMutex lock;
  GHashTable *checks;           /* name -> Check */
};

static Check *
check_ref (Check * c)
{
  g_atomic_int_inc (&c->ref_count);
  return c;
}

static void
check_unref (Check * c)
{
  if (!g_atomic_int_dec_and_test (&c->ref_count))
    return;
  if (c->destroy)
    c->destroy (c->user_data);
  g_free (c->name);
  g_free (c->message);
  if (c->details)
    json_object_unref (c->details);
  g_free (c);
}

ApmHealth *
apm_health_new (void)
{
  ApmHealth *h = g_new0 (ApmHealth, 1);

  g_mutex_init (&h->lock);
  h->checks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) check_unref);
  return h;
}

void
apm_health_set_log (ApmHealth * h, ApmLog * log)
{
  h->log = log;
}

void
apm_health_free (ApmHealth * h)
{
  if (!h)
    return;
  g_hash_table_destroy (h->checks);
  g_mutex_clear (&h->lock);
  g_free (h);
}

void
apm_health_add_check (ApmHealth * h, const gchar * name, ApmHealthFunc func,
    gpointer user_data, GDestroyNotify destroy, guint interval_s)
{
  Check *c = g_new0 (Check, 1);

  c->ref_count = 1;
  c->name = g_strdup (name);
  c->func = func;
  c->user_data = user_data;
  c->destroy = destroy;
  c->interval_us = (gint64) MAX (interval_s, 1) * G_USEC_PER_SEC;
  c->message = g_strdup ("not run yet");
  g_mutex_lock (&h->lock);
  g_hash_table_replace (h->checks, c->name, c);
  g_mutex_unlock (&h->lock);
}

gboolean
apm_health_remove_check (ApmHealth * h, const gchar * name)
{
  gboolean removed;

  g_mutex_lock (&h->lock);
  removed = g_hash_table_remove (h->checks, name);
  g_mutex_unlock (&h->lock);
  return removed;
}

const gchar *
apm_health_status_to_string (ApmHealthStatus status)
{
  switch (status) {
    case APM_HEALTH_HEALTHY:
      return "healthy";
    case APM_HEALTH_DEGRADED:
      return "degraded";
    default:
      return "unhealthy";
  }
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  const Check *ca = *(Check **) a, *cb = *(Check **) b;

  return g_strcmp0 (ca->name, cb->name);
}

ApmHealthStatus
apm_health_evaluate (ApmHealth * h, gboolean force, JsonObject ** checks_out)
{
  GPtrArray *snapshot = g_ptr_array_new_with_free_func ((GDestroyNotify)
      check_unref);
  ApmHealthStatus worst = APM_HEALTH_HEALTHY;
  GHashTableIter it;
  Check *c;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&h->lock);
  g_hash_table_iter_init (&it, h->checks);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & c))
    g_ptr_array_add (snapshot, check_ref (c));
  g_mutex_unlock (&h->lock);
  g_ptr_array_sort (snapshot, compare_names);

  /* run due checks without the lock: they may take time */
  for (guint i = 0; i < snapshot->len; i++) {
    gchar *message = NULL;
    JsonObject *details = NULL;
    ApmHealthStatus status;
    gint64 t0;

    c = g_ptr_array_index (snapshot, i);
    if (!force && c->last_run_us && now - c->last_run_us < c->interval_us)
      continue;
    t0 = g_get_monotonic_time ();
    status = c->func (c->user_data, &message, &details);
    if (h->log && c->last_run_us && status != c->status) {
      JsonObject *ctx = json_object_new ();

      json_object_set_string_member (ctx, "check", c->name);
      json_object_set_string_member (ctx, "from",
          apm_health_status_to_string (c->status));
      json_object_set_string_member (ctx, "to",
          apm_health_status_to_string (status));
      apm_log_write (h->log, status == APM_HEALTH_HEALTHY ? APM_LOG_INFO :
          APM_LOG_WARNING, "health", NULL, ctx, "health check %s is %s: %s",
          c->name, apm_health_status_to_string (status),
          message ? message : "");
    }
    g_mutex_lock (&h->lock);
    c->status = status;
    g_free (c->message);
    c->message = message ? message : g_strdup ("");
    if (c->details)
      json_object_unref (c->details);
    c->details = details;
    c->last_run_us = g_get_monotonic_time ();
    c->last_run_wall_us = g_get_real_time ();
    c->duration_us = c->last_run_us - t0;
    g_mutex_unlock (&h->lock);
  }

  if (checks_out)
    *checks_out = json_object_new ();
  g_mutex_lock (&h->lock);
  for (guint i = 0; i < snapshot->len; i++) {
    c = g_ptr_array_index (snapshot, i);
    if (c->last_run_us && c->status > worst)
      worst = c->status;
    if (checks_out) {
      JsonObject *o = json_object_new ();

      json_object_set_string_member (o, "status", c->last_run_us ?
          apm_health_status_to_string (c->status) : "unknown");
      json_object_set_string_member (o, "message", c->message);
      if (c->details)
        json_object_set_object_member (o, "details",
            json_object_ref (c->details));
      if (c->last_run_us) {
        gchar *iso = apm_time_format (c->last_run_wall_us);

        json_object_set_string_member (o, "last_run", iso);
        json_object_set_double_member (o, "duration_seconds",
            c->duration_us / 1e6);
        g_free (iso);
      }
      json_object_set_object_member (*checks_out, c->name, o);
    }
  }
  g_mutex_unlock (&h->lock);
  g_ptr_array_unref (snapshot);
  return worst;
}
