//! A terminal per host running the engine's lab shell: bash-like prompt
//! with the working directory, history (↑/↓), Tab completion, multi-line
//! paste (run line by line), and links from each command to its events.

use crate::act::Act;
use crate::html::{esc, Markup};
use crate::i18n::{t, tr, Lang};
use crate::state::{st, HostView, St};
use crate::w;
use leptos::prelude::*;
use lvslab_engine::shell::Lab;
use wasm_bindgen::JsCast;

fn normalise(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            x => parts.push(x),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Paths worth completing on a host: /proc/sys/net/ipv4 (from its sysctl
/// state), the usual directories, and files it has.
fn paths(lab: &Lab, host: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        "/root/",
        "/tmp/",
        "/etc/",
        "/var/",
        "/var/www/",
        "/var/www/html/",
        "/proc/",
        "/proc/sys/",
        "/proc/sys/net/",
        "/proc/sys/net/ipv4/",
        "/proc/sys/net/ipv4/conf/",
        "/proc/sys/net/ipv4/ip_forward",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(h) = lab.world.host(host) {
        for (scope, knobs) in &h.sysctl.conf {
            v.push(format!("/proc/sys/net/ipv4/conf/{scope}/"));
            for (k, _) in knobs.iter() {
                v.push(format!("/proc/sys/net/ipv4/conf/{scope}/{k}"));
            }
        }
        v.extend(h.files.keys().cloned());
    }
    v
}

fn complete_path(lab: &Lab, host: &str, partial: &str) -> Vec<String> {
    let cwd = lab.cwd(host);
    let (dir_part, base) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    let dir_abs = if dir_part.is_empty() {
        normalise(&cwd, ".")
    } else {
        normalise(&cwd, dir_part)
    };
    let dir_abs = if dir_abs.ends_with('/') {
        dir_abs
    } else {
        format!("{dir_abs}/")
    };
    let mut out: Vec<String> = paths(lab, host)
        .into_iter()
        .filter_map(|p| {
            let rest = p.strip_prefix(&dir_abs)?;
            let name = match rest.find('/') {
                Some(i) if i + 1 == rest.len() => rest,
                Some(_) => return None,
                None => rest,
            };
            (!name.is_empty() && name.starts_with(base)).then(|| format!("{dir_part}{name}"))
        })
        .collect();
    if "..".starts_with(base) && dir_abs != "/" && !base.is_empty() {
        out.push(format!("{dir_part}../"));
    }
    out.sort();
    out.dedup();
    out
}

fn devices(lab: &Lab, host: &str, labels: bool) -> Vec<String> {
    let Some(h) = lab.world.host(host) else {
        return vec![];
    };
    let mut v: Vec<String> = h.devices.values().map(|d| d.name.clone()).collect();
    if labels {
        v.extend(h.all_addrs().map(|a| a.label.clone()));
    }
    v.sort();
    v.dedup();
    v
}

fn addresses(lab: &Lab) -> Vec<String> {
    let mut v: Vec<String> = lab
        .world
        .hosts
        .values()
        .flat_map(|h| h.all_addrs().map(|a| a.local().to_string()))
        .filter(|a| !a.starts_with("127."))
        .collect();
    v.push("192.168.150.100".into());
    v.sort();
    v.dedup();
    v
}

/// Completion candidates for the last word of `input` (already-typed words
/// give the context).
pub fn candidates(lab: &Lab, host: &str, input: &str) -> (usize, Vec<String>) {
    let start = input.rfind(' ').map(|i| i + 1).unwrap_or(0);
    let partial = &input[start..];
    let words: Vec<&str> = input[..start].split_whitespace().collect();
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let pool: Vec<String> = match words.as_slice() {
        [] => owned(&crate::paste::known_commands()),
        ["ip"] | ["ip", "-4"] => owned(&["addr", "route", "link", "neigh", "rule"]),
        ["ip", "route" | "r"] => owned(&["show", "get", "add", "del", "flush"]),
        ["ip", "addr" | "a" | "address"] => owned(&["show", "add", "del", "flush"]),
        ["ip", "link" | "l"] => owned(&["show", "set", "add", "del"]),
        ["ip", "neigh" | "n"] => owned(&["show", "flush", "add", "del", "replace"]),
        [.., "dev"] | [.., "-I"] | [.., "oif"] => devices(lab, host, false),
        [.., "label"] => devices(lab, host, true),
        [.., "table"] => owned(&["local", "main", "all"]),
        [.., "netmask"] => owned(&["255.255.255.255", "255.255.255.0"]),
        ["ip", ..] => {
            let mut v = owned(&[
                "dev", "table", "via", "from", "label", "scope", "up", "down", "lladdr", "local",
                "main",
            ]);
            v.extend(addresses(lab));
            v
        }
        ["ifconfig"] => devices(lab, host, true),
        ["ifconfig", _, ..] => owned(&["netmask", "up", "down", "broadcast"]),
        ["ping" | "arping", ..] => {
            let mut v = owned(&["-c", "-I", "-W", "-w"]);
            v.extend(addresses(lab));
            v
        }
        ["curl" | "wget", ..] => {
            let mut v: Vec<String> = addresses(lab)
                .into_iter()
                .map(|a| format!("http://{a}/"))
                .collect();
            v.extend(owned(&["-s", "-qO-"]));
            v
        }
        ["service"] => owned(&["httpd"]),
        ["service", _] => owned(&["start", "stop", "status", "restart"]),
        ["yum"] => owned(&["install"]),
        ["yum", ..] => owned(&["httpd", "ipvsadm", "-y"]),
        ["netstat"] => owned(&["-natp", "-nat", "-ntlp"]),
        ["sysctl", ..] => {
            let mut v = owned(&["-w", "-a"]);
            if let Some(h) = lab.world.host(host) {
                for (scope, knobs) in &h.sysctl.conf {
                    for (k, _) in knobs.iter() {
                        v.push(format!("net.ipv4.conf.{scope}.{k}"));
                    }
                }
            }
            v.push("net.ipv4.ip_forward".into());
            v
        }
        ["ipvsadm", ..] => owned(&[
            "-A",
            "-a",
            "-t",
            "-r",
            "-s",
            "rr",
            "-g",
            "-w",
            "-ln",
            "-lnc",
            "-C",
            "192.168.150.100:80",
        ]),
        ["echo", ..] if partial.starts_with('<') || !words.contains(&">") => vec![],
        _ => complete_path(lab, host, partial),
    };
    let list: Vec<String> = pool
        .into_iter()
        .filter(|c| c.starts_with(partial))
        .collect();
    (start, list)
}

fn common_prefix(v: &[String]) -> String {
    let Some(first) = v.first() else {
        return String::new();
    };
    let mut n = first.len();
    for s in &v[1..] {
        n = n.min(
            first
                .chars()
                .zip(s.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.len_utf8())
                .sum(),
        );
    }
    first[..n].to_string()
}

fn exec(s: &St, host: &str, line: &str) {
    if line.trim() == "clear" {
        let n = s
            .terms
            .with_untracked(|t| t.get(host).map(Vec::len).unwrap_or(0));
        s.term_cleared.update(|c| {
            c.insert(host.to_string(), n);
        });
        return;
    }
    s.run(host, line, true);
}

/// The scrollback of one host as markup.
fn scrollback_html(s: &St, host: &str) -> Markup {
    let l = s.lang.get();
    let from = s.term_cleared.with(|c| c.get(host).copied().unwrap_or(0));
    let mut h = Markup::new();
    h.el("p", "term-hint", t(l, "term.hint"));
    s.terms.with(|terms| {
        for it in terms.get(host).map(|v| &v[from.min(v.len())..]).unwrap_or(&[]) {
            let mut cls = String::from("ti");
            if it.setup {
                cls.push_str(" setup");
            }
            if it.running {
                cls.push_str(" running");
            } else if it.status != 0 {
                cls.push_str(" fail");
            }
            w!(h, "<div class=\"{}\"><div><span class=\"ps1\">{}</span> <span class=\"cmdline\">{}</span></div>", cls, esc(&it.prompt), esc(&it.line));
            if !it.output.is_empty() {
                w!(h, "<pre class=\"out\">{}</pre>", esc(&it.output));
            }
            if it.running {
                h.el("p", "term-run", t(l, "term.running"));
            }
            if let Some((en, zh)) = &it.hint {
                let text = if l == Lang::Zh { zh } else { en };
                w!(h, "<p class=\"teach\"><b>{}</b> {}</p>", esc(t(l, "teach")), esc(text));
            }
            if let Some(f) = &it.failure {
                w!(h, "<p class=\"fail-sum\" data-fail-host=\"{}\"><b>✗ {}</b> {}", f.host, t(l, if it.running { "fail.sofar" } else { "fail.why" }), f.text(l));
                if let Some(i) = f.event {
                    let step = match l {
                        Lang::Zh => format!("第 {} 步", i + 1),
                        Lang::En => format!("step {}", i + 1),
                    };
                    w!(h, " <button class=\"evlink fail-jump\"{} title=\"{}\">→ {}</button>", Act::Jump(i).attrs(), t(l, "fail.jump.title"), step);
                }
                h.raw("</p>");
                if !f.fix.is_empty() {
                    w!(h, "<p class=\"fail-fix\">{}", t(l, "fail.fix"));
                    for c in &f.fix {
                        w!(h, " <code>{}</code>", c);
                    }
                    h.raw("</p>");
                }
            }
            if it.count > 0 {
                w!(h, "<button class=\"evlink\"{}>→ {} {}</button>", Act::Jump(it.first).attrs(), it.count, t(l, "term.events"));
            }
            h.raw("</div>");
        }
    });
    h
}

#[component]
fn Terminal(host: String) -> impl IntoView {
    let s = st();
    let input = RwSignal::new(String::new());
    let hint: RwSignal<Option<String>> = RwSignal::new(None);
    let hist_pos: RwSignal<Option<usize>> = RwSignal::new(None);
    let pending: RwSignal<Option<(String, crate::paste::Review)>> = RwSignal::new(None);
    let out_ref = NodeRef::<leptos::html::Div>::new();
    let live_ref = NodeRef::<leptos::html::Div>::new();
    let in_ref = NodeRef::<leptos::html::Input>::new();
    let h = StoredValue::new(host.clone());
    // The scrollback, kept scrolled to the newest output.
    Effect::new(move |_| {
        let mut html = scrollback_html(&s, &h.get_value());
        if let Some(x) = hint.get() {
            w!(html, "<pre class=\"out hint\">{}</pre>", esc(&x));
        }
        if let Some(el) = out_ref.get() {
            el.set_inner_html(html.as_str());
            // Keep the newest output in view; measure in the next frame (a
            // layout forced here, during the first render, costs ~90 ms)
            // and only when there is something to scroll to.
            let has_output = s
                .terms
                .with(|t| t.get(&h.get_value()).is_some_and(|v| !v.is_empty()));
            if has_output || hint.with(Option::is_some) {
                let el: web_sys::HtmlElement = el.into();
                request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
            }
        }
        // Screen readers hear only the newest command and its output.
        let last = s.terms.with(|t| {
            t.get(&h.get_value())
                .and_then(|v| v.last())
                .map(|it| format!("{} {}\n{}", it.prompt, it.line, it.output))
        });
        if let (Some(el), Some(text)) = (live_ref.get(), last) {
            el.set_text_content(Some(&text));
        }
    });
    let history = move || {
        let host = h.get_value();
        s.terms.with_untracked(|t| {
            t.get(&host)
                .map(|v| {
                    v.iter()
                        .filter(|x| !x.setup)
                        .map(|x| x.line.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let set_input = move |v: String| {
        input.set(v.clone());
        if let Some(el) = in_ref.get_untracked() {
            el.set_value(&v);
            let n = v.len() as u32;
            let _ = el.set_selection_range(n, n);
        }
    };
    let on_key = move |e: web_sys::KeyboardEvent| {
        let host = h.get_value();
        match e.key().as_str() {
            "Enter" => {
                e.prevent_default();
                if s.lab.with_untracked(|l| l.is_running(&host)) {
                    // The program has the terminal: bash reads the line
                    // only when it ends.
                    return;
                }
                let line = input.get_untracked();
                set_input(String::new());
                hint.set(None);
                hist_pos.set(None);
                exec(&s, &host, &line);
            }
            "ArrowUp" => {
                e.prevent_default();
                let hist = history();
                if hist.is_empty() {
                    return;
                }
                let p = match hist_pos.get_untracked() {
                    None => hist.len() - 1,
                    Some(p) => p.saturating_sub(1),
                };
                hist_pos.set(Some(p));
                set_input(hist[p].clone());
            }
            "ArrowDown" => {
                e.prevent_default();
                let hist = history();
                match hist_pos.get_untracked() {
                    Some(p) if p + 1 < hist.len() => {
                        hist_pos.set(Some(p + 1));
                        set_input(hist[p + 1].clone());
                    }
                    _ => {
                        hist_pos.set(None);
                        set_input(String::new());
                    }
                }
            }
            "Tab" => {
                e.prevent_default();
                let cur = input.get_untracked();
                let (start, list) = s.lab.with_untracked(|l| candidates(l, &host, &cur));
                match list.len() {
                    0 => hint.set(None),
                    1 => {
                        let c = &list[0];
                        let sep = if c.ends_with('/') { "" } else { " " };
                        set_input(format!("{}{c}{sep}", &cur[..start]));
                        hint.set(None);
                    }
                    _ => {
                        let p = common_prefix(&list);
                        if p.len() > cur.len() - start {
                            set_input(format!("{}{p}", &cur[..start]));
                        }
                        hint.set(Some(list.join("  ")));
                    }
                }
            }
            "l" if e.ctrl_key() => {
                e.prevent_default();
                exec(&s, &host, "clear");
            }
            "c" if e.ctrl_key() && s.lab.with_untracked(|l| l.is_running(&host)) => {
                e.prevent_default();
                s.interrupt(&host);
            }
            "c" if e.ctrl_key() => {
                let cur = input.get_untracked();
                if !cur.is_empty() {
                    e.prevent_default();
                    set_input(String::new());
                    hint.set(Some(format!("{cur}^C")));
                }
            }
            "Escape" => {
                if s.maxi.get_untracked() {
                    s.maxi.set(false);
                } else if let Some(el) = in_ref.get_untracked() {
                    let _ = el.blur();
                }
            }
            _ => {}
        }
    };
    let on_paste = move |e: web_sys::ClipboardEvent| {
        let Some(text) = e.clipboard_data().and_then(|d| d.get_data("text").ok()) else {
            return;
        };
        if !text.contains('\n') {
            return;
        }
        e.prevent_default();
        let host = h.get_value();
        let typed = input.get_untracked();
        set_input(String::new());
        let text = format!("{typed}{text}");
        let r = s
            .lab
            .with_untracked(|l| crate::paste::review(l, &host, &text));
        if r.clear() {
            s.run_lines(&host, &text);
        } else {
            pending.set(Some((text, r)));
        }
    };
    // A paste that names other hosts or holds prose: run it here, or not.
    let ask = move || {
        let (text, r) = pending.get()?;
        let l = s.lang.get();
        let mut why = Vec::new();
        if !r.hosts.is_empty() {
            why.push(format!("{} {}", t(l, "paste.hosts"), r.hosts.join(", ")));
        }
        if !r.prose.is_empty() {
            let p: Vec<String> = r.prose.iter().take(2).map(|x| format!("“{x}”")).collect();
            why.push(format!("{} {}", t(l, "paste.prose"), p.join(" ")));
        }
        let n = text.lines().filter(|x| !x.trim().is_empty()).count();
        let q = match l {
            Lang::Zh => format!("要把这 {n} 行全部在 {} 上运行吗？", h.get_value()),
            Lang::En => format!("Run all {n} lines here on {}?", h.get_value()),
        };
        let run = move |_| {
            if let Some((text, _)) = pending.get_untracked() {
                pending.set(None);
                s.run_lines(&h.get_value(), &text);
            }
        };
        Some(view! {
            <div class="paste-ask" role="alertdialog" aria-label=t(l, "paste.title")>
                <p><b>{t(l, "paste.title")}</b>" "{why.join(" · ")}</p>
                <p>{q}" "
                    <button class="btn small primary paste-run" on:click=run>{t(l, "paste.run")}</button>" "
                    <button class="btn small paste-cancel" on:click=move |_| pending.set(None)>{t(l, "paste.cancel")}</button>
                </p>
            </div>
        })
    };
    let focus = move |e: web_sys::MouseEvent| {
        // A button in the scrollback (an event link) decides where focus goes.
        if crate::html::closest_with(e.target(), "data-act").is_some() {
            return;
        }
        // Clicking the scrollback focuses the prompt, unless text is selected.
        let sel = window()
            .get_selection()
            .ok()
            .flatten()
            .and_then(|s| s.to_string().as_string())
            .unwrap_or_default();
        if sel.is_empty() {
            if let Some(el) = in_ref.get_untracked() {
                let _ = el.focus();
            }
        }
    };
    // No prompt while a program has the terminal.
    let prompt = move || {
        s.terms.track();
        let host = h.get_value();
        if s.lab.with_untracked(|l| l.is_running(&host)) {
            String::new()
        } else {
            s.prompt(&host)
        }
    };
    let input_id = format!("term-in-{host}");
    view! {
        <div class="term" on:click=focus>
            <div class="term-out" node_ref=out_ref role="log" aria-live="off"
                on:click=crate::act::handler()></div>
            <div class="visually-hidden" aria-live="polite" node_ref=live_ref></div>
            {ask}
            <div class="term-in">
                <label class="ps1" for=input_id.clone()>{prompt}</label>
                <input id=input_id node_ref=in_ref type="text" autocomplete="off" spellcheck="false"
                    autocapitalize="off" data-host=host.clone()
                    aria-label=move || format!("{} {}", t(s.lang.get(), "term.input"), h.get_value())
                    prop:value=move || input.get()
                    on:input=move |e| input.set(event_target_value(&e))
                    on:keydown=on_key
                    on:paste=on_paste />
            </div>
        </div>
    }
}

#[component]
pub fn Hosts() -> impl IntoView {
    let s = st();
    let hosts = move || {
        s.lab.with(|l| {
            // Switch port order first (client, node01, …), then the rest.
            let mut v: Vec<String> = l.world.ports.iter().map(|p| p.host.to_string()).collect();
            for h in l.world.hosts.keys() {
                if !v.contains(h) {
                    v.push(h.clone());
                }
            }
            v.dedup();
            v
        })
    };
    let on_tabkey = move |e: web_sys::KeyboardEvent| {
        let k = e.key();
        if k != "ArrowRight" && k != "ArrowLeft" {
            return;
        }
        e.prevent_default();
        e.stop_propagation();
        let hs = hosts();
        let cur = s.host_tab.get_untracked();
        let i = hs.iter().position(|h| *h == cur).unwrap_or(0);
        let n = hs.len().max(1);
        let j = if k == "ArrowRight" {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        if let Some(h) = hs.get(j) {
            s.host_tab.set(h.clone());
            if let Some(el) = document().get_element_by_id(&format!("tab-{h}")) {
                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    };
    let tabs_html = move || {
        let cur = s.host_tab.get();
        let mut o = Markup::new();
        for h in hosts() {
            let on = h == cur;
            w!(o, "<button role=\"tab\" id=\"tab-{}\" class=\"tab{}\" data-tab=\"{}\"{} aria-selected=\"{}\" tabindex=\"{}\">{}</button>", h, if on { " on" } else { "" }, h, Act::Tab(h.clone()).attrs(), on, if on { 0 } else { -1 }, h);
        }
        o.as_str().to_owned()
    };
    let view_btn = move |v: HostView, key: &'static str, id: &'static str| {
        view! {
            <button class="chip" id=id class:on=move || s.host_view.get() == v
                aria-pressed=move || (s.host_view.get() == v).to_string()
                on:click=move |_| {
                    s.host_view.set(v);
                    if v == HostView::Terminal {
                        focus_input(&s.host_tab.get_untracked());
                    }
                }>{tr(key)}</button>
        }
    };
    view! {
        <div class="host-bar">
            <div class="tabs" role="tablist" aria-label=tr("hosts") on:keydown=on_tabkey
                on:click=crate::act::handler() inner_html=tabs_html></div>
            <div class="host-views">
                {view_btn(HostView::Terminal, "terminal", "view-term")}
                {view_btn(HostView::Tables, "tables", "view-tables")}
                <button class="chip" id="maxi" aria-pressed=move || s.maxi.get().to_string()
                    title=tr("maxi.title")
                    on:click=move |_| {
                        s.maxi.update(|m| *m = !*m);
                        if s.host_view.get_untracked() == HostView::Terminal {
                            focus_input(&s.host_tab.get_untracked());
                        }
                    }>
                    {move || if s.maxi.get() { "⤡ " } else { "⤢ " }}
                    {move || t(s.lang.get(), if s.maxi.get() { "maxi.off" } else { "maxi.on" })}
                </button>
            </div>
        </div>
        <div class="host-body" role="tabpanel">
            {move || {
                let h = s.host_tab.get();
                let _ = s.epoch.get();
                match s.host_view.get() {
                    HostView::Terminal => view! { <Terminal host=h /> }.into_any(),
                    HostView::Tables => view! { <crate::tables::Tables host=h /> }.into_any(),
                }
            }}
        </div>
    }
}

/// Put the keyboard in a host's prompt.
pub fn focus_input(host: &str) {
    if let Some(el) = document()
        .get_element_by_id(&format!("term-in-{host}"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}
