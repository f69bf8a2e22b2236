//! Geostationary satellite view (CGMS LRIT/HRIT normalized geostationary
//! projection; PROJ's `geos`), ellipsoidal, sweep around the x or y axis.
//! Projected coordinates are the scanning angles times the satellite height.

use crate::ellipsoid::Shape;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Geos {
    /// Height of the satellite above the ellipsoid, in semi-major axes.
    h: f64,
    /// Distance from the Earth's centre, in semi-major axes.
    radius_g: f64,
    /// `radius_g² − 1`.
    c: f64,
    /// b/a and its powers.
    radius_p: f64,
    radius_p2: f64,
    radius_p_inv2: f64,
    /// Sweep around the x axis (GOES) rather than y (Meteosat).
    sweep_x: bool,
}

impl Geos {
    /// `h` the satellite height above the ellipsoid in semi-major axes.
    pub fn new(shape: Shape, h: f64, sweep_x: bool) -> Geos {
        let radius_g = 1.0 + h;
        Geos {
            h,
            radius_g,
            c: radius_g * radius_g - 1.0,
            radius_p: shape.one_es.sqrt(),
            radius_p2: shape.one_es,
            radius_p_inv2: 1.0 / shape.one_es,
            sweep_x,
        }
    }

    pub fn forward(&self, lam: f64, phi: f64) -> Option<(f64, f64)> {
        // Geocentric latitude, then the point on the ellipsoid.
        let phi = (self.radius_p2 * phi.tan()).atan();
        let (sinphi, cosphi) = phi.sin_cos();
        let (sinlam, coslam) = lam.sin_cos();
        let r = self.radius_p / (self.radius_p * cosphi).hypot(sinphi);
        let vx = r * coslam * cosphi;
        let vy = r * sinlam * cosphi;
        let vz = r * sinphi;
        // Hidden behind the Earth's limb?
        if (self.radius_g - vx) * vx - vy * vy - vz * vz * self.radius_p_inv2 < 0.0 {
            return None;
        }
        let tmp = self.radius_g - vx;
        if self.sweep_x {
            Some((
                self.h * (vy / vz.hypot(tmp)).atan(),
                self.h * (vz / tmp).atan(),
            ))
        } else {
            Some((
                self.h * (vy / tmp).atan(),
                self.h * (vz / vy.hypot(tmp)).atan(),
            ))
        }
    }

    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        // The line of sight from the satellite ...
        let vx = -1.0;
        let (vy, vz) = if self.sweep_x {
            let vz = (y / self.h).tan();
            ((x / self.h).tan() * vz.hypot(1.0), vz)
        } else {
            let vy = (x / self.h).tan();
            (vy, (y / self.h).tan() * vy.hypot(1.0))
        };
        // ... meets the ellipsoid where this quadratic has a root.
        let vzp = vz / self.radius_p;
        let a = vy * vy + vzp * vzp + vx * vx;
        let b = 2.0 * self.radius_g * vx;
        let det = b * b - 4.0 * a * self.c;
        if det < 0.0 {
            return None;
        }
        let k = (-b - det.sqrt()) / (2.0 * a);
        let vx = self.radius_g + k * vx;
        let vy = vy * k;
        let vz = vz * k;
        let lam = vy.atan2(vx);
        let phi = (vz * lam.cos() / vx).atan();
        Some((lam, (self.radius_p_inv2 * phi.tan()).atan()))
    }
}
