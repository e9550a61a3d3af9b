/* gst-apm tests: a WebSocket client with its own main context, iterated
 * only within deadlines */
#include "apmtestutil.h"

#include <string.h>

struct _ApmTestWs
{
  GMainContext *context;
  SoupSession *session;
  SoupWebsocketConnection *conn;
  GError *error;
  gboolean connect_done;
  gboolean closed;
  GQueue messages;              /* ApmTestWsMessage */
};

void
apm_test_ws_message_free (ApmTestWsMessage * m)
{
  if (!m)
    return;
  if (m->root)
    json_node_unref (m->root);
  g_free (m->text);
  g_free (m);
}

static void
ws_on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  ApmTestWs *ws = user_data;
  ApmTestWsMessage *m = g_new0 (ApmTestWsMessage, 1);
  JsonParser *parser = json_parser_new ();
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  m->arrival_us = g_get_monotonic_time ();
  m->text = g_strndup (data, len);
  if (type == SOUP_WEBSOCKET_DATA_TEXT
      && json_parser_load_from_data (parser, m->text, len, NULL)
      && json_parser_get_root (parser)) {
    m->root = json_node_copy (json_parser_get_root (parser));
    if (JSON_NODE_HOLDS_OBJECT (m->root)) {
      JsonNode *t = json_object_get_member (json_node_get_object (m->root),
          "type");

      if (t && JSON_NODE_HOLDS_VALUE (t)
          && json_node_get_value_type (t) == G_TYPE_STRING)
        m->type = json_node_get_string (t);
    }
  }
  g_object_unref (parser);
  g_queue_push_tail (&ws->messages, m);
}

static void
ws_on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  ApmTestWs *ws = user_data;

  ws->closed = TRUE;
}

static void
ws_on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  ApmTestWs *ws = user_data;

  ws->conn = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      res, &ws->error);
  if (ws->conn) {
    /* monitoring documents can be large */
    soup_websocket_connection_set_max_incoming_payload_size (ws->conn,
        64 * 1024 * 1024);
    g_signal_connect (ws->conn, "message", G_CALLBACK (ws_on_message), ws);
    g_signal_connect (ws->conn, "closed", G_CALLBACK (ws_on_closed), ws);
  }
  ws->connect_done = TRUE;
}

static gboolean
ws_deadline_reached (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*WsCondition) (ApmTestWs * ws, gpointer data);

/* Iterates the client's context until @cond holds or @deadline_us. */
static gboolean
ws_iterate (ApmTestWs * ws, WsCondition cond, gpointer data,
    gint64 deadline_us)
{
  gboolean ok;

  g_main_context_push_thread_default (ws->context);
  /* what is ready now, first */
  while (g_main_context_iteration (ws->context, FALSE));
  while (!(ok = cond && cond (ws, data))) {
    gint64 now = g_get_monotonic_time ();
    gboolean timed_out = FALSE;
    GSource *timeout;

    if (now >= deadline_us)
      break;
    timeout = g_timeout_source_new ((deadline_us - now + 999) / 1000);
    g_source_set_callback (timeout, ws_deadline_reached, &timed_out, NULL);
    g_source_attach (timeout, ws->context);
    g_main_context_iteration (ws->context, TRUE);
    g_source_destroy (timeout);
    g_source_unref (timeout);
  }
  g_main_context_pop_thread_default (ws->context);
  return ok;
}

static gboolean
ws_cond_connected (ApmTestWs * ws, gpointer data)
{
  return ws->connect_done;
}

ApmTestWs *
apm_test_ws_connect (const gchar * base_url, const gchar * path)
{
  ApmTestWs *ws = g_new0 (ApmTestWs, 1);
  gchar *uri;
  SoupMessage *msg;

  fail_unless (g_str_has_prefix (base_url, "http://"), "bad base URL %s",
      base_url);
  uri = g_strconcat ("ws://", base_url + strlen ("http://"), path, NULL);
  ws->context = g_main_context_new ();
  g_queue_init (&ws->messages);
  g_main_context_push_thread_default (ws->context);
  ws->session = soup_session_new_with_options ("timeout", 10, NULL);
  msg = soup_message_new ("GET", uri);
  fail_unless (msg != NULL, "bad URI %s", uri);
  soup_session_websocket_connect_async (ws->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, ws_on_connected, ws);
  g_object_unref (msg);
  g_main_context_pop_thread_default (ws->context);
  ws_iterate (ws, ws_cond_connected, NULL, g_get_monotonic_time () +
      APM_TEST_SCALED (10 * G_USEC_PER_SEC));
  fail_unless (ws->connect_done, "WebSocket %s: no connection within 10 s",
      uri);
  fail_unless (ws->conn != NULL, "WebSocket %s: %s", uri,
      ws->error ? ws->error->message : "?");
  g_free (uri);
  return ws;
}

