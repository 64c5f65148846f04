//! The lent memory: one mapping of the configured size, split into per-client regions.
//!
//! With an allowlist (`--client MAC=SIZE`), each listed MAC owns a fixed
//! region (in the order given) and nobody else gets anything. Without one,
//! the mapping is cut into slots of `--region-size` handed out first-come.
//! A region stays bound to its MAC after the client disconnects, contents
//! intact, until the client comes back or `--forget-after` expires; then its
//! contents are zeroed and (for first-come slots) the slot is freed.
//!
//! The mapping is anonymous (the memory dies with the process), or with `--memory-file` a
//! shared mapping of a file, whose contents outlive the daemon. The file then also carries
//! the state a restarted daemon needs to answer the same contents identity
//! (`omx_proto::identity`) for every region whose contents survived:
//!
//! ```text
//! 0            label: magic, version, layout (size, regions, page, offsets); written once
//! 4 KiB        state slot 0 \  boot id, next stamp, machine boot id, inode, clean flag,
//! 4 KiB + L    state slot 1 /  per region: owner MAC, stamp, dirty, wiping; checksummed
//! data_off     the lent memory (regions), on a page boundary (huge page on hugetlbfs)
//! ```
//!
//! The state is rewritten (into the older of the two slots, then `msync`) whenever an
//! assignment, a stamp or a dirty flag changes, and always *before* the contents change:
//! a region's new stamp is on record before it is zeroed, so a crash at any point errs on
//! the side of "lost". A torn slot fails its checksum and the other one is used.

use omx_proto::identity::Identity;
use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::sys::{Mapping, MemFile};
use crate::util::{fmt_size, format_mac, Mac};

/// One client's window into the mapping.
#[derive(Debug, Clone)]
pub struct Region {
    /// Offset in the lent memory.
    pub offset: usize,
    /// Length in bytes (the client's address space is `0..len`).
    pub len: usize,
    /// Current owner.
    pub owner: Option<Mac>,
    /// Listed by `--client` (never reassigned).
    pub fixed: bool,
    /// When the owner disconnected (ns), while it is away.
    pub released_at: Option<u64>,
    /// Whether the region may hold data (cleared when zeroed).
    pub dirty: bool,
    /// Names the region's current contents: unique among regions, renewed whenever they are
    /// zeroed or the region is given to another client (see `omx_proto::identity`).
    pub stamp: u64,
}

/// How the memory is set up.
#[derive(Debug, Clone, Default)]
pub struct MemoryConfig {
    /// Total bytes lent.
    pub size: u64,
    /// Slot size for first-come clients.
    pub region_size: u64,
    /// Allowlist: MAC and region size.
    pub clients: Vec<(Mac, u64)>,
    /// Try MAP_HUGETLB.
    pub hugepages: bool,
    /// mlock the mapping.
    pub mlock: bool,
    /// Back the memory with this file (shared mapping) instead of anonymous memory, and keep
    /// the regions' state in it, so that contents and identities survive a restart.
    pub file: Option<PathBuf>,
}

/// The mapping and its regions.
#[derive(Debug)]
pub struct Memory {
    map: Mapping,
    /// Offset of the lent memory in `map` (after the state, with a memory file).
    base: usize,
    regions: Vec<Region>,
    by_mac: HashMap<Mac, usize>,
    allowlist: bool,
    /// Random, chosen when the memory starts empty: a node that lost its memory never
    /// repeats an identity.
    boot: u64,
    next_stamp: u64,
    /// The state kept in the memory file.
    store: Option<Store>,
}

/// Where and how the state is kept in a memory file.
#[derive(Debug)]
struct Store {
    path: PathBuf,
    layout: Layout,
    /// Sequence number of the last slot written.
    seq: u64,
    machine: [u8; 16],
    inode: u64,
    /// Set only for the last write of a clean shutdown.
    clean: bool,
    sync_warned: bool,
    buf: Vec<u8>,
}

