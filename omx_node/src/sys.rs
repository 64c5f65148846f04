//! The only module with `unsafe`: a thin layer over the Linux syscalls the
//! node, the client library and the relay need (AF_PACKET sockets with
//! batched `recvmmsg`/`sendmmsg`, receive and transmit rings, `ppoll`, interface ioctls, anonymous
//! and file mappings, signals and `setns`). Everything above it is safe Rust.
//!
//! Every `unsafe` block carries a `SAFETY:` comment. Pointers handed to the
//! kernel always come from live Rust objects that outlive the call.

mod ring;
mod rx_ring;
mod tx_ring;
pub use rx_ring::{rx_ring_bytes, RxRing};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
pub use tx_ring::{tx_ring_bytes, TxRing};

/// `ETH_P_ALL`: receive every protocol (used by the relay).
pub const ETH_P_ALL: u16 = 0x0003;
/// `PACKET_OUTGOING`: `sll_pkttype` of frames we sent ourselves.
const PACKET_OUTGOING: u8 = 4;
/// `PACKET_IGNORE_OUTGOING` socket option (Linux 4.20+).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Interface index of `name`; `ENODEV` if there is none.
pub fn ifindex(name: &str) -> io::Result<i32> {
    let c = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?;
    // SAFETY: `c` is a valid NUL-terminated string living across the call.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        Err(io::Error::from_raw_os_error(libc::ENODEV))
    } else {
        i32::try_from(idx).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))
    }
}

fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    // SAFETY: `ifreq` is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.len() >= req.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    Ok(req)
}

/// Facts about a network interface.
#[derive(Debug, Clone, Copy)]
pub struct IfInfo {
    /// Interface index.
    pub index: i32,
    /// Hardware (MAC) address.
    pub mac: [u8; 6],
    /// MTU in bytes.
    pub mtu: usize,
    /// Whether the interface is administratively up.
    pub up: bool,
}

