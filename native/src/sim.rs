//! `lvslab sim`: run a lab script in the engine, print the transcript.

use anyhow::{Context, Result};
use lvslab_engine::scenario;
use lvslab_engine::shell::{run_script, Lab};
use lvslab_engine::trace::Lang;
use std::io::{Read, Write};

/// Where the simulation starts.
pub enum Start {
    Scenario(String),
    Snapshot(crate::director::Source),
}

pub fn run(start: Start, script_path: &str, json: bool) -> Result<()> {
    let world = match start {
        Start::Scenario(name) => scenario::load(&name)?,
        Start::Snapshot(src) => {
            let mut snap = src.read()?;
            // Names from a file or a host reach the terminal in the
            // transcript: no control characters in them.
            if !matches!(src, crate::director::Source::Sim { .. }) {
                crate::director::printable(&mut snap);
            }
            let (world, notes) = lvslab_engine::snapshot::world(&snap);
            let hosts: Vec<&str> = world.hosts.keys().map(String::as_str).collect();
            eprintln!("lvslab sim: hosts {}", hosts.join(", "));
            for n in notes {
                eprintln!("lvslab sim: {n}");
            }
            world
        }
    };
    let script = read_script(script_path)?;
    let mut lab = Lab::new(world);
    let transcript = run_script(&mut lab, &script)?;
    let mut out = std::io::stdout().lock();
    if json {
        let events: Vec<serde_json::Value> = lab
            .world
            .trace
            .iter()
            .map(|e| {
                serde_json::json!({
                    "time_us": e.time.0,
                    "host": e.host,
                    "event": e.kind,
                    "en": e.explain(Lang::En),
                    "zh": e.explain(Lang::Zh),
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &events)?;
        writeln!(out)?;
    } else {
        out.write_all(transcript.as_bytes())?;
    }
    Ok(())
}

/// The script at `path` (`-`: stdin).
pub fn read_script(path: &str) -> Result<String> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the script from stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
    }
}
