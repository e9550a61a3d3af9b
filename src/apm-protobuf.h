/* gst-apm: a small protocol buffers encoder
 *
 * Enough of the wire format to write OTLP without generated code: varints,
 * fixed 32/64-bit fields, length-delimited bytes and strings, packed
 * repeated fixed64/double, and nested messages whose length is back-patched
 * when the message ends (a memmove of the message's bytes; OTLP requests
 * nest a handful of levels deep).  Proto3: callers skip default values.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  GByteArray *buf;
} ApmPbWriter;

/* The start of a nested message (its offset in the buffer). */
typedef guint ApmPbMark;

void apm_pb_writer_init (ApmPbWriter * w);
/* Returns the encoded bytes and resets @w. */
GBytes *apm_pb_writer_finish (ApmPbWriter * w);
void apm_pb_writer_clear (ApmPbWriter * w);

void apm_pb_put_varint (ApmPbWriter * w, guint64 v);
/* a field's key: (@field << 3) | @wire_type */
void apm_pb_put_tag (ApmPbWriter * w, guint field, guint wire_type);

void apm_pb_uint64 (ApmPbWriter * w, guint field, guint64 v);
void apm_pb_int64 (ApmPbWriter * w, guint field, gint64 v);
void apm_pb_bool (ApmPbWriter * w, guint field, gboolean v);
void apm_pb_fixed64 (ApmPbWriter * w, guint field, guint64 v);
void apm_pb_fixed32 (ApmPbWriter * w, guint field, guint32 v);
void apm_pb_double (ApmPbWriter * w, guint field, gdouble v);
void apm_pb_bytes (ApmPbWriter * w, guint field, const guint8 * data,
    gsize len);
/* @s may be NULL (written as empty) */
void apm_pb_string (ApmPbWriter * w, guint field, const gchar * s);
void apm_pb_packed_fixed64 (ApmPbWriter * w, guint field,
    const guint64 * v, guint n);
void apm_pb_packed_double (ApmPbWriter * w, guint field, const gdouble * v,
    guint n);

/* Nested message: begin writes the key, end inserts the length. */
ApmPbMark apm_pb_begin (ApmPbWriter * w, guint field);
void apm_pb_end (ApmPbWriter * w, ApmPbMark mark);

/* Reading (a collector's answers): each call checks the bounds, so a
 * truncated or garbage message is a FALSE, never a read past the end. */
typedef struct
{
  const guint8 *p, *end;
} ApmPbReader;

void apm_pb_reader_init (ApmPbReader * r, const guint8 * data, gsize len);
gboolean apm_pb_reader_done (const ApmPbReader * r);
gboolean apm_pb_read_varint (ApmPbReader * r, guint64 * v);
/* the next field's number and wire type; FALSE on a bad key */
gboolean apm_pb_read_tag (ApmPbReader * r, guint * field, guint * wire_type);
/* a length-delimited field's bytes (pointing into the message) */
gboolean apm_pb_read_len (ApmPbReader * r, const guint8 ** data, gsize * len);
/* skips a field of @wire_type (groups are refused: proto3 has none) */
gboolean apm_pb_skip (ApmPbReader * r, guint wire_type);

#define APM_PB_VARINT 0
#define APM_PB_I64 1
#define APM_PB_LEN 2
#define APM_PB_I32 5

G_END_DECLS