/// An `AF_PACKET`/`SOCK_RAW` socket bound to one interface and EtherType.
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    info: IfInfo,
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl PacketSocket {
    /// A raw, non-blocking packet socket bound to interface `index` for `proto` (network
    /// order; 0: the socket receives nothing).
    fn bound(index: i32, proto: u16) -> io::Result<OwnedFd> {
        // SAFETY: plain socket(2) call with constant arguments.
        let raw = cvt(unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::c_int::from(proto),
            )
        })?;
        // SAFETY: `raw` is a fresh descriptor we exclusively own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: sockaddr_ll is plain old data; zero is valid.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = proto;
        sll.sll_ifindex = index;
        // SAFETY: `sll` is a valid sockaddr_ll and the length matches it.
        cvt(unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(sll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        })?;
        Ok(fd)
    }

    /// Opens a raw packet socket on `ifname` for `ethertype` (host order).
    /// Errors: `ENODEV` (no such interface), `EPERM` (needs CAP_NET_RAW).
    pub fn open(ifname: &str, ethertype: u16) -> io::Result<Self> {
        let index = ifindex(ifname)?;
        let fd = Self::bound(index, ethertype.to_be())?;
        let mut s = PacketSocket {
            fd,
            info: IfInfo {
                index,
                mac: [0; 6],
                mtu: 1500,
                up: false,
            },
        };
        let mut req = ifreq_for(ifname)?;
        s.ioctl(libc::SIOCGIFHWADDR, &mut req)?;
        // SAFETY: SIOCGIFHWADDR filled the `ifru_hwaddr` member of the union.
        let hw = unsafe { req.ifr_ifru.ifru_hwaddr };
        for (d, s) in s.info.mac.iter_mut().zip(hw.sa_data.iter()) {
            *d = *s as u8;
        }
        let mut req = ifreq_for(ifname)?;
        s.ioctl(libc::SIOCGIFMTU, &mut req)?;
        // SAFETY: SIOCGIFMTU filled the `ifru_mtu` member of the union.
        let mtu = unsafe { req.ifr_ifru.ifru_mtu };
        s.info.mtu = usize::try_from(mtu).unwrap_or(1500);
        let mut req = ifreq_for(ifname)?;
        s.ioctl(libc::SIOCGIFFLAGS, &mut req)?;
        // SAFETY: SIOCGIFFLAGS filled the `ifru_flags` member of the union.
        let flags = unsafe { req.ifr_ifru.ifru_flags };
        s.info.up = flags & (libc::IFF_UP as libc::c_short) != 0;
        // Best effort: do not see our own transmissions.
        let _ = s.setsockopt_int(libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
        Ok(s)
    }

    fn ioctl(&self, req: libc::Ioctl, ifr: &mut libc::ifreq) -> io::Result<()> {
        // SAFETY: `ifr` is a valid, exclusively borrowed ifreq for the
        // duration of the call, as these SIOCGIF* requests expect.
        cvt(unsafe { libc::ioctl(self.fd.as_raw_fd(), req, ifr as *mut libc::ifreq) })?;
        Ok(())
    }

    fn setsockopt_int(
        &self,
        level: libc::c_int,
        name: libc::c_int,
        v: libc::c_int,
    ) -> io::Result<()> {
        // SAFETY: `v` lives across the call and the length matches c_int.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                name,
                std::ptr::addr_of!(v).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    /// Interface facts read at open time.
    pub fn info(&self) -> IfInfo {
        self.info
    }

    /// Sets the socket buffers (SO_RCVBUFFORCE/SO_SNDBUFFORCE as root,
    /// falling back to the limited SO_RCVBUF/SO_SNDBUF).
    pub fn set_buffers(&self, bytes: usize) {
        let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        if self
            .setsockopt_int(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, v)
            .is_err()
        {
            let _ = self.setsockopt_int(libc::SOL_SOCKET, libc::SO_RCVBUF, v);
        }
        if self
            .setsockopt_int(libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, v)
            .is_err()
        {
            let _ = self.setsockopt_int(libc::SOL_SOCKET, libc::SO_SNDBUF, v);
        }
    }

    /// Puts the interface into promiscuous mode for the socket's lifetime.
    pub fn set_promiscuous(&self) -> io::Result<()> {
        // SAFETY: packet_mreq is plain old data; zero is valid.
        let mut mr: libc::packet_mreq = unsafe { std::mem::zeroed() };
        mr.mr_ifindex = self.info.index;
        mr.mr_type = libc::PACKET_MR_PROMISC as u16;
        // SAFETY: `mr` lives across the call and the length matches it.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                std::ptr::addr_of!(mr).cast(),
                std::mem::size_of::<libc::packet_mreq>() as libc::socklen_t,
            )
        })?;
        Ok(())
    }

    /// Receives up to `batch.capacity()` frames without blocking
    /// (`recvmmsg`). Returns the number received (0 if none were waiting).
    pub fn recv_batch(&self, batch: &mut RxBatch) -> io::Result<usize> {
        batch.count = 0;
        let n = batch.lens.len();
        for i in 0..n {
            let off = i * batch.slot;
            // SAFETY: `off + slot <= buf.len()` by construction of RxBatch,
            // so the pointer is in bounds of the buffer.
            let base = unsafe { batch.buf.as_mut_ptr().add(off) };
            batch.iovs[i] = libc::iovec {
                iov_base: base.cast(),
                iov_len: batch.slot,
            };
        }
        for i in 0..n {
            // SAFETY: msghdr is plain old data; zero is valid.
            let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
            h.msg_iov = std::ptr::addr_of_mut!(batch.iovs[i]);
            h.msg_iovlen = 1;
            h.msg_name = std::ptr::addr_of_mut!(batch.addrs[i]).cast();
            h.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            batch.hdrs[i] = libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            };
        }
        // SAFETY: `hdrs` holds `n` initialised mmsghdr whose iovecs and
        // names point into `batch`, which is exclusively borrowed for the call.
        let r = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                batch.hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(0),
                _ => Err(e),
            };
        }
        let got = r as usize;
        for i in 0..got {
            let h = &batch.hdrs[i];
            let trunc = h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0;
            let outgoing = batch.addrs[i].sll_pkttype == PACKET_OUTGOING;
            batch.lens[i] = if outgoing {
                0
            } else if trunc {
                usize::MAX
            } else {
                h.msg_len as usize
            };
        }
        batch.count = got;
        Ok(got)
    }

    /// Sends the frames queued in `batch` (`sendmmsg`), retrying on a full
    /// socket buffer for up to `patience`. Returns frames sent; the batch
    /// is emptied either way (frames that could not be sent are dropped,
    /// which the protocol's retransmission repairs).
    pub fn send_batch(&self, batch: &mut TxBatch, patience: Duration) -> io::Result<usize> {
        let n = batch.count;
        if n == 0 {
            return Ok(0);
        }
        for i in 0..n {
            let off = i * batch.slot;
            // SAFETY: `off + lens[i] <= buf.len()` (TxBatch invariant).
            let base = unsafe { batch.buf.as_mut_ptr().add(off) };
            batch.iovs[i] = libc::iovec {
                iov_base: base.cast(),
                iov_len: batch.lens[i],
            };
            // SAFETY: msghdr is plain old data; zero is valid.
            let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
            h.msg_iov = std::ptr::addr_of_mut!(batch.iovs[i]);
            h.msg_iovlen = 1;
            batch.hdrs[i] = libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            };
        }
        let mut sent = 0usize;
        let deadline = std::time::Instant::now() + patience;
        while sent < n {
            // SAFETY: hdrs[sent..n] are initialised and point into `batch`,
            // which is exclusively borrowed for the call.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    batch.hdrs.as_mut_ptr().add(sent),
                    (n - sent) as libc::c_uint,
                    0,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR) => {
                        if std::time::Instant::now() >= deadline {
                            break;
                        }
                        let _ = poll_fds(
                            &[(self.as_raw_fd(), false)],
                            Some(Duration::from_micros(200)),
                            true,
                        );
                        continue;
                    }
                    _ => {
                        batch.count = 0;
                        return Err(e);
                    }
                }
            }
            sent += r as usize;
        }
        batch.count = 0;
        Ok(sent)
    }
}

