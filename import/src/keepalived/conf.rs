//! keepalived.conf as keepalived reads it: lines of words, `{ ... }` blocks, `#` and `!`
//! comments, quoted strings and `include` files, into a tree of located statements.
//! Nothing here knows what a keyword means.

use std::path::{Path, PathBuf};

use lvsc_lang::Span;

/// One file read: its name as shown in diagnostics, and its text.
#[derive(Clone, Debug)]
pub struct Source {
    /// The path as given (or as an `include` resolved it).
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// One word of a statement and where it is.
#[derive(Clone, Debug)]
pub struct Word {
    /// The text, without quotes.
    pub text: String,
    /// Where it is in its file.
    pub span: Span,
    /// Its file (index into the sources).
    pub file: usize,
}

/// A statement: its words, its block if it opens one, the comments written before it.
#[derive(Clone, Debug)]
pub struct Node {
    /// The file the statement is in (index into the sources).
    pub file: usize,
    /// The keyword and its arguments.
    pub words: Vec<Word>,
    /// The statements of its `{ ... }` block.
    pub block: Option<Vec<Node>>,
    /// Whole-line comments just before it, without their `#`/`!`.
    pub comments: Vec<String>,
    /// A comment at the end of its line.
    pub trailing: Option<String>,
}

impl Node {
    /// The keyword.
    pub fn key(&self) -> &str {
        &self.words[0].text
    }
    /// The arguments after the keyword.
    pub fn args(&self) -> &[Word] {
        &self.words[1..]
    }
    /// The statement's first line, keyword to last argument.
    pub fn span(&self) -> Span {
        let (a, b) = (&self.words[0].span, &self.words[self.words.len() - 1].span);
        Span::new(a.start(), b.start() + b.len())
    }
    /// The keyword's span.
    pub fn key_span(&self) -> Span {
        self.words[0].span
    }
    /// The statements of the block (none without one).
    pub fn children(&self) -> &[Node] {
        self.block.as_deref().unwrap_or(&[])
    }
}

/// A problem reading the files (a located one, or a file that cannot be read).
#[derive(Clone, Debug)]
pub struct ReadProblem {
    /// The file (index into the sources), when located.
    pub file: Option<usize>,
    /// Where.
    pub span: Span,
    /// What.
    pub message: String,
    /// Whether it is only a warning (the rest of the file is read).
    pub warning: bool,
}

/// Nested includes deeper than this are a loop.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Reads files into statements.
#[derive(Default)]
pub struct Reader {
    /// Every file read, in order.
    pub sources: Vec<Source>,
    /// What went wrong on the way.
    pub problems: Vec<ReadProblem>,
}

/// A token of one line.
enum Tok {
    Word(Word),
    Open(Span),
    Close(Span),
}

impl Reader {
    /// Reads `path` and the files it includes, into its top-level statements.
    pub fn read(&mut self, path: &Path) -> Result<Vec<Node>, String> {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(self.read_text(path, String::from_utf8_lossy(&text).into_owned(), 0))
    }

