//! IPVS against a real kernel: Debian's cloud kernel booted under QEMU (scripts/qemu-rig).
//! One boot runs every case, each in its own network namespace (IPVS tables are per
//! namespace); `ipvsadm -Sn` in the guest is the oracle.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::support::{Guest, examples, system_test_can_run};

const IP: &str = "/usr/sbin/ip";

/// Shell that gives namespace `ns` the director's interfaces and addresses.
fn director_setup(out: &mut String, ns: &str, cluster: &lvsc_compiler::Cluster, host: &str) {
    let d = cluster
        .balancer
        .directors
        .iter()
        .find(|d| d.name == host)
        .unwrap();
    let _ = writeln!(out, "{IP} netns add {ns}; {IP} -n {ns} link set lo up");
    let mut first = None;
    for a in &d.addresses {
        let i = &a.interface;
        let _ = writeln!(
            out,
            "{IP} -n {ns} link show {i} >/dev/null 2>&1 || {{ {IP} -n {ns} link add {i} type veth peer name {i}p; {IP} -n {ns} link set {i}p up; }}"
        );
        let _ = writeln!(
            out,
            "{IP} -n {ns} link set {i} up; {IP} -n {ns} addr add {}/{} dev {i} nodad 2>/dev/null || {IP} -n {ns} addr add {}/{} dev {i}",
            a.addr, a.prefix, a.addr, a.prefix
        );
        first.get_or_insert(i.clone());
    }
    // Reals on other networks (TUN) are reached through a default route.
    if let Some(i) = first {
        let _ = writeln!(
            out,
            "{IP} -n {ns} route add default dev {i} 2>/dev/null; {IP} -n {ns} -6 route add default dev {i} 2>/dev/null"
        );
    }
}

fn lvsc_in(out: &mut String, ns: &str, tag: &str, args: &str) {
    let _ = writeln!(
        out,
        "echo '@@BEGIN {tag}'; {IP} netns exec {ns} /test/lvsc {args} 2>&1; echo \"@@EXIT $?\"; echo '@@END'"
    );
}

