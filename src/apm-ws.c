/* gst-apm: the /ws/monitoring WebSocket feed
 *
 * libsoup queues WebSocket sends without limit, so a client that stops
 * reading would grow our memory forever.  Before each send we look at how
 * much the kernel still holds for the socket (SIOCOUTQ): past a cap the
 * client gets no new update (updates are snapshots, so skipping one loses
 * nothing), and a client that stays behind is closed with 1008.
 */
#include "apm-ws.h"
#include "apm-service.h"
#include "apm-status.h"
#include "apm-time.h"
#include "apm-access.h"

#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

enum
{
  TOPIC_UPDATE = 1 << 0,
  TOPIC_ALERT = 1 << 1,
  TOPIC_HEALTH = 1 << 2,
  TOPIC_JOB = 1 << 3,
  TOPIC_LOG = 1 << 4,
  TOPIC_BREAKER = 1 << 5,
  TOPIC_RECOVERY = 1 << 6,
  TOPIC_ALL = 0x7f,
};

typedef struct
{
  ApmWs *ws;
  SoupWebsocketConnection *conn;
  guint topics;
  guint skips;
  gint fd;
} Client;

struct _ApmWs
{
  ApmService *service;
  GList *clients;               /* Client */
  GSource *tick;
};

static guint
topic_of (const gchar * type)
{
  if (!type)
    return 0;
  if (strcmp (type, "monitoring_update") == 0 || strcmp (type, "snapshot") == 0)
    return TOPIC_UPDATE;
  if (strcmp (type, "alert") == 0)
    return TOPIC_ALERT;
  if (strcmp (type, "health") == 0)
    return TOPIC_HEALTH;
  if (strcmp (type, "job") == 0)
    return TOPIC_JOB;
  if (strcmp (type, "log") == 0)
    return TOPIC_LOG;
  if (strcmp (type, "breaker") == 0)
    return TOPIC_BREAKER;
  if (strcmp (type, "recovery") == 0)
    return TOPIC_RECOVERY;
  return 0;
}

static gchar *
envelope (const gchar * type, JsonNode * data)
{
  JsonObject *o = json_object_new ();
  JsonNode *root = json_node_new (JSON_NODE_OBJECT);
  gchar *ts = apm_time_format (g_get_real_time ());
  gchar *text, *valid;

  json_object_set_string_member (o, "type", type);
  json_object_set_string_member (o, "timestamp", ts);
  if (data)
    json_object_set_member (o, "data", json_node_copy (data));
  json_node_take_object (root, o);
  text = json_to_string (root, FALSE);
  json_node_unref (root);
  g_free (ts);
  /* libsoup drops invalid UTF-8 with a critical: names come from users */
  valid = g_utf8_make_valid (text, -1);
  g_free (text);
  return valid;
}

static gint
unsent_bytes (Client * c)
{
  gint n = 0;

  if (c->fd < 0 || ioctl (c->fd, SIOCOUTQ, &n) != 0)
    return 0;
  return n;
}

/* TRUE if sent; a client too far behind is skipped, then closed */
static gboolean
send_to (Client * c, const gchar * text, gboolean droppable)
{
  if (soup_websocket_connection_get_state (c->conn) !=
      SOUP_WEBSOCKET_STATE_OPEN)
    return FALSE;
  if (droppable && unsent_bytes (c) > APM_WS_MAX_BACKLOG) {
    if (++c->skips >= APM_WS_MAX_SKIPS)
      soup_websocket_connection_close (c->conn,
          SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "client too slow");
    return FALSE;
  }
  c->skips = 0;
  soup_websocket_connection_send_text (c->conn, text);
  return TRUE;
}

