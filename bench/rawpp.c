// SPDX-License-Identifier: GPL-2.0
/*
 * rawpp: the Ethernet link's own limit between two hosts, measured the way omx uses the link
 * (raw frames on an AF_PACKET socket, no protocol beyond a request id), for `make bench`.
 *
 *   rawpp echo IFACE                      serve requests until a "quit" frame or SIGTERM
 *   rawpp MODE IFACE PEER_MAC BYTES FRAG QD SECS
 *       MODE ping: a 60-byte request answered by a 60-byte reply (BYTES, FRAG ignored)
 *       MODE pull: a 60-byte request answered by BYTES of data in frames of at most FRAG
 *                  payload bytes (like an OmniXtend Get and its AccessAckData)
 *       MODE push: BYTES of data sent in frames of at most FRAG payload bytes, answered by a
 *                  60-byte acknowledgement once all arrived (like PutFullData and AccessAck)
 *       QD operations are kept in flight for SECS seconds (after 0.5 s of warm-up); prints one
 *       JSON object: operations, lost operations (no answer within 500 ms), payload MB/s,
 *       p50/p99/p99.9 latency per operation in microseconds.
 *   rawpp quit IFACE PEER_MAC             stop the responder
 *
 * EtherType 0x88B5 (IEEE local experimental). recvmmsg/sendmmsg in batches, as omx-node does.
 * Build: gcc -O2 -o rawpp rawpp.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE 0x88B5
#define PACKET_IGNORE_OUTGOING_ 23
#define BATCH 64
#define MAXFRAME 9216
#define OPS_TABLE 65536
#define LOST_NS 500000000ull

enum { T_PING = 1, T_PONG, T_PULL, T_DATA, T_PUSH, T_ACK, T_QUIT };

struct hdr {
	uint8_t type;
	uint8_t rsv;
	uint16_t frag;
	uint32_t id;
	uint32_t total; /* bytes of the operation */
	uint32_t len;   /* payload bytes in this frame */
} __attribute__((packed));

#define HDRLEN (14 + (int)sizeof(struct hdr))

static int fd, ifindex;
static uint8_t my_mac[6];
static volatile sig_atomic_t stop;

static void on_signal(int s) { (void)s; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void open_socket(const char *iface)
{
	struct ifreq ifr = {0};
	struct sockaddr_ll sll = {0};
	int one = 1, buf = 8 << 20;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE));
	if (fd < 0)
		die("socket(AF_PACKET)");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		die(iface);
	ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		die("SIOCGIFHWADDR");
	memcpy(my_mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind");
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING_, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4],
		      &mac[5]) == 6;
}

/* Transmit batch: frames are copied by the kernel in sendmmsg, so buffers are reused. */
static uint8_t txbuf[BATCH][MAXFRAME];
static struct iovec txiov[BATCH];
static struct mmsghdr txmsg[BATCH];
static int ntx;
static uint64_t tx_errors;

static void flush(void)
{
	int done = 0;
	while (done < ntx) {
		int r = sendmmsg(fd, txmsg + done, ntx - done, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				poll(&p, 1, 1);
				tx_errors++;
				continue;
			}
			die("sendmmsg");
		}
		done += r;
	}
	ntx = 0;
}

