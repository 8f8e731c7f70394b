// conex's process spawner for conmon: posix_spawn (vfork-style, the parent's memory is not copied) and a pidfd to
// learn the exit. Node's child_process forks, and a fork copies the page tables of the whole service (~100 MiB
// resident): a --cpu-prof under 128 concurrent execs put 16 % of the service's CPU in ChildProcess.spawn (6.5 ms per
// exec). conmon double-forks at once, so all we need from the spawned process is its pid and its exit status.
//
// pipe() makes close-on-exec pipes; spawn() maps parent fds onto the child's 0..n-1 (-1: /dev/null), starts a new
// session, resets every signal to its default and unblocks them (Node ignores SIGPIPE, conmon must not inherit that),
// and resolves with the pid and a pidfd (the spawn itself runs in libuv's thread pool); watch() polls the pidfd and
// reaps the child, calling back with its status.
// pending(fd) is FIONREAD: the bytes a pipe holds that nobody has read yet (an exec's output pipe, when its process
// has exited: what is left to forward before the pipe can be closed; see src/oci/conmon/exec-pipes.ts).
// read(fd, cb) reads one of our pipe ends on the event loop (conmon's control pipes and its stderr: a few short
// messages each): cb(Buffer) per read, then cb(null) once at EOF or an error. A Socket would do the same, and loading
// Node's net and stream modules for it is ~4 ms of a `conex exec` that needs no other stream.
// Without pidfd_open (Linux < 5.3) spawn() throws ENOSYS and the caller uses child_process instead.
// sealedCopy(path, name) is the runtime binary copied into a sealed memfd (src/oci/sealed-runtime.ts says why).
//
// Built with plain gcc by scripts/build.mjs (N-API and libuv symbols resolve against the running node at load time).
#define _GNU_SOURCE
#include "napi_common.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

// Fds handed to the child are first duplicated to n or above (n: how many the child gets), so that mapping them
// onto 0..n-1 never overwrites a source that is still to be mapped. Not to a fixed high number such as 1024: the
// first fd past the size of the fd table grows it, and in a process with threads (Node's) growing it waits for an
// RCU grace period (measured: 10-12 ms of the CLI's first spawn, against 0.3 ms for posix_spawn itself).
#define MAX_FDS 256
#define MAX_STR 65536

// pipe([size]): [readFd, writeFd], both close-on-exec; with a size, the pipe's capacity is raised to it where the
// kernel allows (F_SETPIPE_SZ; a refusal keeps the default 64 KiB).
static napi_value Pipe(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t size = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1) napi_get_value_int32(env, argv[0], &size);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return throw_errno(env, "pipe2", errno);
  if (size > 0) (void)fcntl(p[1], F_SETPIPE_SZ, size);
  napi_value arr, v;
  napi_create_array_with_length(env, 2, &arr);
  for (uint32_t i = 0; i < 2; i++) { napi_create_int32(env, p[i], &v); napi_set_element(env, arr, i, v); }
  return arr;
}

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len > MAX_STR) return NULL;
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

// A NULL-terminated copy of a JS string array; NULL (and a thrown TypeError) when it is not one.
static char **get_strings(napi_env env, napi_value arr, const char *what) {
  uint32_t n = 0;
  bool is;
  if (napi_is_array(env, arr, &is) != napi_ok || !is || napi_get_array_length(env, arr, &n) != napi_ok || n > 4096) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char **out = calloc(n + 1, sizeof *out);
  if (out == NULL) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, arr, i, &v);
    if ((out[i] = get_string(env, v)) == NULL) {
      for (uint32_t j = 0; j < i; j++) free(out[j]);
      free(out);
      napi_throw_type_error(env, NULL, what);
      return NULL;
    }
  }
  return out;
}

static void free_strings(char **s) {
  if (s == NULL) return;
  for (char **p = s; *p != NULL; p++) free(*p);
  free(s);
}

// One spawn, prepared on the main thread and run in libuv's thread pool: posix_spawn blocks its caller until the
// child has exec'd (vfork semantics), several milliseconds on a loaded host, and the service's event loop must not
// wait for that.
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char *path, *cwd;
  char **args, **envp;
  int high[MAX_FDS];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  int have_fa, have_attr;
  int err;
  const char *step;
  pid_t pid;
  int pidfd;
} job_t;

