/* gst-apm: the apm tracer
 *
 * SECTION:tracer-apm
 * @title: apm
 * @short_description: audio pipeline monitor, served over HTTP
 *
 * Times and counts every buffer on every pad of every pipeline in the
 * process, and serves the figures as Prometheus metrics, JSON and a live
 * dashboard from one in-process service.
 *
 * |[
 * GST_TRACERS="apm(port=9464,address=127.0.0.1)" gst-launch-1.0 \
 *     audiotestsrc is-live=true ! audioconvert ! autoaudiosink
 * curl http://127.0.0.1:9464/metrics
 * ]|
 *
 * Params: `port` (0 picks a free port, default 9464), `address` (an IP
 * address, default 127.0.0.1), `quiet` (true: no stderr line with the URL).
 * The first configuration in the process wins (tracer before elements).
 */
#include "gstapmtracer.h"
#include "gstapmparams.h"
#include "gstapmwatch.h"
#include "gstapmpadstats.h"

GST_DEBUG_CATEGORY_STATIC (gst_apm_tracer_debug);
#define GST_CAT_DEFAULT gst_apm_tracer_debug

struct _GstApmTracer
{
  GstTracer parent;
};

#define _do_init \
    GST_DEBUG_CATEGORY_INIT (gst_apm_tracer_debug, "apm", 0, \
        "audio pipeline monitor tracer");
G_DEFINE_TYPE_WITH_CODE (GstApmTracer, gst_apm_tracer, GST_TYPE_TRACER,
    _do_init);

/* --- hot path: per buffer, lock-free (qdata lookup plus atomic adds) --- */

static void
do_push_buffer_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer)
{
  GstApmPadStats *st = gst_apm_pad_stats_get (pad);

  if (st)
    gst_apm_pad_stats_count (st, buffer);
}

static void
do_push_list_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBufferList * list)
{
  GstApmPadStats *st = gst_apm_pad_stats_get (pad);

  if (st)
    gst_apm_pad_stats_count_list (st, list);
}

static void
do_chain_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer)
{
  GstApmPadStats *st = gst_apm_pad_stats_get (pad);

  if (st)
    gst_apm_pad_stats_count (st, buffer);
}

static void
do_chain_list_pre (GObject * self, GstClockTime ts, GstPad * pad,
    GstBufferList * list)
{
  GstApmPadStats *st = gst_apm_pad_stats_get (pad);

  if (st)
    gst_apm_pad_stats_count_list (st, list);
}

/* pull mode: @pad is the sink pad that pulled; count it and its peer */
static void
do_pull_range_post (GObject * self, GstClockTime ts, GstPad * pad,
    GstBuffer * buffer, GstFlowReturn res)
{
  GstApmPadStats *st;

  if (res != GST_FLOW_OK || !buffer)
    return;
  st = gst_apm_pad_stats_get (pad);
  if (st) {
    gst_apm_pad_stats_count (st, buffer);
    gst_apm_pad_stats_count_peer (st, buffer);
  }
}

/* --- lifecycle: not per buffer --- */

static void
do_change_state_pre (GObject * self, GstClockTime ts, GstElement * element,
    GstStateChange transition)
{
  if (transition == GST_STATE_CHANGE_NULL_TO_READY
      && GST_IS_PIPELINE (element) && !GST_OBJECT_PARENT (element))
    gst_apm_watch_pipeline (element);
}

static void
do_post_message_pre (GObject * self, GstClockTime ts, GstElement * element,
    GstMessage * message)
{
  GstElement *top;
  GError *err = NULL;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR)
    return;
  top = gst_apm_watch_find_top (element);
  if (!top && GST_IS_PIPELINE (element))
    top = gst_object_ref (element);
  if (!top)
    return;
  gst_message_parse_error (message, &err, NULL);
  gst_apm_watch_note_error (top, GST_OBJECT_NAME (element), err);
  g_clear_error (&err);
  gst_object_unref (top);
}

static void
gst_apm_tracer_constructed (GObject * object)
{
  GstTracer *tracer = GST_TRACER (object);
  ApmServiceConfig config = { -1, NULL, -1 };
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
  gchar *params = NULL;

  G_OBJECT_CLASS (gst_apm_tracer_parent_class)->constructed (object);

  g_object_get (object, "params", &params, NULL);
  gst_apm_params_parse (params, &config, problems);
  gst_apm_watch_configure (&config, problems);
  g_free (config.address);
  g_free (params);
  g_ptr_array_unref (problems);

  gst_tracing_register_hook (tracer, "pad-push-pre",
      G_CALLBACK (do_push_buffer_pre));
  gst_tracing_register_hook (tracer, "pad-push-list-pre",
      G_CALLBACK (do_push_list_pre));
  gst_tracing_register_hook (tracer, "pad-chain-pre",
      G_CALLBACK (do_chain_pre));
  gst_tracing_register_hook (tracer, "pad-chain-list-pre",
      G_CALLBACK (do_chain_list_pre));
  gst_tracing_register_hook (tracer, "pad-pull-range-post",
      G_CALLBACK (do_pull_range_post));
  gst_tracing_register_hook (tracer, "element-change-state-pre",
      G_CALLBACK (do_change_state_pre));
  gst_tracing_register_hook (tracer, "element-post-message-pre",
      G_CALLBACK (do_post_message_pre));
}

static void
gst_apm_tracer_finalize (GObject * object)
{
  /* tracers live until gst_deinit(): the service goes with them */
  apm_service_shutdown ();
  G_OBJECT_CLASS (gst_apm_tracer_parent_class)->finalize (object);
}

static void
gst_apm_tracer_class_init (GstApmTracerClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->constructed = gst_apm_tracer_constructed;
  gobject_class->finalize = gst_apm_tracer_finalize;
}

static void
gst_apm_tracer_init (GstApmTracer * self)
{
}
