//! IPVS's control plane (net/netfilter/ipvs/ip_vs_ctl.c): adding, editing
//! and deleting services and destinations, zeroing counters, timeouts and
//! the `Info` the kernel reports, behind the [`IpvsBackend`] trait that the
//! ipvsadm grammar drives. [`SimBackend`] is the simulator's; `native`
//! implements the same trait over generic netlink.
//!
//! Linux does, and we model: `ip_vs_add_service()`/`ip_vs_edit_service()`
//! (scheduler bound by name, `-ENOENT` when it is unknown), destinations
//! with weights and thresholds (`ip_vs_dest_set_overload` on the upper and
//! lower thresholds), deleted destinations kept while connections use them
//! (`ip_vs_trash`), and the errors userspace sees as errno.

use super::sched::{DestView, SchedState};
use super::*;
use crate::time::SimTime;
use std::net::{IpAddr, Ipv4Addr};

/// What both the simulator and the real kernel (netlink) implement. One
/// grammar (`crate::tools::ipvsadm`) drives either.
pub trait IpvsBackend {
    fn info(&mut self) -> Result<Info, IpvsError>;
    fn add_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError>;
    fn edit_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError>;
    fn del_service(&mut self, k: &ServiceKey) -> Result<(), IpvsError>;
    fn flush(&mut self) -> Result<(), IpvsError>;
    fn add_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError>;
    fn edit_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError>;
    fn del_dest(&mut self, k: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError>;
    fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), IpvsError>;
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), IpvsError>;
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError>;
    /// Services in the kernel's dump order, destinations in list order.
    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError>;
    /// The table for a plain listing (`-L` without `--stats`, `--rate`,
    /// `--thresholds` or `--persistent-conn`), which prints of each
    /// destination only its address, port, forwarding method, weight and
    /// active/inactive connections. A backend may leave the destinations'
    /// other fields (counters, rates, thresholds, persistent count) at zero
    /// if that is faster; the default is [`IpvsBackend::services`].
    fn services_for_listing(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        self.services()
    }
    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError>;
    /// Run table changes one after another, each whatever the others'
    /// outcome (how `ipvsadm -R` treats kernel errors), and return each
    /// one's result. The default runs them one by one; a backend may send
    /// them in bulk.
    fn run_changes(&mut self, changes: &[Change]) -> Vec<Result<(), IpvsError>> {
        changes.iter().map(|c| c.run_on(self)).collect()
    }
}

/// One change of the table: a set command of `ip_vs_ctl.c`
/// (`IPVS_CMD_NEW_SERVICE` … `IPVS_CMD_SET_CONFIG`, or the sockopt
/// `IP_VS_SO_SET_*` of the same name). Listings are not changes, so a
/// backend asked to run one cannot be handed a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    AddService(ServiceSpec),
    EditService(ServiceSpec),
    DelService(ServiceKey),
    /// `ip_vs_flush()`: every service and its destinations.
    Flush,
    AddDest(ServiceKey, DestSpec),
    EditDest(ServiceKey, DestSpec),
    DelDest(ServiceKey, IpAddr, u16),
    /// `ip_vs_zero_all()` without a service.
    Zero(Option<ServiceKey>),
    SetTimeouts(Timeouts),
}

impl Change {
    /// Run it through the backend's method for it.
    pub fn run_on<B: IpvsBackend + ?Sized>(&self, backend: &mut B) -> Result<(), IpvsError> {
        match self {
            Change::AddService(s) => backend.add_service(s),
            Change::EditService(s) => backend.edit_service(s),
            Change::DelService(k) => backend.del_service(k),
            Change::Flush => backend.flush(),
            Change::AddDest(k, d) => backend.add_dest(k, d),
            Change::EditDest(k, d) => backend.edit_dest(k, d),
            Change::DelDest(k, a, p) => backend.del_dest(k, *a, *p),
            Change::Zero(k) => backend.zero(k.as_ref()),
            Change::SetTimeouts(t) => backend.set_timeouts(t),
        }
    }
}

impl Ipvs {
    pub fn service(&self, k: &ServiceKey) -> Option<&Service> {
        self.services.iter().find(|s| s.spec.key == *k)
    }

