//! Splits source text into tokens with nom; never fails, reports bad tokens as diagnostics.
//!
//! Tokens are delimited by whitespace and the punctuation `{ } ; " #`. Each maximal run
//! of other characters is an *atom*, which is then classified (number, duration,
//! address, path, word) by small nom parsers. A bad atom becomes [`Value::Invalid`] so
//! the parser keeps the directive's shape and reports nothing twice.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, digit1};
use nom::combinator::{all_consuming, opt, recognize};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::value::{Endpoint, Protocol, Value};

/// Plain `&str` input; byte offsets come from the remaining length, which is cheaper
/// than a located span that counts lines on every step.
type Input<'a> = &'a str;

/// What a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// An argument or keyword.
    Atom(Value),
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `;`
    Semi,
    /// End of a line.
    Newline,
    /// `# ...` up to the end of the line (text without the newline).
    Comment(String),
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// Splits `source` into tokens, collecting lexical errors into `errors`.
pub fn lex(source: &str, errors: &mut Vec<Diagnostic>) -> Vec<Token> {
    let mut lexer = Lexer::new(source);
    std::iter::from_fn(|| lexer.next_token(errors)).collect()
}

/// Produces tokens one at a time, so the parser never holds them all in memory.
pub struct Lexer<'a> {
    input: Input<'a>,
    /// Length of the whole source: offset = len - remaining.
    len: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `source`.
    pub fn new(source: &'a str) -> Self {
        Lexer {
            input: source,
            len: source.len(),
        }
    }

    /// The next token, or `None` at the end; lexical errors go to `errors`.
    pub fn next_token(&mut self, errors: &mut Vec<Diagnostic>) -> Option<Token> {
        let (rest, _) = blanks(self.input).expect("take_while cannot fail");
        let input = rest;
        let start = self.len - input.len();
        let c = input.chars().next()?;
        let (rest, kind) = match c {
            '\n' => (advance(input, 1), TokenKind::Newline),
            '{' => (advance(input, 1), TokenKind::LBrace),
            '}' => (advance(input, 1), TokenKind::RBrace),
            ';' => (advance(input, 1), TokenKind::Semi),
            '#' => {
                let (rest, text) = comment(input).expect("comment always matches after '#'");
                (
                    rest,
                    TokenKind::Comment(text.trim_end_matches('\r').to_string()),
                )
            }
            '"' => lex_string(input, start, errors),
            _ => {
                let (rest, atom) = atom_text(input).expect("a non-delimiter starts an atom");
                let span = Span::new(start, self.len - rest.len());
                (rest, TokenKind::Atom(classify(atom, span, errors)))
            }
        };
        self.input = rest;
        Some(Token {
            kind,
            span: Span::new(start, self.len - rest.len()),
        })
    }
}

/// Advances `n` bytes (nom's `take` counts characters; the fuzzer found the difference).
fn advance(input: Input<'_>, n: usize) -> Input<'_> {
    &input[n..]
}

fn blanks(input: Input<'_>) -> IResult<Input<'_>, Input<'_>> {
    // Every whitespace but the newline separates tokens (the fuzzer found `\x0b`).
    take_while(|c: char| (c.is_whitespace() && c != '\n') || c == '\u{feff}').parse(input)
}

fn comment(input: Input<'_>) -> IResult<Input<'_>, Input<'_>> {
    recognize(preceded(char('#'), take_while(|c: char| c != '\n'))).parse(input)
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '{' | '}' | ';' | '"' | '#')
}

fn atom_text(input: Input<'_>) -> IResult<Input<'_>, Input<'_>> {
    take_while1(|c: char| !is_delimiter(c)).parse(input)
}

