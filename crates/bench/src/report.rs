//! Figures: latency percentiles, medians over runs, ratios to reference figures, and the
//! printed report.

use anyhow::anyhow;
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

/// Figures whose spread over runs is reported too, as `<name>_min` and `<name>_max`.
const HEADLINES: &[&str] = &[
    "deliveries_per_s",
    "sent_per_s",
    "persisted_per_s",
    "p99_ms",
    "quiet_after_s",
    "requests_per_s",
    "logins_per_s",
    "kib_per_connection",
];

/// The figures of several runs as one: the median of each numeric figure (plus the min and
/// max of headline ones); a figure that is not a number in every run is the first run's.
pub fn combine(runs: Vec<Map<String, Value>>) -> Map<String, Value> {
    let count = runs.len();
    let mut combined = Map::new();
    combined.insert("runs".into(), json!(count));
    let Some(first) = runs.first() else {
        return combined;
    };
    for (name, value) in first {
        let mut values: Vec<f64> = runs
            .iter()
            .filter_map(|run| run.get(name).and_then(Value::as_f64))
            .collect();
        if values.len() != count {
            combined.insert(name.clone(), value.clone());
            continue;
        }
        values.sort_by(f64::total_cmp);
        let middle = count / 2;
        let median = if count % 2 == 1 {
            values[middle]
        } else {
            (values[middle - 1] + values[middle]) / 2.0
        };
        combined.insert(name.clone(), number(median));
        if count > 1 && HEADLINES.contains(&name.as_str()) {
            combined.insert(format!("{name}_min"), number(values[0]));
            combined.insert(format!("{name}_max"), number(values[count - 1]));
        }
    }
    combined
}

/// Whole numbers stay integers (counts), others get two decimals.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9e15 {
        json!(value as i64)
    } else {
        json!(round(value))
    }
}

/// Adds `reference` as `reference_name` and `figure / reference` as `ratio_name`.
pub fn compare(
    figures: &mut Map<String, Value>,
    figure: &str,
    (reference_name, reference): (&str, f64),
    ratio_name: &str,
) -> anyhow::Result<()> {
    let value = figures
        .get(figure)
        .and_then(Value::as_f64)
        .ok_or_else(|| anyhow!("no {figure} to compare with {reference_name}"))?;
    figures.insert(reference_name.into(), number(reference));
    figures.insert(ratio_name.into(), json!(round(value / reference)));
    Ok(())
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
