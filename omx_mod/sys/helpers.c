// SPDX-License-Identifier: GPL-2.0
/* Out-of-line wrappers of static-inline kernel functions; see helpers.h. */
#include <linux/etherdevice.h>
#include <linux/jiffies.h>
#include <net/net_namespace.h>
#include "helpers.h"

struct sk_buff *omx_alloc_skb(unsigned int size, gfp_t gfp)
{
	return alloc_skb(size, gfp);
}

void *omx_netdev_alloc_frag(unsigned int fragsz)
{
	return netdev_alloc_frag(fragsz);
}

void omx_skb_free_frag(void *addr)
{
	skb_free_frag(addr);
}

unsigned int omx_skb_head_align(unsigned int size)
{
	return SKB_HEAD_ALIGN(size);
}

void omx_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

void omx_skb_reserve(struct sk_buff *skb, int len)
{
	skb_reserve(skb, len);
}

struct sk_buff *omx_skb_share_check(struct sk_buff *skb, gfp_t gfp)
{
	return skb_share_check(skb, gfp);
}

int omx_skb_linearize(struct sk_buff *skb)
{
	return skb_linearize(skb);
}

unsigned int omx_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

unsigned int omx_skb_nr_frags(const struct sk_buff *skb)
{
	return skb_shinfo(skb)->nr_frags;
}

bool omx_skb_has_frag_list(const struct sk_buff *skb)
{
	return skb_has_frag_list(skb);
}

unsigned int omx_skb_frag_size(const struct sk_buff *skb, unsigned int i)
{
	return skb_frag_size(&skb_shinfo(skb)->frags[i]);
}

/* NULL if the fragment's page is not mapped (highmem). */
void *omx_skb_frag_address_safe(const struct sk_buff *skb, unsigned int i)
{
	return skb_frag_address_safe(&skb_shinfo(skb)->frags[i]);
}

unsigned int omx_skb_tailroom(const struct sk_buff *skb)
{
	return skb_tailroom(skb);
}

unsigned char *omx_skb_data(const struct sk_buff *skb)
{
	return skb->data;
}

unsigned int omx_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

/* The Ethernet source address, or NULL when the MAC header is not set or too short. */
const unsigned char *omx_skb_eth_source(const struct sk_buff *skb)
{
	if (!skb_mac_header_was_set(skb) || skb_mac_header_len(skb) < ETH_HLEN)
		return NULL;
	return eth_hdr(skb)->h_source;
}

unsigned char omx_skb_pkt_type(const struct sk_buff *skb)
{
	return skb->pkt_type;
}

/* The first skb of a receive list (packet_type.list_func), taken off it; NULL when empty. */
struct sk_buff *omx_skb_list_pop(struct list_head *head)
{
	struct sk_buff *skb = list_first_entry_or_null(head, struct sk_buff, list);

	if (skb)
		skb_list_del_init(skb);
	return skb;
}

struct net_device *omx_skb_dev(const struct sk_buff *skb)
{
	return skb->dev;
}

/* What dev_queue_xmit() expects of a frame built with its Ethernet header at skb->data. */
void omx_skb_set_dev_protocol(struct sk_buff *skb, struct net_device *dev, __be16 protocol)
{
	skb->dev = dev;
	skb->protocol = protocol;
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, ETH_HLEN);
}

int omx_dev_queue_xmit(struct sk_buff *skb)
{
	return dev_queue_xmit(skb);
}

void omx_skb_set_queue_mapping(struct sk_buff *skb, unsigned short queue)
{
	skb_set_queue_mapping(skb, queue);
}

unsigned int omx_dev_real_num_tx_queues(const struct net_device *dev)
{
	return dev->real_num_tx_queues;
}

struct netdev_queue *omx_netdev_get_tx_queue(const struct net_device *dev, unsigned int index)
{
	return netdev_get_tx_queue(dev, index);
}

bool omx_netif_running(const struct net_device *dev)
{
	return netif_running(dev);
}

bool omx_netif_carrier_ok(const struct net_device *dev)
{
	return netif_carrier_ok(dev);
}

