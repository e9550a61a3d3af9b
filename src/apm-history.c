/* gst-apm: tiered history of the series somebody looks at: tiers,
 * sampling and roll-up, reading back (JSON is in apm-history-json.c, the
 * state file's section in apm-history-save.c) */
#include "apm-history-private.h"

#include <math.h>
#include <string.h>

const ApmHistoryTier apm_history_default_tiers[] = {
  {1, 15 * 60}, {10, 6 * 3600}, {60, 7 * 86400}
};

const guint apm_history_n_default_tiers =
G_N_ELEMENTS (apm_history_default_tiers);

gboolean
apm_history_tiers_check (const ApmHistoryTier * t, guint n, GError ** error)
{
  if (n < 1 || n > APM_HISTORY_MAX_TIERS) {
    g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
        "history needs 1 to %d tiers", APM_HISTORY_MAX_TIERS);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    const gchar *problem = NULL;

    if (t[i].resolution_s < 1)
      problem = "resolution must be at least 1 s";
    else if (i && (t[i].resolution_s <= t[i - 1].resolution_s
            || t[i].resolution_s % t[i - 1].resolution_s))
      problem = "resolution must be a multiple of the previous tier's, "
          "and larger";
    else if (t[i].retention_s < t[i].resolution_s)
      problem = "retention must be at least the resolution";
    else if (i && t[i].retention_s <= t[i - 1].retention_s)
      problem = "retention must be longer than the previous tier's";
    else if (t[i].retention_s / t[i].resolution_s > APM_HISTORY_MAX_POINTS)
      problem = "retention / resolution must be at most "
          G_STRINGIFY (APM_HISTORY_MAX_POINTS) " points";
    if (problem) {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
          "history tier %u (resolution %u s, retention %u s): %s", i,
          t[i].resolution_s, t[i].retention_s, problem);
      return FALSE;
    }
  }
  return TRUE;
}

/* with the registry lock */
ApmHistoryConf *
history_conf (ApmRegistry * r)
{
  if (!r->history) {
    r->history = g_new0 (ApmHistoryConf, 1);
    r->history->n_tiers = apm_history_n_default_tiers;
    r->history->max_bytes = APM_HISTORY_MAX_BYTES;
    memcpy (r->history->tiers, apm_history_default_tiers,
        sizeof apm_history_default_tiers);
  }
  return r->history;
}

guint
history_stride (ApmMetricType type, guint resolution_s)
{
  switch (type) {
    case APM_METRIC_COUNTER:
      return 1;                 /* increase */
    case APM_METRIC_GAUGE:
      return resolution_s <= 1 ? 1 : 4;   /* value; min, max, avg, last */
    default:
      /* count and sum increase, p95; or p95 mean and max */
      return resolution_s <= 1 ? 3 : 4;
  }
}

static void
acc_reset (HistoryAcc * a)
{
  memset (a, 0, sizeof *a);
  a->slot = -1;
  a->min = INFINITY;
  a->max = -INFINITY;
  a->p95_min = INFINITY;
  a->p95_max = -INFINITY;
}

ApmSeriesHistory *
history_series_new (ApmHistoryConf * c, ApmMetricType type)
{
  ApmSeriesHistory *h = g_malloc0 (sizeof (ApmSeriesHistory) +
      c->n_tiers * sizeof (HistoryRing));

  h->type = type;
  h->n_tiers = c->n_tiers;
  for (guint i = 0; i < c->n_tiers; i++) {
    h->tiers[i].resolution_s = c->tiers[i].resolution_s;
    h->tiers[i].capacity = MAX (1, c->tiers[i].retention_s /
        c->tiers[i].resolution_s);
    h->tiers[i].stride = history_stride (type, c->tiers[i].resolution_s);
    h->tiers[i].head_slot = -1;
    acc_reset (&h->tiers[i].acc);
  }
  return h;
}

void
apm_history_series_free (ApmSeriesHistory * h)
{
  if (!h)
    return;
  for (guint i = 0; i < h->n_tiers; i++)
    g_free (h->tiers[i].points);
  g_free (h->prev_buckets);
  g_free (h);
}

