//! This process's open-file limit and what `/proc` tells about the server's process.

use anyhow::{Context, anyhow};
use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit, setrlimit};

/// Raises this process's soft limit of open files to its hard limit (every socket is a
/// file) and returns that hard limit.
pub fn raise_open_file_limit() -> anyhow::Result<u64> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("reading the open-file limit")?;
    // An unlimited hard limit still stops at the kernel's nr_open (2^20 by default).
    let target = if hard == RLIM_INFINITY { 1 << 20 } else { hard };
    if soft < target {
        setrlimit(Resource::RLIMIT_NOFILE, target, hard)
            .with_context(|| format!("raising the open-file limit from {soft} to {target}"))?;
    }
    Ok(target)
}

/// The process's soft limit of open files, from `/proc/<pid>/limits` (`None`: unlimited).
pub fn open_file_limit(pid: u32) -> anyhow::Result<Option<u64>> {
    let path = format!("/proc/{pid}/limits");
    let limits = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .ok_or_else(|| anyhow!("no open-file limit in {path}"))?;
    let soft = line
        .split_whitespace()
        .nth(3)
        .ok_or_else(|| anyhow!("bad line in {path}: {line}"))?;
    if soft == "unlimited" {
        return Ok(None);
    }
    Ok(Some(soft.parse().with_context(|| {
        format!("bad open-file limit in {path}: {line}")
    })?))
}

/// The process's resident memory in KiB, from `/proc/<pid>/status`.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or_else(|| anyhow!("no VmRSS in {path}"))?;
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| anyhow!("bad line in {path}: {line}"))
}

/// CPU seconds (user + system) the process has used, from `/proc/<pid>/stat`.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports in clock ticks of 1/100 s.
    Ok((ticks(11) + ticks(12)) / 100.0)
}
