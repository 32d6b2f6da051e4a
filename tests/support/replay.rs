//! A tiny HTTP server on 127.0.0.1 that answers AWS API calls with recorded responses.
//!
//! A recording is a directory with `exchanges.json` and the response bodies it names. Each
//! exchange matches an operation (the `X-Amz-Target` suffix for the JSON protocols, the
//! `Action` form field for the query protocol), optionally the paging token the request
//! carries (`NextToken` or `Marker`) and request fields; the first match answers. A request
//! nothing matches gets `AccessDenied` in its own protocol, the way AWS refuses a caller
//! without permission, so recordings only hold what a scenario allows.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Deserialize)]
struct Recording {
    exchanges: Vec<Exchange>,
}

#[derive(Debug, Clone, Deserialize)]
struct Exchange {
    operation: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, String>,
    #[serde(default = "ok")]
    status: u16,
    body: String,
}

fn ok() -> u16 {
    200
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    pub operation: String,
    /// The raw `X-Amz-Target` header, for JSON-protocol calls.
    pub target_header: Option<String>,
    pub token: Option<String>,
    pub params: BTreeMap<String, String>,
    /// Whether a recorded exchange answered it (otherwise: `AccessDenied`).
    pub matched: bool,
}

pub struct ReplayServer {
    pub endpoint: String,
    received: Arc<Mutex<Vec<ReceivedRequest>>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl ReplayServer {
    /// Serves the recording in `dir` until dropped.
    pub fn start(dir: &Path) -> Self {
        let text = std::fs::read_to_string(dir.join("exchanges.json")).unwrap_or_else(|error| {
            panic!("cannot read `{}/exchanges.json`: {error}", dir.display())
        });
        let recording: Recording = serde_json::from_str(&text).expect("exchanges.json parses");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let state = (recording, dir.to_path_buf(), received.clone(), stop.clone());
        std::thread::spawn(move || {
            let (recording, dir, received, stop) = state;
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (recording, dir, received) = (recording.clone(), dir.clone(), received.clone());
                std::thread::spawn(move || serve(stream, &recording, &dir, &received));
            }
        });
        Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            received,
            stop,
            port,
        }
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.received.lock().expect("lock").clone()
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    stream: TcpStream,
    recording: &Recording,
    dir: &Path,
    received: &Mutex<Vec<ReceivedRequest>>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut headers = BTreeMap::new();
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body = String::from_utf8_lossy(&body).into_owned();

    let target_header = headers.get("x-amz-target").cloned();
    let json_protocol = target_header.is_some();
    let (operation, token, params) = match &target_header {
        Some(target) => {
            let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
            let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let mut params = BTreeMap::new();
            if let Some(object) = value.as_object() {
                for (key, value) in object {
                    if let Some(text) = value.as_str() {
                        params.insert(key.clone(), text.to_owned());
                    }
                }
            }
            let token = params.get("NextToken").cloned();
            (operation, token, params)
        }
        None => {
            let params: BTreeMap<String, String> = body
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .map(|(key, value)| (decode_form(key), decode_form(value)))
                .collect();
            let operation = params.get("Action").cloned().unwrap_or_default();
            let token = params
                .get("Marker")
                .or_else(|| params.get("NextToken"))
                .cloned();
            (operation, token, params)
        }
    };
    let exchange = recording.exchanges.iter().find(|exchange| {
        exchange.operation == operation
            && exchange.token == token
            && exchange
                .params
                .iter()
                .all(|(key, value)| params.get(key) == Some(value))
    });
    received.lock().expect("lock").push(ReceivedRequest {
        operation: operation.clone(),
        target_header,
        token,
        params,
        matched: exchange.is_some(),
    });
    let content_type = if json_protocol {
        "application/x-amz-json-1.1"
    } else {
        "text/xml"
    };
    let (status, body) = match exchange {
        Some(exchange) => {
            let path = dir.join(&exchange.body);
            let body = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("cannot read `{}`: {error}", path.display()));
            (exchange.status, body)
        }
        None if json_protocol => (
            400,
            format!(
                r#"{{"__type":"AccessDeniedException","Message":"User is not authorized to perform: {operation}"}}"#
            ),
        ),
        None => (
            403,
            format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: {operation}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            ),
        ),
    };
    let reason = if status == 200 { "OK" } else { "Error" };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}

fn decode_form(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}
