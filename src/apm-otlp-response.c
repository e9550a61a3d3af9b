/* gst-apm: what an OTLP/HTTP collector answers (see apm-otlp-response.h) */
#include "apm-otlp-response.h"
#include "apm-protobuf.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

/* a collector's message goes into one log line: keep it short */
#define MAX_MESSAGE_CHARS 200

static gchar *
clean_message (const gchar * text, gsize len)
{
  gchar *valid = g_utf8_make_valid (text, len);
  glong n = g_utf8_strlen (valid, -1);

  if (n > MAX_MESSAGE_CHARS) {
    gchar *cut = g_utf8_substring (valid, 0, MAX_MESSAGE_CHARS);

    g_free (valid);
    valid = g_strconcat (cut, "...", NULL);
    g_free (cut);
  }
  return g_strstrip (valid);
}

/* ExportXPartialSuccess: rejected_* = 1 (int64), error_message = 2 */
static gboolean
read_partial_success (const guint8 * data, gsize len, ApmOtlpAnswer * a)
{
  ApmPbReader r;
  guint field, wire;

  apm_pb_reader_init (&r, data, len);
  while (!apm_pb_reader_done (&r)) {
    if (!apm_pb_read_tag (&r, &field, &wire))
      return FALSE;
    if (field == 1 && wire == APM_PB_VARINT) {
      guint64 v;

      if (!apm_pb_read_varint (&r, &v))
        return FALSE;
      a->rejected = (gint64) v;
    } else if (field == 2 && wire == APM_PB_LEN) {
      const guint8 *s;
      gsize n;

      if (!apm_pb_read_len (&r, &s, &n))
        return FALSE;
      g_free (a->message);
      a->message = clean_message ((const gchar *) s, n);
    } else if (!apm_pb_skip (&r, wire)) {
      return FALSE;
    }
  }
  return TRUE;
}

/* Export*ServiceResponse { partial_success = 1 } or google.rpc.Status
 * { int32 code = 1; string message = 2; repeated Any details = 3 } */
static gboolean
read_protobuf (const guint8 * data, gsize len, gboolean success,
    ApmOtlpAnswer * a)
{
  ApmPbReader r;
  guint field, wire;
  gboolean any = FALSE;

  apm_pb_reader_init (&r, data, len);
  while (!apm_pb_reader_done (&r)) {
    const guint8 *s;
    gsize n;

    if (!apm_pb_read_tag (&r, &field, &wire))
      return FALSE;
    if (success && field == 1 && wire == APM_PB_LEN) {
      if (!apm_pb_read_len (&r, &s, &n) || !read_partial_success (s, n, a))
        return FALSE;
      any = TRUE;
    } else if (!success && field == 1 && wire == APM_PB_VARINT) {
      guint64 v;

      if (!apm_pb_read_varint (&r, &v))
        return FALSE;
      a->code = (gint) (gint32) v;
      any = TRUE;
    } else if (!success && field == 2 && wire == APM_PB_LEN) {
      if (!apm_pb_read_len (&r, &s, &n))
        return FALSE;
      g_free (a->message);
      a->message = clean_message ((const gchar *) s, n);
      any = TRUE;
    } else if (!apm_pb_skip (&r, wire)) {
      return FALSE;
    }
  }
  a->kind = any ? APM_OTLP_ANSWER_PARSED : APM_OTLP_ANSWER_EMPTY;
  return TRUE;
}

/* OTLP/JSON writes int64 as a decimal string; accept a number too */
static gboolean
json_int (JsonNode * node, gint64 * v)
{
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_ascii_string_to_signed (json_node_get_string (node), 10, 0,
        G_MAXINT64, v, NULL);
  if (JSON_NODE_HOLDS_VALUE (node)
      && (json_node_get_value_type (node) == G_TYPE_INT64
          || json_node_get_value_type (node) == G_TYPE_DOUBLE)) {
    *v = json_node_get_int (node);
    return TRUE;
  }
  return FALSE;
}

