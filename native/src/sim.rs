//! `lvslab sim`: run a lab script in the engine, print the transcript.

use anyhow::{Context, Result};
use lvslab_engine::scenario;
use lvslab_engine::shell::{run_script, Lab};
use lvslab_engine::trace::Lang;
use std::io::{Read, Write};

pub fn run(scenario_name: &str, script_path: &str, json: bool) -> Result<()> {
    let world = scenario::load(scenario_name)?;
    let script = if script_path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the script from stdin")?;
        s
    } else {
        std::fs::read_to_string(script_path).with_context(|| format!("reading {script_path}"))?
    };
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