static void job_free(job_t *j) {
  for (uint32_t i = 0; i < MAX_FDS; i++) if (j->high[i] >= 0) close(j->high[i]);
  if (j->have_fa) posix_spawn_file_actions_destroy(&j->fa);
  if (j->have_attr) posix_spawnattr_destroy(&j->attr);
  free(j->path);
  free(j->cwd);
  free_strings(j->args);
  free_strings(j->envp);
  free(j);
}

static void job_execute(napi_env env, void *data) {
  (void)env;
  job_t *j = data;
  j->err = posix_spawn(&j->pid, j->path, &j->fa, &j->attr, j->args, j->envp);
  if (j->err != 0) { j->step = "posix_spawn"; return; }
  j->pidfd = (int)syscall(SYS_pidfd_open, j->pid, 0);
  if (j->pidfd < 0) {
    // Cannot happen where spawn() is offered (the caller probes pidfdSupported first); reap and report.
    j->err = errno;
    j->step = "pidfd_open";
    kill(j->pid, SIGKILL);
    waitpid(j->pid, NULL, 0);
    return;
  }
  fcntl(j->pidfd, F_SETFD, FD_CLOEXEC);
}

static void job_complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  napi_value result;
  if (status == napi_ok && j->err == 0) {
    napi_value v;
    napi_create_object(env, &result);
    napi_create_int32(env, j->pid, &v);
    napi_set_named_property(env, result, "pid", v);
    napi_create_int32(env, j->pidfd, &v);
    napi_set_named_property(env, result, "pidfd", v);
    napi_resolve_deferred(env, j->deferred, result);
  } else {
    napi_reject_deferred(env, j->deferred, errno_error(env, j->step, j->err != 0 ? j->err : EIO));
  }
  napi_delete_async_work(env, j->work);
  job_free(j);
}

// spawn(path, argv, env, cwd, fds): Promise<{ pid, pidfd }>. Bad arguments throw at once. The fds must stay open
// until the promise settles (the child gets them at the spawn, in the thread pool).
static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) { napi_throw_type_error(env, NULL, "spawn(path, argv, env, cwd, fds): missing arguments"); return NULL; }
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return throw_errno(env, "spawn", ENOMEM);
  for (uint32_t i = 0; i < MAX_FDS; i++) j->high[i] = -1;
  j->path = get_string(env, argv[0]);
  j->cwd = get_string(env, argv[3]);
  j->args = get_strings(env, argv[1], "spawn: argv must be an array of strings");
  j->envp = j->args == NULL ? NULL : get_strings(env, argv[2], "spawn: env must be an array of strings");
  uint32_t nfds = 0;
  bool is;
  int src[MAX_FDS];
  if (j->path == NULL || j->cwd == NULL || j->args == NULL || j->envp == NULL) {
    if (j->path == NULL || j->cwd == NULL) napi_throw_type_error(env, NULL, "spawn: path and cwd must be strings");
    job_free(j);
    return NULL;
  }
  if (napi_is_array(env, argv[4], &is) != napi_ok || !is || napi_get_array_length(env, argv[4], &nfds) != napi_ok || nfds > MAX_FDS) {
    napi_throw_type_error(env, NULL, "spawn: fds must be an array of at most 256 fd numbers");
    job_free(j);
    return NULL;
  }
  for (uint32_t i = 0; i < nfds; i++) {
    napi_value v;
    napi_get_element(env, argv[4], i, &v);
    if (napi_get_value_int32(env, v, &src[i]) != napi_ok) { napi_throw_type_error(env, NULL, "spawn: fds must be numbers"); job_free(j); return NULL; }
  }
  posix_spawn_file_actions_init(&j->fa);
  j->have_fa = 1;
  for (uint32_t i = 0; i < nfds; i++) {
    if (src[i] < 0) {
      posix_spawn_file_actions_addopen(&j->fa, (int)i, "/dev/null", O_RDWR, 0);
    } else if ((uint32_t)src[i] == i) {
      // dup2 onto itself clears close-on-exec (glibc >= 2.29): the fd is passed as it is.
      posix_spawn_file_actions_adddup2(&j->fa, src[i], (int)i);
    } else {
      j->high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, (int)nfds);
      if (j->high[i] < 0) { int e = errno; job_free(j); return throw_errno(env, "fcntl(F_DUPFD)", e); }
      posix_spawn_file_actions_adddup2(&j->fa, j->high[i], (int)i);
    }
  }
  posix_spawn_file_actions_addchdir_np(&j->fa, j->cwd);
  posix_spawnattr_init(&j->attr);
  j->have_attr = 1;
  sigset_t all, none;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  // sigfillset leaves out glibc's two internal signals (32, 33), and posix_spawn would then leave them ignored in the
  // child; ignored survives exec, down to the processes conmon runs in the container. Set their bits directly, so
  // they are reset to default like every other signal (what libuv's fork-and-exec does).
  for (int sig = 32; sig <= 33; sig++) {
    unsigned long *words = (unsigned long *)&all;
    words[(sig - 1) / (8 * sizeof(unsigned long))] |= 1UL << ((sig - 1) % (8 * sizeof(unsigned long)));
  }
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&j->attr, &all);
  posix_spawnattr_setsigmask(&j->attr, &none);
  posix_spawnattr_setflags(&j->attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  j->step = "spawn";
  napi_value promise, name;
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, "conex:procspawn", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

// pending(fd): bytes waiting in the pipe.
static napi_value Pending(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "pending(fd)");
    return NULL;
  }
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) != 0) return throw_errno(env, "ioctl FIONREAD", errno);
  napi_value r;
  napi_create_int32(env, n, &r);
  return r;
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
// The seals runc (and crun, which took the same code) take as proof that /proc/self/exe is a copy no process can
// write: exactly these, F_SEAL_EXEC not among them.
#define RUNTIME_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

