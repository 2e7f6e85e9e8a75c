//! POSIX regular expressions as GNU grep 3.8 reads them (glibc's and
//! gnulib's `regcomp()`): basic (BRE, grep's default) and extended (ERE,
//! `grep -E`) syntax.
//!
//! We model: literals and `\` escapes, `.`, bracket expressions (ranges,
//! `^` negation, `]` first, the classes `[:alpha:]` … `[:xdigit:]`),
//! anchors (`^` and `$`; in a BRE only at the start and end of the pattern
//! or of a group, elsewhere they are literal), repetition (`*`; ERE `+ ? {m,n}`,
//! BRE `\+ \? \{m,n\}`; a `*` with nothing before it is literal), groups
//! (ERE `( )`, BRE `\( \)`) and alternation (ERE `|`, BRE `\|`, GNU's
//! extension), GNU's `\w \W \s \S`, and case folding (ASCII, `-i`).
//! Departures: back-references (`\1`) and the word anchors `\< \> \b \B`
//! are refused with an error instead of being matched; text is matched as
//! bytes, so a multibyte character counts as several for `.`.
//!
//! Matching computes, for a start position, every position where a match
//! can end (a set, not backtracking), so it is polynomial in the line's
//! length whatever the pattern: a student's pattern cannot hang the lab.

/// Positions in the text, ascending and without repeats. (A sorted
/// vector: a `BTreeSet` would add its own copy of the B-tree code to the
/// browser app.)
type Positions = Vec<usize>;

/// `a ∪ b`, sorted.
fn union(mut a: Positions, b: &[usize]) -> Positions {
    a.extend_from_slice(b);
    a.sort_unstable();
    a.dedup();
    a
}

/// The syntax a pattern is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Basic,
    Extended,
}

