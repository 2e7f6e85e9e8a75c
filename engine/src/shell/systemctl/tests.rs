//! systemctl against systemd 252's documented formats (`print_status_info`
//! in src/systemctl/systemctl-show.c, the unit start/stop messages of
//! src/core/job.c and unit.c, `format_timestamp_relative()`), and the
//! messages systemctl 252 printed here for `enable`/`disable`/`is-enabled`
//! with `--root=` (the verbs that work without a running systemd).

use super::*;
use crate::shell::Lab;

fn lab() -> Lab {
    Lab::new(crate::sim::scenario::bare())
}

fn run(lab: &mut Lab, host: &str, line: &str) -> (String, i32) {
    let o = lab.run(host, line);
    (o.text, o.status)
}

#[test]
fn status_follows_start_and_stop() {
    let mut l = lab();
    let (t, s) = run(&mut l, "node02", "systemctl status httpd");
    assert_eq!(s, 3);
    assert_eq!(
        t,
        "○ httpd.service - The Apache HTTP Server\n\
         \x20    Loaded: loaded (/usr/lib/systemd/system/httpd.service; disabled; preset: disabled)\n\
         \x20    Active: inactive (dead)\n\
         \x20      Docs: man:httpd(8)\n\
         \x20            man:apachectl(8)\n"
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl is-active httpd"),
        ("inactive\n".into(), 3)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl start httpd"),
        (String::new(), 0)
    );
    run(&mut l, "node02", "sleep 5");
    let (t, s) = run(&mut l, "node02", "systemctl status httpd.service");
    assert_eq!(s, 0);
    let pid = l
        .world
        .host("node02")
        .and_then(|h| h.tcp.socks().values().find_map(|s| s.owner.clone()))
        .expect("httpd listens")
        .pid;
    assert_eq!(
        t,
        format!(
            "● httpd.service - The Apache HTTP Server\n\
             \x20    Loaded: loaded (/usr/lib/systemd/system/httpd.service; disabled; preset: disabled)\n\
             \x20    Active: active (running) since Fri 2021-03-12 09:00:00 UTC; 5s ago\n\
             \x20      Docs: man:httpd(8)\n\
             \x20            man:apachectl(8)\n\
             \x20  Main PID: {pid} (httpd)\n\
             \x20    CGroup: /system.slice/httpd.service\n\
             \x20            └─{pid} /usr/sbin/httpd -DFOREGROUND\n\
             \n\
             Mar 12 09:00:00 node02 systemd[1]: Starting httpd.service - The Apache HTTP Server...\n\
             Mar 12 09:00:00 node02 systemd[1]: Started httpd.service - The Apache HTTP Server.\n"
        )
    );
    // netstat -p and ss -p name the same pid.
    let (t, _) = run(&mut l, "node02", "netstat -natp");
    assert!(t.contains(&format!("{pid}/httpd")));
    let (t, _) = run(&mut l, "node02", "ss -tlnp");
    assert!(t.contains(&format!("users:((\"httpd\",pid={pid},fd=3))")));
    assert_eq!(
        run(&mut l, "node02", "systemctl is-active httpd"),
        ("active\n".into(), 0)
    );
    run(&mut l, "node02", "sleep 60");
    assert_eq!(
        run(&mut l, "node02", "systemctl stop httpd"),
        (String::new(), 0)
    );
    run(&mut l, "node02", "sleep 2");
    let (t, s) = run(&mut l, "node02", "systemctl status httpd");
    assert_eq!(s, 3);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "○ httpd.service - The Apache HTTP Server");
    assert_eq!(
        lines[2],
        "     Active: inactive (dead) since Fri 2021-03-12 09:01:05 UTC; 2s ago"
    );
    assert_eq!(lines[3], "   Duration: 1min 5.007s");
    assert_eq!(
        &lines[lines.len() - 3..],
        [
            "Mar 12 09:01:05 node02 systemd[1]: Stopping httpd.service - The Apache HTTP Server...",
            "Mar 12 09:01:05 node02 systemd[1]: httpd.service: Deactivated successfully.",
            "Mar 12 09:01:05 node02 systemd[1]: Stopped httpd.service - The Apache HTTP Server.",
        ]
    );
    assert!(!l.world.host("node02").unwrap().tcp.listening_on(80));
}

