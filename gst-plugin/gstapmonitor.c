/* gst-apm: the apmonitor element, an audio checkpoint
 *
 * SECTION:element-apmonitor
 * @title: apmonitor
 * @short_description: bit-exact passthrough that reports what passes
 *
 * Insert apmonitor anywhere in an audio pipeline: buffers pass through
 * untouched and uncopied, and the process-wide apm service (started with the
 * pipeline) serves what it sees over HTTP.
 *
 * |[
 * gst-launch-1.0 audiotestsrc is-live=true ! apmonitor port=0 ! \
 *     audioconvert ! autoaudiosink
 * ]|
 *
 * The URL served is posted on the bus as an element message named
 * "apm-service" with a "url" field.
 */
#include "gstapmonitor.h"
#include "gstapmwatch.h"

GST_DEBUG_CATEGORY_STATIC (gst_apmonitor_debug);
#define GST_CAT_DEFAULT gst_apmonitor_debug

enum
{
  PROP_0,
  PROP_PORT,
  PROP_ADDRESS,
  PROP_QUIET,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

struct _GstApMonitor
{
  GstBaseTransform parent;

  /* properties, under the object lock */
  gint port;
  gchar *address;
  gboolean quiet;
  gboolean port_set, address_set;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE (GstApMonitor, gst_apmonitor, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (apmonitor, "apmonitor", GST_RANK_NONE,
    GST_TYPE_APMONITOR,
    GST_DEBUG_CATEGORY_INIT (gst_apmonitor_debug, "apmonitor", 0,
        "audio pipeline monitor checkpoint"));

static void
gst_apmonitor_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstApMonitor *self = GST_APMONITOR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      self->port = g_value_get_int (value);
      self->port_set = TRUE;
      break;
    case PROP_ADDRESS:
      g_free (self->address);
      self->address = g_value_dup_string (value);
      self->address_set = TRUE;
      break;
    case PROP_QUIET:
      self->quiet = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_apmonitor_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstApMonitor *self = GST_APMONITOR (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PORT:
      g_value_set_int (value, self->port);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_QUIET:
      g_value_set_boolean (value, self->quiet);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

/* Configures the service from the properties that were set, then watches
 * the top-level pipeline. */
static void
gst_apmonitor_watch (GstApMonitor * self)
{
  ApmServiceConfig config = { -1, NULL, -1 };
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
  GstElement *top;

  GST_OBJECT_LOCK (self);
  config.port = self->port_set ? self->port : -1;
  if (self->address_set && self->address) {
    GInetAddress *inet = g_inet_address_new_from_string (self->address);

    if (inet) {
      config.address = g_strdup (self->address);
      g_object_unref (inet);
    } else {
      g_ptr_array_add (problems, g_strdup_printf ("%s: property address='%s'"
              " is not an IP address: using the default",
              GST_OBJECT_NAME (self), self->address));
    }
  }
  config.quiet = self->quiet ? 1 : -1;
  GST_OBJECT_UNLOCK (self);

  gst_apm_watch_configure (&config, problems);
  g_free (config.address);
  g_ptr_array_unref (problems);

  top = gst_apm_watch_find_top (GST_ELEMENT (self));
  if (top) {
    gst_apm_watch_pipeline (top);
    gst_object_unref (top);
  }
}

static GstStateChangeReturn
gst_apmonitor_change_state (GstElement * element, GstStateChange transition)
{
  if (transition == GST_STATE_CHANGE_NULL_TO_READY)
    gst_apmonitor_watch (GST_APMONITOR (element));

  return GST_ELEMENT_CLASS (gst_apmonitor_parent_class)->change_state
      (element, transition);
}

static GstFlowReturn
gst_apmonitor_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  return GST_FLOW_OK;
}

static void
gst_apmonitor_finalize (GObject * object)
{
  GstApMonitor *self = GST_APMONITOR (object);

  g_free (self->address);
  G_OBJECT_CLASS (gst_apmonitor_parent_class)->finalize (object);
}

static void
gst_apmonitor_class_init (GstApMonitorClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_apmonitor_set_property;
  gobject_class->get_property = gst_apmonitor_get_property;
  gobject_class->finalize = gst_apmonitor_finalize;

  /**
   * GstApMonitor:port:
   *
   * TCP port of the process-wide apm service; 0 picks a free port.  The
   * first configuration in the process wins (the apm tracer's params, then
   * the first apmonitor to start).
   *
   * Since: 0.1
   */
  properties[PROP_PORT] = g_param_spec_int ("port", "Port",
      "TCP port of the process-wide apm HTTP service (0 = pick a free port; "
      "the first configuration in the process wins)", 0, 65535,
      APM_DEFAULT_PORT, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:address:
   *
   * IP address the apm service binds to.
   *
   * Since: 0.1
   */
  properties[PROP_ADDRESS] = g_param_spec_string ("address", "Address",
      "IP address the apm HTTP service binds to (first configuration wins)",
      APM_DEFAULT_ADDRESS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstApMonitor:quiet:
   *
   * Do not print the URL served on stderr.
   *
   * Since: 0.1
   */
  properties[PROP_QUIET] = g_param_spec_boolean ("quiet", "Quiet",
      "Do not print the URL served on stderr", FALSE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (gobject_class, N_PROPS, properties);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Audio pipeline monitor", "Filter/Analyzer/Audio",
      "Bit-exact passthrough that measures the audio passing through and "
      "serves it as Prometheus metrics, JSON and a live dashboard",
      "gst-apm developers");

  element_class->change_state = gst_apmonitor_change_state;
  trans_class->transform_ip = gst_apmonitor_transform_ip;
  trans_class->passthrough_on_same_caps = TRUE;
}

static void
gst_apmonitor_init (GstApMonitor * self)
{
  self->port = APM_DEFAULT_PORT;
  self->address = g_strdup (APM_DEFAULT_ADDRESS);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), TRUE);
}
