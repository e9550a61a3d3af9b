/* gst-apm: the history's section of the state file
 *
 * Little-endian binary: the tiers, then each kept series (family name,
 * label key, type, newest sample, and per tier the newest slot and its
 * points as float32).  Read back into a table: a series takes its history
 * when it appears again (its pipeline runs again after the restart).
 */
#include "apm-history-private.h"

#include <math.h>
#include <string.h>

/* --- writing --- */

static void
put_u8 (GByteArray * b, guint8 v)
{
  g_byte_array_append (b, &v, 1);
}

static void
put_u32 (GByteArray * b, guint32 v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (guint8 *) & v, 4);
}

static void
put_u64 (GByteArray * b, guint64 v)
{
  v = GUINT64_TO_LE (v);
  g_byte_array_append (b, (guint8 *) & v, 8);
}

static void
put_f64 (GByteArray * b, gdouble d)
{
  union { gdouble d; guint64 u; } x = { d };
  put_u64 (b, x.u);
}

#if G_BYTE_ORDER != G_LITTLE_ENDIAN
static void
put_f32 (GByteArray * b, gfloat f)
{
  union { gfloat f; guint32 u; } x = { f };
  put_u32 (b, x.u);
}
#endif

static void
put_str (GByteArray * b, const gchar * s)
{
  gsize len = strlen (s);

  put_u32 (b, len);
  g_byte_array_append (b, (const guint8 *) s, len);
}

/* one series: @h's rings as they are */
static void
put_history (GByteArray * b, const gchar * name, const gchar * key,
    ApmSeriesHistory * h)
{
  put_str (b, name);
  put_str (b, key);
  put_u8 (b, h->type);
  put_u8 (b, h->n_tiers);
  put_f64 (b, h->prev_value);
  put_f64 (b, h->prev_sum);
  put_u64 (b, h->last_sample_s);
  for (guint k = 0; k < h->n_tiers; k++) {
    HistoryRing *ring = &h->tiers[k];

    put_u32 (b, ring->resolution_s);
    put_u64 (b, ring->head_slot);
    put_u32 (b, ring->len);
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
    /* the file's order: the ring's two runs as they are */
    if (ring->len) {
      guint first = MIN (ring->len, ring->alloc - ring->start);

      g_byte_array_append (b, (const guint8 *) (ring->points +
              (gsize) ring->start * ring->stride),
          (gsize) first * ring->stride * sizeof (gfloat));
      g_byte_array_append (b, (const guint8 *) ring->points,
          (gsize) (ring->len - first) * ring->stride * sizeof (gfloat));
    }
#else
    for (guint i = 0; i < ring->len; i++) {
      const gfloat *p = ring->points + (gsize) ((ring->start + i) %
          ring->alloc) * ring->stride;

      for (guint j = 0; j < ring->stride; j++)
        put_f32 (b, p[j]);
    }
#endif
  }
}

static void
put_series (GByteArray * b, ApmFamily * f, ApmSeries * s, ApmSeriesHistory * h)
{
  gchar *key = apm_series_dup_key (s);

  for (guint k = 0; k < h->n_tiers; k++) {
    HistoryRing *ring = &h->tiers[k];

    /* the interval being filled, as the newest point so far: its full
     * value replaces it when the interval ends */
    if (ring->acc.slot >= 0 && ring->acc.n > 0) {
      gfloat v[4];

      history_acc_values (ring, h->type, v);
      history_ring_put (ring, ring->acc.slot, v, TRUE);
    }
  }
  put_history (b, f->name, key, h);
  g_free (key);
}

