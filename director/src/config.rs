//! The configuration the loop runs: the cluster file compiled, and this director's view.

use std::path::Path;

use lvsc_compiler::views::DirectorView;

/// A cluster file that compiled, seen from one director.
#[derive(Clone, Debug)]
pub struct Config {
    /// The cluster's name.
    pub cluster: String,
    /// This director's services and addresses.
    pub director: DirectorView,
}

/// Why a cluster file cannot be run; a running loop keeps its configuration.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file has errors (each rendered with its source, secrets masked).
    #[error("{path} has {} error(s)", diagnostics.len())]
    Invalid {
        /// The file.
        path: String,
        /// Each diagnostic as a record (code, line, column, message, help).
        diagnostics: Vec<lvsc_lang::diagnostic::DiagnosticRecord>,
    },
    /// No director of that name, or several and none named.
    #[error("{0}")]
    Director(String),
}

impl Config {
    /// Reads and compiles `path`, and takes the view of director `host` (or the only one).
    pub fn load(path: &Path, host: Option<&str>) -> Result<Config, LoadError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: name.clone(),
            source,
        })?;
        let text = match lvsc_lang::decode(&bytes) {
            Ok(t) => t.to_string(),
            Err(d) => {
                let text = lvsc_lang::decode_lossy(&bytes);
                let index = lvsc_lang::LineIndex::new(&text);
                return Err(LoadError::Invalid {
                    path: name.clone(),
                    diagnostics: vec![d.to_record(&name, &text, &index)],
                });
            }
        };
        let compiled = lvsc_compiler::compile_source(&text);
        let Some(cluster) = compiled.cluster else {
            let index = lvsc_lang::LineIndex::new(&text);
            let diagnostics = compiled
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.to_record(&name, &text, &index))
                .collect();
            return Err(LoadError::Invalid {
                path: name,
                diagnostics,
            });
        };
        let views = lvsc_compiler::views(&cluster).directors;
        let names: Vec<&str> = views.iter().map(|d| d.name.as_str()).collect();
        let chosen = match (host, names.as_slice()) {
            (Some(h), _) => views.iter().find(|d| d.name == h).ok_or_else(|| {
                LoadError::Director(format!(
                    "no director is named {h}; directors: {}",
                    names.join(", ")
                ))
            })?,
            (None, [_]) => &views[0],
            (None, _) => {
                return Err(LoadError::Director(format!(
                    "the cluster has directors {}; say which with --host",
                    names.join(", ")
                )));
            }
        };
        Ok(Config {
            cluster: cluster.name.clone(),
            director: chosen.clone(),
        })
    }
}
