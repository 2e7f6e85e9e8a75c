//! `grep` (GNU grep 3.8, Debian 12): patterns in basic (default), extended
//! (`-E`) or fixed (`-F`) syntax ([`crate::tools::regex`]), read from the
//! files named (the lab's files, `/proc` and sysctls, as `cat` reads them)
//! or from standard input (`-`, or no file).
//!
//! We model the options the lab's users type: `-e -E -F -G -i -y -v -w -x
//! -c -l -L -o -q -s -m -n -h -H -A -B -C` and `-NUM`, with their long
//! forms, the `file:` prefixes when more than one file is read, the `--`
//! between context groups, the exit status (0 a line selected, 1 none, 2
//! an error, unless `-q` selected one) and GNU's messages. Options grep has
//! but the lab does not model (`-r`, `-f`, `-P`, `-z`, …) get a clear note.

use super::fs::{self, ReadError};
use super::{Io, Lab};
use crate::tools::libc::{getopt, Getopt, GetoptError};
use crate::tools::regex::{Regex, Syntax};

const USAGE: &str =
    "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n";

/// GNU grep's short options (`short_options` in grep.c): letters, `:`
/// after those that take a value, and the digits of `-NUM`.
const OPTSTRING: &str = "0123456789A:B:C:D:EFGHIPTUVZabcd:e:f:hiLlm:noqRrsuvwxyz";

/// Long options and the short option each stands for (`true`: takes a
/// value).
const LONG: &[(&str, char, bool)] = &[
    ("extended-regexp", 'E', false),
    ("fixed-strings", 'F', false),
    ("basic-regexp", 'G', false),
    ("perl-regexp", 'P', false),
    ("regexp", 'e', true),
    ("file", 'f', true),
    ("ignore-case", 'i', false),
    ("invert-match", 'v', false),
    ("word-regexp", 'w', false),
    ("line-regexp", 'x', false),
    ("count", 'c', false),
    ("files-with-matches", 'l', false),
    ("files-without-match", 'L', false),
    ("only-matching", 'o', false),
    ("quiet", 'q', false),
    ("silent", 'q', false),
    ("no-messages", 's', false),
    ("max-count", 'm', true),
    ("line-number", 'n', false),
    ("no-filename", 'h', false),
    ("with-filename", 'H', false),
    ("after-context", 'A', true),
    ("before-context", 'B', true),
    ("context", 'C', true),
    ("recursive", 'r', false),
    ("null-data", 'z', false),
];

#[derive(Debug, Default)]
struct Opts {
    patterns: Vec<String>,
    syntax: Option<Syntax>,
    fixed: bool,
    fold: bool,
    invert: bool,
    word: bool,
    line: bool,
    count: bool,
    files_with: bool,
    files_without: bool,
    only: bool,
    quiet: bool,
    no_messages: bool,
    max: Option<u64>,
    number: bool,
    filename: Option<bool>,
    after: usize,
    before: usize,
}

/// The long options rewritten as short ones, for [`getopt`].
fn expand_long(args: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            out.push(a.clone());
            out.extend(it.cloned());
            break;
        }
        let Some(long) = a.strip_prefix("--") else {
            out.push(a.clone());
            continue;
        };
        let (name, value) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (long, None),
        };
        if name == "color" || name == "colour" {
            continue; // the lab's terminal shows no colours
        }
        let Some(&(_, c, takes)) = LONG.iter().find(|(n, _, _)| *n == name) else {
            return Err(format!("grep: unrecognized option '{a}'"));
        };
        match (takes, value) {
            (false, Some(_)) => {
                return Err(format!("grep: option '--{name}' doesn't allow an argument"))
            }
            (false, None) => out.push(format!("-{c}")),
            (true, Some(v)) => out.push(format!("-{c}{v}")),
            (true, None) => match it.next() {
                Some(v) => out.push(format!("-{c}{v}")),
                None => return Err(format!("grep: option '--{name}' requires an argument")),
            },
        }
    }
    Ok(out)
}

/// A context length (`-A`, `-B`, `-C`).
fn context(v: &str) -> Result<usize, String> {
    v.parse::<u64>()
        .map(|n| n.min(usize::MAX as u64) as usize)
        .map_err(|_| format!("grep: {v}: invalid context length argument"))
}

/// A command-line error: the message, and whether grep's usage lines
/// follow it.
struct CliError(String, bool);

impl From<String> for CliError {
    fn from(s: String) -> CliError {
        CliError(s, false)
    }
}

