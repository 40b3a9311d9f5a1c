#ifndef LVSCTL_CNETLINK_SHIM_H
#define LVSCTL_CNETLINK_SHIM_H
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <signal.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
/* IPVS_CMD_*, IPVS_*_ATTR_*: the numbers LVSCore/IPVS/KernelNumbers.swift takes its constants from. */
#include <linux/ip_vs.h>

/* setns(2) and CLONE_NEWNET need _GNU_SOURCE, which the Swift Glibc module may not have: call it directly. */
static inline int lvs_setns_net(int fd) { return (int)syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */); }

/* lvsctl monitor's check engine (Syscalls.swift, "health checks"): epoll(7), pidfd_open(2), which glibc wraps only
   from 2.36, and posix_spawn_file_actions_addclosefrom_np (glibc 2.34), declared only under _GNU_SOURCE; the Glibc
   module imports none of them. */
#include <sys/epoll.h>
#include <spawn.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
static inline int lvs_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
static inline int lvs_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#endif
