/* gst-apm tests: a deadline for every gst-check program.
 *
 * With CK_FORK=no, check enforces no timeout: a hang would run into meson's
 * timeout and be killed without a word.  This file is compiled into every
 * check program (tests/meson.build lists it among each program's sources,
 * so its constructor is always linked, unlike an object of a static
 * library that nothing references).  The constructor arms a watchdog
 * thread before main() runs:
 *
 *   APM_TEST_DEADLINE      seconds (tests/meson.build sets it a quarter
 *                          below the test's meson timeout; unset or 0: no
 *                          watchdog, e.g. a program started by hand)
 *   CK_TIMEOUT_MULTIPLIER  scales it, as meson's --timeout-multiplier
 *                          scales the timeout (the valgrind and ASan tiers
 *                          set both)
 *   APM_TEST_NAME          the test's name in the messages (default: the
 *                          program's)
 *
 * Past the deadline the watchdog prints
 *   DEADLINE: <test> still running after N s; thread backtraces follow
 * then every thread's backtrace (gdb -p attached from a forked child;
 * vgdb's "v.info scheduler" under valgrind, where gdb would show
 * valgrind's own code; without them, or if they cannot attach, each thread
 * prints its own with backtrace(3) from a signal handler), then those of
 * its child processes (with CK_FORK=yes, the test that check forked; /proc
 * wait channels if no debugger can attach), and ends the program (and
 * kills those children) with _exit (1): a hang is a failed test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char deadline_name[128];
static long deadline_s;

/* --- output: unbuffered, no allocation (the process is stuck: a lock
 * held by a stuck thread must not stop us) --- */

static void
write_all (const char *buf, size_t n)
{
  for (size_t off = 0; off < n;) {
    ssize_t w = write (STDERR_FILENO, buf + off, n - off);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    off += w;
  }
}

static void
say (const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (n < 0)
    return;
  write_all (buf, n < (int) sizeof buf ? (size_t) n : sizeof buf - 1);
}

static long
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* @name's path in PATH into @out; FALSE if there is none */
static int
find_program (const char *name, char *out, size_t size)
{
  const char *path = getenv ("PATH");

  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *end = strchr (path, ':');
    size_t len = end ? (size_t) (end - path) : strlen (path);

    if (len > 0 && (size_t) snprintf (out, size, "%.*s/%s", (int) len, path,
            name) < size && access (out, X_OK) == 0)
      return 1;
    path += len + (end ? 1 : 0);
  }
  return 0;
}

static int
under_valgrind (void)
{
  const char *p = getenv ("LD_PRELOAD");

  return p && strstr (p, "vgpreload") != NULL;
}

/* Runs @argv (argv[0] a full path) with its stdout and stderr copied to
 * ours, for at most @budget_ms; returns TRUE if its output had a frame
 * line ("#0 " from gdb, "==... at 0x" or "#0 " from vgdb). */
static int
run_dumper (char *const argv[], long budget_ms)
{
  int fds[2], got_frame = 0, status;
  char tail[8] = "";
  long end = now_ms () + budget_ms;
  pid_t pid;

  if (pipe2 (fds, O_CLOEXEC) != 0)
    return 0;
  pid = fork ();
  if (pid < 0) {
    close (fds[0]);
    close (fds[1]);
    return 0;
  }
  if (pid == 0) {
    /* only async-signal-safe calls until exec */
    int devnull = open ("/dev/null", O_RDONLY);

    if (devnull >= 0)
      dup2 (devnull, STDIN_FILENO);
    dup2 (fds[1], STDOUT_FILENO);
    dup2 (fds[1], STDERR_FILENO);
    execv (argv[0], argv);
    _exit (127);
  }
  close (fds[1]);
  for (;;) {
    struct pollfd p = { fds[0], POLLIN, 0 };
    long left = end - now_ms ();
    char buf[4096];
    ssize_t n;

    if (left <= 0) {
      say ("(%s still running after %ld s: stopped)\n", argv[0],
          budget_ms / 1000);
      break;
    }
    if (poll (&p, 1, (int) left) <= 0)
      continue;
    n = read (fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    write_all (buf, n);
    /* look for a frame line across reads: the last bytes of the previous
     * read, then this one */
    for (ssize_t i = 0; i < n && !got_frame; i++) {
      memmove (tail, tail + 1, sizeof tail - 2);
      tail[sizeof tail - 2] = buf[i];
      if (strstr (tail, "\n#0 ") || strstr (tail, " at 0x")
          || strstr (tail, " by 0x"))
        got_frame = 1;
    }
  }
  close (fds[0]);
  kill (pid, SIGKILL);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR);
  return got_frame;
}

