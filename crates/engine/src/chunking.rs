//! Choosing output chunk and shard shapes for an access pattern.
//!
//! Pure functions of a variable's dimensions, shape and element size, plus the
//! user's [`ChunkOptions`]. The rules:
//!
//! * **Small variables** (at most the target size) and 1-D coordinate variables
//!   up to four times the target are one chunk: readers load them whole.
//! * **Explicit** `--chunks dim=n` entries are kept (clipped to the dimension's
//!   length) on every other variable that has that dimension; the remaining
//!   dimensions follow the layout within what is left of the target.
//! * [`Layout::Map`]: the last two dimensions (the map) are whole. When one map
//!   is smaller than the target, the time dimension (then the other leading
//!   dimensions, innermost first) grows so a chunk holds several consecutive
//!   maps, up to the target; when one map exceeds four times the target the map
//!   itself is split into square-ish tiles of about the target size and the
//!   leading dimensions are 1.
//! * [`Layout::Timeseries`]: the time dimension is whole (or as long as the
//!   target allows), the last two other dimensions are square-ish tiles that
//!   fill the rest of the target, and any other dimension is 1. Without a time
//!   dimension it falls back to [`Layout::Balanced`].
//! * [`Layout::Balanced`]: about the same number of chunks along every
//!   dimension, chunk about the target size.
//! * **Shards** (`--shard`) group whole chunks: each shard dimension is a
//!   multiple of the chunk dimension, about `shard_bytes` in all, grown along
//!   the dimensions that already have several chunks (balanced over the chunk
//!   grid). A variable that fits one chunk gets no shard.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The access pattern the output chunks are shaped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Whole 2-D maps per chunk: fast to read one time step over the whole area.
    Map,
    /// Long along time, small in space: fast to read the history of one place.
    Timeseries,
    /// About equally many chunks along every dimension: a compromise.
    #[default]
    Balanced,
}

impl std::str::FromStr for Layout {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "map" | "maps" => Ok(Layout::Map),
            "timeseries" | "time-series" | "time_series" => Ok(Layout::Timeseries),
            "balanced" => Ok(Layout::Balanced),
            other => Err(crate::Error::Options(format!(
                "--layout {other}: choose map, timeseries or balanced"
            ))),
        }
    }
}

/// Default target size of one chunk, uncompressed: 8 MiB.
pub const DEFAULT_CHUNK_BYTES: u64 = 8 << 20;

/// Default target size of one shard, uncompressed: 128 MiB.
pub const DEFAULT_SHARD_BYTES: u64 = 128 << 20;

/// Assumed bytes per element for variable-length types (strings), for sizing only.
pub const VARLEN_ELEMENT_BYTES: usize = 16;

/// How the user wants chunks shaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkOptions {
    /// Access pattern.
    pub layout: Layout,
    /// Explicit chunk lengths by dimension name (`--chunks time=365,lat=64`).
    pub explicit: BTreeMap<String, u64>,
    /// Target uncompressed chunk size in bytes.
    pub target_bytes: u64,
    /// Target uncompressed shard size in bytes; `None` for no sharding.
    pub shard_bytes: Option<u64>,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions {
            layout: Layout::default(),
            explicit: BTreeMap::new(),
            target_bytes: DEFAULT_CHUNK_BYTES,
            shard_bytes: None,
        }
    }
}

/// The variable being chunked.
#[derive(Debug, Clone, Copy)]
pub struct ChunkInput<'a> {
    /// Dimension names, outermost first.
    pub dims: &'a [String],
    /// Extent of each dimension.
    pub shape: &'a [u64],
    /// Bytes per element (use [`VARLEN_ELEMENT_BYTES`] for strings).
    pub element_bytes: usize,
    /// Index of the time dimension in `dims`, if any.
    pub time_dim: Option<usize>,
    /// True for a 1-D coordinate variable (named after its dimension).
    pub is_coordinate: bool,
}

/// Chosen chunk (and shard) shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Chunk shape; every entry is between 1 and the dimension's length (1 for empty dimensions).
    pub chunk: Vec<u64>,
    /// Shard shape, a multiple of `chunk` along every dimension, or `None`.
    pub shard: Option<Vec<u64>>,
}

