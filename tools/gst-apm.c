/* gst-apm: the monitored processes on this host, from the command line
 *
 *   gst-apm list [--json]                 the processes and their pipelines
 *   gst-apm top [--once]                  elements of all of them, by own time
 *   gst-apm sd [--output FILE] [--watch]  Prometheus file_sd_configs JSON
 *   gst-apm compare 'PIPELINE A' 'PIPELINE B' [...]
 *                                         A/B runs, element by element
 *                                         (gst-apm-compare.c)
 *
 * Every running service registers in the runtime directory (see
 * src/apm-discovery.h); the commands read it and ask each process over
 * its HTTP API, with a short timeout so that one stuck process does not
 * stall the others.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apm-discovery.h"
#include "gst-apm-compare.h"

#define REQUEST_TIMEOUT_S 2

static SoupSession *
session_new (void)
{
  return soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_S,
      "idle-timeout", REQUEST_TIMEOUT_S, NULL);
}

/* GET @url@path as JSON, or NULL (unreachable, not JSON) */
static JsonNode *
get_json (SoupSession * session, const gchar * url, const gchar * path)
{
  gchar *full = g_strconcat (url, path, NULL);
  SoupMessage *msg = soup_message_new ("GET", full);
  GBytes *body = NULL;
  JsonNode *node = NULL;

  if (msg)
    body = soup_session_send_and_read (session, msg, NULL, NULL);
  if (body && soup_message_get_status (msg) == SOUP_STATUS_OK) {
    gsize len;
    const gchar *data = g_bytes_get_data (body, &len);
    JsonParser *p = json_parser_new ();

    if (json_parser_load_from_data (p, data, len, NULL))
      node = json_node_ref (json_parser_get_root (p));
    g_object_unref (p);
  }
  if (body)
    g_bytes_unref (body);
  g_clear_object (&msg);
  g_free (full);
  return node;
}

static const gchar *
str_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && JSON_NODE_HOLDS_VALUE (n)
      && json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : "";
}

static gdouble
num_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_double (n) : NAN;
}

static JsonArray *
pipelines_of (JsonNode * doc)
{
  JsonObject *o = doc && JSON_NODE_HOLDS_OBJECT (doc) ?
      json_node_get_object (doc) : NULL;

  return o && json_object_has_member (o, "pipelines") ?
      json_object_get_array_member (o, "pipelines") : NULL;
}

/* --- list --- */

static gint
cmd_list (gint argc, gchar ** argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    {"json", 'j', 0, G_OPTION_ARG_NONE, &as_json, "Print JSON", NULL},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- the monitored processes");
  GError *error = NULL;
  JsonArray *instances;
  SoupSession *session;
  JsonBuilder *b = json_builder_new ();

  g_option_context_set_summary (ctx, "Lists the processes on this host that "
      "run the gst-apm service (GST_TRACERS=apm or apmonitor), with their "
      "URL and pipelines.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("gst-apm list: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);

  instances = apm_discovery_list (TRUE);
  session = session_new ();
  if (!as_json && json_array_get_length (instances))
    g_print ("%-8s %-16s %-28s %-20s %s\n", "PID", "PROGRAM", "URL",
        "STARTED", "PIPELINES");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "instances");
  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (instances); i++) {
    JsonObject *inst = json_array_get_object_element (instances, i);
    JsonNode *doc = get_json (session, str_member (inst, "url"),
        "/monitoring/pipelines");
    JsonArray *pipes = pipelines_of (doc);
    GString *names = g_string_new (NULL);

    GList *members = json_object_get_members (inst);

    json_builder_begin_object (b);
    for (GList * m = members; m; m = m->next) {
      /* the pipelines: asked live below, the registry's copy if that fails */
      if (strcmp (m->data, "pipelines") == 0 && doc)
        continue;
      json_builder_set_member_name (b, m->data);
      json_builder_add_value (b, json_node_copy (json_object_get_member (inst,
                  m->data)));
    }
    g_list_free (members);
    json_builder_set_member_name (b, "reachable");
    json_builder_add_boolean_value (b, doc != NULL);
    if (doc) {
      json_builder_set_member_name (b, "pipelines");
      json_builder_begin_array (b);
      for (guint p = 0; pipes && p < json_array_get_length (pipes); p++) {
        JsonObject *po = json_array_get_object_element (pipes, p);

        json_builder_add_string_value (b, str_member (po, "name"));
        g_string_append_printf (names, "%s%s (%s)", p ? ", " : "",
            str_member (po, "name"), str_member (po, "state"));
      }
      json_builder_end_array (b);
    }
    json_builder_end_object (b);
    if (!as_json)
      g_print ("%-8" G_GINT64_FORMAT " %-16.16s %-28s %-20.19s %s\n",
          json_object_get_int_member_with_default (inst, "pid", 0),
          str_member (inst, "program"), str_member (inst, "url"),
          str_member (inst, "started"), doc ? names->str : "(not answering)");
    g_string_free (names, TRUE);
    if (doc)
      json_node_unref (doc);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (as_json) {
    JsonNode *root = json_builder_get_root (b);
    gchar *text = json_to_string (root, TRUE);

    g_print ("%s\n", text);
    g_free (text);
    json_node_unref (root);
  } else if (json_array_get_length (instances) == 0) {
    gchar *dir = apm_discovery_dir ();

    g_print ("no monitored process (nothing registered in %s)\n", dir);
    g_free (dir);
  }
  g_object_unref (b);
  g_object_unref (session);
  json_array_unref (instances);
  return 0;
}

