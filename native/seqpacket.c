// conex's SOCK_SEQPACKET client for conmon's attach socket: connect, batched reads that can be paused, and
// non-blocking writes. Node's net module cannot open SEQPACKET sockets. We used node-unix-socket before; it reads one
// packet per event-loop turn, zeroes a large buffer for every packet and cannot pause, which capped attach output at
// ~100 MB/s and left slow clients without backpressure (docs/attach.md has the numbers). This file is the whole
// replacement: a libuv poll handle on the socket, and every packet that is queued read in one go, with no copy of
// ours: recvmsg puts each packet's first byte (conmon's stream id) in a small table and its payload straight into a
// pool Buffer that JavaScript owns, right behind the previous payload. JavaScript gets the pool, where the batch
// starts, and the (id, length) table, and hands out views of the pool: consecutive packets of one stream are one
// contiguous view.
//
// Backpressure: conmon accepts attach clients with plain accept(), so their sockets block; when we stop reading,
// conmon's write to us blocks, the process's stdout pipe fills and the process waits. Nothing is dropped.
//
// Built with plain gcc by scripts/build.mjs (N-API and libuv symbols resolve against the running node at load time).
#define _GNU_SOURCE
#include "napi_common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

// conmon sends at most 8192 payload bytes plus one stream-id byte per packet; 64 KiB leaves room for any future size.
#define MAX_PACKET 65536
// Payload bytes read per wake-up before JavaScript gets them (a batch holds at least one full packet), and packets.
#define BATCH_CAP (256 * 1024)
#define BATCH_PACKETS 256
// The pool payloads are read into, shared by all connections of this Node instance (napi instance data); a new one is
// made when the current one cannot take a full packet. Views handed out keep their pool alive; the GC frees a pool
// once none is left.
#define POOL_SIZE (1024 * 1024)

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref self;      // the JS handle object (kept alive while the poll handle is open)
  napi_ref on_read;   // (pool: Buffer | null, start: number, table: Buffer | errno: number) => void
  napi_ref on_write;  // () => void, armed by waitWritable
  napi_async_context actx;
  int fd;
  int reading;
  int want_write;
  int polling;
  int closing;
} conn_t;

typedef struct {
  napi_ref ref;       // the current pool Buffer
  unsigned char *data;
  size_t off;         // where the next payload goes
} pool_t;

static void pool_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  pool_t *p = data;
  if (p->ref != NULL) napi_delete_reference(env, p->ref);
  free(p);
}

static conn_t *unwrap(napi_env env, napi_value obj) {
  conn_t *c = NULL;
  if (napi_unwrap(env, obj, (void **)&c) != napi_ok || c == NULL) {
    napi_throw_error(env, NULL, "seqpacket: not an open handle");
    return NULL;
  }
  if (c->closing) {
    napi_throw_error(env, NULL, "seqpacket: handle is closed");
    return NULL;
  }
  return c;
}

// Reads `n` arguments of which the first is an open handle; throws (returns NULL) otherwise.
static conn_t *handle_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < n) {
    napi_throw_type_error(env, NULL, "seqpacket: missing arguments");
    return NULL;
  }
  return unwrap(env, argv[0]);
}

static void on_poll(uv_poll_t *h, int status, int events);

// Arms the poll handle for what is wanted now; one epoll_ctl per change of state, none per packet.
static void rearm(conn_t *c) {
  if (c->closing) return;
  int ev = (c->reading ? (UV_READABLE | UV_DISCONNECT) : 0) | (c->want_write ? UV_WRITABLE : 0);
  if (ev == 0) {
    if (c->polling) uv_poll_stop(&c->poll);
    c->polling = 0;
    return;
  }
  uv_poll_start(&c->poll, ev, on_poll);
  c->polling = 1;
}

// Calls one of the connection's callbacks with the handle as `this`.
static void call_conn(conn_t *c, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_value self;
  if (napi_get_reference_value(c->env, c->self, &self) != napi_ok) self = NULL;
  call_js(c->env, c->actx, fn_ref, self, argc, argv);
}

