//! Builds the browser app and embeds it, so `lvslab` is one self-contained file.
//!
//! 1. a nested `cargo build -p lvslab-web --target wasm32-unknown-unknown
//!    --profile wasm-release` into its own target directory (so it never
//!    fights the outer build for the lock);
//! 2. wasm-bindgen, used as a library at exactly the version the web crate
//!    pins (nothing is downloaded; no wasm-opt: Debian's breaks the module);
//! 3. an `assets.rs` in OUT_DIR that `include_bytes!`s the result and `static/`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Zopfli's optimisation passes per block (its CLI default is 15).
const ZOPFLI_ITERATIONS: u64 = 15;

fn main() {
    if let Err(e) = run() {
        // A build script's panic output is hard to read; print a plain error.
        eprintln!("\nerror: building the LVS Lab web app failed:\n  {e}\n");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest_dir
        .parent()
        .ok_or("native/ has no parent")?
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);

    for p in [
        "web/src",
        "web/Cargo.toml",
        "engine/src",
        "engine/Cargo.toml",
        "static",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    println!("cargo:rerun-if-env-changed=LVSLAB_WEB_PROFILE");
    println!("cargo:rerun-if-env-changed=LVSLAB_KEEP_NAMES");

    println!("cargo:rerun-if-env-changed=LVSLAB_WEB_PKG");
    // Developers only: reuse an already built web bundle (a directory with
    // lvslab_web.js and lvslab_web_bg.wasm) instead of building `web` —
    // for engine work while the web crate is mid-edit. Never set in CI.
    if let Ok(dir) = env::var("LVSLAB_WEB_PKG") {
        println!("cargo:warning=LVSLAB_WEB_PKG={dir}: embedding a prebuilt web bundle, not building web/");
        return write_assets(
            &root.join("static"),
            Path::new(&dir),
            &out_dir.join("assets.rs"),
        );
    }

    let nested_target = nested_target_dir(&out_dir, &root);
    let profile = env::var("LVSLAB_WEB_PROFILE").unwrap_or_else(|_| "wasm-release".into());
    ensure_wasm_target()?;
    build_web(&root, &nested_target, &profile)?;

    let wasm = nested_target
        .join(WASM_TARGET)
        .join(&profile)
        .join("lvslab_web.wasm");
    let pkg = out_dir.join("pkg");
    fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    // LVSLAB_KEEP_NAMES=1 (developers only): keep the function names, so a
    // browser profile of the app (e.g. the engine benchmark) is readable.
    let keep_names = env::var_os("LVSLAB_KEEP_NAMES").is_some();
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&wasm)
        .web(true)
        .map_err(|e| e.to_string())?
        .omit_default_module_path(false)
        .remove_name_section(!keep_names)
        .remove_producers_section(true)
        .typescript(false)
        .generate(&pkg)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", wasm.display()))?;

    write_assets(&root.join("static"), &pkg, &out_dir.join("assets.rs"))
}

/// `<target>/wasm-web`, next to the outer build's profile directories.
fn nested_target_dir(out_dir: &Path, root: &Path) -> PathBuf {
    // OUT_DIR = <target>[/<triple>]/<profile>/build/<pkg>-<hash>/out
    let mut p = out_dir;
    while let Some(parent) = p.parent() {
        if p.file_name().is_some_and(|n| n == "build") {
            if let Some(target) = parent.parent() {
                return target.join("wasm-web");
            }
        }
        p = parent;
    }
    root.join("target").join("wasm-web")
}

fn cargo_cmd() -> Command {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    // The outer build's settings must not leak into the wasm build.
    for (k, _) in env::vars_os() {
        let k = k.to_string_lossy().into_owned();
        let keep = k == "CARGO_HOME" || k == "CARGO_MAKEFLAGS" || k == "CARGO_NET_OFFLINE";
        let drop = (k.starts_with("CARGO") && !keep)
            || k.starts_with("RUSTC")
            || k == "RUSTFLAGS"
            || k == "RUSTDOCFLAGS"
            || k == "TARGET"
            || k == "HOST"
            || k == "OUT_DIR"
            || k == "PROFILE"
            || k == "OPT_LEVEL"
            || k == "DEBUG"
            || k == "NUM_JOBS";
        if drop {
            cmd.env_remove(&k);
        }
    }
    cmd
}

