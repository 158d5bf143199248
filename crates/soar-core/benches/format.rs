//! Rendering a 1,000-row x 10-column markdown table (goal: under 2 ms).

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use soar_core::format::{TableOptions, table_to_markdown};

/// Rows shaped like Graph user objects: strings, numbers, booleans, a null, a list and a dict.
fn rows() -> Value {
    let rows: Vec<Value> = (0..1000)
        .map(|i| {
            let mut m = Map::new();
            m.insert("id".into(), json!(format!("u-{i:05}")));
            m.insert("displayName".into(), json!(format!("User {i} | Contoso")));
            m.insert("mail".into(), json!(format!("user{i}@contoso.example")));
            m.insert("accountEnabled".into(), json!(i % 2 == 0));
            m.insert("officeLocation".into(), json!(i));
            m.insert("score".into(), json!(i as f64 / 7.0));
            m.insert("jobTitle".into(), if i % 3 == 0 { Value::Null } else { json!("Engineer\nLevel 2") });
            m.insert("groups".into(), json!(["admins", "readers"]));
            m.insert("manager".into(), json!({"id": i, "name": "Ann"}));
            m.insert("createdDateTime".into(), json!("2024-01-15T10:00:00Z"));
            Value::Object(m)
        })
        .collect();
    Value::Array(rows)
}

fn bench(c: &mut Criterion) {
    let t = rows();
    let opts = TableOptions::default();
    let sample = table_to_markdown("Users", &t, &opts).unwrap_or_default();
    eprintln!("table: {} bytes, {} lines", sample.len(), sample.lines().count());
    c.bench_function("table_to_markdown 1000x10", |b| {
        b.iter(|| table_to_markdown("Users", std::hint::black_box(&t), &opts))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
