//! LVS Lab in the browser: a thin Leptos shell over `lvslab-engine`.
//!
//! Invariant (ARCHITECTURE.md): the UI renders and animates what the engine
//! produces; it computes no networking itself.

use leptos::prelude::*;
use lvslab_engine::scenario;
use lvslab_engine::World;
use wasm_bindgen::prelude::*;

/// One row of the topology table, read off the engine's world.
#[derive(Clone, Debug, PartialEq)]
struct HostRow {
    name: String,
    port: usize,
    dev: String,
    mac: String,
    addrs: Vec<String>,
}

fn host_rows(w: &World) -> Vec<HostRow> {
    w.ports
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let h = w.host(&p.host)?;
            let d = h.device(p.ifindex)?;
            let addrs = h
                .all_addrs()
                .filter(|a| a.ifindex != 1)
                .map(|a| format!("{} ({})", a.net, a.label))
                .collect();
            Some(HostRow {
                name: h.name.clone(),
                port: i + 1,
                dev: d.name.clone(),
                mac: d.mac.to_string(),
                addrs,
            })
        })
        .collect()
}

#[component]
fn App() -> impl IntoView {
    let world = scenario::bare();
    let segment = world.segment.to_string();
    let rows = host_rows(&world);
    view! {
        <header class="topbar">
            <h1>"LVS Lab"</h1>
            <span class="subtitle">"Linux IPVS, Direct Routing, packet by packet"</span>
        </header>
        <main>
            <section class="card" id="topology">
                <h2>"Scenario: bare — segment " {segment}</h2>
                <table class="hosts">
                    <thead>
                        <tr><th>"port"</th><th>"host"</th><th>"device"</th><th>"MAC"</th><th>"IPv4"</th></tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| { let key = r.name.clone(); view! {
                            <tr data-host=key>
                                <td>{r.port}</td>
                                <td class="host">{r.name}</td>
                                <td>{r.dev}</td>
                                <td class="mono">{r.mac}</td>
                                <td class="mono">{r.addrs.join(", ")}</td>
                            </tr>
                        }}).collect_view()}
                    </tbody>
                </table>
            </section>
        </main>
    }
}

/// Entry point called by the generated JS glue once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    let Some(root) = document().get_element_by_id("app") else {
        return;
    };
    let root: web_sys::HtmlElement = root.unchecked_into();
    root.set_inner_html("");
    leptos::mount::mount_to(root, App).forget();
}
