//! Ethernet II framing for OmniXtend.
//!
//! Frame layout: `DA(6) | SA(6) | [802.1Q tag(4)] | EtherType 0xAAAA (2) |
//! TLoE payload`. The FCS is added and checked by the MAC and never appears
//! here.

use super::error::Error;

/// EtherType used by every known OmniXtend implementation (not IEEE assigned).
pub const ETHERTYPE_OMNIXTEND: u16 = 0xAAAA;
/// EtherType of an IEEE 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType of an IEEE 802.1ad service tag (accepted like 802.1Q).
pub const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Length of an untagged Ethernet header.
pub const ETH_HEADER_LEN: usize = 14;
/// Length of an Ethernet header with one VLAN tag.
pub const ETH_VLAN_HEADER_LEN: usize = 18;

/// A parsed or to-be-written Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthHeader {
    /// Destination MAC address.
    pub dst: [u8; 6],
    /// Source MAC address.
    pub src: [u8; 6],
    /// Tag control information of one 802.1Q tag, if present.
    pub vlan_tci: Option<u16>,
    /// EtherType of the payload (after any VLAN tag).
    pub ethertype: u16,
}

impl EthHeader {
    /// An untagged OmniXtend header from `src` to `dst`.
    pub const fn new(dst: [u8; 6], src: [u8; 6]) -> Self {
        EthHeader {
            dst,
            src,
            vlan_tci: None,
            ethertype: ETHERTYPE_OMNIXTEND,
        }
    }

    /// Number of bytes this header occupies on the wire (14 or 18).
    pub const fn header_len(&self) -> usize {
        if self.vlan_tci.is_some() {
            ETH_VLAN_HEADER_LEN
        } else {
            ETH_HEADER_LEN
        }
    }

    /// Parses the Ethernet header of `frame` (any EtherType) and returns it
    /// with the payload that follows. One 802.1Q / 802.1ad tag is skipped.
    pub fn parse(frame: &[u8]) -> Result<(EthHeader, &[u8]), Error> {
        let head = frame.get(..ETH_HEADER_LEN).ok_or(Error::Truncated)?;
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(head.get(0..6).ok_or(Error::Truncated)?);
        src.copy_from_slice(head.get(6..12).ok_or(Error::Truncated)?);
        let et = be16(frame, 12)?;
        if et == ETHERTYPE_VLAN || et == ETHERTYPE_QINQ {
            let tci = be16(frame, 14)?;
            let inner = be16(frame, 16)?;
            let payload = frame.get(ETH_VLAN_HEADER_LEN..).ok_or(Error::Truncated)?;
            Ok((
                EthHeader {
                    dst,
                    src,
                    vlan_tci: Some(tci),
                    ethertype: inner,
                },
                payload,
            ))
        } else {
            let payload = frame.get(ETH_HEADER_LEN..).ok_or(Error::Truncated)?;
            Ok((
                EthHeader {
                    dst,
                    src,
                    vlan_tci: None,
                    ethertype: et,
                },
                payload,
            ))
        }
    }

    /// Like [`EthHeader::parse`] but fails with [`Error::WrongEtherType`]
    /// unless the EtherType is [`ETHERTYPE_OMNIXTEND`].
    pub fn parse_omnixtend(frame: &[u8]) -> Result<(EthHeader, &[u8]), Error> {
        let (h, p) = Self::parse(frame)?;
        if h.ethertype != ETHERTYPE_OMNIXTEND {
            return Err(Error::WrongEtherType(h.ethertype));
        }
        Ok((h, p))
    }

    /// Writes the header to the start of `buf`; returns the bytes written.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let len = self.header_len();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let mut tmp = [0u8; ETH_VLAN_HEADER_LEN];
        tmp[0..6].copy_from_slice(&self.dst);
        tmp[6..12].copy_from_slice(&self.src);
        if let Some(tci) = self.vlan_tci {
            tmp[12..14].copy_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
            tmp[14..16].copy_from_slice(&tci.to_be_bytes());
            tmp[16..18].copy_from_slice(&self.ethertype.to_be_bytes());
        } else {
            tmp[12..14].copy_from_slice(&self.ethertype.to_be_bytes());
        }
        out.copy_from_slice(tmp.get(..len).ok_or(Error::BufferTooSmall)?);
        Ok(len)
    }
}

fn be16(b: &[u8], at: usize) -> Result<u16, Error> {
    let end = at.checked_add(2).ok_or(Error::Truncated)?;
    let s: [u8; 2] = b
        .get(at..end)
        .ok_or(Error::Truncated)?
        .try_into()
        .map_err(|_| Error::Truncated)?;
    Ok(u16::from_be_bytes(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_plain_and_vlan() {
        let mut h = EthHeader::new([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]);
        let mut buf = [0u8; 32];
        assert_eq!(h.write(&mut buf).unwrap(), 14);
        assert_eq!(&buf[12..14], &[0xaa, 0xaa]);
        let (p, rest) = EthHeader::parse_omnixtend(&buf).unwrap();
        assert_eq!(p, h);
        assert_eq!(rest.len(), 18);
        h.vlan_tci = Some(0x0123);
        assert_eq!(h.write(&mut buf).unwrap(), 18);
        let (p, rest) = EthHeader::parse_omnixtend(&buf).unwrap();
        assert_eq!(p, h);
        assert_eq!(rest.len(), 14);
        assert_eq!(EthHeader::parse(&buf[..13]), Err(Error::Truncated));
        assert_eq!(EthHeader::parse(&buf[..17]), Err(Error::Truncated));
        buf[16] = 0x08;
        buf[17] = 0x00;
        assert_eq!(
            EthHeader::parse_omnixtend(&buf),
            Err(Error::WrongEtherType(0x0800))
        );
        assert_eq!(h.write(&mut buf[..17]), Err(Error::BufferTooSmall));
    }
}
