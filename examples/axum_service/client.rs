//! Just enough of an HTTP/1.1 client to call the service: one request per connection
//! (`Connection: close`), the answer read to the end. Shared with `tests/axum_service.rs`.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `method path` with an optional JSON `body`; the answer's status and body.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> std::io::Result<(u16, serde_json::Value)> {
    let body = body.map(serde_json::Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let answer = String::from_utf8_lossy(&answer);
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("an answer without a blank line after its head"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("an answer without a status"))?;
    let body = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(body).map_err(|e| bad(&format!("a body that is not JSON: {e}")))?
    };
    Ok((status, body))
}