fn parse(args: &[String]) -> Result<(Opts, Vec<String>), CliError> {
    let expanded = expand_long(args).map_err(|e| CliError(e, true))?;
    let Getopt { opts, operands } = getopt(&expanded, OPTSTRING).map_err(|e| {
        let m = match e {
            GetoptError::Invalid(c) => format!("grep: invalid option -- '{c}'"),
            GetoptError::MissingArgument(c) => {
                format!("grep: option requires an argument -- '{c}'")
            }
        };
        CliError(m, true)
    })?;
    let mut o = Opts::default();
    let mut digits: Option<String> = None;
    for (c, v) in opts {
        let v = v.unwrap_or("");
        if c.is_ascii_digit() {
            let d = digits.get_or_insert_with(String::new);
            d.push(c);
            let n = context(d)?;
            (o.after, o.before) = (n, n);
            continue;
        }
        digits = None;
        match c {
            'E' => o.syntax = Some(Syntax::Extended),
            'G' => o.syntax = Some(Syntax::Basic),
            'F' => o.fixed = true,
            'e' => o.patterns.push(v.to_string()),
            'i' | 'y' => o.fold = true,
            'v' => o.invert = true,
            'w' => o.word = true,
            'x' => o.line = true,
            'c' => o.count = true,
            'l' => o.files_with = true,
            'L' => o.files_without = true,
            'o' => o.only = true,
            'q' => o.quiet = true,
            's' => o.no_messages = true,
            'n' => o.number = true,
            'h' => o.filename = Some(false),
            'H' => o.filename = Some(true),
            'm' => {
                o.max = Some(
                    v.parse::<i64>()
                        .map_err(|_| "grep: invalid max count".to_string())?
                        .max(-1) as u64,
                )
            }
            'A' => o.after = context(v)?,
            'B' => o.before = context(v)?,
            'C' => (o.after, o.before) = (context(v)?, context(v)?),
            other => {
                return Err(format!("lvslab: grep -{other} is not modelled in this lab").into())
            }
        }
    }
    let mut files: Vec<String> = operands.iter().map(|s| s.to_string()).collect();
    if o.patterns.is_empty() {
        if files.is_empty() {
            return Err(CliError(String::new(), true));
        }
        o.patterns.push(files.remove(0));
    }
    Ok((o, files))
}

