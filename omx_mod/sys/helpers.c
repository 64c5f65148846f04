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

const char *omx_dev_name(const struct net_device *dev)
{
	return dev->name;
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
