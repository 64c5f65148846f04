/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/omx.yaml */
/* YNL-GEN uapi header */
/* Regenerate with scripts/netlink-gen.sh; scripts/checks/netlink-spec.sh fails on drift. */

#ifndef _UAPI_LINUX_OMX_H
#define _UAPI_LINUX_OMX_H

#define OMX_FAMILY_NAME		"omx"
#define OMX_FAMILY_VERSION	1

/**
 * enum omx_byte_order - Order of data bytes in TileLink data flits.
 * @OMX_BYTE_ORDER_SPEC: OmniXtend 1.0.3 order (each 8-byte word byte-reversed
 *   vs memory).
 * @OMX_BYTE_ORDER_RAW: Plain memory order, as ETRI's newer software sends.
 */
enum omx_byte_order {
	OMX_BYTE_ORDER_SPEC,
	OMX_BYTE_ORDER_RAW,
};

/**
 * enum omx_version - OmniXtend protocol version of a connection.
 * @OMX_VERSION_V1_1: 1.1 with OpenConnection/CloseConnection handshake
 *   (default).
 * @OMX_VERSION_V1_0_3: 1.0.3, no connection management; credits start at zero.
 */
enum omx_version {
	OMX_VERSION_V1_1,
	OMX_VERSION_V1_0_3,
};

enum omx_node_state {
	OMX_NODE_STATE_CONNECTING,
	OMX_NODE_STATE_UP,
	OMX_NODE_STATE_DEAD,
	OMX_NODE_STATE_CLOSING,
};

/**
 * enum omx_integrity - End-to-end check of every frame beyond the Ethernet
 *   FCS.
 * @OMX_INTEGRITY_NONE: Plain OmniXtend, for peers without the omx extension
 *   (hardware nodes).
 * @OMX_INTEGRITY_CRC32C: A CRC-32C trailer after the frame mask (omx
 *   extension, omx_proto::integrity): corrupted frames are dropped and
 *   retransmitted.
 * @OMX_INTEGRITY_XXH64: The same trailer with the low 32 bits of XXH64 instead
 *   of the CRC (another magic number): 3.5-4x cheaper to compute in software,
 *   with the same 2^-32 odds of missing a random corruption but no guarantee
 *   for short bursts (default).
 */
enum omx_integrity {
	OMX_INTEGRITY_NONE,
	OMX_INTEGRITY_CRC32C,
	OMX_INTEGRITY_XXH64,
};

enum {
	OMX_A_NODE_ID = 1,
	OMX_A_NODE_IFNAME,
	OMX_A_NODE_IFINDEX,
	OMX_A_NODE_PEER_MAC,
	OMX_A_NODE_SIZE,
	OMX_A_NODE_BYTE_ORDER,
	OMX_A_NODE_VERSION,
	OMX_A_NODE_MTU,
	OMX_A_NODE_STATE,
	OMX_A_NODE_STATS,
	OMX_A_NODE_INTEGRITY,
	OMX_A_NODE_IO_TIMEOUT,
	OMX_A_NODE_READ_LATENCY,
	OMX_A_NODE_WRITE_LATENCY,

	__OMX_A_NODE_MAX,
	OMX_A_NODE_MAX = (__OMX_A_NODE_MAX - 1)
};

enum {
	OMX_A_NODE_STATS_TX_FRAMES = 1,
	OMX_A_NODE_STATS_RX_FRAMES,
	OMX_A_NODE_STATS_TX_BYTES,
	OMX_A_NODE_STATS_RX_BYTES,
	OMX_A_NODE_STATS_RETRANSMITS,
	OMX_A_NODE_STATS_NAKS_SENT,
	OMX_A_NODE_STATS_NAKS_RECEIVED,
	OMX_A_NODE_STATS_MALFORMED,
	OMX_A_NODE_STATS_TIMEOUTS,
	OMX_A_NODE_STATS_RECONNECTS,
	OMX_A_NODE_STATS_INTEGRITY_ERRORS,
	OMX_A_NODE_STATS_OUT_OF_WINDOW,
	OMX_A_NODE_STATS_OUT_OF_ORDER,
	OMX_A_NODE_STATS_DUPLICATES,

