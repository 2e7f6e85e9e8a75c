//! Every lab script of the conformance suites, run through the engine.
//!
//! `tests/conformance/scripts/*.lab` (recorded on the host kernel in network
//! namespaces) and `tests/vm/scripts/*.lab` (recorded on a Debian 6.1 kernel
//! with IPVS in qemu) each become a named case (`conformance/NAME`,
//! `vm/NAME`; `cargo test -p lvslab-engine --test transcripts 46-fwmark`
//! runs one). A case starts the `bare` lab, runs the script as
//! `lvslab sim --script` does, passes the transcript through the suite's own
//! normaliser (the same `normalize` script the real side goes through) and
//! compares it byte for byte with `expected/NAME.txt`. The real-kernel
//! halves stay in `tests/real-kernel.sh`.

use libtest_mimic::{Arguments, Failed, Trial};
use lvslab_engine::scenario;
use lvslab_engine::shell::{run_script, Lab};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn suite_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join(name)
}

fn normalize(suite: &Path, text: &str) -> Result<String, Failed> {
    let mut child = Command::new("sh")
        .arg(suite.join("normalize"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running {}/normalize: {e}", suite.display()))?;
    let mut stdin = child.stdin.take().ok_or("normalize: no stdin")?;
    let input = text.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("normalize: {e}"))?;
    writer
        .join()
        .map_err(|_| "normalize: writer panicked")?
        .map_err(|e| format!("normalize: writing its input: {e}"))?;
    if !out.status.success() {
        return Err(format!("normalize exited with {}", out.status).into());
    }
    String::from_utf8(out.stdout).map_err(|e| format!("normalize: not UTF-8: {e}").into())
}

/// The first differing line, with a few lines of context on both sides.
fn first_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let n = e.iter().zip(&g).take_while(|(a, b)| a == b).count();
    let from = n.saturating_sub(3);
    let show = |v: &[&str]| {
        v.iter()
            .enumerate()
            .skip(from)
            .take(n - from + 4)
            .map(|(i, l)| format!("{:5} {l}\n", i + 1))
            .collect::<String>()
    };
    format!(
        "transcripts differ at line {}\n--- expected\n{}--- engine\n{}",
        n + 1,
        show(&e),
        show(&g)
    )
}

fn run_case(suite: &Path, script: &Path, expected: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(script).map_err(|e| format!("{}: {e}", script.display()))?;
    let want =
        std::fs::read_to_string(expected).map_err(|e| format!("{}: {e}", expected.display()))?;
    let world = scenario::load("bare").map_err(|e| e.to_string())?;
    let mut lab = Lab::new(world);
    let transcript = run_script(&mut lab, &text).map_err(|e| e.to_string())?;
    let got = normalize(suite, &transcript)?;
    if got == want {
        Ok(())
    } else {
        Err(first_difference(&want, &got).into())
    }
}

fn trials() -> Vec<Trial> {
    let mut out = vec![];
    for suite in ["conformance", "vm"] {
        let dir = suite_dir(suite);
        let mut scripts: Vec<PathBuf> = std::fs::read_dir(dir.join("scripts"))
            .unwrap_or_else(|e| panic!("{}/scripts: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "lab"))
            .collect();
        scripts.sort();
        for script in scripts {
            let name = script
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let expected = dir.join("expected").join(format!("{name}.txt"));
            let suite_dir = dir.clone();
            out.push(Trial::test(format!("{suite}/{name}"), move || {
                run_case(&suite_dir, &script, &expected)
            }));
        }
    }
    out
}

fn main() {
    let args = Arguments::from_args();
    let trials = trials();
    assert!(
        trials.len() > 100,
        "expected the suites' scripts under tests/, found {}",
        trials.len()
    );
    libtest_mimic::run(&args, trials).exit();
}
