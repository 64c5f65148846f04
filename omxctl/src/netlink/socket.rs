//! A synchronous generic netlink socket: send a request, collect the
//! replies until the ACK (do) or NLMSG_DONE (dump), and decode errors with
//! their extended ACK (NETLINK_EXT_ACK) TLVs.

use std::fmt::Debug;
use std::io;

use netlink_packet_core::{
    parse_i32, parse_string, parse_u32, DecodeError, Emitable, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload, NlasIterator, ParseableParametrized, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::error::{Error, KernelError};

/// `struct nlmsghdr` length.
pub const NLMSG_HDRLEN: usize = 16;
/// `struct genlmsghdr` length.
pub const GENL_HDRLEN: usize = 4;

/// Extended ACK attribute types (`enum nlmsgerr_attrs`).
pub const NLMSGERR_ATTR_MSG: u16 = 1;
pub const NLMSGERR_ATTR_OFFS: u16 = 2;
pub const NLMSGERR_ATTR_COOKIE: u16 = 3;
pub const NLMSGERR_ATTR_POLICY: u16 = 4;
pub const NLMSGERR_ATTR_MISS_TYPE: u16 = 5;
pub const NLMSGERR_ATTR_MISS_NEST: u16 = 6;

/// What the kernel's extended ACK said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extack {
    /// NLMSGERR_ATTR_MSG: human-readable message.
    pub msg: Option<String>,
    /// NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the
    /// request, counted from the start of its nlmsghdr.
    pub offset: Option<u32>,
    /// NLMSGERR_ATTR_MISS_TYPE: type of a missing required attribute.
    pub miss_type: Option<u32>,
    /// NLMSGERR_ATTR_MISS_NEST: offset of the nest missing it.
    pub miss_nest: Option<u32>,
}

impl Extack {
    /// Whether the kernel said anything.
    pub fn is_empty(&self) -> bool {
        self.msg.is_none()
            && self.offset.is_none()
            && self.miss_type.is_none()
            && self.miss_nest.is_none()
    }
}

/// Parse extended ACK TLVs (a flat attribute stream).
pub fn parse_extack_tlvs(buf: &[u8]) -> Result<Extack, DecodeError> {
    let mut ext = Extack::default();
    for nla in NlasIterator::new(buf) {
        let nla = nla?;
        let v = nla.value();
        match nla.kind() {
            NLMSGERR_ATTR_MSG => ext.msg = Some(parse_string(v)?),
            NLMSGERR_ATTR_OFFS => ext.offset = Some(parse_u32(v)?),
            NLMSGERR_ATTR_MISS_TYPE => ext.miss_type = Some(parse_u32(v)?),
            NLMSGERR_ATTR_MISS_NEST => ext.miss_nest = Some(parse_u32(v)?),
            // COOKIE, POLICY and newer ones carry nothing we show.
            _ => {}
        }
    }
    Ok(ext)
}

/// Parse the payload of an NLMSG_ERROR message (`struct nlmsgerr` followed
/// by the TLVs). `flags` are the error message's own nlmsg_flags:
/// NLM_F_CAPPED means only the request's header was echoed, NLM_F_ACK_TLVS
/// means extended ACK TLVs follow. Returns (errno as a positive number or
/// 0 for an ACK, extack).
pub fn parse_error_payload(flags: u16, payload: &[u8]) -> Result<(i32, Extack), DecodeError> {
    if payload.len() < 4 + NLMSG_HDRLEN {
        // Some very old kernels / tests send just the code.
        if payload.len() >= 4 {
            return Ok((-parse_i32(&payload[..4])?, Extack::default()));
        }
        return Err(DecodeError::from(format!(
            "NLMSG_ERROR payload of {} bytes is too short",
            payload.len()
        )));
    }
    let code = parse_i32(&payload[..4])?;
    let echoed = &payload[4..];
    let tlv_start = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        // The whole request is echoed; its length is the first field of
        // the echoed header.
        let len = parse_u32(&echoed[..4])? as usize;
        align4(len.max(NLMSG_HDRLEN))
    };
    let ext = if flags & NLM_F_ACK_TLVS != 0 && tlv_start <= echoed.len() {
        parse_extack_tlvs(&echoed[tlv_start..])?
    } else {
        Extack::default()
    };
    Ok((-code, ext))
}

