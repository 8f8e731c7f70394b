// conex's native helper for the caller's terminal: whether an fd is one, and during `exec -t` / `run -t` / `attach`
// raw mode as podman and docker set it (golang.org/x/term's MakeRaw: no echo, no line editing, no signals, no output
// processing), and the saved settings put back afterwards. Node's own raw mode (setRawMode) needs process.stdin's stream and keeps output
// processing on (ONLCR: the container's \r\n would show as \r\r\n), which conex used to undo by running `stty
// -onlcr` (a child process and child_process itself: ~11 ms of every -t session).
#define _GNU_SOURCE
#include "napi_common.h"
#include <termios.h>
#include <unistd.h>

static int fd_arg(napi_env env, napi_callback_info info, size_t want, napi_value *argv, int32_t *fd) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want || napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, NULL, "termios: bad arguments");
    return -1;
  }
  return 0;
}

static int set_attr(int fd, const struct termios *t) {
  int r;
  do r = tcsetattr(fd, TCSADRAIN, t); while (r != 0 && errno == EINTR);
  return r;
}

// makeRaw(fd): Buffer (the settings before, for restore)
static napi_value MakeRaw(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (fd_arg(env, info, 1, argv, &fd) != 0) return NULL;
  struct termios before, raw;
  if (tcgetattr(fd, &before) != 0) return throw_errno(env, "tcgetattr", errno);
  raw = before;
  raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_oflag &= ~OPOST;
  raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  raw.c_cflag &= ~(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (set_attr(fd, &raw) != 0) return throw_errno(env, "tcsetattr", errno);
  napi_value saved;
  void *data;
  napi_create_buffer_copy(env, sizeof before, &before, &data, &saved);
  return saved;
}

// restore(fd, saved): puts back what makeRaw returned
static napi_value Restore(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  if (fd_arg(env, info, 2, argv, &fd) != 0) return NULL;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || len != sizeof(struct termios)) {
    napi_throw_type_error(env, NULL, "termios.restore: not a saved terminal state");
    return NULL;
  }
  if (set_attr(fd, (const struct termios *)data) != 0) return throw_errno(env, "tcsetattr", errno);
  return NULL;
}

// isatty(fd): boolean. Node's tty.isatty needs the tty module, which loads net and stream (~5 ms of a CLI start),
// where a `conex exec` without -t only asks whether its stdio is a terminal.
static napi_value IsATTY(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (fd_arg(env, info, 1, argv, &fd) != 0) return NULL;
  napi_value result;
  napi_get_boolean(env, isatty(fd) == 1, &result);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  static const export_t fns[] = { { "makeRaw", MakeRaw }, { "restore", Restore }, { "isatty", IsATTY } };
  return export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
