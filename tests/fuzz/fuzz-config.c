/* libFuzzer harness: the JSON configuration file */
#include "apm-config.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  GError *error = NULL;

  if (!apm_config_check_data ("fuzz.json", (const gchar *) data, size,
          &error)) {
    /* every refusal names the file */
    g_assert (error && g_str_has_prefix (error->message, "fuzz.json:"));
    g_clear_error (&error);
  }
  return 0;
}
