/* tests/faults/fail_writes.c — an LD_PRELOAD shim that makes writes to regular files fail, for
 * the fault-injection test (tests/faults/check_write_faults.py).
 *
 *   QTZFLOW_FAIL_WRITE=N     the N-th write to a regular file (1-based, counted over write,
 *                            pwrite, pwrite64 and writev) fails, and so does every later one
 *                            (a disk that stays full); 0 or unset: nothing fails
 *   QTZFLOW_FAIL_ERRNO=EIO   the error (ENOSPC by default)
 *   QTZFLOW_FAIL_ONCE=1      only the N-th write fails (a transient error)
 *   QTZFLOW_WRITE_COUNT=F    at exit, append the number of writes counted to file F
 *
 * Writes to terminals, pipes and sockets (stderr, say) are never counted or failed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void*, size_t);
static atomic_long calls;
static long fail_at = -1;
static int fail_errno = ENOSPC, fail_once = 0;

static void count_at_exit(void) {
  const char* f = getenv("QTZFLOW_WRITE_COUNT");
  if (f == NULL || *f == '\0') return;
  int fd = open(f, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  char line[32];
  int n = snprintf(line, sizeof line, "%ld\n", (long)atomic_load(&calls));
  write_fn real_write = (write_fn)dlsym(RTLD_NEXT, "write");
  if (n > 0) (void)real_write(fd, line, (size_t)n);
  close(fd);
}

__attribute__((constructor)) static void setup(void) {
  const char* n = getenv("QTZFLOW_FAIL_WRITE");
  if (n != NULL && atol(n) > 0) fail_at = atol(n);
  const char* e = getenv("QTZFLOW_FAIL_ERRNO");
  if (e != NULL && strcmp(e, "EIO") == 0) fail_errno = EIO;
  const char* once = getenv("QTZFLOW_FAIL_ONCE");
  fail_once = once != NULL && strcmp(once, "1") == 0;
  atexit(count_at_exit);
}

/* 1: this write fails (errno set); 0: let it through. */
static int should_fail(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  const long k = atomic_fetch_add(&calls, 1) + 1;
  if (fail_at <= 0 || k < fail_at || (fail_once && k != fail_at)) return 0;
  errno = fail_errno;
  return 1;
}

typedef ssize_t (*pwrite_fn)(int, const void*, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void*, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec*, int);
#define REAL(name, type) \
  static type real_##name; \
  if (!real_##name) real_##name = (type)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void* buf, size_t count) {
  REAL(write, write_fn);
  if (should_fail(fd)) return -1;
  return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  REAL(pwrite, pwrite_fn);
  if (should_fail(fd)) return -1;
  return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  REAL(pwrite64, pwrite64_fn);
  if (should_fail(fd)) return -1;
  return real_pwrite64(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  REAL(writev, writev_fn);
  if (should_fail(fd)) return -1;
  return real_writev(fd, iov, iovcnt);
}
