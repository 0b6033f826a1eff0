//! The operations files hold together: docker-compose.yml (no Docker engine runs here, so
//! the file is parsed and checked, and `docker compose config` validates it where a Compose
//! client is installed), the Kubernetes manifests, Prometheus's scrape config and alert
//! rules (`promtool` where installed), and the Grafana dashboard, whose queries, like the
//! alert rules', may name only metrics a running worker and dispatcher really export. Where
//! Prometheus is installed, it scrapes that worker and dispatcher, and every dashboard query
//! must return data and every alert rule evaluate cleanly.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use riptide_dispatcher::broker::Broker;
use riptide_dispatcher::jobs::Jobs;
use riptide_e2e::{corpus, namespace, worker_config, InProcessWorker};
use riptide_shared::settings::{BrokerSettings, RedisSettings};
use riptide_shared::topology::Topology;
use riptide_worker::config::WorkerConfig;
use serde_json::Value;

/// Series Prometheus makes itself rather than scraping them.
const PROMETHEUS_BUILTINS: &[&str] = &["up"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_saphyr::from_str(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn yaml_documents(path: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(&read(path)).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn str_of<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

/// A command from PATH, when installed.
fn tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// A tool the checks need: a missing one fails the test (never a silent skip), naming the
/// Debian package that `ops/setup.sh` installs.
fn required_tool(name: &str, package: &str) -> PathBuf {
    tool(name).unwrap_or_else(|| {
        panic!("`{name}` is not installed: run ops/setup.sh (Debian package `{package}`)")
    })
}

fn run_ok(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Container ports a compose service publishes (`"host:container"` entries).
fn published_ports(service: &Value) -> BTreeSet<u16> {
    service["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let spec = p.as_str().expect("ports as strings");
            spec.rsplit(':')
                .next()
                .unwrap()
                .parse()
                .expect("numeric port")
        })
        .collect()
}

/// The stage names of a Dockerfile (`FROM image AS name`).
fn dockerfile_stages(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [from, _, as_, name]
                    if from.eq_ignore_ascii_case("FROM") && as_.eq_ignore_ascii_case("AS") =>
                {
                    Some(name.to_string())
                }
                _ => None,
            }
        })
        .collect()
}