void
apm_history_registry_free (ApmHistoryConf * c)
{
  if (!c)
    return;
  g_clear_pointer (&c->restored, g_hash_table_destroy);
  g_clear_pointer (&c->restored_families, g_hash_table_destroy);
  g_free (c);
}

/* --- rings --- */

gsize
history_ring_bytes (const HistoryRing * ring)
{
  return (gsize) ring->alloc * ring->stride * sizeof (gfloat);
}

static gfloat *
ring_slot (HistoryRing * ring, guint i)
{
  return ring->points + (gsize) ((ring->start + i) % ring->alloc) *
      ring->stride;
}

/* appends one point (grows the ring, linear until it is full size, then
 * overwrites the oldest) */
static gfloat *
ring_push (HistoryRing * ring, gboolean may_grow)
{
  gfloat *p;

  /* over the memory budget, a ring wraps at the size it has: it keeps a
   * shorter past instead of taking more */
  if (ring->len == ring->alloc && ring->alloc < ring->capacity &&
      ring->start == 0 && (may_grow || ring->alloc == 0)) {
    /* never wrapped yet (start is 0): a plain realloc keeps the order */
    ring->alloc = MIN (ring->capacity, MAX (16, ring->alloc * 2));
    ring->points = g_renew (gfloat, ring->points,
        (gsize) ring->alloc * ring->stride);
  }
  if (ring->len < ring->alloc) {
    p = ring_slot (ring, ring->len);
    ring->len++;
  } else {
    p = ring_slot (ring, 0);
    ring->start = (ring->start + 1) % ring->alloc;
  }
  return p;
}

/* a finished point for @slot; slots skipped since the newest are gaps */
void
history_ring_put (HistoryRing * ring, gint64 slot, const gfloat * values,
    gboolean may_grow)
{
  gfloat *p;

  if (ring->len && slot <= ring->head_slot) {
    /* the clock went back: the newest point stands for it */
    p = ring_slot (ring, ring->len - 1);
  } else {
    gint64 gap = ring->len ? slot - ring->head_slot - 1 : 0;

    if (gap >= ring->capacity) {
      ring->len = 0;
      ring->start = 0;
      gap = 0;
    }
    for (gint64 i = 0; i < gap; i++) {
      p = ring_push (ring, may_grow);
      for (guint k = 0; k < ring->stride; k++)
        p[k] = NAN;
    }
    p = ring_push (ring, may_grow);
    ring->head_slot = slot;
  }
  memcpy (p, values, ring->stride * sizeof (gfloat));
}

/* the accumulated interval as a point */
void
history_acc_values (const HistoryRing * ring, ApmMetricType type,
    gfloat * out)
{
  const HistoryAcc *a = &ring->acc;
  gdouble p95 = a->p95_w > 0 ? a->p95_wsum / a->p95_w : NAN;

  switch (type) {
    case APM_METRIC_COUNTER:
      out[0] = a->inc;
      break;
    case APM_METRIC_GAUGE:
      if (ring->stride == 1) {
        out[0] = a->n ? a->last : NAN;
      } else {
        out[0] = a->n ? a->min : NAN;
        out[1] = a->n ? a->max : NAN;
        out[2] = a->n ? a->sum / a->n : NAN;
        out[3] = a->n ? a->last : NAN;
      }
      break;
    default:
      out[0] = a->inc;
      out[1] = a->inc_sum;
      out[2] = p95;
      if (ring->stride == 4)
        out[3] = a->p95_w > 0 ? a->p95_max : NAN;
      break;
  }
}

/* one raw sample into every tier's interval, closing the intervals it
 * leaves */