    fn read_text(&mut self, path: &Path, text: String, depth: usize) -> Vec<Node> {
        let file = self.sources.len();
        self.sources.push(Source {
            name: path.display().to_string(),
            text,
        });
        let text = self.sources[file].text.clone();
        // A stack of open blocks: (statement that opened it, its children so far).
        let mut stack: Vec<(Option<Node>, Vec<Node>)> = vec![(None, Vec::new())];
        let mut comments = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let (toks, comment) = tokens(line, start, file);
            if toks.is_empty() {
                match comment {
                    Some(c) => comments.push(c),
                    // A blank line ends what a comment was about.
                    None => {
                        if line.trim().is_empty() && !comments.is_empty() {
                            let top = &mut stack.last_mut().unwrap().1;
                            loose(top, &mut comments, file);
                        }
                    }
                }
                continue;
            }
            if let Some(Tok::Word(w)) = toks.first()
                && w.text.starts_with('@')
            {
                self.problems.push(ReadProblem {
                    file: Some(file),
                    span: w.span,
                    message: format!(
                        "a conditional line (`{}`, for `keepalived -i`) is left out",
                        w.text
                    ),
                    warning: true,
                });
                continue;
            }
            let mut words: Vec<Word> = Vec::new();
            let mut pending_trailing = comment;
            let flush = |words: &mut Vec<Word>,
                         stack: &mut Vec<(Option<Node>, Vec<Node>)>,
                         comments: &mut Vec<String>,
                         trailing: Option<String>| {
                if words.is_empty() {
                    return;
                }
                let node = Node {
                    file,
                    words: std::mem::take(words),
                    block: None,
                    comments: std::mem::take(comments),
                    trailing,
                };
                stack.last_mut().unwrap().1.push(node);
            };
            for t in toks {
                match t {
                    Tok::Word(w) => words.push(w),
                    Tok::Open(span) => {
                        if words.is_empty() {
                            self.problems.push(ReadProblem {
                                file: Some(file),
                                span,
                                message: "a block without a keyword before it".into(),
                                warning: false,
                            });
                        }
                        let node = Node {
                            file,
                            words: std::mem::take(&mut words),
                            block: None,
                            comments: std::mem::take(&mut comments),
                            trailing: pending_trailing.take(),
                        };
                        stack.push((Some(node), Vec::new()));
                    }
                    Tok::Close(span) => {
                        flush(&mut words, &mut stack, &mut comments, None);
                        if stack.len() == 1 {
                            self.problems.push(ReadProblem {
                                file: Some(file),
                                span,
                                message: "a `}` that closes no block".into(),
                                warning: false,
                            });
                            continue;
                        }
                        let (node, mut children) = stack.pop().unwrap();
                        loose(&mut children, &mut comments, file);
                        let mut node = node.unwrap();
                        node.block = Some(children);
                        if !node.words.is_empty() {
                            stack.last_mut().unwrap().1.push(node);
                        }
                    }
                }
            }
            let trailing = pending_trailing.take();
            if words.first().is_some_and(|w| w.text == "include") && depth < MAX_INCLUDE_DEPTH {
                let node = Node {
                    file,
                    words: std::mem::take(&mut words),
                    block: None,
                    comments: std::mem::take(&mut comments),
                    trailing,
                };
                let included = self.include(path, &node, depth);
                stack.last_mut().unwrap().1.extend(included);
            } else {
                flush(&mut words, &mut stack, &mut comments, trailing);
            }
        }
        while stack.len() > 1 {
            let (node, children) = stack.pop().unwrap();
            let node = node.unwrap();
            self.problems.push(ReadProblem {
                file: Some(file),
                span: node.words.first().map_or(Span::new(0, 0), |w| w.span),
                message: "this block is never closed".into(),
                warning: false,
            });
            let mut node = node;
            node.block = Some(children);
            stack.last_mut().unwrap().1.push(node);
        }
        let mut top = stack.pop().unwrap().1;
        loose(&mut top, &mut comments, file);
        top
    }

    /// The statements of the files an `include` names (a glob, relative to the
    /// including file's folder).
    fn include(&mut self, from: &Path, node: &Node, depth: usize) -> Vec<Node> {
        let Some(pattern) = node.args().first() else {
            self.problems.push(ReadProblem {
                file: Some(node.file),
                span: node.span(),
                message: "`include` names no file".into(),
                warning: false,
            });
            return Vec::new();
        };
        let mut path = PathBuf::from(&pattern.text);
        if path.is_relative() {
            path = from.parent().unwrap_or(Path::new(".")).join(path);
        }
        let found: Vec<PathBuf> = match glob::glob(&path.to_string_lossy()) {
            Ok(paths) => paths.filter_map(Result::ok).collect(),
            Err(_) => vec![path.clone()],
        };
        if found.is_empty() {
            self.problems.push(ReadProblem {
                file: Some(node.file),
                span: pattern.span,
                message: format!("`include` finds no file at {}", path.display()),
                warning: true,
            });
        }
        let mut out = Vec::new();
        for p in found {
            match std::fs::read(&p) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    out.extend(self.read_text(&p, text, depth + 1));
                }
                Err(e) => self.problems.push(ReadProblem {
                    file: Some(node.file),
                    span: pattern.span,
                    message: format!("cannot read included {}: {e}", p.display()),
                    warning: false,
                }),
            }
        }
        out
    }
}