/* --- top --- */

typedef struct
{
  gint64 pid;
  gchar *pipeline, *element, *factory;
  gdouble own_s, buffers, rtf, latency_p95, queue_fill, thread_cpu;
  gint64 thread;
} Row;

static void
row_free (Row * r)
{
  g_free (r->pipeline);
  g_free (r->element);
  g_free (r->factory);
  g_free (r);
}

static gchar *
row_key (gint64 pid, const gchar * pipeline, const gchar * element)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT "\x1f%s\x1f%s", pid, pipeline,
      element);
}

/* every element of every process: key -> Row (totals at this moment) */
static GHashTable *
snapshot (SoupSession * session, JsonArray * instances)
{
  GHashTable *rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) row_free);

  for (guint i = 0; i < json_array_get_length (instances); i++) {
    JsonObject *inst = json_array_get_object_element (instances, i);
    gint64 pid = json_object_get_int_member_with_default (inst, "pid", 0);
    JsonNode *doc = get_json (session, str_member (inst, "url"),
        "/monitoring/pipelines");
    JsonArray *pipes = pipelines_of (doc);

    for (guint p = 0; pipes && p < json_array_get_length (pipes); p++) {
      JsonObject *po = json_array_get_object_element (pipes, p);
      JsonArray *els = json_object_has_member (po, "elements") ?
          json_object_get_array_member (po, "elements") : NULL;

      for (guint e = 0; els && e < json_array_get_length (els); e++) {
        JsonObject *eo = json_array_get_object_element (els, e);
        JsonObject *proc = json_object_has_member (eo, "processing") ?
            json_object_get_object_member (eo, "processing") : NULL;
        JsonObject *lat = json_object_has_member (eo, "latency") ?
            json_object_get_object_member (eo, "latency") : NULL;
        JsonObject *queue = json_object_has_member (eo, "queue") ?
            json_object_get_object_member (eo, "queue") : NULL;
        Row *r = g_new0 (Row, 1);

        r->pid = pid;
        r->pipeline = g_strdup (str_member (po, "name"));
        r->element = g_strdup (str_member (eo, "name"));
        r->factory = g_strdup (str_member (eo, "factory"));
        r->own_s = proc ? num_member (proc, "total_seconds") : 0;
        if (isnan (r->own_s))
          r->own_s = 0;
        /* what a source makes, what the others take in */
        r->buffers = num_member (eo, strcmp (str_member (eo, "kind"),
                "source") == 0 ? "buffers_out" : "buffers_in");
        r->rtf = num_member (eo, "realtime_factor");
        r->latency_p95 = num_member (lat, "p95_seconds");
        r->queue_fill = num_member (queue, "fill_percent");
        r->thread = json_object_get_int_member_with_default (eo, "thread", 0);
        r->thread_cpu = num_member (eo, "thread_cpu_seconds");
        g_hash_table_replace (rows, row_key (pid, r->pipeline, r->element), r);
      }
    }
    if (doc)
      json_node_unref (doc);
  }
  return rows;
}

static gint
by_own_time (gconstpointer a, gconstpointer b)
{
  const Row *x = *(Row * const *) a, *y = *(Row * const *) b;

  return x->own_s < y->own_s ? 1 : x->own_s > y->own_s ? -1 :
      g_strcmp0 (x->element, y->element);
}

static void
print_number (GString * out, gdouble v, gint width, gint decimals)
{
  if (isnan (v))
    g_string_append_printf (out, "%*s", width, "-");
  else
    g_string_append_printf (out, "%*.*f", width, decimals, v);
}

