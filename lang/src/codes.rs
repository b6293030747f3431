//! Stable diagnostic codes of the language layer (`lvsc::syntax::*`).
//!
//! Codes are part of the interface: tools match on them, so they never change meaning.

/// A string without a closing quote on its line.
pub const UNTERMINATED_STRING: &str = "lvsc::syntax::unterminated-string";
/// An unknown `\x` escape inside a string.
pub const BAD_ESCAPE: &str = "lvsc::syntax::bad-escape";
/// A number or duration that does not fit 64 bits.
pub const NUMBER_TOO_LARGE: &str = "lvsc::syntax::number-too-large";
/// Digits followed by something that is not a duration unit.
pub const BAD_DURATION: &str = "lvsc::syntax::bad-duration";
/// Something that looks like an address but is not one.
pub const BAD_ADDRESS: &str = "lvsc::syntax::bad-address";
/// A character that cannot appear outside a string.
pub const BAD_CHARACTER: &str = "lvsc::syntax::bad-character";
/// A directive that does not start with a keyword.
pub const EXPECTED_KEYWORD: &str = "lvsc::syntax::expected-keyword";
/// A `}` with no open block.
pub const UNMATCHED_BRACE: &str = "lvsc::syntax::unmatched-brace";
/// A `{` that is never closed.
pub const UNCLOSED_BLOCK: &str = "lvsc::syntax::unclosed-block";
/// Blocks nested deeper than the language ever needs.
pub const TOO_DEEP: &str = "lvsc::syntax::nesting-too-deep";
/// A keyword that is not known in this place.
pub const UNKNOWN_KEYWORD: &str = "lvsc::syntax::unknown-keyword";
/// A directive that needs an argument it did not get.
pub const MISSING_ARGUMENT: &str = "lvsc::syntax::missing-argument";
/// An argument of the wrong kind (a word where a number belongs, ...).
pub const WRONG_ARGUMENT: &str = "lvsc::syntax::wrong-argument";
/// More arguments than the directive takes.
pub const UNEXPECTED_ARGUMENT: &str = "lvsc::syntax::unexpected-argument";
/// A directive that may appear once, written twice.
pub const DUPLICATE_DIRECTIVE: &str = "lvsc::syntax::duplicate-directive";
/// A directive that needs a `{ ... }` block and has none.
pub const MISSING_BLOCK: &str = "lvsc::syntax::missing-block";
/// A `{ ... }` block on a directive that takes none.
pub const UNEXPECTED_BLOCK: &str = "lvsc::syntax::unexpected-block";
/// A block without a directive it must contain.
pub const MISSING_DIRECTIVE: &str = "lvsc::syntax::missing-directive";
/// A number outside the range its place allows (a port above 65535, ...).
pub const OUT_OF_RANGE: &str = "lvsc::syntax::out-of-range";
/// The file is not UTF-8 text.
pub const NOT_UTF8: &str = "lvsc::syntax::not-utf8";
/// Two mutually exclusive directives in one block (`vip` and `fwmark` forms, ...).
pub const CONFLICT: &str = "lvsc::syntax::conflict";

/// Every code of this layer, for tests that need one fixture per code.
pub const ALL: &[&str] = &[
    UNTERMINATED_STRING,
    BAD_ESCAPE,
    NUMBER_TOO_LARGE,
    BAD_DURATION,
    BAD_ADDRESS,
    BAD_CHARACTER,
    EXPECTED_KEYWORD,
    UNMATCHED_BRACE,
    UNCLOSED_BLOCK,
    TOO_DEEP,
    UNKNOWN_KEYWORD,
    MISSING_ARGUMENT,
    WRONG_ARGUMENT,
    UNEXPECTED_ARGUMENT,
    DUPLICATE_DIRECTIVE,
    MISSING_BLOCK,
    UNEXPECTED_BLOCK,
    MISSING_DIRECTIVE,
    OUT_OF_RANGE,
    NOT_UTF8,
    CONFLICT,
];
