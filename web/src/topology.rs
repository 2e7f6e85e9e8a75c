//! The LAN drawn as SVG: the switch with its ports, each host with its MAC,
//! addresses and labels (eth0:8, lo:2) read from the engine's state, and the
//! selected event's frame moving along the links.
//!
//! Animation: a fixed pool of packet shapes moved with requestAnimationFrame
//! (one `transform` per shape per frame, no reactive updates while moving).

use crate::html::{esc, Markup};
use crate::i18n::{t, tr, Lang};
use crate::model::{classify, PktKind};
use crate::state::{st, Motion};
use crate::w;
use leptos::prelude::*;
use lvslab_engine::trace::EventKind;
use lvslab_engine::wire::FrameRepr;
use lvslab_engine::World;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;

pub const W: f64 = 1200.0;
const BAR_Y: f64 = 10.0;
const BAR_H: f64 = 40.0;
const HOST_Y: f64 = 100.0;
const LINE_H: f64 = 19.0;
const BOX_W: f64 = 262.0;
const POOL: usize = 8;

#[derive(Debug, Clone, PartialEq)]
struct Line {
    label: String,
    text: String,
    alias: bool,
    down: bool,
    /// A note across the box instead of a device's line: the director's
    /// IPVS summary (`ipvs`) or a mistake the engine found (`bad`, `warn`).
    note: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq)]
struct HostBox {
    name: String,
    port: usize,
    x: f64,
    lines: Vec<Line>,
}

#[derive(Debug, Clone, PartialEq)]
struct Topo {
    hosts: Vec<HostBox>,
    box_h: f64,
    box_w: f64,
    /// Height of one text row.
    line_h: f64,
    /// Presenter layout: each line's label on a row of its own above the
    /// address, so that both can be drawn at projector size in one box.
    two_row: bool,
}

impl Topo {
    fn height(&self) -> f64 {
        HOST_Y + self.box_h + 10.0
    }
    fn x_of_port(&self, port0: usize) -> Option<f64> {
        self.hosts.iter().find(|h| h.port == port0 + 1).map(|h| h.x)
    }
    fn x_of_host(&self, host: &str) -> Option<f64> {
        self.hosts.iter().find(|h| h.name == host).map(|h| h.x)
    }
}

fn role_key(name: &str) -> Option<&'static str> {
    match name {
        "client" => Some("role.client"),
        "node01" => Some("role.director"),
        "node02" | "node03" => Some("role.rs"),
        _ => None,
    }
}

fn topo(w: &World, presenter: bool, lang: Lang) -> Topo {
    let badges = lvslab_engine::teach::badges::badges(w);
    let n = w.ports.len().max(1);
    let mut hosts = Vec::new();
    for (i, p) in w.ports.iter().enumerate() {
        let Some(h) = w.host(&p.host) else { continue };
        let mut lines = Vec::new();
        // The port's device first (its MAC, then its addresses and
        // aliases), then the others (lo:2 …).
        let mut devs: Vec<_> = h.devices.iter().collect();
        devs.sort_by_key(|(i, _)| **i != p.ifindex);
        for (ifi, d) in devs {
            let addrs = h.addrs.get(ifi).cloned().unwrap_or_default();
            // The presenter layout leaves the MAC out: its rows go to the
            // terminal (the inspector and the banner still name MACs).
            if *ifi == p.ifindex && !presenter {
                lines.push(Line {
                    label: d.name.clone(),
                    text: d.mac.to_string(),
                    alias: false,
                    down: !d.up,
                    note: None,
                });
            }
            for a in addrs {
                if a.local().is_loopback() {
                    continue;
                }
                lines.push(Line {
                    alias: a.label != d.name,
                    label: a.label.clone(),
                    text: a.net.to_string(),
                    down: !d.up,
                    note: None,
                });
            }
        }
        // The director's table in a line, then the mistakes on this host.
        for text in lvslab_engine::teach::badges::ipvs_summary(w, &h.name) {
            // At the presenter's type size the line is wider than the box:
            // the service above, its scheduler and real servers below.
            let parts = match text.find(" → ").and_then(|arrow| text[..arrow].rfind(' ')) {
                Some(cut) if presenter => {
                    vec![text[..cut].to_string(), text[cut + 1..].to_string()]
                }
                _ => vec![text],
            };
            for text in parts {
                lines.push(Line {
                    label: String::new(),
                    text,
                    alias: false,
                    down: false,
                    note: Some("ipvs"),
                });
            }
        }
        for b in badges.iter().filter(|b| b.host == h.name) {
            lines.push(Line {
                label: String::new(),
                text: format!("⚠ {}", b.text(lang)),
                alias: false,
                down: false,
                note: Some(if b.error { "bad" } else { "warn" }),
            });
        }
        hosts.push(HostBox {
            name: h.name.clone(),
            port: i + 1,
            x: W * (i as f64 + 0.5) / n as f64,
            lines,
        });
    }
    // Rows of text in a box: a device line takes two in the presenter
    // layout (label above address), a note one.
    let rows_of = |ls: &[Line]| -> usize {
        ls.iter()
            .map(|l| if presenter && l.note.is_none() { 2 } else { 1 })
            .sum()
    };
    let rows = hosts
        .iter()
        .map(|h| rows_of(&h.lines))
        .max()
        .unwrap_or(1)
        .max(if presenter { 4 } else { 3 });
    let (line_h, head) = if presenter {
        (25.0, 36.0)
    } else {
        (LINE_H, 34.0)
    };
    Topo {
        hosts,
        box_h: head + line_h * rows as f64,
        box_w: if presenter { 284.0 } else { BOX_W },
        line_h,
        two_row: presenter,
    }
}

