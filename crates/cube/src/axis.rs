//! One coordinate axis of a grid: cell centres, and the position of a
//! coordinate among them.

/// A 1-D coordinate axis (cell centres, strictly monotonic).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis1D {
    /// Cell centres.
    pub values: Vec<f64>,
    /// `(first, step)` when the centres are evenly spaced (to 1e-4 of a step).
    regular: Option<(f64, f64)>,
    ascending: bool,
}

impl Axis1D {
    /// An axis over `values`; `None` when they are not strictly monotonic or
    /// not finite (an axis must order its cells).
    pub fn new(values: Vec<f64>) -> Option<Axis1D> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let ascending = values.len() < 2 || values[1] > values[0];
        let monotonic = values
            .windows(2)
            .all(|w| if ascending { w[1] > w[0] } else { w[1] < w[0] });
        if !monotonic {
            return None;
        }
        let regular = if values.len() < 2 {
            None
        } else {
            let n = values.len() - 1;
            let step = (values[n] - values[0]) / n as f64;
            let tol = step.abs() * 1e-4;
            values
                .windows(2)
                .all(|w| ((w[1] - w[0]) - step).abs() <= tol)
                .then_some((values[0], step))
        };
        Some(Axis1D {
            values,
            regular,
            ascending,
        })
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the axis has no cells (never, for a built axis).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// True when the centres increase.
    pub fn ascending(&self) -> bool {
        self.ascending
    }

    /// The spacing of an evenly spaced axis.
    pub fn step(&self) -> Option<f64> {
        self.regular.map(|(_, s)| s)
    }

    /// The mean absolute spacing of the cells (the resolution).
    pub fn resolution(&self) -> f64 {
        let n = self.values.len();
        if n < 2 {
            return f64::INFINITY;
        }
        ((self.values[n - 1] - self.values[0]) / (n - 1) as f64).abs()
    }

    /// The outer cell edges `(low, high)`, half a spacing beyond the first and
    /// last centres.
    pub fn edges(&self) -> (f64, f64) {
        let n = self.values.len();
        let (first, last) = (self.values[0], self.values[n - 1]);
        let half = if n < 2 {
            0.5
        } else {
            ((self.values[1] - first).abs() / 2.0).max((last - self.values[n - 2]).abs() / 2.0)
        };
        (first.min(last) - half, first.max(last) + half)
    }

    /// The fractional index of coordinate `v`: integer positions are cell
    /// centres; `None` outside the outer edges.
    pub fn position(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        let n = self.values.len();
        if n == 1 {
            let (lo, hi) = self.edges();
            return (v >= lo && v <= hi).then_some(0.0);
        }
        let p = match self.regular {
            Some((first, step)) => (v - first) / step,
            None => self.irregular_position(v),
        };
        (p >= -0.5 && p <= n as f64 - 0.5).then_some(p)
    }

    fn irregular_position(&self, v: f64) -> f64 {
        let vals = &self.values;
        let n = vals.len();
        // Index of the first centre beyond v in the axis direction.
        let k = if self.ascending {
            vals.partition_point(|&c| c <= v)
        } else {
            vals.partition_point(|&c| c >= v)
        };
        let (i, j) = match k {
            0 => (0, 1),
            k if k >= n => (n - 2, n - 1),
            k => (k - 1, k),
        };
        i as f64 + (v - vals[i]) / (vals[j] - vals[i])
    }

    /// The index of the cell holding `v` (nearest centre), `None` outside.
    pub fn nearest(&self, v: f64) -> Option<usize> {
        let p = self.position(v)?;
        Some((p.round().max(0.0) as usize).min(self.values.len() - 1))
    }

    /// The index range `[lo, hi)` of the cells whose centres lie within
    /// `[a, b]` (either order).
    pub fn centres_within(&self, a: f64, b: f64) -> (usize, usize) {
        let (lo, hi) = (a.min(b), a.max(b));
        let inside: Vec<usize> = (0..self.values.len())
            .filter(|&i| self.values[i] >= lo && self.values[i] <= hi)
            .collect();
        match (inside.first(), inside.last()) {
            (Some(&f), Some(&l)) => (f, l + 1),
            _ => (0, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_on_regular_and_irregular_axes_agree() {
        let reg = Axis1D::new(vec![0.0, 1.0, 2.0, 3.0]).unwrap();
        let irr = Axis1D::new(vec![0.0, 1.0, 2.0, 3.0000001, 10.0]).unwrap();
        assert_eq!(reg.position(1.25), Some(1.25));
        assert!((irr.position(1.25).unwrap() - 1.25).abs() < 1e-9);
        assert!((irr.position(6.5).unwrap() - 3.5).abs() < 1e-6);
        assert_eq!(reg.position(-0.6), None);
        assert_eq!(reg.position(3.5), Some(3.5));
        assert_eq!(reg.nearest(2.6), Some(3));
    }

    #[test]
    fn descending_axes_locate_like_ascending_ones() {
        let lat = Axis1D::new(vec![90.0, 60.0, 30.0, 0.0]).unwrap();
        assert!(!lat.ascending());
        assert_eq!(lat.position(45.0), Some(1.5));
        assert_eq!(lat.nearest(80.0), Some(0));
        assert_eq!(lat.edges(), (-15.0, 105.0));
        assert_eq!(lat.centres_within(10.0, 70.0), (1, 3));
    }

    #[test]
    fn non_monotonic_axes_are_refused() {
        assert!(Axis1D::new(vec![0.0, 2.0, 1.0]).is_none());
        assert!(Axis1D::new(vec![0.0, f64::NAN]).is_none());
    }
}
