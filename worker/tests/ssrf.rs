//! The SSRF guard has no bypass through a proxy: proxies from the environment are ignored,
//! and a configured proxy still only gets public destinations. Its own test binary, because
//! it sets `HTTP_PROXY` for the whole process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use riptide_worker::fetch::{FetchConfig, FetchError, Fetcher};

/// A "proxy" on loopback that only counts the connections it receives.
async fn recorder() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("http://{addr}"), seen)
}

const INTERNAL: [&str; 5] = [
    "http://localhost:9/",
    "http://[::ffff:127.0.0.1]:9/",
    "http://[64:ff9b::7f00:1]:9/",
    "http://[2002:7f00:1::]:9/",
    "http://[::127.0.0.1]:9/",
];

async fn assert_refused(fetcher: &Fetcher, seen: &AtomicUsize) {
    for url in INTERNAL {
        match fetcher.fetch(url).await {
            Err(FetchError::Permanent(message)) => {
                assert!(message.contains("SSRF"), "{url}: {message}")
            }
            other => panic!("{url} was not refused: {other:?}"),
        }
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the proxy saw a request");
}

#[tokio::test]
async fn internal_destinations_are_refused_whatever_the_proxy() {
    let (proxy, seen) = recorder().await;
    for variable in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
        // SAFETY: the only test in this binary; no other thread reads the environment now.
        unsafe { std::env::set_var(variable, &proxy) };
    }
    let from_environment = Fetcher::new(FetchConfig::default()).unwrap();
    assert_refused(&from_environment, &seen).await;

    let configured = Fetcher::new(FetchConfig {
        proxy: proxy.clone(),
        ..FetchConfig::default()
    })
    .unwrap();
    assert_refused(&configured, &seen).await;
}