/// Lexes a double-quoted string with `\"`, `\\`, `\n` and `\t` escapes; strings end on
/// their line, so an unterminated one is reported and recovery resumes at the newline.
fn lex_string<'a>(
    input: Input<'a>,
    start: usize,
    errors: &mut Vec<Diagnostic>,
) -> (Input<'a>, TokenKind) {
    let text = input;
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (advance(input, i + 1), TokenKind::Atom(Value::Str(out))),
            '\n' => break,
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((j, other)) if other != '\n' => {
                    errors.push(
                        Diagnostic::error(
                            codes::BAD_ESCAPE,
                            Span::new(start + i, start + j + other.len_utf8()),
                            format!("unknown escape `\\{other}` in string"),
                        )
                        .with_label("unknown escape")
                        .with_help(r#"strings know the escapes \" \\ \n and \t"#),
                    );
                    out.push(other);
                }
                _ => break,
            },
            c => out.push(c),
        }
    }
    let end = text.find('\n').unwrap_or(text.len());
    errors.push(
        Diagnostic::error(
            codes::UNTERMINATED_STRING,
            Span::new(start, start + end),
            "unterminated string",
        )
        .with_label("this string has no closing quote on its line")
        .with_help("add a closing `\"`; strings cannot span lines (use \\n for a newline)"),
    );
    (advance(input, end), TokenKind::Atom(Value::Invalid))
}

/// Classifies an atom; reports and returns [`Value::Invalid`] when it is none of the kinds.
fn classify(text: &str, span: Span, errors: &mut Vec<Diagnostic>) -> Value {
    match classify_atom(text) {
        Ok(v) => v,
        Err((code, message, help)) => {
            errors.push(
                Diagnostic::error(code, span, message)
                    .with_label("not understood")
                    .with_help(help),
            );
            Value::Invalid
        }
    }
}

type AtomError = (&'static str, String, String);

fn classify_atom(text: &str) -> Result<Value, AtomError> {
    let first = text.chars().next().unwrap_or(' ');
    if first == '/' {
        return Ok(Value::Path(text.to_string()));
    }
    if first == '[' {
        return endpoint(text).ok_or_else(|| bad_address(text));
    }
    if first.is_ascii_digit() {
        if let Ok((_, v)) = all_consuming(number).parse(text) {
            return v.map(Value::Number).ok_or_else(|| {
                (
                    codes::NUMBER_TOO_LARGE,
                    format!("number `{text}` is too large"),
                    "numbers go up to 18446744073709551615".into(),
                )
            });
        }
        if let Ok((_, ms)) = all_consuming(duration).parse(text) {
            return ms.map(Value::Duration).ok_or_else(|| {
                (
                    codes::NUMBER_TOO_LARGE,
                    format!("duration `{text}` is too large"),
                    "use a smaller value".into(),
                )
            });
        }
        if let Some(v) = endpoint(text) {
            return Ok(v);
        }
        if all_consuming(version).parse(text).is_ok()
            || all_consuming(community).parse(text).is_ok()
        {
            return Ok(Value::Word(text.to_string()));
        }
        if text.contains(['.', ':']) {
            return Err(bad_address(text));
        }
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        return Err((
            codes::BAD_DURATION,
            format!("`{text}` is not a number or a duration"),
            format!(
                "durations are a number and a unit: ms, s, m, h or d (e.g. `{}s`)",
                &text[..digits]
            ),
        ));
    }
    if text.contains(':')
        && text
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '/'))
    {
        return endpoint(text).ok_or_else(|| bad_address(text));
    }
    if let Ok((_, w)) = all_consuming(word).parse(text) {
        return Ok(Value::Word(w.to_string()));
    }
    let bad = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .unwrap_or(first);
    Err((
        codes::BAD_CHARACTER,
        format!("unexpected character `{}` in `{text}`", bad.escape_debug()),
        "names are letters, digits, `_`, `-` and `.`; put free text in double quotes".into(),
    ))
}

fn bad_address(text: &str) -> AtomError {
    (
        codes::BAD_ADDRESS,
        format!("`{text}` is not a valid address"),
        "write IPv4 as 192.0.2.1[/24][:80[/tcp]] and IPv6 as 2001:db8::1[/64] or [2001:db8::1]:80/tcp".into(),
    )
}