/// What the process cannot decide itself (tests fake it).
#[derive(Debug, Clone, Copy)]
struct Env {
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`), zero if unknown.
    machine: [u8; 16],
    /// Monotonic now (ns), for the away timers of resumed regions.
    now: u64,
    /// Memory the host can still give (MemAvailable), if known.
    available: Option<u64>,
}

impl Env {
    fn current() -> Env {
        Env {
            machine: machine_boot_id(),
            now: crate::util::now_ns(),
            available: mem_available(),
        }
    }
}

/// `MemAvailable` of `/proc/meminfo` in bytes.
fn mem_available() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The kernel's boot id: contents of a file on a disk may be incomplete after the machine
/// restarted, unless omx-node shut down cleanly (and wrote them back) before.
fn machine_boot_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    let Ok(s) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") else {
        return id;
    };
    let digits: Vec<u8> = s
        .bytes()
        .filter_map(|c| (c as char).to_digit(16).map(|d| d as u8))
        .collect();
    if digits.len() != 32 {
        return [0; 16];
    }
    for (i, b) in id.iter_mut().enumerate() {
        *b = digits[2 * i] << 4 | digits[2 * i + 1];
    }
    id
}

impl Memory {
    /// Maps and splits the memory. Errors are one-line messages for the user.
    pub fn new(cfg: &MemoryConfig) -> Result<Self, String> {
        Self::open(cfg, Env::current())
    }

    fn open(cfg: &MemoryConfig, env: Env) -> Result<Self, String> {
        if cfg.size == 0 {
            return Err("bad size: --size must be greater than 0".into());
        }
        let total = usize::try_from(cfg.size)
            .map_err(|_| format!("bad size {}: too large for this machine", cfg.size))?;
        let mut regions = Vec::new();
        let mut by_mac = HashMap::new();
        if cfg.clients.is_empty() {
            if cfg.region_size == 0 {
                return Err("bad size: --region-size must be greater than 0".into());
            }
            let rs = cfg.region_size.min(cfg.size) as usize;
            let n = total / rs;
            for i in 0..n {
                regions.push(Region {
                    offset: i * rs,
                    len: rs,
                    owner: None,
                    fixed: false,
                    released_at: None,
                    dirty: false,
                    stamp: regions.len() as u64,
                });
            }
        } else {
            let mut off = 0usize;
            for (mac, sz) in &cfg.clients {
                if by_mac.contains_key(mac) {
                    return Err(format!("client {} listed twice", format_mac(mac)));
                }
                let sz = usize::try_from(*sz).map_err(|_| "bad client size".to_string())?;
                if sz == 0 {
                    return Err(format!("bad size: client {} has size 0", format_mac(mac)));
                }
                let end = off.checked_add(sz).filter(|e| *e <= total).ok_or_else(|| {
                    format!(
                        "bad size: the --client regions need more than --size {}",
                        fmt_size(cfg.size)
                    )
                })?;
                by_mac.insert(*mac, regions.len());
                regions.push(Region {
                    offset: off,
                    len: sz,
                    owner: Some(*mac),
                    fixed: true,
                    released_at: None,
                    dirty: false,
                    stamp: regions.len() as u64,
                });
                off = end;
            }
        }
        let allowlist = !cfg.clients.is_empty();
        let mut mem = if let Some(path) = &cfg.file {
            if cfg.hugepages {
                return Err(HUGEPAGES_WITH_FILE.into());
            }
            Self::from_file(cfg, path, regions, by_mac, env)?
        } else {
            let map = Mapping::new(total, cfg.hugepages).map_err(|e| {
                format!(
                    "cannot map {} of memory: {e} (check --size against free RAM and overcommit)",
                    fmt_size(cfg.size)
                )
            })?;
            if cfg.hugepages && !map.is_huge() {
                crate::warn!(
                    "huge pages unavailable (fewer than {} reserved in /proc/sys/vm/nr_hugepages); using normal pages",
                    total.div_ceil(crate::sys::HUGE_PAGE)
                );
            }
            // Normal pages are lent on demand (MAP_NORESERVE): a --size the host cannot give
            // would start fine and end with the OOM killer; refused now instead. Huge pages
            // were reserved by the mapping itself.
            if !map.is_huge() {
                if let Some(avail) = env.available {
                    if cfg.size > avail {
                        return Err(format!(
                            "cannot lend --size {}: only {} MiB of memory available on this host (MemAvailable in /proc/meminfo); lower --size, free memory, or keep the memory in a file with --memory-file",
                            fmt_size(cfg.size),
                            avail >> 20
                        ));
                    }
                }
            }
            Memory {
                map,
                base: 0,
                next_stamp: regions.len() as u64,
                regions,
                by_mac,
                allowlist,
                boot: crate::sys::random_u64(),
                store: None,
            }
        };
        if mem.map.is_huge() {
            match mem.map.file() {
                Some(f) => crate::info!(
                    "memory backed by {} huge pages (hugetlbfs)",
                    fmt_size(f.page() as u64)
                ),
                None => crate::info!("memory backed by 2 MiB huge pages"),
            }
        }
        if cfg.mlock {
            mem.map.lock().map_err(|e| {
                format!(
                    "--mlock failed: {e} (raise RLIMIT_MEMLOCK, e.g. LimitMEMLOCK=infinity, or run as root)"
                )
            })?;
            crate::info!("memory locked into RAM");
        }
        Ok(mem)
    }

    /// Opens the memory file: resumes its regions when its state is valid and matches this
    /// layout, else starts it over (empty, with a new boot id). Never overwrites a file that
    /// is not an omx-node memory file.
    fn from_file(
        cfg: &MemoryConfig,
        path: &Path,
        mut regions: Vec<Region>,
        mut by_mac: HashMap<Mac, usize>,
        env: Env,
    ) -> Result<Self, String> {
        let shown = path.display();
        let mf = MemFile::open(path).map_err(|e| match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => {
                format!("memory file {shown} is in use by another process (another omx-node?)")
            }
            _ => format!("cannot open memory file {shown}: {e}"),
        })?;
        let meta = mf
            .file()
            .metadata()
            .map_err(|e| format!("cannot stat memory file {shown}: {e}"))?;
        if !meta.file_type().is_file() {
            return Err(format!("memory file {shown} is not a regular file"));
        }
        let allowlist = !cfg.clients.is_empty();
        let region_size = if allowlist { 0 } else { cfg.region_size };
        let want = Layout::new(mf.page(), cfg.size, region_size, allowlist, &regions);
        let file_len = meta.len();
        let inode = meta.ino();
        let read = |off: u64, len: u64| -> Result<Vec<u8>, String> {
            let len = len.min(file_len.saturating_sub(off)) as usize;
            let mut b = vec![0u8; len];
            mf.file()
                .read_exact_at(&mut b, off)
                .map_err(|e| format!("cannot read memory file {shown}: {e}"))?;
            Ok(b)
        };
        let label = read(0, LABEL_LEN as u64)?;
        let (slot0, slot1) = if file_len == want.file_len {
            (
                read(want.slot_off, want.slot_len)?,
                read(want.slot_off + want.slot_len, want.slot_len)?,
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let found = Found {
            file_len,
            label: &label,
            slots: [&slot0, &slot1],
            hugetlbfs: mf.is_hugetlbfs(),
        };
        let verdict = judge(&found, &want, &regions, &env.machine, inode);
        let file_bytes = usize::try_from(want.file_len)
            .map_err(|_| format!("bad size {}: too large for this machine", cfg.size))?;
        let (map, saved) = match verdict {
            Verdict::Foreign => {
                return Err(format!(
                    "{shown} is not an omx-node memory file (it holds data but no omx-node label): refusing to overwrite it; delete it or choose another --memory-file"
                ))
            }
            Verdict::Fresh(why) => {
                crate::info!("memory file {shown}: starting with empty memory ({why})");
                let map = start_over(mf, &want, file_bytes)
                    .map_err(|e| format!("cannot set up memory file {shown}: {e}"))?;
                (map, None)
            }
            Verdict::Resume(saved) => {
                allocate(&mf, file_bytes, &shown.to_string())?;
                let map = Mapping::shared(mf, file_bytes)
                    .map_err(|e| format!("cannot map memory file {shown}: {e}"))?;
                (map, Some(saved))
            }
        };
        let mut mem = Memory {
            map,
            base: want.data_off as usize,
            next_stamp: regions.len() as u64,
            regions: Vec::new(),
            by_mac: HashMap::new(),
            allowlist,
            boot: crate::sys::random_u64(),
            store: None,
        };
        let mut wipes = Vec::new();
        if let Some(saved) = &saved {
            mem.boot = saved.boot;
            mem.next_stamp = saved.next_stamp;
            for (i, (r, s)) in regions.iter_mut().zip(&saved.regions).enumerate() {
                r.stamp = s.stamp;
                r.dirty = s.dirty;
                if !r.fixed {
                    r.owner = s.owner;
                    if let Some(m) = s.owner {
                        by_mac.insert(m, i);
                    }
                }
                // Its client is away from now on (for --forget-after).
                if r.owner.is_some() {
                    r.released_at = Some(env.now);
                }
                if s.wiping {
                    wipes.push(i);
                }
            }
        }
        mem.regions = regions;
        mem.by_mac = by_mac;
        mem.store = Some(Store {
            path: path.to_path_buf(),
            layout: want,
            seq: saved.as_ref().map_or(0, |s| s.seq),
            machine: env.machine,
            inode,
            clean: false,
            sync_warned: false,
            buf: Vec::new(),
        });
        // A crash interrupted these zeroings (their new stamps are on record): finish them.
        for i in wipes {
            let (off, len) = (mem.base + mem.regions[i].offset, mem.regions[i].len);
            mem.map.zero(off, len);
            mem.regions[i].dirty = false;
        }
        // On record from now on: this run (not a clean shutdown), this machine, this file.
        mem.save(None);
        if saved.is_some() {
            let assigned = mem.regions.iter().filter(|r| r.owner.is_some()).count();
            let data = mem.regions.iter().filter(|r| r.dirty).count();
            crate::info!(
                "resuming {} regions from {shown} ({assigned} assigned, {data} holding data; contents identity kept)",
                mem.regions.len()
            );
        }
        Ok(mem)
    }

    /// Bytes mapped: the lent memory (rounded up to whole huge pages) and, with a memory
    /// file, its label and state.
    pub fn mapped_len(&self) -> usize {
        self.map.len()
    }

    /// Whether an allowlist is configured.
    pub fn has_allowlist(&self) -> bool {
        self.allowlist
    }

    /// All regions.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The memory file, if the memory lives in one.
    pub fn file_path(&self) -> Option<&Path> {
        self.store.as_ref().map(|s| s.path.as_path())
    }

    /// Whether `mac` holds a region here (connected or away).
    pub fn holds_region(&self, mac: &Mac) -> bool {
        self.by_mac.contains_key(mac)
    }

    /// Whether [`Memory::attach`] would give `mac` a region: it holds one, or (no
    /// allowlist) a first-come region is free. Allocates nothing.
    pub fn can_attach(&self, mac: &Mac) -> bool {
        self.by_mac.contains_key(mac)
            || (!self.allowlist && self.regions.iter().any(|r| r.owner.is_none()))
    }

    /// The region bound to `mac`, binding a free slot first-come if there is
    /// no allowlist. `None`: unknown MAC (allowlist) or memory exhausted.
    pub fn attach(&mut self, mac: Mac) -> Option<usize> {
        if let Some(&i) = self.by_mac.get(&mac) {
            if let Some(r) = self.regions.get_mut(i) {
                r.released_at = None;
            }
            return Some(i);
        }
        if self.allowlist {
            return None;
        }
        let i = self.regions.iter().position(|r| r.owner.is_none())?;
        if self.regions[i].dirty {
            self.zero(i);
        }
        self.restamp(i);
        let r = &mut self.regions[i];
        r.owner = Some(mac);
        r.released_at = None;
        self.by_mac.insert(mac, i);
        // On record before the client sees the region's identity.
        self.save(None);
        Some(i)
    }

    /// Marks region `i` as left by its client at `now` (contents kept).
    pub fn release(&mut self, i: usize, now: u64) {
        if let Some(r) = self.regions.get_mut(i) {
            r.released_at = Some(now);
        }
    }

    /// Zeroes region `i` under a new stamp. With a memory file the new stamp is on record
    /// before the first byte changes (and the region marked as being wiped, so that a
    /// restart after a crash finishes the job); callers save the final state.
    fn zero(&mut self, i: usize) {
        self.restamp(i);
        self.save(Some(i));
        let (off, len) = (self.base + self.regions[i].offset, self.regions[i].len);
        self.map.zero(off, len);
        self.regions[i].dirty = false;
    }

    /// Gives region `i` a stamp no region had before.
    fn restamp(&mut self, i: usize) {
        if let Some(r) = self.regions.get_mut(i) {
            r.stamp = self.next_stamp;
            self.next_stamp += 1;
        }
    }

    /// Writes the state into the older slot of the memory file and syncs it; `wiping`: a
    /// region whose zeroing is about to start.
    fn save(&mut self, wiping: Option<usize>) {
        let Some(st) = self.store.as_mut() else {
            return;
        };
        st.seq += 1;
        let saved = Saved {
            seq: st.seq,
            boot: self.boot,
            next_stamp: self.next_stamp,
            machine: st.machine,
            inode: st.inode,
            clean: st.clean,
            regions: self
                .regions
                .iter()
                .enumerate()
                .map(|(i, r)| SavedRegion {
                    stamp: r.stamp,
                    owner: r.owner,
                    dirty: r.dirty,
                    wiping: wiping == Some(i),
                })
                .collect(),
        };
        let len = st.layout.slot_len as usize;
        let off = st.layout.slot_off as usize + (st.seq % 2) as usize * len;
        st.buf.clear();
        st.buf.resize(len, 0);
        encode_slot(&saved, &mut st.buf);
        self.map.as_mut_slice()[off..off + len].copy_from_slice(&st.buf);
        if let Err(e) = self.map.sync(off, len) {
            if !st.sync_warned {
                st.sync_warned = true;
                crate::warn!(
                    "memory file {}: cannot write the state back ({e}); a machine crash may lose it",
                    st.path.display()
                );
            }
        }
    }

    /// For a clean shutdown: writes the whole memory file back to its storage and records
    /// that it is complete, so that it is resumed even after the machine restarted (a file
    /// on a disk). The last call on this memory; nothing to do for anonymous memory.
    pub fn close(&mut self) -> Result<(), String> {
        let Some(st) = self.store.as_ref() else {
            return Ok(());
        };
        let path = st.path.display().to_string();
        self.map
            .sync(0, self.map.len())
            .map_err(|e| format!("memory file {path}: cannot write it back: {e}"))?;
        if let Some(st) = self.store.as_mut() {
            st.clean = true;
        }
        self.save(None);
        if let Some(st) = self.store.as_mut() {
            st.clean = false;
        }
        crate::info!("memory file {path} saved");
        Ok(())
    }

    /// The identity of region `i`'s contents, answered at `omx_proto::identity::ADDR`.
    pub fn identity(&self, i: usize) -> Option<Identity> {
        let r = self.regions.get(i)?;
        Some(Identity {
            boot: self.boot,
            generation: r.stamp,
        })
    }

    /// Frees regions whose client has been away for `after_ns`: zeroes them
    /// and unbinds first-come slots. Returns the MACs forgotten.
    pub fn forget_expired(&mut self, now: u64, after_ns: u64) -> Vec<Mac> {
        let mut out = Vec::new();
        for i in 0..self.regions.len() {
            let r = &self.regions[i];
            let Some(t) = r.released_at else { continue };
            if now.saturating_sub(t) < after_ns {
                continue;
            }
            let owner = r.owner;
            let fixed = r.fixed;
            if r.dirty {
                self.zero(i);
            }
            let r = &mut self.regions[i];
            r.released_at = None;
            if !fixed {
                r.owner = None;
                if let Some(m) = owner {
                    self.by_mac.remove(&m);
                }
            }
            if let Some(m) = owner {
                out.push(m);
            }
        }
        if !out.is_empty() {
            self.save(None);
        }
        out
    }

    /// Length of region `i` (0 if there is none).
    pub fn region_len(&self, i: usize) -> usize {
        self.regions.get(i).map_or(0, |r| r.len)
    }

    /// Region `i` as bytes.
    pub fn region(&self, i: usize) -> &[u8] {
        match self.regions.get(i) {
            Some(r) => &self.map.as_slice()[self.base + r.offset..self.base + r.offset + r.len],
            None => &[],
        }
    }

    /// Zeroes `[off, off+len)` of region `i` for a discard, giving its whole pages back to
    /// the host (`Mapping::release`); returns the bytes given back.
    pub fn release_range(&mut self, i: usize, off: usize, len: usize) -> usize {
        let Some(r) = self.regions.get(i) else {
            return 0;
        };
        let end = off.saturating_add(len).min(r.len);
        if off >= end {
            return 0;
        }
        self.map.release(self.base + r.offset + off, end - off)
    }

    /// Bytes of region `i` resident in RAM.
    pub fn resident(&self, i: usize) -> usize {
        self.regions.get(i).map_or(0, |r| {
            self.map.resident(self.base + r.offset, r.len).unwrap_or(0)
        })
    }

    /// Region `i` as mutable bytes (marks it dirty; with a memory file, on record first).
    pub fn region_mut(&mut self, i: usize) -> &mut [u8] {
        let Some(r) = self.regions.get_mut(i) else {
            return &mut [];
        };
        let (o, l) = (self.base + r.offset, r.len);
        if !r.dirty {
            r.dirty = true;
            self.save(None);
        }
        &mut self.map.as_mut_slice()[o..o + l]
    }
}

/// Why `--hugepages` and `--memory-file` do not go together.
pub const HUGEPAGES_WITH_FILE: &str = "bad option: --hugepages does not apply to --memory-file; put the file on a hugetlbfs mount (e.g. /dev/hugepages/omx.mem) to get huge pages";

/// Makes the memory file empty and lays it out anew: the label first (a file with our
/// label is ours to wipe later), then its size, then its blocks, then the mapping.
fn start_over(mf: MemFile, want: &Layout, file_bytes: usize) -> Result<Mapping, String> {
    let label = encode_label(want);
    let f = mf.file();
    f.set_len(0).map_err(|e| e.to_string())?;
    if !mf.is_hugetlbfs() {
        // hugetlbfs has no write(2): its label is written through the mapping below, and
        // an all-zero label counts as ours there.
        f.write_all_at(&label, 0).map_err(|e| e.to_string())?;
        f.sync_data().map_err(|e| e.to_string())?;
    }
    f.set_len(want.file_len).map_err(|e| e.to_string())?;
    allocate(&mf, file_bytes, "it")?;
    let mut map = Mapping::shared(mf, file_bytes).map_err(|e| format!("cannot map it: {e}"))?;
    map.as_mut_slice()[..LABEL_LEN].copy_from_slice(&label);
    map.sync(0, LABEL_LEN).map_err(|e| e.to_string())?;
    Ok(map)
}

/// Allocates the whole file, so that its file system cannot run out under the mapping
/// (which would kill the daemon with SIGBUS).
fn allocate(mf: &MemFile, len: usize, what: &str) -> Result<(), String> {
    match mf.allocate(0, len) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            crate::warn!("cannot preallocate the memory file ({e}): if its file system fills up, omx-node dies (SIGBUS)");
            Ok(())
        }
        Err(e) => Err(format!(
            "cannot allocate {} for {what}: {e} (a tmpfs needs size= large enough, hugetlbfs enough free huge pages)",
            fmt_size(len as u64)
        )),
    }
}

// ---- The state in a memory file: encoding and the resume decision (pure) ----

const LABEL_MAGIC: &[u8; 8] = b"OMXNODE\0";
const SLOT_MAGIC: &[u8; 8] = b"OMXSTATE";
const VERSION: u32 = 1;
/// Bytes of the label used (it occupies the file's first 4 KiB).
const LABEL_LEN: usize = 104;
/// Bytes of a slot's header; its entries follow.
const SLOT_HDR: usize = 88;
/// Bytes per region in a slot.
const ENTRY: usize = 16;
const SMALL_PAGE: u64 = 4096;

const FLAG_OWNED: u8 = 1;
const FLAG_DIRTY: u8 = 2;
const FLAG_WIPING: u8 = 4;

const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut h: u64, b: &[u8]) -> u64 {
    for x in b {
        h ^= u64::from(*x);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn put(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn get(b: &[u8], off: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(w)
}

fn round_up(x: u64, to: u64) -> u64 {
    x.div_ceil(to) * to
}

/// Where everything lies in a memory file, and what the regions look like.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Layout {
    page: u64,
    size: u64,
    /// First-come region size; 0 with an allowlist.
    region_size: u64,
    allowlist: bool,
    regions: u64,
    /// Hash of the region table (offsets, lengths, allowlisted MACs).
    table: u64,
    slot_off: u64,
    slot_len: u64,
    data_off: u64,
    file_len: u64,
}

impl Layout {
    fn new(page: usize, size: u64, region_size: u64, allowlist: bool, regions: &[Region]) -> Self {
        let page = (page as u64).max(SMALL_PAGE);
        let mut table = FNV0;
        for r in regions {
            table = fnv(table, &(r.offset as u64).to_le_bytes());
            table = fnv(table, &(r.len as u64).to_le_bytes());
            let owner = if r.fixed { r.owner } else { None };
            table = fnv(table, &owner.unwrap_or([0; 6]));
        }
        let n = regions.len() as u64;
        let slot_len = round_up(SLOT_HDR as u64 + n * ENTRY as u64, SMALL_PAGE);
        let slot_off = SMALL_PAGE;
        let data_off = round_up(slot_off + 2 * slot_len, page);
        Layout {
            page,
            size,
            region_size,
            allowlist,
            regions: n,
            table,
            slot_off,
            slot_len,
            data_off,
            file_len: data_off + round_up(size, page),
        }
    }
}

fn encode_label(l: &Layout) -> [u8; LABEL_LEN] {
    let mut b = [0u8; LABEL_LEN];
    b[..8].copy_from_slice(LABEL_MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    put(&mut b, 16, l.page);
    put(&mut b, 24, l.size);
    put(&mut b, 32, l.region_size);
    put(&mut b, 40, u64::from(l.allowlist));
    put(&mut b, 48, l.regions);
    put(&mut b, 56, l.table);
    put(&mut b, 64, l.slot_off);
    put(&mut b, 72, l.slot_len);
    put(&mut b, 80, l.data_off);
    put(&mut b, 88, l.file_len);
    let sum = fnv(FNV0, &b[..96]);
    put(&mut b, 96, sum);
    b
}

/// What the start of a memory file says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    /// An omx-node memory file laid out so.
    Ours(Layout),
    /// Has the magic but is unreadable (damaged, or another version).
    Damaged(String),
    /// Nothing there (hugetlbfs: set up was interrupted before the label was written).
    Blank,
    /// Something else.
    Foreign,
}

fn decode_label(b: &[u8]) -> Label {
    if b.len() < 8 || &b[..8] != LABEL_MAGIC {
        return if b.iter().all(|x| *x == 0) {
            Label::Blank
        } else {
            Label::Foreign
        };
    }
    if b.len() < LABEL_LEN {
        return Label::Damaged("its label is truncated".into());
    }
    let version = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    if version != VERSION {
        return Label::Damaged(format!("its format version is {version}, not {VERSION}"));
    }
    if get(b, 96) != fnv(FNV0, &b[..96]) {
        return Label::Damaged("its label is damaged".into());
    }
    Label::Ours(Layout {
        page: get(b, 16),
        size: get(b, 24),
        region_size: get(b, 32),
        allowlist: get(b, 40) != 0,
        regions: get(b, 48),
        table: get(b, 56),
        slot_off: get(b, 64),
        slot_len: get(b, 72),
        data_off: get(b, 80),
        file_len: get(b, 88),
    })
}

/// One region's state in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SavedRegion {
    stamp: u64,
    owner: Option<Mac>,
    dirty: bool,
    /// Its zeroing had started (under the new `stamp`).
    wiping: bool,
}

/// The state in one slot.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Saved {
    seq: u64,
    boot: u64,
    next_stamp: u64,
    machine: [u8; 16],
    inode: u64,
    clean: bool,
    regions: Vec<SavedRegion>,
}

/// Encodes `s` into `b` (at least `SLOT_HDR + ENTRY * regions` bytes).
fn encode_slot(s: &Saved, b: &mut [u8]) {
    b[..8].copy_from_slice(SLOT_MAGIC);
    b[8..12].copy_from_slice(&VERSION.to_le_bytes());
    b[12..16].fill(0);
    put(b, 16, s.seq);
    put(b, 24, s.boot);
    put(b, 32, s.next_stamp);
    b[40..56].copy_from_slice(&s.machine);
    put(b, 56, s.inode);
    put(b, 64, u64::from(s.clean));
    put(b, 72, s.regions.len() as u64);
    for (i, r) in s.regions.iter().enumerate() {
        let e = SLOT_HDR + i * ENTRY;
        put(b, e, r.stamp);
        b[e + 8..e + 14].copy_from_slice(&r.owner.unwrap_or([0; 6]));
        b[e + 14] = if r.owner.is_some() { FLAG_OWNED } else { 0 }
            | if r.dirty { FLAG_DIRTY } else { 0 }
            | if r.wiping { FLAG_WIPING } else { 0 };
        b[e + 15] = 0;
    }
    let end = SLOT_HDR + s.regions.len() * ENTRY;
    let sum = fnv(fnv(FNV0, &b[..80]), &b[SLOT_HDR..end]);
    put(b, 80, sum);
}

/// Decodes a slot of `n` regions; `None` if it is not a complete, intact one.
fn decode_slot(b: &[u8], n: usize) -> Option<Saved> {
    let end = SLOT_HDR.checked_add(n.checked_mul(ENTRY)?)?;
    if b.len() < end || &b[..8] != SLOT_MAGIC {
        return None;
    }
    if u32::from_le_bytes([b[8], b[9], b[10], b[11]]) != VERSION || get(b, 72) != n as u64 {
        return None;
    }
    if get(b, 80) != fnv(fnv(FNV0, &b[..80]), &b[SLOT_HDR..end]) {
        return None;
    }
    let mut machine = [0u8; 16];
    machine.copy_from_slice(&b[40..56]);
    let regions = (0..n)
        .map(|i| {
            let e = SLOT_HDR + i * ENTRY;
            let flags = b[e + 14];
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&b[e + 8..e + 14]);
            SavedRegion {
                stamp: get(b, e),
                owner: (flags & FLAG_OWNED != 0).then_some(mac),
                dirty: flags & FLAG_DIRTY != 0,
                wiping: flags & FLAG_WIPING != 0,
            }
        })
        .collect();
    Some(Saved {
        seq: get(b, 16),
        boot: get(b, 24),
        next_stamp: get(b, 32),
        machine,
        inode: get(b, 56),
        clean: get(b, 64) != 0,
        regions,
    })
}

/// What was read from an existing memory file.
struct Found<'a> {
    file_len: u64,
    /// Its first bytes (up to the label's length).
    label: &'a [u8],
    /// Its two state slots (empty when the file does not have the expected length).
    slots: [&'a [u8]; 2],
    hugetlbfs: bool,
}

/// Whether to resume a memory file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// Its state is valid, matches the layout, and its contents are complete.
    Resume(Saved),
    /// Start it over (empty, new boot id), for this reason.
    Fresh(String),
    /// Not an omx-node memory file: leave it alone.
    Foreign,
}

/// Decides whether the contents of a memory file survived, i.e. whether its regions may be
/// served under their recorded identities.
fn judge(
    f: &Found<'_>,
    want: &Layout,
    regions: &[Region],
    machine: &[u8; 16],
    inode: u64,
) -> Verdict {
    if f.file_len == 0 {
        return Verdict::Fresh("new file".into());
    }
    let have = match decode_label(f.label) {
        Label::Ours(l) => l,
        Label::Damaged(why) => return Verdict::Fresh(why),
        Label::Blank if f.hugetlbfs => return Verdict::Fresh("its set-up was interrupted".into()),
        Label::Blank | Label::Foreign => return Verdict::Foreign,
    };
    if have.size != want.size {
        return Verdict::Fresh(format!(
            "--size changed: it holds {}, now {}",
            fmt_size(have.size),
            fmt_size(want.size)
        ));
    }
    if have.allowlist != want.allowlist {
        return Verdict::Fresh(if want.allowlist {
            "it had first-come regions, now there is a --client list".into()
        } else {
            "it had a --client list, now regions are first-come".into()
        });
    }
    if have.region_size != want.region_size {
        return Verdict::Fresh(format!(
            "--region-size changed: {}, now {}",
            fmt_size(have.region_size),
            fmt_size(want.region_size)
        ));
    }
    if have.regions != want.regions || have.table != want.table {
        return Verdict::Fresh("the --client list changed".into());
    }
    if have != *want {
        return Verdict::Fresh(format!(
            "its layout differs (page size {}, now {})",
            fmt_size(have.page),
            fmt_size(want.page)
        ));
    }
    if f.file_len != want.file_len {
        return Verdict::Fresh(format!(
            "it has {} bytes, not {} (truncated or extended)",
            f.file_len, want.file_len
        ));
    }
    let n = regions.len();
    let saved = match (decode_slot(f.slots[0], n), decode_slot(f.slots[1], n)) {
        (Some(a), Some(b)) => {
            if a.seq >= b.seq {
                a
            } else {
                b
            }
        }
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return Verdict::Fresh("no valid state in it".into()),
    };
    if saved.inode != inode {
        return Verdict::Fresh(
            "it is a copy of a memory file (its state names another file), its contents may be older than its state"
                .into(),
        );
    }
    let same_boot = *machine != [0; 16] && saved.machine == *machine;
    if !same_boot && !saved.clean {
        return Verdict::Fresh(
            "the machine restarted since it was last used and omx-node had not shut down cleanly: its contents may be incomplete"
                .into(),
        );
    }
    let mut macs = HashSet::new();
    let mut stamps = HashSet::new();
    for (r, s) in regions.iter().zip(&saved.regions) {
        let owner_ok = if r.fixed {
            s.owner == r.owner
        } else {
            s.owner.is_none_or(|m| macs.insert(m))
        };
        if !owner_ok || s.stamp >= saved.next_stamp || !stamps.insert(s.stamp) {
            return Verdict::Fresh("its state is inconsistent".into());
        }
    }
    Verdict::Resume(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Mac = [2, 0, 0, 0, 0, 1];
    const B: Mac = [2, 0, 0, 0, 0, 2];
    const C: Mac = [2, 0, 0, 0, 0, 3];

    fn cfg(size: u64, rs: u64, clients: Vec<(Mac, u64)>) -> MemoryConfig {
        MemoryConfig {
            size,
            region_size: rs,
            clients,
            hugepages: false,
            mlock: false,
            file: None,
        }
    }

    #[test]
    fn first_come_slots() {
        let mut m = Memory::new(&cfg(3 << 20, 1 << 20, vec![])).unwrap();
        let a = m.attach(A).unwrap();
        let b = m.attach(B).unwrap();
        assert_ne!(a, b);
        assert_eq!(m.attach(A), Some(a));
        m.region_mut(a)[5] = 7;
        let c = m.attach(C).unwrap();
        assert!(m.attach([9; 6]).is_none(), "only three slots");
        // A leaves; its data stays until forgotten.
        m.release(a, 100);
        assert!(m.forget_expired(150, 100).is_empty());
        assert_eq!(m.attach(A), Some(a));
        assert_eq!(m.region(a)[5], 7);
        m.release(a, 200);
        assert_eq!(m.forget_expired(300, 100), vec![A]);
        // slot is free again, zeroed, and given to a newcomer
        let d = m.attach([9; 6]).unwrap();
        assert_eq!(d, a);
        assert_eq!(m.region(d)[5], 0);
        let _ = c;
    }

    #[test]
    fn allowlist() {
        let mut m = Memory::new(&cfg(4 << 20, 1 << 20, vec![(A, 1 << 20), (B, 2 << 20)])).unwrap();
        let a = m.attach(A).unwrap();
        assert_eq!(m.region_len(a), 1 << 20);
        let b = m.attach(B).unwrap();
        assert_eq!(m.region_len(b), 2 << 20);
        assert!(m.attach(C).is_none());
        let b = m.attach(B).unwrap();
        m.region_mut(b)[0] = 1;
        m.release(b, 0);
        assert_eq!(m.forget_expired(10, 5), vec![B]);
        assert_eq!(m.attach(B), Some(b), "fixed region stays reserved");
        assert_eq!(m.region(b)[0], 0);
        assert!(Memory::new(&cfg(2 << 20, 1 << 20, vec![(A, 1 << 20), (B, 2 << 20)])).is_err());
    }

    #[test]
    fn a_size_the_host_cannot_give_fails_at_start() {
        let cfg = MemoryConfig {
            size: 4 << 20,
            region_size: 1 << 20,
            ..Default::default()
        };
        let mut env = env(M1);
        env.available = Some(2 << 20);
        let e = Memory::open(&cfg, env).unwrap_err();
        assert!(e.contains("MemAvailable") && e.contains("--size 4M"), "{e}");
        env.available = Some(8 << 20);
        assert!(Memory::open(&cfg, env).is_ok());
    }

    // ---- the state in a memory file ----

    const M1: [u8; 16] = [1; 16];
    const M2: [u8; 16] = [2; 16];

    fn env(machine: [u8; 16]) -> Env {
        Env {
            machine,
            now: 1000,
            available: None,
        }
    }

    /// A path for a memory file in `dir`, removed on drop.
    struct TempPath(PathBuf);

    impl TempPath {
        fn new(dir: &Path) -> TempPath {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let p = dir.join(format!("omx-memtest-{}-{n}.mem", std::process::id()));
            let _ = std::fs::remove_file(&p);
            TempPath(p)
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Directories to try memory files in: the temporary directory (a disk, here) and
    /// /dev/shm (tmpfs) when there is one.
    fn dirs() -> Vec<PathBuf> {
        let mut v = vec![std::env::temp_dir()];
        let shm = PathBuf::from("/dev/shm");
        if shm.is_dir() && std::fs::metadata(&shm).is_ok_and(|m| !m.permissions().readonly()) {
            v.push(shm);
        }
        v
    }

    fn fcfg(size: u64, rs: u64, clients: Vec<(Mac, u64)>, path: &Path) -> MemoryConfig {
        MemoryConfig {
            file: Some(path.to_path_buf()),
            ..cfg(size, rs, clients)
        }
    }

    fn id(m: &Memory, i: usize) -> Identity {
        m.identity(i).unwrap()
    }

    fn regions(n: usize, len: usize) -> Vec<Region> {
        (0..n)
            .map(|i| Region {
                offset: i * len,
                len,
                owner: None,
                fixed: false,
                released_at: None,
                dirty: false,
                stamp: i as u64,
            })
            .collect()
    }

    fn saved(n: usize) -> Saved {
        Saved {
            seq: 7,
            boot: 0x1234_5678_9abc_def0,
            next_stamp: 40,
            machine: M1,
            inode: 99,
            clean: false,
            regions: (0..n)
                .map(|i| SavedRegion {
                    stamp: 30 + i as u64,
                    owner: (i % 2 == 0).then_some([2, 0, 0, 0, 0, i as u8]),
                    dirty: i % 3 == 0,
                    wiping: i == 1,
                })
                .collect(),
        }
    }

    #[test]
    fn label_encode_decode() {
        let l = Layout::new(4096, 3 << 20, 1 << 20, false, &regions(3, 1 << 20));
        assert_eq!(decode_label(&encode_label(&l)), Label::Ours(l.clone()));
        let mut b = encode_label(&l);
        b[30] ^= 1;
        assert!(matches!(decode_label(&b), Label::Damaged(_)));
        let mut b = encode_label(&l);
        b[8] = 2;
        assert!(matches!(decode_label(&b), Label::Damaged(w) if w.contains("version is 2")));
        assert_eq!(
            decode_label(&encode_label(&l)[..50]),
            Label::Damaged("its label is truncated".into())
        );
        assert_eq!(decode_label(b"#!/bin/sh\nexit 0\n"), Label::Foreign);
        assert_eq!(decode_label(&[0u8; LABEL_LEN]), Label::Blank);
        assert_eq!(decode_label(&[]), Label::Blank);
    }

    #[test]
    fn layout_offsets() {
        let l = Layout::new(4096, 3 << 20, 1 << 20, false, &regions(3, 1 << 20));
        assert_eq!((l.slot_off, l.slot_len, l.data_off), (4096, 4096, 3 * 4096));
        assert_eq!(l.file_len, 3 * 4096 + (3 << 20));
        // 1000 regions need more than a page per slot.
        let l = Layout::new(4096, 1000 << 20, 1 << 20, false, &regions(1000, 1 << 20));
        assert_eq!(l.slot_len, round_up((SLOT_HDR + 1000 * ENTRY) as u64, 4096));
        assert_eq!(l.data_off, 4096 + 2 * l.slot_len);
        // hugetlbfs: everything on huge page boundaries.
        let l = Layout::new(2 << 20, (3 << 20) + 5, 1 << 20, false, &regions(3, 1 << 20));
        assert_eq!(l.data_off, 2 << 20);
        assert_eq!(l.file_len, (2 << 20) + (4 << 20));
        // The region table is part of the layout.
        let mut fixed = regions(2, 1 << 20);
        fixed[0].fixed = true;
        fixed[0].owner = Some(A);
        let a = Layout::new(4096, 2 << 20, 0, true, &fixed);
        fixed[0].owner = Some(B);
        assert_ne!(a.table, Layout::new(4096, 2 << 20, 0, true, &fixed).table);
    }

    #[test]
    fn slot_encode_decode() {
        let s = saved(5);
        let mut b = vec![0u8; 4096];
        encode_slot(&s, &mut b);
        assert_eq!(decode_slot(&b, 5), Some(s.clone()));
        assert_eq!(decode_slot(&b, 4), None, "other region count");
        assert_eq!(decode_slot(&b[..SLOT_HDR + 4 * ENTRY], 5), None, "short");
        // A torn write: any byte of header or entries changed.
        for i in [
            0,
            17,
            30,
            45,
            60,
            70,
            SLOT_HDR + 3,
            SLOT_HDR + 4 * ENTRY + 14,
        ] {
            let mut t = b.clone();
            t[i] ^= 0x40;
            assert_eq!(decode_slot(&t, 5), None, "byte {i}");
        }
        // Bytes after the entries do not matter.
        let mut t = b.clone();
        t[2000] = 1;
        assert_eq!(decode_slot(&t, 5), Some(s));
    }

    /// A memory file as `judge` sees it: label, slots, length.
    struct Image {
        len: u64,
        label: Vec<u8>,
        slots: [Vec<u8>; 2],
        huge: bool,
    }

    impl Image {
        fn new(l: &Layout, slots: [Option<&Saved>; 2]) -> Image {
            let enc = |s: Option<&Saved>| {
                let mut b = vec![0u8; l.slot_len as usize];
                if let Some(s) = s {
                    encode_slot(s, &mut b);
                }
                b
            };
            Image {
                len: l.file_len,
                label: encode_label(l).to_vec(),
                slots: [enc(slots[0]), enc(slots[1])],
                huge: false,
            }
        }

        fn judge(&self, want: &Layout, r: &[Region], machine: [u8; 16], inode: u64) -> Verdict {
            let f = Found {
                file_len: self.len,
                label: &self.label,
                slots: [&self.slots[0], &self.slots[1]],
                hugetlbfs: self.huge,
            };
            judge(&f, want, r, &machine, inode)
        }
    }

    fn fresh_because(v: Verdict, what: &str) {
        match v {
            Verdict::Fresh(why) => assert!(why.contains(what), "{why:?} should say {what:?}"),
            v => panic!("{v:?}: expected a fresh start because {what}"),
        }
    }

    #[test]
    fn judge_resume_or_fresh() {
        let r = regions(5, 1 << 20);
        let want = Layout::new(4096, 5 << 20, 1 << 20, false, &r);
        let s = saved(5);
        let mut older = s.clone();
        older.seq = 6;
        older.regions[0].stamp = 1;
        // Valid and matching: resume the newest slot, whichever it is.
        let img = Image::new(&want, [Some(&s), Some(&older)]);
        assert_eq!(img.judge(&want, &r, M1, 99), Verdict::Resume(s.clone()));
        let img = Image::new(&want, [Some(&older), Some(&s)]);
        assert_eq!(img.judge(&want, &r, M1, 99), Verdict::Resume(s.clone()));
        // The newest slot torn: the older one.
        let mut img = Image::new(&want, [Some(&older), Some(&s)]);
        img.slots[1][100] ^= 1;
        assert_eq!(img.judge(&want, &r, M1, 99), Verdict::Resume(older.clone()));
        // Neither slot valid.
        let img = Image::new(&want, [None, None]);
        fresh_because(img.judge(&want, &r, M1, 99), "no valid state");
        // A new (empty) file.
        let mut img = Image::new(&want, [Some(&s), None]);
        img.len = 0;
        fresh_because(img.judge(&want, &r, M1, 99), "new file");
        // Truncated or extended.
        let mut img = Image::new(&want, [Some(&s), None]);
        img.len += 4096;
        fresh_because(img.judge(&want, &r, M1, 99), "truncated or extended");
        // Another layout: size, region size, allowlist, page.
        let img = Image::new(&want, [Some(&s), None]);
        let r6 = regions(6, 1 << 20);
        fresh_because(
            img.judge(
                &Layout::new(4096, 6 << 20, 1 << 20, false, &r6),
                &r6,
                M1,
                99,
            ),
            "--size changed",
        );
        let r10 = regions(10, 512 << 10);
        fresh_because(
            img.judge(
                &Layout::new(4096, 5 << 20, 512 << 10, false, &r10),
                &r10,
                M1,
                99,
            ),
            "--region-size changed",
        );
        let mut rf = regions(1, 1 << 20);
        rf[0].fixed = true;
        rf[0].owner = Some(A);
        let fixed = Layout::new(4096, 5 << 20, 0, true, &rf);
        fresh_because(
            img.judge(&fixed, &rf, M1, 99),
            "now there is a --client list",
        );
        fresh_because(
            img.judge(
                &Layout::new(2 << 20, 5 << 20, 1 << 20, false, &r),
                &r,
                M1,
                99,
            ),
            "page size",
        );
        // Allowlist changed (same count, another MAC).
        let mut s1 = saved(1);
        s1.regions[0].owner = Some(A);
        s1.next_stamp = 100;
        let img = Image::new(&fixed, [Some(&s1), None]);
        assert!(matches!(img.judge(&fixed, &rf, M1, 99), Verdict::Resume(_)));
        let mut rb = rf.clone();
        rb[0].owner = Some(B);
        fresh_because(
            img.judge(&Layout::new(4096, 5 << 20, 0, true, &rb), &rb, M1, 99),
            "--client list changed",
        );
        // A copy: its state names another inode.
        let img = Image::new(&want, [Some(&s), None]);
        fresh_because(img.judge(&want, &r, M1, 98), "copy");
        // The machine restarted: only after a clean shutdown; an unknown machine id never
        // counts as the same boot.
        fresh_because(img.judge(&want, &r, M2, 99), "machine restarted");
        fresh_because(img.judge(&want, &r, [0; 16], 99), "machine restarted");
        let mut clean = s.clone();
        clean.clean = true;
        let img = Image::new(&want, [Some(&clean), None]);
        assert_eq!(img.judge(&want, &r, M2, 99), Verdict::Resume(clean.clone()));
        // Inconsistent state: a MAC owning two regions, a stamp not below next_stamp.
        let mut bad = s.clone();
        bad.regions[2].owner = bad.regions[0].owner;
        fresh_because(
            Image::new(&want, [Some(&bad), None]).judge(&want, &r, M1, 99),
            "inconsistent",
        );
        let mut bad = s.clone();
        bad.regions[4].stamp = bad.next_stamp;
        fresh_because(
            Image::new(&want, [Some(&bad), None]).judge(&want, &r, M1, 99),
            "inconsistent",
        );
        let mut bad = s.clone();
        bad.regions[4].stamp = bad.regions[3].stamp;
        fresh_because(
            Image::new(&want, [Some(&bad), None]).judge(&want, &r, M1, 99),
            "inconsistent",
        );
        // Not ours: leave it alone. A damaged label of ours: start over.
        let mut img = Image::new(&want, [Some(&s), None]);
        img.label = b"important data".to_vec();
        assert_eq!(img.judge(&want, &r, M1, 99), Verdict::Foreign);
        img.label = vec![0; LABEL_LEN];
        assert_eq!(img.judge(&want, &r, M1, 99), Verdict::Foreign);
        img.huge = true;
        fresh_because(img.judge(&want, &r, M1, 99), "interrupted");
        let mut img = Image::new(&want, [Some(&s), None]);
        img.label[20] ^= 1;
        fresh_because(img.judge(&want, &r, M1, 99), "damaged");
    }

    /// A release gives the whole pages of a range back to the host, in anonymous memory and
    /// in a memory file, and the range reads as zeros; locked memory is only zeroed.
    #[test]
    fn a_release_gives_whole_pages_back_and_reads_zeros() {
        // 512-byte blocks the memory file has on its file system.
        let blocks = |m: &Memory| {
            use std::os::unix::fs::MetadataExt;
            m.file_path()
                .map_or(0, |p| std::fs::metadata(p).unwrap().blocks())
        };
        let check = |mut m: Memory, gives_back: bool, what: &str| {
            let a = m.attach(A).unwrap();
            m.region_mut(a)[..1 << 20].fill(0x5a);
            assert_eq!(m.resident(a), 1 << 20, "{what}: filled");
            let before = blocks(&m);
            // 64 KiB from the middle of a page: 15 whole pages and two partial ones.
            let got = m.release_range(a, 4096 + 100, 64 << 10);
            let pages = if gives_back { 15 * 4096 } else { 0 };
            assert_eq!(got, pages, "{what}");
            assert_eq!(m.resident(a), (1 << 20) - pages, "{what}: after");
            if m.file_path().is_some() {
                assert_eq!(before - blocks(&m), 15 * 8, "{what}: the file's blocks");
            }
            let r = m.region(a);
            assert!(
                r[4096 + 100..4096 + 100 + (64 << 10)]
                    .iter()
                    .all(|&b| b == 0),
                "{what}"
            );
            assert_eq!(
                (r[4096 + 99], r[4096 + 100 + (64 << 10)]),
                (0x5a, 0x5a),
                "{what}"
            );
            // Out of the region: nothing.
            assert_eq!(m.release_range(a, 1 << 20, 4096), 0, "{what}");
        };
        check(
            Memory::new(&cfg(1 << 20, 1 << 20, vec![])).unwrap(),
            true,
            "anonymous",
        );
        let locked = MemoryConfig {
            mlock: true,
            ..cfg(1 << 20, 1 << 20, vec![])
        };
        if let Ok(m) = Memory::new(&locked) {
            check(m, false, "locked");
        }
        for dir in dirs() {
            let p = TempPath::new(&dir);
            let m = Memory::open(&fcfg(1 << 20, 1 << 20, vec![], &p.0), env(M1)).unwrap();
            check(m, true, "memory file");
        }
    }

    #[test]
    fn memory_file_survives_a_crash() {
        for dir in dirs() {
            let p = TempPath::new(&dir);
            let c = fcfg(3 << 20, 1 << 20, vec![], &p.0);
            let mut m = Memory::open(&c, env(M1)).unwrap();
            let a = m.attach(A).unwrap();
            m.region_mut(a)[5] = 0xab;
            let b = m.attach(B).unwrap();
            m.region_mut(b)[(1 << 20) - 1] = 0xcd;
            let (ia, ib) = (id(&m, a), id(&m, b));
            assert_ne!(ia, ib);
            drop(m); // SIGKILL: no clean shutdown
            let mut m = Memory::open(&c, env(M1)).unwrap();
            assert_eq!((id(&m, a), id(&m, b)), (ia, ib), "{}", dir.display());
            assert_eq!(m.region(a)[5], 0xab);
            assert_eq!(m.region(b)[(1 << 20) - 1], 0xcd);
            assert_eq!(
                m.regions()[a].released_at,
                Some(1000),
                "away since the restart"
            );
            assert_eq!(m.attach(B), Some(b), "same MAC, same region");
            assert_eq!(m.attach(A), Some(a));
            let cc = m.attach(C).unwrap();
            assert!(cc != a && cc != b);
            assert_eq!(m.region(cc)[5], 0);
            let ic = id(&m, cc);
            assert!(ic != ia && ic != ib && ic.boot == ia.boot);
            drop(m);
            // Deleted: a new file, a new boot id, empty memory.
            std::fs::remove_file(&p.0).unwrap();
            let mut m = Memory::open(&c, env(M1)).unwrap();
            assert_ne!(id(&m, a).boot, ia.boot);
            assert_eq!(m.attach(C), Some(0), "assignments are gone with the file");
            assert_eq!(m.region(0)[5], 0);
        }
    }

    #[test]
    fn memory_file_forget_and_wipe_are_on_record() {
        let p = TempPath::new(&std::env::temp_dir());
        let c = fcfg(2 << 20, 1 << 20, vec![], &p.0);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        let a = m.attach(A).unwrap();
        m.region_mut(a)[0] = 1;
        m.region_mut(a)[8191] = 2;
        let before = id(&m, a);
        m.release(a, 100);
        assert_eq!(m.forget_expired(300, 100), vec![A]);
        let forgotten = id(&m, a);
        assert_ne!(forgotten, before);
        drop(m);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        assert_eq!(id(&m, a), forgotten, "the new stamp was saved");
        assert!(m.regions()[a].owner.is_none() && !m.regions()[a].dirty);
        assert_eq!((m.region(a)[0], m.region(a)[8191]), (0, 0));
        // Given to another MAC: yet another identity, also on record.
        assert_eq!(m.attach(B), Some(a));
        let given = id(&m, a);
        assert_ne!(given, forgotten);
        m.region_mut(a)[3] = 3;
        drop(m);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        assert_eq!(id(&m, a), given);
        assert_eq!(m.attach(B), Some(a));
        assert_eq!(m.region(a)[3], 3);
        // A crash after the new stamp was saved but before the region was zeroed: it reads
        // as lost, and the restart finishes the zeroing.
        m.restamp(a);
        m.save(Some(a));
        let wiped = id(&m, a);
        drop(m);
        let m = Memory::open(&c, env(M1)).unwrap();
        assert_eq!(id(&m, a), wiped);
        assert_ne!(wiped, given);
        assert_eq!(m.region(a)[3], 0);
        assert!(!m.regions()[a].dirty);
        assert_eq!(m.regions()[a].owner, Some(B));
    }

    #[test]
    fn memory_file_starts_over_when_contents_may_be_gone() {
        let p = TempPath::new(&std::env::temp_dir());
        let c = fcfg(2 << 20, 1 << 20, vec![(A, 1 << 20), (B, 1 << 20)], &p.0);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        let a = m.attach(A).unwrap();
        m.region_mut(a)[7] = 7;
        let ia = id(&m, a);
        drop(m);
        // The machine restarted, no clean shutdown: lost.
        let m = Memory::open(&c, env(M2)).unwrap();
        assert_ne!(id(&m, a), ia);
        assert_eq!(m.region(a)[7], 0);
        drop(m);
        // After a clean shutdown, a machine restart keeps everything.
        let mut m = Memory::open(&c, env(M2)).unwrap();
        m.region_mut(a)[7] = 8;
        let ia = id(&m, a);
        m.close().unwrap();
        drop(m);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        assert_eq!(id(&m, a), ia);
        assert_eq!(m.region(a)[7], 8);
        // ... but only for the run that shut down cleanly.
        m.region_mut(a)[7] = 9;
        drop(m);
        let m = Memory::open(&c, env(M2)).unwrap();
        assert_ne!(id(&m, a), ia);
        drop(m);
        // Another allowlist: another layout, empty memory.
        let mut m = Memory::open(&c, env(M2)).unwrap();
        m.region_mut(a)[7] = 10;
        let ia = id(&m, a);
        drop(m);
        let c2 = fcfg(2 << 20, 1 << 20, vec![(A, 1 << 20), (C, 1 << 20)], &p.0);
        let m = Memory::open(&c2, env(M2)).unwrap();
        assert_ne!(id(&m, a).boot, ia.boot);
        assert_eq!(m.region(a)[7], 0);
        drop(m);
        // Another size.
        let c3 = fcfg(4 << 20, 1 << 20, vec![(A, 1 << 20), (C, 1 << 20)], &p.0);
        let m = Memory::open(&c3, env(M2)).unwrap();
        assert_eq!(
            std::fs::metadata(&p.0).unwrap().len(),
            m.store.as_ref().unwrap().layout.file_len
        );
    }

    #[test]
    fn memory_file_locked_foreign_and_hugepages_refused() {
        let p = TempPath::new(&std::env::temp_dir());
        let c = fcfg(1 << 20, 1 << 20, vec![], &p.0);
        let m = Memory::open(&c, env(M1)).unwrap();
        let e = Memory::open(&c, env(M1)).unwrap_err();
        assert!(e.contains("in use by another process"), "{e}");
        drop(m);
        assert!(
            Memory::open(&c, env(M1)).is_ok(),
            "the lock goes with the process"
        );
        let f = TempPath::new(&std::env::temp_dir());
        std::fs::write(&f.0, b"precious").unwrap();
        let e = Memory::open(&fcfg(1 << 20, 1 << 20, vec![], &f.0), env(M1)).unwrap_err();
        assert!(e.contains("not an omx-node memory file"), "{e}");
        assert_eq!(std::fs::read(&f.0).unwrap(), b"precious");
        let mut h = fcfg(1 << 20, 1 << 20, vec![], &p.0);
        h.hugepages = true;
        assert_eq!(Memory::open(&h, env(M1)).unwrap_err(), HUGEPAGES_WITH_FILE);
    }

    #[test]
    fn memory_file_torn_state_falls_back_to_the_other_slot() {
        let p = TempPath::new(&std::env::temp_dir());
        let c = fcfg(2 << 20, 1 << 20, vec![], &p.0);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        let a = m.attach(A).unwrap();
        let ia = id(&m, a);
        let (seq, off, len) = {
            let st = m.store.as_ref().unwrap();
            (st.seq, st.layout.slot_off, st.layout.slot_len)
        };
        drop(m);
        // Tear the newest slot (the one of `seq`) as a crash in the middle of writing it
        // would: the previous one, written before anything it describes changed, is used.
        let f = std::fs::OpenOptions::new().write(true).open(&p.0).unwrap();
        f.write_all_at(&[0x55; 40], off + (seq % 2) * len + 20)
            .unwrap();
        drop(f);
        let mut m = Memory::open(&c, env(M1)).unwrap();
        assert!(
            m.regions()[a].owner.is_none(),
            "the attach was not on record"
        );
        assert_eq!(id(&m, a).boot, ia.boot);
        assert_eq!(m.attach(A), Some(a));
    }
}
