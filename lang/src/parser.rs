//! Builds the concrete syntax tree from tokens, recovering from every error it reports.

use crate::codes;
use crate::cst::{Block, Directive, File, Item, ItemKind};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Lexer, Token, TokenKind};
use crate::span::{Span, Spanned};
use crate::value::Value;

/// Deeper than any real file needs; keeps recursion far from the stack limit.
pub const MAX_DEPTH: usize = 16;

/// Parses `source` into a [`File`]; errors go to `errors`, the tree is always returned.
pub fn parse(source: &str, errors: &mut Vec<Diagnostic>) -> File {
    File {
        items: Parser::new(source, errors).items(0),
    }
}

/// Parses `source` one top-level item at a time, handing each to `sink` as soon as it is
/// complete: a caller that keeps only what it needs from each never holds the whole tree.
pub fn parse_each(source: &str, errors: &mut Vec<Diagnostic>, sink: &mut dyn FnMut(Item)) {
    Parser::new(source, errors).each_item(0, sink);
}

struct Parser<'s, 'e> {
    lexer: Lexer<'s>,
    /// One token of lookahead; tokens are lexed on demand and moved into the tree.
    peeked: Option<Token>,
    /// The span of the last token taken.
    last: Span,
    errors: &'e mut Vec<Diagnostic>,
    eof: Span,
}

impl<'s, 'e> Parser<'s, 'e> {
    fn new(source: &'s str, errors: &'e mut Vec<Diagnostic>) -> Self {
        Parser {
            lexer: Lexer::new(source),
            peeked: None,
            last: Span::default(),
            errors,
            eof: Span::new(source.len(), source.len()),
        }
    }

    fn peek(&mut self) -> Option<&Token> {
        if self.peeked.is_none() {
            self.peeked = self.lexer.next_token(self.errors);
        }
        self.peeked.as_ref()
    }

    fn bump(&mut self) -> Option<Token> {
        self.peek();
        let t = self.peeked.take();
        if let Some(t) = &t {
            self.last = t.span;
        }
        t
    }

    /// Items until end of input (depth 0) or a `}` (inside a block, not consumed).
    fn items(&mut self, depth: usize) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        self.each_item(depth, &mut |i| items.push(i));
        items
    }

    /// The items of one level, each handed to `sink` once complete.
    fn each_item(&mut self, depth: usize, sink: &mut dyn FnMut(Item)) {
        let mut any = false;
        let mut newlines = 0usize;
        while let Some(tok) = self.peek() {
            let span = tok.span;
            let blank_before = newlines >= 2 && any;
            // What the token is, copied out so the lookahead borrow ends here.
            let found = match &tok.kind {
                TokenKind::Newline => {
                    newlines += 1;
                    self.bump();
                    continue;
                }
                TokenKind::Semi => {
                    self.bump();
                    continue;
                }
                TokenKind::RBrace if depth > 0 => break,
                TokenKind::RBrace => {
                    self.errors.push(
                        Diagnostic::error(codes::UNMATCHED_BRACE, span, "unmatched `}`")
                            .with_label("no block is open here")
                            .with_help("remove this `}` or add the `{` it closes"),
                    );
                    self.bump();
                    continue;
                }
                TokenKind::Comment(_) => {
                    let Some(Token {
                        kind: TokenKind::Comment(text),
                        ..
                    }) = self.bump()
                    else {
                        unreachable!("peeked")
                    };
                    sink(Item {
                        kind: ItemKind::Comment(Spanned::new(text, span)),
                        blank_before,
                    });
                    any = true;
                    newlines = 0;
                    continue;
                }
                TokenKind::Atom(Value::Word(_)) => {
                    let d = self.directive(depth);
                    sink(Item {
                        kind: ItemKind::Directive(d),
                        blank_before,
                    });
                    any = true;
                    newlines = 0;
                    continue;
                }
                TokenKind::Atom(Value::Invalid) => None,
                TokenKind::LBrace => Some("`{`"),
                TokenKind::Atom(v) => Some(v.describe()),
            };
            if let Some(found) = found {
                self.errors.push(
                    Diagnostic::error(
                        codes::EXPECTED_KEYWORD,
                        span,
                        format!("expected a keyword, found {found}"),
                    )
                    .with_label("a directive starts with a keyword here")
                    .with_help(
                        "every line is `keyword arguments...`, e.g. `real rs1 192.0.2.21 weight 3`",
                    ),
                );
            }
            self.skip_statement();
            newlines = 0;
        }
    }

    /// Skips to the end of the current statement, jumping over whole blocks.
    fn skip_statement(&mut self) {
        while let Some(tok) = self.peek() {
            match tok.kind {
                TokenKind::Newline | TokenKind::Semi | TokenKind::RBrace => return,
                TokenKind::LBrace => {
                    self.skip_balanced();
                    return;
                }
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// Skips a `{ ... }` group without recursion, however deep it nests.
    fn skip_balanced(&mut self) {
        let mut depth = 0usize;
        while let Some(tok) = self.bump() {
            match tok.kind {
                TokenKind::LBrace => depth += 1,
                TokenKind::RBrace => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    fn directive(&mut self, depth: usize) -> Directive {
        let Some(Token {
            kind: TokenKind::Atom(Value::Word(name)),
            span: name_span,
        }) = self.bump()
        else {
            unreachable!("caller checked")
        };
        let mut args = Vec::new();
        let mut end = name_span;
        while let Some(Token {
            kind: TokenKind::Atom(_),
            span,
        }) = self.peek()
        {
            let span = *span;
            let Some(Token {
                kind: TokenKind::Atom(v),
                ..
            }) = self.bump()
            else {
                unreachable!("peeked an atom")
            };
            args.push(Spanned::new(v, span));
            end = span;
        }
        let mut block = None;
        if let Some(Token {
            kind: TokenKind::LBrace,
            span,
        }) = self.peek()
        {
            let open = *span;
            if depth + 1 > MAX_DEPTH {
                self.errors.push(
                    Diagnostic::error(
                        codes::TOO_DEEP,
                        open,
                        format!("blocks nest deeper than {MAX_DEPTH} levels"),
                    )
                    .with_label("this block is too deep")
                    .with_help("an .lvs file needs at most three levels: remove the extra braces"),
                );
                self.skip_balanced();
                end = self.last;
                block = Some(Block {
                    items: Vec::new(),
                    open,
                    close: end,
                });
            } else {
                self.bump();
                let items = self.items(depth + 1);
                let close = match self.peek() {
                    Some(Token {
                        kind: TokenKind::RBrace,
                        span,
                    }) => {
                        let s = *span;
                        self.bump();
                        s
                    }
                    _ => {
                        self.errors.push(
                            Diagnostic::error(
                                codes::UNCLOSED_BLOCK,
                                open,
                                format!("the block of `{name}` is never closed"),
                            )
                            .with_label("this `{` has no matching `}`")
                            .with_help("add `}` after the last directive of the block"),
                        );
                        self.eof
                    }
                };
                end = close;
                block = Some(Block { items, open, close });
            }
        }
        let trailing_comment = match self.peek() {
            Some(Token {
                kind: TokenKind::Comment(_),
                ..
            }) => match self.bump() {
                Some(Token {
                    kind: TokenKind::Comment(text),
                    span,
                }) => Some(Spanned::new(text, span)),
                _ => unreachable!("peeked a comment"),
            },
            _ => None,
        };
        Directive {
            name: Spanned::new(name, name_span),
            args,
            block,
            trailing_comment,
            span: name_span.join(end),
        }
    }
}
