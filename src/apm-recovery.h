/* gst-apm: automated recovery of pipelines, the core's part
 *
 * The core knows pipelines only by their labels.  It keeps the policies
 * (per label glob), decides whether a fault reported by the GStreamer glue
 * gets an attempt (backoff, attempts per window, giving up), runs each
 * attempt on its own worker thread (never a streaming thread, never the
 * service thread: a state change may block) by calling the handler the glue
 * registered, and makes every attempt visible: a log line with the failed
 * run's correlation id, apm_pipeline_recoveries_total, a "recovery"
 * WebSocket event.
 *
 * Policy text (the tracer's recovery= param and apm_monitor_set_recovery()):
 *   TRIGGERS:ACTION[,OPTION=VALUE...]
 *   TRIGGERS  stall, stuck, error, joined by '+'
 *   ACTION    restart (NULL then PLAYING) or flush (flushing seek to the
 *             current position)
 *   OPTIONS   max=N (attempts per window, 5), window=S (300),
 *             backoff=S (delay of the first attempt, doubled for each
 *             next one, 1), max-backoff=S (60)
 * e.g. "stall+stuck:restart,max=3,window=120".
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  APM_RECOVERY_ON_STALL = 1 << 0,
  APM_RECOVERY_ON_STUCK = 1 << 1,
  APM_RECOVERY_ON_ERROR = 1 << 2,
} ApmRecoveryTrigger;

typedef enum
{
  APM_RECOVERY_RESTART,
  APM_RECOVERY_FLUSH,
} ApmRecoveryAction;

typedef struct
{
  guint triggers;               /* ApmRecoveryTrigger bits */
  ApmRecoveryAction action;
  guint max_attempts;           /* per window */
  gdouble window_s;
  gdouble backoff_s;            /* first delay, doubled each attempt */
  gdouble max_backoff_s;
} ApmRecoveryPolicy;

#define APM_RECOVERY_DEFAULT_MAX_ATTEMPTS 5
#define APM_RECOVERY_DEFAULT_WINDOW 300.0
#define APM_RECOVERY_DEFAULT_BACKOFF 1.0
#define APM_RECOVERY_DEFAULT_MAX_BACKOFF 60.0

/* "stall", "stuck", "error" */
const gchar *apm_recovery_trigger_name (ApmRecoveryTrigger trigger);
const gchar *apm_recovery_action_name (ApmRecoveryAction action);

/* Parses a policy text; FALSE with @error naming the problem. */
gboolean apm_recovery_policy_parse (const gchar * text,
    ApmRecoveryPolicy * policy, GError ** error);

/* The policy as text (a new string), in the syntax above. */
gchar *apm_recovery_policy_to_string (const ApmRecoveryPolicy * policy);

/* Sets (or with @policy NULL removes) the policy of the pipelines whose
 * label matches @glob.  @from_application: set through the public API, the
 * application's opt-in for the error trigger.  The policy set last wins
 * among those whose globs match a label. */
void apm_recovery_set_policy (const gchar * glob,
    const ApmRecoveryPolicy * policy, gboolean from_application);

/* "GLOB=POLICY GLOB=POLICY" or a bare "POLICY" (every pipeline), as the
 * tracer's param and the configuration file give them; each bad entry is a
 * problem (a string) in @problems (nullable) and is left out. */
void apm_recovery_set_policies_from_text (const gchar * text,
    GPtrArray * problems);

/* The problems apm_recovery_set_policies_from_text() would report, without
 * setting anything. */
void apm_recovery_check_policies_text (const gchar * text,
    GPtrArray * problems);

/* The policy for pipeline @label; FALSE if none.  @from_application
 * (nullable) tells whether the application set it. */
gboolean apm_recovery_lookup (const gchar * label,
    ApmRecoveryPolicy * policy, gboolean * from_application);

/* Performs @action on the pipeline labelled @label, on the recovery
 * thread; may block.  Returns TRUE if done; @detail (out, nullable) says
 * what happened or why not. */
typedef gboolean (*ApmRecoveryHandler) (const gchar * label,
    ApmRecoveryAction action, ApmRecoveryTrigger reason, gchar ** detail,
    gpointer user_data);

/* The glue that can act on pipelines (one; NULL unsets). */
void apm_recovery_set_handler (ApmRecoveryHandler handler,
    gpointer user_data);

typedef enum
{
  APM_RECOVERY_NO_POLICY,       /* nothing to do: no policy for @reason */
  APM_RECOVERY_SCHEDULED,       /* an attempt is scheduled or under way */
  APM_RECOVERY_GAVE_UP,         /* attempts exhausted in this window */
} ApmRecoveryDecision;

/* Any thread (not per buffer: it locks and allocates): pipeline @label has
 * the fault @reason in the run with @correlation_id (nullable).  Schedules
 * an attempt as the policy says, unless one is already under way. */
ApmRecoveryDecision apm_recovery_trigger (const gchar * label,
    ApmRecoveryTrigger reason, const gchar * correlation_id);

/* Seconds a pipeline must play cleanly after a give-up for it to be over */
#define APM_RECOVERY_HEALTHY_SECONDS 30

/* Service thread, each second while pipeline @label plays cleanly (PLAYING,
 * flowing): once it has for APM_RECOVERY_HEALTHY_SECONDS, a give-up is
 * over (apm_pipeline_recovery_gave_up back to 0, attempts counted anew). */
void apm_recovery_note_healthy (const gchar * label);

/* Pipeline @label is gone: forgets its attempts. */
void apm_recovery_forget (const gchar * label);

/* Stops the recovery thread (after the attempt under way) and forgets
 * everything. */
void apm_recovery_shutdown (void);

G_END_DECLS