/// Parse the payload of an NLMSG_DONE message: an int (0 or -errno),
/// followed by extack TLVs if NLM_F_ACK_TLVS is set.
pub fn parse_done_payload(flags: u16, payload: &[u8]) -> Result<(i32, Extack), DecodeError> {
    if payload.len() < 4 {
        return Ok((0, Extack::default()));
    }
    let code = parse_i32(&payload[..4])?;
    let ext = if flags & NLM_F_ACK_TLVS != 0 {
        parse_extack_tlvs(&payload[4..])?
    } else {
        Extack::default()
    };
    Ok((-code, ext))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink message inside a received datagram, not yet decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawMessage<'a> {
    pub msg_type: u16,
    pub flags: u16,
    pub seq: u32,
    pub port: u32,
    pub payload: &'a [u8],
}

/// Split a datagram into its netlink messages.
pub fn split_messages(mut buf: &[u8]) -> Result<Vec<RawMessage<'_>>, DecodeError> {
    let mut out = Vec::new();
    while buf.len() >= NLMSG_HDRLEN {
        let nl = NetlinkBuffer::new_checked(buf)?;
        let len = nl.length() as usize;
        out.push(RawMessage {
            msg_type: nl.message_type(),
            flags: nl.flags(),
            seq: nl.sequence_number(),
            port: nl.port_number(),
            payload: &buf[NLMSG_HDRLEN..len],
        });
        buf = &buf[align4(len).min(buf.len())..];
    }
    Ok(out)
}

