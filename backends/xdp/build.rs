//! Compiles the XDP program (bpf/lb.c) with clang. Without clang the crate still builds,
//! with an empty object that the loader refuses with a clear message, so that the rest
//! of lvsc builds anywhere.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=bpf/lb.c");
    println!("cargo:rerun-if-env-changed=CLANG");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("lb.o");
    // asm/types.h lives under the host's multiarch directory.
    let triple = Command::new("gcc")
        .arg("-dumpmachine")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "x86_64-linux-gnu".into());
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let status = Command::new(&clang)
        .args(["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"])
        .arg(format!("-I/usr/include/{triple}"))
        .args(["-c", "bpf/lb.c", "-o"])
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => println!("cargo:rustc-cfg=lvsc_xdp_built"),
        other => {
            println!(
                "cargo:warning={clang} could not build bpf/lb.c ({other:?}); `lvsc apply --backend ebpf` \
                 will refuse to load. Install clang, llvm and libbpf-dev, then rebuild."
            );
            std::fs::write(&out, []).expect("write an empty object");
        }
    }
    println!("cargo:rustc-check-cfg=cfg(lvsc_xdp_built)");
}
