/* gst-apm: plugin entry, registers the apm tracer and apmonitor */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include "gstapmtracer.h"
#include "gstapmonitor.h"
#include "gstapmstats.h"
#include "gstapmrules.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = TRUE;

  gst_apm_stats_init ();
  /* stores a function pointer: no service is made in the registry scanner */
  apm_service_add_setup (gst_apm_rules_install);
  ok &= gst_tracer_register (plugin, "apm", GST_TYPE_APM_TRACER);
  ok &= GST_ELEMENT_REGISTER (apmonitor, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, apm,
    "Audio pipeline monitor: per-stage timing, audio checkpoints, "
    "Prometheus metrics, REST, WebSocket and a live dashboard",
    plugin_init, PACKAGE_VERSION, "LGPL", PACKAGE, PACKAGE_ORIGIN)