/// Preallocated receive batch: `n` frame slots of `slot` bytes each.
pub struct RxBatch {
    buf: Vec<u8>,
    slot: usize,
    lens: Vec<usize>,
    count: usize,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    addrs: Vec<libc::sockaddr_ll>,
}

impl RxBatch {
    /// `n` slots of `slot` bytes (the largest frame expected).
    pub fn new(n: usize, slot: usize) -> Self {
        let n = n.max(1);
        let iov = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        // SAFETY: mmsghdr and sockaddr_ll are plain old data; zero is valid.
        let (hdr, addr): (libc::mmsghdr, libc::sockaddr_ll) =
            unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        RxBatch {
            buf: vec![0u8; n * slot],
            slot,
            lens: vec![0; n],
            count: 0,
            iovs: vec![iov; n],
            hdrs: vec![hdr; n],
            addrs: vec![addr; n],
        }
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.lens.len()
    }

    /// Frames received by the last `recv_batch`.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the last `recv_batch` received nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Frame `i` of the last receive: `Ok(bytes)`, `Ok(empty)` for our own
    /// transmissions, `Err(())` if it was truncated (larger than a slot).
    #[allow(clippy::result_unit_err)]
    pub fn frame(&self, i: usize) -> Result<&[u8], ()> {
        let len = self.lens.get(i).copied().ok_or(())?;
        if len == usize::MAX {
            return Err(());
        }
        let off = i * self.slot;
        self.buf.get(off..off + len.min(self.slot)).ok_or(())
    }
}

