//! Builds the concrete syntax tree from tokens, recovering from every error it reports.

use crate::codes;
use crate::cst::{Block, Directive, File, Item, ItemKind};
use crate::diagnostic::Diagnostic;
use crate::lexer::{Token, TokenKind};
use crate::span::{Span, Spanned};
use crate::value::Value;

/// Deeper than any real file needs; keeps recursion far from the stack limit.
pub const MAX_DEPTH: usize = 16;

/// Parses tokens into a [`File`]; errors go to `errors`, the tree is always returned.
pub fn parse_tokens(tokens: &[Token], source_len: usize, errors: &mut Vec<Diagnostic>) -> File {
    let mut p = Parser {
        tokens,
        pos: 0,
        errors,
        eof: Span::new(source_len, source_len),
    };
    let items = p.items(0);
    File { items }
}

struct Parser<'t, 'e> {
    tokens: &'t [Token],
    pos: usize,
    errors: &'e mut Vec<Diagnostic>,
    eof: Span,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    /// Items until end of input (depth 0) or a `}` (inside a block, not consumed).
    fn items(&mut self, depth: usize) -> Vec<Item> {
        let mut items: Vec<Item> = Vec::new();
        let mut newlines = 0usize;
        while let Some(tok) = self.peek() {
            let span = tok.span;
            match &tok.kind {
                TokenKind::Newline => {
                    newlines += 1;
                    self.pos += 1;
                }
                TokenKind::Semi => self.pos += 1,
                TokenKind::RBrace if depth > 0 => break,
                TokenKind::RBrace => {
                    self.errors.push(
                        Diagnostic::error(codes::UNMATCHED_BRACE, span, "unmatched `}`")
                            .with_label("no block is open here")
                            .with_help("remove this `}` or add the `{` it closes"),
                    );
                    self.pos += 1;
                }
                TokenKind::Comment(text) => {
                    let item = Item {
                        kind: ItemKind::Comment(Spanned::new(text.clone(), span)),
                        blank_before: newlines >= 2 && !items.is_empty(),
                    };
                    items.push(item);
                    newlines = 0;
                    self.pos += 1;
                }
                TokenKind::Atom(Value::Word(_)) => {
                    let d = self.directive(depth);
                    items.push(Item {
                        kind: ItemKind::Directive(d),
                        blank_before: newlines >= 2 && !items.is_empty(),
                    });
                    newlines = 0;
                }
                TokenKind::LBrace | TokenKind::Atom(_) => {
                    let found = match &tok.kind {
                        TokenKind::LBrace => "`{`",
                        TokenKind::Atom(v) => v.describe(),
                        _ => unreachable!("matched above"),
                    };
                    if !matches!(tok.kind, TokenKind::Atom(Value::Invalid)) {
                        self.errors.push(
                            Diagnostic::error(codes::EXPECTED_KEYWORD, span, format!("expected a keyword, found {found}"))
                                .with_label("a directive starts with a keyword here")
                                .with_help("every line is `keyword arguments...`, e.g. `real rs1 192.0.2.21 weight 3`"),
                        );
                    }
                    self.skip_statement();
                    newlines = 0;
                }
            }
        }
        items
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
                _ => self.pos += 1,
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
        let tok = self.bump().expect("caller peeked a word").clone();
        let TokenKind::Atom(Value::Word(name)) = tok.kind else {
            unreachable!("caller checked")
        };
        let mut args = Vec::new();
        let mut end = tok.span;
        while let Some(Token {
            kind: TokenKind::Atom(v),
            span,
        }) = self.peek()
        {
            args.push(Spanned::new(v.clone(), *span));
            end = *span;
            self.pos += 1;
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
                end = self
                    .tokens
                    .get(self.pos.saturating_sub(1))
                    .map_or(open, |t| t.span);
                block = Some(Block {
                    items: Vec::new(),
                    open,
                    close: end,
                });
            } else {
                self.pos += 1;
                let items = self.items(depth + 1);
                let close = match self.peek() {
                    Some(Token {
                        kind: TokenKind::RBrace,
                        span,
                    }) => {
                        let s = *span;
                        self.pos += 1;
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
                kind: TokenKind::Comment(text),
                span,
            }) => {
                let c = Spanned::new(text.clone(), *span);
                self.pos += 1;
                Some(c)
            }
            _ => None,
        };
        Directive {
            name: Spanned::new(name, tok.span),
            args,
            block,
            trailing_comment,
            span: tok.span.join(end),
        }
    }
}
