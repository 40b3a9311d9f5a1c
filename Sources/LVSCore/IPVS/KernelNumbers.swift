// The attribute numbers of `linux/ip_vs.h`, taken from the header (through Sources/CNetlink/shim.h) once, here.
// Each is a `static let` of type UInt16 initialised from the header's enum constant: a compile-time constant, which
// the optimiser folds to the literal (the global is statically initialised, so no lazy-initialisation call), so
// the codec's switches and fixed-offset writers compile as they did with bare literals.
import CNetlink

/// The attribute numbers of the IPVS generic-netlink family (`linux/ip_vs.h`), one namespace per attribute set.
public enum IPVSAttr {
    /// Top-level attributes of a message (`IPVS_CMD_ATTR_*`).
    public enum Command {
        /// `IPVS_CMD_ATTR_SERVICE` (nested).
        public static let service = UInt16(IPVS_CMD_ATTR_SERVICE)
        /// `IPVS_CMD_ATTR_DEST` (nested).
        public static let dest = UInt16(IPVS_CMD_ATTR_DEST)
        /// `IPVS_CMD_ATTR_DAEMON` (nested).
        public static let daemon = UInt16(IPVS_CMD_ATTR_DAEMON)
        /// `IPVS_CMD_ATTR_TIMEOUT_TCP`.
        public static let timeoutTCP = UInt16(IPVS_CMD_ATTR_TIMEOUT_TCP)
        /// `IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`.
        public static let timeoutTCPFin = UInt16(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN)
        /// `IPVS_CMD_ATTR_TIMEOUT_UDP`.
        public static let timeoutUDP = UInt16(IPVS_CMD_ATTR_TIMEOUT_UDP)
    }

    /// Service attributes, inside `IPVS_CMD_ATTR_SERVICE` (`IPVS_SVC_ATTR_*`).
    public enum Service {
        /// `IPVS_SVC_ATTR_AF`.
        public static let af = UInt16(IPVS_SVC_ATTR_AF)
        /// `IPVS_SVC_ATTR_PROTOCOL`.
        public static let `protocol` = UInt16(IPVS_SVC_ATTR_PROTOCOL)
        /// `IPVS_SVC_ATTR_ADDR`.
        public static let addr = UInt16(IPVS_SVC_ATTR_ADDR)
        /// `IPVS_SVC_ATTR_PORT`.
        public static let port = UInt16(IPVS_SVC_ATTR_PORT)
        /// `IPVS_SVC_ATTR_FWMARK`.
        public static let fwmark = UInt16(IPVS_SVC_ATTR_FWMARK)
        /// `IPVS_SVC_ATTR_SCHED_NAME`.
        public static let schedName = UInt16(IPVS_SVC_ATTR_SCHED_NAME)
        /// `IPVS_SVC_ATTR_FLAGS`.
        public static let flags = UInt16(IPVS_SVC_ATTR_FLAGS)
        /// `IPVS_SVC_ATTR_TIMEOUT`.
        public static let timeout = UInt16(IPVS_SVC_ATTR_TIMEOUT)
        /// `IPVS_SVC_ATTR_NETMASK`.
        public static let netmask = UInt16(IPVS_SVC_ATTR_NETMASK)
        /// `IPVS_SVC_ATTR_STATS`.
        public static let stats = UInt16(IPVS_SVC_ATTR_STATS)
        /// `IPVS_SVC_ATTR_PE_NAME`.
        public static let peName = UInt16(IPVS_SVC_ATTR_PE_NAME)
        /// `IPVS_SVC_ATTR_STATS64`.
        public static let stats64 = UInt16(IPVS_SVC_ATTR_STATS64)
    }

    /// Destination attributes, inside `IPVS_CMD_ATTR_DEST` (`IPVS_DEST_ATTR_*`).
    public enum Dest {
        /// `IPVS_DEST_ATTR_ADDR`.
        public static let addr = UInt16(IPVS_DEST_ATTR_ADDR)
        /// `IPVS_DEST_ATTR_PORT`.
        public static let port = UInt16(IPVS_DEST_ATTR_PORT)
        /// `IPVS_DEST_ATTR_FWD_METHOD`.
        public static let fwdMethod = UInt16(IPVS_DEST_ATTR_FWD_METHOD)
        /// `IPVS_DEST_ATTR_WEIGHT`.
        public static let weight = UInt16(IPVS_DEST_ATTR_WEIGHT)
        /// `IPVS_DEST_ATTR_U_THRESH`.
        public static let upperThreshold = UInt16(IPVS_DEST_ATTR_U_THRESH)
        /// `IPVS_DEST_ATTR_L_THRESH`.
        public static let lowerThreshold = UInt16(IPVS_DEST_ATTR_L_THRESH)
        /// `IPVS_DEST_ATTR_ACTIVE_CONNS`.
        public static let activeConns = UInt16(IPVS_DEST_ATTR_ACTIVE_CONNS)
        /// `IPVS_DEST_ATTR_INACT_CONNS`.
        public static let inactiveConns = UInt16(IPVS_DEST_ATTR_INACT_CONNS)
        /// `IPVS_DEST_ATTR_PERSIST_CONNS`.
        public static let persistConns = UInt16(IPVS_DEST_ATTR_PERSIST_CONNS)
        /// `IPVS_DEST_ATTR_STATS`.
        public static let stats = UInt16(IPVS_DEST_ATTR_STATS)
        /// `IPVS_DEST_ATTR_ADDR_FAMILY`.
        public static let addrFamily = UInt16(IPVS_DEST_ATTR_ADDR_FAMILY)
        /// `IPVS_DEST_ATTR_STATS64`.
        public static let stats64 = UInt16(IPVS_DEST_ATTR_STATS64)
        /// `IPVS_DEST_ATTR_TUN_TYPE`.
        public static let tunType = UInt16(IPVS_DEST_ATTR_TUN_TYPE)
        /// `IPVS_DEST_ATTR_TUN_PORT`.
        public static let tunPort = UInt16(IPVS_DEST_ATTR_TUN_PORT)
        /// `IPVS_DEST_ATTR_TUN_FLAGS`.
        public static let tunFlags = UInt16(IPVS_DEST_ATTR_TUN_FLAGS)
    }

