// weightwatch: times a real server's quiescing for the health-check benchmark (Scripts/bench/guest.sh, part
// monitor). It polls one IPVS service's destinations over generic netlink (one GET_DEST dump of that service per
// poll: no process per poll, so the poll interval is really POLL_MS), runs COMMAND once the server is seen with the
// other state (e.g. the iptables rule that kills the server), and then waits until the server's weight is WANT:
// `zero` (quiesced) or `nonzero` (back). Prints "T0 T1 POLLS" in CLOCK_REALTIME seconds: T0 = when COMMAND
// returned (or the start, without one), T1 = the middle of the first poll that saw the wanted weight.
// With -a LOG PHASE_S, COMMAND runs PHASE_S seconds after the server's next check: the next line for RS:PORT that
// the acceptor appends to LOG ("REALTIME_SECONDS ADDR:PORT", see acceptor.c), so every daemon's servers die at the
// same phases of their check cycles and not at the mercy of where in its interval a death falls.
// Exit 0; 1 on timeout (T1 is then "-"); 2 on errors (the server or service not in the table, netlink).
// Build: cc -O2 -o weightwatch weightwatch.c
// Usage: weightwatch VIP:PORT RS:PORT zero|nonzero TIMEOUT_S POLL_MS [-a LOG PHASE_S] [-- COMMAND [ARGS...]]
// (IPv4, TCP)
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fd, family;
static unsigned seq = 1;
static char req[4096];
static size_t len;
static char rb[1 << 20];

