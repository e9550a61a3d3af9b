/* gst-apm tests: the HTTP service's limits against hostile or broken clients
 *
 * Out of file descriptors (the accept loop must not spin), more connections
 * than the cap, slowloris (the whole request has a deadline), a 100 MB
 * POST, path traversal.  Raw sockets play the clients: libsoup's client
 * would normalize the paths and finish its requests.  The service is the
 * public API's (apm_monitor_start_server), one per process, shared by the
 * tests (no fork).
 */
#include <gst/check/gstcheck.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <apm.h>
#include "apm-http.h"
#include "apm-ws.h"
#include "apmtestutil.h"

static gchar *base_url;
static guint port;

static void
ensure_server (void)
{
  ApmMonitor *monitor;
  GError *error = NULL;
  GUri *uri;

  if (base_url)
    return;
  monitor = apm_monitor_get_default ();
  fail_unless (apm_monitor_start_server (monitor, NULL, 0, &error),
      "start_server: %s", error ? error->message : "?");
  base_url = apm_monitor_get_url (monitor);
  fail_unless (base_url != NULL);
  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL);
  port = g_uri_get_port (uri);
  g_uri_unref (uri);
  fail_unless (port > 0);
}

/* a connected client socket, or -1 with errno (EMFILE...) */
static gint
raw_connect (void)
{
  struct sockaddr_in sa = { 0 };
  gint fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  sa.sin_family = AF_INET;
  sa.sin_port = htons (port);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &sa, sizeof (sa)) != 0) {
    gint e = errno;

    close (fd);
    errno = e;
    return -1;
  }
  return fd;
}

static void
raw_send (gint fd, const gchar * text)
{
  gsize len = strlen (text);

  fail_unless (send (fd, text, len, MSG_NOSIGNAL) == (gssize) len,
      "send: %s", g_strerror (errno));
}

/* Reads until the server closes @fd or @deadline_us (monotonic); returns
 * what arrived.  @closed: whether it was closed (EOF or reset). */
static GString *
raw_read_until_closed (gint fd, gint64 deadline_us, gboolean * closed)
{
  GString *got = g_string_new (NULL);

  *closed = FALSE;
  while (g_get_monotonic_time () < deadline_us) {
    struct pollfd p = { fd, POLLIN, 0 };
    gint wait_ms = (deadline_us - g_get_monotonic_time ()) / 1000;
    gchar buf[4096];
    gssize n;

    if (poll (&p, 1, MAX (wait_ms, 1)) <= 0)
      continue;
    n = recv (fd, buf, sizeof (buf), 0);
    if (n <= 0) {
      *closed = TRUE;
      break;
    }
    g_string_append_len (got, buf, n);
  }
  return got;
}

/* The JSON error body of a raw answer (apm_test_check_error_doc()) */
static void
check_error_body (GString * answer, guint code)
{
  const gchar *body = strstr (answer->str, "\r\n\r\n");
  JsonParser *parser = json_parser_new ();

  fail_unless (body != NULL, "no body: %s", answer->str);
  fail_unless (json_parser_load_from_data (parser, body + 4, -1, NULL),
      "not JSON: %s", body + 4);
  apm_test_check_error_doc (json_parser_get_root (parser), code);
  g_object_unref (parser);
}

/* One request on a new connection: the whole answer (status line first). */
static GString *
raw_request (const gchar * request)
{
  gint fd = raw_connect ();
  gboolean closed;
  GString *answer;

  fail_unless (fd >= 0, "connect: %s", g_strerror (errno));
  raw_send (fd, request);
  answer = raw_read_until_closed (fd, g_get_monotonic_time () +
      APM_TEST_SCALED (10 * G_USEC_PER_SEC), &closed);
  fail_unless (closed, "the server kept the connection after answering "
      "(Connection: close)");
  close (fd);
  return answer;
}

/* /proc/self/task/TID/stat of the service thread, opened (to be read
 * again with pread when no descriptor can be opened any more) */
static gint
open_service_thread_stat (void)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;
  gint fd = -1;

  fail_unless (dir != NULL);
  while (fd < 0 && (tid = g_dir_read_name (dir))) {
    gchar *path = g_strdup_printf ("/proc/self/task/%s/comm", tid);
    gchar *comm = NULL;

    if (g_file_get_contents (path, &comm, NULL, NULL)
        && strcmp (g_strstrip (comm), "apm-service") == 0) {
      g_free (path);
      path = g_strdup_printf ("/proc/self/task/%s/stat", tid);
      fd = open (path, O_RDONLY | O_CLOEXEC);
    }
    g_free (comm);
    g_free (path);
  }
  g_dir_close (dir);
  fail_unless (fd >= 0, "no thread named apm-service");
  return fd;
}

