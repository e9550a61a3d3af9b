/* gst-apm: W3C Trace Context (traceparent) for jobs and pipeline runs
 *
 * https://www.w3.org/TR/trace-context/: "00-<trace-id>-<parent-id>-<flags>",
 * 32 and 16 lowercase hex digits, neither all zeros.  A job's trace id is
 * its correlation id; its span id names the job within the trace.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define APM_TRACE_ID_HEX_LEN 32
#define APM_SPAN_ID_HEX_LEN 16
/* "00-" + 32 + "-" + 16 + "-" + 2 */
#define APM_TRACEPARENT_LEN 55
/* the sampled flag; we record every job, so ours always carry it */
#define APM_TRACE_FLAG_SAMPLED 0x01

typedef struct
{
  gchar trace_id[APM_TRACE_ID_HEX_LEN + 1];
  gchar span_id[APM_SPAN_ID_HEX_LEN + 1];       /* the header's parent-id */
  guint8 flags;
} ApmTraceContext;

/* Parses a traceparent header value (spaces and tabs around it are
 * ignored).  Version 00 must be exactly 55 characters; a higher version
 * (not ff) may carry more fields after a '-', which are ignored, as the
 * specification asks.  FALSE with a one-line reason in @why (nullable,
 * static text) when @text is not a valid traceparent. */
gboolean apm_traceparent_parse (const gchar * text, ApmTraceContext * out,
    const gchar ** why);

/* "00-<trace_id>-<span_id>-<flags>", version 00. */
gchar *apm_traceparent_format (const ApmTraceContext * ctx);

/* @len lowercase hex digits, not all zeros. */
gboolean apm_trace_hex_id_is_valid (const gchar * id, gsize len);

/* New random ids (GLib's generator, seeded from /dev/urandom), never all
 * zeros. */
void apm_trace_id_generate (gchar out[APM_TRACE_ID_HEX_LEN + 1]);
void apm_span_id_generate (gchar out[APM_SPAN_ID_HEX_LEN + 1]);

G_END_DECLS