// sealedCopy(path, name) -> fd: a close-on-exec memfd holding the file's bytes, mode r-x, sealed with RUNTIME_SEALS.
// Throws with the errno of the step that failed (EACCES from memfd_create where vm.memfd_noexec forbids executable
// memfds; EIO when the file shrank while being copied or the seals read back are not RUNTIME_SEALS).
static napi_value SealedCopy(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return throw_errno(env, "sealedCopy(path, name)", EINVAL);
  char *path = get_string(env, argv[0]);
  char *name = get_string(env, argv[1]);
  int src = -1, fd = -1, err = 0;
  const char *what = "sealedCopy";
  struct stat st;
  if (path == NULL || name == NULL) { err = EINVAL; goto out; }
  if ((src = open(path, O_RDONLY | O_CLOEXEC)) < 0) { err = errno; what = "open"; goto out; }
  if (fstat(src, &st) != 0) { err = errno; what = "fstat"; goto out; }
  if (!S_ISREG(st.st_mode)) { err = EINVAL; what = "not a regular file"; goto out; }
  // MFD_EXEC: Linux >= 6.3 asks whether a memfd may be executed; older kernels do not know the flag (EINVAL).
  fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) { err = errno; what = "memfd_create"; goto out; }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { err = errno; what = "sendfile"; goto out; }
    if (n == 0) { err = EIO; what = "sendfile (file shrank)"; goto out; }
  }
  if (fchmod(fd, 0555) != 0) { err = errno; what = "fchmod"; goto out; }
  if (fcntl(fd, F_ADD_SEALS, RUNTIME_SEALS) != 0) { err = errno; what = "F_ADD_SEALS"; goto out; }
  if (fcntl(fd, F_GET_SEALS) != RUNTIME_SEALS) { err = EIO; what = "F_GET_SEALS"; goto out; }
out:
  free(path);
  free(name);
  if (src >= 0) close(src);
  if (err != 0) {
    if (fd >= 0) close(fd);
    return throw_errno(env, what, err);
  }
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

// seals(fd) -> F_GET_SEALS, or -1 (not a memfd, or no such fd): for tests (sealedCopy checks its own copy's seals).
static napi_value Seals(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &fd);
  napi_value r;
  napi_create_int32(env, fcntl(fd, F_GET_SEALS), &r);
  return r;
}

// pidfdSupported(): whether this kernel has pidfd_open (probed on our own pid).
static napi_value PidfdSupported(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (fd >= 0) close(fd);
  napi_value r;
  napi_get_boolean(env, fd >= 0, &r);
  return r;
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context actx;
  int pidfd;
  pid_t pid;
  int status;
} watch_t;

static void on_watch_closed(uv_handle_t *h) {
  watch_t *w = (watch_t *)h->data;
  napi_env env = w->env;
  close(w->pidfd);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value arg;
  napi_create_int32(env, w->status, &arg);
  call_js(env, w->actx, w->cb, NULL, 1, &arg);
  napi_close_handle_scope(env, scope);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->actx);
  free(w);
}

