// What conex's addons (native/*.c) share: errors with Node's `code` and `errno`, the export table, and a libuv poll
// handle on an fd with the arguments every poll-based handle takes (an fd and a JavaScript callback).
#ifndef CONEX_NAPI_COMMON_H
#define CONEX_NAPI_COMMON_H
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

// Error("<what>: <strerror>") with .code (the errno's name for the ones callers test) and .errno.
static napi_value errno_error(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, e, code, n;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  const char *name = err == EAGAIN ? "EAGAIN" : err == ENOENT ? "ENOENT" : err == ECONNREFUSED ? "ECONNREFUSED"
    : err == EPIPE ? "EPIPE" : err == ENOSYS ? "ENOSYS" : err == EACCES ? "EACCES" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, e, "code", code);
  napi_create_int32(env, err, &n);
  napi_set_named_property(env, e, "errno", n);
  return e;
}

// Throws that error; returns NULL for the caller to return.
static napi_value throw_errno(napi_env env, const char *what, int err) {
  napi_throw(env, errno_error(env, what, err));
  return NULL;
}

// Calls the JavaScript function `fn_ref` refers to (if it still does) from a libuv callback, on `recv` (the global
// object when NULL), in `actx`; an exception it throws is Node's uncaught exception, as from any callback. Needs an
// open handle scope.
static inline void call_js(napi_env env, napi_async_context actx, napi_ref fn_ref, napi_value recv, size_t argc, napi_value *argv) {
  napi_value fn, result;
  if (fn_ref == NULL || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  if (recv == NULL) napi_get_global(env, &recv);
  if (napi_make_callback(env, actx, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_fatal_exception(env, e);
  }
}

// Unwraps the object `self_ref` refers to (its native state is being freed) and drops the reference. Needs an open
// handle scope.
static inline void release_wrap(napi_env env, napi_ref self_ref) {
  napi_value self;
  if (napi_get_reference_value(env, self_ref, &self) == napi_ok && self != NULL) {
    void *old;
    napi_remove_wrap(env, self, &old);
  }
  napi_delete_reference(env, self_ref);
}

// The JavaScript object for a native handle: `state` wrapped in it (release_wrap unwraps it when the state is freed),
// held by a strong reference (*self) until then, with one method (`method`, NULL for none; it finds the state with
// unwrap_this), and an async context named `resource` for the handle's callbacks.
static inline napi_value wrap_handle(napi_env env, void *state, const char *method, napi_callback fn, const char *resource,
                                     napi_ref *self, napi_async_context *actx) {
  napi_value obj, name;
  napi_create_object(env, &obj);
  if (method != NULL) {
    napi_value f;
    napi_create_function(env, method, NAPI_AUTO_LENGTH, fn, NULL, &f);
    napi_set_named_property(env, obj, method, f);
  }
  napi_wrap(env, obj, state, NULL, NULL, NULL);
  napi_create_reference(env, obj, 1, self);
  napi_create_string_utf8(env, resource, NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, obj, name, actx);
  return obj;
}

// The native state of the handle a method was called on (wrap_handle's), or NULL once it is released.
static inline void *unwrap_this(napi_env env, napi_callback_info info) {
  napi_value self;
  void *state = NULL;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (napi_unwrap(env, self, &state) != napi_ok) return NULL;
  return state;
}

// Lets go of what wrap_handle made, as the handle's native state is freed: the wrap and its reference (needs an open
// handle scope), the callback's reference (if any) and the async context.
static inline void release_handle(napi_env env, napi_ref self, napi_ref cb, napi_async_context actx) {
  release_wrap(env, self);
  if (cb != NULL) napi_delete_reference(env, cb);
  napi_async_destroy(env, actx);
}

typedef struct { const char *name; napi_callback fn; } export_t;

static napi_value export_all(napi_env env, napi_value exports, const export_t *fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

// Reads (fd, callback) from argv[fd_at], argv[fd_at + 1] and initialises `poll` on fd (a socket or any other fd) with
// `data`; on bad arguments or failure throws (naming `what`) and returns -1.
static inline int poll_args_init(napi_env env, size_t argc, napi_value *argv, size_t fd_at, const char *what, uv_poll_t *poll,
                          int socket, void *data, int32_t *fd) {
  napi_valuetype t;
  if (argc < fd_at + 2 || napi_get_value_int32(env, argv[fd_at], fd) != napi_ok || *fd < 0 ||
      napi_typeof(env, argv[fd_at + 1], &t) != napi_ok || t != napi_function) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: bad arguments", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int r = socket ? uv_poll_init_socket(loop, poll, *fd) : uv_poll_init(loop, poll, *fd);
  if (r != 0) { throw_errno(env, "uv_poll_init", -r); return -1; }
  poll->data = data;
  return 0;
}

#endif
