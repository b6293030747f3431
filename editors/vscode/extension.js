// Starts `lvsc lsp` for .lvs files when lvsc is on PATH (or at lvs.server.path).
const { workspace, window } = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");
const { execFileSync } = require("child_process");

let client;

function activate(context) {
  const command = workspace.getConfiguration("lvs").get("server.path", "lvsc");
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
  } catch {
    window.showInformationMessage(`lvsc was not found (${command}): highlighting only, no diagnostics.`);
    return;
  }
  client = new LanguageClient(
    "lvsc",
    "lvsc",
    { command, args: ["lsp"] },
    { documentSelector: [{ scheme: "file", language: "lvs" }] },
  );
  context.subscriptions.push(client);
  client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
