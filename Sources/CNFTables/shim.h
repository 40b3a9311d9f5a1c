#ifndef LVSCTL_CNFTABLES_SHIM_H
#define LVSCTL_CNFTABLES_SHIM_H
/* libnftables (Debian: libnftables-dev): the nft command language, one buffer = one transaction.
   Only Sources/LVSCore/Firewall/NFTables.swift imports it. */
#include <nftables/libnftables.h>
#endif