/* Caller has BHs disabled (an RCU-BH read side, which keeps the qdisc alive). */
struct Qdisc *omx_txq_qdisc(struct netdev_queue *txq)
{
	return rcu_dereference_bh(txq->qdisc);
}

/* No queue (virtual devices): what __dev_queue_xmit() then sends straight to the driver. */
bool omx_qdisc_is_noqueue(const struct Qdisc *q)
{
	return !q->enqueue;
}

bool omx_qdisc_can_bypass(const struct Qdisc *q)
{
	return q->flags & TCQ_F_CAN_BYPASS;
}

bool omx_qdisc_is_nolock(const struct Qdisc *q)
{
	return q->flags & TCQ_F_NOLOCK;
}

bool omx_qdisc_is_deactivated(const struct Qdisc *q)
{
	return test_bit(__QDISC_STATE_DEACTIVATED, &q->state);
}

bool omx_qdisc_is_empty(const struct Qdisc *q)
{
	return qdisc_is_empty(q);
}

void omx_qdisc_lock(struct Qdisc *q)
{
	spin_lock(qdisc_lock(q));
}

void omx_qdisc_unlock(struct Qdisc *q)
{
	spin_unlock(qdisc_lock(q));
}

bool omx_qdisc_run_begin(struct Qdisc *q)
{
	return qdisc_run_begin(q);
}

void omx_qdisc_run_end(struct Qdisc *q)
{
	qdisc_run_end(q);
}

/* Caller has BHs disabled, as HARD_TX_LOCK requires. */
void omx_hard_tx_lock(struct net_device *dev, struct netdev_queue *txq)
{
	HARD_TX_LOCK(dev, txq, smp_processor_id());
}

void omx_hard_tx_unlock(struct net_device *dev, struct netdev_queue *txq)
{
	HARD_TX_UNLOCK(dev, txq);
}

bool omx_netif_xmit_frozen_or_drv_stopped(const struct netdev_queue *txq)
{
	return netif_xmit_frozen_or_drv_stopped(txq);
}

int omx_netdev_start_xmit(struct sk_buff *skb, struct net_device *dev, struct netdev_queue *txq,
			  bool more)
{
	return netdev_start_xmit(skb, dev, txq, more);
}

struct net_device *omx_dev_get_by_name(const char *name)
{
	return dev_get_by_name(&init_net, name);
}

void omx_dev_hold(struct net_device *dev)
{
	dev_hold(dev);
}

void omx_dev_put(struct net_device *dev)
{
	dev_put(dev);
}

const unsigned char *omx_dev_addr(const struct net_device *dev)
{
	return dev->dev_addr;
}

unsigned int omx_dev_mtu(const struct net_device *dev)
{
	return READ_ONCE(dev->mtu);
}

int omx_dev_ifindex(const struct net_device *dev)
{
	return dev->ifindex;
}

unsigned short omx_dev_type(const struct net_device *dev)
{
	return dev->type;
}

const char *omx_dev_name(const struct net_device *dev)
{
	return dev->name;
}

bool omx_dev_net_is_init(const struct net_device *dev)
{
	return net_eq(dev_net(dev), &init_net);
}

struct net_device *omx_netdev_notifier_info_to_dev(void *info)
{
	return netdev_notifier_info_to_dev(info);
}

void omx_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void omx_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

void omx_timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *))
{
	timer_setup(timer, fn, 0);
}

int omx_timer_arm_ms(struct timer_list *timer, unsigned int msecs)
{
	return mod_timer(timer, jiffies + msecs_to_jiffies(msecs));
}

int omx_timer_shutdown_sync(struct timer_list *timer)
{
	return timer_shutdown_sync(timer);
}

void omx_hrtimer_start_soft_ns(struct hrtimer *timer, u64 nsecs)
{
	hrtimer_start(timer, ns_to_ktime(nsecs), HRTIMER_MODE_REL_SOFT);
}

void omx_tasklet_schedule(struct tasklet_struct *t)
{
	tasklet_schedule(t);
}

