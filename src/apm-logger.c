/* gst-apm: ApmLogger, the application's logger bound to a component: its
 * lines go to the service's log store (apm-log-store.h) */
#include "apm-logger.h"
#include "apm-monitor.h"

struct _ApmLogger
{
  GObject parent;
  gchar *component;
};

enum
{
  PROP_0,
  PROP_COMPONENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE (ApmLogger, apm_logger, G_TYPE_OBJECT);

static void
apm_logger_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  ApmLogger *self = APM_LOGGER (object);

  switch (prop_id) {
    case PROP_COMPONENT:
      g_free (self->component);
      self->component = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
apm_logger_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  ApmLogger *self = APM_LOGGER (object);

  switch (prop_id) {
    case PROP_COMPONENT:
      g_value_set_string (value, self->component);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
apm_logger_finalize (GObject * object)
{
  g_free (APM_LOGGER (object)->component);
  G_OBJECT_CLASS (apm_logger_parent_class)->finalize (object);
}

static void
apm_logger_class_init (ApmLoggerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = apm_logger_set_property;
  gobject_class->get_property = apm_logger_get_property;
  gobject_class->finalize = apm_logger_finalize;
  properties[PROP_COMPONENT] = g_param_spec_string ("component", "Component",
      "The component named in every line", "app",
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);
}

static void
apm_logger_init (ApmLogger * self)
{
}

/**
 * apm_logger_new:
 * @component: the component named in every line
 *
 * Returns: (transfer full): a logger writing to the monitor's log
 */
ApmLogger *
apm_logger_new (const gchar * component)
{
  return g_object_new (APM_TYPE_LOGGER, "component", component, NULL);
}

/**
 * apm_logger_get_component:
 * @self: the logger
 *
 * Returns: (transfer none): the component
 */
const gchar *
apm_logger_get_component (ApmLogger * self)
{
  g_return_val_if_fail (APM_IS_LOGGER (self), NULL);
  return self->component;
}

/**
 * apm_logger_log:
 * @self: the logger
 * @level: the level
 * @message: the message
 * @correlation_id: (nullable): the job's correlation id
 * @context_json: (nullable): a JSON object text with context
 */
void
apm_logger_log (ApmLogger * self, ApmLogLevel level, const gchar * message,
    const gchar * correlation_id, const gchar * context_json)
{
  g_return_if_fail (APM_IS_LOGGER (self));
  apm_monitor_log (apm_monitor_get_default (), level, self->component,
      message, correlation_id, context_json);
}

/**
 * apm_logger_debug:
 * @self: the logger
 * @message: the message
 * @correlation_id: (nullable): the job's correlation id
 * @context_json: (nullable): a JSON object text with context
 */
void
apm_logger_debug (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json)
{
  apm_logger_log (self, APM_LOG_DEBUG, message, correlation_id,
      context_json);
}

/**
 * apm_logger_info:
 * @self: the logger
 * @message: the message
 * @correlation_id: (nullable): the job's correlation id
 * @context_json: (nullable): a JSON object text with context
 */
void
apm_logger_info (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json)
{
  apm_logger_log (self, APM_LOG_INFO, message, correlation_id, context_json);
}

/**
 * apm_logger_warning:
 * @self: the logger
 * @message: the message
 * @correlation_id: (nullable): the job's correlation id
 * @context_json: (nullable): a JSON object text with context
 */
void
apm_logger_warning (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json)
{
  apm_logger_log (self, APM_LOG_WARNING, message, correlation_id,
      context_json);
}

/**
 * apm_logger_error:
 * @self: the logger
 * @message: the message
 * @correlation_id: (nullable): the job's correlation id
 * @context_json: (nullable): a JSON object text with context
 */
void
apm_logger_error (ApmLogger * self, const gchar * message,
    const gchar * correlation_id, const gchar * context_json)
{
  apm_logger_log (self, APM_LOG_ERROR, message, correlation_id,
      context_json);
}