/// Decode the generic netlink message `F` from a raw message.
pub fn decode_genl<F>(raw: &RawMessage<'_>) -> Result<F, DecodeError>
where
    F: ParseableParametrized<[u8], GenlHeader> + Debug,
{
    let msg = GenlMessage::<F>::parse_with_param(raw.payload, raw.msg_type)?;
    Ok(msg.payload)
}

/// Serialize a request for `family_id` with the given flags and sequence.
pub fn encode_request<F>(family_id: u16, payload: F, flags: u16, seq: u32) -> Vec<u8>
where
    F: GenlFamily + Emitable + Debug,
{
    let mut genl = GenlMessage::from_payload(payload);
    genl.set_resolved_family_id(family_id);
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(genl));
    msg.finalize();
    let mut buf = vec![0; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// Which attribute of `request` starts at byte `offset` (extack OFFS)?
/// Returns its type (without flags) if the offset points at a top-level
/// attribute.
pub fn attr_at_offset(request: &[u8], offset: u32) -> Option<u16> {
    let offset = offset as usize;
    let mut pos = NLMSG_HDRLEN + GENL_HDRLEN;
    while pos + 4 <= request.len() {
        let len = u16::from_ne_bytes([request[pos], request[pos + 1]]) as usize;
        let kind = u16::from_ne_bytes([request[pos + 2], request[pos + 3]]) & 0x3fff;
        if pos == offset {
            return Some(kind);
        }
        if len < 4 {
            return None;
        }
        // An offset inside this attribute's value: report the attribute.
        if offset > pos && offset < pos + len {
            return Some(kind);
        }
        pos += align4(len);
    }
    None
}

/// A bound NETLINK_GENERIC socket with extended ACKs enabled.
pub struct GenlSocket {
    sock: Socket,
    seq: u32,
}

impl GenlSocket {
    /// Open and bind the socket; turn on NETLINK_EXT_ACK and
    /// NETLINK_CAP_ACK (errors then echo only the request header).
    pub fn open() -> Result<Self, Error> {
        let mut sock = Socket::new(NETLINK_GENERIC)
            .map_err(|e| Error::io("cannot open a generic netlink socket", e))?;
        sock.bind_auto()
            .map_err(|e| Error::io("cannot bind the netlink socket", e))?;
        // Both are best effort: very old kernels lack them.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        Ok(GenlSocket { sock, seq: 0 })
    }

    /// Join a multicast group (by id, as resolved from the controller).
    pub fn add_membership(&mut self, group: u32) -> Result<(), Error> {
        self.sock
            .add_membership(group)
            .map_err(|e| Error::io("cannot join the multicast group", e))
    }

    /// Send `payload` to `family_id` as a do request (NLM_F_ACK) or a dump
    /// (NLM_F_DUMP) and return the decoded replies. A do request returns
    /// once the ACK arrives; a dump once NLMSG_DONE arrives. An error reply
    /// becomes [`Error::Kernel`] with the extack message.
    pub fn request<F>(&mut self, family_id: u16, payload: F, dump: bool) -> Result<Vec<F>, Error>
    where
        F: GenlFamily + Emitable + ParseableParametrized<[u8], GenlHeader> + Debug,
    {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        // Families with a static id (nlctrl) ignore the resolved one.
        let family_id = match payload.family_id() {
            0 => family_id,
            fixed => fixed,
        };
        let flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { NLM_F_ACK };
        let request = encode_request(family_id, payload, flags, seq);
        let sent = self
            .sock
            .send(&request, 0)
            .map_err(|e| Error::io("cannot send the netlink request", e))?;
        if sent != request.len() {
            return Err(Error::Protocol(format!(
                "short netlink send: {sent} of {} bytes",
                request.len()
            )));
        }

        let mut replies = Vec::new();
        loop {
            let (buf, _addr): (Vec<u8>, SocketAddr) = self
                .sock
                .recv_from_full()
                .map_err(|e| Error::io("cannot receive the netlink reply", e))?;
            if handle_datagram(&buf, seq, family_id, &request, &mut replies)? == Progress::Done {
                return Ok(replies);
            }
        }
    }

    /// Block until the next datagram and return the notifications of
    /// `family_id` in it (sequence number 0, not replies to requests).
    pub fn recv_notifications<F>(&mut self, family_id: u16) -> Result<Vec<F>, Error>
    where
        F: ParseableParametrized<[u8], GenlHeader> + Debug,
    {
        let (buf, _addr) = match self.sock.recv_from_full() {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Vec::new()),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Err(Error::EventsLost),
            Err(e) => return Err(Error::io("cannot receive notifications", e)),
        };
        let mut out = Vec::new();
        for raw in split_messages(&buf).map_err(Error::decode)? {
            if raw.msg_type == family_id {
                out.push(decode_genl::<F>(&raw).map_err(Error::decode)?);
            }
        }
        Ok(out)
    }
}

/// Whether a request's replies are complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Keep reading.
    More,
    /// The ACK or NLMSG_DONE arrived.
    Done,
}

/// Process one received datagram of the replies to `request` (sequence
/// `seq`): decode `family_id` messages into `replies`, stop at the ACK or
/// NLMSG_DONE, turn an error into [`Error::Kernel`]. Messages with another
/// sequence number (stale replies, notifications) are skipped.
pub fn handle_datagram<F>(
    buf: &[u8],
    seq: u32,
    family_id: u16,
    request: &[u8],
    replies: &mut Vec<F>,
) -> Result<Progress, Error>
where
    F: ParseableParametrized<[u8], GenlHeader> + Debug,
{
    for raw in split_messages(buf).map_err(Error::decode)? {
        if raw.seq != seq {
            continue;
        }
        match raw.msg_type {
            NLMSG_NOOP => {}
            NLMSG_OVERRUN => return Err(Error::Protocol("netlink overrun".into())),
            NLMSG_ERROR => {
                let (errno, extack) =
                    parse_error_payload(raw.flags, raw.payload).map_err(Error::decode)?;
                if errno == 0 {
                    return Ok(Progress::Done);
                }
                return Err(kernel_error(errno, extack, request));
            }
            NLMSG_DONE => {
                let (errno, extack) =
                    parse_done_payload(raw.flags, raw.payload).map_err(Error::decode)?;
                if errno != 0 {
                    return Err(kernel_error(errno, extack, request));
                }
                return Ok(Progress::Done);
            }
            t if t == family_id => replies.push(decode_genl::<F>(&raw).map_err(Error::decode)?),
            _ => {}
        }
    }
    Ok(Progress::More)
}

