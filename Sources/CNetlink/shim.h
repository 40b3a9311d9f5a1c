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
#endif