GBytes *
apm_history_save (ApmRegistry * r)
{
  GByteArray *b = g_byte_array_new ();
  ApmHistoryConf *c;
  guint n = 0, n_at;

  g_mutex_lock (&r->lock);
  c = history_conf (r);
  put_u32 (b, c->n_tiers);
  for (guint k = 0; k < c->n_tiers; k++) {
    put_u32 (b, c->tiers[k].resolution_s);
    put_u32 (b, c->tiers[k].retention_s);
  }
  n_at = b->len;
  put_u32 (b, 0);
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);

    for (guint j = 0; j < f->series->len; j++) {
      ApmSeries *s = g_ptr_array_index (f->series, j);

      if (s->extra && s->extra->history) {
        put_series (b, f, s, s->extra->history);
        n++;
      }
    }
  }
  /* histories restored whose series have not come back: kept for later */
  if (c->restored) {
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init (&it, c->restored);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      const gchar *sep = strchr (k, '\x1e');
      gchar *name = g_strndup (k, sep - (const gchar *) k);

      put_history (b, name, sep + 1, v);
      g_free (name);
      n++;
    }
  }
  g_mutex_unlock (&r->lock);
  {
    guint32 le = GUINT32_TO_LE (n);

    memcpy (b->data + n_at, &le, 4);
  }
  return g_byte_array_free_to_bytes (b);
}

/* --- reading --- */

typedef struct
{
  const guint8 *p, *end;
  gboolean bad;
} Reader;

static gboolean
need (Reader * rd, gsize n)
{
  if (rd->bad || (gsize) (rd->end - rd->p) < n) {
    rd->bad = TRUE;
    return FALSE;
  }
  return TRUE;
}

static guint8
get_u8 (Reader * rd)
{
  return need (rd, 1) ? *rd->p++ : 0;
}

static guint32
get_u32 (Reader * rd)
{
  guint32 v = 0;

  if (need (rd, 4)) {
    memcpy (&v, rd->p, 4);
    rd->p += 4;
  }
  return GUINT32_FROM_LE (v);
}

static guint64
get_u64 (Reader * rd)
{
  guint64 v = 0;

  if (need (rd, 8)) {
    memcpy (&v, rd->p, 8);
    rd->p += 8;
  }
  return GUINT64_FROM_LE (v);
}

static gdouble
get_f64 (Reader * rd)
{
  union { guint64 u; gdouble d; } x = { get_u64 (rd) };
  return x.d;
}

static gfloat
get_f32 (Reader * rd)
{
  union { guint32 u; gfloat f; } x = { get_u32 (rd) };
  return x.f;
}

static gchar *
get_str (Reader * rd)
{
  guint32 len = get_u32 (rd);
  gchar *s;

  if (len > 65536 || !need (rd, len))
    return NULL;
  s = g_strndup ((const gchar *) rd->p, len);
  rd->p += len;
  if (strlen (s) != len) {
    rd->bad = TRUE;
    g_free (s);
    return NULL;
  }
  return s;
}

/* one series' rings into @h (made for the tiers of now): rings of a
 * resolution no tier has any more are skipped */
static void
read_rings (Reader * rd, ApmSeriesHistory * h, guint n_tiers)
{
  for (guint t = 0; t < n_tiers && !rd->bad; t++) {
    guint32 res = get_u32 (rd);
    gint64 head = get_u64 (rd);
    guint32 len = get_u32 (rd);
    HistoryRing *ring = NULL;
    guint stride = history_stride (h->type, res);

    /* slots are wall seconds / resolution: from 1970 to far ahead */
    if (res < 1 || len > APM_HISTORY_MAX_POINTS || head < (gint64) len ||
        head > G_GINT64_CONSTANT (1) << 40
        || !need (rd, (gsize) len * stride * 4)) {
      rd->bad = TRUE;
      return;
    }
    for (guint k = 0; k < h->n_tiers; k++)
      if (h->tiers[k].resolution_s == res)
        ring = &h->tiers[k];
    for (guint i = 0; i < len; i++) {
      gfloat v[4];

      for (guint j = 0; j < stride; j++)
        v[j] = get_f32 (rd);
      /* the oldest fall out of a shorter ring by themselves */
      if (ring)
        history_ring_put (ring, head - (gint64) (len - 1 - i), v, TRUE);
    }
  }
}

