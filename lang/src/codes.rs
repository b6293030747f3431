//! Stable diagnostic codes of the language layer (`lvsc::syntax::*`).
//!
//! Codes are part of the interface: tools match on them, so they never change meaning.

/// Declares stable diagnostic codes, each a `pub const` with its doc line, and `ALL`,
/// every code of the module (a test requires one fixture per code).
#[macro_export]
macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $code;)*
        /// Every code declared in this module.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

crate::codes! {
    /// A string without a closing quote on its line.
    UNTERMINATED_STRING = "lvsc::syntax::unterminated-string";
    /// An unknown `\x` escape inside a string.
    BAD_ESCAPE = "lvsc::syntax::bad-escape";
    /// A number or duration that does not fit 64 bits.
    NUMBER_TOO_LARGE = "lvsc::syntax::number-too-large";
    /// Digits followed by something that is not a duration unit.
    BAD_DURATION = "lvsc::syntax::bad-duration";
    /// Something that looks like an address but is not one.
    BAD_ADDRESS = "lvsc::syntax::bad-address";
    /// A character that cannot appear outside a string.
    BAD_CHARACTER = "lvsc::syntax::bad-character";
    /// A directive that does not start with a keyword.
    EXPECTED_KEYWORD = "lvsc::syntax::expected-keyword";
    /// A `}` with no open block.
    UNMATCHED_BRACE = "lvsc::syntax::unmatched-brace";
    /// A `{` that is never closed.
    UNCLOSED_BLOCK = "lvsc::syntax::unclosed-block";
    /// Blocks nested deeper than the language ever needs.
    TOO_DEEP = "lvsc::syntax::nesting-too-deep";
    /// A keyword that is not known in this place.
    UNKNOWN_KEYWORD = "lvsc::syntax::unknown-keyword";
    /// A directive that needs an argument it did not get.
    MISSING_ARGUMENT = "lvsc::syntax::missing-argument";
    /// An argument of the wrong kind (a word where a number belongs, ...).
    WRONG_ARGUMENT = "lvsc::syntax::wrong-argument";
    /// More arguments than the directive takes.
    UNEXPECTED_ARGUMENT = "lvsc::syntax::unexpected-argument";
    /// A directive that may appear once, written twice.
    DUPLICATE_DIRECTIVE = "lvsc::syntax::duplicate-directive";
    /// A directive that needs a `{ ... }` block and has none.
    MISSING_BLOCK = "lvsc::syntax::missing-block";
    /// A `{ ... }` block on a directive that takes none.
    UNEXPECTED_BLOCK = "lvsc::syntax::unexpected-block";
    /// A block without a directive it must contain.
    MISSING_DIRECTIVE = "lvsc::syntax::missing-directive";
    /// A number outside the range its place allows (a port above 65535, ...).
    OUT_OF_RANGE = "lvsc::syntax::out-of-range";
    /// The file is not UTF-8 text.
    NOT_UTF8 = "lvsc::syntax::not-utf8";
    /// Two mutually exclusive directives in one block (`vip` and `fwmark` forms, ...).
    CONFLICT = "lvsc::syntax::conflict";
}
