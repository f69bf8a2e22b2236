//! Conic projections: Lambert conformal (1 or 2 standard parallels) and
//! Albers equal-area (Snyder §15 and §14, ellipsoidal forms; the same
//! formulas as PROJ's `lcc` and `aea`).

use crate::ellipsoid::Shape;
use std::f64::consts::FRAC_PI_2;

const EPS10: f64 = 1e-10;

/// Lambert conformal conic on the unit ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lcc {
    shape: Shape,
    n: f64,
    c: f64,
    rho0: f64,
    k0: f64,
}

impl Lcc {
    /// `lat1`, `lat2` standard parallels (equal for a tangent cone), `lat0`
    /// the latitude of origin, radians. `None` when the parallels are
    /// opposite (no cone).
    pub fn new(shape: Shape, lat0: f64, lat1: f64, lat2: f64, k0: f64) -> Option<Lcc> {
        if (lat1 + lat2).abs() < EPS10 {
            return None;
        }
        let (sin1, cos1) = lat1.sin_cos();
        let m1 = shape.msfn(sin1, cos1);
        let t1 = shape.tsfn(lat1);
        let n = if (lat1 - lat2).abs() >= EPS10 {
            let (sin2, cos2) = lat2.sin_cos();
            (m1 / shape.msfn(sin2, cos2)).ln() / (t1 / shape.tsfn(lat2)).ln()
        } else {
            sin1
        };
        if n == 0.0 || !n.is_finite() {
            return None;
        }
        let c = m1 * t1.powf(-n) / n;
        let rho0 = if (lat0.abs() - FRAC_PI_2).abs() < EPS10 {
            0.0
        } else {
            c * shape.tsfn(lat0).powf(n)
        };
        Some(Lcc {
            shape,
            n,
            c,
            rho0,
            k0,
        })
    }

    pub fn forward(&self, lam: f64, phi: f64) -> Option<(f64, f64)> {
        let rho = if (phi.abs() - FRAC_PI_2).abs() < EPS10 {
            if phi * self.n <= 0.0 {
                return None;
            }
            0.0
        } else {
            self.c * self.shape.tsfn(phi).powf(self.n)
        };
        let (s, c) = (lam * self.n).sin_cos();
        Some((self.k0 * rho * s, self.k0 * (self.rho0 - rho * c)))
    }

    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let mut x = x / self.k0;
        let mut y = self.rho0 - y / self.k0;
        let mut rho = x.hypot(y);
        if rho == 0.0 {
            return Some((0.0, FRAC_PI_2.copysign(self.n)));
        }
        if self.n < 0.0 {
            rho = -rho;
            x = -x;
            y = -y;
        }
        let phi = self.shape.phi_from_ts((rho / self.c).powf(1.0 / self.n));
        Some((x.atan2(y) / self.n, phi))
    }
}

/// Albers conical equal-area on the unit ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aea {
    shape: Shape,
    n: f64,
    c: f64,
    rho0: f64,
}

impl Aea {
    /// `None` when the standard parallels are opposite (no cone).
    pub fn new(shape: Shape, lat0: f64, lat1: f64, lat2: f64) -> Option<Aea> {
        if (lat1 + lat2).abs() < EPS10 {
            return None;
        }
        let (sin1, cos1) = lat1.sin_cos();
        let m1 = shape.msfn(sin1, cos1);
        let q1 = shape.qsfn(sin1);
        let n = if (lat1 - lat2).abs() >= EPS10 {
            let (sin2, cos2) = lat2.sin_cos();
            let m2 = shape.msfn(sin2, cos2);
            let q2 = shape.qsfn(sin2);
            (m1 * m1 - m2 * m2) / (q2 - q1)
        } else {
            sin1
        };
        if n == 0.0 || !n.is_finite() {
            return None;
        }
        let c = m1 * m1 + n * q1;
        let rho0 = (c - n * shape.qsfn(lat0.sin())).max(0.0).sqrt() / n;
        Some(Aea { shape, n, c, rho0 })
    }

    pub fn forward(&self, lam: f64, phi: f64) -> Option<(f64, f64)> {
        let r = self.c - self.n * self.shape.qsfn(phi.sin());
        if r < 0.0 {
            return None;
        }
        let rho = r.sqrt() / self.n;
        let (s, c) = (lam * self.n).sin_cos();
        Some((rho * s, self.rho0 - rho * c))
    }

    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let mut x = x;
        let mut y = self.rho0 - y;
        let mut rho = x.hypot(y);
        if rho == 0.0 {
            return Some((0.0, FRAC_PI_2.copysign(self.n)));
        }
        if self.n < 0.0 {
            rho = -rho;
            x = -x;
            y = -y;
        }
        let r = rho * self.n;
        let q = (self.c - r * r) / self.n;
        let qp = self.shape.qsfn(1.0);
        if q.abs() > qp * (1.0 + 1e-12) {
            return None;
        }
        Some((x.atan2(y) / self.n, self.shape.phi_from_q(q)))
    }
}