void
apm_ws_broadcast (ApmWs * ws, const gchar * type, JsonNode * data)
{
  guint topic = topic_of (type);
  gchar *text = NULL;

  for (GList * l = ws->clients; l; l = l->next) {
    Client *c = l->data;

    if (!(c->topics & topic))
      continue;
    if (!text)
      text = envelope (type, data);
    /* events are rare and small: never dropped, only updates are */
    send_to (c, text, topic == TOPIC_UPDATE || topic == TOPIC_LOG);
  }
  g_free (text);
}

static gboolean
on_tick (gpointer user_data)
{
  ApmWs *ws = user_data;
  JsonNode *status;

  if (!ws->clients)
    return G_SOURCE_CONTINUE;
  status = apm_status_detailed (ws->service);
  apm_ws_broadcast (ws, "monitoring_update", status);
  json_node_unref (status);
  return G_SOURCE_CONTINUE;
}

static void
send_error (Client * c, const gchar * message)
{
  JsonNode *node = json_node_init_string (json_node_alloc (), message);
  gchar *text = envelope ("error", node);

  send_to (c, text, FALSE);
  g_free (text);
  json_node_unref (node);
}

gboolean
apm_ws_parse_client_message (const gchar * data, gsize len, guint * topics,
    const gchar ** problem)
{
  JsonParser *parser = json_parser_new ();
  JsonObject *o;
  JsonArray *arr;
  guint mask = 0;
  gboolean ok = FALSE;

  if (!json_parser_load_from_data (parser, data, len, NULL)) {
    *problem = "malformed JSON";
    goto out;
  }
  /* empty text parses with no root at all */
  o = json_parser_get_root (parser)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)) ?
      json_node_get_object (json_parser_get_root (parser)) : NULL;
  if (!o || !json_object_has_member (o, "type")
      || !JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "type"))
      || json_node_get_value_type (json_object_get_member (o, "type")) !=
      G_TYPE_STRING
      || g_strcmp0 (json_object_get_string_member (o, "type"),
          "subscribe") != 0 || !json_object_has_member (o, "topics")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "topics"))) {
    *problem = "expected {\"type\": \"subscribe\", \"topics\": [...]}";
    goto out;
  }
  arr = json_object_get_array_member (o, "topics");
  for (guint i = 0; i < json_array_get_length (arr); i++) {
    JsonNode *t = json_array_get_element (arr, i);
    guint bit = JSON_NODE_HOLDS_VALUE (t) && json_node_get_value_type (t) ==
        G_TYPE_STRING ? topic_of (json_node_get_string (t)) : 0;

    if (!bit) {
      *problem = "unknown topic (known: monitoring_update, alert, health, "
          "job, log, breaker, recovery)";
      goto out;
    }
    mask |= bit;
  }
  *topics = mask;
  ok = TRUE;
out:
  g_object_unref (parser);
  return ok;
}

/* {"type": "subscribe", "topics": ["alert", "job"]} */
static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer user_data)
{
  Client *c = user_data;
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);
  const gchar *problem = NULL;
  guint topics;

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    send_error (c, "expected a JSON text message");
  else if (!apm_ws_parse_client_message (data, len, &topics, &problem))
    send_error (c, problem);
  else
    c->topics = topics;
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer user_data)
{
  Client *c = user_data;
  ApmWs *ws = c->ws;

  ws->clients = g_list_remove (ws->clients, c);
  apm_service_count_websocket (ws->service, -1);
  apm_log_write (apm_service_get_log (ws->service), APM_LOG_INFO, "websocket",
      NULL, NULL, "client disconnected (code %u)",
      soup_websocket_connection_get_close_code (conn));
  g_signal_handlers_disconnect_by_data (c->conn, c);
  g_object_unref (c->conn);
  g_free (c);
}