#[test]
fn compose_file_declares_the_whole_stack() {
    let compose = yaml("docker-compose.yml");
    let services = compose["services"].as_object().expect("services");
    let names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "rabbitmq",
            "redis",
            "dispatcher",
            "worker",
            "prometheus",
            "grafana"
        ])
    );

    for (name, service) in services {
        assert!(
            service.get("image").is_some() || service.get("build").is_some(),
            "{name} has neither image nor build"
        );
        if let Some(build) = service.get("build") {
            let dockerfile = str_of(build, "/dockerfile");
            let text = read(dockerfile);
            let target = str_of(build, "/target");
            assert!(
                dockerfile_stages(&text).contains(target),
                "{name}: {dockerfile} has no stage {target}"
            );
        }
        let test = service["healthcheck"]["test"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} has no health check"));
        assert!(test.len() >= 2 && test[0] == "CMD", "{name}: {test:?}");
        for (dependency, condition) in service["depends_on"].as_object().into_iter().flatten() {
            assert!(
                names.contains(dependency.as_str()),
                "{name} depends on unknown {dependency}"
            );
            let condition = str_of(condition, "/condition");
            assert!(
                ["service_healthy", "service_started"].contains(&condition),
                "{name} -> {dependency}: {condition}"
            );
            if ["rabbitmq", "redis"].contains(&dependency.as_str()) {
                assert_eq!(
                    condition, "service_healthy",
                    "{name} must wait for a healthy {dependency}"
                );
            }
        }
        for volume in service["volumes"].as_array().into_iter().flatten() {
            let source = volume.as_str().unwrap().split(':').next().unwrap();
            if let Some(relative) = source.strip_prefix("./") {
                assert!(
                    root().join(relative).exists(),
                    "{name} mounts missing {source}"
                );
            } else {
                assert!(
                    compose["volumes"].get(source).is_some(),
                    "{name} mounts undeclared volume {source}"
                );
            }
        }
    }
    assert_no_dependency_cycle(services);

    let expected_ports = [
        ("rabbitmq", &[5672, 15672, 15692][..]),
        ("redis", &[6379]),
        ("dispatcher", &[8080]),
        ("prometheus", &[9090]),
        ("grafana", &[3000]),
    ];
    for (name, ports) in expected_ports {
        let published = published_ports(&services[name]);
        for port in ports {
            assert!(
                published.contains(port),
                "{name} does not publish {port}: {published:?}"
            );
        }
    }

    let worker = &services["worker"];
    assert!(
        published_ports(worker).is_empty(),
        "replicas cannot share a host port"
    );
    assert!(
        worker["deploy"]["replicas"].as_u64().unwrap() >= 2,
        "several worker replicas"
    );
    let drain: u64 = str_of(worker, "/environment/RIPTIDE_WORKER__DRAIN_TIMEOUT_SECS")
        .parse()
        .unwrap();
    let grace: u64 = str_of(worker, "/stop_grace_period")
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(
        grace > drain,
        "stop_grace_period {grace}s must exceed the drain {drain}s"
    );
    for service in ["worker", "dispatcher"] {
        let env = &services[service]["environment"];
        assert!(str_of(env, "/RIPTIDE_BROKER__URL").contains("@rabbitmq:5672"));
        assert!(str_of(env, "/RIPTIDE_REDIS__URL").contains("//redis:6379"));
    }

    let plugins = read("ops/rabbitmq/enabled_plugins");
    assert!(plugins.contains("rabbitmq_management") && plugins.contains("rabbitmq_prometheus"));

    let dockerfile = read("ops/docker/Dockerfile");
    assert!(
        dockerfile.contains("ops/build-guest.sh"),
        "the image builds the component"
    );
    assert!(
        dockerfile.contains("RUN riptide-worker precompile"),
        "the image carries the AOT cache"
    );

    run_ok(
        Command::new(required_tool("docker-compose", "docker-compose"))
            .args(["-f", "docker-compose.yml", "config", "-q"])
            .current_dir(root()),
    );
}

fn assert_no_dependency_cycle(services: &serde_json::Map<String, Value>) {
    fn visit<'a>(
        name: &'a str,
        services: &'a serde_json::Map<String, Value>,
        path: &mut Vec<&'a str>,
        done: &mut HashSet<&'a str>,
    ) {
        assert!(
            !path.contains(&name),
            "dependency cycle: {path:?} -> {name}"
        );
        if !done.insert(name) {
            return;
        }
        path.push(name);
        for dependency in services[name]["depends_on"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(d, _)| d)
        {
            visit(dependency, services, path, done);
        }
        path.pop();
    }
    let mut done = HashSet::new();
    for name in services.keys() {
        visit(name, services, &mut Vec::new(), &mut done);
    }
}