static void queue_frame(const uint8_t *dst, uint8_t type, uint16_t frag, uint32_t id, uint32_t total,
			uint32_t len)
{
	uint8_t *f;
	struct hdr h = {.type = type, .frag = htons(frag), .id = htonl(id), .total = htonl(total),
			.len = htonl(len)};
	int flen = HDRLEN + (int)len;

	if (ntx == BATCH)
		flush();
	f = txbuf[ntx];
	if (flen < 60)
		flen = 60;
	memcpy(f, dst, 6);
	memcpy(f + 6, my_mac, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	memcpy(f + 14, &h, sizeof(h));
	txiov[ntx].iov_base = f;
	txiov[ntx].iov_len = flen;
	memset(&txmsg[ntx], 0, sizeof(txmsg[ntx]));
	txmsg[ntx].msg_hdr.msg_iov = &txiov[ntx];
	txmsg[ntx].msg_hdr.msg_iovlen = 1;
	ntx++;
}

/* Receive batch. */
static uint8_t rxbuf[BATCH][MAXFRAME];
static struct iovec rxiov[BATCH];
static struct mmsghdr rxmsg[BATCH];
static struct sockaddr_ll rxaddr[BATCH];

/* Waits at most timeout_ms for frames; returns how many are in rxbuf. */
static int receive(int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int i, r;

	for (i = 0; i < BATCH; i++)
		rxmsg[i].msg_hdr.msg_namelen = sizeof(rxaddr[i]);
	r = recvmmsg(fd, rxmsg, BATCH, MSG_DONTWAIT, NULL);
	if (r > 0)
		return r;
	if (r < 0 && errno != EAGAIN && errno != EINTR)
		die("recvmmsg");
	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	for (i = 0; i < BATCH; i++)
		rxmsg[i].msg_hdr.msg_namelen = sizeof(rxaddr[i]);
	r = recvmmsg(fd, rxmsg, BATCH, MSG_DONTWAIT, NULL);
	if (r < 0 && errno != EAGAIN && errno != EINTR)
		die("recvmmsg");
	return r < 0 ? 0 : r;
}

static void setup_rx(void)
{
	int i;
	for (i = 0; i < BATCH; i++) {
		rxiov[i].iov_base = rxbuf[i];
		rxiov[i].iov_len = MAXFRAME;
		rxmsg[i].msg_hdr.msg_iov = &rxiov[i];
		rxmsg[i].msg_hdr.msg_iovlen = 1;
		rxmsg[i].msg_hdr.msg_name = &rxaddr[i];
		rxmsg[i].msg_hdr.msg_namelen = sizeof(rxaddr[i]);
	}
}

static int frame_ok(int i, struct hdr *h)
{
	if (rxaddr[i].sll_pkttype == PACKET_OUTGOING || rxmsg[i].msg_len < (unsigned)HDRLEN)
		return 0;
	memcpy(h, rxbuf[i] + 14, sizeof(*h));
	h->frag = ntohs(h->frag);
	h->id = ntohl(h->id);
	h->total = ntohl(h->total);
	h->len = ntohl(h->len);
	return 1;
}

/* Responder: per push operation id, bytes received so far. */
static struct {
	uint32_t id;
	uint32_t got;
	uint8_t mac[6];
} push_state[OPS_TABLE];

static int run_echo(void)
{
	uint64_t served = 0;
	for (;;) {
		int n = receive(100), i;
		if (stop)
			break;
		for (i = 0; i < n; i++) {
			struct hdr h;
			const uint8_t *src = rxbuf[i] + 6;
			if (!frame_ok(i, &h))
				continue;
			switch (h.type) {
			case T_PING:
				queue_frame(src, T_PONG, 0, h.id, 0, 0);
				served++;
				break;
			case T_PULL: {
				uint32_t off = 0, frag = h.frag ? h.frag : 1024;
				if (frag > MAXFRAME - HDRLEN)
					frag = MAXFRAME - HDRLEN;
				do {
					uint32_t len = h.total - off < frag ? h.total - off : frag;
					queue_frame(src, T_DATA, frag, h.id, h.total, len);
					off += len;
				} while (off < h.total);
				served++;
				break;
			}
			case T_PUSH: {
				typeof(&push_state[0]) st = &push_state[h.id % OPS_TABLE];
				if (st->id != h.id || memcmp(st->mac, src, 6)) {
					st->id = h.id;
					st->got = 0;
					memcpy(st->mac, src, 6);
				}
				st->got += h.len;
				if (st->got >= h.total) {
					queue_frame(src, T_ACK, 0, h.id, h.total, 0);
					st->got = 0;
					st->id = ~h.id;
					served++;
				}
				break;
			}
			case T_QUIT:
				flush();
				fprintf(stderr, "rawpp echo: quit after %llu operations\n",
					(unsigned long long)served);
				return 0;
			}
		}
		flush();
	}
	fprintf(stderr, "rawpp echo: stopped after %llu operations\n", (unsigned long long)served);
	return 0;
}

/* Client. */
static struct {
	uint64_t start;
	uint32_t got;
	uint8_t active;
} ops[OPS_TABLE];

static uint64_t *lat;
static size_t nlat, cap_lat;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	size_t i;
	if (!nlat)
		return 0;
	i = (size_t)(p / 100.0 * (double)(nlat - 1) + 0.5);
	return (double)lat[i] / 1000.0;
}

static int mode, qd;
static uint32_t bytes, frag, next_id = 1;
static uint8_t peer[6];

static void issue(void)
{
	uint32_t id = next_id++;
	typeof(&ops[0]) o = &ops[id % OPS_TABLE];
	o->start = now_ns();
	o->got = 0;
	o->active = 1;
	if (mode == T_PING) {
		queue_frame(peer, T_PING, 0, id, 0, 0);
	} else if (mode == T_PULL) {
		queue_frame(peer, T_PULL, frag, id, bytes, 0);
	} else {
		uint32_t off = 0;
		do {
			uint32_t len = bytes - off < frag ? bytes - off : frag;
			queue_frame(peer, T_PUSH, frag, id, bytes, len);
			off += len;
		} while (off < bytes);
	}
}