/* one screen: per element, what changed between two snapshots @dt apart */
static gchar *
render_top (GHashTable * before, GHashTable * after, gdouble dt,
    guint n_instances, guint max_rows)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify)
      row_free);
  GHashTableIter it;
  Row *now;
  GString *out = g_string_new (NULL);
  GDateTime *t = g_date_time_new_now_local ();
  gchar *clock = g_date_time_format (t, "%H:%M:%S");

  g_hash_table_iter_init (&it, after);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) & now)) {
    gchar *key = row_key (now->pid, now->pipeline, now->element);
    Row *prev = g_hash_table_lookup (before, key);
    Row *r = g_new0 (Row, 1);

    *r = *now;
    r->pipeline = g_strdup (now->pipeline);
    r->element = g_strdup (now->element);
    r->factory = g_strdup (now->factory);
    /* rates over the interval; an element new since then counts from 0 */
    r->own_s = (now->own_s - (prev ? prev->own_s : 0)) / dt;
    r->buffers = isnan (now->buffers) ? NAN :
        (now->buffers - (prev && !isnan (prev->buffers) ? prev->buffers : 0))
        / dt;
    /* the element's thread, busy this share of a core */
    r->thread_cpu = prev && !isnan (prev->thread_cpu) && prev->thread ==
        now->thread ? 100 * (now->thread_cpu - prev->thread_cpu) / dt : NAN;
    g_ptr_array_add (rows, r);
    g_free (key);
  }
  g_ptr_array_sort (rows, by_own_time);
  g_string_append_printf (out, "gst-apm top - %s - %u processes, %u elements"
      " (own time per second of wall time, over %.1f s)\n\n", clock,
      n_instances, rows->len, dt);
  g_string_append_printf (out, "%-8s %-14s %-22s %-14s %9s %8s %8s %10s %6s "
      "%8s %6s\n", "PID", "PIPELINE", "ELEMENT", "FACTORY", "OWN ms/s",
      "BUF/s", "RTF", "LAT p95ms", "QUEUE%", "THREAD", "THR%");
  for (guint i = 0; i < rows->len && i < max_rows; i++) {
    Row *r = rows->pdata[i];

    g_string_append_printf (out, "%-8" G_GINT64_FORMAT " %-14.14s %-22.22s "
        "%-14.14s ", r->pid, r->pipeline, r->element, r->factory);
    print_number (out, r->own_s * 1e3, 9, 3);
    g_string_append_c (out, ' ');
    print_number (out, r->buffers, 8, 0);
    g_string_append_c (out, ' ');
    print_number (out, r->rtf, 8, 2);
    g_string_append_c (out, ' ');
    print_number (out, r->latency_p95 * 1e3, 10, 2);
    g_string_append_c (out, ' ');
    print_number (out, r->queue_fill, 6, 0);
    g_string_append_printf (out, " %8" G_GINT64_FORMAT " ", r->thread);
    print_number (out, r->thread_cpu, 6, 1);
    g_string_append_c (out, '\n');
  }
  if (rows->len > max_rows)
    g_string_append_printf (out, "... %u more\n", rows->len - max_rows);
  g_ptr_array_unref (rows);
  g_free (clock);
  g_date_time_unref (t);
  return g_string_free (out, FALSE);
}

static gint
cmd_top (gint argc, gchar ** argv)
{
  gboolean once = FALSE;
  gint rows = 40;
  GOptionEntry entries[] = {
    {"once", '1', 0, G_OPTION_ARG_NONE, &once,
        "Print one screen (after one second of sampling) and exit", NULL},
    {"rows", 'n', 0, G_OPTION_ARG_INT, &rows, "Elements shown (40)", "N"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- a live view of all of them");
  GError *error = NULL;
  SoupSession *session;
  GHashTable *before;
  gint64 t_before;

  g_option_context_set_summary (ctx, "The elements of every monitored "
      "process on this host, by own time per second, with buffers per "
      "second, real-time factor, latency p95, queue fill and thread; "
      "refreshed each second.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("gst-apm top: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  session = session_new ();
  {
    JsonArray *instances = apm_discovery_list (FALSE);

    before = snapshot (session, instances);
    json_array_unref (instances);
  }
  t_before = g_get_monotonic_time ();
  while (TRUE) {
    JsonArray *instances;
    GHashTable *after;
    gint64 t_after;
    gchar *screen;

    g_usleep (G_USEC_PER_SEC);
    instances = apm_discovery_list (FALSE);
    after = snapshot (session, instances);
    t_after = g_get_monotonic_time ();
    screen = render_top (before, after, (t_after - t_before) / 1e6,
        json_array_get_length (instances), MAX (rows, 1));
    if (!once)
      g_print ("\033[H\033[2J");
    g_print ("%s", screen);
    g_free (screen);
    json_array_unref (instances);
    g_hash_table_unref (before);
    before = after;
    t_before = t_after;
    if (once)
      break;
  }
  g_hash_table_unref (before);
  g_object_unref (session);
  return 0;
}

/* --- sd --- */

/* Prometheus file_sd_configs: one target group per process, labelled with
 * its pid and program */
static gchar *
render_sd (JsonArray * instances)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (instances); i++) {
    JsonObject *inst = json_array_get_object_element (instances, i);
    const gchar *address = str_member (inst, "address");
    gint64 port = json_object_get_int_member_with_default (inst, "port", 0);
    gchar *target, *pid;

    /* a wildcard bind is reached on loopback from this host */
    if (!*address || strcmp (address, "0.0.0.0") == 0)
      address = "127.0.0.1";
    else if (strcmp (address, "::") == 0)
      address = "::1";
    target = strchr (address, ':') ?
        g_strdup_printf ("[%s]:%" G_GINT64_FORMAT, address, port) :
        g_strdup_printf ("%s:%" G_GINT64_FORMAT, address, port);
    pid = g_strdup_printf ("%" G_GINT64_FORMAT,
        json_object_get_int_member_with_default (inst, "pid", 0));
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "targets");
    json_builder_begin_array (b);
    json_builder_add_string_value (b, target);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "labels");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "pid");
    json_builder_add_string_value (b, pid);
    json_builder_set_member_name (b, "program");
    json_builder_add_string_value (b, str_member (inst, "program"));
    json_builder_end_object (b);
    json_builder_end_object (b);
    g_free (target);
    g_free (pid);
  }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, TRUE);
  json_node_unref (root);
  g_object_unref (b);
  return text;
}

