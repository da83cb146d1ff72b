//! Figures: latency percentiles and the printed report.

use serde_json::{Map, Value, json};

/// Latency samples in microseconds.
#[derive(Default)]
pub struct Latencies(Vec<u64>);

impl Latencies {
    /// Adds one sample.
    pub fn record(&mut self, micros: u64) {
        self.0.push(micros);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: Latencies) {
        self.0.extend(other.0);
    }

    /// How many samples there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `p`-th percentile in milliseconds (nearest rank).
    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1] as f64 / 1000.0
    }

    /// `p50_ms`, `p99_ms` and `max_ms`.
    pub fn summary(&mut self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("p50_ms".into(), json!(round(self.percentile_ms(50.0))));
        fields.insert("p99_ms".into(), json!(round(self.percentile_ms(99.0))));
        fields.insert("max_ms".into(), json!(round(self.percentile_ms(100.0))));
        fields
    }
}

/// Two decimals are plenty for a report.
pub fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Prints `figures` as a table, or as one JSON object with `--json`.
pub fn print(scenario: &str, figures: Map<String, Value>, as_json: bool) {
    if as_json {
        let mut object = Map::new();
        object.insert("scenario".into(), json!(scenario));
        object.extend(figures);
        println!("{}", Value::Object(object));
        return;
    }
    println!("{scenario}");
    let width = figures.keys().map(String::len).max().unwrap_or(0);
    for (name, value) in figures {
        println!("  {name:<width$}  {value}");
    }
}
