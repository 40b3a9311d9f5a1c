// pktburst: send COUNT TCP SYN segments from SRC to DST:PORT as fast as one thread can (a raw IPv4 socket with
// IP_HDRINCL, sendmmsg, BATCH datagrams per call), for the per-packet benchmark (Scripts/bench/guest.sh). Over a
// veth pair without XDP the receiving namespace processes each packet (ip_rcv, the PREROUTING hooks that set the
// bundle marks, the route lookup) in this process's softirq, so the CPU time of the burst grows with the
// per-packet cost of the receiver's firewall (on a kernel without CONFIG_IRQ_TIME_ACCOUNTING, such as Debian's,
// softirq work is charged to the task it interrupts). Every packet is the same SYN (source port 40000), with valid
// IP and TCP checksums.
// Build: cc -O2 -static -o pktburst pktburst.c (static: starting it reads no shared library)
// Usage: pktburst SRC DST PORT COUNT [BATCH]
// Prints "CPU_NS WALL_NS" of the send loop on stdout (CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC) and
// "sent N, R retries" on stderr; exits 1 when a send fails (a full queue, ENOBUFS, is retried).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static uint16_t fold(uint32_t s) { while (s >> 16) s = (s & 0xffff) + (s >> 16); return (uint16_t)~s; }
static uint32_t sum16(const void *p, size_t n, uint32_t s) {
  const uint8_t *b = p;
  for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(b[i] << 8 | b[i + 1]);
  if (n & 1) s += (uint32_t)(b[n - 1] << 8);
  return s;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: pktburst SRC DST PORT COUNT [BATCH]\n"); return 2; }
  struct in_addr src, dst;
  if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[2], &dst) != 1) {
    fprintf(stderr, "pktburst: bad address\n");
    return 2;
  }
  int port = atoi(argv[3]), batch = argc > 5 ? atoi(argv[5]) : 32;
  long count = atol(argv[4]);
  if (port < 1 || port > 65535 || count <= 0 || batch <= 0 || batch > 1024) { fprintf(stderr, "pktburst: bad PORT, COUNT or BATCH\n"); return 2; }

  static uint8_t pkt[sizeof(struct iphdr) + sizeof(struct tcphdr)];
  struct iphdr *ip = (struct iphdr *)pkt;
  struct tcphdr *th = (struct tcphdr *)(pkt + sizeof *ip);
  ip->version = 4; ip->ihl = 5; ip->ttl = 64; ip->protocol = IPPROTO_TCP;
  ip->tot_len = htons(sizeof pkt); ip->saddr = src.s_addr; ip->daddr = dst.s_addr;
  ip->check = htons(fold(sum16(ip, sizeof *ip, 0)));
  th->source = htons(40000); th->dest = htons((uint16_t)port); th->seq = htonl(1); th->doff = 5; th->syn = 1;
  th->window = htons(65535);
  uint8_t pseudo[12];
  memcpy(pseudo, &src, 4); memcpy(pseudo + 4, &dst, 4);
  pseudo[8] = 0; pseudo[9] = IPPROTO_TCP; pseudo[10] = 0; pseudo[11] = sizeof *th;
  th->check = htons(fold(sum16(th, sizeof *th, sum16(pseudo, sizeof pseudo, 0))));

  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);   // IPPROTO_RAW implies IP_HDRINCL
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = dst};
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) { perror("pktburst: socket/connect"); return 1; }
  struct iovec iov = {.iov_base = pkt, .iov_len = sizeof pkt};
  struct mmsghdr *m = calloc((size_t)batch, sizeof *m);
  if (!m) { perror("pktburst"); return 1; }
  for (int i = 0; i < batch; i++) { m[i].msg_hdr.msg_iov = &iov; m[i].msg_hdr.msg_iovlen = 1; }
  long sent = 0, retries = 0;
  long long cpu0 = ns(CLOCK_PROCESS_CPUTIME_ID), wall0 = ns(CLOCK_MONOTONIC);
  while (sent < count) {
    int want = count - sent < batch ? (int)(count - sent) : batch;
    int n = sendmmsg(fd, m, (unsigned)want, 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) { retries++; continue; }
      perror("pktburst: sendmmsg");
      return 1;
    }
    sent += n;
  }
  long long cpu = ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = ns(CLOCK_MONOTONIC) - wall0;
  printf("%lld %lld\n", cpu, wall);
  fprintf(stderr, "sent %ld, %ld retries\n", sent, retries);
  return 0;
}
