/* libFuzzer harness: W3C traceparent values (TRACEPARENT, the tracer's
 * traceparent= param, apm_monitor_start_job_tracking_full) */
#include <string.h>
#include "apm-tracecontext.h"

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  gchar *text = g_strndup ((const gchar *) data, size);
  ApmTraceContext ctx, again;
  const gchar *why = NULL;

  if (apm_traceparent_parse (text, &ctx, &why)) {
    gchar *formatted;

    /* what is accepted has valid ids, and formats to a version 00 header
     * that parses back to the same context */
    g_assert (apm_trace_hex_id_is_valid (ctx.trace_id,
            APM_TRACE_ID_HEX_LEN));
    g_assert (apm_trace_hex_id_is_valid (ctx.span_id, APM_SPAN_ID_HEX_LEN));
    formatted = apm_traceparent_format (&ctx);
    g_assert (strlen (formatted) == APM_TRACEPARENT_LEN);
    g_assert (apm_traceparent_parse (formatted, &again, NULL));
    g_assert (strcmp (again.trace_id, ctx.trace_id) == 0);
    g_assert (strcmp (again.span_id, ctx.span_id) == 0);
    g_assert (again.flags == ctx.flags);
    g_free (formatted);
  } else {
    g_assert (why != NULL && *why);
  }
  g_free (text);
  return 0;
}
