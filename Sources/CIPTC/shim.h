#ifndef LVSCTL_CIPTC_SHIM_H
#define LVSCTL_CIPTC_SHIM_H
#include <stddef.h>
#include <libiptc/libiptc.h>
#include <libiptc/libip6tc.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/nf_nat.h>

/* XT_ALIGN is a macro Swift cannot import. */
static inline size_t lvs_xt_align(size_t n) { return XT_ALIGN(n); }

/* Sizes of the extension payloads lvsctl writes, so Swift can check its hand-computed layout
   against the C headers (Firewall/IPTC.swift, iptcLayoutMismatches()). */
static inline size_t lvs_sizeof_xt_entry_match(void) { return sizeof(struct xt_entry_match); }
static inline size_t lvs_sizeof_xt_entry_target(void) { return sizeof(struct xt_entry_target); }
static inline size_t lvs_sizeof_xt_standard_target(void) { return sizeof(struct xt_standard_target); }
static inline size_t lvs_sizeof_xt_tcp(void) { return sizeof(struct xt_tcp); }
static inline size_t lvs_sizeof_xt_udp(void) { return sizeof(struct xt_udp); }
static inline size_t lvs_sizeof_xt_multiport_v1(void) { return sizeof(struct xt_multiport_v1); }
static inline size_t lvs_offsetof_xt_multiport_v1_pflags(void) { return offsetof(struct xt_multiport_v1, pflags); }
static inline size_t lvs_offsetof_xt_multiport_v1_invert(void) { return offsetof(struct xt_multiport_v1, invert); }
static inline size_t lvs_sizeof_xt_comment_info(void) { return sizeof(struct xt_comment_info); }
static inline size_t lvs_sizeof_xt_mark_tginfo2(void) { return sizeof(struct xt_mark_tginfo2); }
static inline size_t lvs_sizeof_nf_nat_ipv4_multi_range_compat(void) { return sizeof(struct nf_nat_ipv4_multi_range_compat); }
static inline size_t lvs_sizeof_nf_nat_range(void) { return sizeof(struct nf_nat_range); }
#endif
