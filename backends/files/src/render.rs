//! The template environment: the template files and the shell-quoting filter.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

/// Every template, by the name of the file it renders.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "keepalived.conf",
        include_str!("../templates/keepalived.conf.j2"),
    ),
    (
        "keepalived-service",
        include_str!("../templates/keepalived-service.j2"),
    ),
    (
        "keepalived-real",
        include_str!("../templates/keepalived-real.j2"),
    ),
    ("sysctl.conf", include_str!("../templates/sysctl.conf.j2")),
    ("setup.sh", include_str!("../templates/setup.sh.j2")),
    ("exports", include_str!("../templates/exports.j2")),
    ("bird.conf", include_str!("../templates/bird.conf.j2")),
    ("frr.conf", include_str!("../templates/frr.conf.j2")),
    ("inventory.yml", include_str!("../ansible/inventory.yml.j2")),
    (
        "lvsc-run.service",
        include_str!("../templates/lvsc-run.service.j2"),
    ),
];

/// The templates, loaded once.
pub static RENDERER: std::sync::LazyLock<Renderer> = std::sync::LazyLock::new(Renderer::new);

/// Renders templates with strict undefined checks and stable whitespace.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// Loads every template.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("valid syntax config"),
        );
        env.add_filter("sh", sh_quote);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .expect("templates are valid; covered by tests");
        }
        Renderer { env }
    }

    /// Renders template `name` with exactly `ctx`: a part of a file, as it is.
    pub fn render_plain(&self, name: &str, ctx: Value) -> String {
        let tmpl = self.env.get_template(name).expect("known template");
        tmpl.render(ctx)
            .unwrap_or_else(|e| panic!("template {name} does not fit its model: {e:#}"))
    }

    /// Renders template `name` with `model` plus `cluster` and `host`.
    pub fn render(&self, name: &str, cluster: &str, host: &str, model: impl Serialize) -> String {
        let tmpl = self.env.get_template(name).expect("known template");
        let ctx = context! { cluster => cluster, host => host, ..Value::from(Serde(&model)) };
        let mut out = tmpl
            .render(ctx)
            .unwrap_or_else(|e| panic!("template {name} does not fit its model: {e:#}"));
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

/// Quotes a value for bash in single quotes, so nothing inside is ever expanded.
///
/// Always quoting (shlex quotes only when needed) keeps every value visibly data and
/// keeps shellcheck quiet about bare words such as `env` (SC2209).
pub fn sh_quote(value: String) -> Result<String, minijinja::Error> {
    if value.contains('\0') {
        // Unreachable from a checked cluster: the compiler rejects control characters.
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "NUL byte in a shell value",
        ));
    }
    Ok(format!("'{}'", value.replace('\'', r"'\''")))
}
