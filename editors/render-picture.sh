#!/usr/bin/env bash
# Renders examples/web-dr.lvs highlighted by the tree-sitter grammar, through headless
# Chromium, to editors/highlighting.png. Needs tree-sitter and chromium.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$ROOT/editors/tree-sitter-lvs" "$work/grammar"
(cd "$work/grammar" && tree-sitter generate --js-runtime native >/dev/null)
tree-sitter init-config >/dev/null 2>&1 || true
(cd "$work/grammar" && tree-sitter highlight -p . --query-paths queries/highlights.scm --html \
  "$ROOT/examples/web-dr.lvs") >"$work/page.html"
# A larger font and a caption for the picture.
sed -i 's|font-family: monospace|font-family: monospace; font-size: 15px; background: #fdfdf8; padding: 12px|' "$work/page.html"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$work/profile" --hide-scrollbars \
  --window-size=860,760 --screenshot="$ROOT/editors/highlighting.png" "file://$work/page.html" 2>/dev/null
echo "wrote editors/highlighting.png"