/// Preallocated transmit batch: `n` frame slots of `slot` bytes each.
pub struct TxBatch {
    buf: Vec<u8>,
    slot: usize,
    lens: Vec<usize>,
    count: usize,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl TxBatch {
    /// `n` slots of `slot` bytes.
    pub fn new(n: usize, slot: usize) -> Self {
        let n = n.max(1);
        let iov = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        // SAFETY: mmsghdr is plain old data; zero is valid.
        let hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        TxBatch {
            buf: vec![0u8; n * slot],
            slot,
            lens: vec![0; n],
            count: 0,
            iovs: vec![iov; n],
            hdrs: vec![hdr; n],
        }
    }

    /// Whether every slot is taken (flush before writing more).
    pub fn is_full(&self) -> bool {
        self.count >= self.lens.len()
    }

    /// Frames queued.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The next free slot to write a frame into, or `None` when full.
    pub fn slot_mut(&mut self) -> Option<&mut [u8]> {
        if self.is_full() {
            return None;
        }
        let off = self.count * self.slot;
        self.buf.get_mut(off..off + self.slot)
    }

    /// Queues the frame just written into [`TxBatch::slot_mut`].
    pub fn commit(&mut self, len: usize) {
        if !self.is_full() {
            self.lens[self.count] = len.min(self.slot);
            self.count += 1;
        }
    }

    /// Copies `frame` into the next slot (false if full or too long).
    pub fn push(&mut self, frame: &[u8]) -> bool {
        match self.slot_mut() {
            Some(s) if frame.len() <= s.len() => {
                s[..frame.len()].copy_from_slice(frame);
                self.commit(frame.len());
                true
            }
            _ => false,
        }
    }
}

/// Waits until one of `fds` is readable (or writable, with `write`) or the
/// timeout passes (`None` = forever); signals interrupt the wait. Returns
/// readiness per fd. Uses `ppoll` for nanosecond timeouts.
pub fn poll_fds(
    fds: &[(RawFd, bool)],
    timeout: Option<Duration>,
    write: bool,
) -> io::Result<[bool; 4]> {
    let mut p = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; 4];
    let n = fds.len().min(4);
    for (slot, (fd, _)) in p.iter_mut().zip(fds.iter()) {
        slot.fd = *fd;
        slot.events = if write { libc::POLLOUT } else { libc::POLLIN };
    }
    let ts = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `p` has at least `n` valid pollfd entries and `tsp` is null
    // or points to `ts`, both living across the call.
    let r = unsafe { libc::ppoll(p.as_mut_ptr(), n as libc::nfds_t, tsp, std::ptr::null()) };
    let mut out = [false; 4];
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EINTR) {
            return Ok(out);
        }
        return Err(e);
    }
    for (o, s) in out.iter_mut().zip(p.iter()).take(n) {
        *o = s.revents != 0;
    }
    Ok(out)
}

/// `statfs.f_type` of hugetlbfs.
const HUGETLBFS_MAGIC: u64 = 0x9584_58f6;

/// A file that backs the lent memory (`omx-node --memory-file`): open for reading and
/// writing, and locked (`flock`) so that a second daemon cannot use it at the same time.
/// The lock goes away with the process, however it ends.
#[derive(Debug)]
pub struct MemFile {
    file: std::fs::File,
    page: usize,
    hugetlbfs: bool,
}

