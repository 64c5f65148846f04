/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel headers whose items omx_mod binds with its own bindgen run (see Kbuild). */
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include "helpers.h"
