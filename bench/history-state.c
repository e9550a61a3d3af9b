/* The history's and the state file's costs at scale: 2,000 gauges sampled
 * for 8 days of minutes (every ring as full as the memory budget allows),
 * then one sampling round, the state encoded, written, read back.
 *
 *   ninja -C build && gcc -O2 -o build/history-state bench/history-state.c \
 *     -Isrc -Ibuild/src $(pkg-config --cflags --libs json-glib-1.0) \
 *     -Lbuild/src -lgstapm-1.0 -Wl,-rpath,$PWD/build/src
 *   build/history-state /tmp/apm-state.bin
 */
#include "apm-history.h"
#include "apm-state.h"

#include <stdio.h>

#define N_SERIES 2000
#define US ((gint64) G_USEC_PER_SEC)

static gdouble
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1e3;
}

int
main (int argc, char **argv)
{
  static const gchar *const labels[] = { "i", NULL };
  ApmRegistry *r = apm_registry_new (0), *back = apm_registry_new (0);
  ApmFamily *f = apm_registry_family (r, "g", APM_METRIC_GAUGE, "bench",
      labels, NULL, 0);
  ApmSeries *s[N_SERIES];
  gint64 t0 = 1800000000 * US, t, start;
  const gchar *path = argc > 1 ? argv[1] : "/tmp/apm-state.bin";
  GBytes *bytes;
  JsonNode *tiers;
  gchar *text;

  for (gint i = 0; i < N_SERIES; i++) {
    gchar v[16];
    const gchar *values[] = { v, NULL };

    g_snprintf (v, sizeof v, "%d", i);
    s[i] = apm_family_series (f, values);
  }
  apm_history_keep (r, "g");
  start = g_get_monotonic_time ();
  for (t = 0; t < 8 * 86400; t += 60) {
    for (gint i = 0; i < N_SERIES; i++)
      apm_gauge_set (s[i], t + i);
    apm_history_sample (r, t0 + t * US);
  }
  printf ("filling: %.1f s\n", ms_since (start) / 1e3);
  tiers = apm_history_tiers_json (r);
  text = json_to_string (tiers, FALSE);
  printf ("tiers: %s\n", text);
  start = g_get_monotonic_time ();
  apm_history_sample (r, t0 + t * US);
  printf ("one sampling round of %d series: %.2f ms\n", N_SERIES,
      ms_since (start));
  start = g_get_monotonic_time ();
  g_bytes_unref (apm_history_save (r));
  printf ("history section (service thread): %.1f ms\n", ms_since (start));
  start = g_get_monotonic_time ();
  bytes = apm_state_encode (r, NULL, NULL);
  printf ("whole state with its checksum: %.1f ms, %" G_GSIZE_FORMAT
      " bytes\n", ms_since (start), g_bytes_get_size (bytes));
  start = g_get_monotonic_time ();
  if (!apm_state_write_file (path, bytes, NULL))
    return 1;
  printf ("write, fsync, rename: %.1f ms\n", ms_since (start));
  start = g_get_monotonic_time ();
  if (!apm_state_decode (g_bytes_get_data (bytes, NULL),
          g_bytes_get_size (bytes), back, NULL, NULL, NULL))
    return 1;
  printf ("read back: %.1f ms, %u series\n", ms_since (start),
      apm_history_n_restored (back));
  g_free (text);
  json_node_unref (tiers);
  g_bytes_unref (bytes);
  return 0;
}
