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
#include "apm-log-store.h"

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

/* An error's answer in words: "HTTP 400 Bad Request: what the collector
 * said (status code 3)", or what was wrong with the answer */
gchar *apm_otlp_answer_describe_error (const ApmOtlpAnswer * answer,
    guint status, const gchar * reason_phrase);

/* Retry-After (@value nullable): delay-seconds or an HTTP date, in ms
 * (at most an hour); 0 when absent or bad */
guint apm_otlp_retry_after_ms (const gchar * value);

/* One exporter's bursts of partial successes, and of 2xx answers that are
 * not OTLP: logged at their start and end (component "otlp"), not at each
 * answer (the exporter may be exporting its own log lines). */
typedef struct
{
  ApmLog *log;                  /* nullable */
  const gchar *url, *items;     /* "spans", ... (borrowed) */
  gboolean rejecting, bad_answers;
  guint64 burst_rejected;
} ApmOtlpAnswerLog;

/* a 2xx's @answer: @rejected of the @n_items sent */
void apm_otlp_answer_log_success (ApmOtlpAnswerLog * log,
    const ApmOtlpAnswer * answer, guint status, guint64 rejected,
    guint n_items);

G_END_DECLS