gboolean
apm_history_restore (ApmRegistry * r, const guint8 * data, gsize len,
    guint * n_restored)
{
  Reader rd = { data, data + len, FALSE };
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) apm_history_series_free);
  GHashTable *families = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
  guint32 n_tiers, n_series;
  ApmHistoryConf *c;
  ApmHistoryConf now;
  gint64 now_wall_s = g_get_real_time () / G_USEC_PER_SEC;

  g_mutex_lock (&r->lock);
  now = *history_conf (r);
  g_mutex_unlock (&r->lock);
  now.restored = now.restored_families = NULL;
  c = &now;

  n_tiers = get_u32 (&rd);
  if (n_tiers < 1 || n_tiers > APM_HISTORY_MAX_TIERS)
    rd.bad = TRUE;
  for (guint k = 0; k < n_tiers && !rd.bad; k++) {
    get_u32 (&rd);
    get_u32 (&rd);
  }
  n_series = get_u32 (&rd);
  for (guint i = 0; i < n_series && !rd.bad; i++) {
    gchar *name = get_str (&rd);
    gchar *key = get_str (&rd);
    guint8 type = get_u8 (&rd);
    guint8 nt = get_u8 (&rd);
    ApmSeriesHistory *h;

    if (!name || !key || type > APM_METRIC_HISTOGRAM || nt != n_tiers) {
      rd.bad = TRUE;
      g_free (name);
      g_free (key);
      break;
    }
    h = history_series_new (c, type);
    h->prev_value = get_f64 (&rd);
    h->prev_sum = get_f64 (&rd);
    h->last_sample_s = get_u64 (&rd);
    read_rings (&rd, h, nt);
    /* a series gone for longer than the longest retention has nothing
     * left to show: dropped, so the file does not keep it forever; one
     * sampled more than an hour ahead of now (saved while the clock was
     * ahead) would take every new point for a step back in time and stay
     * frozen until the clock caught up: dropped too */
    if (rd.bad || g_hash_table_size (table) >= APM_HISTORY_MAX_SERIES ||
        h->last_sample_s < now_wall_s -
        (gint64) c->tiers[c->n_tiers - 1].retention_s ||
        h->last_sample_s > now_wall_s + 3600) {
      apm_history_series_free (h);
    } else {
      g_hash_table_add (families, g_strdup (name));
      g_hash_table_replace (table, g_strconcat (name, "\x1e", key, NULL), h);
    }
    g_free (name);
    g_free (key);
  }
  if (rd.bad || rd.p != rd.end) {
    g_hash_table_destroy (table);
    g_hash_table_destroy (families);
    return FALSE;
  }
  if (n_restored)
    *n_restored = g_hash_table_size (table);
  g_mutex_lock (&r->lock);
  c = history_conf (r);
  g_clear_pointer (&c->restored, g_hash_table_destroy);
  g_clear_pointer (&c->restored_families, g_hash_table_destroy);
  c->restored = table;
  c->restored_families = families;
  g_mutex_unlock (&r->lock);
  return TRUE;
}

ApmSeriesHistory *
history_adopt_restored (ApmHistoryConf * c, ApmFamily * f, ApmSeries * s)
{
  ApmSeriesHistory *h = NULL;
  gchar *key, *full;
  gpointer stolen_key = NULL, value = NULL;

  if (!c->restored)
    return NULL;
  key = apm_series_dup_key (s);
  full = g_strconcat (f->name, "\x1e", key, NULL);
  g_free (key);
  if (g_hash_table_steal_extended (c->restored, full, &stolen_key, &value)) {
    h = value;
    g_free (stolen_key);
    if (h->type != f->type || h->n_tiers != c->n_tiers) {
      apm_history_series_free (h);
      h = NULL;
    } else {
      h->primed = FALSE;        /* counters start again in a new process */
      g_clear_pointer (&h->prev_buckets, g_free);
    }
  }
  g_free (full);
  return h;
}

guint
apm_history_n_restored (ApmRegistry * r)
{
  guint n;

  g_mutex_lock (&r->lock);
  n = r->history && r->history->restored ?
      g_hash_table_size (r->history->restored) : 0;
  g_mutex_unlock (&r->lock);
  return n;
}