    /// Sync-daemon attributes, inside `IPVS_CMD_ATTR_DAEMON` (`IPVS_DAEMON_ATTR_*`).
    public enum Daemon {
        /// `IPVS_DAEMON_ATTR_STATE`.
        public static let state = UInt16(IPVS_DAEMON_ATTR_STATE)
        /// `IPVS_DAEMON_ATTR_MCAST_IFN`.
        public static let mcastInterface = UInt16(IPVS_DAEMON_ATTR_MCAST_IFN)
        /// `IPVS_DAEMON_ATTR_SYNC_ID`.
        public static let syncID = UInt16(IPVS_DAEMON_ATTR_SYNC_ID)
        /// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`.
        public static let syncMaxLen = UInt16(IPVS_DAEMON_ATTR_SYNC_MAXLEN)
        /// `IPVS_DAEMON_ATTR_MCAST_GROUP`.
        public static let mcastGroup = UInt16(IPVS_DAEMON_ATTR_MCAST_GROUP)
        /// `IPVS_DAEMON_ATTR_MCAST_GROUP6`.
        public static let mcastGroup6 = UInt16(IPVS_DAEMON_ATTR_MCAST_GROUP6)
        /// `IPVS_DAEMON_ATTR_MCAST_PORT`.
        public static let mcastPort = UInt16(IPVS_DAEMON_ATTR_MCAST_PORT)
        /// `IPVS_DAEMON_ATTR_MCAST_TTL`.
        public static let mcastTTL = UInt16(IPVS_DAEMON_ATTR_MCAST_TTL)
    }

    /// Counter attributes, inside `..._ATTR_STATS` and `..._ATTR_STATS64` (`IPVS_STATS_ATTR_*`).
    public enum Stats {
        /// `IPVS_STATS_ATTR_CONNS`.
        public static let conns = UInt16(IPVS_STATS_ATTR_CONNS)
        /// `IPVS_STATS_ATTR_INPKTS`.
        public static let inPackets = UInt16(IPVS_STATS_ATTR_INPKTS)
        /// `IPVS_STATS_ATTR_OUTPKTS`.
        public static let outPackets = UInt16(IPVS_STATS_ATTR_OUTPKTS)
        /// `IPVS_STATS_ATTR_INBYTES` (u64 in both layouts).
        public static let inBytes = UInt16(IPVS_STATS_ATTR_INBYTES)
        /// `IPVS_STATS_ATTR_OUTBYTES` (u64 in both layouts).
        public static let outBytes = UInt16(IPVS_STATS_ATTR_OUTBYTES)
        /// `IPVS_STATS_ATTR_CPS`.
        public static let cps = UInt16(IPVS_STATS_ATTR_CPS)
        /// `IPVS_STATS_ATTR_INPPS`.
        public static let inPPS = UInt16(IPVS_STATS_ATTR_INPPS)
        /// `IPVS_STATS_ATTR_OUTPPS`.
        public static let outPPS = UInt16(IPVS_STATS_ATTR_OUTPPS)
        /// `IPVS_STATS_ATTR_INBPS`.
        public static let inBPS = UInt16(IPVS_STATS_ATTR_INBPS)
        /// `IPVS_STATS_ATTR_OUTBPS`.
        public static let outBPS = UInt16(IPVS_STATS_ATTR_OUTBPS)
    }

    /// Attributes of the `IPVS_CMD_GET_INFO` reply (`IPVS_INFO_ATTR_*`).
    public enum Info {
        /// `IPVS_INFO_ATTR_VERSION`.
        public static let version = UInt16(IPVS_INFO_ATTR_VERSION)
        /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`.
        public static let connTabSize = UInt16(IPVS_INFO_ATTR_CONN_TAB_SIZE)
    }
}