/// One moving packet: a polyline, its kind, and whether it fades in the end.
#[derive(Debug, Clone)]
struct Track {
    pts: Vec<(f64, f64)>,
    kind: PktKind,
    fade: bool,
}

fn parse_kind(bytes: &[u8]) -> PktKind {
    FrameRepr::parse(bytes)
        .map(|f| classify(&f))
        .unwrap_or(PktKind::Other)
}

/// The tracks that show event `i`.
fn tracks(w: &World, links: &crate::model::Links, tp: &Topo, i: usize) -> Vec<Track> {
    let Some(e) = w.trace.get(i) else {
        return vec![];
    };
    let top = HOST_Y - 4.0;
    let port_y = BAR_Y + BAR_H;
    let mid = BAR_Y + BAR_H / 2.0;
    let kind = || {
        links
            .frame(&w.trace, i)
            .map(parse_kind)
            .unwrap_or(PktKind::Other)
    };
    match &e.kind {
        EventKind::FrameTx { .. } => {
            let Some(x) = tp.x_of_host(&e.host) else {
                return vec![];
            };
            vec![Track {
                pts: vec![(x, HOST_Y - 6.0), (x, port_y + 2.0)],
                kind: kind(),
                fade: false,
            }]
        }
        EventKind::Switch {
            in_port, out_ports, ..
        } => {
            let Some(xi) = tp.x_of_port(in_port.saturating_sub(1)) else {
                return vec![];
            };
            let k = kind();
            out_ports
                .iter()
                .filter_map(|op| tp.x_of_port(op.saturating_sub(1)))
                .map(|xo| Track {
                    pts: vec![(xi, port_y), (xi, mid), (xo, mid), (xo, port_y), (xo, top)],
                    kind: k,
                    fade: false,
                })
                .collect()
        }
        EventKind::FrameRx { .. } => {
            let Some(x) = tp.x_of_host(&e.host) else {
                return vec![];
            };
            vec![Track {
                pts: vec![(x, top - 10.0), (x, HOST_Y - 6.0)],
                kind: kind(),
                fade: true,
            }]
        }
        _ => vec![],
    }
}

fn point_at(pts: &[(f64, f64)], f: f64) -> (f64, f64) {
    if pts.len() < 2 {
        return pts.first().copied().unwrap_or((0.0, 0.0));
    }
    let segs: Vec<f64> = pts
        .windows(2)
        .map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt())
        .collect();
    let total: f64 = segs.iter().sum();
    let mut d = f.clamp(0.0, 1.0) * total;
    for (k, s) in segs.iter().enumerate() {
        if d <= *s || k + 1 == segs.len() {
            let r = if *s > 0.0 { (d / s).min(1.0) } else { 1.0 };
            let (a, b) = (pts[k], pts[k + 1]);
            return (a.0 + (b.0 - a.0) * r, a.1 + (b.1 - a.1) * r);
        }
        d -= s;
    }
    *pts.last().expect("len >= 2")
}

