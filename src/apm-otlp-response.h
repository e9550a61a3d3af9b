/* gst-apm: what an OTLP/HTTP collector answers
 *
 * A success carries an Export{Trace,Logs,Metrics}ServiceResponse, whose
 * partial_success says how many items the collector rejected and why; an
 * error carries a google.rpc.Status.  Both in the request's encoding
 * (protobuf or JSON, said by the answer's Content-Type).  Anything else is
 * reported, never trusted: a proxy's HTML page, a truncated body.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  APM_OTLP_ANSWER_EMPTY,        /* no body, or one without a message */
  APM_OTLP_ANSWER_PARSED,       /* rejected/message hold what it said */
  APM_OTLP_ANSWER_GARBAGE,      /* an OTLP content type, unparsable body */
  APM_OTLP_ANSWER_NOT_OTLP,     /* a body of another content type */
} ApmOtlpAnswerKind;

typedef struct
{
  ApmOtlpAnswerKind kind;
  gint64 rejected;              /* success: items rejected (partial) */
  gint code;                    /* error: google.rpc.Status code */
  gchar *message;               /* the collector's words (valid UTF-8,
                                 * at most ~200 chars), or NULL */
  gchar *content_type;          /* as answered, or NULL */
} ApmOtlpAnswer;

/* @content_type: the answer's media type (no parameters), or NULL;
 * @success: a 2xx (an export response) or not (a Status) */
void apm_otlp_answer_parse (ApmOtlpAnswer * answer, gboolean success,
    const gchar * content_type, GBytes * body);
void apm_otlp_answer_clear (ApmOtlpAnswer * answer);

G_END_DECLS
