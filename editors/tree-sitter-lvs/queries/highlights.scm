; Keywords that open blocks or name things.
((keyword) @keyword
  (#any-of? @keyword "cluster" "defaults" "balancer" "vrrp" "director" "pool" "service" "storage" "real" "bgp"))

; The name right after them: a cluster, pool, service, storage, director or real.
((directive
  keyword: (keyword) @_k
  .
  (word) @type)
  (#any-of? @_k "cluster" "director" "pool" "service" "storage" "real"))

; Every other directive keyword.
(keyword) @function.builtin

; Argument words with a fixed meaning.
((word) @constant.builtin
  (#any-of? @constant.builtin
    "rr" "wrr" "lc" "wlc" "lblc" "lblcr" "dh" "sh" "sed" "nq" "fo" "ovf" "mh"
    "sh-fallback" "sh-port" "mh-fallback" "mh-port"
    "nat" "dr" "tun" "ipip" "gue" "gre" "csum" "tcp" "udp" "sctp" "http" "https" "misc" "none"
    "pass" "ah" "env" "file" "master" "backup" "inet" "inet6" "on" "drain"))

((word) @property
  (#any-of? @property
    "weight" "upper" "lower" "via" "expect" "every" "timeout" "retry" "netmask" "hysteresis"
    "version" "credentials" "options" "id" "priority" "state" "port" "pool"))

(string) @string
(escape) @string.escape
(path) @string.special
(address) @number
(duration) @number
(number) @number
(community) @number
(comment) @comment
["{" "}"] @punctuation.bracket
";" @punctuation.delimiter
