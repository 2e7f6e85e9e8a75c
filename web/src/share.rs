//! Links, downloads, imports and the few preferences kept in localStorage.
//!
//! A link is the URL hash `#s=SCENARIO&x=EXERCISE&h=HOST&e=EVENT&c=HOST~LINE…`:
//! opening it loads the scenario (and the exercise's setup), replays the log
//! in order in the engine and selects the same event. The log's steps are
//! `c=HOST~LINE` (a command), `w=MICROSECONDS` (time passing while a
//! program ran) and `i=HOST` (Ctrl+C). The engine is deterministic, so the
//! same log gives the same lab, byte for byte.

use crate::compare::CmpSt;
use crate::i18n::{lang_code, t, Lang};
use crate::state::{Cmd, Motion, Panel, St, Step};
use leptos::prelude::*;
use lvslab_engine::shell::Lab;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;

fn enc(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

fn dec(s: &str) -> String {
    js_sys::decode_uri_component(s)
        .map(String::from)
        .unwrap_or_else(|_| s.to_string())
}

/// The page's layout a link reopens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    #[default]
    Normal,
    /// The presenter (projector) layout.
    Presenter,
    /// The host card maximised.
    Maximised,
}

/// What a link carries: the lab (scenario, exercise, commands, selected
/// event, open terminal) and how it is shown (layout, side tab, language,
/// the compare pair and its commands).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared {
    pub scenario: String,
    pub exercise: Option<String>,
    pub host: Option<String>,
    pub event: Option<usize>,
    pub cmds: Vec<Step>,
    pub layout: Layout,
    pub panel: Option<Panel>,
    pub lang: Option<Lang>,
    /// Compare mode open on these two scenarios.
    pub compare: Option<(String, String)>,
    pub compare_cmds: Vec<Cmd>,
}

fn panel_code(p: Panel) -> &'static str {
    match p {
        Panel::Inspect => "packet",
        Panel::Tour => "tour",
        Panel::Exercises => "exercises",
        Panel::Why => "why",
    }
}

fn panel_of(code: &str) -> Option<Panel> {
    [Panel::Inspect, Panel::Tour, Panel::Exercises, Panel::Why]
        .into_iter()
        .find(|p| panel_code(*p) == code)
}

fn cmd_text(c: &Cmd) -> String {
    format!("{}~{}", enc(&c.host), enc(&c.line))
}

fn step_text(s: &Step) -> String {
    match s {
        Step::Run { host, line } => format!("c={}~{}", enc(host), enc(line)),
        Step::Wait { wait_us } => format!("w={wait_us}"),
        Step::Interrupt { interrupt } => format!("i={}", enc(interrupt)),
    }
}

fn cmd_of(v: &str) -> Option<Cmd> {
    let (h, l) = v.split_once('~')?;
    Some(Cmd {
        host: dec(h),
        line: dec(l),
    })
}

pub fn encode(s: &Shared) -> String {
    let mut out = format!("s={}", enc(&s.scenario));
    if let Some(x) = &s.exercise {
        out.push_str(&format!("&x={}", enc(x)));
    }
    if let Some(h) = &s.host {
        out.push_str(&format!("&h={}", enc(h)));
    }
    if let Some(e) = s.event {
        out.push_str(&format!("&e={e}"));
    }
    match s.layout {
        Layout::Normal => {}
        Layout::Presenter => out.push_str("&l=presenter"),
        Layout::Maximised => out.push_str("&l=max"),
    }
    if let Some(p) = s.panel {
        out.push_str(&format!("&t={}", panel_code(p)));
    }
    if let Some(l) = s.lang {
        out.push_str(&format!("&lang={}", lang_code(l)));
    }
    if let Some((a, b)) = &s.compare {
        out.push_str(&format!("&cmp={}~{}", enc(a), enc(b)));
    }
    for c in &s.cmds {
        out.push('&');
        out.push_str(&step_text(c));
    }
    for c in &s.compare_cmds {
        out.push_str(&format!("&k={}", cmd_text(c)));
    }
    out
}