#[test]
fn service_and_systemctl_share_the_model() {
    let mut l = lab();
    let (t, _) = run(&mut l, "node03", "service httpd start");
    assert_eq!(t, "Redirecting to /bin/systemctl start httpd.service\n");
    assert_eq!(
        run(&mut l, "node03", "systemctl is-active httpd"),
        ("active\n".into(), 0)
    );
    let (t, s) = run(&mut l, "node03", "service httpd status");
    assert_eq!(s, 0);
    assert!(t.starts_with(
        "Redirecting to /bin/systemctl status httpd.service\n● httpd.service - The Apache HTTP Server\n"
    ));
    run(&mut l, "node03", "systemctl stop httpd");
    let (_, s) = run(&mut l, "node03", "service httpd status");
    assert_eq!(s, 3);
    // restart gives httpd a new pid.
    run(&mut l, "node03", "systemctl start httpd");
    let pid = |l: &Lab| super::running(l, "node03").map(|o| o.pid);
    let before = pid(&l);
    run(&mut l, "node03", "systemctl restart httpd");
    assert!(pid(&l).is_some() && pid(&l) != before);
}

#[test]
fn unknown_units_and_verbs() {
    let mut l = lab();
    assert_eq!(
        run(&mut l, "node02", "systemctl status foo"),
        ("Unit foo.service could not be found.\n".into(), 4)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl start foo"),
        (
            "Failed to start foo.service: Unit foo.service not found.\n".into(),
            5
        )
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl is-active foo"),
        ("inactive\n".into(), 3)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl frob httpd"),
        ("Unknown command verb frob.\n".into(), 1)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl start"),
        ("Too few arguments.\n".into(), 1)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl enable foo"),
        (
            "Failed to enable unit, unit foo.service does not exist.\n".into(),
            1
        )
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl is-enabled foo"),
        (
            "Failed to get unit file state for foo.service: No such file or directory\n".into(),
            1
        )
    );
}

#[test]
fn enable_and_disable_as_systemctl_252_prints_them() {
    let mut l = lab();
    assert_eq!(
        run(&mut l, "node02", "systemctl is-enabled httpd"),
        ("disabled\n".into(), 1)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl enable httpd"),
        ("Created symlink /etc/systemd/system/multi-user.target.wants/httpd.service → /usr/lib/systemd/system/httpd.service.\n".into(), 0)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl enable httpd"),
        (String::new(), 0)
    );
    assert_eq!(
        run(&mut l, "node02", "systemctl is-enabled httpd"),
        ("enabled\n".into(), 0)
    );
    let (t, _) = run(&mut l, "node02", "systemctl status httpd");
    assert!(t.contains("httpd.service; enabled; preset: disabled)"));
    assert_eq!(
        run(&mut l, "node02", "systemctl disable httpd"),
        (
            "Removed \"/etc/systemd/system/multi-user.target.wants/httpd.service\".\n".into(),
            0
        )
    );
    // Enabling does not start it.
    assert_eq!(run(&mut l, "node02", "systemctl is-active httpd").1, 3);
}

#[test]
fn relative_times_and_spans() {
    let s = |x: u64| SimTime(x * 1_000_000);
    assert_eq!(ago(s(0), s(0)), "now");
    assert_eq!(ago(s(0), s(5)), "5s ago");
    assert_eq!(ago(s(0), s(63)), "1min 3s ago");
    assert_eq!(ago(s(0), s(5 * 60 + 3)), "5min ago");
    assert_eq!(ago(s(0), s(3600 + 120)), "1h 2min ago");
    assert_eq!(ago(s(0), s(7 * 3600)), "7h ago");
    assert_eq!(ago(s(0), s(26 * 3600)), "1 day 2h ago");
    assert_eq!(ago(s(0), s(3 * 86_400)), "3 days ago");
    assert_eq!(ago(SimTime(0), SimTime(1_500)), "1ms ago");
    assert_eq!(timespan(65_003_000), "1min 5.003s");
    assert_eq!(timespan(3_000_000), "3s");
    assert_eq!(timespan(3_500_000), "3.5s");
    assert_eq!(timespan(2_000), "2ms");
    assert_eq!(timestamp(SimTime(0)), "Fri 2021-03-12 09:00:00 UTC");
}