impl MemFile {
    /// Opens (creating it, mode 0600) and locks `path`. A file locked by another process
    /// gives `EWOULDBLOCK`.
    pub fn open(path: &std::path::Path) -> io::Result<MemFile> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        // SAFETY: flock on a descriptor `file` owns; no memory is involved.
        cvt(unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) })?;
        // SAFETY: statfs is plain old data; all-zero is a valid value.
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: `st` is a valid, exclusively borrowed statfs for the call.
        cvt(unsafe { libc::fstatfs(file.as_raw_fd(), &mut st) })?;
        let hugetlbfs = (st.f_type as u64) & 0xffff_ffff == HUGETLBFS_MAGIC;
        let page = if hugetlbfs {
            usize::try_from(st.f_bsize).unwrap_or(HUGE_PAGE).max(4096)
        } else {
            4096
        };
        Ok(MemFile {
            file,
            page,
            hugetlbfs,
        })
    }

    /// The open file (for reads, writes and its size through `std`).
    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// Allocation unit: the huge page size on hugetlbfs, else 4 KiB.
    pub fn page(&self) -> usize {
        self.page
    }

    /// Whether the file lives on hugetlbfs.
    pub fn is_hugetlbfs(&self) -> bool {
        self.hugetlbfs
    }

    fn fallocate(&self, mode: libc::c_int, off: usize, len: usize) -> io::Result<()> {
        let off =
            libc::off_t::try_from(off).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        let len =
            libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
        loop {
            // SAFETY: fallocate on a descriptor we own; no memory is involved.
            let r = unsafe { libc::fallocate(self.file.as_raw_fd(), mode, off, len) };
            if r == 0 {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        }
    }

    /// Allocates `[off, off+len)` (`fallocate`), so that writing there later cannot fail
    /// for lack of space (which would be a SIGBUS through a mapping).
    pub fn allocate(&self, off: usize, len: usize) -> io::Result<()> {
        self.fallocate(0, off, len)
    }

    /// Deallocates `[off, off+len)` (`FALLOC_FL_PUNCH_HOLE`): it reads back as zeros.
    pub fn punch(&self, off: usize, len: usize) -> io::Result<()> {
        self.fallocate(
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            off,
            len,
        )
    }
}

/// The lent RAM: an anonymous private mapping, or a shared mapping of a [`MemFile`] (whose
/// contents then outlive the process).
#[derive(Debug)]
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
    huge: bool,
    locked: bool,
    file: Option<MemFile>,
}

// SAFETY: the mapping is plain memory owned by this value; moving it to
// another thread moves the ownership with it.
unsafe impl Send for Mapping {}

/// Huge page size assumed for rounding (x86-64 / arm64 default).
pub const HUGE_PAGE: usize = 2 << 20;