/// Parse `time=365,lat=64,lon=64` into a map from dimension name to length.
pub fn parse_chunks(spec: &str) -> crate::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, n) = item.split_once('=').ok_or_else(|| {
            crate::Error::Options(format!("--chunks: '{item}' is not dim=length"))
        })?;
        let n: u64 = n.trim().parse().map_err(|_| {
            crate::Error::Options(format!(
                "--chunks: '{}' in '{item}' is not a positive whole number",
                n.trim()
            ))
        })?;
        if n == 0 {
            return Err(crate::Error::Options(format!(
                "--chunks: '{item}': a chunk length must be at least 1"
            )));
        }
        out.insert(name.trim().to_string(), n);
    }
    Ok(out)
}

/// Choose the chunk and shard shape of one variable.
///
/// ```
/// use arco_engine::chunking::{choose, ChunkInput, ChunkOptions, Layout};
/// let dims = ["time".to_string(), "lat".to_string(), "lon".to_string()];
/// let input = ChunkInput {
///     dims: &dims, shape: &[8760, 721, 1440], element_bytes: 4,
///     time_dim: Some(0), is_coordinate: false,
/// };
/// let map = choose(&input, &ChunkOptions { layout: Layout::Map, ..Default::default() });
/// assert_eq!(map.chunk, vec![2, 721, 1440]);
/// let ts = choose(&input, &ChunkOptions { layout: Layout::Timeseries, ..Default::default() });
/// assert_eq!(ts.chunk[0], 8760);
/// ```
pub fn choose(input: &ChunkInput<'_>, options: &ChunkOptions) -> ChunkChoice {
    let rank = input.shape.len();
    let shape: Vec<u64> = input.shape.iter().map(|&n| n.max(1)).collect();
    let elem = input.element_bytes.max(1) as f64;
    let total_bytes = shape.iter().map(|&n| n as f64).product::<f64>() * elem;
    let target_elems = (options.target_bytes.max(1) as f64 / elem).max(1.0);

    if rank == 0 {
        return ChunkChoice {
            chunk: Vec::new(),
            shard: None,
        };
    }
    if input.is_coordinate && total_bytes <= 4.0 * options.target_bytes as f64 {
        return ChunkChoice {
            chunk: shape,
            shard: None,
        };
    }

    // Explicit entries first.
    let mut chunk: Vec<Option<u64>> = input
        .dims
        .iter()
        .zip(&shape)
        .map(|(d, &n)| options.explicit.get(d).map(|&c| c.clamp(1, n)))
        .collect();
    chunk.resize(rank, None);

    if total_bytes <= options.target_bytes as f64 {
        let chunk: Vec<u64> = chunk
            .iter()
            .zip(&shape)
            .map(|(c, &n)| c.unwrap_or(n))
            .collect();
        let shard = shard_for(&shape, &chunk, input.element_bytes, options);
        return ChunkChoice { chunk, shard };
    }

    let fixed: f64 = chunk.iter().flatten().map(|&c| c as f64).product();
    let budget = (target_elems / fixed).max(1.0);
    let free = |chunk: &[Option<u64>], d: usize| chunk[d].is_none();

    let layout = match (options.layout, input.time_dim) {
        (Layout::Timeseries, None) => Layout::Balanced,
        (l, _) => l,
    };
    match layout {
        Layout::Balanced => {
            let dims: Vec<usize> = (0..rank).filter(|&d| free(&chunk, d)).collect();
            fill_balanced(&shape, &dims, budget, &mut chunk);
        }
        Layout::Map => {
            let spatial: Vec<usize> = (0..rank)
                .rev()
                .filter(|&d| Some(d) != input.time_dim || rank == 1)
                .take(2)
                .filter(|&d| free(&chunk, d))
                .collect();
            let map_elems: f64 = spatial.iter().map(|&d| shape[d] as f64).product();
            if map_elems > 4.0 * budget {
                fill_square(&shape, &spatial, budget, &mut chunk);
            } else {
                for &d in &spatial {
                    chunk[d] = Some(shape[d]);
                }
                let mut left = (budget / map_elems).max(1.0);
                // Time first, then the other leading dimensions, innermost first.
                let mut order: Vec<usize> = Vec::new();
                if let Some(t) = input.time_dim {
                    order.push(t);
                }
                order.extend((0..rank).rev().filter(|&d| Some(d) != input.time_dim));
                for d in order {
                    if !free(&chunk, d) {
                        continue;
                    }
                    let c = (left.floor() as u64).clamp(1, shape[d]);
                    chunk[d] = Some(c);
                    left = (left / c as f64).max(1.0);
                }
            }
        }
        Layout::Timeseries => {
            let t = input.time_dim.unwrap_or(0);
            let mut left = budget;
            if free(&chunk, t) {
                let c = (left.floor() as u64).clamp(1, shape[t]);
                chunk[t] = Some(c);
                left = (left / c as f64).max(1.0);
            }
            let spatial: Vec<usize> = (0..rank)
                .rev()
                .filter(|&d| d != t)
                .take(2)
                .filter(|&d| free(&chunk, d))
                .collect();
            fill_square(&shape, &spatial, left, &mut chunk);
            let used: f64 = spatial
                .iter()
                .filter_map(|&d| chunk[d])
                .map(|c| c as f64)
                .product();
            let left = (left / used).max(1.0);
            let others: Vec<usize> = (0..rank).filter(|&d| free(&chunk, d)).collect();
            fill_balanced(&shape, &others, left, &mut chunk);
        }
    }
    let chunk: Vec<u64> = chunk
        .iter()
        .zip(&shape)
        .map(|(c, &n)| c.unwrap_or(1).clamp(1, n))
        .collect();
    let shard = shard_for(&shape, &chunk, input.element_bytes, options);
    ChunkChoice { chunk, shard }
}