static void
history_add_sample (ApmSeriesHistory * h, gboolean may_grow, gint64 t_s,
    gdouble value, gdouble inc, gdouble inc_sum, gdouble p95)
{
  for (guint i = 0; i < h->n_tiers; i++) {
    HistoryRing *ring = &h->tiers[i];
    HistoryAcc *a = &ring->acc;
    gint64 slot = t_s / ring->resolution_s;

    if (a->slot >= 0 && slot != a->slot) {
      gfloat v[4];

      history_acc_values (ring, h->type, v);
      history_ring_put (ring, a->slot, v, may_grow);
      acc_reset (a);
    }
    a->slot = slot;
    a->n++;
    a->last = value;
    a->sum += value;
    a->min = MIN (a->min, value);
    a->max = MAX (a->max, value);
    if (isfinite (inc))
      a->inc += inc;
    if (isfinite (inc_sum))
      a->inc_sum += inc_sum;
    if (isfinite (p95) && inc > 0) {
      a->p95_wsum += p95 * inc;
      a->p95_w += inc;
      a->p95_min = MIN (a->p95_min, p95);
      a->p95_max = MAX (a->p95_max, p95);
    }
  }
}

/* the p95 of what the histogram observed since the previous sample */
static gdouble
interval_p95 (ApmSeriesHistory * h, const ApmSeries * s, guint64 * now)
{
  guint nb = s->n_bounds + 1;
  guint64 diff[nb];
  ApmSeries tmp;
  gboolean any = FALSE;

  for (guint i = 0; i < nb; i++) {
    diff[i] = h->prev_buckets && now[i] >= h->prev_buckets[i] ?
        now[i] - h->prev_buckets[i] : 0;
    any |= diff[i] > 0;
  }
  if (!h->prev_buckets || !any)
    return NAN;
  tmp = *s;
  tmp.buckets = diff;
  return apm_series_quantile (&tmp, 0.95);
}

static void
sample_series (ApmHistoryConf * c, ApmFamily * f, ApmSeries * s, gint64 now)
{
  struct _ApmSeriesExtra *x = apm_series_get_extra (s);
  ApmSeriesHistory *h;
  gint64 t_s = now / G_USEC_PER_SEC;

  if (!x || !x->history) {
    if (c->n_series >= APM_HISTORY_MAX_SERIES || c->over_budget)
      return;
    x = apm_series_extra_locked (s);
    x->history = history_adopt_restored (c, f, s);
    if (!x->history)
      x->history = history_series_new (c, f->type);
  }
  h = x->history;
  c->n_series++;
  if (f->type == APM_METRIC_HISTOGRAM) {
    guint nb = s->n_bounds + 1;
    guint64 now_buckets[nb];
    gdouble count = apm_series_count (s), sum = apm_series_sum (s);
    gdouble p95;

    for (guint i = 0; i < nb; i++)
      now_buckets[i] = __atomic_load_n (&s->buckets[i], __ATOMIC_RELAXED);
    p95 = interval_p95 (h, s, now_buckets);
    history_add_sample (h, !c->over_budget, t_s, p95,
        h->primed ? count - h->prev_value : 0,
        h->primed ? sum - h->prev_sum : 0, p95);
    if (!h->prev_buckets)
      h->prev_buckets = g_new (guint64, nb);
    memcpy (h->prev_buckets, now_buckets, sizeof now_buckets);
    h->prev_value = count;
    h->prev_sum = sum;
  } else {
    gdouble v = apm_series_value (s);

    history_add_sample (h, !c->over_budget, t_s, v,
        f->type == APM_METRIC_COUNTER && h->primed ? v - h->prev_value : 0, 0,
        NAN);
    h->prev_value = v;
  }
  h->primed = TRUE;
  h->last_sample_s = t_s;
  for (guint k = 0; k < h->n_tiers; k++)
    c->bytes += history_ring_bytes (&h->tiers[k]);
}

gboolean
apm_history_keep (ApmRegistry * r, const gchar * name)
{
  ApmFamily *f;

  g_mutex_lock (&r->lock);
  f = g_hash_table_lookup (r->families, name);
  if (f)
    f->keep_history = TRUE;
  g_mutex_unlock (&r->lock);
  return f != NULL;
}