static gboolean
ws_cond_message (ApmTestWs * ws, gpointer data)
{
  return !g_queue_is_empty (&ws->messages) || ws->closed;
}

ApmTestWsMessage *
apm_test_ws_next (ApmTestWs * ws, gint64 deadline_us)
{
  ws_iterate (ws, ws_cond_message, NULL, deadline_us);
  return g_queue_pop_head (&ws->messages);
}

ApmTestWsMessage *
apm_test_ws_wait_type (ApmTestWs * ws, const gchar * type,
    gint64 deadline_us)
{
  ApmTestWsMessage *m;

  while ((m = apm_test_ws_next (ws, deadline_us))) {
    if (g_strcmp0 (m->type, type) == 0)
      return m;
    apm_test_ws_message_free (m);
  }
  return NULL;
}

void
apm_test_ws_pump (ApmTestWs * ws, gint64 deadline_us)
{
  ws_iterate (ws, NULL, NULL, deadline_us);
}

guint
apm_test_ws_drain (ApmTestWs * ws)
{
  guint n = 0;
  ApmTestWsMessage *m;

  while ((m = g_queue_pop_head (&ws->messages))) {
    apm_test_ws_message_free (m);
    n++;
  }
  return n;
}

void
apm_test_ws_send_text (ApmTestWs * ws, const gchar * text)
{
  fail_unless (soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN, "sending on a WebSocket that is not open");
  g_main_context_push_thread_default (ws->context);
  soup_websocket_connection_send_text (ws->conn, text);
  g_main_context_pop_thread_default (ws->context);
}

void
apm_test_ws_send_binary (ApmTestWs * ws, gconstpointer data, gsize len)
{
  fail_unless (soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN, "sending on a WebSocket that is not open");
  g_main_context_push_thread_default (ws->context);
  soup_websocket_connection_send_binary (ws->conn, data, len);
  g_main_context_pop_thread_default (ws->context);
}

gboolean
apm_test_ws_is_open (ApmTestWs * ws)
{
  ws_iterate (ws, NULL, NULL, 0);
  return !ws->closed && soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN;
}

static gboolean
ws_cond_closed (ApmTestWs * ws, gpointer data)
{
  return ws->closed;
}

gboolean
apm_test_ws_wait_closed (ApmTestWs * ws, gint64 deadline_us, gushort * code)
{
  gboolean closed = ws_iterate (ws, ws_cond_closed, NULL, deadline_us);

  if (code)
    *code = closed ? soup_websocket_connection_get_close_code (ws->conn) : 0;
  return closed;
}

static void
ws_destroy (ApmTestWs * ws)
{
  if (ws->conn) {
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    g_object_unref (ws->conn);
  }
  g_object_unref (ws->session);
  /* let the session's sources finish with the objects */
  g_main_context_push_thread_default (ws->context);
  while (g_main_context_iteration (ws->context, FALSE));
  g_main_context_pop_thread_default (ws->context);
  g_main_context_unref (ws->context);
  apm_test_ws_drain (ws);
  g_clear_error (&ws->error);
  g_free (ws);
}

void
apm_test_ws_abort (ApmTestWs * ws)
{
  GIOStream *io = soup_websocket_connection_get_io_stream (ws->conn);

  g_main_context_push_thread_default (ws->context);
  g_io_stream_close (io, NULL, NULL);
  g_main_context_pop_thread_default (ws->context);
  ws_iterate (ws, ws_cond_closed, NULL, g_get_monotonic_time () +
      APM_TEST_SCALED (G_USEC_PER_SEC));
  ws_destroy (ws);
}

void
apm_test_ws_free (ApmTestWs * ws)
{
  if (!ws)
    return;
  if (!ws->closed && soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN) {
    g_main_context_push_thread_default (ws->context);
    soup_websocket_connection_close (ws->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
        NULL);
    g_main_context_pop_thread_default (ws->context);
  }
  ws_iterate (ws, ws_cond_closed, NULL, g_get_monotonic_time () +
      APM_TEST_SCALED (5 * G_USEC_PER_SEC));
  ws_destroy (ws);
}
