/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers of static-inline kernel functions and struct fields that Rust cannot
 * reach through bindgen. No logic lives here: each wrapper is one kernel call or field access.
 */
#ifndef OMX_HELPERS_H
#define OMX_HELPERS_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/timer.h>

struct sk_buff *omx_alloc_skb(unsigned int size, gfp_t gfp);
void omx_kfree_skb(struct sk_buff *skb);
void omx_skb_reserve(struct sk_buff *skb, int len);
struct sk_buff *omx_skb_share_check(struct sk_buff *skb, gfp_t gfp);
int omx_skb_linearize(struct sk_buff *skb);
unsigned int omx_skb_tailroom(const struct sk_buff *skb);
unsigned char *omx_skb_data(const struct sk_buff *skb);
unsigned int omx_skb_len(const struct sk_buff *skb);
const unsigned char *omx_skb_eth_source(const struct sk_buff *skb);
unsigned char omx_skb_pkt_type(const struct sk_buff *skb);
void omx_skb_set_dev_protocol(struct sk_buff *skb, struct net_device *dev, __be16 protocol);
int omx_dev_queue_xmit(struct sk_buff *skb);

struct net_device *omx_dev_get_by_name(const char *name);
void omx_dev_hold(struct net_device *dev);
void omx_dev_put(struct net_device *dev);
const unsigned char *omx_dev_addr(const struct net_device *dev);
unsigned int omx_dev_mtu(const struct net_device *dev);
int omx_dev_ifindex(const struct net_device *dev);
const char *omx_dev_name(const struct net_device *dev);

void omx_spin_lock_bh(spinlock_t *lock);
void omx_spin_unlock_bh(spinlock_t *lock);

void omx_timer_setup(struct timer_list *timer, void (*fn)(struct timer_list *));
int omx_timer_arm_ms(struct timer_list *timer, unsigned int msecs);
int omx_timer_shutdown_sync(struct timer_list *timer);

#endif
