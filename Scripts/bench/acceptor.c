// acceptor: the real servers of the health-check benchmark (Scripts/bench/guest.sh, part monitor). One process,
// one thread: a listening socket on the wildcard address for each of PORT_COUNT ports from FIRST_PORT, all in one
// epoll set; every connection is accepted (accept4 until EAGAIN) and closed at once, so the listener is never what
// a health checker waits for. Every address of the namespace answers on those ports.
//
// COUNT_FILE holds the number of connections accepted so far (one decimal line, rewritten in place about every
// 100 ms and at exit): the benchmark reads it before and after a window to know how many checks really ran.
// With -w LOG ADDR:PORT..., each connection to one of those servers (its local address and port, from getsockname)
// is appended to LOG as "REALTIME_SECONDS ADDR:PORT": the time of a victim's last check before it is killed.
// "ready" on stdout once every socket listens. SIGTERM/SIGINT: exits 0 after writing the count.
//
// Build: cc -O2 -o acceptor acceptor.c
// Usage: acceptor FIRST_PORT PORT_COUNT COUNT_FILE [-w LOG ADDR:PORT...]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WATCH 256

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static double now_real(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double now_mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void write_count(int fd, unsigned long long n) {
  char buf[32];
  int len = snprintf(buf, sizeof buf, "%20llu\n", n);
  if (pwrite(fd, buf, len, 0) != len) perror("acceptor: count file");
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: acceptor FIRST_PORT PORT_COUNT COUNT_FILE [-w LOG ADDR:PORT...]\n");
    return 2;
  }
  int first = atoi(argv[1]), count = atoi(argv[2]);
  if (first < 1 || count < 1 || first + count - 1 > 65535) { fprintf(stderr, "acceptor: bad ports\n"); return 2; }
  int cfd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (cfd < 0) { perror(argv[3]); return 2; }
  FILE *wlog = NULL;
  struct in_addr waddr[MAX_WATCH];
  unsigned short wport[MAX_WATCH];
  int nwatch = 0;
  if (argc > 4) {
    if (strcmp(argv[4], "-w") || argc < 6) { fprintf(stderr, "acceptor: expected -w LOG ADDR:PORT...\n"); return 2; }
    wlog = fopen(argv[5], "a");
    if (!wlog) { perror(argv[5]); return 2; }
    setvbuf(wlog, NULL, _IOLBF, 0);
    for (int i = 6; i < argc && nwatch < MAX_WATCH; i++) {
      char a[64];
      snprintf(a, sizeof a, "%s", argv[i]);
      char *colon = strrchr(a, ':');
      if (!colon) { fprintf(stderr, "acceptor: bad server %s\n", argv[i]); return 2; }
      *colon = 0;
      if (inet_pton(AF_INET, a, &waddr[nwatch]) != 1) { fprintf(stderr, "acceptor: bad address %s\n", a); return 2; }
      wport[nwatch++] = htons((unsigned short)atoi(colon + 1));
    }
  }
  struct rlimit rl = {65536, 65536};
  setrlimit(RLIMIT_NOFILE, &rl);
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) { perror("epoll_create1"); return 2; }
  for (int i = 0; i < count; i++) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) { perror("socket"); return 2; }
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(first + i), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(s, (struct sockaddr *)&sin, sizeof sin) < 0) { fprintf(stderr, "acceptor: bind port %d: %s\n", first + i, strerror(errno)); return 2; }
    if (listen(s, 4096) < 0) { perror("listen"); return 2; }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0) { perror("epoll_ctl"); return 2; }
  }
  unsigned long long accepted = 0;
  write_count(cfd, 0);
  printf("ready\n");
  fflush(stdout);

  double last = now_mono();
  struct epoll_event evs[64];
  while (!stop) {
    int n = epoll_wait(ep, evs, 64, 100);
    if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 2; }
    for (int i = 0; i < n; i++) {
      for (;;) {
        int c = accept4(evs[i].data.fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          if (errno == EINTR || errno == ECONNABORTED) continue;
          if (errno == EMFILE || errno == ENFILE) break;
          perror("accept4");
          break;
        }
        accepted++;
        if (nwatch) {
          struct sockaddr_in me;
          socklen_t len = sizeof me;
          if (getsockname(c, (struct sockaddr *)&me, &len) == 0) {
            for (int k = 0; k < nwatch; k++) {
              if (me.sin_port == wport[k] && me.sin_addr.s_addr == waddr[k].s_addr) {
                char a[INET_ADDRSTRLEN];
                inet_ntop(AF_INET, &me.sin_addr, a, sizeof a);
                fprintf(wlog, "%.6f %s:%d\n", now_real(), a, ntohs(me.sin_port));
                break;
              }
            }
          }
        }
        close(c);
      }
    }
    double t = now_mono();
    if (t - last >= 0.1) { write_count(cfd, accepted); last = t; }
  }
  write_count(cfd, accepted);
  return 0;
}
