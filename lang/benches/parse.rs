//! Parsing and formatting a generated 10,000-service cluster.
//!
//! Run: `cargo bench -p lvsc-lang --bench parse`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A cluster of `services` services, each with its own pool of `reals` reals.
fn cluster(services: usize, reals: usize) -> String {
    let mut s = String::from(
        "cluster big\n\nbalancer {\n  director lb1 10.0.0.2/8 on eth0 priority 150\n}\n",
    );
    for i in 0..services {
        let (a, b) = (i / 250, i % 250 + 1);
        s.push_str(&format!(
            "\npool p{i} {{\n  port 80\n  check tcp every 5s timeout 2s\n"
        ));
        for r in 0..reals {
            s.push_str(&format!(
                "  real r{i}-{r} 10.{}.{a}.{b} weight {}\n",
                100 + r,
                r % 5 + 1
            ));
        }
        s.push_str(&format!(
            "}}\n\nservice s{i} {{\n  vip 172.16.{a}.{b}:80/tcp\n  forward dr\n  scheduler wlc\n  pool p{i}\n}}\n"
        ));
    }
    s
}

fn parse(c: &mut Criterion) {
    let text = cluster(10_000, 16);
    let mut g = c.benchmark_group("10k-services-x16");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse", |b| b.iter(|| lvsc_lang::parse(&text)));
    g.bench_function("format", |b| b.iter(|| lvsc_lang::format(&text).unwrap()));
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
