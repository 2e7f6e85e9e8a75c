//! Kernel errors (`NLMSG_ERROR` carrying `-errno`) turned into the engine's
//! [`IpvsError`], per operation, as libipvs's `ipvs_strerror()` does
//! (ipvsadm 1.31, libipvs/libipvs.c; `notes/ipvs-spec.md` §2.9): the first
//! row whose function matches the last call wins, then the rows for any
//! function, then `strerror()`.

use lvslab_engine::ipvs::IpvsError;

/// errno values of Linux (asm-generic/errno-base.h, asm-generic/errno.h;
/// the same on x86, arm and riscv).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const ESRCH: i32 = 3;
    pub const ENOMEM: i32 = 12;
    pub const EEXIST: i32 = 17;
    pub const EINVAL: i32 = 22;
    pub const ERANGE: i32 = 34;
    pub const EMSGSIZE: i32 = 90;
    pub const ENOPROTOOPT: i32 = 92;
    pub const EOPNOTSUPP: i32 = 95;
    pub const EAFNOSUPPORT: i32 = 97;
}

/// The libipvs function an error came from (`ipvs_func`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `ipvs_init()`: resolving the family, GET_INFO.
    Init,
    /// `ipvs_add_service()`; carries the scheduler name for the message.
    AddService(String),
    /// `ipvs_update_service()`.
    EditService(String),
    DelService,
    Flush,
    AddDest,
    EditDest,
    DelDest,
    Zero,
    SetTimeout,
    GetTimeout,
    /// `ipvs_get_services()` (netlink path: `ipvs_func` is not updated).
    GetServices,
    /// `ipvs_get_dests()`.
    GetDests,
}

/// `strerror(err)` without Rust's ` (os error N)` suffix.
pub fn strerror(err: i32) -> String {
    let s = std::io::Error::from_raw_os_error(err).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// `ipvs_strerror()` for a kernel errno (positive) after `op`.
pub fn map(op: &Op, err: i32) -> IpvsError {
    use errno::*;
    match (op, err) {
        (Op::AddService(_), EEXIST) => return IpvsError::ServiceExists,
        (Op::AddService(s) | Op::EditService(s), ENOENT) => {
            return IpvsError::NoScheduler(s.clone())
        }
        (Op::EditService(_) | Op::DelService | Op::Zero | Op::GetDests, ESRCH) => {
            return IpvsError::NoService
        }
        (Op::AddDest | Op::EditDest | Op::DelDest, ESRCH) => return IpvsError::ServiceNotDefined,
        (Op::AddDest, EEXIST) => return IpvsError::DestExists,
        (Op::EditDest | Op::DelDest, ENOENT) => return IpvsError::NoDest,
        _ => {}
    }
    match err {
        ERANGE => IpvsError::OutOfRange,
        EPERM => IpvsError::Permission,
        EINVAL => IpvsError::Invalid,
        ENOPROTOOPT => IpvsError::NotAvailable,
        ENOMEM => IpvsError::Other("Memory allocation problem".into()),
        EOPNOTSUPP => IpvsError::Other("Operation not supported with IPv6".into()),
        EAFNOSUPPORT => {
            IpvsError::Other("Operation not supported with specified address family".into())
        }
        EMSGSIZE => IpvsError::Other("Module is wrong version".into()),
        e => IpvsError::Other(strerror(e)),
    }
}

/// A line of advice printed after ipvsadm's own message, for the errors
/// whose ipvsadm text leaves the reader guessing. `None` when ipvsadm's
/// message says it all.
pub fn hint(op: &Op, e: &IpvsError) -> Option<String> {
    match (op, e) {
        (_, IpvsError::NoScheduler(s)) => Some(format!(
            "the kernel has no scheduler module ip_vs_{s} (or no persistence engine of that name): \
             check the name, and that `modprobe ip_vs_{s}` works"
        )),
        (_, IpvsError::Permission) => Some(
            "IPVS commands need CAP_NET_ADMIN: run `lvslab ipvsadm` as root (sudo)".to_string(),
        ),
        (_, IpvsError::NotAvailable) => Some(not_available_text()),
        (Op::AddDest | Op::EditDest, IpvsError::OutOfRange) => Some(
            "the kernel rejected the weight or thresholds: the weight must be 0 or more \
                 and the lower threshold (-y) not above the upper one (-x)"
                .to_string(),
        ),
        (Op::AddDest | Op::EditDest, IpvsError::Invalid) => Some(
            "the kernel rejected the real server: its address must be unicast, of the \
             service's family unless tunnelling (-i), and the thresholds at most 2147483647"
                .to_string(),
        ),
        _ => None,
    }
}

/// The explanation for a kernel without IPVS.
pub fn not_available_text() -> String {
    "IPVS is not available in this kernel (there is no generic netlink family \"IPVS\", \
     and `modprobe ip_vs` did not load it).\n\
     Load the ip_vs module as root, or use a kernel built with CONFIG_IP_VS; \
     the simulator (`lvslab serve`, `lvslab sim`) needs neither."
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_errno_per_operation_like_ipvs_strerror() {
        use errno::*;
        let rr = || "rr".to_string();
        assert_eq!(map(&Op::AddService(rr()), EEXIST), IpvsError::ServiceExists);
        assert_eq!(
            map(&Op::AddService("foo".into()), ENOENT),
            IpvsError::NoScheduler("foo".into())
        );
        assert_eq!(map(&Op::EditService(rr()), ESRCH), IpvsError::NoService);
        assert_eq!(map(&Op::DelService, ESRCH), IpvsError::NoService);
        assert_eq!(map(&Op::Zero, ESRCH), IpvsError::NoService);
        assert_eq!(map(&Op::AddDest, ESRCH), IpvsError::ServiceNotDefined);
        assert_eq!(map(&Op::AddDest, EEXIST), IpvsError::DestExists);
        assert_eq!(map(&Op::EditDest, ENOENT), IpvsError::NoDest);
        assert_eq!(map(&Op::DelDest, ENOENT), IpvsError::NoDest);
        assert_eq!(map(&Op::DelDest, ESRCH), IpvsError::ServiceNotDefined);
        assert_eq!(map(&Op::Flush, EPERM), IpvsError::Permission);
        assert_eq!(map(&Op::AddDest, EINVAL), IpvsError::Invalid);
        assert_eq!(map(&Op::Init, ENOPROTOOPT), IpvsError::NotAvailable);
        assert_eq!(map(&Op::AddDest, ERANGE), IpvsError::OutOfRange);
        assert_eq!(
            map(&Op::Flush, ENOENT),
            IpvsError::Other("No such file or directory".into())
        );
        assert_eq!(
            map(&Op::GetServices, ESRCH),
            IpvsError::Other("No such process".into())
        );
        assert_eq!(
            map(&Op::SetTimeout, 19),
            IpvsError::Other("No such device".into())
        );
        assert!(hint(
            &Op::AddService("foo".into()),
            &IpvsError::NoScheduler("foo".into())
        )
        .unwrap()
        .contains("ip_vs_foo"));
        assert!(hint(&Op::AddDest, &map(&Op::AddDest, ERANGE)).is_some());
    }
}
