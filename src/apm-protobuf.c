/* gst-apm: a small protocol buffers encoder (see apm-protobuf.h) */
#include "apm-protobuf.h"

#include <string.h>

void
apm_pb_writer_init (ApmPbWriter * w)
{
  w->buf = g_byte_array_sized_new (1024);
}

GBytes *
apm_pb_writer_finish (ApmPbWriter * w)
{
  GBytes *bytes = g_byte_array_free_to_bytes (w->buf);

  w->buf = NULL;
  return bytes;
}

void
apm_pb_writer_clear (ApmPbWriter * w)
{
  if (w->buf)
    g_byte_array_unref (w->buf);
  w->buf = NULL;
}

static guint
varint_encode (guint64 v, guint8 out[10])
{
  guint n = 0;

  while (v >= 0x80) {
    out[n++] = (guint8) (v | 0x80);
    v >>= 7;
  }
  out[n++] = (guint8) v;
  return n;
}

void
apm_pb_put_varint (ApmPbWriter * w, guint64 v)
{
  guint8 tmp[10];

  g_byte_array_append (w->buf, tmp, varint_encode (v, tmp));
}

void
apm_pb_put_tag (ApmPbWriter * w, guint field, guint wire_type)
{
  apm_pb_put_varint (w, ((guint64) field << 3) | wire_type);
}

void
apm_pb_uint64 (ApmPbWriter * w, guint field, guint64 v)
{
  apm_pb_put_tag (w, field, APM_PB_VARINT);
  apm_pb_put_varint (w, v);
}

void
apm_pb_int64 (ApmPbWriter * w, guint field, gint64 v)
{
  /* int64 (not sint64): two's complement, negatives take ten bytes */
  apm_pb_uint64 (w, field, (guint64) v);
}

void
apm_pb_bool (ApmPbWriter * w, guint field, gboolean v)
{
  apm_pb_uint64 (w, field, v ? 1 : 0);
}

static void
put_le64 (ApmPbWriter * w, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);

  g_byte_array_append (w->buf, (const guint8 *) &le, 8);
}

void
apm_pb_fixed64 (ApmPbWriter * w, guint field, guint64 v)
{
  apm_pb_put_tag (w, field, APM_PB_I64);
  put_le64 (w, v);
}

void
apm_pb_fixed32 (ApmPbWriter * w, guint field, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);

  apm_pb_put_tag (w, field, APM_PB_I32);
  g_byte_array_append (w->buf, (const guint8 *) &le, 4);
}

static guint64
double_bits (gdouble v)
{
  union { gdouble d; guint64 u; } x;

  x.d = v;
  return x.u;
}

void
apm_pb_double (ApmPbWriter * w, guint field, gdouble v)
{
  apm_pb_fixed64 (w, field, double_bits (v));
}

void
apm_pb_bytes (ApmPbWriter * w, guint field, const guint8 * data, gsize len)
{
  apm_pb_put_tag (w, field, APM_PB_LEN);
  apm_pb_put_varint (w, len);
  if (len)
    g_byte_array_append (w->buf, data, len);
}

void
apm_pb_string (ApmPbWriter * w, guint field, const gchar * s)
{
  apm_pb_bytes (w, field, (const guint8 *) (s ? s : ""), s ? strlen (s) : 0);
}

void
apm_pb_packed_fixed64 (ApmPbWriter * w, guint field, const guint64 * v,
    guint n)
{
  apm_pb_put_tag (w, field, APM_PB_LEN);
  apm_pb_put_varint (w, (guint64) n * 8);
  for (guint i = 0; i < n; i++)
    put_le64 (w, v[i]);
}

void
apm_pb_packed_double (ApmPbWriter * w, guint field, const gdouble * v,
    guint n)
{
  apm_pb_put_tag (w, field, APM_PB_LEN);
  apm_pb_put_varint (w, (guint64) n * 8);
  for (guint i = 0; i < n; i++)
    put_le64 (w, double_bits (v[i]));
}

ApmPbMark
apm_pb_begin (ApmPbWriter * w, guint field)
{
  apm_pb_put_tag (w, field, APM_PB_LEN);
  return w->buf->len;
}

void
apm_pb_end (ApmPbWriter * w, ApmPbMark mark)
{
  guint8 tmp[10];
  guint len = w->buf->len - mark;
  guint n = varint_encode (len, tmp);

  /* the length goes before the message's bytes: grow, shift, write */
  g_byte_array_set_size (w->buf, w->buf->len + n);
  memmove (w->buf->data + mark + n, w->buf->data + mark, len);
  memcpy (w->buf->data + mark, tmp, n);
}

/* --- reading --- */

void
apm_pb_reader_init (ApmPbReader * r, const guint8 * data, gsize len)
{
  r->p = data;
  r->end = data + len;
}

gboolean
apm_pb_reader_done (const ApmPbReader * r)
{
  return r->p >= r->end;
}

gboolean
apm_pb_read_varint (ApmPbReader * r, guint64 * v)
{
  guint64 value = 0;

  for (guint shift = 0; shift < 64; shift += 7) {
    guint8 b;

    if (r->p >= r->end)
      return FALSE;
    b = *r->p++;
    value |= (guint64) (b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = value;
      return TRUE;
    }
  }
  return FALSE;                 /* more than 10 bytes */
}

gboolean
apm_pb_read_tag (ApmPbReader * r, guint * field, guint * wire_type)
{
  guint64 key;

  if (!apm_pb_read_varint (r, &key) || key >> 3 == 0 || key >> 3 > 0x1fffffff)
    return FALSE;
  *field = (guint) (key >> 3);
  *wire_type = (guint) (key & 7);
  return TRUE;
}

gboolean
apm_pb_read_len (ApmPbReader * r, const guint8 ** data, gsize * len)
{
  guint64 n;

  if (!apm_pb_read_varint (r, &n) || n > (guint64) (r->end - r->p))
    return FALSE;
  *data = r->p;
  *len = (gsize) n;
  r->p += n;
  return TRUE;
}

gboolean
apm_pb_skip (ApmPbReader * r, guint wire_type)
{
  guint64 v;
  const guint8 *data;
  gsize len;

  switch (wire_type) {
    case APM_PB_VARINT:
      return apm_pb_read_varint (r, &v);
    case APM_PB_I64:
      if (r->end - r->p < 8)
        return FALSE;
      r->p += 8;
      return TRUE;
    case APM_PB_LEN:
      return apm_pb_read_len (r, &data, &len);
    case APM_PB_I32:
      if (r->end - r->p < 4)
        return FALSE;
      r->p += 4;
      return TRUE;
    default:
      return FALSE;
  }
}