/// Why a pattern was refused: GNU grep's message after `grep: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    #[error("Unmatched [, [^, [:, [., or [=")]
    UnmatchedBracket,
    #[error("Unmatched ( or \\(")]
    UnmatchedOpen,
    #[error("Unmatched ) or \\)")]
    UnmatchedClose,
    #[error("Unmatched \\{{")]
    UnmatchedBrace,
    #[error("Invalid content of \\{{\\}}")]
    InvalidInterval,
    #[error("Invalid range end")]
    InvalidRange,
    #[error("character class syntax is [[:space:]], not [:space:]")]
    ClassSyntax,
    #[error("Invalid character class name")]
    InvalidClass,
    #[error("Trailing backslash")]
    TrailingBackslash,
    /// Not a GNU message: what the lab does not model.
    #[error("{0} is not modelled in this lab")]
    Unsupported(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Byte(u8),
    Any,
    /// 256 bits: which bytes match.
    Set(Box<[bool; 256]>),
    Start,
    End,
    Group(Box<Node>),
    Alt(Vec<Node>),
    Seq(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regex {
    node: Node,
    fold: bool,
    /// What GNU grep warns about the pattern (`* at start of expression`).
    pub warning: Option<String>,
}

struct Parser<'a> {
    p: &'a [u8],
    i: usize,
    syntax: Syntax,
    depth: usize,
    warning: Option<String>,
    /// The last interval was well formed but its bounds are out of order.
    bad_order: bool,
}

/// The most a `{m,n}` may count (RE_DUP_MAX).
const DUP_MAX: u32 = 0x7fff;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.p.get(self.i).copied()
    }

    fn ere(&self) -> bool {
        self.syntax == Syntax::Extended
    }

    /// At `|` (ERE) or `\|` (BRE).
    fn at_alt(&self) -> bool {
        match self.syntax {
            Syntax::Extended => self.peek() == Some(b'|'),
            Syntax::Basic => self.p[self.i..].starts_with(b"\\|"),
        }
    }

    /// At `)` (ERE, inside a group) or `\)` (BRE).
    fn at_close(&self) -> bool {
        match self.syntax {
            Syntax::Extended => self.depth > 0 && self.peek() == Some(b')'),
            Syntax::Basic => self.p[self.i..].starts_with(b"\\)"),
        }
    }

    fn alt(&mut self) -> Result<Node, RegexError> {
        let mut branches = vec![self.seq()?];
        while self.at_alt() {
            self.i += if self.ere() { 1 } else { 2 };
            branches.push(self.seq()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Seq(Vec::new()))
        } else {
            Node::Alt(branches)
        })
    }

    fn seq(&mut self) -> Result<Node, RegexError> {
        let mut items: Vec<Node> = Vec::new();
        let branch_start = self.i;
        while self.i < self.p.len() && !self.at_alt() && !self.at_close() {
            let at_start = self.i == branch_start;
            // GNU grep -E: a repetition with nothing before it is dropped,
            // with a warning.
            if self.ere() && at_start {
                if let Some(c @ (b'*' | b'+' | b'?')) = self.peek() {
                    self.warning = Some(format!("{} at start of expression", c as char));
                    self.i += 1;
                    continue;
                }
            }
            let atom = self.atom(at_start)?;
            let atom = self.repeats(atom, items.is_empty() && at_start)?;
            items.push(atom);
        }
        Ok(Node::Seq(items))
    }

    /// Repetition operators after an atom.
    fn repeats(&mut self, mut atom: Node, _first: bool) -> Result<Node, RegexError> {
        loop {
            let (min, max, len) = match (self.syntax, self.peek()) {
                (_, Some(b'*')) => (0, None, 1),
                (Syntax::Extended, Some(b'+')) => (1, None, 1),
                (Syntax::Extended, Some(b'?')) => (0, Some(1), 1),
                (Syntax::Extended, Some(b'{')) => {
                    // An ERE `{` that does not start an interval is literal.
                    let save = self.i;
                    self.i += 1;
                    match self.interval(b"}") {
                        Ok((a, b)) => atom = Node::Repeat(Box::new(atom), a, b),
                        Err(RegexError::InvalidInterval) if self.bad_order => {
                            return Err(RegexError::InvalidInterval)
                        }
                        Err(_) => {
                            self.i = save;
                            return Ok(atom);
                        }
                    }
                    continue;
                }
                (Syntax::Basic, Some(b'\\')) => match self.p.get(self.i + 1) {
                    Some(b'+') => (1, None, 2),
                    Some(b'?') => (0, Some(1), 2),
                    Some(b'{') => {
                        self.i += 2;
                        let (a, b) = self.interval(b"\\}")?;
                        atom = Node::Repeat(Box::new(atom), a, b);
                        continue;
                    }
                    _ => return Ok(atom),
                },
                _ => return Ok(atom),
            };
            self.i += len;
            atom = Node::Repeat(Box::new(atom), min, max);
        }
    }

    /// `m`, `m,`, `,n` or `m,n` up to the closing `}` / `\}`.
    fn interval(&mut self, close: &[u8]) -> Result<(u32, Option<u32>), RegexError> {
        self.bad_order = false;
        let num = |s: &mut Self| -> Option<u32> {
            let from = s.i;
            while s.peek().is_some_and(|c| c.is_ascii_digit()) {
                s.i += 1;
            }
            (s.i > from).then(|| {
                std::str::from_utf8(&s.p[from..s.i])
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(u32::MAX)
            })
        };
        let a = num(self);
        let b = if self.peek() == Some(b',') {
            self.i += 1;
            num(self)
        } else if self.i >= self.p.len() {
            return Err(RegexError::UnmatchedBrace);
        } else {
            Some(a.ok_or(RegexError::InvalidInterval)?)
        };
        if !self.p[self.i..].starts_with(close) {
            return Err(if self.i >= self.p.len() {
                RegexError::UnmatchedBrace
            } else {
                RegexError::InvalidInterval
            });
        }
        self.i += close.len();
        let a = a.unwrap_or(0);
        if a > DUP_MAX || b.is_some_and(|b| b > DUP_MAX || b < a) {
            self.bad_order = true;
            return Err(RegexError::InvalidInterval);
        }
        Ok((a, b))
    }

    fn atom(&mut self, at_start: bool) -> Result<Node, RegexError> {
        let c = self.p[self.i];
        self.i += 1;
        let ere = self.ere();
        Ok(match c {
            b'.' => Node::Any,
            b'[' => self.bracket()?,
            b'^' if ere || at_start => Node::Start,
            b'$' if ere || self.i == self.p.len() || self.at_alt() || self.at_close() => Node::End,
            b'*' if at_start => Node::Byte(b'*'),
            b'(' if ere => self.group()?,
            b')' if ere => Node::Byte(b')'),
            b'\\' => {
                let Some(e) = self.peek() else {
                    return Err(RegexError::TrailingBackslash);
                };
                self.i += 1;
                match e {
                    b'(' if !ere => self.group()?,
                    b')' if !ere => return Err(RegexError::UnmatchedClose),
                    b'1'..=b'9' => return Err(RegexError::Unsupported("a back-reference")),
                    b'<' | b'>' | b'b' | b'B' => {
                        return Err(RegexError::Unsupported("a word anchor"))
                    }
                    b'w' | b'W' => {
                        let mut s = class_set(|b| b.is_ascii_alphanumeric() || b == b'_');
                        if e == b'W' {
                            negate(&mut s);
                        }
                        Node::Set(s)
                    }
                    b's' | b'S' => {
                        let mut s = class_set(|b| b.is_ascii_whitespace() || b == 0x0b);
                        if e == b'S' {
                            negate(&mut s);
                        }
                        Node::Set(s)
                    }
                    other => Node::Byte(other),
                }
            }
            other => Node::Byte(other),
        })
    }

    fn group(&mut self) -> Result<Node, RegexError> {
        self.depth += 1;
        let inner = self.alt()?;
        self.depth -= 1;
        let close: &[u8] = if self.ere() { b")" } else { b"\\)" };
        if !self.p[self.i..].starts_with(close) {
            return Err(RegexError::UnmatchedOpen);
        }
        self.i += close.len();
        Ok(Node::Group(Box::new(inner)))
    }

    fn bracket(&mut self) -> Result<Node, RegexError> {
        let mut set = Box::new([false; 256]);
        let neg = self.peek() == Some(b'^');
        if neg {
            self.i += 1;
        }
        // `[:space:]` where `[[:space:]]` was meant.
        let rest = &self.p[self.i..];
        if let Some(end) = rest.iter().position(|&c| c == b']') {
            let inner = &rest[..end];
            if inner.len() >= 2 && inner[0] == b':' && inner[inner.len() - 1] == b':' {
                return Err(RegexError::ClassSyntax);
            }
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(RegexError::UnmatchedBracket);
            };
            if c == b']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if self.p[self.i..].starts_with(b"[:") {
                let rest = &self.p[self.i + 2..];
                let end = rest
                    .windows(2)
                    .position(|w| w == b":]")
                    .ok_or(RegexError::UnmatchedBracket)?;
                let name = std::str::from_utf8(&rest[..end]).unwrap_or("");
                let f = posix_class(name).ok_or(RegexError::InvalidClass)?;
                for b in 0..=255u8 {
                    if f(b) {
                        set[usize::from(b)] = true;
                    }
                }
                self.i += 2 + end + 2;
                continue;
            }
            self.i += 1;
            if self.peek() == Some(b'-') && self.p.get(self.i + 1).is_some_and(|&n| n != b']') {
                let hi = self.p[self.i + 1];
                if hi < c {
                    return Err(RegexError::InvalidRange);
                }
                for b in c..=hi {
                    set[usize::from(b)] = true;
                }
                self.i += 2;
            } else {
                set[usize::from(c)] = true;
            }
        }
        if neg {
            negate(&mut set);
            // A negated list never matches the newline (RE_HAT_LISTS_NOT_NEWLINE).
            set[usize::from(b'\n')] = false;
        }
        Ok(Node::Set(set))
    }
}