pub fn decode(hash: &str) -> Option<Shared> {
    let hash = hash.trim_start_matches('#');
    if hash.is_empty() {
        return None;
    }
    let mut s = Shared::default();
    for part in hash.split('&') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        match k {
            "s" => s.scenario = dec(v),
            "x" => s.exercise = Some(dec(v)),
            "h" => s.host = Some(dec(v)),
            "e" => s.event = v.parse().ok(),
            "l" => {
                s.layout = match v {
                    "presenter" => Layout::Presenter,
                    "max" => Layout::Maximised,
                    _ => Layout::Normal,
                }
            }
            "t" => s.panel = panel_of(v),
            "lang" => {
                s.lang = match v {
                    "zh" => Some(Lang::Zh),
                    "en" => Some(Lang::En),
                    _ => None,
                }
            }
            "cmp" => {
                s.compare = v.split_once('~').map(|(a, b)| (dec(a), dec(b)));
            }
            "c" => s.cmds.extend(cmd_of(v).map(|c| Step::run(c.host, c.line))),
            "w" => s
                .cmds
                .extend(v.parse().ok().map(|wait_us| Step::Wait { wait_us })),
            "i" => s.cmds.push(Step::Interrupt { interrupt: dec(v) }),
            "k" => s.compare_cmds.extend(cmd_of(v)),
            _ => {}
        }
    }
    (!s.scenario.is_empty()).then_some(s)
}

pub fn current(st: &St, cmp: &CmpSt) -> Shared {
    let compare = cmp.open.get();
    Shared {
        scenario: st.scenario.get(),
        exercise: st.exercise.get().map(String::from),
        host: Some(st.host_tab.get()),
        event: st.cursor.get(),
        cmds: st.cmds.get(),
        layout: if st.big.get() {
            Layout::Presenter
        } else if st.maxi.get() {
            Layout::Maximised
        } else {
            Layout::Normal
        },
        panel: Some(st.panel.get()).filter(|p| *p != Panel::Inspect),
        lang: Some(st.lang.get()),
        compare: compare.then(|| (cmp.left.get(), cmp.right.get())),
        compare_cmds: if compare { cmp.cmds.get() } else { vec![] },
    }
}

/// Rebuild a shared state: load, replay, select; then the layout, the side
/// tab (an exercise's link opens Exercises), the language and compare mode.
pub fn apply(st: &St, cmp: &CmpSt, s: &Shared) {
    let ex = s
        .exercise
        .as_deref()
        .and_then(crate::guide::exercises::exercise_id);
    st.load(&s.scenario, ex);
    for c in &s.cmds {
        st.replay(c);
    }
    st.resume_clock();
    if let Some(h) = &s.host {
        if st.lab.with_untracked(|l| l.world.hosts.contains_key(h)) {
            st.host_tab.set(h.clone());
        }
    }
    let len = st.trace_len.get_untracked();
    st.select(s.event.filter(|&e| e < len), Motion::Jump);
    st.fresh.set(0);
    st.big.set(s.layout == Layout::Presenter);
    st.maxi.set(s.layout == Layout::Maximised);
    let panel = s
        .panel
        .or(ex.map(|_| Panel::Exercises))
        .unwrap_or(Panel::Inspect);
    st.panel.set(panel);
    if let Some(l) = s.lang {
        st.lang.set(l);
    }
    match &s.compare {
        Some((a, b)) => {
            cmp.left.set(a.clone());
            cmp.right.set(b.clone());
            cmp.cmds.set(s.compare_cmds.clone());
            cmp.open.set(true);
        }
        None => cmp.open.set(false),
    }
}

pub fn location_hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// Write the hash (no `hashchange` fires): in place, or as a new history
/// entry when a new lab was loaded.
pub fn write_hash(h: &str, push: bool) {
    if let Ok(hist) = window().history() {
        let url = format!("#{h}");
        let _ = if push {
            hist.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        } else {
            hist.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        };
    }
}