/// Give the dimensions `dims` (all unset in `chunk`) about equally many chunks
/// each, with about `budget` elements per chunk over those dimensions.
/// Dimensions too short for their share get length 1 (the most chunks they can have).
fn fill_balanced(shape: &[u64], dims: &[usize], budget: f64, chunk: &mut [Option<u64>]) {
    let mut open: Vec<usize> = dims.to_vec();
    let budget = budget.max(1.0);
    loop {
        if open.is_empty() {
            return;
        }
        let extent: f64 = open.iter().map(|&d| shape[d] as f64).product();
        if extent <= budget {
            for &d in &open {
                chunk[d] = Some(shape[d]);
            }
            return;
        }
        // Number of chunks along each open dimension.
        let k = (extent / budget).powf(1.0 / open.len() as f64);
        let short: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&d| (shape[d] as f64) < k)
            .collect();
        if !short.is_empty() && short.len() < open.len() {
            for &d in &short {
                chunk[d] = Some(1);
            }
            open.retain(|d| !short.contains(d));
            continue;
        }
        for &d in &open {
            chunk[d] = Some(((shape[d] as f64 / k).round() as u64).clamp(1, shape[d]));
        }
        fit_last(shape, &open, budget, chunk);
        return;
    }
}

/// Give the dimensions `dims` (all unset in `chunk`) the same length (a
/// square or cube in index space) of about `budget` elements in all;
/// dimensions shorter than that length are taken whole.
fn fill_square(shape: &[u64], dims: &[usize], budget: f64, chunk: &mut [Option<u64>]) {
    let mut open: Vec<usize> = dims.to_vec();
    let mut budget = budget.max(1.0);
    loop {
        if open.is_empty() {
            return;
        }
        let side = budget.powf(1.0 / open.len() as f64);
        let short: Vec<usize> = open
            .iter()
            .copied()
            .filter(|&d| (shape[d] as f64) <= side)
            .collect();
        if short.is_empty() {
            for &d in &open {
                chunk[d] = Some((side.floor() as u64).clamp(1, shape[d]));
            }
            fit_last(shape, &open, budget, chunk);
            return;
        }
        for &d in &short {
            chunk[d] = Some(shape[d]);
            budget = (budget / shape[d].max(1) as f64).max(1.0);
        }
        open.retain(|d| !short.contains(d));
    }
}

/// Use what rounding left of `budget` on the innermost of `dims`, never exceeding it.
fn fit_last(shape: &[u64], dims: &[usize], budget: f64, chunk: &mut [Option<u64>]) {
    let Some(&last) = dims.iter().max() else {
        return;
    };
    let others: f64 = dims
        .iter()
        .filter(|&&d| d != last)
        .filter_map(|&d| chunk[d])
        .map(|c| c as f64)
        .product();
    let fit = (budget / others).floor().max(1.0) as u64;
    chunk[last] = Some(fit.clamp(1, shape[last]));
}