impl Mapping {
    /// Maps `len` bytes. With `huge`, tries `MAP_HUGETLB` first (length rounded up to
    /// 2 MiB, huge pages reserved at once); [`Mapping::is_huge`] says whether it worked.
    pub fn new(len: usize, huge: bool) -> io::Result<Self> {
        let base = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        if huge {
            let hlen = len.div_ceil(HUGE_PAGE) * HUGE_PAGE;
            // No MAP_NORESERVE: the huge pages are reserved now, so a host without enough
            // of them fails here (and we fall back) rather than with SIGBUS at the first
            // touch of a page nobody reserved.
            // SAFETY: anonymous mapping request; no existing memory touched.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    hlen,
                    libc::PROT_READ | libc::PROT_WRITE,
                    base | libc::MAP_HUGETLB,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                let m = Mapping {
                    ptr: p.cast(),
                    len: hlen,
                    huge: true,
                    locked: false,
                    file: None,
                };
                m.dont_dump();
                return Ok(m);
            }
        }
        // Normal pages: MAP_NORESERVE, the memory is lent on demand (the caller checks
        // --size against the host's available memory).
        let base = base | libc::MAP_NORESERVE;
        // SAFETY: anonymous mapping request; no existing memory touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len.max(1),
                libc::PROT_READ | libc::PROT_WRITE,
                base,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let m = Mapping {
            ptr: p.cast(),
            len: len.max(1),
            huge: false,
            locked: false,
            file: None,
        };
        m.dont_dump();
        Ok(m)
    }

    /// Keeps the mapping out of core dumps (`MADV_DONTDUMP`): it holds the clients' data.
    fn dont_dump(&self) {
        // SAFETY: [ptr, ptr+len) is our own live mapping; DONTDUMP only changes what a core
        // dump contains.
        let r = unsafe { libc::madvise(self.ptr.cast(), self.len, libc::MADV_DONTDUMP) };
        if r != 0 {
            crate::warn!(
                "cannot keep the lent memory out of core dumps (madvise: {})",
                io::Error::last_os_error()
            );
        }
    }

    /// Maps the first `len` bytes of `file` shared (`MAP_SHARED`): stores reach the file's
    /// pages at once and stay there when the process dies. The file must be at least `len`
    /// bytes long (and allocated, or a store to a page the file system cannot provide raises
    /// SIGBUS). The mapping keeps the file, and so its lock.
    pub fn shared(file: MemFile, len: usize) -> io::Result<Self> {
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: a new shared mapping of a file we hold open; no existing memory touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.file.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let m = Mapping {
            ptr: p.cast(),
            len,
            huge: file.hugetlbfs,
            locked: false,
            file: Some(file),
        };
        m.dont_dump();
        Ok(m)
    }

    /// Whether the mapping uses huge pages.
    pub fn is_huge(&self) -> bool {
        self.huge
    }

    /// The backing file of a shared mapping.
    pub fn file(&self) -> Option<&MemFile> {
        self.file.as_ref()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: at least one byte is mapped).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Locks the whole mapping into RAM (`mlock`), faulting it in.
    pub fn lock(&mut self) -> io::Result<()> {
        // SAFETY: [ptr, ptr+len) is our own live mapping.
        cvt(unsafe { libc::mlock(self.ptr.cast(), self.len) })?;
        self.locked = true;
        Ok(())
    }

    /// Writes `[off, off+len)` of a shared mapping back to its file and waits for it
    /// (`msync(MS_SYNC)`; nearly free on tmpfs and hugetlbfs). A no-op for anonymous memory.
    pub fn sync(&self, off: usize, len: usize) -> io::Result<()> {
        let Some(f) = &self.file else { return Ok(()) };
        let end = off.saturating_add(len).min(self.len);
        let a = off / f.page * f.page;
        if a >= end {
            return Ok(());
        }
        // SAFETY: [ptr+a, ptr+end) lies inside our live mapping and `a` is page-aligned
        // (the mapping starts on a page boundary); msync only writes it back.
        cvt(unsafe { libc::msync(self.ptr.add(a).cast(), end - a, libc::MS_SYNC) })?;
        Ok(())
    }

    /// Zeroes `[off, off+len)`: returns pages to the kernel where page-aligned and not
    /// locked (anonymous memory: `MADV_DONTNEED`; a file: its blocks are deallocated and
    /// allocated again, reading back as zero) and writes zeros elsewhere.
    pub fn zero(&mut self, off: usize, len: usize) {
        self.clear(off, len, true);
    }

    /// Zeroes `[off, off+len)` for a discard: like [`Mapping::zero`], but a file's blocks
    /// stay deallocated (a later write allocates them again), so the memory goes back to the
    /// host whatever backs it. Returns the bytes given back (0 where locked or unaligned).
    pub fn release(&mut self, off: usize, len: usize) -> usize {
        self.clear(off, len, false)
    }

    /// Bytes of `[off, off+len)` resident in RAM, in whole pages (`mincore`).
    pub fn resident(&self, off: usize, len: usize) -> io::Result<usize> {
        const PAGE: usize = 4096;
        let end = off.saturating_add(len).min(self.len);
        let a = off / PAGE * PAGE;
        if a >= end {
            return Ok(0);
        }
        let mut vec = vec![0u8; (end - a).div_ceil(PAGE)];
        // SAFETY: [ptr+a, ptr+end) lies inside our live mapping (a page-aligned start, as
        // mapings are); `vec` has one byte per page of it.
        cvt(unsafe { libc::mincore(self.ptr.add(a).cast(), end - a, vec.as_mut_ptr()) })?;
        Ok(vec.iter().filter(|&&b| b & 1 != 0).count() * PAGE)
    }

    /// [`Mapping::zero`] (`reallocate`: a file keeps its blocks) or [`Mapping::release`].
    fn clear(&mut self, off: usize, len: usize, reallocate: bool) -> usize {
        let end = off.saturating_add(len).min(self.len);
        if off >= end {
            return 0;
        }
        let page = match &self.file {
            Some(f) => f.page,
            None if self.huge => HUGE_PAGE,
            None => 4096,
        };
        let a = off.div_ceil(page) * page;
        let b = end / page * page;
        if !self.locked && a < b {
            let released = match &self.file {
                Some(f) => match f.punch(a, b - a) {
                    Ok(()) if !reallocate => true,
                    Ok(()) => {
                        if let Err(e) = f.allocate(a, b - a) {
                            crate::warn!("memory file: cannot allocate zeroed blocks again ({e}): writes there may fail if the file system fills up");
                        }
                        true
                    }
                    Err(_) => false,
                },
                // SAFETY: [ptr+a, ptr+b) lies inside our private anonymous
                // mapping; DONTNEED on it only discards our own data.
                None => unsafe {
                    libc::madvise(self.ptr.add(a).cast(), b - a, libc::MADV_DONTNEED) == 0
                },
            };
            if released {
                let s = self.as_mut_slice();
                s[off..a].fill(0);
                s[b..end].fill(0);
                return b - a;
            }
        }
        self.as_mut_slice()[off..end].fill(0);
        0
    }

    /// The whole mapping as bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: the mapping is live, readable, `len` bytes long, and only
        // reachable through `self`, so the borrow rules carry over.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The whole mapping as mutable bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: we unmap exactly the region mmap returned, once.
        unsafe {
            libc::munmap(self.ptr.cast(), self.len);
        }
    }
}