static gint
cmd_sd (gint argc, gchar ** argv)
{
  gchar *output = NULL, *last = NULL;
  gboolean watch = FALSE;
  gdouble interval = 2;
  GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
        "Write to FILE (atomically) instead of stdout", "FILE"},
    {"watch", 'w', 0, G_OPTION_ARG_NONE, &watch,
        "Keep FILE up to date as processes come and go", NULL},
    {"interval", 'i', 0, G_OPTION_ARG_DOUBLE, &interval,
        "Seconds between checks with --watch (2)", "S"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- Prometheus targets");
  GError *error = NULL;
  gint status = 0;

  g_option_context_set_summary (ctx, "Prints the monitored processes as "
      "Prometheus file_sd_configs JSON (one target group per process, "
      "labels pid and program), so that one scrape job finds them all.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("gst-apm sd: %s\n", error->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (watch && !output) {
    g_printerr ("gst-apm sd: --watch needs --output FILE\n");
    return 2;
  }
  if (interval < 0.1 || interval > 3600) {
    g_printerr ("gst-apm sd: --interval must be 0.1 to 3600 seconds\n");
    return 2;
  }
  do {
    JsonArray *instances = apm_discovery_list (TRUE);
    gchar *text = render_sd (instances);

    json_array_unref (instances);
    if (!output) {
      g_print ("%s\n", text);
    } else if (g_strcmp0 (text, last) != 0) {
      /* Prometheus rereads the file on change: never let it see half */
      if (!g_file_set_contents_full (output, text, -1,
              G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error)) {
        g_printerr ("gst-apm sd: %s\n", error->message);
        g_clear_error (&error);
        status = 1;
      }
    }
    g_free (last);
    last = text;
    if (watch)
      g_usleep ((gulong) (interval * G_USEC_PER_SEC));
  } while (watch && status == 0);
  g_free (last);
  g_free (output);
  return status;
}

/* --- main --- */

static const struct
{
  const gchar *name;
  gint (*run) (gint argc, gchar ** argv);
  const gchar *what;
} commands[] = {
  {"list", cmd_list, "the monitored processes on this host"},
  {"top", cmd_top, "a live view of their elements, by own time"},
  {"sd", cmd_sd, "Prometheus file_sd_configs for all of them"},
  {"compare", gst_apm_compare_main, "A/B: pipelines run in turn, compared "
        "element by element"},
};

static void
usage (FILE * to)
{
  gchar *dir = apm_discovery_dir ();

  fprintf (to, "Usage: gst-apm COMMAND [OPTION...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (to, "  %-8s %s\n", commands[i].name, commands[i].what);
  fprintf (to, "\n'gst-apm COMMAND --help' for its options.  Processes "
      "register in %s\n(APM_RUNTIME_DIR overrides it).\n", dir);
  g_free (dir);
}

int
main (int argc, char **argv)
{
  g_set_prgname ("gst-apm");
  if (argc < 2 || strcmp (argv[1], "--help") == 0
      || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "help") == 0) {
    usage (stdout);
    return argc < 2 ? 2 : 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0) {
      gchar *prog = g_strdup_printf ("gst-apm %s", argv[1]);
      gint status;

      argv[1] = prog;
      status = commands[i].run (argc - 1, argv + 1);
      g_free (prog);
      return status;
    }
  fprintf (stderr, "gst-apm: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