#[test]
fn prometheus_scrapes_the_compose_services() {
    let compose = yaml("docker-compose.yml");
    let config = yaml("ops/prometheus/prometheus.yml");
    let jobs: BTreeMap<&str, &Value> = config["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| (str_of(job, "/job_name"), job))
        .collect();
    assert_eq!(
        jobs.keys().copied().collect::<Vec<_>>(),
        ["rabbitmq", "riptide-dispatcher", "riptide-worker"]
    );
    let worker_sd = &jobs["riptide-worker"]["dns_sd_configs"][0];
    assert_eq!(
        worker_sd["names"][0], "worker",
        "every replica through Docker DNS"
    );
    assert_eq!(worker_sd["port"], 9100);
    assert_eq!(
        jobs["riptide-dispatcher"]["static_configs"][0]["targets"][0],
        "dispatcher:8080"
    );
    assert_eq!(
        jobs["rabbitmq"]["static_configs"][0]["targets"][0],
        "rabbitmq:15692"
    );
    assert!(compose["services"]["worker"]["expose"]
        .as_array()
        .unwrap()
        .contains(&"9100".into()));

    // The same rules file Prometheus loads is the one checked and tested here.
    assert_eq!(config["rule_files"][0], "alerts.yml");
    let runbook = read("ops/RUNBOOK.md");
    let anchors: BTreeSet<String> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(|heading| heading.to_lowercase().replace(' ', "-"))
        .collect();
    for rule in alert_rules() {
        let name = str_of(&rule, "/alert");
        let runbook = str_of(&rule, "/annotations/runbook");
        let anchor = runbook
            .strip_prefix("ops/RUNBOOK.md#")
            .expect("a RUNBOOK.md link");
        assert!(
            anchors.contains(anchor),
            "{name}: no section #{anchor} in ops/RUNBOOK.md"
        );
        assert!(
            rule["labels"]["severity"].is_string(),
            "{name} has no severity"
        );
    }

    let datasource = yaml("ops/grafana/provisioning/datasources/prometheus.yml");
    let uid = str_of(&datasource, "/datasources/0/uid");
    assert_eq!(
        str_of(&datasource, "/datasources/0/url"),
        "http://prometheus:9090"
    );
    for panel in dashboard_panels() {
        if panel["type"] != "row" {
            assert_eq!(str_of(&panel, "/datasource/uid"), uid, "{}", panel["title"]);
        }
    }
    let provider = yaml("ops/grafana/provisioning/dashboards/riptide.yml");
    let mount = compose["services"]["grafana"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .find(|v| v.starts_with("./ops/grafana/dashboards:"))
        .expect("dashboards mounted");
    let mounted_at = mount.split(':').nth(1).unwrap();
    assert_eq!(str_of(&provider, "/providers/0/options/path"), mounted_at);
}

#[test]
fn promtool_accepts_rules_config_and_dashboard_queries() {
    let promtool = required_tool("promtool", "prometheus");
    let prometheus = root().join("ops/prometheus");
    run_ok(
        Command::new(&promtool)
            .args(["check", "rules", "alerts.yml"])
            .current_dir(&prometheus),
    );
    run_ok(
        Command::new(&promtool)
            .args(["test", "rules", "alerts.test.yml"])
            .current_dir(&prometheus),
    );
    run_ok(
        Command::new(&promtool)
            .args(["check", "config", "--syntax-only", "prometheus.yml"])
            .current_dir(&prometheus),
    );

    // The dashboard's queries, as recording rules, so that promtool parses each one.
    let rules: Vec<Value> = dashboard_queries()
        .iter()
        .enumerate()
        .map(|(i, expr)| {
            serde_json::json!({
                "record": format!("dashboard:query_{i}"),
                "expr": expr.replace("$__rate_interval", "1m"),
            })
        })
        .collect();
    let file = std::env::temp_dir().join(format!(
        "riptide-dashboard-rules-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &file,
        serde_json::json!({ "groups": [{ "name": "dashboard", "rules": rules }] }).to_string(),
    )
    .unwrap();
    let checked = Command::new(&promtool)
        .arg("check")
        .arg("rules")
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    let checked = checked.expect("promtool");
    assert!(
        checked.status.success(),
        "a dashboard query does not parse:\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn kubernetes_manifests_hold_together() {
    let kustomization = yaml("ops/k8s/kustomization.yaml");
    let listed: BTreeSet<&str> = kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("ops/k8s"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    assert_eq!(
        listed,
        on_disk.iter().map(String::as_str).collect(),
        "kustomization lists every manifest"
    );

    let objects: Vec<Value> = on_disk
        .iter()
        .flat_map(|file| yaml_documents(&format!("ops/k8s/{file}")))
        .collect();
    let find = |kind: &str, name: &str| -> &Value {
        objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    };
    let secret = find("Secret", "riptide-connections");
    let secret_has = |key: &str| secret["stringData"].get(key).is_some();

    let mut deployment_labels = Vec::new();
    for name in ["riptide-worker", "riptide-dispatcher"] {
        let deployment = find("Deployment", name);
        let template = &deployment["spec"]["template"];
        let labels = template["metadata"]["labels"].as_object().unwrap();
        for (key, value) in deployment["spec"]["selector"]["matchLabels"]
            .as_object()
            .unwrap()
        {
            assert_eq!(
                labels.get(key),
                Some(value),
                "{name}: the selector matches the pods"
            );
        }
        deployment_labels.push(labels.clone());
        let containers = template["spec"]["containers"].as_array().unwrap();
        for container in containers {
            let port_names: Vec<&str> = container["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| str_of(p, "/name"))
                .collect();
            for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
                let get = &container[probe]["httpGet"];
                assert_eq!(get["path"], path, "{name} {probe}");
                assert!(
                    port_names.contains(&str_of(get, "/port")),
                    "{name} {probe} port"
                );
            }
            for resource in ["cpu", "memory"] {
                assert!(
                    container["resources"]["requests"].get(resource).is_some(),
                    "{name} requests no {resource}"
                );
            }
            for env in container["env"].as_array().unwrap() {
                if let Some(reference) = env.pointer("/valueFrom/secretKeyRef") {
                    assert_eq!(reference["name"], "riptide-connections");
                    assert!(secret_has(str_of(reference, "/key")), "{name}: {reference}");
                }
            }
        }
    }

    let worker = find("Deployment", "riptide-worker");
    let container = &worker["spec"]["template"]["spec"]["containers"][0];
    let drain = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "RIPTIDE_WORKER__DRAIN_TIMEOUT_SECS")
        .map(|e| str_of(e, "/value").parse::<u64>().unwrap())
        .unwrap_or(WorkerConfig::default().worker.drain_timeout_secs);
    let grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .unwrap();
    assert!(
        grace > drain,
        "terminationGracePeriodSeconds {grace} must exceed the drain {drain}"
    );

    let scaled = find("ScaledObject", "riptide-worker");
    assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], "riptide-worker");
    assert!(scaled["spec"]["minReplicaCount"].as_u64().unwrap() >= 1);
    let trigger = &scaled["spec"]["triggers"][0];
    assert_eq!(trigger["type"], "rabbitmq");
    assert_eq!(trigger["metadata"]["mode"], "QueueLength");
    let jobs_queue = Topology::new(&BrokerSettings::default().namespace).jobs();
    assert_eq!(str_of(trigger, "/metadata/queueName"), jobs_queue);
    let auth = find(
        "TriggerAuthentication",
        str_of(trigger, "/authenticationRef/name"),
    );
    let host = &auth["spec"]["secretTargetRef"][0];
    assert_eq!(host["parameter"], "host");
    assert!(secret_has(str_of(host, "/key")));

    for name in ["riptide-worker", "riptide-dispatcher"] {
        let pdb = find("PodDisruptionBudget", name);
        let selector = pdb["spec"]["selector"]["matchLabels"].as_object().unwrap();
        assert!(
            deployment_labels
                .iter()
                .any(|labels| selector.iter().all(|(k, v)| labels.get(k) == Some(v))),
            "PodDisruptionBudget {name} selects no Deployment's pods"
        );
    }
}

fn alert_rules() -> Vec<Value> {
    yaml("ops/prometheus/alerts.yml")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .collect()
}

fn dashboard_panels() -> Vec<Value> {
    let dashboard: Value =
        serde_json::from_str(&read("ops/grafana/dashboards/riptide.json")).unwrap();
    dashboard["panels"].as_array().unwrap().clone()
}

fn dashboard_queries() -> Vec<String> {
    dashboard_panels()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| str_of(&t, "/expr").to_string())
        .collect()
}

/// Metric names a PromQL expression selects: identifiers that are not functions, keywords,
/// label names, strings, numbers or durations.
fn metric_names(expr: &str) -> BTreeSet<String> {
    /// Keywords followed by a parenthesised list of label names.
    const GROUPING: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    const OTHER_KEYWORDS: &[&str] = &["bool", "and", "or", "unless", "offset", "inf", "nan"];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let mut previous_word = String::new();
    while i < chars.len() {
        let c = chars[i];
        let skip_to = |open: char, close: char, from: usize| -> usize {
            let mut depth = 0;
            let mut j = from;
            while j < chars.len() {
                if chars[j] == open {
                    depth += 1;
                } else if chars[j] == close {
                    depth -= 1;
                    if depth == 0 {
                        return j + 1;
                    }
                } else if chars[j] == '"' {
                    j += 1;
                    while j < chars.len() && chars[j] != '"' {
                        j += if chars[j] == '\\' { 2 } else { 1 };
                    }
                }
                j += 1;
            }
            chars.len()
        };
        if c == '{' {
            i = skip_to('{', '}', i);
        } else if c == '[' {
            i = skip_to('[', ']', i);
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '(' && GROUPING.contains(&previous_word.as_str()) {
            i = skip_to('(', ')', i);
            previous_word.clear();
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || chars[i] == '.'
                    || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E')))
            {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let rest: String = chars[i..].iter().collect();
            let rest = rest.trim_start();
            // A function call, or an aggregation with its grouping first: `sum by (le) (...)`.
            let is_call = rest.starts_with('(')
                || ["by", "without"].iter().any(|g| {
                    rest.strip_prefix(g)
                        .is_some_and(|after| after.trim_start().starts_with('('))
                });
            let lower = word.to_lowercase();
            let keyword =
                GROUPING.contains(&lower.as_str()) || OTHER_KEYWORDS.contains(&lower.as_str());
            if !is_call && !keyword {
                names.insert(word.clone());
            }
            previous_word = word;
        } else {
            if !c.is_whitespace() {
                previous_word.clear();
            }
            i += 1;
        }
    }
    names
}

#[test]
fn promql_metric_names_are_found() {
    let names = |e: &str| metric_names(e).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"histogram_quantile(0.9, sum by (le, engine) (rate(a_bucket{x=~"b{1}"}[5m]))) > 1e-9"#
        ),
        ["a_bucket"]
    );
    assert_eq!(
        names(r#"sum(q{queue=~".+\\.jobs"}) > 0 unless on () sum(up{job="w"}) > 0"#),
        ["q", "up"]
    );
    assert_eq!(names("x / ignoring(a) group_left y offset 5m"), ["x", "y"]);
    assert_eq!(names("max by (instance) (m) == 1"), ["m"]);
}

/// Every metric name in the dashboard and the alert rules, with where it is used.
fn referenced_metrics() -> BTreeMap<String, String> {
    let mut used = BTreeMap::new();
    for rule in alert_rules() {
        for name in metric_names(str_of(&rule, "/expr")) {
            used.insert(name, format!("alert {}", str_of(&rule, "/alert")));
        }
    }
    for panel in dashboard_panels() {
        for target in panel["targets"].as_array().cloned().unwrap_or_default() {
            for name in metric_names(str_of(&target, "/expr")) {
                used.insert(name, format!("panel {}", panel["title"]));
            }
        }
    }
    used
}

/// Series names in a Prometheus text exposition.
fn exposed_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_string())
        .collect()
}

