/* gst-apm: W3C Trace Context (traceparent) for jobs and pipeline runs */
#include "apm-tracecontext.h"

#include <string.h>
#include <unistd.h>

/* ids must differ between a process and its forked children: the generator
 * is seeded again (from /dev/urandom, g_rand_new) in a new process */
static GMutex rand_lock;
static GRand *rand_gen;
static pid_t rand_pid;

static gboolean
is_lower_hex (gchar c)
{
  return g_ascii_isdigit (c) || (c >= 'a' && c <= 'f');
}

/* @len lowercase hex digits at @p (which may be shorter) */
static gboolean
lower_hex_run (const gchar * p, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!is_lower_hex (p[i]))
      return FALSE;
  return TRUE;
}

static gboolean
all_zeros (const gchar * p, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (p[i] != '0')
      return FALSE;
  return TRUE;
}

gboolean
apm_trace_hex_id_is_valid (const gchar * id, gsize len)
{
  return id && strlen (id) == len && lower_hex_run (id, len)
      && !all_zeros (id, len);
}

#define FAIL(reason) G_STMT_START { if (why) *why = (reason); \
    return FALSE; } G_STMT_END

gboolean
apm_traceparent_parse (const gchar * text, ApmTraceContext * out,
    const gchar ** why)
{
  const gchar *p, *end;
  gsize len;

  if (!text)
    FAIL ("no traceparent");
  /* optional whitespace around a header value (RFC 9110 OWS) */
  while (*text == ' ' || *text == '\t')
    text++;
  end = text + strlen (text);
  while (end > text && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  len = end - text;

  if (len < 2 || !lower_hex_run (text, 2))
    FAIL ("the version is not two lowercase hex digits");
  if (text[0] == 'f' && text[1] == 'f')
    FAIL ("version ff is invalid");
  if (len < APM_TRACEPARENT_LEN)
    FAIL ("too short (a traceparent is 00-<32 hex>-<16 hex>-<2 hex>)");
  if (text[0] == '0' && text[1] == '0' && len != APM_TRACEPARENT_LEN)
    FAIL ("version 00 must be exactly 55 characters");
  /* a later version may append fields, after a '-' */
  if (len > APM_TRACEPARENT_LEN && text[APM_TRACEPARENT_LEN] != '-')
    FAIL ("the flags are not followed by '-' or the end");

  p = text + 2;
  if (*p++ != '-')
    FAIL ("no '-' after the version");
  if (!lower_hex_run (p, APM_TRACE_ID_HEX_LEN))
    FAIL ("the trace id is not 32 lowercase hex digits");
  if (all_zeros (p, APM_TRACE_ID_HEX_LEN))
    FAIL ("the trace id is all zeros");
  p += APM_TRACE_ID_HEX_LEN;
  if (*p++ != '-')
    FAIL ("no '-' after the trace id");
  if (!lower_hex_run (p, APM_SPAN_ID_HEX_LEN))
    FAIL ("the parent id is not 16 lowercase hex digits");
  if (all_zeros (p, APM_SPAN_ID_HEX_LEN))
    FAIL ("the parent id is all zeros");
  p += APM_SPAN_ID_HEX_LEN;
  if (*p++ != '-')
    FAIL ("no '-' after the parent id");
  if (!lower_hex_run (p, 2))
    FAIL ("the flags are not two lowercase hex digits");

  if (out) {
    memcpy (out->trace_id, text + 3, APM_TRACE_ID_HEX_LEN);
    out->trace_id[APM_TRACE_ID_HEX_LEN] = '\0';
    memcpy (out->span_id, text + 3 + APM_TRACE_ID_HEX_LEN + 1,
        APM_SPAN_ID_HEX_LEN);
    out->span_id[APM_SPAN_ID_HEX_LEN] = '\0';
    out->flags = (g_ascii_xdigit_value (p[0]) << 4)
        | g_ascii_xdigit_value (p[1]);
  }
  return TRUE;
}

#undef FAIL

gchar *
apm_traceparent_format (const ApmTraceContext * ctx)
{
  return g_strdup_printf ("00-%s-%s-%02x", ctx->trace_id, ctx->span_id,
      ctx->flags);
}

static void
random_hex (gchar * out, gsize len)
{
  static const gchar digits[] = "0123456789abcdef";

  g_mutex_lock (&rand_lock);
  if (!rand_gen || rand_pid != getpid ()) {
    g_clear_pointer (&rand_gen, g_rand_free);
    rand_gen = g_rand_new ();
    rand_pid = getpid ();
  }
  do {
    for (gsize i = 0; i < len; i += 8) {
      guint32 r = g_rand_int (rand_gen);

      for (gsize k = 0; k < 8 && i + k < len; k++, r >>= 4)
        out[i + k] = digits[r & 0xf];
    }
  } while (all_zeros (out, len));
  g_mutex_unlock (&rand_lock);
  out[len] = '\0';
}

void
apm_trace_id_generate (gchar out[APM_TRACE_ID_HEX_LEN + 1])
{
  random_hex (out, APM_TRACE_ID_HEX_LEN);
}

void
apm_span_id_generate (gchar out[APM_SPAN_ID_HEX_LEN + 1])
{
  random_hex (out, APM_SPAN_ID_HEX_LEN);
}