static void deliver_end(conn_t *c, int err) {
  napi_value argv[3];
  napi_get_null(c->env, &argv[0]);
  napi_create_int32(c->env, 0, &argv[1]);
  napi_create_int32(c->env, err, &argv[2]);
  c->reading = 0;
  rearm(c);
  call_conn(c, c->on_read, 3, argv);
}

static void read_batch(conn_t *c) {
  size_t start, off = 0;
  unsigned n_packets = 0;
  // The table: per packet its stream id (1 byte) and payload length (4 bytes, host order: little-endian on every
  // platform Node runs conex on).
  unsigned char table[BATCH_PACKETS * 5];
  int eof = 0, err = 0, reset_seen = 0;
  napi_handle_scope scope;
  napi_open_handle_scope(c->env, &scope);
  pool_t *pool = NULL;
  napi_get_instance_data(c->env, (void **)&pool);
  if (pool == NULL) { deliver_end(c, ENOMEM); napi_close_handle_scope(c->env, scope); return; }
  if (pool->ref == NULL || POOL_SIZE - pool->off < MAX_PACKET) {
    napi_value buf;
    void *data;
    if (napi_create_buffer(c->env, POOL_SIZE, &data, &buf) != napi_ok) {
      deliver_end(c, ENOMEM);
      napi_close_handle_scope(c->env, scope);
      return;
    }
    if (pool->ref != NULL) napi_delete_reference(c->env, pool->ref);
    napi_create_reference(c->env, buf, 1, &pool->ref);
    pool->data = data;
    pool->off = 0;
  }
  start = pool->off;
  while (n_packets < BATCH_PACKETS && (off == 0 || (off + MAX_PACKET <= BATCH_CAP && start + off + MAX_PACKET <= POOL_SIZE))) {
    unsigned char id = 0;
    struct iovec iov[2] = { { &id, 1 }, { pool->data + start + off, MAX_PACKET } };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t n = recvmsg(c->fd, &msg, MSG_DONTWAIT);
    if (n > 0) {
      uint32_t len = (uint32_t)(n - 1);
      table[n_packets * 5] = id;
      memcpy(table + n_packets * 5 + 1, &len, 4);
      n_packets++;
      off += len;
      continue;
    }
    if (n == 0) { eof = 1; break; }
    if (errno == EINTR) continue;
    // conmon closed its end while input we sent was still unread in its queue: the kernel then reports ECONNRESET
    // on our next receive, before the packets conmon sent us earlier, which are still queued (the error is reported
    // once, and cleared). So go on reading: those packets, then the end. (A process that exits without reading its
    // stdin lost its last output to this, now and then, under load.)
    if (errno == ECONNRESET && !reset_seen) { reset_seen = 1; continue; }
    if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
    break;
  }
  pool->off = start + off;
  if (n_packets > 0) {
    napi_value argv[3];
    void *data;
    napi_get_reference_value(c->env, pool->ref, &argv[0]);
    napi_create_int32(c->env, (int32_t)start, &argv[1]);
    napi_create_buffer_copy(c->env, n_packets * 5, table, &data, &argv[2]);
    call_conn(c, c->on_read, 3, argv);
  }
  // JavaScript may have paused or closed us while handling the batch; the end is still reported once reading resumes
  // (recv returns 0 again) or not at all after close.
  if ((eof || err) && !c->closing && c->reading) deliver_end(c, err);
  napi_close_handle_scope(c->env, scope);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  conn_t *c = (conn_t *)h->data;
  if (c->closing) return;
  if (status < 0) {
    // libuv reports EPOLLERR as UV_EBADF and stops the handle. On our socket that is a pending socket error:
    // ECONNRESET when conmon closed its end with input we sent still unread. The packets conmon sent before closing
    // are still queued, so this is not the end: read them (the receive reports the error once, then the packets,
    // then the end), let a waiting write find out for itself (EPIPE), and poll again for whatever is left.
    c->polling = 0;
    events = UV_READABLE | UV_WRITABLE;
  }
  if ((events & (UV_READABLE | UV_DISCONNECT)) && c->reading) read_batch(c);
  if (!c->closing && (events & UV_WRITABLE) && c->want_write) {
    c->want_write = 0;
    rearm(c);
    napi_handle_scope scope;
    napi_open_handle_scope(c->env, &scope);
    call_conn(c, c->on_write, 0, NULL);
    napi_close_handle_scope(c->env, scope);
  }
  if (status < 0 && !c->closing) rearm(c);
}