/// Submits one inline-HTML job through the dispatcher's API and waits until it reaches
/// `expected` (`done`, or `dead` for a page the extractor rejects).
async fn run_job(
    http: &reqwest::Client,
    api_addr: std::net::SocketAddr,
    ns: &str,
    n: usize,
    html: &str,
    expected: &str,
) {
    let batch = serde_json::json!({
        "jobs": [{ "url": format!("https://{ns}.example/{n}"), "html": html }]
    });
    let submitted = body(
        http.post(format!("http://{api_addr}/v1/jobs"))
            .header("content-type", "application/json")
            .body(batch.to_string()),
    )
    .await;
    let submitted: Value = serde_json::from_str(&submitted).unwrap();
    let id = str_of(&submitted, "/jobs/0/id").to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = body(http.get(format!("http://{api_addr}/v1/jobs/{id}"))).await;
        let view: Value = serde_json::from_str(&view).unwrap();
        if view["status"] == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job never finished: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The body of a request that must succeed.
async fn body(request: reqwest::RequestBuilder) -> String {
    request
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alerts_use_only_exported_metrics() {
    let ns = namespace("ops-metrics");
    let worker_port = free_port();
    let mut config = worker_config(&ns);
    config.worker.listen = format!("127.0.0.1:{worker_port}");
    let worker = InProcessWorker::start(config);

    let settings = BrokerSettings {
        namespace: ns.clone(),
        ..BrokerSettings::default()
    };
    let broker = Arc::new(Broker::new(&settings));
    let jobs = Arc::new(
        Jobs::connect(&RedisSettings::default())
            .await
            .expect("Redis"),
    );
    let crawls = Arc::new(
        riptide_dispatcher::crawls::Crawls::connect(&RedisSettings::default(), &ns)
            .await
            .expect("Redis"),
    );
    let api = riptide_dispatcher::api::router(
        broker.clone(),
        jobs.clone(),
        crawls,
        riptide_dispatcher::api::ApiOptions::default(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, api).await });

    // A job through the API, so the dispatcher and the worker have seen real traffic.
    let http = reqwest::Client::new();
    let page = corpus::page("4219d096").html;
    run_job(&http, api_addr, &ns, 0, &page, "done").await;
    run_job(&http, api_addr, &ns, 1, "", "dead").await;
    for path in ["healthz", "readyz"] {
        let status = http
            .get(format!("http://{api_addr}/{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "dispatcher /{path}: {status}");
    }

    let worker_metrics = body(http.get(format!("http://127.0.0.1:{worker_port}/metrics"))).await;
    let dispatcher_metrics = body(http.get(format!("http://{api_addr}/metrics"))).await;
    let mut exported = exposed_names(&worker_metrics);
    exported.extend(exposed_names(&dispatcher_metrics));
    exported.extend(PROMETHEUS_BUILTINS.iter().map(|s| s.to_string()));

    let used = referenced_metrics();
    let unknown: Vec<String> = used
        .iter()
        .filter(|(name, _)| !exported.contains(*name))
        .map(|(name, place)| format!("{name} ({place})"))
        .collect();
    assert!(
        unknown.is_empty(),
        "not exported by the worker or dispatcher: {unknown:?}"
    );

    // The dashboard shows what an operator needs (issue #5's list), from these metrics.
    let dashboard_metrics: BTreeSet<String> = dashboard_queries()
        .iter()
        .flat_map(|e| metric_names(e))
        .collect();
    for needed in [
        "riptide_queue_depth",
        "riptide_jobs_total",
        "riptide_extraction_seconds_bucket",
        "riptide_job_duration_seconds_bucket",
        "riptide_breaker_state",
        "riptide_native_fallback_total",
        "riptide_sandbox_fuel_consumed_bucket",
        "riptide_sandbox_peak_memory_bytes_bucket",
        "riptide_sandbox_instances_in_use",
        "riptide_sandbox_instances_max",
    ] {
        assert!(
            dashboard_metrics.contains(needed),
            "the dashboard does not show {needed}"
        );
    }
    // Queue depth covers the jobs, retry and dead queues of this namespace.
    let topology = Topology::new(&ns);
    for queue in [topology.jobs(), topology.dead()] {
        assert!(
            dispatcher_metrics.contains(&format!("riptide_queue_depth{{queue=\"{queue}\"}}")),
            "no depth for {queue}:\n{dispatcher_metrics}"
        );
    }
    assert!(
        worker_metrics.contains("riptide_jobs_total{outcome=\"done\"} 1"),
        "{worker_metrics}"
    );
    assert!(
        worker_metrics.contains("riptide_dead_letters_total{reason=\"invalid-html\"} 1"),
        "{worker_metrics}"
    );

    let prometheus = required_tool("prometheus", "prometheus");
    let targets = [
        ("riptide-worker", format!("127.0.0.1:{worker_port}")),
        ("riptide-dispatcher", api_addr.to_string()),
    ];
    evaluate_in_prometheus(&prometheus, &targets, async {
        for n in 2..=4 {
            run_job(&http, api_addr, &ns, n, &page, "done").await;
        }
        run_job(&http, api_addr, &ns, 5, "", "dead").await;
    })
    .await;

    server.abort();
    worker.stop().await;
    broker
        .delete_queues()
        .await
        .expect("deleting the test queues");
    broker.close().await;
}

/// Runs the real Prometheus with ops/prometheus's scrape jobs pointed at `targets` and its
/// alert rules loaded; drives `traffic` while it scrapes; then evaluates every dashboard
/// query (each must return series) and checks every alert rule evaluates without error.
async fn evaluate_in_prometheus(
    prometheus: &std::path::Path,
    targets: &[(&str, String)],
    traffic: impl std::future::Future<Output = ()>,
) {
    let dir = std::env::temp_dir().join(format!("riptide-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = yaml("ops/prometheus/prometheus.yml");
    let scrape_configs: Vec<Value> = targets
        .iter()
        .map(|(job, target)| {
            assert!(
                shipped["scrape_configs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["job_name"] == *job),
                "ops/prometheus/prometheus.yml has no job {job}"
            );
            serde_json::json!({ "job_name": job, "static_configs": [{ "targets": [target] }] })
        })
        .collect();
    let rules = root()
        .join("ops/prometheus/alerts.yml")
        .canonicalize()
        .unwrap();
    let config = serde_json::json!({
        "global": { "scrape_interval": "1s", "evaluation_interval": "1s" },
        "rule_files": [rules],
        "scrape_configs": scrape_configs,
    });
    std::fs::write(dir.join("prometheus.yml"), config.to_string()).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = tokio::process::Command::new(prometheus)
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("starting prometheus");

    let http = reqwest::Client::new();
    let query = |expr: String| {
        let http = http.clone();
        let url = format!("http://{listen}/api/v1/query");
        async move {
            let url = reqwest::Url::parse_with_params(&url, [("query", expr.as_str())]).unwrap();
            let answer = body(http.get(url)).await;
            let answer: Value = serde_json::from_str(&answer).unwrap();
            assert_eq!(answer["status"], "success", "{expr}: {answer}");
            answer["data"]["result"].as_array().unwrap().clone()
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = http.get(format!("http://{listen}/-/ready")).send().await;
        if ready.is_ok_and(|r| r.status().is_success())
            && query("up == 1".into()).await.len() == targets.len()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Prometheus never scraped every target"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    traffic.await;
    // A few more scrapes, so that rates over the traffic have two points on each side.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let empty: Vec<String> = {
        let mut empty = Vec::new();
        for expr in dashboard_queries() {
            if query(expr.replace("$__rate_interval", "1m"))
                .await
                .is_empty()
            {
                empty.push(expr);
            }
        }
        empty
    };
    assert!(
        empty.is_empty(),
        "dashboard queries with no data from a live fleet: {empty:#?}"
    );

    let rules = body(http.get(format!("http://{listen}/api/v1/rules"))).await;
    let rules: Value = serde_json::from_str(&rules).unwrap();
    let evaluated: Vec<&Value> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert_eq!(
        evaluated.len(),
        alert_rules().len(),
        "every alert rule loaded"
    );
    for rule in evaluated {
        assert_eq!(rule["health"], "ok", "alert rule does not evaluate: {rule}");
    }
    let firing = query("ALERTS{alertstate=\"firing\"}".into()).await;
    assert!(
        firing.is_empty(),
        "alerts firing on a healthy fleet: {firing:?}"
    );

    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