fn class_set(f: impl Fn(u8) -> bool) -> Box<[bool; 256]> {
    let mut s = Box::new([false; 256]);
    for b in 0..=255u8 {
        s[usize::from(b)] = f(b);
    }
    s
}

fn negate(s: &mut [bool; 256]) {
    for v in s.iter_mut() {
        *v = !*v;
    }
}

fn posix_class(name: &str) -> Option<fn(u8) -> bool> {
    Some(match name {
        "alpha" => |b: u8| b.is_ascii_alphabetic(),
        "digit" => |b: u8| b.is_ascii_digit(),
        "alnum" => |b: u8| b.is_ascii_alphanumeric(),
        "upper" => |b: u8| b.is_ascii_uppercase(),
        "lower" => |b: u8| b.is_ascii_lowercase(),
        "space" => |b: u8| b.is_ascii_whitespace() || b == 0x0b,
        "blank" => |b: u8| b == b' ' || b == b'\t',
        "punct" => |b: u8| b.is_ascii_punctuation(),
        "print" => |b: u8| (0x20..0x7f).contains(&b),
        "graph" => |b: u8| b.is_ascii_graphic(),
        "cntrl" => |b: u8| b.is_ascii_control(),
        "xdigit" => |b: u8| b.is_ascii_hexdigit(),
        _ => return None,
    })
}

