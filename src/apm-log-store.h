/* gst-apm: the log store (ApmLog): where structured log lines are kept
 *
 * The service's one log, with correlation ids.  Every monitor event is one
 * JSON object per line:
 * {"timestamp": RFC 3339 with microseconds, "level", "component", "message",
 *  "correlation_id": string or null, "context": {...}}.
 * Lines go to a bounded in-memory ring (served at /monitoring/logs), to an
 * optional file (appended; reopened on SIGHUP and when rotated away, rotated
 * by size) and optionally to stderr.  Never called per buffer.
 * Applications write into it through ApmLogger (apm-logger.h), the plugin
 * and the service directly.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "apm-enums.h"

G_BEGIN_DECLS

typedef struct _ApmLog ApmLog;

#define APM_LOG_RING_SIZE 2000
#define APM_LOG_MAX_FILE_BYTES (16 * 1024 * 1024)

ApmLog *apm_log_new (guint ring_size);
void apm_log_free (ApmLog * log);

/* Appends to @path (nullable: no file).  FALSE with @error if it cannot be
 * opened; logging goes on to the other sinks.  While there is a file, SIGHUP
 * reopens it (logrotate's convention), unless the application already
 * handles SIGHUP. */
gboolean apm_log_set_file (ApmLog * log, const gchar * path, GError ** error);
void apm_log_set_stderr (ApmLog * log, gboolean enabled);
/* Lines below @level are dropped. */
void apm_log_set_min_level (ApmLog * log, ApmLogLevel level);

/* Called for each line (any thread, lock not held), e.g. to push it to
 * WebSocket clients.  @line is the JSON object. */
typedef void (*ApmLogListener) (JsonNode * line, gpointer user_data);
void apm_log_set_listener (ApmLog * log, ApmLogListener func,
    gpointer user_data);

/* Logs one event.  @correlation_id and @context (transfer full) may be NULL.
 * Thread-safe. */
void apm_log_write (ApmLog * log, ApmLogLevel level, const gchar * component,
    const gchar * correlation_id, JsonObject * context,
    const gchar * format, ...) G_GNUC_PRINTF (6, 7);

/* Reopens the file if it was rotated away (service thread, each second).
 * The first call also attaches the SIGHUP watch to the calling thread's
 * default GMainContext (the service's). */
void apm_log_check_file (ApmLog * log);

/* {"logs": [...oldest first]}, filtered: @min_level (-1: all),
 * @correlation_id and @component (nullable), @since_us (0: all), at most
 * @limit newest (0: all). */
JsonNode *apm_log_query (ApmLog * log, gint min_level,
    const gchar * correlation_id, const gchar * component, gint64 since_us,
    guint limit);

/* The same document as compact JSON text, built from the stored lines
 * without parsing them (for the HTTP endpoint: no tree of up to the whole
 * ring per request).  Returns it with its @length (g_free() it). */
gchar *apm_log_query_text (ApmLog * log, gint min_level,
    const gchar * correlation_id, const gchar * component, gint64 since_us,
    guint limit, gsize * length);

/* Counts and message templates of the lines kept (apm-log-summary.h) */
struct _ApmLogSummary *apm_log_get_summary (ApmLog * log);

const gchar *apm_log_level_to_string (ApmLogLevel level);
gboolean apm_log_level_from_string (const gchar * text, ApmLogLevel * out);

G_END_DECLS