/// A fresh machine with rustup may lack the wasm target: add it once.
fn ensure_wasm_target() -> Result<(), String> {
    let sysroot = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("running rustc: {e}"))?;
    let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
    let lib = Path::new(&sysroot).join("lib/rustlib").join(WASM_TARGET);
    if lib.exists() {
        return Ok(());
    }
    println!("cargo:warning=installing the {WASM_TARGET} target with rustup (once)");
    let st = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .map_err(|e| format!("the {WASM_TARGET} target is missing and rustup could not be run ({e}); install it with: rustup target add {WASM_TARGET}"))?;
    if !st.success() {
        return Err(format!(
            "`rustup target add {WASM_TARGET}` failed; install the target and build again"
        ));
    }
    Ok(())
}

fn build_web(root: &Path, target_dir: &Path, profile: &str) -> Result<(), String> {
    let out = cargo_cmd()
        .current_dir(root)
        .args([
            "build",
            "-p",
            "lvslab-web",
            "--lib",
            "--target",
            WASM_TARGET,
            "--profile",
            profile,
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .map_err(|e| format!("running cargo for the web crate: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo build -p lvslab-web --target {WASM_TARGET} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn write_assets(static_dir: &Path, pkg: &Path, dest: &Path) -> Result<(), String> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut entries: Vec<_> = fs::read_dir(static_dir)
        .map_err(|e| format!("reading {}: {e}", static_dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        files.push((format!("/{}", e.file_name().to_string_lossy()), e.path()));
    }
    for name in ["lvslab_web.js", "lvslab_web_bg.wasm"] {
        let p = pkg.join(name);
        if !p.exists() {
            return Err(format!("wasm-bindgen did not produce {}", p.display()));
        }
        files.push((format!("/pkg/{name}"), p));
    }
    // Each asset is embedded twice: as is, and gzip-compressed once here
    // (Zopfli, see gzip_max), so the server never compresses at request time.
    let gz_dir = dest.parent().ok_or("OUT_DIR has no parent")?.join("gz");
    fs::create_dir_all(&gz_dir).map_err(|e| e.to_string())?;
    let mut src = String::from(
        "/// Every embedded asset: (URL path, bytes, gzip-compressed bytes).\npub static ASSETS: &[(&str, &[u8], &[u8])] = &[\n",
    );
    for (i, (url, path)) in files.into_iter().enumerate() {
        let raw = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        let gz = gzip_max(&raw).map_err(|e| format!("compressing {}: {e}", path.display()))?;
        let gz_path = gz_dir.join(format!("{i}.gz"));
        fs::write(&gz_path, gz).map_err(|e| format!("writing {}: {e}", gz_path.display()))?;
        src.push_str(&format!(
            "    ({url:?}, include_bytes!({:?}), include_bytes!({:?})),\n",
            path.display().to_string(),
            gz_path.display().to_string()
        ));
    }
    src.push_str("];\n");
    fs::write(dest, src).map_err(|e| format!("writing {}: {e}", dest.display()))
}

/// Gzip at the highest ratio we can get: Zopfli's exhaustive deflate search
/// writes a standard gzip stream (any browser inflates it) about 4 % smaller
/// than zlib's level 9. It is slow (seconds per MB), which a build can
/// afford and a request could not.
fn gzip_max(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = Vec::with_capacity(raw.len() / 3);
    let opts = zopfli::Options {
        iteration_count: std::num::NonZeroU64::new(ZOPFLI_ITERATIONS).expect("non-zero"),
        ..zopfli::Options::default()
    };
    zopfli::compress(opts, zopfli::Format::Gzip, raw, &mut gz)?;
    Ok(gz)
}
