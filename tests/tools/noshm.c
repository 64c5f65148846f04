/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LD_PRELOAD shim for fio in the test guests, whose kernel has no System V IPC: fio keeps
 * its job table in a shm segment even with --thread. With --thread, process-private
 * anonymous memory is equivalent. Build: gcc -shared -fPIC -O2 -o noshm.so noshm.c
 */
#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/shm.h>

#define MAX_SEGS 64
static size_t seg_size[MAX_SEGS];
static void *seg_addr[MAX_SEGS];
static int nsegs;

int shmget(key_t key, size_t size, int flags)
{
	(void)key; (void)flags;
	if (nsegs >= MAX_SEGS) { errno = ENOSPC; return -1; }
	seg_size[nsegs] = size;
	return nsegs++;
}

void *shmat(int id, const void *addr, int flags)
{
	(void)addr; (void)flags;
	if (id < 0 || id >= nsegs) { errno = EINVAL; return (void *)-1; }
	if (!seg_addr[id]) {
		void *p = mmap(NULL, seg_size[id], PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return (void *)-1;
		seg_addr[id] = p;
	}
	return seg_addr[id];
}

int shmdt(const void *addr)
{
	(void)addr;
	return 0;
}

int shmctl(int id, int cmd, struct shmid_ds *buf)
{
	(void)id; (void)cmd; (void)buf;
	return 0;
}