// connect(path): fd. Non-blocking and close-on-exec; EAGAIN means conmon's backlog is full (try again).
static napi_value Connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof addr.sun_path, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "connect(path): path must be a string");
    return NULL;
  }
  if (len >= sizeof addr.sun_path - 1) return throw_errno(env, "connect", ENAMETOOLONG);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "connect", e);
  }
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

static void on_closed(uv_handle_t *h) {
  conn_t *c = (conn_t *)h->data;
  napi_env env = c->env;
  close(c->fd);
  if (c->on_write) napi_delete_reference(env, c->on_write);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  release_handle(env, c->self, c->on_read, c->actx);
  napi_close_handle_scope(env, scope);
  free(c);
}

// open(fd, onRead): handle. Takes ownership of fd; it is closed by close(handle).
static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) return throw_errno(env, "open", ENOMEM);
  if (poll_args_init(env, argc, argv, 0, "open(fd, onRead)", &c->poll, 1, c, &c->fd) != 0) { free(c); return NULL; }
  c->env = env;
  napi_value obj = wrap_handle(env, c, NULL, NULL, "conex:seqpacket", &c->self, &c->actx);
  napi_create_reference(env, argv[1], 1, &c->on_read);
  return obj;
}

static napi_value ReadStart(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  conn_t *c = handle_args(env, info, 1, argv);
  if (c == NULL) return NULL;
  if (!c->reading) { c->reading = 1; rearm(c); }
  return NULL;
}

static napi_value ReadStop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  conn_t *c = handle_args(env, info, 1, argv);
  if (c == NULL) return NULL;
  if (c->reading) { c->reading = 0; rearm(c); }
  return NULL;
}

// write(handle, buf): bytes sent as one packet, or -EAGAIN when the socket is full (then waitWritable), or throws.
static napi_value Write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  conn_t *c = handle_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "write(handle, buf): buf must be a Buffer");
    return NULL;
  }
  ssize_t n;
  do n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  napi_value r;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { napi_create_int32(env, -EAGAIN, &r); return r; }
  if (n < 0) return throw_errno(env, "send", errno);
  napi_create_int32(env, (int32_t)n, &r);
  return r;
}

// waitWritable(handle, cb): calls cb once the socket can take another packet.
static napi_value WaitWritable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  conn_t *c = handle_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  if (c->on_write) napi_delete_reference(env, c->on_write);
  napi_create_reference(env, argv[1], 1, &c->on_write);
  c->want_write = 1;
  rearm(c);
  return NULL;
}

// shutdownWrite(handle): half-close; conmon reads EOF and closes the process's stdin.
static napi_value ShutdownWrite(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  conn_t *c = handle_args(env, info, 1, argv);
  if (c == NULL) return NULL;
  shutdown(c->fd, SHUT_WR);
  return NULL;
}

// close(handle): stops polling and closes the fd (asynchronously, after libuv lets go of it). Idempotent.
static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  conn_t *c = NULL;
  if (argc < 1 || napi_unwrap(env, argv[0], (void **)&c) != napi_ok || c == NULL || c->closing) return NULL;
  c->closing = 1;
  c->reading = 0;
  c->want_write = 0;
  uv_poll_stop(&c->poll);
  uv_close((uv_handle_t *)&c->poll, on_closed);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  pool_t *pool = calloc(1, sizeof *pool);
  if (pool != NULL) napi_set_instance_data(env, pool, pool_finalize, NULL);
  static const export_t fns[] = {
    { "connect", Connect }, { "open", Open }, { "readStart", ReadStart }, { "readStop", ReadStop },
    { "write", Write }, { "waitWritable", WaitWritable }, { "shutdownWrite", ShutdownWrite }, { "close", Close },
  };
  return export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
