// timeit: run one command, append "LABEL<TAB>wall_ms<TAB>maxrss_kib<TAB>exit" to a results file.
// Wall time is CLOCK_MONOTONIC around fork/exec/wait4; maxrss is the child's ru_maxrss from wait4 (the field
// /usr/bin/time -v reports as "Maximum resident set size"). stdin/stdout/stderr are inherited.
// With TIMEIT_CPU=1 in the environment the figure is the child's CPU time instead (ru_utime + ru_stime, in ms).
// Build: cc -O2 -o timeit timeit.c      Usage: timeit RESULTS LABEL -- COMMAND [ARGS...]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 5 || strcmp(argv[3], "--")) { fprintf(stderr, "usage: timeit RESULTS LABEL -- COMMAND [ARGS...]\n"); return 2; }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) { perror("fork"); return 2; }
  if (pid == 0) { execvp(argv[4], argv + 4); fprintf(stderr, "timeit: %s: %s\n", argv[4], strerror(errno)); _exit(127); }
  int st; struct rusage ru;
  while (wait4(pid, &st, 0, &ru) < 0) if (errno != EINTR) { perror("wait4"); return 2; }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
  const char *cpu = getenv("TIMEIT_CPU");
  if (cpu && !strcmp(cpu, "1"))
    ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  FILE *f = fopen(argv[1], "a");
  if (!f) { perror(argv[1]); return 2; }
  fprintf(f, "%s\t%.3f\t%ld\t%d\n", argv[2], ms, ru.ru_maxrss, rc);
  fclose(f);
  return rc;
}
