//! The lent memory: one anonymous mapping of the configured size, split
//! into per-client regions.
//!
//! With an allowlist (`--client MAC=SIZE`), each listed MAC owns a fixed
//! region (in the order given) and nobody else gets anything. Without one,
//! the mapping is cut into slots of `--region-size` handed out first-come.
//! A region stays bound to its MAC after the client disconnects, contents
//! intact, until the client comes back or `--forget-after` expires; then its
//! contents are zeroed and (for first-come slots) the slot is freed.

use omx_proto::identity::Identity;
use std::collections::HashMap;

use crate::sys::Mapping;
use crate::util::{fmt_mac, fmt_size, Mac};

/// One client's window into the mapping.
#[derive(Debug, Clone)]
pub struct Region {
    /// Offset in the mapping.
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
#[derive(Debug, Clone)]
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
}

/// The mapping and its regions.
#[derive(Debug)]
pub struct Memory {
    map: Mapping,
    regions: Vec<Region>,
    by_mac: HashMap<Mac, usize>,
    allowlist: bool,
    /// Random, chosen at start: a restarted node never repeats an identity.
    boot: u64,
    next_stamp: u64,
}

impl Memory {
    /// Maps and splits the memory. Errors are one-line messages for the user.
    pub fn new(cfg: &MemoryConfig) -> Result<Self, String> {
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
                    return Err(format!("client {} listed twice", fmt_mac(mac)));
                }
                let sz = usize::try_from(*sz).map_err(|_| "bad client size".to_string())?;
                if sz == 0 {
                    return Err(format!("bad size: client {} has size 0", fmt_mac(mac)));
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
        let mut map = Mapping::new(total, cfg.hugepages).map_err(|e| {
            format!(
                "cannot map {} of memory: {e} (check --size against free RAM and overcommit)",
                fmt_size(cfg.size)
            )
        })?;
        if cfg.hugepages && !map.is_huge() {
            crate::warn!(
                "huge pages unavailable (reserve them in /proc/sys/vm/nr_hugepages); using normal pages"
            );
        } else if map.is_huge() {
            crate::info!("memory backed by 2 MiB huge pages");
        }
        if cfg.mlock {
            map.lock().map_err(|e| {
                format!(
                    "--mlock failed: {e} (raise RLIMIT_MEMLOCK, e.g. LimitMEMLOCK=infinity, or run as root)"
                )
            })?;
            crate::info!("memory locked into RAM");
        }
        Ok(Memory {
            map,
            next_stamp: regions.len() as u64,
            regions,
            by_mac,
            allowlist: !cfg.clients.is_empty(),
            boot: crate::sys::random_u64(),
        })
    }

    /// Whether an allowlist is configured.
    pub fn has_allowlist(&self) -> bool {
        self.allowlist
    }

    /// All regions.
    pub fn regions(&self) -> &[Region] {
        &self.regions
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
        Some(i)
    }

    /// Marks region `i` as left by its client at `now` (contents kept).
    pub fn release(&mut self, i: usize, now: u64) {
        if let Some(r) = self.regions.get_mut(i) {
            r.released_at = Some(now);
        }
    }

    fn zero(&mut self, i: usize) {
        let (off, len) = (self.regions[i].offset, self.regions[i].len);
        self.map.zero(off, len);
        self.regions[i].dirty = false;
        self.restamp(i);
    }

    /// Gives region `i` a stamp no region had before.
    fn restamp(&mut self, i: usize) {
        if let Some(r) = self.regions.get_mut(i) {
            r.stamp = self.next_stamp;
            self.next_stamp += 1;
        }
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
        out
    }

    /// Length of region `i` (0 if there is none).
    pub fn region_len(&self, i: usize) -> usize {
        self.regions.get(i).map_or(0, |r| r.len)
    }

    /// Region `i` as bytes.
    pub fn region(&self, i: usize) -> &[u8] {
        match self.regions.get(i) {
            Some(r) => &self.map.as_slice()[r.offset..r.offset + r.len],
            None => &[],
        }
    }

    /// Region `i` as mutable bytes (marks it dirty).
    pub fn region_mut(&mut self, i: usize) -> &mut [u8] {
        match self.regions.get_mut(i) {
            Some(r) => {
                r.dirty = true;
                let (o, l) = (r.offset, r.len);
                &mut self.map.as_mut_slice()[o..o + l]
            }
            None => &mut [],
        }
    }
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
}