pub fn link(st: &St, cmp: &CmpSt) -> String {
    let loc = window().location();
    let base = format!(
        "{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default()
    );
    format!("{base}#{}", encode(&current(st, cmp)))
}

/// Offer bytes as a file download.
pub fn download(name: &str, mime: &str, bytes: &[u8]) {
    let arr = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&arr);
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let doc = document();
    if let Ok(a) = doc.create_element("a") {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

pub fn export_pcap(st: &St) {
    let bytes = st
        .lab
        .with_untracked(|l| lvslab_engine::pcap::write(&l.world.trace, None));
    let name = format!("lvslab-{}.pcap", st.scenario.get_untracked());
    download(&name, "application/vnd.tcpdump.pcap", &bytes);
}

pub fn export_json(st: &St) {
    let json = st.lab.with_untracked(|lab| {
        crate::json::to_string(&Export {
            lvslab: 1,
            scenario: &st.scenario.get_untracked(),
            exercise: st.exercise.get_untracked(),
            commands: &st.cmds.get_untracked(),
            lab: &without_apps(lab),
        })
    });
    if let Ok(json) = json {
        let name = format!("lvslab-{}.json", st.scenario.get_untracked());
        download(&name, "application/json", json.as_bytes());
    }
}

/// The JSON export: the engine's `Lab` (last, so it can be found verbatim)
/// plus what replays it.
#[derive(Serialize)]
struct Export<'a> {
    lvslab: u32,
    scenario: &'a str,
    exercise: Option<&'a str>,
    commands: &'a [Step],
    lab: &'a Lab,
}

fn without_apps(l: &Lab) -> Lab {
    let mut l = l.clone();
    l.world.apps.clear();
    l
}

/// What an export carries besides the lab itself (which is not read: the
/// engine rebuilds it by replaying the commands).
#[derive(Deserialize)]
struct Import {
    #[allow(dead_code)]
    lvslab: u32,
    #[serde(default)]
    scenario: Option<String>,
    #[serde(default)]
    exercise: Option<String>,
    #[serde(default)]
    commands: Vec<Step>,
}

/// Import an export: rebuild the lab by replaying its commands in the engine
/// (the engine is deterministic), then check that the result is the `lab` the
/// file carries, byte for byte.
pub fn import_json(st: &St, cmp: &CmpSt, text: &str) -> bool {
    let lang = st.lang_now();
    let Ok(v) = serde_json::from_str::<Import>(text) else {
        st.flash(t(lang, "import.bad").into());
        return false;
    };
    let shared = Shared {
        scenario: v.scenario.unwrap_or_else(|| "bare".into()),
        exercise: v.exercise,
        cmds: v.commands,
        lang: Some(st.lang_now()),
        panel: Some(st.panel.get_untracked()),
        ..Shared::default()
    };
    apply(st, cmp, &shared);
    // The file's lab, verbatim: everything after the last `"lab":` but the
    // closing brace of the export object.
    let ours = st
        .lab
        .with_untracked(|l| crate::json::to_string(&without_apps(l)).unwrap_or_default());
    let same = text
        .trim_end()
        .rsplit_once("\"lab\":")
        .is_some_and(|(_, l)| l.strip_suffix('}') == Some(ours.as_str()));
    let len = st.trace_len.get_untracked();
    st.select(len.checked_sub(1), Motion::Jump);
    st.flash(
        t(
            lang,
            if same {
                "import.done"
            } else {
                "import.replayed"
            },
        )
        .into(),
    );
    same
}

/// Read a file the user picked and import it.
pub fn import_file(st: St, cmp: CmpSt, file: web_sys::File) {
    leptos::task::spawn_local(async move {
        let promise = file.text();
        if let Ok(v) = wasm_bindgen_futures::JsFuture::from(promise).await {
            if let Some(text) = v.as_string() {
                let _ = import_json(&st, &cmp, &text);
            }
        }
    });
}

/// Copy text to the clipboard (best effort).
pub fn copy(text: &str) {
    let clip = window().navigator().clipboard();
    let _ = clip.write_text(text);
}
