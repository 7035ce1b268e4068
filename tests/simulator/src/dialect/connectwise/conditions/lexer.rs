//! Tokenizer of the ConnectWise `conditions` language.

use time::OffsetDateTime;

use super::SyntaxError;
use crate::dialect::json::parse_datetime;

/// A comparison symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sym {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Sym {
    fn text(self) -> &'static str {
        match self {
            Sym::Eq => "=",
            Sym::Ne => "!=",
            Sym::Lt => "<",
            Sym::Le => "<=",
            Sym::Gt => ">",
            Sym::Ge => ">=",
        }
    }
}

/// One token.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// A field name or a keyword (`and`, `or`, `not`, `like`, `contains`, `in`, `true`, `false`, `null`).
    Word(String),
    /// A double-quoted string, unescaped.
    Str(String),
    /// A number, with its text.
    Num(f64, String),
    /// A `[date-time]`, with its text.
    Date(OffsetDateTime, String),
    LParen,
    RParen,
    Comma,
    Sym(Sym),
}

impl Tok {
    /// The token as the user wrote it, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("'{w}'"),
            Tok::Str(s) => format!("the string \"{s}\""),
            Tok::Num(_, raw) => format!("the number {raw}"),
            Tok::Date(_, raw) => format!("the date-time [{raw}]"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::Comma => "','".into(),
            Tok::Sym(s) => format!("'{}'", s.text()),
        }
    }

    /// True when this is the keyword `kw` (case-insensitive).
    pub(crate) fn is_keyword(&self, kw: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// A token and where it starts (1-based character position).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: usize,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '/'
}