/// One pattern compiled, with what `-w` and `-x` ask of a match.
struct Matcher {
    res: Vec<Regex>,
    word: bool,
    line: bool,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The longest line `-o` and `-w` look at start by start (each start
/// costs a pass over the rest of the line); far above any line a lab
/// prints, and a bound on the work a pasted line can cause.
const PER_START_MAX: usize = 16 * 1024;

impl Matcher {
    /// Whether the line is selected (before `-v`).
    fn selects(&self, line: &str) -> bool {
        if self.line {
            let n = line.len();
            return self.res.iter().any(|r| r.ends_from(line, 0).contains(&n));
        }
        if self.word {
            return !self.matches(line, false).is_empty();
        }
        self.res.iter().any(|r| r.is_match(line))
    }

    /// The matches of one line, leftmost-longest and not overlapping (what
    /// `-o` prints); only the first unless `all`. Lines longer than
    /// [`PER_START_MAX`] give none.
    fn matches(&self, line: &str, all: bool) -> Vec<(usize, usize)> {
        let b = line.as_bytes();
        if b.len() > PER_START_MAX {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut s = 0;
        while s <= b.len() {
            let mut best: Option<usize> = None;
            for r in &self.res {
                for e in r.ends_from(line, s) {
                    let ok = if self.line {
                        s == 0 && e == b.len()
                    } else if self.word {
                        e > s && (s == 0 || !is_word(b[s - 1])) && (e == b.len() || !is_word(b[e]))
                    } else {
                        true
                    };
                    if ok && best.is_none_or(|x| e > x) {
                        best = Some(e);
                    }
                }
            }
            match best {
                Some(e) if e > s || !all => {
                    out.push((s, e));
                    if !all {
                        return out;
                    }
                    s = e;
                }
                _ => s += 1,
            }
        }
        out
    }
}

/// `grep`. `input` is the pipe's data, if any.
pub fn grep(lab: &Lab, host: &str, args: &[String], input: Option<String>, io: &mut Io) {
    let (o, files) = match parse(args) {
        Ok(v) => v,
        Err(CliError(msg, usage)) => {
            if !msg.is_empty() {
                io.errln(msg);
            }
            if usage {
                io.err(USAGE);
            }
            io.status = 2;
            return;
        }
    };
    let syntax = o.syntax.unwrap_or(Syntax::Basic);
    let mut res = Vec::new();
    // Each -e, and each line of one, is a pattern of its own.
    for p in o.patterns.iter().flat_map(|p| p.split('\n')) {
        if o.fixed {
            res.push(Regex::literal(p, o.fold));
            continue;
        }
        match Regex::new(p, syntax, o.fold) {
            Ok(r) => {
                if let Some(w) = &r.warning {
                    io.errln(format!("grep: warning: {w}"));
                }
                res.push(r);
            }
            Err(e) => {
                io.errln(format!("grep: {e}"));
                io.status = 2;
                return;
            }
        }
    }
    let m = Matcher {
        res,
        word: o.word,
        line: o.line,
    };
    let files = if files.is_empty() {
        vec!["-".to_string()]
    } else {
        files
    };
    let prefix = o.filename.unwrap_or(files.len() > 1);
    let mut selected_any = false;
    let mut error = false;
    let mut stdin = input;
    for f in &files {
        let (name, text) = if f == "-" {
            (
                "(standard input)".to_string(),
                stdin.take().unwrap_or_default(),
            )
        } else {
            match fs::read(lab, host, f) {
                Ok(t) => (f.clone(), t),
                Err(e) => {
                    if !o.no_messages {
                        let why = match e {
                            ReadError::IsDir => "Is a directory",
                            ReadError::Missing => "No such file or directory",
                        };
                        io.errln(format!("grep: {f}: {why}"));
                    }
                    error = true;
                    continue;
                }
            }
        };
        let n = grep_one(&o, &m, &name, prefix, &text, io);
        if n > 0 {
            selected_any = true;
            if o.quiet {
                break;
            }
        }
    }
    io.status = if o.quiet && selected_any {
        0
    } else if error {
        2
    } else {
        i32::from(!selected_any)
    };
}

/// One file: prints what the options ask, returns how many lines were
/// selected.
fn grep_one(o: &Opts, m: &Matcher, name: &str, prefix: bool, text: &str, io: &mut Io) -> u64 {
    let lines: Vec<&str> = text.lines().collect();
    let mut count = 0u64;
    let mut last_printed: Option<usize> = None;
    let mut pending_after = 0usize;
    let limit = o.max.unwrap_or(u64::MAX);
    let list_only = o.quiet || o.count || o.files_with || o.files_without;
    let mut out = String::new();
    let head = |out: &mut String, i: usize, sep: char| {
        if prefix {
            out.push_str(name);
            out.push(sep);
        }
        if o.number {
            out.push_str(&(i + 1).to_string());
            out.push(sep);
        }
    };
    for (i, line) in lines.iter().enumerate() {
        // Past -m's last selected line only its trailing context prints.
        let done = count >= limit;
        if done && (pending_after == 0 || list_only) {
            break;
        }
        if !done && (o.only || o.word) && line.len() > PER_START_MAX {
            io.errln(format!(
                "lvslab: grep -o and -w look at lines of at most {PER_START_MAX} bytes in this lab; line {} has {}",
                i + 1,
                line.len()
            ));
        }
        if done || m.selects(line) == o.invert {
            if pending_after > 0 && !list_only {
                head(&mut out, i, '-');
                out.push_str(line);
                out.push('\n');
                last_printed = Some(i);
                pending_after -= 1;
            }
            continue;
        }
        count += 1;
        if list_only {
            continue;
        }
        let first = i.saturating_sub(o.before);
        let from = last_printed.map_or(first, |l| first.max(l + 1));
        if (o.before > 0 || o.after > 0) && last_printed.is_some_and(|l| from > l + 1) {
            out.push_str("--\n");
        }
        for (j, l) in lines.iter().enumerate().take(i).skip(from) {
            head(&mut out, j, '-');
            out.push_str(l);
            out.push('\n');
        }
        if o.only && !o.invert {
            for (s, e) in m.matches(line, true) {
                head(&mut out, i, ':');
                out.push_str(&line[s..e]);
                out.push('\n');
            }
        } else if !o.only {
            head(&mut out, i, ':');
            out.push_str(line);
            out.push('\n');
        }
        last_printed = Some(i);
        pending_after = o.after;
    }
    if o.quiet {
        return count;
    }
    if o.count {
        if prefix {
            out.push_str(name);
            out.push(':');
        }
        out.push_str(&count.to_string());
        out.push('\n');
    }
    if (o.files_with && count > 0) || (o.files_without && count == 0) {
        out.push_str(name);
        out.push('\n');
    }
    io.out(out);
    count
}
