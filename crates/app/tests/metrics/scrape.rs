//! `GET /metrics`, parsed strictly as Prometheus text by a parser crate and flattened
//! into series, so a test can add up what it looks for.

use std::collections::HashMap;

use openmetrics_parser::PrometheusValue;
use openmetrics_parser::prometheus::parse_prometheus;
use reqwest::StatusCode;

/// One series of a scrape: a metric, its labels and its value.
#[derive(Debug)]
pub struct Series {
    pub metric: String,
    pub labels: HashMap<String, String>,
    pub reading: Reading,
}

/// What a series holds.
#[derive(Debug)]
pub enum Reading {
    /// A counter's or gauge's value.
    Number(f64),
    /// A histogram: its observations and how many buckets it has.
    Histogram { count: u64, buckets: usize },
}

/// Every series of one scrape.
#[derive(Debug)]
pub struct Scrape {
    pub series: Vec<Series>,
}

impl Scrape {
    /// `GET /metrics` on `port`; panics unless it answers 200 in the Prometheus text
    /// format, parses, and describes every metric it holds.
    pub async fn of(port: u16) -> Self {
        let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = response.text().await.unwrap();
        let parsed = parse_prometheus(&text)
            .unwrap_or_else(|error| panic!("not Prometheus text ({error:?}):\n{text}"));
        let mut series = Vec::new();
        for (name, family) in &parsed.families {
            assert!(!family.help.is_empty(), "{name} has no HELP line:\n{text}");
            for sample in family.iter_samples() {
                let labels = sample
                    .get_labelset()
                    .unwrap()
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                let reading = match &sample.value {
                    PrometheusValue::Counter(counter) => Reading::Number(counter.value.as_f64()),
                    PrometheusValue::Gauge(value) | PrometheusValue::Unknown(value) => {
                        Reading::Number(value.as_f64())
                    }
                    PrometheusValue::Histogram(histogram) => Reading::Histogram {
                        count: histogram.count.unwrap_or_default(),
                        buckets: histogram.buckets.len(),
                    },
                    PrometheusValue::Summary(_) => panic!("{name} is a summary:\n{text}"),
                };
                series.push(Series {
                    metric: name.clone(),
                    labels,
                    reading,
                });
            }
        }
        Self { series }
    }

    /// The series of `metric` whose labels include every one of `labels`.
    pub fn series<'a>(
        &'a self,
        metric: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Series> {
        self.series.iter().filter(move |series| {
            series.metric == metric
                && labels.iter().all(|(name, value)| {
                    series.labels.get(*name).map(String::as_str) == Some(value)
                })
        })
    }

    /// The sum of the counters or gauges `metric` with `labels`; 0 when there are none yet.
    pub fn value(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.series(metric, labels)
            .map(|series| match series.reading {
                Reading::Number(value) => value,
                Reading::Histogram { .. } => panic!("{metric} is a histogram"),
            })
            .sum()
    }

    /// The observations of histogram `metric` with `labels`, over its series.
    pub fn observations(&self, metric: &str, labels: &[(&str, &str)]) -> u64 {
        self.series(metric, labels)
            .map(|series| match series.reading {
                Reading::Histogram { count, .. } => count,
                Reading::Number(_) => panic!("{metric} is no histogram"),
            })
            .sum()
    }

    /// The fewest buckets of a series of histogram `metric` with `labels` (0 if none).
    pub fn fewest_buckets(&self, metric: &str, labels: &[(&str, &str)]) -> usize {
        self.series(metric, labels)
            .map(|series| match series.reading {
                Reading::Histogram { buckets, .. } => buckets,
                Reading::Number(_) => panic!("{metric} is no histogram"),
            })
            .min()
            .unwrap_or(0)
    }
}
