/* libFuzzer harness: a collector's answers (apm-otlp-response.c).  The
 * first byte picks the answer's kind (bit 0: a 2xx or an error) and
 * content type (bits 1-2: protobuf, JSON, text/html, none); the rest is
 * the body.  Whatever comes, the reading ends with a valid answer: a known
 * kind, no negative count, a short valid UTF-8 message. */
#include "apm-otlp-response.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 * data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 * data, size_t size)
{
  static const gchar *const types[] = {
    "application/x-protobuf", "application/json", "text/html", NULL
  };
  ApmOtlpAnswer a;
  GBytes *body;
  gchar *text;
  gboolean success;

  if (size < 1)
    return 0;
  success = data[0] & 1;
  body = g_bytes_new (data + 1, size - 1);
  apm_otlp_answer_parse (&a, success, types[(data[0] >> 1) & 3], body);
  g_assert (a.kind <= APM_OTLP_ANSWER_NOT_OTLP);
  g_assert (a.rejected >= 0);
  if (a.message) {
    g_assert (g_utf8_validate (a.message, -1, NULL));
    g_assert (g_utf8_strlen (a.message, -1) <= 203);
  }
  if (!success) {
    text = apm_otlp_answer_describe_error (&a, 400, "Bad Request");
    g_assert (g_utf8_validate (text, -1, NULL));
    g_free (text);
  }
  {
    /* the Retry-After header's parser, with the body as its value */
    gchar *value = g_strndup ((const gchar *) data + 1, size - 1);

    g_assert (apm_otlp_retry_after_ms (value) <= 3600 * 1000);
    g_free (value);
  }
  apm_otlp_answer_clear (&a);
  g_bytes_unref (body);
  return 0;
}