/* The request's attributes (after the genl header), already validated by the family policy. */
const struct nlattr *omx_genl_info_attrs(const struct genl_info *info, int *len)
{
	int hdrlen = NLA_ALIGN(info->family->hdrsize);

	*len = genlmsg_len(info->genlhdr) - hdrlen;
	return genlmsg_data(info->genlhdr) + hdrlen;
}

/* NL_SET_ERR_MSG_ATTR() for a message that is not a literal (ours are static strings). */
void omx_genl_info_set_err(struct genl_info *info, const char *msg, const struct nlattr *attr)
{
	if (!info->extack)
		return;
	info->extack->_msg = msg;
	info->extack->bad_attr = attr;
}

bool omx_genl_info_net_is_init(const struct genl_info *info)
{
	return net_eq(genl_info_net(info), &init_net);
}

const struct genl_family *omx_genl_info_family(const struct genl_info *info)
{
	return info->family;
}

u8 omx_genl_info_cmd(const struct genl_info *info)
{
	return info->genlhdr->cmd;
}

struct sk_buff *omx_genlmsg_new(size_t payload, gfp_t gfp)
{
	return genlmsg_new(payload, gfp);
}

/* genlmsg_put() addressed to the requester of `info` (for replies and dump parts). */
void *omx_genlmsg_put_reply(struct sk_buff *skb, const struct genl_info *info, const struct genl_family *family, int flags, u8 cmd)
{
	return genlmsg_put(skb, info->snd_portid, info->snd_seq, family, flags, cmd);
}

void omx_genlmsg_end(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
}

void omx_genlmsg_cancel(struct sk_buff *skb, void *hdr)
{
	genlmsg_cancel(skb, hdr);
}

int omx_genlmsg_reply(struct sk_buff *skb, struct genl_info *info)
{
	return genlmsg_reply(skb, info);
}

int omx_genlmsg_multicast(const struct genl_family *family, struct sk_buff *skb, unsigned int group, gfp_t gfp)
{
	return genlmsg_multicast(family, skb, 0, group, gfp);
}

struct nlattr *omx_nla_nest_start(struct sk_buff *skb, int type)
{
	return nla_nest_start(skb, type);
}

void omx_nla_nest_end(struct sk_buff *skb, struct nlattr *start)
{
	nla_nest_end(skb, start);
}

const struct genl_info *omx_genl_info_dump(struct netlink_callback *cb)
{
	return genl_info_dump(cb);
}

long *omx_netlink_cb_args(struct netlink_callback *cb)
{
	return cb->args;
}

struct request *omx_bd_rq(const struct blk_mq_queue_data *bd)
{
	return bd->rq;
}

void *omx_rq_driver_data(const struct request *rq)
{
	return rq->q->tag_set->driver_data;
}

sector_t omx_blk_rq_pos(const struct request *rq)
{
	return blk_rq_pos(rq);
}

unsigned int omx_blk_rq_bytes(const struct request *rq)
{
	return blk_rq_bytes(rq);
}

unsigned int omx_req_op(const struct request *rq)
{
	return req_op(rq);
}

struct bio *omx_rq_bio(const struct request *rq)
{
	return rq->bio;
}

struct bio *omx_bio_next(const struct bio *bio)
{
	return bio->bi_next;
}

struct bvec_iter omx_bio_iter(const struct bio *bio)
{
	return bio->bi_iter;
}

/* One single-page segment at `iter` (what bio_for_each_segment yields). */
struct bio_vec omx_bio_iter_iovec(const struct bio *bio, struct bvec_iter iter)
{
	return bio_iter_iovec(bio, iter);
}

void omx_bio_advance_iter_single(const struct bio *bio, struct bvec_iter *iter, unsigned int bytes)
{
	bio_advance_iter_single(bio, iter, bytes);
}

void *omx_kmap_local_page(struct page *page)
{
	return kmap_local_page(page);
}

void omx_kunmap_local(const void *addr)
{
	kunmap_local(addr);
}

unsigned int omx_disk_openers(struct gendisk *disk)
{
	return disk_openers(disk);
}

unsigned long omx_msecs_to_jiffies(unsigned int msecs)
{
	return msecs_to_jiffies(msecs);
}