void
apm_history_sample (ApmRegistry * r, gint64 now_us)
{
  ApmHistoryConf *c;

  g_mutex_lock (&r->lock);
  c = history_conf (r);
  /* last second's total decides: no new history, no ring growth */
  c->over_budget = c->bytes >= c->max_bytes;
  c->n_series = 0;
  c->bytes = 0;
  c->now_us = now_us;
  for (guint i = 0; i < r->order->len; i++) {
    ApmFamily *f = g_ptr_array_index (r->order, i);

    if (!f->keep_history && c->restored_families &&
        g_hash_table_contains (c->restored_families, f->name))
      f->keep_history = TRUE;
    if (!f->keep_history)
      continue;
    for (guint j = 0; j < f->series->len; j++) {
      ApmSeries *s = g_ptr_array_index (f->series, j);

      if (s->retired_at == 0 || (s->extra && s->extra->history))
        sample_series (c, f, s, now_us);
    }
  }
  g_mutex_unlock (&r->lock);
}

/* --- tiers --- */

static gboolean
same_tiers (ApmHistoryConf * c, const ApmHistoryTier * t, guint n)
{
  return c->n_tiers == n && memcmp (c->tiers, t, n * sizeof *t) == 0;
}

void
apm_history_set_tiers (ApmRegistry * r, const ApmHistoryTier * t, guint n)
{
  ApmHistoryConf *c;

  g_return_if_fail (n >= 1 && n <= APM_HISTORY_MAX_TIERS);
  g_mutex_lock (&r->lock);
  c = history_conf (r);
  if (!same_tiers (c, t, n)) {
    /* rings of other shapes: start afresh */
    for (guint i = 0; i < r->order->len; i++) {
      ApmFamily *f = g_ptr_array_index (r->order, i);

      for (guint j = 0; j < f->series->len; j++) {
        ApmSeries *s = g_ptr_array_index (f->series, j);

        if (s->extra)
          g_clear_pointer (&s->extra->history, apm_history_series_free);
      }
    }
    c->n_tiers = n;
    memcpy (c->tiers, t, n * sizeof *t);
  }
  g_mutex_unlock (&r->lock);
}

void
apm_history_set_max_bytes (ApmRegistry * r, gsize max_bytes)
{
  g_mutex_lock (&r->lock);
  history_conf (r)->max_bytes = max_bytes ? max_bytes : APM_HISTORY_MAX_BYTES;
  g_mutex_unlock (&r->lock);
}

gsize
apm_history_get_max_bytes (ApmRegistry * r)
{
  gsize v;

  g_mutex_lock (&r->lock);
  v = history_conf (r)->max_bytes;
  g_mutex_unlock (&r->lock);
  return v;
}

guint
apm_history_get_tiers (ApmRegistry * r, ApmHistoryTier * out)
{
  guint n;

  g_mutex_lock (&r->lock);
  n = history_conf (r)->n_tiers;
  memcpy (out, r->history->tiers, n * sizeof *out);
  g_mutex_unlock (&r->lock);
  return n;
}

guint
history_pick_tier (ApmHistoryConf * c, gint64 span_us, gint64 step_us)
{
  gint best = -1;

  for (guint i = 0; i < c->n_tiers; i++) {
    gint64 res_us = c->tiers[i].resolution_s * G_USEC_PER_SEC;

    if ((gint64) c->tiers[i].retention_s * G_USEC_PER_SEC < span_us)
      continue;
    if (best < 0 || (step_us > 0 && res_us <= step_us))
      best = i;
  }
  return best < 0 ? c->n_tiers - 1 : (guint) best;
}

guint
apm_history_pick_tier (ApmRegistry * r, gint64 span_us, gint64 step_us)
{
  guint tier;

  g_mutex_lock (&r->lock);
  tier = history_pick_tier (history_conf (r), span_us, step_us);
  g_mutex_unlock (&r->lock);
  return tier;
}

/* --- reading back --- */