impl Regex {
    /// Compile `pattern`; `fold` is `-i` (ASCII case folding).
    pub fn new(pattern: &str, syntax: Syntax, fold: bool) -> Result<Regex, RegexError> {
        let mut p = Parser {
            p: pattern.as_bytes(),
            i: 0,
            syntax,
            depth: 0,
            warning: None,
            bad_order: false,
        };
        let node = p.alt()?;
        if p.i < p.p.len() {
            return Err(RegexError::UnmatchedClose);
        }
        Ok(Regex {
            node,
            fold,
            warning: p.warning,
        })
    }

    /// A fixed string (`grep -F`).
    pub fn literal(s: &str, fold: bool) -> Regex {
        Regex {
            node: Node::Seq(s.bytes().map(Node::Byte).collect()),
            fold,
            warning: None,
        }
    }

    /// Every position where a match starting at `start` can end.
    pub fn ends_from(&self, text: &str, start: usize) -> Positions {
        self.step(&self.node, text.as_bytes(), &[start])
    }

    /// Whether any part of `text` matches (every start at once).
    pub fn is_match(&self, text: &str) -> bool {
        let from: Positions = (0..=text.len()).collect();
        !self.step(&self.node, text.as_bytes(), &from).is_empty()
    }

    fn byte_eq(&self, a: u8, b: u8) -> bool {
        a == b || (self.fold && a.eq_ignore_ascii_case(&b))
    }

    fn set_has(&self, set: &[bool; 256], b: u8) -> bool {
        set[usize::from(b)]
            || (self.fold
                && (set[usize::from(b.to_ascii_lowercase())]
                    || set[usize::from(b.to_ascii_uppercase())]))
    }

