//! Builds the XDP program (`../program`, Rust with aya-ebpf) for the BPF target
//! with the nightly toolchain and bpf-linker. Without them the crate still builds, with
//! an empty object that the loader refuses with a clear message, so that the rest of
//! lvsc builds anywhere.
//!
//! Not aya-build: it wants the program crate as a host build-dependency inside the
//! workspace, which would make `cargo clippy --workspace` and the tests compile no_std
//! BPF code for the host.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let program = dir.join("../program");
    let common = dir.join("../common");
    for p in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", program.join(p).display());
    }
    // The records and the hash the program shares with the loader.
    for p in ["src", "Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", common.join(p).display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let object = out.join("lb.o");
    match build(&program, &out.join("ebpf-target")) {
        Ok(built) => {
            std::fs::copy(&built, &object).expect("copy the XDP object");
        }
        Err(why) => {
            println!(
                "cargo:warning=the XDP program was not built ({why}); `lvsc apply --backend \
                 ebpf` will refuse to load. It needs the nightly toolchain with rust-src and \
                 bpf-linker (see scripts/test-all)."
            );
            std::fs::write(&object, []).expect("write an empty object");
        }
    }
}

/// The nightly toolchain to build with: `LVSC_BPF_TOOLCHAIN`, the machine's `nightly`, or
/// the pinned one scripts/test-all installs when there is none.
fn toolchain() -> Option<String> {
    let candidates = std::env::var("LVSC_BPF_TOOLCHAIN")
        .ok()
        .into_iter()
        .chain(["nightly".to_string(), "nightly-2026-05-20".to_string()]);
    for t in candidates {
        let ok = Command::new("rustup")
            .args(["run", &t, "rustc", "-V"])
            .env_remove("RUSTUP_TOOLCHAIN")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(t);
        }
    }
    None
}

fn build(program: &Path, target_dir: &Path) -> Result<PathBuf, String> {
    println!("cargo:rerun-if-env-changed=LVSC_BPF_TOOLCHAIN");
    let toolchain = toolchain().ok_or("no nightly toolchain")?;
    let mut cmd = Command::new("rustup");
    cmd.args(["run", &toolchain, "cargo", "build", "--release", "--locked"])
        .args(["-Z", "build-std=core", "--target", "bpfel-unknown-none"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(program);
    // The outer build's settings (its rustc, flags such as crt-static, its target
    // directory) must not leak into a build for another target and toolchain.
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if (k.starts_with("CARGO") && k != "CARGO_HOME")
            || k.starts_with("RUST") && k != "RUSTUP_HOME"
        {
            cmd.env_remove(&*k);
        }
    }
    let output = cmd.output().map_err(|e| format!("rustup: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let last: Vec<&str> = err.lines().rev().take(3).collect();
        return Err(last.into_iter().rev().collect::<Vec<_>>().join(" / "));
    }
    Ok(target_dir.join("bpfel-unknown-none/release/lvsc-xdp-program"))
}
