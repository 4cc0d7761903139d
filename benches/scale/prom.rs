//! Reading Prometheus/OpenMetrics text (the operator's and kube-apiserver's `/metrics`).

use std::collections::BTreeMap;

/// Every sample of the metric `name`: its label text (without braces) and value.
fn samples<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(move |l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((metric, labels)) => (metric, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            (metric == name).then_some((labels, value.parse().ok()?))
        })
}

/// Sum of every series of the metric `name`.
pub fn sum(text: &str, name: &str) -> f64 {
    samples(text, name).map(|(_, v)| v).sum()
}

/// The value of label `key` in label text `a="x",b="y"`.
fn label<'a>(labels: &'a str, key: &str) -> &'a str {
    labels
        .split("\",")
        .filter_map(|pair| pair.split_once("=\""))
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v.trim_end_matches('"'))
}

/// Sum of the metric `name` per combination of the `keys` labels (joined with spaces), over the
/// series whose `filter` label has one of `values`.
pub fn sum_by(
    text: &str,
    name: &str,
    (filter, values): (&str, &[&str]),
    keys: &[&str],
) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (labels, value) in samples(text, name) {
        if !values.contains(&label(labels, filter)) {
            continue;
        }
        let key: Vec<&str> = keys
            .iter()
            .map(|k| label(labels, k))
            .filter(|v| !v.is_empty())
            .collect();
        *out.entry(key.join(" ")).or_insert(0.0) += value;
    }
    out
}

/// `after - before` per key, leaving out keys that did not change.
pub fn delta(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d != 0.0)
        .collect()
}
