//! The memory budget: parsing `--memory`, the default from the cgroup limit
//! or physical memory, and how the budget is split among worker threads.
//!
//! One task holds, at its peak, its output region as decoded bytes, the same
//! region as typed values, the encoded chunks on their way to storage, and one
//! batch of decoded source chunks. The planner therefore gives each task a
//! region of at most a quarter of its thread's share ([`TASK_FRACTION`]) and
//! the read engine batches of at most another quarter.

use serde::{Deserialize, Serialize};

/// Share of the detected memory used by default (the rest is left to the
/// system, the page cache, and allocator slack).
pub const DEFAULT_SAFETY_FACTOR: f64 = 0.5;

/// A task's output region may use at most this share of its thread's budget.
pub const TASK_FRACTION: u64 = 4;

/// Where the budget came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetSource {
    /// `--memory`.
    User,
    /// A cgroup v2 `memory.max` or v1 `memory.limit_in_bytes`.
    Cgroup,
    /// `MemTotal` of `/proc/meminfo`.
    Physical,
    /// Nothing could be read: a conservative 1 GiB.
    Fallback,
}

/// The memory the whole process may use, and how it is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryBudget {
    /// Bytes for the whole process.
    pub total: u64,
    /// Where `total` came from.
    pub source: BudgetSource,
}

impl MemoryBudget {
    /// A budget of `total` bytes given by the user.
    pub fn user(total: u64) -> Self {
        MemoryBudget {
            total,
            source: BudgetSource::User,
        }
    }

    /// The default: the cgroup limit if one is set, else physical memory,
    /// times [`DEFAULT_SAFETY_FACTOR`].
    pub fn detect() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        budget_from(
            read("/sys/fs/cgroup/memory.max").as_deref(),
            read("/sys/fs/cgroup/memory/memory.limit_in_bytes").as_deref(),
            read("/proc/meminfo").as_deref(),
        )
    }

    /// Each of `threads` workers' share.
    pub fn per_thread(&self, threads: usize) -> u64 {
        self.total / threads.max(1) as u64
    }

    /// The largest output region one task may hold with `threads` workers.
    pub fn task_bytes(&self, threads: usize) -> u64 {
        (self.per_thread(threads) / TASK_FRACTION).max(1)
    }
}

/// The default budget from the text of cgroup v2 `memory.max`, cgroup v1
/// `memory.limit_in_bytes` and `/proc/meminfo` (each `None` when unreadable).
pub fn budget_from(
    cgroup_v2: Option<&str>,
    cgroup_v1: Option<&str>,
    meminfo: Option<&str>,
) -> MemoryBudget {
    let physical = meminfo.and_then(|m| {
        m.lines().find_map(|l| {
            let rest = l.strip_prefix("MemTotal:")?;
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kb.saturating_mul(1024))
        })
    });
    // v1 reports "no limit" as a huge number near i64::MAX rounded to pages.
    let limit = |t: Option<&str>| {
        t.and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|&n| n > 0 && n < (1u64 << 60))
    };
    let cgroup = limit(cgroup_v2).or_else(|| limit(cgroup_v1));
    let scale = |n: u64| (n as f64 * DEFAULT_SAFETY_FACTOR) as u64;
    match (cgroup, physical) {
        (Some(c), Some(p)) if c < p => MemoryBudget {
            total: scale(c),
            source: BudgetSource::Cgroup,
        },
        (Some(c), None) => MemoryBudget {
            total: scale(c),
            source: BudgetSource::Cgroup,
        },
        (_, Some(p)) => MemoryBudget {
            total: scale(p),
            source: BudgetSource::Physical,
        },
        (None, None) => MemoryBudget {
            total: 1 << 30,
            source: BudgetSource::Fallback,
        },
    }
}

/// Parse a byte size: `2GiB`, `512MB`, `1.5g`, `64k`, `4096`.
///
/// `KiB`/`MiB`/`GiB`/`TiB` (and `Ki`, `Mi`, `Gi`, `Ti`, and bare `K`, `M`,
/// `G`, `T`) are powers of 1024; `KB`, `MB`, `GB`, `TB` are powers of 1000.
/// Case does not matter.
///
/// ```
/// use arco_engine::memory::parse_bytes;
/// assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
/// assert_eq!(parse_bytes("512MB").unwrap(), 512_000_000);
/// assert_eq!(parse_bytes("4096").unwrap(), 4096);
/// ```
pub fn parse_bytes(text: &str) -> crate::Result<u64> {
    let bad = |why: &str| crate::Error::Options(format!("'{text}' is not a byte size: {why}"));
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(bad(
            "it does not start with a number (write 2GiB, 512MB or 4096)",
        ));
    }
    let x: f64 = number.parse().map_err(|_| bad("the number is malformed"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "ki" | "kib" => 1024.0,
        "m" | "mi" | "mib" => 1024.0 * 1024.0,
        "g" | "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "ti" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        _ => {
            return Err(bad(
                "unknown unit (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)",
            ))
        }
    };
    let n = x * mult;
    if !n.is_finite() || n < 1.0 || n > u64::MAX as f64 {
        return Err(bad("it must be at least one byte"));
    }
    Ok(n.round() as u64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("2 gi").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("512MB").unwrap(), 512_000_000);
        assert_eq!(parse_bytes("8MiB").unwrap(), 8 << 20);
        assert_eq!(parse_bytes("100").unwrap(), 100);
        for bad in ["", "GiB", "2 parsecs", "0", "-1", "1..2G"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
        let msg = parse_bytes("2 parsecs").unwrap_err().to_string();
        assert!(msg.contains("2 parsecs") && msg.contains("GiB"), "{msg}");
    }

    #[test]
    fn the_default_budget_prefers_a_cgroup_limit_below_physical_memory() {
        let meminfo = "MemTotal:       16384000 kB\nMemFree: 1 kB\n";
        let b = budget_from(Some("4294967296\n"), None, Some(meminfo));
        assert_eq!(
            b,
            MemoryBudget {
                total: 2 << 30,
                source: BudgetSource::Cgroup
            }
        );
        let b = budget_from(Some("max\n"), None, Some(meminfo));
        assert_eq!(b.source, BudgetSource::Physical);
        assert_eq!(b.total, 16384000 * 1024 / 2);
        let b = budget_from(None, Some("9223372036854771712"), Some(meminfo));
        assert_eq!(b.source, BudgetSource::Physical);
        let b = budget_from(None, Some("1073741824"), None);
        assert_eq!(
            b,
            MemoryBudget {
                total: 1 << 29,
                source: BudgetSource::Cgroup
            }
        );
        assert_eq!(budget_from(None, None, None).source, BudgetSource::Fallback);
    }

    #[test]
    fn the_budget_is_split_among_threads() {
        let b = MemoryBudget::user(8 << 30);
        assert_eq!(b.per_thread(4), 2 << 30);
        assert_eq!(b.task_bytes(4), 512 << 20);
        assert_eq!(b.per_thread(0), 8 << 30);
    }
}