static void *put(size_t n) { size_t a = NLMSG_ALIGN(n); void *p = req + len; memset(p, 0, a); len += a; return p; }
static void attr(int type, const void *data, int n) {
  struct nlattr *a = put(NLA_HDRLEN + n); a->nla_type = type; a->nla_len = NLA_HDRLEN + n; memcpy((char *)a + NLA_HDRLEN, data, n);
}
static double now_real(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static double now_mono(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void die(const char *m) { fprintf(stderr, "weightwatch: %s: %s\n", m, strerror(errno)); exit(2); }

static int resolve(void) {
  len = 0; struct nlmsghdr *h = put(NLMSG_HDRLEN); h->nlmsg_type = GENL_ID_CTRL; h->nlmsg_flags = NLM_F_REQUEST; h->nlmsg_seq = seq++;
  struct genlmsghdr *g = put(GENL_HDRLEN); g->cmd = CTRL_CMD_GETFAMILY; g->version = 1;
  attr(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, strlen(IPVS_GENL_NAME) + 1); h->nlmsg_len = len;
  if (send(fd, req, len, 0) < 0) die("send");
  ssize_t n = recv(fd, rb, sizeof rb, 0); if (n < 0) die("recv");
  struct nlmsghdr *r = (void *)rb; if (r->nlmsg_type == NLMSG_ERROR) { fprintf(stderr, "weightwatch: no IPVS family\n"); exit(2); }
  struct nlattr *a = (void *)((char *)NLMSG_DATA(r) + GENL_HDRLEN); int rem = r->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
  while (rem >= NLA_HDRLEN) {
    if (a->nla_type == CTRL_ATTR_FAMILY_ID) return *(unsigned short *)((char *)a + NLA_HDRLEN);
    rem -= NLA_ALIGN(a->nla_len); a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
  }
  exit(2);
}

static int parse(const char *s, unsigned char addr[16], unsigned short *port) {
  char ip[64]; int p;
  if (sscanf(s, "%63[^:]:%d", ip, &p) != 2) return -1;
  memset(addr, 0, 16);
  if (inet_pton(AF_INET, ip, addr) != 1) return -1;
  *port = htons(p);
  return 0;
}

static unsigned char vaddr[16], raddr[16];
static unsigned short vport, rport;

// The server's weight now, or -1 when it is not in the service.
static long weight_now(void) {
  len = 0;
  struct nlmsghdr *h = put(NLMSG_HDRLEN); h->nlmsg_type = family; h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; h->nlmsg_seq = seq++;
  struct genlmsghdr *g = put(GENL_HDRLEN); g->cmd = IPVS_CMD_GET_DEST; g->version = IPVS_GENL_VERSION;
  size_t nest = len; struct nlattr *na = put(NLA_HDRLEN); na->nla_type = IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED;
  unsigned short af = AF_INET, proto = IPPROTO_TCP;
  attr(IPVS_SVC_ATTR_AF, &af, 2); attr(IPVS_SVC_ATTR_PROTOCOL, &proto, 2); attr(IPVS_SVC_ATTR_ADDR, vaddr, 16); attr(IPVS_SVC_ATTR_PORT, &vport, 2);
  ((struct nlattr *)(req + nest))->nla_len = len - nest;
  ((struct nlmsghdr *)req)->nlmsg_len = len;
  if (send(fd, req, len, 0) < 0) die("send");
  long found = -1;
  for (;;) {
    ssize_t n = recv(fd, rb, sizeof rb, 0); if (n < 0) die("recv");
    for (struct nlmsghdr *m = (void *)rb; NLMSG_OK(m, n); m = NLMSG_NEXT(m, n)) {
      if (m->nlmsg_type == NLMSG_DONE) return found;
      if (m->nlmsg_type == NLMSG_ERROR) {
        int e = ((struct nlmsgerr *)NLMSG_DATA(m))->error;
        if (!e) continue;
        errno = -e; die("GET_DEST (is the service there?)");
      }
      struct nlattr *a = (void *)((char *)NLMSG_DATA(m) + GENL_HDRLEN); int rem = m->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
      for (; rem >= NLA_HDRLEN; rem -= NLA_ALIGN(a->nla_len), a = (void *)((char *)a + NLA_ALIGN(a->nla_len))) {
        if ((a->nla_type & NLA_TYPE_MASK) != IPVS_CMD_ATTR_DEST) continue;
        struct nlattr *d = (void *)((char *)a + NLA_HDRLEN); int drem = a->nla_len - NLA_HDRLEN;
        const unsigned char *ad = NULL; int have_port = 0, have_w = 0; unsigned short p = 0; long w = 0;
        for (; drem >= NLA_HDRLEN; drem -= NLA_ALIGN(d->nla_len), d = (void *)((char *)d + NLA_ALIGN(d->nla_len))) {
          void *v = (char *)d + NLA_HDRLEN;
          switch (d->nla_type & NLA_TYPE_MASK) {
            case IPVS_DEST_ATTR_ADDR: ad = v; break;
            case IPVS_DEST_ATTR_PORT: p = *(unsigned short *)v; have_port = 1; break;
            case IPVS_DEST_ATTR_WEIGHT: w = *(int *)v; have_w = 1; break;
          }
        }
        if (ad && have_port && have_w && p == rport && !memcmp(ad, raddr, 4)) found = w;
      }
    }
  }
}

static int wanted(long w, int zero) { return zero ? w == 0 : w > 0; }

// Waits for the next line about `server` appended to `path` (from its end now), then until PHASE seconds after the
// time on it; 2 when no such line comes within `timeout` seconds.
static void after_next_check(const char *path, const char *server, double phase, double timeout) {
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  if (fseek(f, 0, SEEK_END)) die("fseek");
  double until = now_mono() + timeout, t = -1;
  char line[256], s[128];
  while (t < 0) {
    if (!fgets(line, sizeof line, f)) {
      if (now_mono() > until) { fprintf(stderr, "weightwatch: no check of %s in %s\n", server, path); exit(2); }
      clearerr(f);
      usleep(1000);
      continue;
    }
    double x;
    if (sscanf(line, "%lf %127s", &x, s) == 2 && !strcmp(s, server)) t = x;
  }
  fclose(f);
  double wait = t + phase - now_real();
  if (wait > 0) usleep((useconds_t)(wait * 1e6));
}

int main(int argc, char **argv) {
  int cmd = 0;   // index of COMMAND in argv, 0 without one
  const char *alog = NULL;
  double aphase = 0;
  if (argc >= 9 && !strcmp(argv[6], "-a")) { alog = argv[7]; aphase = atof(argv[8]); }
  int rest = alog ? 9 : 6;
  if (argc > rest) { if (strcmp(argv[rest], "--") || argc == rest + 1) cmd = -1; else cmd = rest + 1; }
  if (argc < 6 || cmd < 0 || parse(argv[1], vaddr, &vport) || parse(argv[2], raddr, &rport) ||
      (strcmp(argv[3], "zero") && strcmp(argv[3], "nonzero"))) {
    fprintf(stderr, "usage: weightwatch VIP:PORT RS:PORT zero|nonzero TIMEOUT_S POLL_MS [-a LOG PHASE_S] [-- COMMAND [ARGS...]]\n");
    return 2;
  }
  int zero = !strcmp(argv[3], "zero");
  double timeout = atof(argv[4]);
  long poll_us = atol(argv[5]) * 1000;
  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC); if (fd < 0) die("socket");
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK}; if (bind(fd, (void *)&sa, sizeof sa) < 0) die("bind");
  family = resolve();
  long w = weight_now();
  if (w < 0) { fprintf(stderr, "weightwatch: %s is not in %s\n", argv[2], argv[1]); return 2; }
  double t0 = now_real();
  if (cmd) {
    // The server must have the other state first (an up server before its kill).
    double until = now_mono() + timeout;
    while (wanted(w, zero)) {
      if (now_mono() > until) { fprintf(stderr, "weightwatch: %s never left its state (weight %ld)\n", argv[2], w); return 2; }
      usleep(poll_us); w = weight_now();
    }
    if (alog) after_next_check(alog, argv[2], aphase, timeout);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) { execvp(argv[cmd], argv + cmd); fprintf(stderr, "weightwatch: %s: %s\n", argv[cmd], strerror(errno)); _exit(127); }
    int st; while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st)) { fprintf(stderr, "weightwatch: the command failed\n"); return 2; }
    t0 = now_real();
  }
  double until = now_mono() + timeout;
  long polls = 0;
  for (;;) {
    double a = now_real();
    w = weight_now(); polls++;
    double b = now_real();
    if (wanted(w, zero)) { printf("%.6f %.6f %ld\n", t0, (a + b) / 2, polls); return 0; }
    if (now_mono() > until) { printf("%.6f - %ld\n", t0, polls); return 1; }
    usleep(poll_us);
  }
}
