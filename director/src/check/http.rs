//! `http` and `https` checks: one GET on a fresh connection (as keepalived's HTTP_GET and
//! SSL_GET), passing on the expected status. TLS does not verify the real's certificate:
//! a health check asks whether the server answers, and reals behind a balancer commonly
//! carry certificates for the VIP's name, not their own address.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::Failure;

/// GETs `path` from `at` (over TLS with `tls`); passes when the status is `expect`.
pub async fn get(at: SocketAddr, path: &str, expect: u16, tls: bool) -> Result<(), Failure> {
    let tcp = tokio::net::TcpStream::connect(at)
        .await
        .map_err(|e| Failure::io(format_args!("connect to {at}"), &e))?;
    let status = if tls {
        let name = ServerName::IpAddress(at.ip().into());
        let stream = connector()
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {at}: {e}"))?;
        request(TokioIo::new(stream), at, path).await?
    } else {
        request(TokioIo::new(tcp), at, path).await?
    };
    if status == expect {
        Ok(())
    } else {
        Err(format!("{path} answered {status}, not {expect}").into())
    }
}

/// Sends one GET over `io` and returns the status.
async fn request<I>(io: I, at: SocketAddr, path: &str) -> Result<u16, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP with {at}: {e}"))?;
    // The connection runs beside the request and ends with it.
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let host = match at {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, host)
        .header(hyper::header::CONNECTION, "close")
        .header(hyper::header::USER_AGENT, "lvsc-check")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("GET {path}: {e}"))?;
    let answer = sender.send_request(req).await;
    driver.abort();
    let response = answer.map_err(|e| format!("GET {path} from {at}: {e}"))?;
    Ok(response.status().as_u16())
}

/// One TLS client for every check: accepts any certificate, still checks signatures.
fn connector() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(AnyCertificate(provider.clone()));
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Arc::new(config)
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

/// Accepts the server's certificate whatever it names; verifies the handshake signatures
/// with the provider's algorithms, so the TLS exchange itself is sound.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP server that answers `status` and reports the request line.
    async fn server(status: u16) -> (SocketAddr, tokio::task::JoinHandle<String>) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = l.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 1024];
            let n = s.read(&mut buf).await.unwrap();
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let body = "ok";
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(answer.as_bytes()).await.unwrap();
            req
        });
        (at, task)
    }

    #[tokio::test]
    async fn the_expected_status_passes_and_another_fails() {
        let (at, seen) = server(200).await;
        assert_eq!(get(at, "/healthz?x=1", 200, false).await, Ok(()));
        let req = seen.await.unwrap();
        assert!(req.starts_with("GET /healthz?x=1 HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("host: 127.0.0.1"), "{req}");
        let (at, _) = server(503).await;
        let err = get(at, "/", 200, false).await.unwrap_err();
        assert!(
            matches!(&err, Failure::Real(e) if e.contains("503")),
            "{err:?}"
        );
    }
}
