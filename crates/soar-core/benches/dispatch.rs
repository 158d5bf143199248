//! Runtime benchmarks: `cargo bench -p soar-core --bench dispatch`.
//!
//! - `dispatch/trivial`: one parsed request through the dispatcher (registry lookup, param and
//!   arg checks, the command, the response) on a current-thread runtime, as one-shot mode runs
//!   it. Goal: >= 200,000 per second.
//! - `one_shot/100_entries`: request bytes in, response bytes out (parse, dispatch, serialize)
//!   for a command returning 100 entries.
//! - `serve/1000_*`: 1,000 request lines through `serve` in-process, without and with ids.

// Bench setup may unwrap: a failure here is a broken benchmark, not a runtime path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;

use async_trait::async_trait;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use soar_core::{
    ArgSpec, AuthFlow, Command, CommandContext, Dispatcher, Entry, Error, Integration, Outcome, ParamSpec,
    Request, ServeConfig,
};

struct Noop;

#[async_trait]
impl Command for Noop {
    fn name(&self) -> &str {
        "bench-noop"
    }
    fn description(&self) -> &str {
        "Returns one short entry."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![ArgSpec { name: "limit", default: Some("50"), ..ArgSpec::default() }]
    }
    async fn run(&self, _ctx: &mut CommandContext) -> Result<Outcome, Error> {
        Ok(Entry::markdown("ok").into())
    }
}

struct Hundred;

#[async_trait]
impl Command for Hundred {
    fn name(&self) -> &str {
        "bench-hundred"
    }
    fn description(&self) -> &str {
        "Returns 100 entries shaped like command results."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![ArgSpec { name: "limit", default: Some("50"), ..ArgSpec::default() }]
    }
    async fn run(&self, _ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let entries = (0..100)
            .map(|i| {
                let user = json!({"id": format!("user-{i}"), "displayName": format!("User {i}"), "mail": format!("u{i}@example.com"), "accountEnabled": true});
                let mut e = Entry::markdown("");
                e.contents_format = "json".into();
                e.contents = user.clone();
                e.human_readable = json!(format!("### User {i}\n|ID|Name|Mail|\n|---|---|---|\n| user-{i} | User {i} | u{i}@example.com |\n"));
                e.entry_context.insert("MSGraphUser(val.ID && val.ID == obj.ID)".into(), user);
                e
            })
            .collect::<Vec<_>>();
        Ok(entries.into())
    }
}

struct Bench;

impl Integration for Bench {
    fn prefix(&self) -> &'static str {
        "bench"
    }
    fn display_name(&self) -> &'static str {
        "Bench"
    }
    fn supported_flows(&self) -> &'static [AuthFlow] {
        &[AuthFlow::ClientSecret]
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec { name: "tenant_id", required: true, ..ParamSpec::default() },
            ParamSpec { name: "credentials", credentials: true, required: true, ..ParamSpec::default() },
        ]
    }
    fn commands(&self) -> Vec<Box<dyn Command>> {
        vec![Box::new(Noop), Box::new(Hundred)]
    }
}

fn request_json(command: &str, id: Option<usize>) -> serde_json::Value {
    let mut r = json!({
        "command": command,
        "args": {"limit": "10"},
        "params": {"tenant_id": "t", "credentials": {"identifier": "client", "password": "secret-value"}},
        "integration_context": {"access_token": "tok", "valid_until": 1_900_000_000},
        "context_version": 3
    });
    if let Some(id) = id {
        r["id"] = json!(id);
    }
    r
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dispatcher = Arc::new(Dispatcher::new(&Bench));

    let mut group = c.benchmark_group("dispatch");
    group.throughput(Throughput::Elements(1));
    let request: Request = serde_json::from_value(request_json("bench-noop", None)).unwrap();
    group.bench_function("trivial", |b| {
        b.iter_batched(
            || request.clone(),
            |r| black_box(rt.block_on(dispatcher.handle(r))),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let mut group = c.benchmark_group("one_shot");
    let input = serde_json::to_vec(&request_json("bench-hundred", None)).unwrap();
    let out_len = {
        let response = rt.block_on(dispatcher.handle_bytes(&input));
        assert_eq!(response.entries.len(), 100);
        serde_json::to_vec(&response).unwrap().len()
    };
    group.throughput(Throughput::Bytes(out_len as u64));
    group.bench_function("100_entries", |b| {
        b.iter(|| {
            let response = rt.block_on(dispatcher.handle_bytes(black_box(&input)));
            let mut out = serde_json::to_vec(&response).unwrap();
            out.push(b'\n');
            black_box(out)
        })
    });
    group.finish();

    let multi = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("serve");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(20);
    for (name, with_id) in [("1000_no_id", false), ("1000_with_id", true)] {
        let mut lines = Vec::new();
        for i in 0..1000 {
            lines.extend(serde_json::to_vec(&request_json("bench-noop", with_id.then_some(i))).unwrap());
            lines.push(b'\n');
        }
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(200 * 1000);
                multi
                    .block_on(soar_core::serve(
                        dispatcher.clone(),
                        &lines[..],
                        &mut out,
                        ServeConfig::default(),
                    ))
                    .unwrap();
                black_box(out)
            })
        });
    }
    group.finish();
}

criterion_group!(runtime, benches);
criterion_main!(runtime);