static int run_client(double secs)
{
	uint64_t t0 = now_ns(), warm = t0 + 500000000ull, end = warm + (uint64_t)(secs * 1e9);
	uint64_t done = 0, lost = 0, payload = 0, last_scan = t0, measure_start = 0;
	uint32_t first_measured = 0;
	int i, inflight = 0;
	const char *name = mode == T_PING ? "ping" : mode == T_PULL ? "pull" : "push";

	cap_lat = 1 << 22;
	lat = malloc(cap_lat * sizeof(*lat));
	if (!lat)
		die("malloc");
	for (i = 0; i < qd; i++, inflight++)
		issue();
	flush();
	for (;;) {
		uint64_t now = now_ns();
		int n;
		if (now >= end || stop)
			break;
		if (!measure_start && now >= warm) {
			measure_start = now;
			first_measured = next_id;
		}
		n = receive(10);
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct hdr h;
			typeof(&ops[0]) o;
			if (!frame_ok(i, &h) || memcmp(rxbuf[i] + 6, peer, 6))
				continue;
			o = &ops[h.id % OPS_TABLE];
			if (!o->active || h.id >= next_id || next_id - h.id >= OPS_TABLE)
				continue;
			if (h.type == T_DATA)
				o->got += h.len;
			if ((h.type == T_DATA && o->got >= h.total) || h.type == T_PONG || h.type == T_ACK) {
				o->active = 0;
				if (measure_start && h.id >= first_measured) {
					done++;
					payload += bytes;
					if (nlat < cap_lat)
						lat[nlat++] = now - o->start;
				}
				issue();
			}
		}
		/* Operations unanswered for 500 ms are lost (a dropped frame): replace them. */
		if (now - last_scan > 100000000ull) {
			uint32_t id, upto = next_id;
			last_scan = now;
			for (id = upto - (upto > OPS_TABLE ? OPS_TABLE - 1 : upto - 1); id != upto; id++) {
				typeof(&ops[0]) o = &ops[id % OPS_TABLE];
				if (o->active && o->start + LOST_NS < now) {
					o->active = 0;
					if (measure_start && id >= first_measured)
						lost++;
					issue();
				}
			}
		}
		flush();
	}
	{
		double el = measure_start ? (double)(now_ns() - measure_start) / 1e9 : 1;
		qsort(lat, nlat, sizeof(*lat), cmp_u64);
		printf("{\"mode\":\"%s\",\"bytes\":%u,\"frag\":%u,\"qd\":%d,\"secs\":%.3f,\"ops\":%llu,"
		       "\"lost\":%llu,\"ops_per_s\":%.1f,\"mb_per_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		       "\"p999_us\":%.1f,\"tx_retries\":%llu}\n",
		       name, mode == T_PING ? 0 : bytes, mode == T_PING ? 0 : frag, qd, el,
		       (unsigned long long)done, (unsigned long long)lost, done / el, payload / el / 1e6,
		       pct(50), pct(99), pct(99.9), (unsigned long long)tx_errors);
	}
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setup_rx();
	if (argc == 3 && !strcmp(argv[1], "echo")) {
		open_socket(argv[2]);
		return run_echo();
	}
	if (argc == 4 && !strcmp(argv[1], "quit")) {
		open_socket(argv[2]);
		if (!parse_mac(argv[3], peer))
			return 2;
		queue_frame(peer, T_QUIT, 0, 0, 0, 0);
		flush();
		return 0;
	}
	if (argc == 8) {
		if (!strcmp(argv[1], "ping"))
			mode = T_PING;
		else if (!strcmp(argv[1], "pull"))
			mode = T_PULL;
		else if (!strcmp(argv[1], "push"))
			mode = T_PUSH;
		open_socket(argv[2]);
		if (mode && parse_mac(argv[3], peer)) {
			bytes = (uint32_t)strtoul(argv[4], NULL, 0);
			frag = (uint32_t)strtoul(argv[5], NULL, 0);
			qd = atoi(argv[6]);
			if (frag == 0 || frag > MAXFRAME - HDRLEN)
				frag = 1024;
			if (bytes == 0)
				bytes = 1;
			if (qd < 1 || qd > 4096)
				qd = 1;
			return run_client(atof(argv[7]));
		}
	}
	fprintf(stderr, "usage: rawpp echo IFACE | rawpp quit IFACE PEER_MAC |\n"
			"       rawpp ping|pull|push IFACE PEER_MAC BYTES FRAG QD SECS\n");
	return 2;
}
