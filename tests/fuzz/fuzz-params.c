/* libFuzzer harness: the apm tracer's params (GST_TRACERS="apm(...)") */
#include <gst/gst.h>
#include "gstapmparams.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static gboolean initialized;
  ApmServiceConfig config = APM_SERVICE_CONFIG_INIT;
  GPtrArray *problems;
  gchar *text, *path = NULL;

  if (!initialized) {
    gst_init (NULL, NULL);
    initialized = TRUE;
  }
  /* GStreamer hands the tracer the text between ( and ) */
  text = g_strndup ((const gchar *) data, size);
  problems = g_ptr_array_new_with_free_func (g_free);
  gst_apm_params_parse (text, &config, &path, problems);
  g_assert (config.port >= -1 && config.port <= 65535);
  g_assert (config.ws_rate == -1 || (config.ws_rate >= 1
          && config.ws_rate <= APM_MAX_WS_RATE));
  apm_service_config_clear (&config);
  g_ptr_array_unref (problems);
  g_free (path);
  g_free (text);
  return 0;
}