fn word(input: &str) -> IResult<&str, &str> {
    recognize((
        take_while1(|c: char| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')),
    ))
    .parse(input)
}

/// A dotted version number with two or three parts (`4.2`, `3.1.1`), kept as a word.
fn version(input: &str) -> IResult<&str, &str> {
    recognize((digit1, char('.'), digit1, opt((char('.'), digit1)))).parse(input)
}

/// A BGP community (`65001:100`) or large community (`65001:1:2`), kept as a word.
fn community(input: &str) -> IResult<&str, &str> {
    recognize((digit1, char(':'), digit1, opt((char(':'), digit1)))).parse(input)
}

/// A number; `None` when it overflows.
fn number(input: &str) -> IResult<&str, Option<u64>> {
    digit1.map(|d: &str| d.parse::<u64>().ok()).parse(input)
}

/// A duration in milliseconds; `None` when it overflows.
fn duration(input: &str) -> IResult<&str, Option<u64>> {
    let unit = alt((
        tag("ms").map(|_| 1u64),
        tag("s").map(|_| 1_000),
        tag("m").map(|_| 60_000),
        tag("h").map(|_| 3_600_000),
        tag("d").map(|_| 86_400_000),
    ));
    (number, unit)
        .map(|(n, u)| n.and_then(|n| n.checked_mul(u)))
        .parse(input)
}

fn ipv4(input: &str) -> IResult<&str, IpAddr> {
    recognize((
        digit1,
        char('.'),
        digit1,
        char('.'),
        digit1,
        char('.'),
        digit1,
    ))
    .map_opt(|s: &str| s.parse::<Ipv4Addr>().ok().map(IpAddr::V4))
    .parse(input)
}

fn ipv6_text(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.').parse(input)
}

fn ipv6(input: &str) -> IResult<&str, IpAddr> {
    ipv6_text
        .map_opt(|s: &str| s.parse::<Ipv6Addr>().ok().map(IpAddr::V6))
        .parse(input)
}

fn small<T: TryFrom<u64>>(input: &str) -> IResult<&str, T> {
    number
        .map_opt(|n| n.and_then(|n| T::try_from(n).ok()))
        .parse(input)
}

fn protocol(input: &str) -> IResult<&str, Protocol> {
    word.map_opt(Protocol::from_word).parse(input)
}

fn remote_path(input: &str) -> IResult<&str, String> {
    preceded(char(':'), recognize((char('/'), take_while(|_| true))))
        .map(str::to_string)
        .parse(input)
}

/// `host[/prefix][:port[/proto]]` or `host:/path`, host being IPv4 or `[IPv6]`;
/// or a bare IPv6 address with an optional prefix.
fn endpoint(text: &str) -> Option<Value> {
    let host = alt((
        ipv4.map(|ip| (ip, false)),
        delimited(char('['), ipv6, char(']')).map(|ip| (ip, true)),
    ));
    let full = (
        host,
        opt(preceded(char('/'), small::<u8>)),
        alt((
            remote_path.map(|p| (None, None, Some(p))),
            (
                opt(preceded(char(':'), small::<u16>)),
                opt(preceded(char('/'), protocol)),
            )
                .map(|(a, b)| (a, b, None)),
        )),
    );
    let parsed: IResult<&str, _> = all_consuming(full).parse(text);
    if let Ok((_, ((ip, _), prefix, (port, proto, path)))) = parsed {
        if proto.is_some() && port.is_none() {
            return None;
        }
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if prefix.is_some_and(|p| p > max) {
            return None;
        }
        return Some(Value::Addr(Endpoint {
            ip,
            prefix,
            port,
            proto,
            path,
        }));
    }
    let bare: IResult<&str, _> =
        all_consuming((ipv6, opt(preceded(char('/'), small::<u8>)))).parse(text);
    let (_, (ip, prefix)) = bare.ok()?;
    if prefix.is_some_and(|p| p > 128) {
        return None;
    }
    Some(Value::Addr(Endpoint {
        ip,
        prefix,
        port: None,
        proto: None,
        path: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        let mut errors = Vec::new();
        let tokens = lex(text, &mut errors);
        assert_eq!(tokens.len(), 1, "{tokens:?}");
        match &tokens[0].kind {
            TokenKind::Atom(v) => v.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn addr(text: &str) -> Endpoint {
        match one(text) {
            Value::Addr(e) => e,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn bgp_communities_are_words() {
        assert_eq!(one("65001:100"), Value::Word("65001:100".into()));
        assert_eq!(one("65001:1:2"), Value::Word("65001:1:2".into()));
        assert!(matches!(one("2001:db8::1"), Value::Addr(_)));
    }

    #[test]
    fn numbers_and_durations() {
        assert_eq!(one("80"), Value::Number(80));
        assert_eq!(one("500ms"), Value::Duration(500));
        assert_eq!(one("5s"), Value::Duration(5000));
        assert_eq!(one("2m"), Value::Duration(120_000));
        assert_eq!(one("1h"), Value::Duration(3_600_000));
        assert_eq!(one("99999999999999999999"), Value::Invalid);
    }

    #[test]
    fn ipv4_forms() {
        let e = addr("192.0.2.100:80/tcp");
        assert_eq!(e.to_string(), "192.0.2.100:80/tcp");
        assert_eq!(e.port, Some(80));
        assert_eq!(e.proto, Some(Protocol::Tcp));
        assert_eq!(addr("192.0.2.2/24").prefix, Some(24));
        assert_eq!(
            addr("192.0.2.50:/export/www").path.as_deref(),
            Some("/export/www")
        );
        assert_eq!(one("192.0.2.300"), Value::Invalid);
        assert_eq!(one("192.0.2.1/33"), Value::Invalid);
        assert_eq!(one("192.0.2.1/tcp"), Value::Invalid);
    }

    #[test]
    fn ipv6_forms() {
        let e = addr("[2001:db8::1]:80/tcp");
        assert_eq!(e.to_string(), "[2001:db8::1]:80/tcp");
        assert_eq!(addr("2001:db8::/64").prefix, Some(64));
        assert_eq!(addr("fe80::1").ip.to_string(), "fe80::1");
        assert_eq!(one("[2001:db8::zz]:80"), Value::Invalid);
    }

    #[test]
    fn strings_words_paths_comments() {
        assert_eq!(one(r#""a \"b\" \\ c""#), Value::Str(r#"a "b" \ c"#.into()));
        assert_eq!(one("sh-fallback"), Value::Word("sh-fallback".into()));
        assert_eq!(
            one("net.ipv4.ip_forward"),
            Value::Word("net.ipv4.ip_forward".into())
        );
        assert_eq!(
            one("//192.0.2.60/share"),
            Value::Path("//192.0.2.60/share".into())
        );
        let mut errors = Vec::new();
        let t = lex("a # hi\n", &mut errors);
        assert_eq!(t[1].kind, TokenKind::Comment("# hi".into()));
        assert_eq!(t[2].kind, TokenKind::Newline);
    }

    #[test]
    fn multibyte_text_in_strings_keeps_byte_offsets() {
        let mut errors = Vec::new();
        let t = lex("\"-m\u{4}\0\u{e}\u{e}Ғ\u{4}", &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(t.len(), 1);
        let t = lex("\"Ғé\" x", &mut errors);
        assert_eq!(t[0].kind, TokenKind::Atom(Value::Str("Ғé".into())));
        assert_eq!(t[1].kind, TokenKind::Atom(Value::Word("x".into())));
    }

    #[test]
    fn unusual_whitespace_separates_tokens() {
        let mut errors = Vec::new();
        let t = lex("\u{b}e8\u{c}x\u{a0}y", &mut errors);
        assert_eq!(t.len(), 3, "{t:?}");
        assert!(errors.is_empty());
    }

    #[test]
    fn unterminated_string_stops_at_line_end() {
        let mut errors = Vec::new();
        let t = lex("check http \"/x\nreal", &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, codes::UNTERMINATED_STRING);
        assert_eq!(
            t.last().unwrap().kind,
            TokenKind::Atom(Value::Word("real".into()))
        );
    }
}
