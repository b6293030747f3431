/**
 * Tree-sitter grammar for LVS cluster files (.lvs), the language of lvsc.
 * The structure mirrors lvsc's own parser: a file is directives, a directive is a
 * keyword, arguments and an optional block.
 */
module.exports = grammar({
  name: 'lvs',

  extras: $ => [/[ \t\r\f\v\uFEFF]/, $.comment],

  rules: {
    source_file: $ => optional($._body),

    // Directives separated by newlines or `;`; the last one before `}` or the end
    // needs none.
    _body: $ => choice(
      seq(repeat1(seq(optional($.directive), $._separator)), optional($.directive)),
      $.directive,
    ),

    _separator: _ => choice('\n', ';'),

    directive: $ => seq(
      field('keyword', $.keyword),
      repeat($._argument),
      optional(field('body', $.block)),
    ),

    block: $ => seq('{', optional($._body), '}'),

    _argument: $ => choice(
      $.string,
      $.address,
      $.duration,
      $.community,
      $.number,
      $.path,
      $.word,
    ),

    // The first word of a directive.
    keyword: _ => /[A-Za-z_][A-Za-z0-9_.-]*/,

    word: _ => token(prec(-1, /[A-Za-z_][A-Za-z0-9_.-]*/)),

    string: $ => seq('"', repeat(choice(/[^"\\\n]+/, $.escape)), '"'),
    escape: _ => /\\["\\nt]/,

    duration: _ => token(/[0-9]+(ms|s|m|h|d)/),
    number: _ => token(/[0-9]+(\.[0-9]+){0,2}/),
    // A BGP community (65001:100) or large community (65001:1:2).
    community: _ => token(/[0-9]+:[0-9]+(:[0-9]+)?/),
    address: _ => token(choice(
      /[0-9]{1,3}(\.[0-9]{1,3}){3}(\/[0-9]{1,2})?(:[0-9]+(\/(tcp|udp|sctp))?|:\/[^\s{};#"]*)?/,
      /\[[0-9A-Fa-f:.]+\](:[0-9]+(\/(tcp|udp|sctp))?)?/,
      /[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(\/[0-9]{1,3})?/,
    )),
    path: _ => token(/\/[^\s{};#"]*/),

    comment: _ => token(seq('#', /.*/)),
  },
});
