//! Splitting a command line into words the way bash does for the subset we
//! support: whitespace, single and double quotes, backslash escapes,
//! redirections and the `|` / `&` operators.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redir {
    /// `> path` or `>> path` (stdout).
    Out { path: String, append: bool },
    /// `2>/dev/null`.
    ErrNull,
    /// `2>&1`.
    ErrToOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Word {
    Text(String),
    Redirect(Redir),
    Pipe,
    Background,
    /// `;`
    Seq,
    /// `&&`
    AndIf,
    /// `||`
    OrIf,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WordsError {
    #[error("unexpected EOF while looking for matching `{0}'")]
    Unterminated(char),
    #[error("syntax error near unexpected token `{0}'")]
    Syntax(String),
}

pub fn split_words(line: &str) -> Result<Vec<Word>, WordsError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut chars = line.chars().peekable();
    let mut pending_redir: Option<(bool, bool)> = None; // (is_stderr, append)
    let flush = |cur: &mut String,
                 have: &mut bool,
                 out: &mut Vec<Word>,
                 pending: &mut Option<(bool, bool)>|
     -> Result<(), WordsError> {
        if !*have {
            return Ok(());
        }
        let w = std::mem::take(cur);
        *have = false;
        match pending.take() {
            Some((true, _)) => {
                if w == "/dev/null" {
                    out.push(Word::Redirect(Redir::ErrNull));
                } else if w == "&1" {
                    out.push(Word::Redirect(Redir::ErrToOut));
                } else {
                    // stderr to a file: we only model discarding it.
                    out.push(Word::Redirect(Redir::ErrNull));
                }
            }
            Some((false, append)) => out.push(Word::Redirect(Redir::Out { path: w, append })),
            None => out.push(Word::Text(w)),
        }
        Ok(())
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => flush(&mut cur, &mut have, &mut out, &mut pending_redir)?,
            '\'' => {
                have = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(WordsError::Unterminated('\'')),
                    }
                }
            }
            '"' => {
                have = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x)
                            }
                            None => return Err(WordsError::Unterminated('"')),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(WordsError::Unterminated('"')),
                    }
                }
            }
            '\\' => {
                have = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            '|' => {
                flush(&mut cur, &mut have, &mut out, &mut pending_redir)?;
                if pending_redir.is_some() {
                    return Err(WordsError::Syntax("|".into()));
                }
                if chars.peek() == Some(&'|') {
                    chars.next();
                    out.push(Word::OrIf);
                } else {
                    out.push(Word::Pipe);
                }
            }
            ';' => {
                flush(&mut cur, &mut have, &mut out, &mut pending_redir)?;
                if pending_redir.is_some() {
                    return Err(WordsError::Syntax(";".into()));
                }
                out.push(Word::Seq);
            }
            '&' if !have || cur.is_empty() => {
                if pending_redir.is_some() {
                    // `2>&1`: the target word starts with '&'.
                    cur.push('&');
                    have = true;
                    continue;
                }
                flush(&mut cur, &mut have, &mut out, &mut pending_redir)?;
                if chars.peek() == Some(&'&') {
                    chars.next();
                    out.push(Word::AndIf);
                } else {
                    out.push(Word::Background);
                }
            }
            '>' => {
                let is_err = have && cur == "2";
                if is_err {
                    cur.clear();
                    have = false;
                } else {
                    flush(&mut cur, &mut have, &mut out, &mut pending_redir)?;
                }
                let append = chars.peek() == Some(&'>');
                if append {
                    chars.next();
                }
                if pending_redir.is_some() {
                    return Err(WordsError::Syntax(">".into()));
                }
                pending_redir = Some((is_err, append));
            }
            _ => {
                have = true;
                cur.push(c);
            }
        }
    }
    flush(&mut cur, &mut have, &mut out, &mut pending_redir)?;
    if pending_redir.is_some() {
        return Err(WordsError::Syntax("newline".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Word {
        Word::Text(s.into())
    }

    #[test]
    fn words_quotes_and_redirections() {
        assert_eq!(
            split_words("echo 1 > arp_ignore").unwrap(),
            vec![
                t("echo"),
                t("1"),
                Word::Redirect(Redir::Out {
                    path: "arp_ignore".into(),
                    append: false
                })
            ]
        );
        assert_eq!(
            split_words("echo '<h1>from x</h1>' >>f").unwrap()[1],
            t("<h1>from x</h1>")
        );
        assert_eq!(
            split_words("sysctl -a 2>/dev/null | grep arp").unwrap(),
            vec![
                t("sysctl"),
                t("-a"),
                Word::Redirect(Redir::ErrNull),
                Word::Pipe,
                t("grep"),
                t("arp")
            ]
        );
        assert_eq!(
            split_words("nc 1.2.3.4 80 &").unwrap().last(),
            Some(&Word::Background)
        );
        assert_eq!(
            split_words("cmd 2>&1").unwrap()[1],
            Word::Redirect(Redir::ErrToOut)
        );
        assert!(split_words("echo 'x").is_err());
        assert!(split_words("echo >").is_err());
    }
}