/* user + system CPU time of a thread in clock ticks */
static guint64
thread_cpu_ticks (gint stat_fd)
{
  gchar buf[1024];
  gssize n = pread (stat_fd, buf, sizeof (buf) - 1, 0);
  gchar *p, **fields;
  guint64 ticks;

  fail_unless (n > 0, "read stat: %s", g_strerror (errno));
  buf[n] = '\0';
  /* after "pid (comm) ": state is field 3, utime 14, stime 15 */
  p = strrchr (buf, ')');
  fail_unless (p != NULL);
  fields = g_strsplit (p + 2, " ", 0);
  fail_unless (g_strv_length (fields) > 13);
  ticks = g_ascii_strtoull (fields[11], NULL, 10) +
      g_ascii_strtoull (fields[12], NULL, 10);
  g_strfreev (fields);
  return ticks;
}

static gboolean
health_answers (void)
{
  SoupSession *session = apm_test_session_new ();
  SoupMessage *msg = soup_message_new ("GET", base_url);
  GUri *uri = g_uri_parse_relative (soup_message_get_uri (msg), "/health",
      G_URI_FLAGS_NONE, NULL);
  GBytes *body;
  gboolean ok;

  soup_message_set_uri (msg, uri);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  ok = body && soup_message_get_status (msg) == 200;
  g_clear_pointer (&body, g_bytes_unref);
  g_uri_unref (uri);
  g_object_unref (msg);
  g_object_unref (session);
  return ok;
}

/* polls /health until it answers 200 */
static void
wait_health_answers (const gchar * why)
{
  gint64 deadline = g_get_monotonic_time () +
      APM_TEST_SCALED (15 * G_USEC_PER_SEC);

  while (!health_answers ()) {
    fail_unless (g_get_monotonic_time () < deadline, "/health does not "
        "answer again %s", why);
    g_usleep (100 * 1000);
  }
}

static guint
count_log_lines (const gchar * component, const gchar * needle)
{
  SoupSession *session = apm_test_session_new ();
  gchar *path = g_strdup_printf ("/monitoring/logs?component=%s", component);
  JsonNode *root = apm_test_http_json (session, "GET", base_url, path, 200);
  JsonArray *logs = json_object_get_array_member (json_node_get_object (root),
      "logs");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (logs); i++) {
    JsonObject *line = json_array_get_object_element (logs, i);

    if (strstr (json_object_get_string_member (line, "message"), needle))
      n++;
  }
  json_node_unref (root);
  g_free (path);
  g_object_unref (session);
  return n;
}

/* At the fd limit accept() fails at once for as long as connections wait:
 * the service must pause, not spin, warn once, and serve again after. */
GST_START_TEST (test_fd_exhaustion_does_not_spin)
{
  struct rlimit old, low;
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (gint));
  gint stat_fd, fd;
  guint64 ticks_before, ticks_after;
  gint64 window_start, window_us;
  gdouble cpu_share;
  glong hz = sysconf (_SC_CLK_TCK);

  ensure_server ();
  fail_unless (health_answers ());
  stat_fd = open_service_thread_stat ();

  fail_unless (getrlimit (RLIMIT_NOFILE, &old) == 0);
  low = old;
  low.rlim_cur = apm_test_count_fds () + 60;
  fail_unless (low.rlim_cur <= old.rlim_max);
  fail_unless (setrlimit (RLIMIT_NOFILE, &low) == 0);

  /* clients (and the server's ends of them) until no fd is left: the
   * connections still in the backlog then fail to be accepted */
  while ((fd = raw_connect ()) >= 0)
    g_array_append_val (fds, fd);
  fail_unless (errno == EMFILE, "connect failed with %s, not EMFILE",
      g_strerror (errno));
  /* a few more, queued in the backlog, whose accept() keeps failing */
  GST_INFO ("%u connections held at the fd limit %u", fds->len,
      (guint) low.rlim_cur);

  /* let the service reach the failing accept, then measure its thread */
  g_usleep (300 * 1000);
  ticks_before = thread_cpu_ticks (stat_fd);
  window_start = g_get_monotonic_time ();
  g_usleep (1500 * 1000);
  ticks_after = thread_cpu_ticks (stat_fd);
  window_us = g_get_monotonic_time () - window_start;
  cpu_share = (ticks_after - ticks_before) / (gdouble) hz /
      (window_us / 1e6);

  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, gint, i));
  g_array_free (fds, TRUE);
  fail_unless (setrlimit (RLIMIT_NOFILE, &old) == 0);
  close (stat_fd);

  GST_INFO ("service thread CPU at the fd limit: %.0f %%", cpu_share * 100);
  fail_unless (cpu_share < 0.25, "the service thread used %.0f %% of a CPU "
      "while out of file descriptors: the accept loop spins",
      cpu_share * 100);
  wait_health_answers ("after the held connections closed");
  /* the failure was seen, and reported once, not per attempt */
  {
    guint n = count_log_lines ("http", "cannot accept connections");

    fail_unless (n >= 1, "no warning about the failing accept");
    fail_unless (n <= 2, "%u warnings in 2 s: not rate-limited", n);
  }
}

