//! A tiny HTTP/1.1 receiver for callbacks: it reads each POST and answers the status its handler
//! gives.

use std::future::Future;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One POST a receiver got.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub content_type: String,
    pub body: String,
}

/// Serves `listener` until the test ends: each POST goes to `handle`, whose status is the answer
/// (with a 2-byte body); anything else closes the connection unanswered.
pub fn serve_posts<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(Post) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = u16> + Send,
{
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let handle = handle.clone();
            tokio::spawn(async move {
                let Some(post) = read_post(&mut conn).await else {
                    return;
                };
                let status = handle(post).await;
                let answer = format!(
                    "HTTP/1.1 {status} Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                let _ = conn.write_all(answer.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
}

/// Reads one HTTP/1.1 POST with a `Content-Length` body; `None` for anything else.
async fn read_post(conn: &mut TcpStream) -> Option<Post> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let length: usize = header("content-length")?.parse().ok()?;
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let request_line = head.lines().next()?.to_string();
    let mut parts = request_line.split(' ');
    if parts.next()? != "POST" {
        return None;
    }
    Some(Post {
        path: parts.next()?.to_string(),
        content_type: header("content-type").unwrap_or_default(),
        body: String::from_utf8(buf[head_end..head_end + length].to_vec()).ok()?,
    })
}
