" LVS cluster files. Vim's own filetype.vim calls *.lvs "dracula" (a rare language):
" set the type outright so it wins.
autocmd BufRead,BufNewFile *.lvs set filetype=lvs
