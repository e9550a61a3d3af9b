/* gst-apm: named health checks and their overall status */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "apm-log-store.h"

#include "apm-enums.h"

G_BEGIN_DECLS

/**
 * ApmHealthFunc:
 * @user_data: the data given to apm_health_add_check()
 * @message: (out) (transfer full): a one-line human message
 * @details: (out) (transfer full) (nullable): a JSON object with details
 *
 * An inline check (apm_health_add_check()) runs on the service thread and
 * must not block; a worker check (apm_health_add_check_full() with
 * @in_worker) runs on a worker thread and may.
 */
typedef ApmHealthStatus (*ApmHealthFunc) (gpointer user_data,
    gchar ** message, JsonObject ** details);

typedef struct _ApmHealth ApmHealth;

/* Worker threads for checks that may block; one more for each check that
 * has been running for over a second (a stuck thread is not reused until
 * its check returns), up to the maximum. */
#define APM_HEALTH_WORKERS 4
#define APM_HEALTH_MAX_WORKERS 16

ApmHealth *apm_health_new (void);
/* Status changes of checks are logged to @log (nullable). */
void apm_health_set_log (ApmHealth * health, ApmLog * log);
void apm_health_free (ApmHealth * health);

/* Adds or replaces the check @name. */
void apm_health_add_check (ApmHealth * health, const gchar * name,
    ApmHealthFunc func, gpointer user_data, GDestroyNotify destroy,
    guint interval_s);
/* Like apm_health_add_check(), for a check that may block: it runs in a
 * worker thread and is reported unhealthy "timed out" once it has run
 * @timeout_s (counted from when a worker started it).  It is not
 * dispatched again before it returns ("still running since ..."); one that
 * waits for a worker for 3 s (all are stuck) is reported degraded
 * "not started". */
void apm_health_add_check_full (ApmHealth * health, const gchar * name,
    ApmHealthFunc func, gpointer user_data, GDestroyNotify destroy,
    guint interval_s, guint timeout_s, gboolean in_worker);

/* Called (any thread, no lock held) when a check's status changes, with
 * {"check", "status", "previous", "message"}. */
typedef void (*ApmHealthListener) (JsonNode * event, gpointer user_data);
void apm_health_set_listener (ApmHealth * health, ApmHealthListener func,
    gpointer user_data);

/* Dispatches the due worker checks (service thread, once a second). */
void apm_health_tick (ApmHealth * health);

gboolean apm_health_remove_check (ApmHealth * health, const gchar * name);

/* Runs the checks that are due (all when @force) and returns the worst
 * status.  @checks_out receives {"name": {"status", "message", ...}}. */
ApmHealthStatus apm_health_evaluate (ApmHealth * health, gboolean force,
    JsonObject ** checks_out);

const gchar *apm_health_status_to_string (ApmHealthStatus status);

G_END_DECLS