fn rules_of(out: &mut String, ns: &str, tag: &str) {
    let _ = writeln!(
        out,
        "echo '@@BEGIN {tag}'; {IP} netns exec {ns} ipvsadm -Sn; echo \"@@EXIT $?\"; echo '@@END'"
    );
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn ipvs_in_a_real_kernel() {
    if !system_test_can_run(
        "IPVS in QEMU",
        &["qemu-system-x86_64", "cpio", "depmod", "ipvsadm", "apt-get"],
    ) {
        return;
    }
    let guest = Guest::new("qemu");
    let dir = guest.dir.clone();

    let mut script = String::from("IP=/usr/sbin/ip\n");
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut vips: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();
    let mut n = 0;
    for ex in examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        let cluster = lvsc_compiler::compile_source(&text).cluster.unwrap();
        let name = Path::new(&ex)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        std::fs::copy(&ex, dir.join(&name)).unwrap();
        // Directors on another data plane have tests of their own (run_xdp, run_nftables).
        for d in lvsc_compiler::views(&cluster)
            .directors
            .into_iter()
            .filter(|d| d.dataplane == lvsc_compiler::ir::Dataplane::Ipvs)
        {
            n += 1;
            let ns = format!("c{n}");
            let tag = format!("{name}/{}", d.name);
            expected.insert(
                tag.clone(),
                lvsc_ipvs::ipvsadm::write_rules(&lvsc_ipvs::desired(&d.services)),
            );
            director_setup(&mut script, &ns, &cluster, &d.name);
            lvsc_in(
                &mut script,
                &ns,
                &format!("apply {tag}"),
                &format!("apply /test/{name} --host {}", d.name),
            );
            rules_of(&mut script, &ns, &format!("rules {tag}"));
            lvsc_in(
                &mut script,
                &ns,
                &format!("plan {tag}"),
                &format!("plan /test/{name} --host {}", d.name),
            );
            lvsc_in(
                &mut script,
                &ns,
                &format!("reapply {tag}"),
                &format!("apply /test/{name} --host {}", d.name),
            );
            let _ = writeln!(
                script,
                "echo '@@BEGIN addrs {tag}'; $IP -n {ns} -o addr show; echo \"@@EXIT $?\"; echo '@@END'"
            );
            let floating = d
                .floating
                .iter()
                .map(|a| a.addr.to_string())
                .collect::<Vec<_>>();
            vips.insert(tag.clone(), (d.vrrp.is_some(), floating));
        }
    }

    // One weight edited: exactly one netlink request.
    let web = std::fs::read_to_string("examples/web-dr.lvs").unwrap();
    let cluster = lvsc_compiler::compile_source(&web).cluster.unwrap();
    std::fs::write(
        dir.join("weight.lvs"),
        web.replace(
            "real rs1 192.0.2.21 weight 3",
            "real rs1 192.0.2.21 weight 2",
        ),
    )
    .unwrap();
    director_setup(&mut script, "w", &cluster, "lb1");
    lvsc_in(
        &mut script,
        "w",
        "weight base",
        "apply /test/web-dr.lvs --host lb1",
    );
    lvsc_in(
        &mut script,
        "w",
        "weight plan",
        "plan /test/weight.lvs --host lb1",
    );
    lvsc_in(
        &mut script,
        "w",
        "weight apply",
        "apply /test/weight.lvs --host lb1",
    );
    rules_of(&mut script, "w", "weight rules");

    // A removed service: only it goes.
    let dns = std::fs::read_to_string("examples/dns-udp.lvs").unwrap();
    let dns_cluster = lvsc_compiler::compile_source(&dns).cluster.unwrap();
    let cut = dns.find("service dns-tcp").unwrap();
    std::fs::write(
        dir.join("one-service.lvs"),
        dns[..cut].trim_end().to_string() + "\n",
    )
    .unwrap();
    director_setup(&mut script, "r", &dns_cluster, "ns-lb1");
    lvsc_in(
        &mut script,
        "r",
        "remove base",
        "apply /test/dns-udp.lvs --host ns-lb1",
    );
    rules_of(&mut script, "r", "remove before");
    lvsc_in(
        &mut script,
        "r",
        "remove apply",
        "apply /test/one-service.lvs --host ns-lb1",
    );
    rules_of(&mut script, "r", "remove after");

    // A refused step (a scheduler module the kernel cannot load): a clear error and a
    // truthful plan afterwards; with --atomic, nothing stays behind.
    let refused = std::fs::read_to_string("tests/ipvs/refused.lvs").unwrap();
    let refused_cluster = lvsc_compiler::compile_source(&refused).cluster.unwrap();
    std::fs::write(dir.join("refused.lvs"), &refused).unwrap();
    director_setup(&mut script, "x", &refused_cluster, "lb1");
    lvsc_in(&mut script, "x", "refused apply", "apply /test/refused.lvs");
    rules_of(&mut script, "x", "refused rules");
    lvsc_in(&mut script, "x", "refused plan", "plan /test/refused.lvs");
    director_setup(&mut script, "y", &refused_cluster, "lb1");
    lvsc_in(
        &mut script,
        "y",
        "atomic apply",
        "apply /test/refused.lvs --atomic",
    );
    rules_of(&mut script, "y", "atomic rules");

    // Import the table of a director and apply the result to a fresh namespace.
    let _ = writeln!(
        script,
        "echo '@@BEGIN import'; $IP netns exec w ipvsadm -Sn | /test/lvsc import ipvsadm > /test/imported.lvs; echo \"@@EXIT $?\"; echo '@@END'"
    );
    director_setup(&mut script, "i", &cluster, "lb1");
    lvsc_in(&mut script, "i", "import apply", "apply /test/imported.lvs");
    rules_of(&mut script, "i", "import rules");

    std::fs::write(dir.join("run.sh"), &script).unwrap();
    let out = guest.boot();
    let get = |tag: &str| out.get(tag);

    for (tag, want) in &expected {
        let (out, code) = get(&format!("apply {tag}"));
        assert_eq!(code, 0, "{tag}: apply failed:\n{out}");
        let (rules, _) = get(&format!("rules {tag}"));
        // ipvsadm -Sn does not print thresholds (-x/-y) although the kernel keeps them;
        // the empty second plan below shows they were set and read back.
        let want: String = want
            .lines()
            .map(|l| l.split(" -x ").next().unwrap().to_string() + "\n")
            .collect();
        assert_eq!(
            sorted_lines(&rules),
            sorted_lines(&want),
            "{tag}: ipvsadm -Sn differs from the expected table"
        );
        let (plan, code) = get(&format!("plan {tag}"));
        assert_eq!(code, 0, "{tag}: a second plan is not empty:\n{plan}");
        let (again, code) = get(&format!("reapply {tag}"));
        assert!(
            code == 0 && again.contains("nothing sent"),
            "{tag}: a second apply sent something:\n{again}"
        );
    }

    // Without VRRP the director holds its VIPs (added over rtnetlink); with VRRP,
    // keepalived does, on the master only.
    let mut held = 0;
    for (tag, (vrrp, addrs)) in &vips {
        let shown = get(&format!("addrs {tag}")).0;
        for a in addrs {
            let has = shown.contains(&format!(" {a}/"));
            assert_eq!(
                has, !vrrp,
                "{tag}: VIP {a} held = {has}, VRRP = {vrrp}:\n{shown}"
            );
            held += usize::from(has);
        }
    }
    assert!(held > 0, "no example without VRRP");

    let (plan, code) = get("weight plan");
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("1 step")
            && plan.contains("~ real -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 2"),
        "{plan}"
    );
    let (applied, _) = get("weight apply");
    assert!(
        applied.contains("1 change applied (1 netlink request)"),
        "{applied}"
    );
    assert!(
        get("weight rules")
            .0
            .contains("-a -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 2")
    );

    let before = sorted_lines(&get("remove before").0);
    let after = sorted_lines(&get("remove after").0);
    let kept: Vec<String> = before
        .iter()
        .filter(|l| !l.contains("-t 192.0.2.53:53"))
        .cloned()
        .collect();
    assert_eq!(after, kept, "removing dns-tcp changed more than dns-tcp");
    assert!(before.len() > after.len());

    let (err, code) = get("refused apply");
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("refused")
            && err.contains("ovf")
            && err.contains("applied (")
            && err.contains("not applied ("),
        "{err}"
    );
    let rules = get("refused rules").0;
    assert!(
        rules.contains("-A -t 192.0.2.100:80 -s wlc") && !rules.contains("192.0.2.101"),
        "{rules}"
    );
    let (plan, code) = get("refused plan");
    assert_eq!(code, 2);
    assert!(
        plan.contains("+ service -t 192.0.2.101:80 -s ovf") && !plan.contains("192.0.2.100"),
        "the plan must show exactly what is missing:\n{plan}"
    );
    let (err, code) = get("atomic apply");
    assert_eq!(code, 1);
    assert!(err.contains("rolled back"), "{err}");
    assert!(
        get("atomic rules").0.lines().all(|l| l.trim().is_empty()),
        "--atomic left something behind"
    );

    assert_eq!(get("import").1, 0);
    assert_eq!(get("import apply").1, 0, "{}", get("import apply").0);
    assert_eq!(
        sorted_lines(&get("import rules").0),
        sorted_lines(&get("weight rules").0),
        "import did not re-apply to the same table"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
