" Vim syntax for LVS cluster files (.lvs), the language of lvsc.
if exists('b:current_syntax') | finish | endif

syn iskeyword @,48-57,_,-,.

syn match   lvsComment   "#.*$" contains=@Spell
syn region  lvsString    start=+"+ skip=+\\\\\|\\"+ end=+"\|$+ contains=lvsEscape
syn match   lvsEscape    +\\[\\"nt]+ contained
syn keyword lvsBlock     cluster defaults balancer pool service storage vrrp director real bgp nextgroup=lvsName skipwhite
syn match   lvsName      "[A-Za-z_][A-Za-z0-9_.-]*" contained
syn keyword lvsDirective vip fwmark family forward scheduler persistence check sorry quorum route mtu ops table-size port weight advert auth interface nopreempt address priority state gateway sync sysctl server export-options mount asn neighbor hold community local-pref router-id announce
syn keyword lvsStorage   nfs cifs gfs2 ocfs2 gpfs cephfs glusterfs coda database
syn keyword lvsScheduler rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh sh-fallback sh-port mh-fallback mh-port
syn keyword lvsConstant  nat dr tun ipip gue gre csum tcp udp sctp http https misc none pass ah env file master backup inet inet6 on drain
syn keyword lvsOption    upper lower via expect every timeout retry netmask hysteresis version credentials options id password bfd manage
syn match   lvsAddress   "\<\d\{1,3}\(\.\d\{1,3}\)\{3}\(/\d\+\)\=\(:\d\+\(/\(tcp\|udp\|sctp\)\)\=\|:/\S*\)\="
syn match   lvsAddress   "\[[0-9A-Fa-f:.]\+\]\(:\d\+\(/\(tcp\|udp\|sctp\)\)\=\)\="
syn match   lvsDuration  "\<\d\+\(ms\|s\|m\|h\|d\)\>"
syn match   lvsNumber    "\<\d\+\>"
syn match   lvsPath      "\(^\|\s\)\zs/[^ \t{};#\"]*"

hi def link lvsComment   Comment
hi def link lvsString    String
hi def link lvsEscape    SpecialChar
hi def link lvsBlock     Statement
hi def link lvsName      Type
hi def link lvsDirective Keyword
hi def link lvsStorage   StorageClass
hi def link lvsScheduler Constant
hi def link lvsConstant  Constant
hi def link lvsOption    Identifier
hi def link lvsAddress   Number
hi def link lvsDuration  Number
hi def link lvsNumber    Number
hi def link lvsPath      String

let b:current_syntax = 'lvs'
