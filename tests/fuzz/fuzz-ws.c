/* libFuzzer harness: WebSocket client messages */
#include "apm-ws.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  const gchar *problem = NULL;
  guint topics = 0;

  if (apm_ws_parse_client_message ((const gchar *) data, size, &topics,
          &problem))
    g_assert (topics != 0 || problem == NULL);
  else
    g_assert (problem != NULL);
  return 0;
}