    /// The positions reachable after `node` from any position of `from`.
    fn step(&self, node: &Node, t: &[u8], from: &[usize]) -> Positions {
        let one = |pred: &dyn Fn(u8) -> bool| -> Positions {
            from.iter()
                .filter(|&&i| t.get(i).is_some_and(|&b| pred(b)))
                .map(|i| i + 1)
                .collect()
        };
        match node {
            Node::Byte(c) => one(&|b| self.byte_eq(b, *c)),
            Node::Any => one(&|b| b != b'\n'),
            Node::Set(s) => one(&|b| self.set_has(s, b)),
            Node::Start => from.iter().copied().filter(|&i| i == 0).collect(),
            Node::End => from.iter().copied().filter(|&i| i == t.len()).collect(),
            Node::Group(n) => self.step(n, t, from),
            Node::Alt(v) => v
                .iter()
                .fold(Vec::new(), |acc, n| union(acc, &self.step(n, t, from))),
            Node::Seq(v) => {
                let mut cur = from.to_vec();
                for n in v {
                    if cur.is_empty() {
                        break;
                    }
                    cur = self.step(n, t, &cur);
                }
                cur
            }
            Node::Repeat(n, min, max) => {
                let mut cur = from.to_vec();
                for _ in 0..*min {
                    cur = self.step(n, t, &cur);
                    if cur.is_empty() {
                        return cur;
                    }
                }
                // Each round can only add positions; stop when none is new.
                let mut seen = vec![false; t.len() + 1];
                let mut all = cur.clone();
                for &p in &cur {
                    seen[p] = true;
                }
                let mut k = *min;
                while max.is_none_or(|m| k < m) {
                    let next = self.step(n, t, &cur);
                    let fresh: Positions = next.into_iter().filter(|&p| !seen[p]).collect();
                    if fresh.is_empty() {
                        break;
                    }
                    for &p in &fresh {
                        seen[p] = true;
                    }
                    all.extend_from_slice(&fresh);
                    cur = fresh;
                    k += 1;
                }
                all.sort_unstable();
                all
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, syntax: Syntax, t: &str) -> bool {
        Regex::new(p, syntax, false).unwrap().is_match(t)
    }

    #[test]
    fn basic_and_extended_syntax() {
        use Syntax::{Basic as B, Extended as E};
        assert!(m("eth0|lo", E, "lo: flags"));
        assert!(!m("eth0|lo", B, "lo: flags"));
        assert!(m("eth0|lo", B, "x eth0|lo"));
        assert!(m("eth0\\|lo", B, "lo: flags"));
        assert!(m("^inet ", B, "inet 1.2.3.4"));
        assert!(!m("^inet ", B, "    inet 1.2.3.4"));
        assert!(m("a^b", B, "a^b"), "^ inside a BRE is literal");
        assert!(m("1$", B, "x1"));
        assert!(m("[0-9]\\{3\\}", B, "port 080"));
        assert!(!m("[0-9]{3}", B, "port 080"));
        assert!(m("[0-9]{3}", E, "port 080"));
        assert!(m("^[[:space:]]*-> ", B, "  -> 192.168.150.12:80"));
        assert!(m("(ab)+c", E, "xababc"));
        assert!(m("\\(ab\\)*c", B, "c"));
        assert!(m("*a", B, "*a"), "a leading * is literal");
        let r = Regex::new("*a", E, false).unwrap();
        assert_eq!(r.warning.as_deref(), Some("* at start of expression"));
        assert!(r.is_match("a)"));
        assert!(m("a.c", B, "abc"));
        assert!(m("192\\.168", B, "192.168"));
        assert!(!m("192\\.168", B, "192x168"));
        assert!(m("[^a-z]", B, "abc1"));
        assert!(!m("[^a-z]", B, "abc"));
        assert!(m("[]x]", B, "]"));
        assert!(m("colou?r", E, "color"));
        assert!(Regex::new("AbC", B, true).unwrap().is_match("xabcx"));
        assert!(Regex::new("[a-c]", B, true).unwrap().is_match("B"));
    }

    #[test]
    fn errors_are_gnu_messages() {
        use Syntax::{Basic as B, Extended as E};
        let e = |p: &str, s| Regex::new(p, s, false).unwrap_err().to_string();
        assert_eq!(e("[abc", B), "Unmatched [, [^, [:, [., or [=");
        assert_eq!(e("(ab", E), "Unmatched ( or \\(");
        assert_eq!(e("\\(ab", B), "Unmatched ( or \\(");
        assert_eq!(e("ab\\)", B), "Unmatched ) or \\)");
        assert_eq!(e("a\\{1", B), "Unmatched \\{");
        assert!(
            m("a{1", E, "a{1"),
            "an ERE {{ that is no interval is literal"
        );
        assert_eq!(e("a{2,1}", E), "Invalid content of \\{\\}");
        assert_eq!(e("[z-a]", B), "Invalid range end");
        assert_eq!(e("[[:foo:]]", B), "Invalid character class name");
        assert_eq!(
            e("[:space:]", B),
            "character class syntax is [[:space:]], not [:space:]"
        );
        assert_eq!(e("ab\\", B), "Trailing backslash");
        assert!(m("a)", E, "a)"), "an unmatched ) in an ERE is literal");
    }

    #[test]
    fn matching_stays_polynomial() {
        let r = Regex::new("(a*)*b", Syntax::Extended, false).unwrap();
        let t = "a".repeat(2000);
        assert!(!r.is_match(&t));
    }
}