static void
on_websocket (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  ApmWs *ws = user_data;
  Client *c;
  GIOStream *io;
  JsonNode *status;
  gchar *text;

  if (!apm_access_origin_allowed (apm_service_get_access (ws->service), msg)) {
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "origin not allowed");
    return;
  }
  if (g_list_length (ws->clients) >= APM_WS_MAX_CLIENTS) {
    soup_websocket_connection_close (conn,
        SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "too many connections");
    return;
  }
  c = g_new0 (Client, 1);
  c->ws = ws;
  c->conn = g_object_ref (conn);
  c->topics = TOPIC_ALL;
  c->fd = -1;
  /* libsoup wraps our GSocketConnection: find it to read SIOCOUTQ */
  io = soup_websocket_connection_get_io_stream (conn);
  if (io && !G_IS_SOCKET_CONNECTION (io)
      && g_object_class_find_property (G_OBJECT_GET_CLASS (io),
          "base-iostream")) {
    GIOStream *base = NULL;

    g_object_get (io, "base-iostream", &base, NULL);
    if (G_IS_SOCKET_CONNECTION (base))
      c->fd = g_socket_get_fd (g_socket_connection_get_socket
          (G_SOCKET_CONNECTION (base)));
    g_clear_object (&base);
  } else if (G_IS_SOCKET_CONNECTION (io)) {
    c->fd = g_socket_get_fd (g_socket_connection_get_socket
        (G_SOCKET_CONNECTION (io)));
  }
  soup_websocket_connection_set_keepalive_interval (conn, APM_WS_KEEPALIVE_S);
  g_signal_connect (conn, "message", G_CALLBACK (on_message), c);
  g_signal_connect (conn, "closed", G_CALLBACK (on_closed), c);
  apm_service_count_websocket (ws->service, 1);
  status = apm_status_detailed (ws->service);
  text = envelope ("snapshot", status);
  send_to (c, text, FALSE);
  g_free (text);
  json_node_unref (status);
  /* in the list (so it gets broadcasts) only after its snapshot */
  ws->clients = g_list_prepend (ws->clients, c);
  {
    GSocketAddress *addr = soup_server_message_get_remote_address (msg);
    gchar *peer = addr && G_IS_INET_SOCKET_ADDRESS (addr) ?
        g_inet_address_to_string (g_inet_socket_address_get_address
        (G_INET_SOCKET_ADDRESS (addr))) : g_strdup ("unknown");
    JsonObject *ctx = json_object_new ();

    json_object_set_string_member (ctx, "peer", peer);
    json_object_set_int_member (ctx, "clients", g_list_length (ws->clients));
    apm_log_write (apm_service_get_log (ws->service), APM_LOG_INFO,
        "websocket", NULL, ctx, "client connected");
    g_free (peer);
  }

}

ApmWs *
apm_ws_new (ApmService * service, SoupServer * server, guint interval_ms)
{
  ApmWs *ws = g_new0 (ApmWs, 1);

  ws->service = service;
  /* every client gets the same update: with permessage-deflate the service
   * thread would compress it once per client (200 browser clients on 50
   * pipelines: 1.3 updates/s each and handshake timeouts instead of ~9/s
   * without it; bench/README.md) */
  soup_server_remove_websocket_extension (server,
      SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_websocket_handler (server, "/ws/monitoring", NULL, NULL,
      on_websocket, ws, NULL);
  ws->tick = g_timeout_source_new (CLAMP (interval_ms, 50, 60000));
  g_source_set_callback (ws->tick, on_tick, ws, NULL);
  g_source_attach (ws->tick, g_main_context_get_thread_default ());
  return ws;
}

void
apm_ws_free (ApmWs * ws)
{
  g_source_destroy (ws->tick);
  g_source_unref (ws->tick);
  while (ws->clients) {
    Client *c = ws->clients->data;

    /* on_closed would run later, after we are gone: drop it now */
    g_signal_handlers_disconnect_by_data (c->conn, c);
    ws->clients = g_list_delete_link (ws->clients, ws->clients);
    apm_service_count_websocket (ws->service, -1);
    if (soup_websocket_connection_get_state (c->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->conn,
          SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "service stopping");
    g_object_unref (c->conn);
    g_free (c);
  }
  g_free (ws);
}
