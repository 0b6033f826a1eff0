//! `riptide-worker extract` as people and the quality harness run it: files and standard
//! input are decoded by the page's charset, with the rules the fetcher applies to responses
//! (pages in legacy encodings come out as the text they hold, not as replacement
//! characters), and `--stats` ends with a summary that gives pages per CPU-second.

use std::io::Write;
use std::process::{Command, Stdio};

use encoding_rs::{Encoding, GBK, ISO_8859_2, SHIFT_JIS, UTF_16LE, WINDOWS_1252};

const WORKER: &str = env!("CARGO_BIN_EXE_riptide-worker");

/// A page in `encoding`, declaring it in a `<meta>` unless `declare` is false, and its text.
fn page(encoding: &'static Encoding, declare: bool, text: &str) -> Vec<u8> {
    let meta = if declare {
        format!("<meta charset=\"{}\">", encoding.name())
    } else {
        String::new()
    };
    let html = format!(
        "<html><head>{meta}<title>t</title></head><body><article><p>{text}</p><p>{text}</p></article></body></html>"
    );
    if encoding == UTF_16LE {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(html.encode_utf16().flat_map(u16::to_le_bytes));
        return bytes;
    }
    let (bytes, _, unmappable) = encoding.encode(&html);
    assert!(!unmappable, "{text} in {}", encoding.name());
    bytes.into_owned()
}

/// The JSON lines `riptide-worker extract --engine native ARGS...` prints.
fn extract_lines(args: &[&str], stdin: Option<&[u8]>) -> Vec<serde_json::Value> {
    let mut child = Command::new(WORKER)
        .args(["extract", "--engine", "native"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn extracted_text(args: &[&str], stdin: Option<&[u8]>) -> String {
    let args = [&["--mode", "full"], args].concat();
    let lines = extract_lines(&args, stdin);
    lines[0]["text"].as_str().unwrap().to_string()
}

const CASES: &[(&Encoding, &str)] = &[
    (
        WINDOWS_1252,
        "Die Bürgerinnen und Bürger äußern sich über die größeren Veränderungen an der Straße.",
    ),
    (
        ISO_8859_2,
        "Zażółć gęślą jaźń: władze miasta ogłosiły, że źródła wody pitnej są bezpieczne.",
    ),
    (
        SHIFT_JIS,
        "日本語のテキストです。東京都は新しい政策を発表しました。市民の皆さんは来月から利用できます。",
    ),
    (
        GBK,
        "这是中文文本。北京市政府今天宣布了新的交通政策，市民可以从下个月开始使用新的公共交通系统。",
    ),
    (UTF_16LE, "Ünïcödé with a byte order mark: “quotes” and ß."),
];

#[test]
fn files_in_legacy_encodings_are_decoded_by_their_meta_declaration() {
    let dir = std::env::temp_dir().join(format!("riptide-charsets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (encoding, text) in CASES {
        let path = dir.join(format!("{}.html", encoding.name()));
        std::fs::write(&path, page(encoding, true, text)).unwrap();
        let got = extracted_text(&[path.to_str().unwrap()], None);
        assert!(got.contains(text), "{}: {got}", encoding.name());
        assert!(!got.contains('\u{FFFD}'), "{}: {got}", encoding.name());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standard_input_without_a_declaration_is_detected() {
    for (encoding, text) in CASES {
        let got = extracted_text(&["-"], Some(&page(encoding, false, text)));
        assert!(got.contains(text), "{}: {got}", encoding.name());
    }
}

#[test]
fn the_stats_summary_gives_pages_per_cpu_second() {
    let dir = std::env::temp_dir().join(format!("riptide-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let paths: Vec<String> = CASES
        .iter()
        .map(|(encoding, text)| {
            let path = dir.join(format!("{}.html", encoding.name()));
            std::fs::write(&path, page(encoding, true, text)).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    let mut args = vec!["--stats"];
    args.extend(paths.iter().map(String::as_str));
    let lines = extract_lines(&args, None);
    assert_eq!(
        lines.len(),
        CASES.len() + 1,
        "a line per page and the summary"
    );
    let summary = &lines[CASES.len()]["summary"];
    assert_eq!(summary["pages"], CASES.len());
    let cpu = summary["cpu_seconds"].as_f64().unwrap();
    let rate = summary["pages_per_cpu_second"].as_f64().unwrap();
    assert!(cpu > 0.0, "{summary}");
    assert!(
        (rate - CASES.len() as f64 / cpu).abs() < 1e-6 * rate,
        "{summary}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