static const gchar *
json_string (JsonObject * o, const gchar * camel, const gchar * snake)
{
  JsonNode *n = json_object_get_member (o, camel);

  if (!n)
    n = json_object_get_member (o, snake);
  if (n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

static gboolean
read_json (const gchar * data, gsize len, gboolean success, ApmOtlpAnswer * a)
{
  JsonParser *parser = json_parser_new ();
  JsonObject *o;
  gboolean ok = FALSE;

  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto out;
  o = json_node_get_object (json_parser_get_root (parser));
  a->kind = APM_OTLP_ANSWER_EMPTY;
  if (success) {
    JsonNode *ps = json_object_get_member (o, "partialSuccess");
    JsonObject *p;
    const gchar *msg;

    if (!ps)
      ps = json_object_get_member (o, "partial_success");
    if (ps && !JSON_NODE_HOLDS_OBJECT (ps) && !JSON_NODE_HOLDS_NULL (ps))
      goto out;
    p = ps && JSON_NODE_HOLDS_OBJECT (ps) ? json_node_get_object (ps) : NULL;
    if (p) {
      /* rejectedSpans, rejectedLogRecords, rejectedDataPoints (or the
       * proto's snake_case names) */
      GList *members = json_object_get_members (p);

      for (GList * l = members; l; l = l->next)
        if (g_str_has_prefix (l->data, "rejected")
            && !json_int (json_object_get_member (p, l->data), &a->rejected)) {
          g_list_free (members);
          goto out;
        }
      g_list_free (members);
      msg = json_string (p, "errorMessage", "error_message");
      if (msg)
        a->message = clean_message (msg, strlen (msg));
      a->kind = APM_OTLP_ANSWER_PARSED;
    }
  } else {
    JsonNode *code = json_object_get_member (o, "code");
    const gchar *msg = json_string (o, "message", "message");
    gint64 v;

    if (code && json_int (code, &v)) {
      a->code = (gint) v;
      a->kind = APM_OTLP_ANSWER_PARSED;
    }
    if (msg) {
      a->message = clean_message (msg, strlen (msg));
      a->kind = APM_OTLP_ANSWER_PARSED;
    }
  }
  ok = TRUE;
out:
  g_object_unref (parser);
  return ok;
}

void
apm_otlp_answer_parse (ApmOtlpAnswer * a, gboolean success,
    const gchar * content_type, GBytes * body)
{
  gsize len = 0;
  const guint8 *data = body ? g_bytes_get_data (body, &len) : NULL;
  gboolean ok;

  memset (a, 0, sizeof *a);
  a->content_type = g_strdup (content_type);
  if (len == 0) {
    /* an empty protobuf message, or a collector that sends nothing */
    a->kind = APM_OTLP_ANSWER_EMPTY;
    return;
  }
  if (!g_strcmp0 (content_type, "application/x-protobuf"))
    ok = read_protobuf (data, len, success, a);
  else if (!g_strcmp0 (content_type, "application/json"))
    ok = read_json ((const gchar *) data, len, success, a);
  else {
    a->kind = APM_OTLP_ANSWER_NOT_OTLP;
    return;
  }
  if (!ok) {
    g_clear_pointer (&a->message, g_free);
    a->rejected = 0;
    a->code = 0;
    a->kind = APM_OTLP_ANSWER_GARBAGE;
  } else if (a->rejected < 0) {
    a->rejected = 0;
  }
}

void
apm_otlp_answer_clear (ApmOtlpAnswer * a)
{
  g_clear_pointer (&a->message, g_free);
  g_clear_pointer (&a->content_type, g_free);
}

gchar *
apm_otlp_answer_describe_error (const ApmOtlpAnswer * a, guint status,
    const gchar * phrase)
{
  switch (a->kind) {
    case APM_OTLP_ANSWER_PARSED:
      return g_strdup_printf ("HTTP %u %s: %s (status code %d)", status,
          phrase, a->message ? a->message : "no message", a->code);
    case APM_OTLP_ANSWER_GARBAGE:
      return g_strdup_printf ("HTTP %u %s, with an unparsable %s body",
          status, phrase, a->content_type);
    case APM_OTLP_ANSWER_NOT_OTLP:
      return g_strdup_printf ("HTTP %u %s, with a %s body, not an OTLP "
          "answer", status, phrase, a->content_type ? a->content_type :
          "untyped");
    default:
      return g_strdup_printf ("HTTP %u %s", status, phrase);
  }
}

static JsonObject *
log_context (ApmOtlpAnswerLog * l)
{
  JsonObject *ctx = json_object_new ();

  json_object_set_string_member (ctx, "endpoint", l->url);
  return ctx;
}

void
apm_otlp_answer_log_success (ApmOtlpAnswerLog * l, const ApmOtlpAnswer * a,
    guint status, guint64 rejected, guint n_items)
{
  if (a->kind == APM_OTLP_ANSWER_PARSED && (rejected || a->message)) {
    /* partial success, or a warning (nothing rejected, a message) */
    if (!l->rejecting && l->log) {
      JsonObject *ctx = log_context (l);

      json_object_set_int_member (ctx, "rejected", (gint64) rejected);
      if (a->message)
        json_object_set_string_member (ctx, "collector_message", a->message);
      apm_log_write (l->log, APM_LOG_WARNING, "otlp", NULL, ctx,
          "OTLP collector at %s rejected %" G_GUINT64_FORMAT " of %u %s: %s "
          "(further rejections counted in apm_otlp_rejected_total, logged "
          "again when it accepts everything)", l->url, rejected, n_items,
          l->items, a->message ? a->message : "no message given");
    }
    l->rejecting = TRUE;
    l->burst_rejected += rejected;
  } else if (a->kind == APM_OTLP_ANSWER_GARBAGE
      || a->kind == APM_OTLP_ANSWER_NOT_OTLP) {
    /* the collector said yes: the items count as exported (sending them
     * again would duplicate them), but say what came back */
    if (!l->bad_answers && l->log) {
      JsonObject *ctx = log_context (l);

      if (a->content_type)
        json_object_set_string_member (ctx, "content_type", a->content_type);
      apm_log_write (l->log, APM_LOG_WARNING, "otlp", NULL, ctx,
          "OTLP endpoint %s answered HTTP %u with %s %s body, not an OTLP "
          "response: the batch counts as exported (not sent again), but "
          "is this an OTLP/HTTP collector?", l->url, status,
          a->kind == APM_OTLP_ANSWER_GARBAGE ? "an unparsable" : "a",
          a->content_type ? a->content_type : "untyped");
    }
    l->bad_answers = TRUE;
  } else {
    /* all accepted: a burst ends */
    if (l->rejecting && l->log)
      apm_log_write (l->log, APM_LOG_INFO, "otlp", NULL, NULL,
          "OTLP collector at %s accepts all %s again (%" G_GUINT64_FORMAT
          " rejected meanwhile)", l->url, l->items, l->burst_rejected);
    l->rejecting = FALSE;
    l->burst_rejected = 0;
    l->bad_answers = FALSE;
  }
}

guint
apm_otlp_retry_after_ms (const gchar * v)
{
  guint64 secs;
  GDateTime *when, *now;
  gint64 diff;

  if (!v)
    return 0;
  /* a longer wait than an hour is taken as an hour, not ignored */
  if (g_ascii_string_to_unsigned (v, 10, 0, G_MAXUINT64, &secs, NULL))
    return (guint) MIN (secs, 3600) * 1000;
  when = soup_date_time_new_from_http_string (v);
  if (!when)
    return 0;
  now = g_date_time_new_now_utc ();
  diff = g_date_time_difference (when, now);
  g_date_time_unref (when);
  g_date_time_unref (now);
  return (guint) CLAMP (diff / 1000, 0, 3600 * 1000);
}