    pub(crate) fn service_mut(&mut self, k: &ServiceKey) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.spec.key == *k)
    }

    pub(crate) fn views(s: &Service) -> Vec<DestView> {
        s.dests
            .iter()
            .map(|d| DestView {
                weight: d.spec.weight,
                active: d.active,
                inactive: d.inactive,
                overloaded: d.overloaded,
                addr: d.spec.addr,
                port_fold: u32::from(d.spec.port),
            })
            .collect()
    }

    /// The service a packet to (proto, daddr, dport) with firewall mark
    /// `mark` belongs to (`ip_vs_service_find`): the fwmark table first
    /// (a marked packet goes to an `-f MARK` service of its address family
    /// even when an address/port service matches too), then
    /// protocol/address/port, then a persistent port-0 service.
    pub fn find_service(
        &self,
        proto: Proto,
        daddr: IpAddr,
        dport: u16,
        mark: u32,
    ) -> Option<&Service> {
        let by_mark = (mark != 0).then(|| {
            let key = ServiceKey::Fwmark {
                mark,
                v6: daddr.is_ipv6(),
            };
            self.services.iter().find(|s| s.spec.key == key)
        });
        if let Some(Some(s)) = by_mark {
            return Some(s);
        }
        self.services
            .iter()
            .find(|s| {
                s.spec.key
                    == ServiceKey::Addr {
                        proto,
                        addr: daddr,
                        port: dport,
                    }
            })
            .or_else(|| {
                // A persistent service with port 0 catches every port.
                self.services.iter().find(|s| {
                    s.spec.persistent.is_some()
                        && s.spec.key
                            == ServiceKey::Addr {
                                proto,
                                addr: daddr,
                                port: 0,
                            }
                })
            })
    }

    /// Does any service listen on this address (for ARP/route decisions)?
    pub fn has_vip(&self, ip: Ipv4Addr) -> bool {
        self.services
            .iter()
            .any(|s| matches!(s.spec.key, ServiceKey::Addr { addr, .. } if addr == IpAddr::V4(ip)))
    }
}

/// `IP_VS_DEST_F_OVERLOAD` from the thresholds (`ip_vs_bind_dest`/`unbind`).
/// `ip_vs_add_service()`/`ip_vs_edit_service()`: an IPv6 service's
/// netmask is a prefix length, 1 to 128, else `-EINVAL`. An IPv4 mask is
/// taken as it is.
fn check_netmask(s: &ServiceSpec) -> Result<(), IpvsError> {
    if s.key.is_v6() && !(1..=128).contains(&s.netmask) {
        return Err(IpvsError::Invalid);
    }
    Ok(())
}

/// `ip_vs_genl_set_cmd()`: a destination of the other address family
/// only through a tunnel, else `-EINVAL`.
fn check_dest_family(k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
    if d.addr.is_ipv6() != k.is_v6() && d.fwd != Fwd::Tunnel {
        return Err(IpvsError::Invalid);
    }
    Ok(())
}

pub(crate) fn update_overload(d: &mut Dest) {
    let conns = d.active + d.inactive;
    if d.spec.u_threshold > 0 && conns >= d.spec.u_threshold {
        d.overloaded = true;
    } else if d.overloaded {
        let l = if d.spec.l_threshold > 0 {
            d.spec.l_threshold
        } else {
            d.spec.u_threshold * 3 / 4
        };
        if conns <= l {
            d.overloaded = false;
        }
    }
}

impl Ipvs {
    /// `ip_vs_out_stats()`: one packet of `bytes` out on `c`'s
    /// destination, its service and the totals.
    /// Is `c`'s real server still in its service (not deleted)?
    pub(crate) fn dest_alive(&self, c: &Conn) -> bool {
        self.service(&c.service)
            .is_some_and(|s| s.dests.iter().any(|d| d.serves(c.daddr, c.dport)))
    }
}

/// `ip_vs_add_dest()`/`ip_vs_edit_dest()` before they look the destination
/// up: a negative weight, or a lower threshold above the upper one (0
/// included), is ERANGE.
fn check_dest_ranges(d: &DestSpec) -> Result<(), IpvsError> {
    if d.weight < 0 || d.l_threshold > d.u_threshold {
        return Err(IpvsError::OutOfRange);
    }
    Ok(())
}

