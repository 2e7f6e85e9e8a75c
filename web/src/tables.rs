//! Live tables of one host, straight from the engine's state: addresses,
//! routes (local table first, as the kernel consults it), neighbours, TCP
//! sockets and the ARP sysctls with the values Linux actually uses.

use crate::html::{esc, Markup};
use crate::i18n::t;
use crate::state::st;
use crate::w;
use leptos::prelude::*;
use lvslab_engine::fib::{TABLE_LOCAL, TABLE_MAIN};
use lvslab_engine::Host;

type Rows = Vec<Vec<String>>;

#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    addrs: Rows,
    local: Rows,
    main: Rows,
    neigh: Rows,
    socks: Rows,
    sysctl: Rows,
}

fn snapshot(h: &Host) -> Snapshot {
    let dev = |i: Option<u32>| i.map(|i| h.dev_name(i).to_string()).unwrap_or_default();
    let addrs = h
        .addrs
        .iter()
        .flat_map(|(ifi, list)| {
            let d = h.device(*ifi);
            let up = d.is_some_and(|d| d.up);
            list.iter().map(move |a| {
                let mut flags = Vec::new();
                if a.secondary {
                    flags.push("secondary");
                }
                if !up {
                    flags.push("DOWN");
                }
                vec![
                    a.label.clone(),
                    a.net.to_string(),
                    a.scope.name().to_string(),
                    flags.join(" "),
                ]
            })
        })
        .collect();
    let route = |r: &lvslab_engine::fib::Route| {
        vec![
            r.rtype.name().to_string(),
            r.dst.to_string(),
            r.gateway.map(|g| g.to_string()).unwrap_or_default(),
            dev(r.ifindex),
            r.prefsrc.map(|s| s.to_string()).unwrap_or_default(),
            r.scope.name().to_string(),
        ]
    };
    let local = h.fib.table(TABLE_LOCAL).map(route).collect();
    let main = h.fib.table(TABLE_MAIN).map(route).collect();
    let neigh = h
        .neigh
        .entries
        .values()
        .filter(|n| n.state.name() != "NONE")
        .map(|n| {
            vec![
                n.ip.to_string(),
                h.dev_name(n.ifindex).to_string(),
                n.mac.map(|m| m.to_string()).unwrap_or_default(),
                n.state.name().to_string(),
            ]
        })
        .collect();
    let socks = h
        .tcp
        .socks()
        .values()
        .map(|s| {
            vec![
                s.local.to_string(),
                s.remote.to_string(),
                s.state.name().to_string(),
                s.owner
                    .as_ref()
                    .map(|o| format!("{}/{}", o.pid, o.program))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut sysctl = Vec::new();
    let devs: Vec<String> = h.devices.values().map(|d| d.name.clone()).collect();
    use lvslab_engine::sysctl::Knob;
    for knob in [Knob::ArpIgnore, Knob::ArpAnnounce, Knob::RpFilter] {
        let name = knob.name();
        let mut row = vec![name.to_string()];
        row.push(h.sysctl.get("all", name).unwrap_or(0).to_string());
        for d in &devs {
            row.push(format!(
                "{} → {}",
                h.sysctl.get(d, name).unwrap_or(0),
                h.sysctl.effective(d, knob)
            ));
        }
        sysctl.push(row);
    }
    sysctl.push({
        let mut r = vec!["ip_forward".to_string(), h.sysctl.ip_forward().to_string()];
        r.extend(devs.iter().map(|_| String::new()));
        r
    });
    Snapshot {
        addrs,
        local,
        main,
        neigh,
        socks,
        sysctl,
    }
}

/// Rows seen at the previous render (new ones flash), rows seen now, and
/// the "(none)" text.
struct Ctx<'a> {
    seen: Option<lvslab_engine::vecmap::VecMap<String, ()>>,
    now: lvslab_engine::vecmap::VecMap<String, ()>,
    none: &'a str,
}

fn table_html(
    h: &mut Markup,
    title: &str,
    cols: &[String],
    rows: &[Vec<String>],
    class: &str,
    cx: &mut Ctx<'_>,
) {
    w!(
        h,
        "<section class=\"ltable {}\"><h4>{}</h4><table><thead><tr>",
        class,
        esc(title)
    );
    for c in cols {
        w!(h, "<th>{}</th>", esc(c));
    }
    h.raw("</tr></thead><tbody>");
    for r in rows {
        let key = format!("{title}|{}", r.join("|"));
        let fresh = cx.seen.as_ref().is_some_and(|s| !s.contains_key(&key));
        cx.now.insert(key, ());
        h.raw(if fresh {
            "<tr class=\"fresh-row\">"
        } else {
            "<tr>"
        });
        for c in r {
            w!(h, "<td class=\"mono\">{}</td>", esc(c));
        }
        h.raw("</tr>");
    }
    h.raw("</tbody></table>");
    if rows.is_empty() {
        w!(h, "<p class=\"muted small\">{}</p>", esc(cx.none));
    }
    h.raw("</section>");
}

#[component]
pub fn Tables(host: String) -> impl IntoView {
    let s = st();
    // Rows seen at the previous render: new ones flash.
    let seen: StoredValue<Option<lvslab_engine::vecmap::VecMap<String, ()>>> =
        StoredValue::new(None);
    let render = move || {
        let l = s.lang.get();
        let Some(snap) = s.lab.with(|lab| lab.world.host(&host).map(snapshot)) else {
            return Markup::new();
        };
        let devs: Vec<String> = s.lab.with_untracked(|lab| {
            lab.world
                .host(&host)
                .map(|h| {
                    h.devices
                        .values()
                        .map(|d| format!("{} → eff.", d.name))
                        .collect()
                })
                .unwrap_or_default()
        });
        let tt = |k: &'static str| t(l, k).to_string();
        let route_cols: Vec<String> = ["c.type", "c.dst", "c.via", "c.dev", "c.src", "c.scope"]
            .into_iter()
            .map(tt)
            .collect();
        let mut sys_cols = vec![tt("c.knob"), "all".to_string()];
        sys_cols.extend(devs);
        let mut cx = Ctx {
            seen: seen.get_value(),
            now: lvslab_engine::vecmap::VecMap::new(),
            none: t(l, "t.none"),
        };
        let mut h = Markup::new();
        let cols = |v: &[&'static str]| v.iter().map(|k| tt(k)).collect::<Vec<_>>();
        table_html(
            &mut h,
            t(l, "t.addrs"),
            &cols(&["c.label", "c.addr", "c.scope", "c.flags"]),
            &snap.addrs,
            "",
            &mut cx,
        );
        table_html(
            &mut h,
            t(l, "t.routes.local"),
            &route_cols,
            &snap.local,
            "routes",
            &mut cx,
        );
        table_html(
            &mut h,
            t(l, "t.routes.main"),
            &route_cols,
            &snap.main,
            "routes",
            &mut cx,
        );
        table_html(
            &mut h,
            t(l, "t.neigh"),
            &cols(&["c.ip", "c.dev", "c.mac", "c.state"]),
            &snap.neigh,
            "",
            &mut cx,
        );
        table_html(
            &mut h,
            t(l, "t.socks"),
            &cols(&["c.local", "c.remote", "c.state", "c.prog"]),
            &snap.socks,
            "",
            &mut cx,
        );
        table_html(
            &mut h,
            t(l, "t.sysctl"),
            &sys_cols,
            &snap.sysctl,
            "sysctl",
            &mut cx,
        );
        // IPVS state as ipvsadm prints it (run on a copy of the lab).
        let ipvs = s.lab.with(|lab| {
            lab.world.host(&host).filter(|x| x.ipvs.loaded).map(|_| {
                let mut c = lab.clone();
                (
                    c.run(&host, "ipvsadm -ln").text,
                    c.run(&host, "ipvsadm -lnc").text,
                )
            })
        });
        if let Some((ln, lnc)) = ipvs {
            w!(h, "<section class=\"ltable ipvs\"><h4>{}</h4><pre class=\"mono\">{}</pre><pre class=\"mono\">{}</pre></section>", esc(t(l, "t.ipvs")), esc(&ln), esc(&lnc));
        }
        seen.set_value(Some(cx.now));
        h
    };
    crate::act::markup("tables", Box::new(render))
}