static void on_exit_poll(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  watch_t *w = (watch_t *)h->data;
  int st = 0;
  pid_t r;
  do r = waitpid(w->pid, &st, WNOHANG); while (r < 0 && errno == EINTR);
  if (r == 0) return;  // not yet (spurious wake-up)
  // Exit status as Node reports it: the code, or 128 + the signal.
  w->status = r < 0 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
  uv_poll_stop(h);
  uv_close((uv_handle_t *)h, on_watch_closed);
}

// watch(pid, pidfd, cb): reaps the child once it exits and calls cb(status). Takes ownership of pidfd.
static napi_value Watch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t pid;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &pid) != napi_ok) {
    napi_throw_type_error(env, NULL, "watch(pid, pidfd, cb): bad arguments");
    return NULL;
  }
  watch_t *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, "watch", ENOMEM);
  if (poll_args_init(env, argc, argv, 1, "watch(pid, pidfd, cb)", &w->poll, 0, w, &w->pidfd) != 0) { free(w); return NULL; }
  w->env = env;
  w->pid = pid;
  napi_create_reference(env, argv[2], 1, &w->cb);
  napi_value name;
  napi_create_string_utf8(env, "conex:procspawn", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->actx);
  uv_poll_start(&w->poll, UV_READABLE, on_exit_poll);
  return NULL;
}

typedef struct {
  uv_poll_t poll;
  int fd;
  int done;                   // no more callbacks; the handle is closing
  napi_env env;
  napi_ref cb;
  napi_ref self;
  napi_async_context actx;
} reader_t;

static void on_reader_closed(uv_handle_t *h) {
  reader_t *r = (reader_t *)h->data;
  close(r->fd);
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  release_handle(env, r->self, r->cb, r->actx);
  napi_close_handle_scope(env, scope);
  free(r);
}

// Stops reading and closes the fd (once the handle is closed); nothing is called back after this.
static void reader_end(reader_t *r) {
  if (r->done) return;
  r->done = 1;
  uv_poll_stop(&r->poll);
  uv_close((uv_handle_t *)&r->poll, on_reader_closed);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  reader_t *r = (reader_t *)h->data;
  napi_env env = r->env;
  char buf[16384];
  while (!r->done) {
    ssize_t n = -1;
    if (status == 0) {
      do n = read(r->fd, buf, sizeof buf); while (n < 0 && errno == EINTR);
      if (n < 0 && errno == EAGAIN) return;
    }
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value arg;
    if (n > 0) {
      void *data;
      napi_create_buffer_copy(env, (size_t)n, buf, &data, &arg);
    } else {
      napi_get_null(env, &arg);
      reader_end(r);          // r stays valid until the handle's close callback, after this one
    }
    call_js(env, r->actx, r->cb, NULL, 1, &arg);
    napi_close_handle_scope(env, scope);
    if (n <= 0) return;
  }
}

static napi_value ReaderClose(napi_env env, napi_callback_info info) {
  reader_t *r = unwrap_this(env, info);
  if (r != NULL) reader_end(r);
  return NULL;
}

// read(fd, cb) -> { close() }: takes ownership of fd (made non-blocking, closed at the end).
static napi_value Read(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  reader_t *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_errno(env, "read", ENOMEM);
  if (poll_args_init(env, argc, argv, 0, "read(fd, cb)", &r->poll, 0, r, &r->fd) != 0) { free(r); return NULL; }
  int fl = fcntl(r->fd, F_GETFL);
  if (fl >= 0) (void)fcntl(r->fd, F_SETFL, fl | O_NONBLOCK);
  r->env = env;
  napi_create_reference(env, argv[1], 1, &r->cb);
  napi_value handle = wrap_handle(env, r, "close", ReaderClose, "conex:procspawn", &r->self, &r->actx);
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
  return handle;
}

static napi_value Init(napi_env env, napi_value exports) {
  static const export_t fns[] = {
    { "pipe", Pipe }, { "spawn", Spawn }, { "watch", Watch }, { "pidfdSupported", PidfdSupported },
    { "pending", Pending }, { "read", Read }, { "sealedCopy", SealedCopy }, { "seals", Seals },
  };
  return export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
