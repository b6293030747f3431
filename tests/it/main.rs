//! lvsc's integration tests, one binary: the CLI as a user runs it, golden files, and the
//! system tests against the real tools and kernels (run as root by scripts/test-all;
//! under `CI=true` a system test that cannot run fails instead of skipping).
//!
//! Data lives in plain files beside this folder: tests/syntax, tests/rules, tests/golden,
//! tests/plan, ...; snapshots of rendered diagnostics in tests/it/snapshots.

mod support;

mod ansible;
mod bgp_ecmp;
mod cli_lang;
mod codes;
mod crash_ipvs_qemu;
mod crash_run;
mod crash_xdp;
mod deb;
mod differential;
mod differential_qemu;
mod e2e_nftables;
mod editors;
mod examples;
mod explain;

mod export;
mod failover_qemu;
mod graph;
mod hardening;
mod hitless;
mod hitless_qemu;
mod host_files;
mod host_views;
mod hostile_input;
mod hostile_text;
mod import_keepalived;
mod import_keepalived_qemu;
mod ipvs_qemu;
mod lsp;
mod packaging;
mod plan;
mod rules;
mod run_ipvs_qemu;
mod run_nftables;
mod run_support;
mod run_xdp;
mod syntax_errors;
mod xdp;
mod xdp_attach;
mod xdp_image;
mod xdp_tunnel_qemu;