	__OMX_A_NODE_STATS_MAX,
	OMX_A_NODE_STATS_MAX = (__OMX_A_NODE_STATS_MAX - 1)
};

enum {
	OMX_A_LATENCY_LE_8US = 1,
	OMX_A_LATENCY_LE_16US,
	OMX_A_LATENCY_LE_32US,
	OMX_A_LATENCY_LE_64US,
	OMX_A_LATENCY_LE_128US,
	OMX_A_LATENCY_LE_256US,
	OMX_A_LATENCY_LE_512US,
	OMX_A_LATENCY_LE_1024US,
	OMX_A_LATENCY_LE_2048US,
	OMX_A_LATENCY_LE_4096US,
	OMX_A_LATENCY_LE_8192US,
	OMX_A_LATENCY_LE_16384US,
	OMX_A_LATENCY_LE_32768US,
	OMX_A_LATENCY_LE_65536US,
	OMX_A_LATENCY_LE_131072US,
	OMX_A_LATENCY_LE_262144US,
	OMX_A_LATENCY_LE_524288US,
	OMX_A_LATENCY_LE_1048576US,
	OMX_A_LATENCY_LE_2097152US,
	OMX_A_LATENCY_LE_4194304US,
	OMX_A_LATENCY_LE_8388608US,
	OMX_A_LATENCY_LE_16777216US,
	OMX_A_LATENCY_LE_33554432US,
	OMX_A_LATENCY_LONGER,
	OMX_A_LATENCY_SUM_US,

	__OMX_A_LATENCY_MAX,
	OMX_A_LATENCY_MAX = (__OMX_A_LATENCY_MAX - 1)
};

enum {
	OMX_A_DEV_NAME = 1,
	OMX_A_DEV_SIZE,
	OMX_A_DEV_NODE_ID,
	OMX_A_DEV_REPLICAS,
	OMX_A_DEV_STATS,
	OMX_A_DEV_FAILED_NODE_ID,

	__OMX_A_DEV_MAX,
	OMX_A_DEV_MAX = (__OMX_A_DEV_MAX - 1)
};

enum {
	OMX_A_DEV_STATS_READS = 1,
	OMX_A_DEV_STATS_WRITES,
	OMX_A_DEV_STATS_READ_BYTES,
	OMX_A_DEV_STATS_WRITE_BYTES,
	OMX_A_DEV_STATS_DISCARDS,
	OMX_A_DEV_STATS_ERRORS,
	OMX_A_DEV_STATS_IN_FLIGHT,
	OMX_A_DEV_STATS_FAILOVERS,

	__OMX_A_DEV_STATS_MAX,
	OMX_A_DEV_STATS_MAX = (__OMX_A_DEV_STATS_MAX - 1)
};

enum {
	OMX_A_STATS_RX_FRAMES = 1,
	OMX_A_STATS_RX_MALFORMED,
	OMX_A_STATS_RX_UNKNOWN_PEER,
	OMX_A_STATS_RX_DROPPED,
	OMX_A_STATS_RX_OTHER_NETNS,

	__OMX_A_STATS_MAX,
	OMX_A_STATS_MAX = (__OMX_A_STATS_MAX - 1)
};

enum {
	OMX_CMD_NODE_ADD = 1,
	OMX_CMD_NODE_DEL,
	OMX_CMD_NODE_GET,
	OMX_CMD_DEV_ADD,
	OMX_CMD_DEV_DEL,
	OMX_CMD_DEV_GET,
	OMX_CMD_STATS_GET,
	OMX_CMD_NODE_STATE_NTF,
	OMX_CMD_DEV_ERROR_NTF,

	__OMX_CMD_MAX,
	OMX_CMD_MAX = (__OMX_CMD_MAX - 1)
};

#define OMX_MCGRP_EVENTS	"events"

#endif /* _UAPI_LINUX_OMX_H */
