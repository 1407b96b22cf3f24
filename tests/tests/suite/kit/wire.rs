//! A recording proxy for the tests that check what the client puts on the wire: every request
//! is kept (method, path, headers, body) before it is forwarded to the local server, and a test
//! can decide, per request, to lose the server's answer (after the server handled it).
//! Multipart bodies are parsed with `multer`.

#![allow(dead_code)] // Each test module uses part of it.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path without the query.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this request is to the operation whose path ends with `operation`
    /// (`upload_part`, `tenant_access_token/internal`, …).
    pub fn is(&self, operation: &str) -> bool {
        self.path.ends_with(operation)
    }
}

/// What the proxy does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Forward it and pass the answer back.
    Forward,
    /// Forward it (the server handles it), then close the connection without the answer.
    LoseAnswer,
}

type Decide = Arc<dyn Fn(&Recorded) -> Verdict + Send + Sync>;

/// A proxy on a loopback port in front of `upstream`.
pub struct Proxy {
    pub base_url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl Proxy {
    /// Forwards everything.
    pub async fn start(upstream: &str) -> Self {
        Self::deciding(upstream, |_| Verdict::Forward).await
    }

    /// Asks `decide` about each request (after recording it).
    pub async fn deciding(
        upstream: &str,
        decide: impl Fn(&Recorded) -> Verdict + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let base_url = format!("http://{}", listener.local_addr().expect("an address"));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let decide: Decide = Arc::new(decide);
        tokio::spawn({
            let recorded = recorded.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (upstream, recorded, decide) = (upstream.clone(), recorded.clone(), decide.clone());
                    tokio::spawn(async move {
                        let _ = relay(client, &upstream, &recorded, &decide).await;
                    });
                }
            }
        });
        Self { base_url, recorded }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().expect("recorded").clone()
    }

    /// The requests to `operation` (see [`Recorded::is`]).
    pub fn to(&self, operation: &str) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.is(operation)).collect()
    }
}

/// Serves one client connection: each request is read whole, recorded, forwarded on a fresh
/// upstream connection, and answered (or not).
async fn relay(
    mut client: TcpStream,
    upstream: &str,
    recorded: &Mutex<Vec<Recorded>>,
    decide: &Decide,
) -> std::io::Result<()> {
    while let Some((raw, request)) = read_request(&mut client).await? {
        recorded.lock().expect("recorded").push(request.clone());
        let verdict = decide(&request);
        let mut server = TcpStream::connect(upstream).await?;
        server.write_all(&raw).await?;
        let Some(answer) = read_answer(&mut server).await? else {
            return Ok(());
        };
        if verdict == Verdict::LoseAnswer {
            return Ok(());
        }
        client.write_all(&answer).await?;
    }
    Ok(())
}

/// Reads the head of an HTTP/1.1 message; `None` at a clean end of stream.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    Ok(Some(head))
}

fn parse_headers(head: &str) -> Vec<(String, String)> {
    head.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}

fn content_length(headers: &[(String, String)]) -> usize {
    headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// One request: its raw bytes (to forward) and what was recorded of it. The client sends every
/// body with a `content-length` (its multipart parts have known sizes).
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Recorded)>> {
    let Some(mut raw) = read_head(stream).await? else {
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&raw).into_owned();
    let mut first = head.split_whitespace();
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let headers = parse_headers(&head);
    assert!(
        !headers.iter().any(|(n, _)| n == "transfer-encoding"),
        "the proxy reads content-length bodies only: {head}"
    );
    let start = raw.len();
    raw.resize(start + content_length(&headers), 0);
    stream.read_exact(&mut raw[start..]).await?;
    let body = raw[start..].to_vec();
    let recorded = Recorded {
        method,
        path,
        headers,
        body,
    };
    Ok(Some((raw, recorded)))
}

/// The server's answer, whole (the local server answers API calls with a `content-length`).
async fn read_answer(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let Some(mut raw) = read_head(stream).await? else {
        return Ok(None);
    };
    let headers = parse_headers(&String::from_utf8_lossy(&raw));
    let start = raw.len();
    raw.resize(start + content_length(&headers), 0);
    stream.read_exact(&mut raw[start..]).await?;
    Ok(Some(raw))
}

/// The fields of a recorded `multipart/form-data` body, in order: (name, bytes).
pub async fn multipart_fields(request: &Recorded) -> Vec<(String, Vec<u8>)> {
    let content_type = request.header("content-type").expect("a content type");
    let boundary = multer::parse_boundary(content_type).expect("a multipart boundary");
    let body = bytes::Bytes::from(request.body.clone());
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .expect("a well-formed multipart body")
    {
        let name = field.name().expect("every field is named").to_owned();
        let bytes = field.bytes().await.expect("the field's bytes");
        fields.push((name, bytes.to_vec()));
    }
    fields
}

/// The text of field `name`, if the body has it.
pub fn field<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
}

/// The text of field `name`, which the body must have.
pub fn text_field(fields: &[(String, Vec<u8>)], name: &str) -> String {
    let value = field(fields, name).unwrap_or_else(|| panic!("the body has no {name} field"));
    String::from_utf8(value.to_vec()).expect("a text field")
}