/// Set by the signal handler: SIGTERM or SIGINT received.
pub static SIG_TERM: AtomicBool = AtomicBool::new(false);
/// Set by the signal handler: SIGUSR1 received.
pub static SIG_USR1: AtomicBool = AtomicBool::new(false);
/// Set by the signal handler: SIGHUP received (e.g. a terminal hangup).
pub static SIG_HUP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work: store into atomics.
    match sig {
        libc::SIGUSR1 => SIG_USR1.store(true, Ordering::SeqCst),
        libc::SIGHUP => SIG_HUP.store(true, Ordering::SeqCst),
        _ => SIG_TERM.store(true, Ordering::SeqCst),
    }
}

/// Installs handlers for SIGTERM, SIGINT, SIGUSR1 and SIGHUP that set [`SIG_TERM`] /
/// [`SIG_USR1`] / [`SIG_HUP`]. No SA_RESTART, so `ppoll` wakes up.
pub fn install_signal_handlers() -> io::Result<()> {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1, libc::SIGHUP] {
        // SAFETY: sigaction is plain old data; zero is valid.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
        // SAFETY: `sa.sa_mask` is a valid sigset to initialise.
        unsafe { libc::sigemptyset(&mut sa.sa_mask) };
        // SAFETY: `sa` is valid; the handler only touches atomics.
        cvt(unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) })?;
    }
    Ok(())
}

/// Effective user id (to tell "not root" apart in messages).
pub fn euid() -> u32 {
    // SAFETY: geteuid has no failure mode and no arguments.
    unsafe { libc::geteuid() }
}

/// Moves the calling thread into the network namespace `name` (as created
/// by `ip netns add`, i.e. `/var/run/netns/NAME`). Sockets opened later by
/// this thread live in that namespace.
pub fn enter_netns(name: &str) -> io::Result<()> {
    let f = std::fs::File::open(format!("/var/run/netns/{name}"))?;
    // SAFETY: `f` is an open namespace file descriptor for the call.
    cvt(unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) })?;
    Ok(())
}

/// Sends `sig` to process `pid` (used by tests and tools on their own
/// children only).
pub fn kill(pid: u32, sig: libc::c_int) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: kill(2) with a specific pid; no memory is involved.
    cvt(unsafe { libc::kill(pid, sig) })?;
    Ok(())
}

/// 8 random bytes from the kernel (getrandom), or the clock if it is unavailable.
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: `b` is 8 writable bytes.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n == 8 {
        return u64::from_ne_bytes(b);
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