/// Comments left at the end of a block or before a blank line: kept as a statement of
/// their own (the keyword `#`), so that they are not lost or moved onto the next one.
fn loose(into: &mut Vec<Node>, comments: &mut Vec<String>, file: usize) {
    if comments.is_empty() {
        return;
    }
    into.push(Node {
        file,
        words: vec![Word {
            text: "#".into(),
            span: Span::new(0, 0),
            file,
        }],
        block: None,
        comments: std::mem::take(comments),
        trailing: None,
    });
}

/// The tokens of one line (starting at byte `start` of its file) and its comment.
fn tokens(line: &str, start: usize, file: usize) -> (Vec<Tok>, Option<String>) {
    let mut toks = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' || c == b'!' {
            let text = line[i + 1..].trim().to_string();
            return (toks, Some(text));
        } else if c == b'{' {
            toks.push(Tok::Open(Span::new(start + i, start + i + 1)));
            i += 1;
        } else if c == b'}' {
            toks.push(Tok::Close(Span::new(start + i, start + i + 1)));
            i += 1;
        } else if c == b'"' {
            let end = line[i + 1..]
                .find('"')
                .map_or(line.trim_end().len(), |e| i + 1 + e);
            toks.push(Tok::Word(Word {
                text: line[i + 1..end].to_string(),
                span: Span::new(start + i, start + (end + 1).min(line.len())),
                file,
            }));
            i = end + 1;
        } else {
            let mut j = i;
            while j < bytes.len() && !bytes[j].is_ascii_whitespace() && !b"{}\"".contains(&bytes[j])
            {
                j += 1;
            }
            toks.push(Tok::Word(Word {
                text: line[i..j].to_string(),
                span: Span::new(start + i, start + j),
                file,
            }));
            i = j;
        }
    }
    (toks, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<Node>, Vec<ReadProblem>) {
        let mut r = Reader::default();
        let nodes = r.read_text(Path::new("k.conf"), text.into(), 0);
        (nodes, r.problems)
    }

    #[test]
    fn blocks_words_quotes_and_comments() {
        let (nodes, problems) = read(
            "! header\n\nvirtual_server 10.0.0.1 80 {\n  # the pool\n  real_server 10.0.0.2 80 { weight 2 }\n  misc_path \"/bin/x a b\" ! why\n}\n",
        );
        assert!(problems.is_empty());
        assert_eq!(nodes[0].key(), "#");
        assert_eq!(nodes[0].comments, ["header"]);
        let vs = &nodes[1];
        assert_eq!(vs.key(), "virtual_server");
        assert_eq!(vs.args()[1].text, "80");
        let rs = &vs.children()[0];
        assert_eq!(rs.comments, ["the pool"]);
        assert_eq!(rs.children()[0].args()[0].text, "2");
        let misc = &vs.children()[1];
        assert_eq!(misc.args()[0].text, "/bin/x a b");
        assert_eq!(misc.trailing.as_deref(), Some("why"));
    }

    #[test]
    fn unbalanced_braces_are_located() {
        let (_, problems) = read("virtual_server 10.0.0.1 80 {\n  delay_loop 6\n");
        assert_eq!(problems[0].message, "this block is never closed");
        let (_, problems) = read("}\n");
        assert_eq!(problems[0].span, Span::new(0, 1));
    }

    #[test]
    fn includes_are_followed_relative_to_the_file() {
        let dir = std::env::temp_dir().join(format!("lvsc-include-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "virtual_server fwmark 1 {\n}\n").unwrap();
        std::fs::write(dir.join("main.conf"), "include conf.d/*.conf\n").unwrap();
        let mut r = Reader::default();
        let nodes = r.read(&dir.join("main.conf")).unwrap();
        assert_eq!(nodes[0].key(), "virtual_server");
        assert_eq!(nodes[0].file, 1);
        assert!(r.sources[1].name.ends_with("conf.d/a.conf"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
