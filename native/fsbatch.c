// conex's native helper for the file work the API service does per exec off its event loop, each as one job in
// libuv's thread pool with one callback: removing an exec's bundle (a dozen files, a socket, FIFOs, a directory)
// and writing conmon's pid into the cgroup.procs of every cgroup hierarchy. The CLI removes bundles with the same
// code, synchronously. Through fs/promises these were ~30 thread-pool round trips per exec, each with its request
// objects and promise glue on the event loop: ~2.5 ms of the service's CPU per exec (a --cpu-prof of 300 sequential
// API execs).
#define _GNU_SOURCE
#include "napi_common.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_ref cb;
  char **paths;       // removeTree: one path; writeFiles: n paths
  size_t n;
  char *data;         // writeFiles: what each file gets
  size_t len;
  int *errs;          // an errno (0: done) per path
} job_t;

static void job_free(napi_env env, job_t *j) {
  for (size_t i = 0; i < j->n; i++) free(j->paths[i]);
  free(j->paths);
  free(j->data);
  free(j->errs);
  if (j->cb != NULL) napi_delete_reference(env, j->cb);
  if (j->work != NULL) napi_delete_async_work(env, j->work);
  free(j);
}

// Removes the entries of directory fd `dir` and below (no symlink is followed), then closes it; 0 or an errno.
static int clear_dir(int dir) {
  DIR *d = fdopendir(dir);
  if (d == NULL) { int e = errno; close(dir); return e; }
  int err = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (unlinkat(dir, e->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR && errno != EPERM) { err = errno; break; }
    int sub = openat(dir, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) { if (errno == ENOENT) continue; err = errno; break; }
    if ((err = clear_dir(sub)) != 0) break;
    if (unlinkat(dir, e->d_name, AT_REMOVEDIR) != 0 && errno != ENOENT) { err = errno; break; }
  }
  closedir(d);
  return err;
}

// Removes directory `path` and everything below it; a missing one is 0, else 0 or an errno.
static int remove_tree(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  int err = clear_dir(fd);
  if (err == 0 && rmdir(path) != 0 && errno != ENOENT) err = errno;
  return err;
}

static void remove_execute(napi_env env, void *data) {
  job_t *j = data;
  j->errs[0] = remove_tree(j->paths[0]);
}

static void write_execute(napi_env env, void *data) {
  job_t *j = data;
  for (size_t i = 0; i < j->n; i++) {
    int fd = open(j->paths[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) { j->errs[i] = errno; continue; }
    ssize_t w;
    do w = write(fd, j->data, j->len); while (w < 0 && errno == EINTR);
    j->errs[i] = w < 0 ? errno : (size_t)w != j->len ? EIO : 0;
    if (close(fd) != 0 && j->errs[i] == 0) j->errs[i] = errno;
  }
}

// Calls back with the errnos: a number for removeTree, an array for writeFiles.
static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, j->cb, &cb);
  napi_get_global(env, &recv); // napi_make_callback needs an object to call on
  if (j->data == NULL) napi_create_int32(env, status == napi_ok ? j->errs[0] : ECANCELED, &arg);
  else {
    napi_create_array_with_length(env, j->n, &arg);
    for (size_t i = 0; i < j->n; i++) {
      napi_value v;
      napi_create_int32(env, status == napi_ok ? j->errs[i] : ECANCELED, &v);
      napi_set_element(env, arg, (uint32_t)i, v);
    }
  }
  job_free(env, j);
  napi_make_callback(env, NULL, recv, cb, 1, &arg, &result);
}

static char *string_arg(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s != NULL) napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static napi_value queue(napi_env env, job_t *j, napi_value cb, napi_async_execute_callback execute, const char *name) {
  napi_value res;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &res);
  napi_create_reference(env, cb, 1, &j->cb);
  if (napi_create_async_work(env, NULL, res, execute, complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    job_free(env, j);
    return throw_errno(env, name, ENOMEM);
  }
  return NULL;
}

static job_t *job_new(size_t n) {
  job_t *j = calloc(1, sizeof *j);
  if (j == NULL) return NULL;
  j->paths = calloc(n > 0 ? n : 1, sizeof *j->paths);
  j->errs = calloc(n > 0 ? n : 1, sizeof *j->errs);
  if (j->paths == NULL || j->errs == NULL) { free(j->paths); free(j->errs); free(j); return NULL; }
  return j;
}

// removeTree(path, cb(errno)): removes the directory and everything below it; a missing one is 0.
static napi_value RemoveTree(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_valuetype t;
  if (argc < 2 || napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "removeTree(path, cb): bad arguments");
    return NULL;
  }
  job_t *j = job_new(1);
  if (j == NULL) return throw_errno(env, "removeTree", ENOMEM);
  j->n = 1;
  if ((j->paths[0] = string_arg(env, argv[0])) == NULL) { job_free(env, j); napi_throw_type_error(env, NULL, "removeTree: path must be a string"); return NULL; }
  return queue(env, j, argv[1], remove_execute, "removeTree");
}

// removeTreeSync(path): errno. The same on the calling thread (the CLI, which has nothing else to do meanwhile).
static napi_value RemoveTreeSync(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *path = argc < 1 ? NULL : string_arg(env, argv[0]);
  if (path == NULL) { napi_throw_type_error(env, NULL, "removeTreeSync(path): path must be a string"); return NULL; }
  int err = remove_tree(path);
  free(path);
  napi_create_int32(env, err, &r);
  return r;
}

// writeFiles(paths, data, cb(errnos)): writes `data` to each existing file, one open/write/close each, in order.
static napi_value WriteFiles(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_array = false;
  napi_valuetype t;
  uint32_t n = 0;
  if (argc < 3 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "writeFiles(paths, data, cb): bad arguments");
    return NULL;
  }
  napi_get_array_length(env, argv[0], &n);
  job_t *j = job_new(n);
  if (j == NULL) return throw_errno(env, "writeFiles", ENOMEM);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, argv[0], i, &v);
    if ((j->paths[i] = string_arg(env, v)) == NULL) { job_free(env, j); napi_throw_type_error(env, NULL, "writeFiles: paths must be strings"); return NULL; }
    j->n = i + 1;
  }
  if ((j->data = string_arg(env, argv[1])) == NULL) { job_free(env, j); napi_throw_type_error(env, NULL, "writeFiles: data must be a string"); return NULL; }
  j->len = strlen(j->data);
  return queue(env, j, argv[2], write_execute, "writeFiles");
}

static napi_value Init(napi_env env, napi_value exports) {
  static const export_t fns[] = { { "removeTree", RemoveTree }, { "removeTreeSync", RemoveTreeSync }, { "writeFiles", WriteFiles } };
  return export_all(env, exports, fns, sizeof fns / sizeof fns[0]);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