fn kernel_error(errno: i32, extack: Extack, request: &[u8]) -> Error {
    let bad_attr = extack.offset.and_then(|o| attr_at_offset(request, o));
    let cmd = request.get(NLMSG_HDRLEN).copied();
    Error::Kernel(KernelError {
        errno,
        extack,
        bad_attr,
        cmd,
        target: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build an NLA by hand: len, type, value, padding.
    fn tlv(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(value);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn nlmsghdr(len: u32, ty: u16, flags: u16, seq: u32, pid: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&pid.to_ne_bytes());
        v
    }

    #[test]
    fn parses_capped_error_with_extack() {
        // NLMSG_ERROR { error = -EBUSY, echoed nlmsghdr (capped), TLVs }.
        let mut tlvs = tlv(NLMSGERR_ATTR_MSG, b"node 1 is used by omx0\0");
        tlvs.extend(tlv(NLMSGERR_ATTR_OFFS, &24u32.to_ne_bytes()));
        let mut payload = (-libc::EBUSY).to_ne_bytes().to_vec();
        payload.extend(nlmsghdr(28, 0x20, NLM_F_REQUEST | NLM_F_ACK, 7, 0));
        payload.extend(&tlvs);
        let total = (NLMSG_HDRLEN + payload.len()) as u32;
        let mut msg = nlmsghdr(total, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 7, 1234);
        msg.extend(&payload);

        let raws = split_messages(&msg).unwrap();
        assert_eq!(raws.len(), 1);
        assert_eq!(raws[0].msg_type, NLMSG_ERROR);
        assert_eq!(raws[0].seq, 7);
        let (errno, ext) = parse_error_payload(raws[0].flags, raws[0].payload).unwrap();
        assert_eq!(errno, libc::EBUSY);
        assert_eq!(ext.msg.as_deref(), Some("node 1 is used by omx0"));
        assert_eq!(ext.offset, Some(24));
        assert_eq!(ext.miss_type, None);
    }

    #[test]
    fn parses_uncapped_error_skipping_echoed_request() {
        // The whole 26-byte request is echoed (padded to 28), then TLVs.
        let mut req = nlmsghdr(26, 0x20, NLM_F_REQUEST | NLM_F_ACK, 3, 0);
        req.extend([1, 1, 0, 0]); // genlmsghdr
        req.extend([6, 0, 2, 0, b'x', b'y']); // a 6-byte attribute
        let mut payload = (-libc::EINVAL).to_ne_bytes().to_vec();
        payload.extend(&req);
        payload.extend([0, 0]); // pad to 4
        payload.extend(tlv(NLMSGERR_ATTR_MISS_TYPE, &5u32.to_ne_bytes()));
        let (errno, ext) = parse_error_payload(NLM_F_ACK_TLVS, &payload).unwrap();
        assert_eq!(errno, libc::EINVAL);
        assert_eq!(ext.miss_type, Some(5));
        assert_eq!(ext.msg, None);
    }

    #[test]
    fn ack_without_tlvs() {
        let mut payload = 0i32.to_ne_bytes().to_vec();
        payload.extend(nlmsghdr(20, 0x20, NLM_F_REQUEST | NLM_F_ACK, 1, 0));
        let (errno, ext) = parse_error_payload(NLM_F_CAPPED, &payload).unwrap();
        assert_eq!(errno, 0);
        assert!(ext.is_empty());
    }

    #[test]
    fn tlvs_ignored_without_ack_tlvs_flag() {
        let mut payload = (-libc::EPERM).to_ne_bytes().to_vec();
        payload.extend(nlmsghdr(20, 0x20, 5, 1, 0));
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"nope\0"));
        let (errno, ext) = parse_error_payload(NLM_F_CAPPED, &payload).unwrap();
        assert_eq!(errno, libc::EPERM);
        assert!(ext.is_empty());
    }

    #[test]
    fn done_with_error_and_extack() {
        let mut payload = (-libc::ENODEV).to_ne_bytes().to_vec();
        payload.extend(tlv(NLMSGERR_ATTR_MSG, b"gone\0"));
        let (errno, ext) = parse_done_payload(NLM_F_ACK_TLVS, &payload).unwrap();
        assert_eq!(errno, libc::ENODEV);
        assert_eq!(ext.msg.as_deref(), Some("gone"));
        let (errno, _) = parse_done_payload(0, &0i32.to_ne_bytes()).unwrap();
        assert_eq!(errno, 0);
    }

    #[test]
    fn splits_multiple_messages() {
        let mut buf = nlmsghdr(20, 0x20, 2, 9, 1);
        buf.extend([3, 1, 0, 0]);
        buf.extend(nlmsghdr(20, NLMSG_DONE, 2, 9, 1));
        buf.extend(0i32.to_ne_bytes());
        let raws = split_messages(&buf).unwrap();
        assert_eq!(raws.len(), 2);
        assert_eq!(raws[0].msg_type, 0x20);
        assert_eq!(raws[0].payload, &[3, 1, 0, 0]);
        assert_eq!(raws[1].msg_type, NLMSG_DONE);
    }

    fn genl(ty: u16, flags: u16, seq: u32, cmd: u8, attrs: &[u8]) -> Vec<u8> {
        let mut v = nlmsghdr((NLMSG_HDRLEN + 4 + attrs.len()) as u32, ty, flags, seq, 99);
        v.extend([cmd, 1, 0, 0]);
        v.extend(attrs);
        v
    }

    fn done(seq: u32, code: i32, tlvs: &[u8]) -> Vec<u8> {
        let flags = 2 | if tlvs.is_empty() { 0 } else { NLM_F_ACK_TLVS };
        let mut v = nlmsghdr(
            (NLMSG_HDRLEN + 4 + tlvs.len()) as u32,
            NLMSG_DONE,
            flags,
            seq,
            99,
        );
        v.extend(code.to_ne_bytes());
        v.extend(tlvs);
        v
    }

    fn ack(seq: u32, code: i32, tlvs: &[u8]) -> Vec<u8> {
        let flags = NLM_F_CAPPED | if tlvs.is_empty() { 0 } else { NLM_F_ACK_TLVS };
        let len = NLMSG_HDRLEN + 4 + NLMSG_HDRLEN + tlvs.len();
        let mut v = nlmsghdr(len as u32, NLMSG_ERROR, flags, seq, 99);
        v.extend(code.to_ne_bytes());
        v.extend(nlmsghdr(28, 0x30, 5, seq, 0));
        v.extend(tlvs);
        v
    }

    use crate::netlink::attrs::NodeAttr;
    use crate::netlink::messages::{OmxCmd, OmxMessage};

    #[test]
    fn dump_collects_until_done_across_datagrams() {
        let mut replies: Vec<OmxMessage> = Vec::new();
        // First datagram: two nodes, a stale message and a notification.
        let mut d1 = genl(0x30, 2, 4, 3, &[8, 0, 1, 0, 1, 0, 0, 0]);
        d1.extend(genl(0x30, 2, 3, 3, &[8, 0, 1, 0, 9, 0, 0, 0])); // stale seq 3
        d1.extend(genl(0x30, 0, 0, 8, &[8, 0, 1, 0, 7, 0, 0, 0])); // notification
        d1.extend(genl(0x30, 2, 4, 3, &[8, 0, 1, 0, 2, 0, 0, 0]));
        assert_eq!(
            handle_datagram(&d1, 4, 0x30, &[], &mut replies).unwrap(),
            Progress::More
        );
        // Second datagram: DONE.
        let d2 = done(4, 0, &[]);
        assert_eq!(
            handle_datagram(&d2, 4, 0x30, &[], &mut replies).unwrap(),
            Progress::Done
        );
        let ids: Vec<_> = replies
            .iter()
            .map(|m| m.node_attrs().unwrap().to_vec())
            .collect();
        assert_eq!(ids, vec![vec![NodeAttr::Id(1)], vec![NodeAttr::Id(2)]]);
        assert!(replies.iter().all(|m| m.cmd == OmxCmd::NodeGet));
    }

    #[test]
    fn do_request_reply_then_ack() {
        let mut replies: Vec<OmxMessage> = Vec::new();
        let mut d = genl(0x30, 0, 8, 1, &[8, 0, 1, 0, 5, 0, 0, 0]);
        d.extend(ack(8, 0, &[]));
        assert_eq!(
            handle_datagram(&d, 8, 0x30, &[], &mut replies).unwrap(),
            Progress::Done
        );
        assert_eq!(
            replies,
            vec![OmxMessage::node(OmxCmd::NodeAdd, vec![NodeAttr::Id(5)])]
        );
    }

    #[test]
    fn error_reply_carries_extack_and_bad_attribute() {
        let request = encode_request(
            0x30,
            OmxMessage::node(OmxCmd::NodeDel, vec![NodeAttr::Id(3)]),
            NLM_F_REQUEST | NLM_F_ACK,
            2,
        );
        let mut tlvs = tlv(NLMSGERR_ATTR_MSG, b"no such node\0");
        tlvs.extend(tlv(NLMSGERR_ATTR_OFFS, &20u32.to_ne_bytes()));
        let d = ack(2, -libc::ENOENT, &tlvs);
        let mut replies: Vec<OmxMessage> = Vec::new();
        let e = handle_datagram(&d, 2, 0x30, &request, &mut replies).unwrap_err();
        let Error::Kernel(k) = e else { panic!("{e:?}") };
        assert_eq!(k.errno, libc::ENOENT);
        assert_eq!(k.extack.msg.as_deref(), Some("no such node"));
        assert_eq!(k.bad_attr, Some(1));
        assert_eq!(k.cmd, Some(2));
        let e = Error::Kernel(k).with_target(crate::error::Target::Node(3));
        assert_eq!(e.to_string(), "no such node 3");
    }

    #[test]
    fn dump_error_in_done() {
        let tlvs = tlv(NLMSGERR_ATTR_MSG, b"dump failed\0");
        let d = done(6, -libc::EMSGSIZE, &tlvs);
        let mut replies: Vec<OmxMessage> = Vec::new();
        let e = handle_datagram(&d, 6, 0x30, &[], &mut replies).unwrap_err();
        assert_eq!(e.errno(), Some(libc::EMSGSIZE));
        assert!(e.to_string().contains("(kernel: dump failed)"), "{e}");
    }

    #[test]
    fn finds_attribute_at_offset() {
        // hdr(16) + genl(4) + attr A (8 bytes, type 1) + attr B (12, type 4)
        let mut req = nlmsghdr(40, 0x20, 5, 1, 0);
        req.extend([1, 1, 0, 0]);
        req.extend(tlv(1, &7u32.to_ne_bytes()));
        req.extend(tlv(4, &[1, 2, 3, 4, 5, 6]));
        assert_eq!(attr_at_offset(&req, 20), Some(1));
        assert_eq!(attr_at_offset(&req, 28), Some(4));
        assert_eq!(attr_at_offset(&req, 32), Some(4));
        assert_eq!(attr_at_offset(&req, 100), None);
    }

    #[test]
    fn encodes_request_header() {
        use crate::netlink::attrs::NodeAttr;
        use crate::netlink::messages::{OmxCmd, OmxMessage};
        let buf = encode_request(
            0x1d,
            OmxMessage::node(OmxCmd::NodeDel, vec![NodeAttr::Id(3)]),
            NLM_F_REQUEST | NLM_F_ACK,
            42,
        );
        let mut want = nlmsghdr(28, 0x1d, NLM_F_REQUEST | NLM_F_ACK, 42, 0);
        want.extend([2, 1, 0, 0]); // cmd node-del, version 1, reserved
        want.extend([8, 0, 1, 0, 3, 0, 0, 0]); // id = 3
        assert_eq!(buf, want);
    }
}