GST_END_TEST;

/* Connections beyond the cap are answered 503 and closed at once; those
 * under it stay served. */
GST_START_TEST (test_connection_cap)
{
  const guint cap = APM_HTTP_MAX_CONNECTIONS + APM_WS_MAX_CLIENTS;
  const guint extra = 20;
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (struct pollfd));
  struct pollfd *pfd;
  struct rlimit lim;
  guint refused = 0, with_503 = 0, kept = 0;
  gint64 t0, settled;

  ensure_server ();
  /* both ends of each connection are in this process */
  fail_unless (getrlimit (RLIMIT_NOFILE, &lim) == 0);
  if (lim.rlim_cur < 2 * (cap + extra) + 200) {
    if (lim.rlim_max < 2 * (cap + extra) + 200) {
      GST_WARNING ("RLIMIT_NOFILE hard limit %lu too low: skipped",
          (gulong) lim.rlim_max);
      g_array_free (fds, TRUE);
      return;
    }
    lim.rlim_cur = lim.rlim_max;
    fail_unless (setrlimit (RLIMIT_NOFILE, &lim) == 0);
  }

  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < cap + extra; i++) {
    struct pollfd p = { raw_connect (), POLLIN, 0 };

    fail_unless (p.fd >= 0, "connect %u: %s", i, g_strerror (errno));
    g_array_append_val (fds, p);
  }
  /* refused ones are closed at once, the others are held: watch them all
   * until the refusals stop coming, well before the request deadline
   * closes the held ones too */
  pfd = (struct pollfd *) fds->data;
  settled = g_get_monotonic_time () + G_USEC_PER_SEC;
  while (g_get_monotonic_time () < settled && g_get_monotonic_time () - t0 <
      (APM_HTTP_REQUEST_DEADLINE_S - 2) * G_USEC_PER_SEC) {
    if (poll (pfd, fds->len, 100) <= 0)
      continue;
    for (guint i = 0; i < fds->len; i++) {
      gchar buf[512];
      gssize n;

      if (pfd[i].fd < 0 || !pfd[i].revents)
        continue;
      n = recv (pfd[i].fd, buf, sizeof (buf) - 1, MSG_DONTWAIT);
      if (n > 0 && g_str_has_prefix (buf, "HTTP/1.1 503"))
        with_503++;
      if (n <= 0) {
        refused++;
        close (pfd[i].fd);
        pfd[i].fd = -1;
        settled = g_get_monotonic_time () + G_USEC_PER_SEC;
      }
    }
  }
  kept = fds->len - refused;
  GST_INFO ("%u connections: %u kept, %u refused (%u with a 503)",
      fds->len, kept, refused, with_503);
  /* earlier tests' connections may still be closing: a few more refused */
  fail_unless (refused >= extra, "only %u of %u connections over the cap "
      "of %u were refused", refused, fds->len, cap);
  fail_unless (refused <= extra + 20, "%u refused: the cap is below %u",
      refused, cap);
  fail_unless (with_503 > 0, "no refused connection got a 503");

  /* still a cap, not a wedge: the held ones keep their place, and the
   * service answers once they are gone */
  for (guint i = 0; i < fds->len; i++)
    if (pfd[i].fd >= 0)
      close (pfd[i].fd);
  g_array_free (fds, TRUE);
  wait_health_answers ("after the connections over the cap closed");
}

GST_END_TEST;

/* A client trickling header bytes, and one sending nothing, are closed at
 * the request deadline; meanwhile others are served. */
