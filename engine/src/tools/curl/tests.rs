//! The messages and forms below were read off the real curl 7.88.1
//! (Debian 12) on this machine.

use super::*;

fn p(line: &str) -> Result<Invocation, ArgError> {
    let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    parse(&args)
}

fn refused(line: &str) -> String {
    p(line).expect_err(line).to_string()
}

#[test]
fn option_errors_are_curls() {
    let try_line = "curl: try 'curl --help' or 'curl --manual' for more information\n";
    assert_eq!(
        refused("--foo"),
        format!("curl: option --foo: is unknown\n{try_line}")
    );
    assert_eq!(
        refused("--s"),
        format!("curl: option --s: is ambiguous\n{try_line}")
    );
    assert_eq!(
        refused("-m"),
        format!("curl: option -m: requires parameter\n{try_line}")
    );
    assert_eq!(
        refused("-sm"),
        format!("curl: option -sm: requires parameter\n{try_line}")
    );
    assert_eq!(
        refused("-m abc x"),
        format!("curl: option -m: expected a proper numerical parameter\n{try_line}")
    );
    assert_eq!(
        refused("-ms 3 x"),
        format!("curl: option -ms: expected a proper numerical parameter\n{try_line}")
    );
    assert_eq!(
        refused("-m -1 x"),
        format!("curl: option -m: expected a positive numerical parameter\n{try_line}")
    );
    assert_eq!(
        refused("-m 1e16 x"),
        format!("curl: option -m: too large number\n{try_line}")
    );
    assert_eq!(
        refused("--no-max-time 3 x"),
        format!(
            "curl: option --no-max-time: used '--no-' for option that isn't a boolean\n{try_line}"
        )
    );
    assert_eq!(
        refused("--no-sil"),
        format!("curl: option --no-sil: is unknown\n{try_line}")
    );
    assert_eq!(
        refused("--max-time=3 x"),
        format!("curl: option --max-time=3: is unknown\n{try_line}")
    );
    assert_eq!(
        refused("-W"),
        format!("curl: option -W: is unknown\n{try_line}")
    );
    assert_eq!(
        refused("-"),
        format!("curl: option -: is unknown\n{try_line}")
    );
    assert_eq!(
        refused("-s"),
        format!("curl: no URL specified!\n{try_line}")
    );
    assert_eq!(
        refused("--"),
        format!("curl: no URL specified!\n{try_line}")
    );
    assert_eq!(parse(&[]).expect_err("nothing").to_string(), try_line);
    assert_eq!(
        refused("--local-port 65536 x"),
        format!("curl: option --local-port: is badly used here\n{try_line}")
    );
    assert_eq!(
        refused("--local-port 5-3 x"),
        format!("curl: option --local-port: is badly used here\n{try_line}")
    );
    assert_eq!(
        refused("--local-port 20001- x"),
        format!("curl: option --local-port: is badly used here\n{try_line}")
    );
    assert_eq!(
        refused("--max-filesize abc x"),
        format!("Warning: invalid number specified for max-filesize\ncurl: option --max-filesize: is badly used here\n{try_line}")
    );
    assert_eq!(
        refused("--max-filesize 1.5k x"),
        format!("Warning: unsupported max-filesize unit. Use G, M, K or B!\ncurl: option --max-filesize: is badly used here\n{try_line}")
    );
    // -s earlier mutes the warning.
    assert_eq!(
        refused("-s --max-filesize abc x"),
        format!("curl: option --max-filesize: is badly used here\n{try_line}")
    );
}

#[test]
fn forms_curl_accepts() {
    let i = p("-sSfm3 http://192.168.150.100/").expect("cluster");
    assert!(i.silent && i.show_error && i.fail);
    assert_eq!(i.max_time, Some(3.0));
    let i =
        p("--sil --no-silent -o out -w %{http_code} --local-port 20001-20005 x").expect("prefix");
    assert!(!i.silent);
    assert_eq!(i.output.as_deref(), Some("out"));
    assert_eq!(
        i.local_port,
        Some(PortRange {
            first: 20001,
            count: 5
        })
    );
    assert_eq!(i.url, "x");
    assert_eq!(
        p("--max-filesize 1k x").expect("k").max_filesize,
        Some(1024)
    );
    assert_eq!(p("-m .5 x").expect(".5").max_time, Some(0.5));
    let i = p("-s -- -v").expect("--");
    assert!(!i.verbose);
    assert_eq!(i.url, "-v");
    // A real option the lab does not model parses (its parameter taken).
    let i = p("-x proxy:3128 -Z x").expect("not modelled");
    assert_eq!(i.not_modelled, vec!["-x/--proxy", "-Z/--parallel"]);
    assert_eq!(i.url, "x");
}

#[test]
fn urls() {
    let u = parse_url("192.168.150.100").expect("no scheme");
    assert_eq!(
        (u.host.as_str(), u.port, u.path.as_str(), u.telnet),
        ("192.168.150.100", 80, "/", false)
    );
    let u = parse_url("HTTP://1.2.3.4:8080/a?b").expect("upper");
    assert_eq!((u.port, u.path.as_str()), (8080, "/a?b"));
    assert_eq!(parse_url("1.2.3.4?x").expect("query").path, "/?x");
    assert_eq!(parse_url("http://1.2.3.4:/").expect("empty port").port, 80);
    assert_eq!(parse_url("telnet://1.2.3.4").expect("telnet").port, 23);
    assert_eq!(
        parse_url("http://").expect_err("empty").to_string(),
        "curl: (3) URL using bad/illegal format or missing URL"
    );
    assert_eq!(
        parse_url("http://1.2.3.4:99999/")
            .expect_err("port")
            .status(),
        3
    );
    assert_eq!(
        parse_url("htp://1.2.3.4/").expect_err("scheme").to_string(),
        "curl: (1) Protocol \"htp\" not supported or disabled in libcurl"
    );
}

#[test]
fn write_out_as_curl_writes_it() {
    let t = Transfer {
        exitcode: 7,
        method: "GET",
        ..Default::default()
    };
    let (chunks, nm) = write_out("\\t%{http_code}\\\\n %% %{ bad}\\n", &t);
    assert_eq!(nm, None);
    let text: String = chunks.iter().map(|c| c.1.as_str()).collect();
    // stderr first: the terminal's stdout holds the line until its newline.
    assert_eq!(
        text,
        "curl: unknown --write-out variable: ' bad'\n\t000\\\\n % \n"
    );
    assert!(chunks.iter().any(|c| c.0 && c.1.contains("unknown")));
    let (chunks, _) = write_out("%{stderr}E%{stdout}O", &t);
    assert_eq!(
        chunks,
        vec![(true, "E".to_string()), (false, "O".to_string())]
    );
    assert!(write_out("%{json}", &t).1.is_some());
}
