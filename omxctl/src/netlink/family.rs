//! Resolve the `omx` family id and its multicast group through the generic
//! netlink controller (CTRL_CMD_GETFAMILY).

use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};

use super::socket::GenlSocket;
use crate::error::{Error, Result};

/// What the controller told about a family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyInfo {
    /// Dynamic family id (the nlmsg_type of its messages).
    pub id: u16,
    /// Family version the kernel registered.
    pub version: u32,
    /// Multicast groups: (name, id).
    pub groups: Vec<(String, u32)>,
}

impl FamilyInfo {
    /// Collect the interesting attributes of a CTRL_CMD_NEWFAMILY reply.
    pub fn from_attrs(attrs: &[GenlCtrlAttrs]) -> Self {
        let mut info = FamilyInfo::default();
        for a in attrs {
            match a {
                GenlCtrlAttrs::FamilyId(id) => info.id = *id,
                GenlCtrlAttrs::Version(v) => info.version = *v,
                GenlCtrlAttrs::McastGroups(groups) => {
                    for g in groups {
                        let mut name = None;
                        let mut id = None;
                        for ga in g {
                            match ga {
                                McastGrpAttrs::Name(n) => name = Some(n.clone()),
                                McastGrpAttrs::Id(i) => id = Some(*i),
                            }
                        }
                        if let (Some(n), Some(i)) = (name, id) {
                            info.groups.push((n, i));
                        }
                    }
                }
                _ => {}
            }
        }
        info
    }

    /// The id of multicast group `name`.
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }
}

/// Look family `name` up. ENOENT from the controller becomes
/// [`Error::NotLoaded`] (the only family omxctl asks for is `omx`).
pub fn resolve(sock: &mut GenlSocket, name: &str) -> Result<FamilyInfo> {
    let request = GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(name.to_string())],
    };
    // GenlCtrl has the static id GENL_ID_CTRL; the id argument is ignored.
    let replies = match sock.request(0, request, false) {
        Ok(r) => r,
        Err(e) if e.errno() == Some(libc::ENOENT) => return Err(Error::NotLoaded),
        Err(e) => return Err(e),
    };
    let reply = replies
        .into_iter()
        .find(|m| m.cmd == GenlCtrlCmd::NewFamily)
        .ok_or_else(|| Error::Protocol("the controller sent no family description".into()))?;
    let info = FamilyInfo::from_attrs(&reply.nlas);
    if info.id == 0 {
        return Err(Error::Protocol(format!(
            "the controller did not report an id for family '{name}'"
        )));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_id_version_and_groups() {
        let attrs = vec![
            GenlCtrlAttrs::FamilyName("omx".into()),
            GenlCtrlAttrs::FamilyId(0x21),
            GenlCtrlAttrs::Version(1),
            GenlCtrlAttrs::McastGroups(vec![vec![
                McastGrpAttrs::Name("events".into()),
                McastGrpAttrs::Id(11),
            ]]),
        ];
        let info = FamilyInfo::from_attrs(&attrs);
        assert_eq!(info.id, 0x21);
        assert_eq!(info.version, 1);
        assert_eq!(info.group("events"), Some(11));
        assert_eq!(info.group("other"), None);
    }
}

/// Against the running kernel: the controller always exists, `omx` only
/// when the module is loaded.
#[cfg(test)]
mod kernel_tests {
    use super::*;

    #[test]
    fn resolves_the_controller_itself() {
        let Ok(mut sock) = GenlSocket::open() else {
            eprintln!("no generic netlink here; skipping");
            return;
        };
        let info = resolve(&mut sock, "nlctrl").unwrap();
        assert_eq!(info.id, 0x10); // GENL_ID_CTRL
        assert!(info.group("notify").is_some());
    }

    #[test]
    fn missing_family_is_not_loaded() {
        let Ok(mut sock) = GenlSocket::open() else {
            return;
        };
        let e = resolve(&mut sock, "omxnosuchfam").unwrap_err();
        assert!(matches!(e, Error::NotLoaded), "{e:?}");
    }

    #[test]
    fn dump_loops_until_done() {
        let Ok(mut sock) = GenlSocket::open() else {
            return;
        };
        let request = GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![],
        };
        let families = sock.request(0, request, true).unwrap();
        let names: Vec<String> = families
            .iter()
            .flat_map(|m| &m.nlas)
            .filter_map(|a| match a {
                GenlCtrlAttrs::FamilyName(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        assert!(names.iter().any(|n| n == "nlctrl"), "{names:?}");
        // The socket is usable again after the dump (sequence numbers).
        assert_eq!(resolve(&mut sock, "nlctrl").unwrap().id, 0x10);
    }

    #[test]
    fn kernel_extack_is_parsed() {
        let Ok(mut sock) = GenlSocket::open() else {
            return;
        };
        // Family names are at most 15 bytes: the policy rejects this one.
        let e = resolve(&mut sock, "a-family-name-too-long-for-genl").unwrap_err();
        let Error::Kernel(k) = e else {
            panic!("expected a kernel error, got {e:?}");
        };
        assert_eq!(k.errno, libc::EINVAL);
        // Kernels since 4.12 send extack; the offset points at the name.
        if k.extack.msg.is_some() {
            assert_eq!(k.bad_attr, Some(2)); // CTRL_ATTR_FAMILY_NAME
        }
    }
}
