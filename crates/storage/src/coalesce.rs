//! Merging neighbouring byte ranges into fewer requests.
//!
//! Remote stores charge per request and each request pays a round trip, so
//! reading 100 chunks that sit next to each other as 100 requests is slow. The
//! pure function [`coalesce`] plans fewer, larger requests; [`slice_back`] cuts
//! the answers back into the ranges that were asked for.

use bytes::Bytes;
use std::ops::Range;

/// Default gap below which two ranges are fetched in one request: 1 MiB, as
/// `object_store::OBJECT_STORE_COALESCE_DEFAULT`.
pub const DEFAULT_MAX_GAP: u64 = 1024 * 1024;

/// Default number of merged requests in flight at once.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// Plan the requests that cover `ranges`.
///
/// Returns `(merged, mapping)`: `merged` is sorted by start and its ranges do
/// not overlap; two ranges whose gap (bytes between the end of one and the start
/// of the next) is below `max_gap` end up in the same merged range, so every gap
/// left between merged ranges is at least `max_gap` (overlapping and touching
/// ranges always merge, even with `max_gap == 0`). `mapping[i]` is the index
/// in `merged` of the range that covers `ranges[i]`.
///
/// Each input range must satisfy `start <= end`; an inverted range is treated as
/// the empty range at its start.
///
/// ```
/// use arco_storage::coalesce::coalesce;
/// let (merged, mapping) = coalesce(&[100..200, 0..10, 210..300, 5_000..5_010], 64);
/// assert_eq!(merged, vec![0..10, 100..300, 5_000..5_010]);
/// assert_eq!(mapping, vec![1, 0, 1, 2]);
/// ```
pub fn coalesce(ranges: &[Range<u64>], max_gap: u64) -> (Vec<Range<u64>>, Vec<usize>) {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| (ranges[i].start, ranges[i].end));

    let mut merged: Vec<Range<u64>> = Vec::new();
    let mut mapping = vec![0usize; ranges.len()];
    for i in order {
        let start = ranges[i].start;
        let end = ranges[i].end.max(start);
        match merged.last_mut() {
            // `start >= last.start` because of the sort. Overlapping and touching
            // ranges always merge; others when the gap is below `max_gap`.
            Some(last) if start <= last.end || start - last.end < max_gap => {
                last.end = last.end.max(end);
            }
            _ => merged.push(start..end),
        }
        mapping[i] = merged.len() - 1;
    }
    (merged, mapping)
}

/// Cut the answers to `merged` back into the `ranges` planned by [`coalesce`].
///
/// `fetched[j]` holds the bytes of `merged[j]`. A fetched buffer shorter than
/// its range (a server that returned fewer bytes) yields shorter slices rather
/// than a panic; callers check lengths.
pub fn slice_back(
    ranges: &[Range<u64>],
    merged: &[Range<u64>],
    mapping: &[usize],
    fetched: &[Bytes],
) -> Vec<Bytes> {
    ranges
        .iter()
        .zip(mapping)
        .map(|(range, &j)| {
            let (Some(outer), Some(bytes)) = (merged.get(j), fetched.get(j)) else {
                return Bytes::new();
            };
            let len = bytes.len();
            let start = usize::try_from(range.start.saturating_sub(outer.start))
                .unwrap_or(usize::MAX)
                .min(len);
            let end = usize::try_from(range.end.max(range.start).saturating_sub(outer.start))
                .unwrap_or(usize::MAX)
                .clamp(start, len);
            bytes.slice(start..end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_closer_than_the_gap_are_merged() {
        let (merged, mapping) = coalesce(&[0..10, 15..20], 6);
        assert_eq!(merged, vec![0..20]);
        assert_eq!(mapping, vec![0, 0]);
    }

    #[test]
    fn ranges_exactly_the_gap_apart_stay_separate() {
        let (merged, _) = coalesce(&[0..10, 16..20], 6);
        assert_eq!(merged, vec![0..10, 16..20]);
    }

    #[test]
    fn a_zero_gap_merges_only_overlapping_or_touching_ranges() {
        let (merged, mapping) = coalesce(&[0..10, 5..12, 12..20, 21..30], 0);
        assert_eq!(merged, vec![0..20, 21..30]);
        assert_eq!(mapping, vec![0, 0, 0, 1]);
    }

    #[test]
    fn no_ranges_plan_no_requests() {
        let (merged, mapping) = coalesce(&[], DEFAULT_MAX_GAP);
        assert!(merged.is_empty());
        assert!(mapping.is_empty());
    }

    #[test]
    fn duplicate_and_nested_ranges_share_one_request() {
        let (merged, mapping) = coalesce(&[0..100, 10..20, 0..100, 50..50], 0);
        assert_eq!(merged, vec![0..100]);
        assert_eq!(mapping, vec![0, 0, 0, 0]);
    }

    fn arb_ranges() -> impl Strategy<Value = (Vec<Range<u64>>, u64)> {
        (
            proptest::collection::vec((0u64..4000, 0u64..300), 0..40),
            0u64..500,
        )
            .prop_map(|(pairs, gap)| (pairs.into_iter().map(|(s, l)| s..s + l).collect(), gap))
    }

    proptest! {
        #[test]
        fn every_range_is_covered_by_exactly_one_merged_range((ranges, gap) in arb_ranges()) {
            let (merged, mapping) = coalesce(&ranges, gap);
            prop_assert_eq!(mapping.len(), ranges.len());
            for (r, &j) in ranges.iter().zip(&mapping) {
                let m = &merged[j];
                prop_assert!(m.start <= r.start && r.end <= m.end, "{:?} not inside {:?}", r, m);
                // Non-empty ranges lie inside no other merged range.
                if r.start < r.end {
                    let covering = merged.iter().filter(|m| m.start <= r.start && r.end <= m.end).count();
                    prop_assert_eq!(covering, 1);
                }
            }
        }

        #[test]
        fn merged_ranges_are_sorted_disjoint_and_gap_separated((ranges, gap) in arb_ranges()) {
            let (merged, mapping) = coalesce(&ranges, gap);
            for w in merged.windows(2) {
                prop_assert!(w[0].start <= w[0].end);
                prop_assert!(w[0].end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
                prop_assert!(w[1].start - w[0].end >= gap, "gap between {:?} and {:?} below {}", w[0], w[1], gap);
            }
            // Every merged range is used, and spans exactly the union of its inputs.
            for (j, m) in merged.iter().enumerate() {
                let members: Vec<_> = ranges.iter().zip(&mapping).filter(|(_, &k)| k == j).map(|(r, _)| r).collect();
                prop_assert!(!members.is_empty());
                prop_assert_eq!(members.iter().map(|r| r.start).min(), Some(m.start));
                prop_assert_eq!(members.iter().map(|r| r.end).max(), Some(m.end));
            }
            prop_assert!(merged.len() <= ranges.len());
        }

        #[test]
        fn sliced_answers_equal_direct_reads(
            (ranges, gap) in arb_ranges(),
            seed in any::<u64>(),
        ) {
            let data: Vec<u8> = (0..4400u64).map(|i| (i.wrapping_mul(seed | 1) >> 3) as u8).collect();
            let (merged, mapping) = coalesce(&ranges, gap);
            let fetched: Vec<Bytes> = merged
                .iter()
                .map(|m| Bytes::copy_from_slice(&data[m.start as usize..m.end as usize]))
                .collect();
            let sliced = slice_back(&ranges, &merged, &mapping, &fetched);
            for (r, got) in ranges.iter().zip(&sliced) {
                prop_assert_eq!(&got[..], &data[r.start as usize..r.end as usize]);
            }
        }
    }
}