/* --- the fallback: every thread prints its own backtrace --- */

static volatile sig_atomic_t self_dump_done;

static void
self_dump_handler (int sig)
{
  void *frames[64];
  int n = backtrace (frames, 64);

  (void) sig;
  backtrace_symbols_fd (frames, n, STDERR_FILENO);
  self_dump_done = 1;
}

static void
self_dump (pid_t watchdog_tid)
{
  struct sigaction sa;
  DIR *dir;
  struct dirent *e;

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = self_dump_handler;
  sigemptyset (&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction (SIGUSR2, &sa, NULL);

  say ("(each thread's own backtrace(3), from a SIGUSR2 handler; a "
      "thread that blocks signals shows none)\n");
  dir = opendir ("/proc/self/task");
  if (!dir)
    return;
  while ((e = readdir (dir))) {
    pid_t tid = atoi (e->d_name);
    char path[64], comm[64] = "?", wchan[64] = "?";
    int fd;
    ssize_t n;
    long end;

    if (tid <= 0 || tid == watchdog_tid)
      continue;
    snprintf (path, sizeof path, "/proc/self/task/%d/comm", tid);
    if ((fd = open (path, O_RDONLY)) >= 0) {
      n = read (fd, comm, sizeof comm - 1);
      comm[n > 0 ? n : 0] = '\0';
      comm[strcspn (comm, "\n")] = '\0';
      close (fd);
    }
    snprintf (path, sizeof path, "/proc/self/task/%d/wchan", tid);
    if ((fd = open (path, O_RDONLY)) >= 0) {
      n = read (fd, wchan, sizeof wchan - 1);
      wchan[n > 0 ? n : 0] = '\0';
      close (fd);
    }
    say ("\nThread %d (%s), waiting in %s:\n", tid, comm, wchan);
    self_dump_done = 0;
    if (syscall (SYS_tgkill, getpid (), tid, SIGUSR2) != 0)
      continue;
    end = now_ms () + 2000;
    while (!self_dump_done && now_ms () < end) {
      struct timespec ts = { 0, 10 * 1000 * 1000 };

      nanosleep (&ts, NULL);
    }
    if (!self_dump_done)
      say ("(no answer within 2 s)\n");
  }
  closedir (dir);
}

/* --- the watchdog --- */

/* one line per thread of @pid: name, state, kernel wait channel */
static void
proc_threads (pid_t pid)
{
  char dir_path[64];
  DIR *dir;
  struct dirent *e;

  snprintf (dir_path, sizeof dir_path, "/proc/%d/task", (int) pid);
  if (!(dir = opendir (dir_path)))
    return;
  while ((e = readdir (dir))) {
    char path[384], comm[64] = "?", wchan[64] = "?";
    int fd;
    ssize_t n;

    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "%s/%s/comm", dir_path, e->d_name);
    if ((fd = open (path, O_RDONLY)) >= 0) {
      n = read (fd, comm, sizeof comm - 1);
      comm[n > 0 ? n : 0] = '\0';
      comm[strcspn (comm, "\n")] = '\0';
      close (fd);
    }
    snprintf (path, sizeof path, "%s/%s/wchan", dir_path, e->d_name);
    if ((fd = open (path, O_RDONLY)) >= 0) {
      n = read (fd, wchan, sizeof wchan - 1);
      wchan[n > 0 ? n : 0] = '\0';
      close (fd);
    }
    say ("thread %s (%s), waiting in %s\n", e->d_name, comm, wchan);
  }
  closedir (dir);
}

/* @pid's threads from a debugger (vgdb under valgrind, else gdb); FALSE if
 * none gave a backtrace */
static int
debugger_dump (pid_t pid, long budget_ms)
{
  char prog[4096], pid_arg[32], pid_opt[48];

  snprintf (pid_arg, sizeof pid_arg, "%d", (int) pid);
  snprintf (pid_opt, sizeof pid_opt, "--pid=%d", (int) pid);
  if (under_valgrind ()) {
    /* gdb would show valgrind's own code: ask its gdbserver for the
     * client's threads */
    char *argv[] = { prog, pid_opt, (char *) "v.info", (char *) "scheduler",
      NULL
    };

    if (!find_program ("vgdb", prog, sizeof prog)) {
      say ("(no vgdb in PATH)\n");
      return 0;
    }
    say ("--- vgdb %s v.info scheduler\n", pid_opt);
    return run_dumper (argv, budget_ms);
  } else {
    char *argv[] = { prog, (char *) "-p", pid_arg, (char *) "-batch",
      (char *) "-nx", (char *) "-iex", (char *) "set debuginfod enabled off",
      (char *) "-ex", (char *) "set pagination off",
      (char *) "-ex", (char *) "info threads",
      (char *) "-ex", (char *) "thread apply all bt", NULL
    };

    if (!find_program ("gdb", prog, sizeof prog)) {
      say ("(no gdb in PATH: scripts/setup.sh --tests installs it)\n");
      return 0;
    }
    say ("--- gdb -p %s -batch -ex 'thread apply all bt'\n", pid_arg);
    return run_dumper (argv, budget_ms);
  }
}

