/* gst-apm tests: W3C Trace Context parsing, formatting and ids
 * (src/apm-tracecontext.h), with the vectors of the specification and of
 * its test suite (w3c/trace-context, test/test.py) */
#include <gst/check/gstcheck.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "apm-tracecontext.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"

typedef struct
{
  const gchar *text;
  guint8 flags;
} Good;

static const Good good[] = {
  /* the specification's examples */
  {"00-" TID "-" PID "-01", 0x01},
  {"00-" TID "-" PID "-00", 0x00},
  /* unknown flags are kept as read (only "sampled" is defined) */
  {"00-" TID "-" PID "-09", 0x09},
  {"00-" TID "-" PID "-ff", 0xff},
  /* a header value may have optional whitespace around it */
  {"  00-" TID "-" PID "-01\t", 0x01},
  /* a later version: parsed as 00, more fields after a '-' ignored */
  {"cc-" TID "-" PID "-01", 0x01},
  {"cc-" TID "-" PID "-01-what-the-future-will-be-like", 0x01},
  {"01-" TID "-" PID "-00-", 0x00},
};

static const gchar *const bad[] = {
  NULL, "", "0", "00", "00-",
  /* version ff is forbidden; versions are two lowercase hex digits */
  "ff-" TID "-" PID "-01",
  "0-" TID "-" PID "-01",
  "000-" TID "-" PID "-01",
  "0g-" TID "-" PID "-01",
  "CC-" TID "-" PID "-01",
  /* all-zero ids */
  "00-00000000000000000000000000000000-" PID "-01",
  "00-" TID "-0000000000000000-01",
  /* uppercase */
  "00-4BF92F3577B34DA6A3CE929D0E0E4736-" PID "-01",
  "00-" TID "-00F067AA0BA902B7-01",
  "00-" TID "-" PID "-0F",
  /* wrong lengths */
  "00-4bf92f3577b34da6a3ce929d0e0e473-" PID "-01",
  "00-4bf92f3577b34da6a3ce929d0e0e47366-" PID "-01",
  "00-" TID "-00f067aa0ba902b-01",
  "00-" TID "-00f067aa0ba902b77-01",
  "00-" TID "-" PID "-1",
  "00-" TID "-" PID "-001",
  "00-" TID "-" PID,
  /* version 00 has exactly four fields */
  "00-" TID "-" PID "-01-",
  "00-" TID "-" PID "-01-extra",
  /* a later version must still delimit its fields */
  "cc-" TID "-" PID "-01.what-the-future-will-be-like",
  "cc-4bf92f3577b34da6a3ce929d0e0e473-" PID "-01-what-the-future",
  /* wrong delimiters and characters */
  "00_" TID "_" PID "_01",
  "00-" TID "." PID "-01",
  "00-4bf92f3577b34da6a3ce929d0e0e473g-" PID "-01",
  "00-" TID "-00f067aa0ba902bz-01",
  "00-" TID "-" PID "-0x",
  /* whitespace inside */
  "00- " TID "-" PID "-01",
};

GST_START_TEST (test_parse_good)
{
  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    ApmTraceContext ctx;
    const gchar *why = "unset";

    fail_unless (apm_traceparent_parse (good[i].text, &ctx, &why),
        "'%s' refused: %s", good[i].text, why);
    fail_unless_equals_string (ctx.trace_id, TID);
    fail_unless_equals_string (ctx.span_id, PID);
    fail_unless_equals_int (ctx.flags, good[i].flags);
  }
}

GST_END_TEST;

GST_START_TEST (test_parse_bad)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    ApmTraceContext ctx;
    const gchar *why = NULL;

    fail_if (apm_traceparent_parse (bad[i], &ctx, &why), "'%s' accepted",
        bad[i]);
    fail_unless (why && *why, "no reason given for '%s'", bad[i]);
  }
}

GST_END_TEST;

/* formatting writes version 00, and what it writes parses back */
GST_START_TEST (test_format_round_trip)
{
  ApmTraceContext in, out;
  gchar *text;

  fail_unless (apm_traceparent_parse ("cc-" TID "-" PID "-01-x", &in, NULL));
  text = apm_traceparent_format (&in);
  fail_unless_equals_string (text, "00-" TID "-" PID "-01");
  fail_unless (apm_traceparent_parse (text, &out, NULL));
  fail_unless_equals_string (out.trace_id, in.trace_id);
  fail_unless_equals_string (out.span_id, in.span_id);
  fail_unless_equals_int (out.flags, in.flags);
  g_free (text);
}

GST_END_TEST;

/* random ids are valid and distinct */
GST_START_TEST (test_generated_ids)
{
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);

  for (guint i = 0; i < 5000; i++) {
    gchar trace_id[APM_TRACE_ID_HEX_LEN + 1], span_id[APM_SPAN_ID_HEX_LEN
        + 1];

    apm_trace_id_generate (trace_id);
    apm_span_id_generate (span_id);
    fail_unless (apm_trace_hex_id_is_valid (trace_id, APM_TRACE_ID_HEX_LEN),
        "bad trace id %s", trace_id);
    fail_unless (apm_trace_hex_id_is_valid (span_id, APM_SPAN_ID_HEX_LEN),
        "bad span id %s", span_id);
    fail_if (g_hash_table_contains (seen, trace_id), "trace id %s twice",
        trace_id);
    fail_if (g_hash_table_contains (seen, span_id), "span id %s twice",
        span_id);
    g_hash_table_add (seen, g_strdup (trace_id));
    g_hash_table_add (seen, g_strdup (span_id));
  }
  g_hash_table_unref (seen);
  fail_if (apm_trace_hex_id_is_valid ("0000000000000000", 16));
  fail_if (apm_trace_hex_id_is_valid ("00f067aa0ba902b", 16));
  fail_if (apm_trace_hex_id_is_valid ("00F067AA0BA902B7", 16));
}

GST_END_TEST;

/* a forked child (a pre-forking server) draws other ids than its parent */
GST_START_TEST (test_ids_differ_after_fork)
{
  gchar parent_id[APM_TRACE_ID_HEX_LEN + 1], child_id[APM_TRACE_ID_HEX_LEN
      + 1] = "";
  int fds[2];
  pid_t pid;
  int status;

  apm_trace_id_generate (parent_id);    /* the generator exists */
  fail_unless (pipe (fds) == 0);
  pid = fork ();
  fail_if (pid < 0);
  if (pid == 0) {
    gchar id[APM_TRACE_ID_HEX_LEN + 1];

    apm_trace_id_generate (id);
    _exit (write (fds[1], id, APM_TRACE_ID_HEX_LEN) == APM_TRACE_ID_HEX_LEN
        ? 0 : 1);
  }
  close (fds[1]);
  fail_unless (read (fds[0], child_id, APM_TRACE_ID_HEX_LEN) ==
      APM_TRACE_ID_HEX_LEN);
  close (fds[0]);
  fail_unless (waitpid (pid, &status, 0) == pid && WIFEXITED (status)
      && WEXITSTATUS (status) == 0);
  apm_trace_id_generate (parent_id);
  fail_if (strcmp (parent_id, child_id) == 0, "child and parent drew %s",
      child_id);
}

GST_END_TEST;

static Suite *
tracecontext_suite (void)
{
  Suite *s = suite_create ("apm_tracecontext");
  TCase *tc = tcase_create ("general");

  tcase_add_test (tc, test_parse_good);
  tcase_add_test (tc, test_parse_bad);
  tcase_add_test (tc, test_format_round_trip);
  tcase_add_test (tc, test_generated_ids);
  tcase_add_test (tc, test_ids_differ_after_fork);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (tracecontext);
