/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers of static-inline kernel functions and struct fields that Rust cannot
 * reach through bindgen. No logic lives here: each wrapper is one kernel call or field access.
 */
#ifndef OMX_HELPERS_H
#define OMX_HELPERS_H

#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/interrupt.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/hrtimer.h>
#include <net/sch_generic.h>
#include <net/genetlink.h>

struct sk_buff *omx_alloc_skb(unsigned int size, gfp_t gfp);
void *omx_netdev_alloc_frag(unsigned int fragsz);
void omx_skb_free_frag(void *addr);
unsigned int omx_skb_head_align(unsigned int size);
void omx_kfree_skb(struct sk_buff *skb);
void omx_skb_reserve(struct sk_buff *skb, int len);
struct sk_buff *omx_skb_share_check(struct sk_buff *skb, gfp_t gfp);
int omx_skb_linearize(struct sk_buff *skb);
unsigned int omx_skb_headlen(const struct sk_buff *skb);
unsigned int omx_skb_nr_frags(const struct sk_buff *skb);
bool omx_skb_has_frag_list(const struct sk_buff *skb);
unsigned int omx_skb_frag_size(const struct sk_buff *skb, unsigned int i);
void *omx_skb_frag_address_safe(const struct sk_buff *skb, unsigned int i);
unsigned int omx_skb_tailroom(const struct sk_buff *skb);
unsigned char *omx_skb_data(const struct sk_buff *skb);
unsigned int omx_skb_len(const struct sk_buff *skb);
const unsigned char *omx_skb_eth_source(const struct sk_buff *skb);
unsigned char omx_skb_pkt_type(const struct sk_buff *skb);
struct sk_buff *omx_skb_list_pop(struct list_head *head);
struct net_device *omx_skb_dev(const struct sk_buff *skb);
void omx_skb_set_dev_protocol(struct sk_buff *skb, struct net_device *dev, __be16 protocol);
int omx_dev_queue_xmit(struct sk_buff *skb);
void omx_skb_set_queue_mapping(struct sk_buff *skb, unsigned short queue);

/* transmit queues, for bursts sent under one lock with one doorbell (as pktgen does) */
unsigned int omx_dev_real_num_tx_queues(const struct net_device *dev);
struct netdev_queue *omx_netdev_get_tx_queue(const struct net_device *dev, unsigned int index);
bool omx_netif_running(const struct net_device *dev);
bool omx_netif_carrier_ok(const struct net_device *dev);
struct Qdisc *omx_txq_qdisc(struct netdev_queue *txq);
bool omx_qdisc_is_noqueue(const struct Qdisc *q);
bool omx_qdisc_can_bypass(const struct Qdisc *q);
bool omx_qdisc_is_nolock(const struct Qdisc *q);
bool omx_qdisc_is_deactivated(const struct Qdisc *q);
bool omx_qdisc_is_empty(const struct Qdisc *q);
void omx_qdisc_lock(struct Qdisc *q);
void omx_qdisc_unlock(struct Qdisc *q);
bool omx_qdisc_run_begin(struct Qdisc *q);
void omx_qdisc_run_end(struct Qdisc *q);
void omx_hard_tx_lock(struct net_device *dev, struct netdev_queue *txq);
void omx_hard_tx_unlock(struct net_device *dev, struct netdev_queue *txq);
bool omx_netif_xmit_frozen_or_drv_stopped(const struct netdev_queue *txq);
int omx_netdev_start_xmit(struct sk_buff *skb, struct net_device *dev, struct netdev_queue *txq,
			  bool more);

struct net_device *omx_dev_get_by_name(const char *name);
void omx_dev_hold(struct net_device *dev);
void omx_dev_put(struct net_device *dev);
const unsigned char *omx_dev_addr(const struct net_device *dev);
unsigned int omx_dev_mtu(const struct net_device *dev);
int omx_dev_ifindex(const struct net_device *dev);
unsigned short omx_dev_type(const struct net_device *dev);
const char *omx_dev_name(const struct net_device *dev);
bool omx_dev_net_is_init(const struct net_device *dev);

void omx_spin_lock_bh(spinlock_t *lock);
void omx_spin_unlock_bh(spinlock_t *lock);

void omx_timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *));
int omx_timer_arm_ms(struct timer_list *timer, unsigned int msecs);
int omx_timer_shutdown_sync(struct timer_list *timer);
void omx_hrtimer_start_soft_ns(struct hrtimer *timer, u64 nsecs);

void omx_tasklet_schedule(struct tasklet_struct *t);

struct net_device *omx_netdev_notifier_info_to_dev(void *info);

/* generic netlink */
const struct nlattr *omx_genl_info_attrs(const struct genl_info *info, int *len);
void omx_genl_info_set_err(struct genl_info *info, const char *msg, const struct nlattr *attr);
bool omx_genl_info_net_is_init(const struct genl_info *info);
const struct genl_family *omx_genl_info_family(const struct genl_info *info);
u8 omx_genl_info_cmd(const struct genl_info *info);
struct sk_buff *omx_genlmsg_new(size_t payload, gfp_t gfp);
void *omx_genlmsg_put_reply(struct sk_buff *skb, const struct genl_info *info, const struct genl_family *family, int flags, u8 cmd);
void omx_genlmsg_end(struct sk_buff *skb, void *hdr);
void omx_genlmsg_cancel(struct sk_buff *skb, void *hdr);
int omx_genlmsg_reply(struct sk_buff *skb, struct genl_info *info);
int omx_genlmsg_multicast(const struct genl_family *family, struct sk_buff *skb, unsigned int group, gfp_t gfp);
struct nlattr *omx_nla_nest_start(struct sk_buff *skb, int type);
void omx_nla_nest_end(struct sk_buff *skb, struct nlattr *start);
const struct genl_info *omx_genl_info_dump(struct netlink_callback *cb);
long *omx_netlink_cb_args(struct netlink_callback *cb);

/* blk-mq */
struct request *omx_bd_rq(const struct blk_mq_queue_data *bd);
void *omx_rq_driver_data(const struct request *rq);
sector_t omx_blk_rq_pos(const struct request *rq);
unsigned int omx_blk_rq_bytes(const struct request *rq);
unsigned int omx_req_op(const struct request *rq);
struct bio *omx_rq_bio(const struct request *rq);
struct bio *omx_bio_next(const struct bio *bio);
struct bvec_iter omx_bio_iter(const struct bio *bio);
struct bio_vec omx_bio_iter_iovec(const struct bio *bio, struct bvec_iter iter);
void omx_bio_advance_iter_single(const struct bio *bio, struct bvec_iter *iter, unsigned int bytes);
void *omx_kmap_local_page(struct page *page);
void omx_kunmap_local(const void *addr);
unsigned int omx_disk_openers(struct gendisk *disk);
unsigned long omx_msecs_to_jiffies(unsigned int msecs);

#endif