/// The simulator's backend: a host's `Ipvs` at simulated time `now`.
pub struct SimBackend<'a> {
    pub ipvs: &'a mut Ipvs,
    pub now: SimTime,
}

impl SimBackend<'_> {
    /// `ip_vs_scheduler_get()`: a module Debian's 6.1 kernel has, and one
    /// this lab models.
    fn check_sched(&self, s: &ServiceSpec) -> Result<(), IpvsError> {
        let name = s.scheduler.as_str();
        if sched::SCHEDULERS.contains(&name) {
            Ok(())
        } else if sched::KERNEL_ONLY.contains(&name) {
            Err(IpvsError::NotModelled(format!("the {name} scheduler")))
        } else {
            Err(IpvsError::NoScheduler(s.scheduler.clone()))
        }
    }
}

impl IpvsBackend for SimBackend<'_> {
    fn info(&mut self) -> Result<Info, IpvsError> {
        // Loading ip_vs starts the per-netns estimator timer (2 s period).
        self.ipvs.loaded = true;
        self.ipvs.ensure_estimator(self.now);
        Ok(Info {
            version: (1, 2, 1),
            conn_tab_size: CONN_TAB_SIZE,
        })
    }

    fn add_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError> {
        // ip_vs_genl_set_cmd(): EEXIST before ip_vs_add_service() looks
        // the scheduler up, then the IPv6 prefix length.
        if self.ipvs.service(&s.key).is_some() {
            return Err(IpvsError::ServiceExists);
        }
        self.check_sched(s)?;
        check_netmask(s)?;
        self.ipvs.services.push(Service {
            spec: s.clone(),
            dests: vec![],
            stats: Stats::default(),
            est: Estimator::default(),
            sched: SchedState::default(),
        });
        self.ipvs.ensure_estimator(self.now);
        Ok(())
    }

    fn edit_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError> {
        // ESRCH first, then ip_vs_edit_service()'s scheduler and prefix.
        if self.ipvs.service(&s.key).is_none() {
            return Err(IpvsError::NoService);
        }
        self.check_sched(s)?;
        let svc = self.ipvs.service_mut(&s.key).ok_or(IpvsError::NoService)?;
        check_netmask(s)?;
        if svc.spec.scheduler != s.scheduler {
            svc.sched = SchedState::default();
            let views = Ipvs::views(svc);
            svc.sched.dests_changed(&s.scheduler, &views);
        }
        svc.spec = s.clone();
        Ok(())
    }

    fn del_service(&mut self, k: &ServiceKey) -> Result<(), IpvsError> {
        let i = self
            .ipvs
            .services
            .iter()
            .position(|s| s.spec.key == *k)
            .ok_or(IpvsError::NoService)?;
        // Connections stay (their destinations go to the trash) and die
        // at their timers; packets on them are dropped meanwhile.
        let svc = self.ipvs.services.remove(i);
        // The service object is gone: a revived destination belongs to a
        // new one, so its statistics restart (ip_vs_trash_get_dest).
        self.ipvs
            .trash
            .extend(svc.dests.into_iter().map(|d| (svc.spec.key, d, true)));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IpvsError> {
        for svc in std::mem::take(&mut self.ipvs.services) {
            self.ipvs
                .trash
                .extend(svc.dests.into_iter().map(|d| (svc.spec.key, d, true)));
        }
        Ok(())
    }

    fn add_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
        let svc = self
            .ipvs
            .service_mut(k)
            .ok_or(IpvsError::ServiceNotDefined)?;
        check_dest_family(k, d)?;
        check_dest_ranges(d)?;
        if svc
            .dests
            .iter()
            .any(|x| x.spec.addr == d.addr && x.spec.port == d.port)
        {
            return Err(IpvsError::DestExists);
        }
        // ip_vs_trash_get_dest(): the same destination of the same
        // service, deleted but still referenced, comes back with its
        // connection counters (and its statistics).
        let revived = self
            .ipvs
            .trash
            .iter()
            .position(|(tk, x, _)| tk == k && x.spec.addr == d.addr && x.spec.port == d.port);
        let dest = match revived {
            Some(i) => {
                let (_, mut x, other_service) = self.ipvs.trash.remove(i);
                if other_service {
                    x.stats = Stats::default();
                    x.est = Estimator::default();
                }
                x.spec = d.clone();
                update_overload(&mut x);
                x
            }
            None => Dest {
                spec: d.clone(),
                active: 0,
                inactive: 0,
                persist: 0,
                overloaded: false,
                stats: Stats::default(),
                est: Estimator::default(),
            },
        };
        let svc = self.ipvs.service_mut(k).expect("checked above");
        svc.dests.insert(0, dest);
        svc.sched.dest_added_at_head();
        let sched = svc.spec.scheduler.clone();
        let views = Ipvs::views(svc);
        svc.sched.dests_changed(&sched, &views);
        Ok(())
    }

    fn edit_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
        let svc = self
            .ipvs
            .service_mut(k)
            .ok_or(IpvsError::ServiceNotDefined)?;
        check_dest_ranges(d)?;
        let x = svc
            .dests
            .iter_mut()
            .find(|x| x.spec.addr == d.addr && x.spec.port == d.port)
            .ok_or(IpvsError::NoDest)?;
        x.spec = d.clone();
        update_overload(x);
        let sched = svc.spec.scheduler.clone();
        let views = Ipvs::views(svc);
        svc.sched.dests_changed(&sched, &views);
        Ok(())
    }

    fn del_dest(&mut self, k: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        let svc = self
            .ipvs
            .service_mut(k)
            .ok_or(IpvsError::ServiceNotDefined)?;
        let i = svc
            .dests
            .iter()
            .position(|x| x.spec.addr == addr && x.spec.port == port)
            .ok_or(IpvsError::NoDest)?;
        let gone = svc.dests.remove(i);
        svc.sched.dest_removed(i);
        let sched = svc.spec.scheduler.clone();
        let views = Ipvs::views(svc);
        svc.sched.dests_changed(&sched, &views);
        self.ipvs.trash.push((*k, gone, false));
        Ok(())
    }

    fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), IpvsError> {
        if let Some(k) = k {
            let s = self.ipvs.service_mut(k).ok_or(IpvsError::NoService)?;
            s.est.zero();
            for d in &mut s.dests {
                d.est.zero();
            }
            return Ok(());
        }
        for s in &mut self.ipvs.services {
            s.est.zero();
            for d in &mut s.dests {
                d.est.zero();
            }
        }
        self.ipvs.total_est.zero();
        Ok(())
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), IpvsError> {
        // A zero leaves that timeout unchanged (ipvsadm --set semantics).
        let cur = &mut self.ipvs.timeouts;
        if t.tcp != 0 {
            cur.tcp = t.tcp;
        }
        if t.tcp_fin != 0 {
            cur.tcp_fin = t.tcp_fin;
        }
        if t.udp != 0 {
            cur.udp = t.udp;
        }
        Ok(())
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        Ok(self.ipvs.timeouts)
    }

    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        self.ipvs.run_estimator(self.now);
        self.ipvs.expire(self.now);
        Ok(self
            .ipvs
            .services
            .iter()
            .map(|s| ServiceEntry {
                spec: s.spec.clone(),
                stats: s.est.shown(),
                rates: s.est.rates(),
                dests: s
                    .dests
                    .iter()
                    .map(|d| DestEntry {
                        spec: d.spec.clone(),
                        active: d.active,
                        inactive: d.inactive,
                        persist: d.persist,
                        stats: d.est.shown(),
                        rates: d.est.rates(),
                    })
                    .collect(),
            })
            .collect())
    }

    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError> {
        self.ipvs.expire(self.now);
        let now = self.now;
        Ok(self
            .ipvs
            .conns
            .iter()
            .map(|c| ConnEntry {
                proto: if c.template && c.fwmark != 0 {
                    "IP".into()
                } else {
                    c.proto.name().into()
                },
                caddr: c.caddr,
                cport: c.cport,
                vaddr: c.vaddr,
                vport: c.vport,
                daddr: c.daddr,
                dport: c.dport,
                state: c.state.name().into(),
                expires: c.expires.0.saturating_sub(now.0) / 1_000_000,
            })
            .collect())
    }
}
