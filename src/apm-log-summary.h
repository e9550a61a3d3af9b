/* gst-apm: the log summary: line counts per minute by level and component,
 * and the most frequent message templates (served at
 * /monitoring/logs/summary)
 *
 * Fed with every line the log store keeps (apm-log-store.c), so it covers
 * more than the store's ring.  Bounded: APM_LOG_SUMMARY_MINUTES minutes of
 * counts, APM_LOG_SUMMARY_COMPONENTS components (the rest count as
 * "other"), and at most a fixed number of templates (the least recently
 * seen goes when a new one comes, and is counted as evicted).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "apm-enums.h"

G_BEGIN_DECLS

typedef struct _ApmLogSummary ApmLogSummary;

#define APM_LOG_SUMMARY_MINUTES 1440
#define APM_LOG_SUMMARY_COMPONENTS 64
#define APM_LOG_SUMMARY_TEMPLATES 256
/* a template's per-minute counts go back this far; for a longer window its
 * count is its total since first seen */
#define APM_LOG_SUMMARY_TEMPLATE_MINUTES 60
/* messages are templated from their first bytes only */
#define APM_LOG_SUMMARY_MAX_MESSAGE 512

ApmLogSummary *apm_log_summary_new (guint max_templates);
void apm_log_summary_free (ApmLogSummary * summary);

/* Counts one line (any thread). */
void apm_log_summary_add (ApmLogSummary * summary, gint64 wall_us,
    ApmLogLevel level, const gchar * component, const gchar * message);

/* The summary of the lines since @since_us (wall clock) up to @now_us:
 * {"since", "until", "minutes": [{"minute", "total", "levels": {...},
 * "components": {COMPONENT: {LEVEL: n}}}], "totals": {"lines", "levels",
 * "components"}, "templates": [{"template", "count", "first_seen",
 * "last_seen", "example", "level", "component"}] (the @top most frequent),
 * "templates_tracked", "templates_max", "templates_evicted",
 * "retention_seconds", "complete"}.  "complete" is FALSE when @since_us
 * is older than what is kept. */
JsonNode *apm_log_summary_query (ApmLogSummary * summary, gint64 since_us,
    gint64 now_us, guint top);

/* @message with its variable parts replaced by placeholders: <str> (quoted
 * text), <url>, <path>, <time> (ISO 8601), <id> (UUIDs, 0x..., hex runs of
 * 8 or more with a digit), <n> (numbers, in words too: "queue<n>").  Only
 * the first APM_LOG_SUMMARY_MAX_MESSAGE bytes are used.  A new string. */
gchar *apm_log_template (const gchar * message);

G_END_DECLS