#[derive(Default)]
struct Anim {
    tracks: Vec<Track>,
    start: f64,
    dur: f64,
    ghost: bool,
    gen: u64,
}

fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or_default()
}

fn pkt_el(k: usize) -> Option<web_sys::Element> {
    document().get_element_by_id(&format!("pkt-{k}"))
}

fn draw(a: &Anim, f: f64, lang: Lang, set_class: bool) {
    for k in 0..POOL {
        let Some(el) = pkt_el(k) else { continue };
        match a.tracks.get(k) {
            Some(tr) => {
                let eased = if f < 0.5 {
                    2.0 * f * f
                } else {
                    1.0 - (-2.0 * f + 2.0).powi(2) / 2.0
                };
                let (x, y) = point_at(&tr.pts, eased);
                let _ = el.set_attribute("transform", &format!("translate({x:.1} {y:.1})"));
                let mut op = if a.ghost { 0.4 } else { 1.0 };
                if tr.fade && f >= 1.0 {
                    op *= 0.55;
                }
                let _ = el.set_attribute("opacity", &format!("{op}"));
                if set_class {
                    let _ = el.set_attribute("class", &format!("pkt pk-{}", tr.kind.css()));
                    if let Some(txt) = el.last_element_child() {
                        txt.set_text_content(Some(tr.kind.tag(lang)));
                    }
                }
            }
            None => {
                let _ = el.set_attribute("opacity", "0");
            }
        }
    }
}

fn run_frames(anim: Rc<RefCell<Anim>>, gen: u64, lang: Lang) {
    let (f, done) = {
        let a = anim.borrow();
        if a.gen != gen {
            return;
        }
        let f = if a.dur <= 0.0 {
            1.0
        } else {
            ((now_ms() - a.start) / a.dur).clamp(0.0, 1.0)
        };
        draw(&a, f, lang, false);
        (f, f >= 1.0)
    };
    let _ = f;
    if !done {
        request_animation_frame(move || run_frames(anim, gen, lang));
    }
}

