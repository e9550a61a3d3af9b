/* gst-apm: the HTTP server of the service (libsoup 3)
 *
 * Connections are accepted by our own GSocketService and handed to the
 * SoupServer: libsoup 3.2's own listener leaks per connection, and this way
 * each socket gets an idle timeout (SoupServer has none).
 */
#include "apm-http.h"
#include "apm-api.h"
#include "apm-ws.h"
#include "apm-access.h"
#include "apm-service.h"

#include <string.h>

struct _ApmHttp
{
  ApmService *service;
  SoupServer *server;
  GSocketService *listener;
  ApmWs *ws;
};

void
apm_http_respond_json (SoupServerMessage * msg, guint status, JsonNode * node)
{
  JsonGenerator *gen = json_generator_new ();
  gsize len;
  gchar *body;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  body = json_generator_to_data (gen, &len);
  g_object_unref (gen);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE,
      body, len);
}

void
apm_http_respond_error (SoupServerMessage * msg, guint status,
    const gchar * message)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "code");
  json_builder_add_int_value (b, status);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  apm_http_respond_json (msg, status, root);
  json_node_unref (root);
  g_object_unref (b);
}

/* Refuse oversized bodies before libsoup reads them into memory. */
static void
early_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  goffset len = soup_message_headers_get_content_length (h);
  SoupEncoding enc = soup_message_headers_get_encoding (h);

  ApmHttp *http = user_data;

  /* libsoup 3.2 closes connections handed to accept_iostream after each
   * response: say so, or clients reusing them fail */
  if (g_strcmp0 (path, "/ws/monitoring") != 0)
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
  if (len > APM_HTTP_MAX_BODY || enc == SOUP_ENCODING_CHUNKED
      || enc == SOUP_ENCODING_EOF) {
    apm_http_respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
        "request body too large");
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
    return;
  }
  apm_access_check (apm_service_get_access (http->service), msg, path);
}

static void
request_handler (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  ApmHttp *http = user_data;

  apm_api_dispatch (http->service, msg, path, query);
}

static gboolean
on_incoming (GSocketService * listener, GSocketConnection * conn,
    GObject * source, gpointer user_data)
{
  ApmHttp *http = user_data;
  GSocket *sock = g_socket_connection_get_socket (conn);
  GSocketAddress *local, *remote;
  GError *error = NULL;

  g_socket_set_timeout (sock, APM_HTTP_IDLE_TIMEOUT_S);
  local = g_socket_connection_get_local_address (conn, NULL);
  remote = g_socket_connection_get_remote_address (conn, NULL);
  if (local && remote && !soup_server_accept_iostream (http->server,
          G_IO_STREAM (conn), local, remote, &error)) {
    g_debug ("could not accept connection: %s", error->message);
    g_clear_error (&error);
  }
  g_clear_object (&local);
  g_clear_object (&remote);
  return TRUE;
}

void
apm_http_broadcast (ApmHttp * http, const gchar * type, JsonNode * data)
{
  apm_ws_broadcast (http->ws, type, data);
}

ApmHttp *
apm_http_new (ApmService * service, guint ws_interval_ms)
{
  ApmHttp *http = g_new0 (ApmHttp, 1);

  http->service = service;
  http->server = soup_server_new ("server-header", "gst-apm", NULL);
  soup_server_add_early_handler (http->server, NULL, early_handler, http,
      NULL);
  http->ws = apm_ws_new (service, http->server, ws_interval_ms);
  soup_server_add_handler (http->server, NULL, request_handler, http, NULL);
  return http;
}

gboolean
apm_http_listen (ApmHttp * http, const gchar * address, gint port,
    guint * bound_port, GError ** error)
{
  GInetAddress *inet = g_inet_address_new_from_string (address);
  GSocketAddress *sa, *effective = NULL;
  gboolean ok;

  if (!inet) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IP address", address);
    return FALSE;
  }
  sa = g_inet_socket_address_new (inet, port);
  g_object_unref (inet);

  http->listener = g_socket_service_new ();
  ok = g_socket_listener_add_address (G_SOCKET_LISTENER (http->listener), sa,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &effective, error);
  g_object_unref (sa);
  if (!ok) {
    g_clear_object (&http->listener);
    return FALSE;
  }
  *bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (effective));
  g_object_unref (effective);
  g_signal_connect (http->listener, "incoming", G_CALLBACK (on_incoming),
      http);
  g_socket_service_start (http->listener);
  return TRUE;
}

void
apm_http_free (ApmHttp * http)
{
  apm_ws_free (http->ws);
  if (http->listener) {
    g_socket_service_stop (http->listener);
    g_socket_listener_close (G_SOCKET_LISTENER (http->listener));
    g_signal_handlers_disconnect_by_data (http->listener, http);
    g_object_unref (http->listener);
  }
  soup_server_disconnect (http->server);
  g_object_unref (http->server);
  g_free (http);
}
