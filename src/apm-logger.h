/* gst-apm: ApmLogger, the application's logger bound to a component: its
 * lines go to the service's log store (apm-log-store.h) */
#pragma once

#include <glib-object.h>
#include "apm-enums.h"

G_BEGIN_DECLS

#define APM_TYPE_LOGGER (apm_logger_get_type ())
G_DECLARE_FINAL_TYPE (ApmLogger, apm_logger, APM, LOGGER, GObject)

ApmLogger *apm_logger_new (const gchar * component);
const gchar *apm_logger_get_component (ApmLogger * self);
void apm_logger_log (ApmLogger * self, ApmLogLevel level,
    const gchar * message, const gchar * correlation_id,
    const gchar * context_json);
void apm_logger_debug (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json);
void apm_logger_info (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json);
void apm_logger_warning (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json);
void apm_logger_error (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json);

G_END_DECLS
