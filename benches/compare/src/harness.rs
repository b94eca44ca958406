//! Interleaved rounds: the method that survives a noisy 2-core machine.
//!
//! For one case every contender runs the same number of iterations per round (enough for
//! raw to take about `round_ms`), the contenders one after another, the first rotating from
//! round to round, so that a burst of load from elsewhere hits them alike. Per contender the
//! harness keeps, per round, wall time and process CPU time per iteration; it reports their
//! medians, and the median of the same-round ratios to raw (a slow round slows raw too, so
//! the ratio is steadier than a ratio of medians).

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cpu_time::ProcessTime;

use crate::stats::median;
use crate::workload::{Case, Contender, Workload};

/// A contender with its name as the tables print it.
pub struct Entry {
    pub name: &'static str,
    pub contender: Box<dyn Contender>,
}

/// How long and how often.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub rounds: usize,
    pub round: Duration,
}

/// One contender's result in one case.
#[derive(Debug, Clone)]
pub struct Measured {
    pub contender: &'static str,
    /// Median over rounds of wall time per iteration.
    pub median_ns: f64,
    /// Median over rounds of the process's CPU time per iteration (every thread: the
    /// `postgres` crate's connection task included).
    pub cpu_ns: f64,
    /// Median of this contender's per-iteration wall time over raw's, same round.
    pub ratio_to_raw: f64,
    /// The same for CPU time.
    pub cpu_ratio_to_raw: f64,
    /// Median of the same-round ratios to `raw_async` (the raw async driver), where it runs.
    pub ratio_to_raw_async: Option<f64>,
    /// (max − min) / median of the wall times per iteration: how much the rounds disagreed.
    pub spread: f64,
    pub iterations: usize,
}

/// Run `case` for `entries` (the first must be `raw`), each already seeded and prepared.
/// `reset` runs untimed before each contender's turn in a round (the `insert` workload
/// empties `users` there).
pub fn measure(
    case: &Case,
    entries: &mut [Entry],
    plan: Plan,
    reset: &mut dyn FnMut(&mut [Entry], usize) -> Result<()>,
) -> Result<Vec<Measured>> {
    if entries.first().map(|e| e.name) != Some("raw") {
        bail!("the first contender of {case} must be raw");
    }
    let expected = case.expected();
    // Check: every contender does the work (the same count as the workload says), and warm
    // caches, statement caches and allocators up.
    for i in 0..entries.len() {
        reset(entries, i)?;
        let e = &mut entries[i];
        let got = e
            .contender
            .run(case)
            .with_context(|| format!("{} failed on {case}", e.name))?;
        if got != expected {
            bail!(
                "{} returned {got} on {case}, expected {expected}: it does not do the workload",
                e.name
            );
        }
    }
    // Calibrate on raw: iterations per round so that raw's turn takes about `plan.round`.
    reset(entries, 0)?;
    let t = Instant::now();
    black_box(entries[0].contender.run(case)?);
    let once = t.elapsed().max(Duration::from_nanos(1));
    let iterations = (plan.round.as_nanos() / once.as_nanos()).clamp(1, 1_000_000) as usize;
    // The insert workload grows `users` by 100 rows an iteration; cap the table's growth.
    let iterations = match case.workload {
        Workload::Insert => iterations.min(200),
        _ => iterations,
    };

    let count = entries.len();
    let mut wall = vec![Vec::with_capacity(plan.rounds); count];
    let mut cpu = vec![Vec::with_capacity(plan.rounds); count];
    for round in 0..plan.rounds {
        for k in 0..count {
            let i = (round + k) % count;
            reset(entries, i)?;
            let e = &mut entries[i];
            let c0 = ProcessTime::now();
            let t0 = Instant::now();
            for _ in 0..iterations {
                black_box(e.contender.run(black_box(case))?);
            }
            let elapsed = t0.elapsed();
            let used = c0.elapsed();
            wall[i].push(elapsed.as_nanos() as f64 / iterations as f64);
            cpu[i].push(used.as_nanos() as f64 / iterations as f64);
        }
    }

    let raw_async = entries.iter().position(|e| e.name == "raw_async");
    Ok((0..count)
        .map(|i| {
            let ratio: Vec<f64> = wall[i].iter().zip(&wall[0]).map(|(a, b)| a / b).collect();
            let ratio_to_raw_async = raw_async.map(|a| {
                let r: Vec<f64> = wall[i].iter().zip(&wall[a]).map(|(x, y)| x / y).collect();
                median(&r)
            });
            let cpu_ratio: Vec<f64> = cpu[i].iter().zip(&cpu[0]).map(|(a, b)| a / b).collect();
            let median_ns = median(&wall[i]);
            Measured {
                contender: entries[i].name,
                median_ns,
                cpu_ns: median(&cpu[i]),
                ratio_to_raw: median(&ratio),
                cpu_ratio_to_raw: median(&cpu_ratio),
                ratio_to_raw_async,
                spread: spread(&wall[i], median_ns),
                iterations,
            }
        })
        .collect())
}

fn spread(xs: &[f64], median: f64) -> f64 {
    let max = xs.iter().copied().fold(f64::MIN, f64::max);
    let min = xs.iter().copied().fold(f64::MAX, f64::min);
    (max - min) / median
}