static void
decode (ApmMetricType type, guint stride, const gfloat * p, ApmPoint * out)
{
  out->min = out->max = out->avg = NAN;
  out->delta = 0;
  switch (type) {
    case APM_METRIC_COUNTER:
      out->delta = p[0];
      break;
    case APM_METRIC_GAUGE:
      if (stride == 1) {
        out->v = out->min = out->max = out->avg = p[0];
      } else {
        out->min = p[0];
        out->max = p[1];
        out->avg = p[2];
        out->v = p[3];
      }
      break;
    default:
      out->delta = p[0];
      out->sum = p[1];          /* the increase, for now */
      out->avg = out->min = p[2];
      out->max = stride == 4 ? p[3] : p[2];
      break;
  }
}

ApmPoint *
apm_history_points_tier (const ApmSeries * s, guint tier, gint64 since_us,
    guint * n_points)
{
  const struct _ApmSeriesExtra *x = apm_series_get_extra (s);
  ApmSeriesHistory *h = x ? x->history : NULL;
  HistoryRing *ring;
  ApmPoint *out;
  gdouble cum, cum_sum;
  gboolean partial;
  guint total, n = 0;
  gint64 res_us;

  if (!h || tier >= h->n_tiers) {
    *n_points = 0;
    return g_new (ApmPoint, 1);
  }
  ring = &h->tiers[tier];
  res_us = (gint64) ring->resolution_s * G_USEC_PER_SEC;
  /* (a saved state flushed it already: then it is the newest point) */
  partial = ring->acc.slot >= 0 && ring->acc.n > 0 &&
      (ring->len == 0 || ring->acc.slot > ring->head_slot);
  total = ring->len + (partial ? 1 : 0);
  out = g_new (ApmPoint, MAX (total, 1));
  for (guint i = 0; i < ring->len; i++) {
    out[i].t_us = (ring->head_slot - (ring->len - 1 - i)) * res_us;
    decode (h->type, ring->stride, ring_slot (ring, i), &out[i]);
  }
  if (partial) {
    gfloat v[4];

    history_acc_values (ring, h->type, v);
    out[ring->len].t_us = ring->acc.slot * res_us;
    decode (h->type, ring->stride, v, &out[ring->len]);
  }
  /* running totals, backwards from the newest sample's */
  cum = h->prev_value;
  cum_sum = h->prev_sum;
  for (guint i = total; i-- > 0;) {
    if (h->type == APM_METRIC_GAUGE)
      continue;
    {
      gdouble inc = isfinite (out[i].delta) ? out[i].delta : 0;
      gdouble inc_sum = h->type == APM_METRIC_HISTOGRAM &&
          isfinite (out[i].sum) ? out[i].sum : 0;

      out[i].v = cum;
      if (h->type == APM_METRIC_HISTOGRAM)
        out[i].sum = cum_sum;
      out[i].delta = isfinite (out[i].delta) ? out[i].delta : NAN;
      cum -= inc;
      cum_sum -= inc_sum;
    }
  }
  /* gaps out, and what is before @since_us */
  for (guint i = 0; i < total; i++) {
    gboolean gap = h->type == APM_METRIC_GAUGE ? isnan (out[i].v) :
        isnan (out[i].delta);

    if (gap || out[i].t_us + res_us <= since_us)
      continue;
    out[n++] = out[i];
  }
  *n_points = n;
  return out;
}

ApmPoint *
apm_history_points (const ApmSeries * s, gint64 since_us, guint * n_points)
{
  const struct _ApmSeriesExtra *x = apm_series_get_extra (s);
  ApmSeriesHistory *h = x ? x->history : NULL;
  guint tier = 0;

  if (h) {
    gint64 now_us = h->last_sample_s * G_USEC_PER_SEC;

    /* the finest ring that reaches back far enough */
    while (tier + 1 < h->n_tiers && (gint64) h->tiers[tier].capacity *
        h->tiers[tier].resolution_s * G_USEC_PER_SEC < now_us - since_us)
      tier++;
  }
  return apm_history_points_tier (s, tier, since_us, n_points);
}