/* our child processes (with CK_FORK=yes, check runs each test in one) into
 * @out; returns how many */
static int
child_processes (pid_t * out, int max)
{
  DIR *dir = opendir ("/proc");
  struct dirent *e;
  int n = 0;

  if (!dir)
    return 0;
  while ((e = readdir (dir)) && n < max) {
    char path[64], stat[512], *p;
    pid_t pid = atoi (e->d_name);
    int fd;
    ssize_t len;

    if (pid <= 0)
      continue;
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    if ((fd = open (path, O_RDONLY)) < 0)
      continue;
    len = read (fd, stat, sizeof stat - 1);
    close (fd);
    stat[len > 0 ? len : 0] = '\0';
    /* "pid (comm) S ppid ...": after the last ')' */
    if ((p = strrchr (stat, ')')) && strlen (p) > 4
        && atoi (p + 4) == (int) getpid ())
      out[n++] = pid;
  }
  closedir (dir);
  return n;
}

static void
dump_threads (pid_t * children, int n_children)
{
  long budget_ms = (deadline_s / 4 < 10 ? 10 : deadline_s / 4) * 1000L;

  /* Yama (ptrace_scope 1) lets only ancestors attach, unless we allow it */
#ifdef PR_SET_PTRACER
  prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif

  if (!debugger_dump (getpid (), budget_ms)) {
    say ("--- no backtrace from a debugger (missing, or ptrace denied)\n");
    self_dump ((pid_t) syscall (SYS_gettid));
  }
  for (int i = 0; i < n_children; i++) {
    say ("\n--- child process %d (a test forked by check?)\n",
        (int) children[i]);
    if (!debugger_dump (children[i], budget_ms / 2))
      proc_threads (children[i]);
  }
  say ("--- end of thread backtraces\n");
}

static void *
watchdog (void *data)
{
  struct timespec at;
  pid_t children[16];
  int n_children;

  (void) data;
  clock_gettime (CLOCK_MONOTONIC, &at);
  at.tv_sec += deadline_s;
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR);

  say ("\nDEADLINE: %s still running after %ld s; thread backtraces "
      "follow\n", deadline_name, deadline_s);
  n_children = child_processes (children, 16);
  dump_threads (children, n_children);
  say ("DEADLINE: %s failed: still running after %ld s (a hang; the "
      "backtraces above show where)\n", deadline_name, deadline_s);
  /* nothing of ours outlives us (a test forked by check may lead its own
   * process group) */
  for (int i = 0; i < n_children; i++) {
    kill (-children[i], SIGKILL);
    kill (children[i], SIGKILL);
  }
  _exit (1);
  return NULL;
}

__attribute__ ((constructor))
     static void apm_test_deadline_arm (void)
{
  const char *d = getenv ("APM_TEST_DEADLINE");
  const char *m = getenv ("CK_TIMEOUT_MULTIPLIER");
  const char *name = getenv ("APM_TEST_NAME");
  long mult = m ? atol (m) : 1;
  pthread_attr_t attr;
  pthread_t thread;
  sigset_t all, old;
  void *frames[1];
  int err;

  deadline_s = d ? atol (d) : 0;
  if (deadline_s <= 0)
    return;
  if (mult < 1)
    mult = 1;
  if (mult > 100)
    mult = 100;
  deadline_s *= mult;
  if (!name || !*name)
    name = program_invocation_short_name;
  snprintf (deadline_name, sizeof deadline_name, "%s", name);

  /* backtrace() loads libgcc_s on its first call: not in a signal
   * handler */
  backtrace (frames, 1);

  /* the thread takes no signal meant for the program */
  sigfillset (&all);
  pthread_sigmask (SIG_SETMASK, &all, &old);
  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  if ((err = pthread_create (&thread, &attr, watchdog, NULL)) != 0)
    say ("apmtestdeadline: cannot start the watchdog: %s\n",
        strerror (err));
  else
    pthread_setname_np (thread, "apm-deadline");
  pthread_attr_destroy (&attr);
  pthread_sigmask (SIG_SETMASK, &old, NULL);
}