/// Shard shape for `chunk`, or `None` when sharding is off or pointless.
fn shard_for(
    shape: &[u64],
    chunk: &[u64],
    element_bytes: usize,
    options: &ChunkOptions,
) -> Option<Vec<u64>> {
    let shard_bytes = options.shard_bytes?;
    let chunk_bytes: f64 =
        chunk.iter().map(|&c| c as f64).product::<f64>() * element_bytes.max(1) as f64;
    let per_shard = (shard_bytes as f64 / chunk_bytes).floor();
    if per_shard < 2.0 {
        return None;
    }
    let grid: Vec<u64> = shape
        .iter()
        .zip(chunk)
        .map(|(&n, &c)| n.max(1).div_ceil(c))
        .collect();
    if grid.iter().product::<u64>() <= 1 {
        return None;
    }
    let mut factor: Vec<Option<u64>> = vec![None; shape.len()];
    let dims: Vec<usize> = (0..shape.len()).filter(|&d| grid[d] > 1).collect();
    for d in 0..shape.len() {
        if grid[d] <= 1 {
            factor[d] = Some(1);
        }
    }
    fill_balanced(&grid, &dims, per_shard, &mut factor);
    let shard: Vec<u64> = chunk
        .iter()
        .zip(&factor)
        .zip(&grid)
        .map(|((&c, f), &g)| c * f.unwrap_or(1).clamp(1, g))
        .collect();
    if shard == chunk {
        None
    } else {
        Some(shard)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn names(n: usize) -> Vec<String> {
        ["time", "level", "lat", "lon", "x", "y"][..n]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn input<'a>(dims: &'a [String], shape: &'a [u64], elem: usize) -> ChunkInput<'a> {
        ChunkInput {
            dims,
            shape,
            element_bytes: elem,
            time_dim: dims.iter().position(|d| d == "time"),
            is_coordinate: false,
        }
    }

    fn opts(layout: Layout) -> ChunkOptions {
        ChunkOptions {
            layout,
            ..ChunkOptions::default()
        }
    }

    #[test]
    fn map_layout_keeps_whole_maps_and_stacks_small_ones_along_time() {
        let d = vec!["time".to_string(), "lat".to_string(), "lon".to_string()];
        let c = choose(&input(&d, &[8760, 721, 1440], 4), &opts(Layout::Map));
        assert_eq!(c.chunk, vec![2, 721, 1440]);
        let d4 = vec!["time".into(), "level".into(), "lat".into(), "lon".into()];
        let c = choose(&input(&d4, &[100, 37, 181, 360], 4), &opts(Layout::Map));
        assert_eq!(c.chunk, vec![32, 1, 181, 360]);
    }

    #[test]
    fn map_layout_splits_maps_larger_than_four_targets() {
        let d = vec!["time".to_string(), "y".to_string(), "x".to_string()];
        let c = choose(&input(&d, &[10, 20000, 20000], 4), &opts(Layout::Map));
        assert_eq!(c.chunk[0], 1);
        assert!(c.chunk[1] < 20000 && c.chunk[2] < 20000, "{c:?}");
        let bytes = c.chunk.iter().product::<u64>() * 4;
        assert!(
            (DEFAULT_CHUNK_BYTES / 2..=2 * DEFAULT_CHUNK_BYTES).contains(&bytes),
            "{c:?}"
        );
    }

    #[test]
    fn timeseries_layout_is_whole_along_time_and_square_in_space() {
        let d = names(3);
        let c = choose(&input(&d, &[8760, 721, 1440], 4), &opts(Layout::Timeseries));
        assert_eq!(c.chunk[0], 8760);
        let (a, b) = (c.chunk[1], c.chunk[2]);
        assert!(a.abs_diff(b) <= 2, "{c:?}");
        // A time series longer than the target: long along time, 1 in space.
        let c = choose(
            &input(&d, &[4_000_000, 10, 10], 4),
            &opts(Layout::Timeseries),
        );
        assert_eq!(c.chunk, vec![2_097_152, 1, 1]);
    }

    #[test]
    fn timeseries_without_time_falls_back_to_balanced() {
        let d = vec!["y".to_string(), "x".to_string()];
        let a = choose(&input(&d, &[20000, 20000], 4), &opts(Layout::Timeseries));
        let b = choose(&input(&d, &[20000, 20000], 4), &opts(Layout::Balanced));
        assert_eq!(a, b);
        assert_eq!(a.chunk, vec![1448, 1448]);
    }

    #[test]
    fn small_and_coordinate_variables_are_one_chunk() {
        let d = names(3);
        let c = choose(&input(&d, &[10, 9, 9], 2), &opts(Layout::Timeseries));
        assert_eq!(c.chunk, vec![10, 9, 9]);
        let t = vec!["time".to_string()];
        let mut i = input(&t, &[1_000_000], 8);
        i.is_coordinate = true;
        assert_eq!(choose(&i, &opts(Layout::Map)).chunk, vec![1_000_000]);
        assert_eq!(
            choose(&input(&[], &[], 8), &opts(Layout::Map)).chunk,
            Vec::<u64>::new()
        );
    }

    #[test]
    fn explicit_chunks_win_and_the_rest_follows_the_layout() {
        let d = vec!["time".to_string(), "lat".to_string(), "lon".to_string()];
        let mut o = opts(Layout::Map);
        o.explicit = parse_chunks("time=365, lat=64").unwrap();
        let c = choose(&input(&d, &[8760, 721, 1440], 4), &o);
        assert_eq!(&c.chunk[..2], &[365, 64]);
        assert!(c.chunk[2] >= 1 && c.chunk[2] <= 1440);
        assert!(parse_chunks("time=0").is_err());
        assert!(parse_chunks("time").is_err());
        assert!(parse_chunks("time=x").is_err());
    }

    #[test]
    fn shards_are_whole_multiples_of_chunks() {
        let d = names(3);
        let mut o = opts(Layout::Map);
        o.shard_bytes = Some(DEFAULT_SHARD_BYTES);
        let c = choose(&input(&d, &[8760, 721, 1440], 4), &o);
        assert_eq!(c.chunk, vec![2, 721, 1440]);
        assert_eq!(c.shard, Some(vec![32, 721, 1440]));
        // One chunk in all: no shard.
        let c = choose(&input(&d, &[1, 10, 10], 4), &o);
        assert_eq!(c.shard, None);
    }

    /// Shape, element size, target, layout, shard size, one explicit (dim, length).
    type Case = (
        Vec<u64>,
        usize,
        u64,
        Layout,
        Option<u64>,
        Option<(usize, u64)>,
    );

    fn case() -> impl Strategy<Value = Case> {
        (
            prop::collection::vec(0u64..5000, 1..5),
            prop::sample::select(vec![1usize, 2, 4, 8]),
            prop::sample::select(vec![1u64 << 10, 64 << 10, 1 << 20, 8 << 20]),
            prop::sample::select(vec![Layout::Map, Layout::Timeseries, Layout::Balanced]),
            prop::option::of(prop::sample::select(vec![1u64 << 20, 64 << 20])),
            prop::option::of((0usize..5, 1u64..400)),
        )
            .prop_map(|(shape, e, t, l, s, x)| (shape, e, t, l, s, x))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn chosen_chunks_fit_the_shape_the_target_and_the_user(
            (shape, elem, target, layout, shard, explicit) in case()
        ) {
            let dims = names(shape.len());
            let mut o = ChunkOptions { layout, target_bytes: target, shard_bytes: shard, ..ChunkOptions::default() };
            if let Some((d, n)) = explicit {
                if d < dims.len() {
                    o.explicit.insert(dims[d].clone(), n);
                }
            }
            let c = choose(&input(&dims, &shape, elem), &o);
            prop_assert_eq!(c.chunk.len(), shape.len());
            for (&ch, &n) in c.chunk.iter().zip(&shape) {
                prop_assert!(ch >= 1 && ch <= n.max(1), "{:?} vs {:?}", c, shape);
            }
            let bytes = c.chunk.iter().map(|&x| x as f64).product::<f64>() * elem as f64;
            let total = shape.iter().map(|&x| x.max(1) as f64).product::<f64>() * elem as f64;
            if let Some((d, n)) = explicit {
                if d < dims.len() {
                    prop_assert_eq!(c.chunk[d], n.min(shape[d].max(1)));
                }
            }
            if explicit.is_none() {
                // Never much bigger than the target (whole maps may reach 4x)...
                prop_assert!(bytes <= 4.0 * target as f64 + elem as f64, "{:?} {} > {}", c, bytes, target);
                // ...and not much smaller, unless the whole variable is small.
                if total >= target as f64 {
                    prop_assert!(bytes >= target as f64 / 8.0, "{:?} {} << {} (shape {:?})", c, bytes, target, shape);
                } else {
                    prop_assert_eq!(c.chunk.clone(), shape.iter().map(|&n| n.max(1)).collect::<Vec<_>>());
                }
            }
            if let Some(s) = &c.shard {
                prop_assert!(shard.is_some());
                for ((&sh, &ch), &n) in s.iter().zip(&c.chunk).zip(&shape) {
                    prop_assert_eq!(sh % ch, 0);
                    prop_assert!(sh <= n.max(1).div_ceil(ch) * ch);
                }
            }
        }
    }
}