GST_START_TEST (test_slow_request_deadline)
{
  const gchar *request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const gdouble limit_s = APM_HTTP_REQUEST_DEADLINE_S;
  gint trickle, idle;
  gint64 t0, give_up;
  gdouble trickle_closed_s = -1, idle_closed_s = -1;
  guint sent = 0, normal = 0;

  ensure_server ();
  trickle = raw_connect ();
  idle = raw_connect ();
  fail_unless (trickle >= 0 && idle >= 0);
  t0 = g_get_monotonic_time ();
  give_up = t0 + (gint64) ((limit_s + 2 + APM_TEST_SCALED (3)) *
      G_USEC_PER_SEC);

  while (g_get_monotonic_time () < give_up
      && (trickle_closed_s < 0 || idle_closed_s < 0)) {
    gint64 tick_end = g_get_monotonic_time () + G_USEC_PER_SEC;
    gdouble now_s;

    /* one header byte a second */
    if (trickle_closed_s < 0 && request[sent]
        && send (trickle, request + sent, 1, MSG_NOSIGNAL) == 1)
      sent++;
    /* a normal request on its own connection, answered meanwhile */
    fail_unless (health_answers (), "/health not answered while a slow "
        "client trickles (%.1f s)", (g_get_monotonic_time () - t0) / 1e6);
    normal++;

    while (g_get_monotonic_time () < tick_end) {
      struct pollfd p[2] = { {trickle, POLLIN, 0}, {idle, POLLIN, 0} };
      gchar buf[256];

      if (poll (p, 2, 50) <= 0)
        continue;
      now_s = (g_get_monotonic_time () - t0) / 1e6;
      if ((p[0].revents & (POLLIN | POLLHUP | POLLERR))
          && trickle_closed_s < 0 && recv (trickle, buf, sizeof (buf),
              MSG_DONTWAIT) <= 0)
        trickle_closed_s = now_s;
      if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && idle_closed_s < 0
          && recv (idle, buf, sizeof (buf), MSG_DONTWAIT) <= 0)
        idle_closed_s = now_s;
      if (trickle_closed_s >= 0 && idle_closed_s >= 0)
        break;
      g_usleep (20 * 1000);
    }
  }
  close (trickle);
  close (idle);
  GST_INFO ("trickle closed after %.1f s (%u bytes sent), idle after %.1f s,"
      " %u normal requests meanwhile", trickle_closed_s, sent, idle_closed_s,
      normal);
  fail_unless (trickle_closed_s >= 0, "a connection trickling a header byte "
      "a second was still open after %.0f s", (give_up - t0) / 1e6);
  fail_unless (idle_closed_s >= 0, "an idle connection was still open after "
      "%.0f s", (give_up - t0) / 1e6);
  /* closed by the deadline, not by something earlier */
  fail_unless (trickle_closed_s >= limit_s - 0.5, "trickle closed after "
      "%.1f s, before the %.0f s deadline", trickle_closed_s, limit_s);
  fail_unless (idle_closed_s >= limit_s - 0.5, "idle closed after %.1f s",
      idle_closed_s);
  fail_unless (normal >= limit_s - 1);
}

GST_END_TEST;

/* A huge body is refused from its headers: not read, not stored. */
GST_START_TEST (test_huge_post_refused_unread)
{
  const gsize total = 100 * 1024 * 1024;
  gchar *chunk = g_malloc0 (64 * 1024);
  guint64 rss_before, rss_after;
  gsize sent = 0;
  gboolean closed = FALSE;
  GString *got;
  gint fd;

  ensure_server ();
  rss_before = apm_test_self_rss ();
  fd = raw_connect ();
  fail_unless (fd >= 0);
  raw_send (fd, "POST /monitoring/alerts/none/resolve HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 104857600\r\n\r\n");
  /* push the body until the server stops taking it */
  fcntl (fd, F_SETFL, O_NONBLOCK);
  {
    gint64 deadline = g_get_monotonic_time () +
        APM_TEST_SCALED (10 * G_USEC_PER_SEC);

    while (sent < total && g_get_monotonic_time () < deadline) {
      struct pollfd p = { fd, POLLOUT, 0 };
      gssize n;

      if (poll (&p, 1, 100) <= 0)
        break;                  /* nothing taken for 100 ms: not reading */
      n = send (fd, chunk, MIN (64 * 1024, total - sent), MSG_NOSIGNAL);
      if (n <= 0)
        break;                  /* reset or closed */
      sent += n;
    }
  }
  got = raw_read_until_closed (fd, g_get_monotonic_time () +
      APM_TEST_SCALED (5 * G_USEC_PER_SEC), &closed);
  close (fd);
  rss_after = apm_test_self_rss ();
  GST_INFO ("sent %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes; RSS %"
      G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT "; answer: %.40s", sent,
      total, rss_before, rss_after, got->str);
  fail_unless (sent < 16 * 1024 * 1024, "the server took %" G_GSIZE_FORMAT
      " bytes of an oversized body", sent);
  fail_unless (closed, "the connection stayed open");
  /* the 413 may be lost to the reset that unread data causes on close */
  fail_unless (got->len == 0 || g_str_has_prefix (got->str, "HTTP/1.1 413"),
      "answer: %.60s", got->str);
  fail_unless (rss_after < rss_before + 8 * 1024 * 1024, "RSS grew by %"
      G_GUINT64_FORMAT " kB", (rss_after - rss_before) / 1024);
  g_string_free (got, TRUE);

  /* with no body sent at all, the answer is a clear 413 */
  got = raw_request ("POST /monitoring/alerts/none/resolve HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nContent-Length: 104857600\r\n\r\n");
  fail_unless (g_str_has_prefix (got->str, "HTTP/1.1 413"), "answer: %.60s",
      got->str);
  check_error_body (got, 413);
  g_string_free (got, TRUE);
  /* chunked: no length to check beforehand, refused as well */
  got = raw_request ("POST /monitoring/alerts/none/resolve HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  fail_unless (g_str_has_prefix (got->str, "HTTP/1.1 413"), "answer: %.60s",
      got->str);
  g_string_free (got, TRUE);
  g_free (chunk);
}

