//! `misc` checks: a program and its arguments, split on spaces and run without a shell
//! (as keepalived runs MISC_CHECK), killed when the timeout passes.

use std::process::Stdio;
use std::time::Duration;

use super::Failure;

/// Runs `command`; passes on exit status 0.
pub async fn run(command: &str, timeout_ms: u64) -> Result<(), Failure> {
    let mut words = command.split(' ').filter(|w| !w.is_empty());
    let program = words
        .next()
        .ok_or_else(|| Failure::Real("an empty command".into()))?;
    let mut child = tokio::process::Command::new(program)
        .args(words)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Failure::io(format_args!("run {program}"), &e))?;
    match tokio::time::timeout(Duration::from_millis(timeout_ms), child.wait()).await {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => Err(format!("{program} exited with {status}").into()),
        Ok(Err(e)) => Err(Failure::Local(format!("wait for {program}: {e}"))),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!("{program} ran past {timeout_ms} ms").into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn exit_status_decides_and_the_timeout_kills() {
        assert_eq!(run("/bin/true", 2000).await, Ok(()));
        assert!(run("/bin/false", 2000).await.is_err());
        assert!(run("/bin/sh -c exit 0", 2000).await.is_ok());
        let slow = run("/bin/sleep 5", 100).await.unwrap_err();
        assert!(
            matches!(&slow, Failure::Real(e) if e.contains("ran past")),
            "{slow:?}"
        );
        assert!(run("/nonexistent/check", 2000).await.is_err());
    }
}
