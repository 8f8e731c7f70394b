// splice(2) from a client's connection into a process's stdin pipe, on the event loop: the bytes go from the
// socket's buffers into the pipe inside the kernel, never through Node (no read into a Buffer, no write out of it).
// The API service's stdin path (src/oci/conmon/exec-pipes.ts) starts it once the connection is its own and stops
// it at the session's end; at EOF or an error it reports and lets go, and the stream path takes the connection back.
//
//   start(srcFd, dstFd, cb) -> handle   both fds are dup'ed (the caller keeps its own); cb(errno, bytes) runs once:
//                                      errno 0 at EOF on srcFd, ECANCELED after stop(), else splice's errno
//                                      (EPIPE: the process closed its stdin; EINVAL: these fds cannot be spliced)
//   handle.stop()                      ends it; cb follows (unless it ran already)
//
// Both fds are non-blocking (libuv made them so; SPLICE_F_NONBLOCK besides): EAGAIN means the socket is empty or the
// pipe is full, and poll(2) with no timeout says which, so exactly one of them is watched at a time.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>
#include "napi_common.h"

#define CHUNK (1 << 20)       // at most a pipe's worth per call; the kernel moves what fits
#define ROUNDS 64             // calls per wake-up before giving the loop back (other sessions, the API)

typedef struct {
  uv_poll_t src_poll;
  uv_poll_t dst_poll;
  int src, dst;
  int open;                   // poll handles not yet closed
  int done;                   // finish() ran: no more splicing, cb pending or called
  int err;
  double bytes;
  napi_env env;
  napi_ref cb;
  napi_ref self;
  napi_async_context actx;
} splice_t;

static void on_closed(uv_handle_t *h) {
  splice_t *s = (splice_t *)h->data;
  if (--s->open > 0) return;
  close(s->src);
  close(s->dst);
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value args[2];
  napi_create_int32(env, s->err, &args[0]);
  napi_create_double(env, s->bytes, &args[1]);
  call_js(env, s->actx, s->cb, NULL, 2, args);
  release_handle(env, s->self, s->cb, s->actx);
  napi_close_handle_scope(env, scope);
  free(s);
}

// A start that failed half-way: its one initialised handle is closed, then everything goes (no callback).
static void free_on_close(uv_handle_t *h) {
  splice_t *s = (splice_t *)h->data;
  close(s->src);
  close(s->dst);
  free(s);
}

static void finish(splice_t *s, int err) {
  if (s->done) return;
  s->done = 1;
  s->err = err;
  uv_poll_stop(&s->src_poll);
  uv_poll_stop(&s->dst_poll);
  uv_close((uv_handle_t *)&s->src_poll, on_closed);
  uv_close((uv_handle_t *)&s->dst_poll, on_closed);
}

static void on_ready(uv_poll_t *h, int status, int events);

static void pump(splice_t *s) {
  for (int i = 0; i < ROUNDS && !s->done; i++) {
    ssize_t n = splice(s->src, NULL, s->dst, NULL, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) { s->bytes += (double)n; continue; }
    if (n == 0) { finish(s, 0); return; }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) { finish(s, errno); return; }
    struct pollfd p = { .fd = s->dst, .events = POLLOUT };
    if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0) { finish(s, EPIPE); return; }
    if (p.revents & POLLOUT) {
      // room in the pipe: the socket is empty for now
      uv_poll_stop(&s->dst_poll);
      uv_poll_start(&s->src_poll, UV_READABLE, on_ready);
    } else {
      // the pipe is full: wait for the process to read (the socket's data waits in the kernel; the client blocks)
      uv_poll_stop(&s->src_poll);
      uv_poll_start(&s->dst_poll, UV_WRITABLE, on_ready);
    }
    return;
  }
}

// The socket became readable or the pipe writable (whichever is watched): splice on.
static void on_ready(uv_poll_t *h, int status, int events) {
  (void)events;
  splice_t *s = (splice_t *)h->data;
  if (status < 0) { finish(s, -status); return; }
  pump(s);
}

static napi_value Stop(napi_env env, napi_callback_info info) {
  splice_t *s = unwrap_this(env, info);
  if (s != NULL) finish(s, ECANCELED);
  return NULL;
}

static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t src, dst;
  napi_valuetype t;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &src) != napi_ok || napi_get_value_int32(env, argv[1], &dst) != napi_ok ||
      src < 0 || dst < 0 || napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "start(srcFd, dstFd, cb): bad arguments");
    return NULL;
  }
  splice_t *s = calloc(1, sizeof *s);
  if (s == NULL) return throw_errno(env, "splice start", ENOMEM);
  s->src = fcntl(src, F_DUPFD_CLOEXEC, 3);
  s->dst = s->src < 0 ? -1 : fcntl(dst, F_DUPFD_CLOEXEC, 3);
  if (s->src < 0 || s->dst < 0) {
    int err = errno;
    if (s->src >= 0) close(s->src);
    free(s);
    return throw_errno(env, "splice start: dup", err);
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &s->src_poll, s->src);
  if (r != 0) {
    close(s->src);
    close(s->dst);
    free(s);
    return throw_errno(env, "splice start: uv_poll_init", -r);
  }
  s->src_poll.data = s;
  r = uv_poll_init(loop, &s->dst_poll, s->dst);
  if (r != 0) {
    uv_close((uv_handle_t *)&s->src_poll, free_on_close);
    return throw_errno(env, "splice start: uv_poll_init", -r);
  }
  s->src_poll.data = s;
  s->dst_poll.data = s;
  s->open = 2;
  s->env = env;
  napi_create_reference(env, argv[2], 1, &s->cb);
  napi_value handle = wrap_handle(env, s, "stop", Stop, "conex:splice", &s->self, &s->actx);
  pump(s);
  if (!s->done && !uv_is_active((uv_handle_t *)&s->src_poll) && !uv_is_active((uv_handle_t *)&s->dst_poll)) {
    // ROUNDS calls moved data without running dry: carry on from the loop
    uv_poll_start(&s->src_poll, UV_READABLE, on_ready);
  }
  return handle;
}

static napi_value Init(napi_env env, napi_value exports) {
  static const export_t fns[] = { { "start", Start } };
  return export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
