//! `lvsc status`: the running loop answers on a Unix socket (under /run/lvsc by
//! default) with its state as one JSON document, then closes the connection.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::health::State;

/// Where the loop answers unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/lvsc/run.sock";

/// The loop's state, as `lvsc status` shows it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    /// The cluster.
    pub cluster: String,
    /// The director.
    pub host: String,
    /// The data plane.
    pub dataplane: String,
    /// Configuration reloads applied since the start.
    pub reloads: u64,
    /// Every service.
    pub services: Vec<ServiceStatus>,
}

/// One service's state.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// Name.
    pub name: String,
    /// Whether it has its quorum.
    pub quorum_up: bool,
    /// The weight of its reals that serve.
    pub live_weight: u32,
    /// The weight it needs.
    pub quorum: u32,
    /// Whether the sorry server serves it now.
    pub sorry_active: bool,
    /// Its reals.
    pub reals: Vec<RealStatus>,
}

/// One real's state within a service.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RealStatus {
    /// Name.
    pub name: String,
    /// `addr:port`.
    pub endpoint: String,
    /// Pending, presumed, up or down.
    pub state: State,
    /// Failed checks in a row.
    pub failures: u32,
    /// The weight it has in the file.
    pub weight: u32,
    /// The weight it has in the data plane now.
    pub serving_weight: u32,
    /// The last check's duration, in milliseconds.
    pub last_check_ms: Option<f64>,
    /// Why the last check failed.
    pub last_error: Option<String>,
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "pending" => State::Pending,
            "presumed" => State::Presumed,
            "up" => State::Up,
            _ => State::Down,
        })
    }
}

/// Refuses to start beside another loop: one that answers on `path` is running.
pub fn ensure_free(path: &Path) -> std::io::Result<()> {
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "another `lvsc run` answers on {}: two loops would fight over the data plane",
                path.display()
            ),
        )),
        Err(_) => Ok(()),
    }
}

/// A request for the loop's state: the loop answers on the channel it carries.
pub type Request = tokio::sync::oneshot::Sender<Snapshot>;

/// Answers every connection on `path` with the loop's state, asked of the loop through
/// `ask` when a client connects (so checks cost nothing to keep the status current).
pub async fn serve(path: &Path, ask: tokio::sync::mpsc::Sender<Request>) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A socket left by a process that died: only a socket is ever removed here.
    if std::fs::symlink_metadata(path).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_socket()
    }) {
        std::fs::remove_file(path)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    // The state is for the operator (root) alone.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    loop {
        let (mut stream, _) = listener.accept().await?;
        let ask = ask.clone();
        tokio::spawn(async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if ask.send(tx).await.is_err() {
                return;
            }
            let Ok(snapshot) = rx.await else {
                return;
            };
            let text = serde_json::to_string(&snapshot).expect("the snapshot serialises");
            let _ = stream.write_all(text.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// Asks the loop listening on `path` for its state.
pub fn query(path: &Path) -> std::io::Result<Snapshot> {
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("{}: {e} (is `lvsc run` running?)", path.display()),
        )
    })?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_loop_is_refused_while_the_first_answers() {
        let dir = std::env::temp_dir().join(format!("lvsc-status-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("run.sock");
        let _ = std::fs::remove_file(&path);
        assert!(ensure_free(&path).is_ok(), "no socket yet");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let err = ensure_free(&path).unwrap_err();
        assert!(err.to_string().contains("another `lvsc run`"), "{err}");
        drop(listener);
        assert!(path.exists(), "a dead loop's socket stays behind");
        assert!(ensure_free(&path).is_ok(), "nobody answers on it");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