/// Splits `input` into tokens.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        let at = |tok| Token { tok, pos };
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(at(Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push(at(Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push(at(Tok::Comma));
                i += 1;
            }
            '=' => {
                out.push(at(Tok::Sym(Sym::Eq)));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(at(Tok::Sym(Sym::Ne)));
                i += 2;
            }
            '<' => {
                let (sym, len) = match chars.get(i + 1) {
                    Some('=') => (Sym::Le, 2),
                    Some('>') => (Sym::Ne, 2),
                    _ => (Sym::Lt, 1),
                };
                out.push(at(Tok::Sym(sym)));
                i += len;
            }
            '>' => {
                let (sym, len) = if chars.get(i + 1) == Some(&'=') {
                    (Sym::Ge, 2)
                } else {
                    (Sym::Gt, 1)
                };
                out.push(at(Tok::Sym(sym)));
                i += len;
            }
            '"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(SyntaxError::new(format!(
                                "unterminated string starting at position {pos}"
                            )));
                        }
                        Some('"') => break,
                        Some('\\') => match chars.get(j + 1) {
                            Some(&e @ ('"' | '\\')) => {
                                text.push(e);
                                j += 2;
                            }
                            // Other backslashes are kept as typed (Windows paths, regex-like text).
                            Some(_) => {
                                text.push('\\');
                                j += 1;
                            }
                            None => {
                                return Err(SyntaxError::new(format!(
                                    "unterminated string starting at position {pos}"
                                )));
                            }
                        },
                        Some(&other) => {
                            text.push(other);
                            j += 1;
                        }
                    }
                }
                out.push(at(Tok::Str(text)));
                i = j + 1;
            }
            '[' => {
                let Some(len) = chars[i + 1..].iter().position(|&c| c == ']') else {
                    return Err(SyntaxError::new(format!(
                        "unterminated date-time starting at position {pos}"
                    )));
                };
                let raw: String = chars[i + 1..i + 1 + len].iter().collect();
                let Some(value) = parse_datetime(raw.trim()) else {
                    return Err(SyntaxError::new(format!(
                        "'[{raw}]' at position {pos} is not a date-time; use [2026-01-01T00:00:00Z]"
                    )));
                };
                out.push(at(Tok::Date(value, raw.trim().to_string())));
                i += len + 2;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let mut j = i + 1;
                while chars
                    .get(j)
                    .is_some_and(|c| c.is_ascii_digit() || *c == '.')
                {
                    j += 1;
                }
                let raw: String = chars[i..j].iter().collect();
                if chars.get(j).is_some_and(|c| is_word_char(*c)) {
                    let mut k = j;
                    while chars.get(k).is_some_and(|c| is_word_char(*c)) {
                        k += 1;
                    }
                    let bad: String = chars[i..k].iter().collect();
                    return Err(SyntaxError::new(format!(
                        "'{bad}' at position {pos} is neither a number nor a field name"
                    )));
                }
                let Ok(value) = raw.parse::<f64>() else {
                    return Err(SyntaxError::new(format!(
                        "'{raw}' at position {pos} is not a number"
                    )));
                };
                out.push(at(Tok::Num(value, raw)));
                i = j;
            }
            c if is_word_start(c) => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|c| is_word_char(*c)) {
                    j += 1;
                }
                out.push(at(Tok::Word(chars[i..j].iter().collect())));
                i = j;
            }
            '\'' => {
                return Err(SyntaxError::new(format!(
                    "unexpected ''' at position {pos}: strings take double quotes"
                )));
            }
            other => {
                return Err(SyntaxError::new(format!(
                    "unexpected '{other}' at position {pos}"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(input: &str) -> Vec<Tok> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    fn err(input: &str) -> String {
        tokenize(input).unwrap_err().message
    }

    #[test]
    fn splits_fields_symbols_and_values() {
        assert_eq!(
            toks(r#"company/id=5 and name!="A b"or x<>-2.5"#),
            vec![
                Tok::Word("company/id".into()),
                Tok::Sym(Sym::Eq),
                Tok::Num(5.0, "5".into()),
                Tok::Word("and".into()),
                Tok::Word("name".into()),
                Tok::Sym(Sym::Ne),
                Tok::Str("A b".into()),
                Tok::Word("or".into()),
                Tok::Word("x".into()),
                Tok::Sym(Sym::Ne),
                Tok::Num(-2.5, "-2.5".into()),
            ]
        );
        assert_eq!(
            toks("a<=1 b>=2 c<3 d>4 (e,f)"),
            vec![
                Tok::Word("a".into()),
                Tok::Sym(Sym::Le),
                Tok::Num(1.0, "1".into()),
                Tok::Word("b".into()),
                Tok::Sym(Sym::Ge),
                Tok::Num(2.0, "2".into()),
                Tok::Word("c".into()),
                Tok::Sym(Sym::Lt),
                Tok::Num(3.0, "3".into()),
                Tok::Word("d".into()),
                Tok::Sym(Sym::Gt),
                Tok::Num(4.0, "4".into()),
                Tok::LParen,
                Tok::Word("e".into()),
                Tok::Comma,
                Tok::Word("f".into()),
                Tok::RParen,
            ]
        );
    }

    #[test]
    fn unescapes_quotes_and_backslashes_and_keeps_other_backslashes() {
        assert_eq!(
            toks(r#""say \"hi\" \\ C:\temp""#),
            vec![Tok::Str(r#"say "hi" \ C:\temp"#.into())]
        );
        assert_eq!(toks(r#""""#), vec![Tok::Str(String::new())]);
    }

    #[test]
    fn reads_bracketed_date_times() {
        let t = toks("[2026-01-01T00:00:00Z] [ 2026-02-03 ] [2026-02-03T04:05:06]");
        let Tok::Date(a, _) = &t[0] else { panic!() };
        assert_eq!(a.unix_timestamp(), 1_767_225_600);
        let Tok::Date(b, raw) = &t[1] else { panic!() };
        assert_eq!(raw, "2026-02-03");
        assert_eq!(b.hour(), 0);
        let Tok::Date(c, _) = &t[2] else { panic!() };
        assert_eq!((c.hour(), c.minute(), c.second()), (4, 5, 6));
    }

    #[test]
    fn reports_bad_input_with_positions() {
        assert_eq!(
            err(r#"name = "abc"#),
            "unterminated string starting at position 8"
        );
        assert_eq!(
            err("x = [2026-13-01]"),
            "'[2026-13-01]' at position 5 is not a date-time; use [2026-01-01T00:00:00Z]"
        );
        assert_eq!(
            err("x = [2026-01-01"),
            "unterminated date-time starting at position 5"
        );
        assert_eq!(
            err("x = 'a'"),
            "unexpected ''' at position 5: strings take double quotes"
        );
        assert_eq!(err("x # 1"), "unexpected '#' at position 3");
        assert_eq!(err("x = 1.2.3"), "'1.2.3' at position 5 is not a number");
        assert_eq!(
            err("x = 12ab"),
            "'12ab' at position 5 is neither a number nor a field name"
        );
        assert_eq!(err("x ! 1"), "unexpected '!' at position 3");
    }
}