pub fn reduced_motion() -> bool {
    window()
        .match_media("(prefers-reduced-motion: reduce)")
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// How long one event's animation lasts at speed 1.
pub const STEP_MS: f64 = 700.0;

#[component]
pub fn Topology() -> impl IntoView {
    let s = st();
    let lang = s.lang;
    let tp = Memo::new(move |_| {
        let presenter = s.big.get();
        let l = lang.get();
        s.lab.with(|lab| topo(&lab.world, presenter, l))
    });
    let anim: Rc<RefCell<Anim>> = Rc::new(RefCell::new(Anim::default()));
    let anim = StoredValue::new_local(anim);

    // Move the packets whenever the selected event changes.
    Effect::new(move |_| {
        let cur = s.cursor.get();
        let motion = s.motion.get();
        let l = lang.get();
        let speed = s.speed.get_untracked();
        let _ = s.trace_len.get();
        let tpv = tp.get();
        let links = s.links.get();
        let (mut trs, ghost) = s.lab.with_untracked(|lab| {
            let w = &lab.world;
            let Some(i) = cur else {
                return (vec![], false);
            };
            let own = tracks(w, &links, &tpv, i);
            if !own.is_empty() {
                return (own, false);
            }
            // A host's decision (lookup, ARP, delivery): keep the last frame
            // of the same instant in view, dimmed.
            let t = w.trace[i].time;
            let prev = (0..i)
                .rev()
                .take_while(|&j| w.trace[j].time == t)
                .find(|&j| !tracks(w, &links, &tpv, j).is_empty());
            match prev {
                Some(j) => (tracks(w, &links, &tpv, j), true),
                None => (vec![], false),
            }
        });
        trs.truncate(POOL);
        s.lab
            .with_untracked(|lab| mark(&tpv, cur.and_then(|i| lab.world.trace.get(i)), l));
        let animate = motion == Motion::Animate && !ghost && !reduced_motion();
        let a = anim.get_value();
        let gen = {
            let mut a = a.borrow_mut();
            a.gen += 1;
            a.tracks = trs;
            a.ghost = ghost;
            a.start = now_ms();
            a.dur = if animate { STEP_MS / speed } else { 0.0 };
            draw(&a, if animate { 0.0 } else { 1.0 }, l, true);
            a.gen
        };
        if animate {
            request_animation_frame(move || run_frames(a, gen, l));
        }
    });

    view! {
        <div class="topo-wrap">
            <svg class="topo" viewBox=move || format!("0 0 {W} {}", tp.with(|t| t.height()))
                role="img" aria-label=tr("topology")>
                <g class="switch" id="topo-switch">
                    <rect x="20" y=BAR_Y width=W - 40.0 height=BAR_H rx="8" />
                    <text class="sw-label" x="34" y=BAR_Y + 25.0>{tr("switch")}</text>
                </g>
                <g id="topo-hosts" inner_html=move || hosts_svg(&tp.get(), lang.get()).as_str().to_owned()></g>
                <g id="topo-badge"></g>
                <g class="pkts" aria-hidden="true" inner_html=PKT_POOL></g>
            </svg>
        </div>
    }
}

const PKT_POOL: &str = r#"<g id="pkt-0" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-1" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-2" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-3" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-4" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-5" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-6" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g><g id="pkt-7" class="pkt" opacity="0"><rect x="-36" y="-12" width="72" height="24" rx="6"/><text y="5"></text></g>"#;

/// The hosts, their links and switch ports, as SVG markup.
fn hosts_svg(tp: &Topo, lang: Lang) -> Markup {
    let mut h = Markup::new();
    let head = if tp.two_row { 28.0 } else { 22.0 };
    for hb in &tp.hosts {
        let x = hb.x;
        let left = x - tp.box_w / 2.0;
        let role = role_key(&hb.name).map(|k| t(lang, k)).unwrap_or("");
        w!(h, "<g class=\"link\"><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/></g><g class=\"port\"><rect x=\"{}\" y=\"{}\" width=\"22\" height=\"14\" rx=\"3\"/><text x=\"{}\" y=\"{}\">{}</text></g><g class=\"host\" data-host=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"9\"/><text class=\"h-name\" x=\"{}\" y=\"{}\">{}<tspan class=\"h-role\" dx=\"8\">{}</tspan></text>", x, BAR_Y + BAR_H, x, HOST_Y, x - 11.0, BAR_Y + BAR_H - 12.0, x, BAR_Y + BAR_H - 1.5, hb.port, hb.name, left, HOST_Y, tp.box_w, tp.box_h, left + 12.0, HOST_Y + head, hb.name, role);
        let y0 = HOST_Y + head + tp.line_h;
        let mut row = 0usize;
        for ln in &hb.lines {
            let k = row;
            row += if tp.two_row && ln.note.is_none() {
                2
            } else {
                1
            };
            let mut cls = String::from("h-line");
            if ln.alias {
                cls.push_str(" alias");
            }
            if ln.down {
                cls.push_str(" down");
            }
            let mut down = Markup::new();
            if ln.down {
                w!(
                    down,
                    "<tspan class=\"h-down\" dx=\"6\">{}</tspan>",
                    t(lang, "down")
                );
            }
            if let Some(note) = ln.note {
                let y = if tp.two_row {
                    y0 + tp.line_h * k as f64
                } else {
                    y0 + 1.0 + tp.line_h * k as f64
                };
                w!(
                    h,
                    "<text class=\"h-note {}\" x=\"{}\" y=\"{}\">{}</text>",
                    note,
                    left + 12.0,
                    y,
                    ln.text
                );
            } else if tp.two_row {
                let y = y0 + tp.line_h * k as f64;
                w!(h, "<text class=\"{}\" x=\"{}\" y=\"{}\"><tspan class=\"h-dev\">{}</tspan>{}<tspan x=\"{}\" dy=\"{}\">{}</tspan></text>", cls, left + 12.0, y, ln.label, down, left + 12.0, tp.line_h, ln.text);
            } else {
                let y = y0 + 1.0 + tp.line_h * k as f64;
                w!(h, "<text class=\"{}\" x=\"{}\" y=\"{}\"><tspan class=\"h-dev\">{}</tspan><tspan x=\"{}\">{}</tspan>{}</text>", cls, left + 12.0, y, ln.label, left + 78.0, ln.text, down);
            }
        }
        h.raw("</g>");
    }
    h
}

/// Highlight the host (or switch) of the selected event, mark a drop, and
/// put a badge above the host saying what it decided.
fn mark(tp: &Topo, e: Option<&lvslab_engine::trace::Event>, lang: Lang) {
    let doc = document();
    if let Ok(old) = doc.query_selector_all("svg.topo .active, svg.topo .dropped") {
        for k in 0..old.length() {
            if let Some(el) = old
                .item(k)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let _ = el.class_list().remove_2("active", "dropped");
            }
        }
    }
    let badge = doc.get_element_by_id("topo-badge");
    if let Some(b) = &badge {
        b.set_inner_html("");
    }
    let Some(e) = e else { return };
    let target = if e.host == "switch" {
        doc.get_element_by_id("topo-switch")
    } else {
        doc.query_selector(&format!("svg.topo g.host[data-host=\"{}\"]", e.host))
            .ok()
            .flatten()
    };
    if let Some(el) = &target {
        let _ = el.class_list().add_1("active");
        if matches!(e.kind, EventKind::Drop { .. }) {
            let _ = el.class_list().add_1("dropped");
        }
    }
    let label = e.kind.text().label(lang);
    let (cls, text) = match &e.kind {
        EventKind::FrameTx { .. } | EventKind::FrameRx { .. } | EventKind::Switch { .. } => return,
        EventKind::ArpReply { .. } | EventKind::LocalDeliver { .. } => ("ok", label.to_string()),
        EventKind::ArpIgnored { level, .. } => ("warn", format!("{label} (arp_ignore={level})")),
        EventKind::Drop { .. } => {
            // The reason: the explanation after its colon, kept short.
            let x = e.explain(lang);
            let why = x
                .split_once(": ")
                .or_else(|| x.split_once('：'))
                .map(|(_, r)| r.to_string())
                .unwrap_or_default();
            let mut why: String = why.chars().take(44).collect();
            if why.chars().count() == 44 {
                why.push('…');
            }
            ("bad", format!("✕ {label}: {why}"))
        }
        EventKind::RouteLookup { table, rtype, .. } => {
            ("info", format!("{label} · {table} · {rtype}"))
        }
        EventKind::Ipvs { dest, state, .. } => ("ipvs", format!("{label} → {dest} · {state}")),
        EventKind::IpvsNoDest { .. } => ("bad", label.to_string()),
        EventKind::NfMark { mark, .. } => ("ipvs", format!("{label} 0x{mark:x}")),
        _ => ("info", label.to_string()),
    };
    let Some(x) = tp.x_of_host(&e.host) else {
        return;
    };
    let w = 16.0 + if tp.two_row { 12.6 } else { 7.6 } * text.chars().count() as f64;
    // Keep the badge inside the drawing.
    let x = x.clamp(w / 2.0 + 4.0, W - w / 2.0 - 4.0);
    if let Some(b) = badge {
        let mut m = Markup::new();
        let (bh, ty) = if tp.two_row { (34.0, 7.0) } else { (24.0, 4.0) };
        w!(m, "<g class=\"badge {}\" transform=\"translate({} {})\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\"/><text y=\"{}\">{}</text></g>", cls, x, HOST_Y - 30.0, -w / 2.0, -bh / 2.0, w, bh, bh / 2.0, ty, text);
        b.set_inner_html(m.as_str());
    }
}

/// The colour legend under the topology.
#[component]
pub fn Legend() -> impl IntoView {
    let lang = st().lang;
    view! {
        <ul class="legend" aria-label=tr("legend") inner_html=move || {
            let l = lang.get();
            let mut h = Markup::new();
            for k in PktKind::ALL.iter().filter(|k| !matches!(k, PktKind::Ipv4 | PktKind::Other)) {
                w!(h, "<li><span class=\"sw pk-{}\"></span>{}</li>", k.css(), esc(k.name(l)));
            }
            w!(h, "<li><span class=\"sw drop\"></span>{}</li>", esc(t(l, "pk.drop")));
            h.as_str().to_owned()
        }></ul>
    }
}