GST_END_TEST;

/* Headers that never end are cut off (libsoup's own header limit) long
 * before the request deadline, and take no memory. */
GST_START_TEST (test_huge_headers_refused)
{
  const gsize total = 64 * 1024 * 1024;
  gchar *chunk = g_malloc (64 * 1024);
  guint64 rss_before, rss_after;
  gint64 deadline;
  gsize sent = 0;
  gint fd;

  ensure_server ();
  memset (chunk, 'a', 64 * 1024);
  rss_before = apm_test_self_rss ();
  fd = raw_connect ();
  fail_unless (fd >= 0);
  raw_send (fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
  fcntl (fd, F_SETFL, O_NONBLOCK);
  deadline = g_get_monotonic_time () + APM_TEST_SCALED (5 * G_USEC_PER_SEC);
  while (sent < total && g_get_monotonic_time () < deadline) {
    struct pollfd p = { fd, POLLOUT, 0 };
    gssize n;

    if (poll (&p, 1, 100) <= 0)
      continue;
    n = send (fd, chunk, 64 * 1024, MSG_NOSIGNAL);
    if (n <= 0)
      break;                    /* reset: refused */
    sent += n;
  }
  close (fd);
  rss_after = apm_test_self_rss ();
  GST_INFO ("sent %" G_GSIZE_FORMAT " bytes of one header", sent);
  fail_unless (sent < 16 * 1024 * 1024, "the server took %" G_GSIZE_FORMAT
      " bytes of one header line", sent);
  fail_unless (rss_after < rss_before + 8 * 1024 * 1024, "RSS grew by %"
      G_GUINT64_FORMAT " kB", (rss_after - rss_before) / 1024);
  wait_health_answers ("after a huge header");
  g_free (chunk);
}

GST_END_TEST;

/* Only embedded resources: no path reaches the file system. */
GST_START_TEST (test_path_traversal)
{
  static const gchar *paths[] = {
    "/../../etc/passwd",
    "/monitoring/dashboard/../../etc/passwd",
    "/dashboard/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/dashboard/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/dashboard/..%2f..%2f..%2fetc%2fpasswd",
    "//etc/passwd",
    "/etc/passwd",
  };

  ensure_server ();
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++) {
    gchar *request = g_strdup_printf ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Connection: close\r\n\r\n", paths[i]);
    GString *got = raw_request (request);

    /* 404, or 400 for a path libsoup will not parse */
    fail_unless (g_str_has_prefix (got->str, "HTTP/1.1 404")
        || g_str_has_prefix (got->str, "HTTP/1.1 400"), "GET %s: %.60s",
        paths[i], got->str);
    fail_if (strstr (got->str, "root:") != NULL, "GET %s served a file",
        paths[i]);
    g_string_free (got, TRUE);
    g_free (request);
  }
}

GST_END_TEST;

static Suite *
http_limits_suite (void)
{
  Suite *s = suite_create ("apm_http_limits");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 0);
  tcase_add_test (tc, test_path_traversal);
  tcase_add_test (tc, test_huge_post_refused_unread);
  tcase_add_test (tc, test_huge_headers_refused);
  tcase_add_test (tc, test_slow_request_deadline);
  tcase_add_test (tc, test_connection_cap);
  tcase_add_test (tc, test_fd_exhaustion_does_not_spin);
  return s;
}

int
main (int argc, char **argv)
{
  apm_test_prepare_env (NULL);
  g_setenv ("CK_FORK", "no", TRUE);
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (http_limits_suite (), "apm_http_limits",
      __FILE__);
}
