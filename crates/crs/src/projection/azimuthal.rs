//! Azimuthal projections: stereographic (polar and oblique, through the
//! conformal sphere, Snyder §21; PROJ's `stere`) and Lambert azimuthal
//! equal-area (through the authalic sphere, Snyder §24; PROJ's `laea`).

use crate::ellipsoid::Shape;
use std::f64::consts::FRAC_PI_2;

const EPS10: f64 = 1e-10;

/// Which aspect an azimuthal projection has.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Aspect {
    North,
    South,
    Oblique { sin1: f64, cos1: f64 },
}

fn aspect_of(lat0: f64, aux_lat0: f64) -> Aspect {
    if (lat0.abs() - FRAC_PI_2).abs() < EPS10 {
        if lat0 < 0.0 {
            Aspect::South
        } else {
            Aspect::North
        }
    } else {
        let (sin1, cos1) = aux_lat0.sin_cos();
        Aspect::Oblique { sin1, cos1 }
    }
}

/// Stereographic on the unit ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stere {
    shape: Shape,
    aspect: Aspect,
    /// Polar: ρ = akm1 · t; oblique: 2 k0 m(φ0).
    akm1: f64,
}

impl Stere {
    /// Polar aspects take either a scale factor `k0` at the pole or a
    /// latitude of true scale `lat_ts` (|lat_ts| < 90°); oblique aspects
    /// take `k0` at the origin.
    pub fn new(shape: Shape, lat0: f64, k0: f64, lat_ts: Option<f64>) -> Stere {
        let aspect = aspect_of(lat0, shape.conformal(lat0));
        let akm1 = match aspect {
            Aspect::North | Aspect::South => match lat_ts {
                Some(ts) if (ts.abs() - FRAC_PI_2).abs() >= EPS10 => {
                    let ts = ts.abs();
                    let (s, c) = ts.sin_cos();
                    shape.msfn(s, c) / shape.tsfn(ts)
                }
                _ => {
                    let e = shape.e;
                    2.0 * k0 / ((1.0 + e).powf(1.0 + e) * (1.0 - e).powf(1.0 - e)).sqrt()
                }
            },
            Aspect::Oblique { .. } => {
                let (s, c) = lat0.sin_cos();
                2.0 * k0 * shape.msfn(s, c)
            }
        };
        Stere {
            shape,
            aspect,
            akm1,
        }
    }

    pub fn forward(&self, lam: f64, phi: f64) -> Option<(f64, f64)> {
        let (sinlam, coslam) = lam.sin_cos();
        match self.aspect {
            Aspect::North => {
                let rho = self.akm1 * self.shape.tsfn(phi);
                Some((rho * sinlam, -rho * coslam))
            }
            Aspect::South => {
                let rho = self.akm1 * self.shape.tsfn(-phi);
                Some((rho * sinlam, rho * coslam))
            }
            Aspect::Oblique { sin1, cos1 } => {
                let (sinx, cosx) = self.shape.conformal(phi).sin_cos();
                let denom = cos1 * (1.0 + sin1 * sinx + cos1 * cosx * coslam);
                if denom.abs() < EPS10 {
                    return None;
                }
                let a = self.akm1 / denom;
                Some((a * cosx * sinlam, a * (cos1 * sinx - sin1 * cosx * coslam)))
            }
        }
    }

    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let rho = x.hypot(y);
        match self.aspect {
            Aspect::North => {
                let phi = self.shape.phi_from_ts(rho / self.akm1);
                Some((x.atan2(-y), phi))
            }
            Aspect::South => {
                let phi = -self.shape.phi_from_ts(rho / self.akm1);
                Some((x.atan2(y), phi))
            }
            Aspect::Oblique { sin1, cos1 } => {
                if rho == 0.0 {
                    return Some((0.0, self.shape.phi_from_conformal(sin1.atan2(cos1))));
                }
                let ce = 2.0 * (rho * cos1).atan2(self.akm1);
                let (sinc, cosc) = ce.sin_cos();
                let chi = (cosc * sin1 + y * sinc * cos1 / rho)
                    .clamp(-1.0, 1.0)
                    .asin();
                let lam = (x * sinc).atan2(rho * cos1 * cosc - y * sin1 * sinc);
                Some((lam, self.shape.phi_from_conformal(chi)))
            }
        }
    }
}

/// Lambert azimuthal equal-area on the unit ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Laea {
    shape: Shape,
    aspect: Aspect,
    qp: f64,
    /// Radius of the authalic sphere.
    rq: f64,
    /// Snyder's D (oblique aspect).
    dd: f64,
    lat0: f64,
}

impl Laea {
    pub fn new(shape: Shape, lat0: f64) -> Laea {
        let qp = shape.qsfn(1.0);
        let beta0 = (shape.qsfn(lat0.sin()) / qp).clamp(-1.0, 1.0).asin();
        let aspect = aspect_of(lat0, beta0);
        let rq = (0.5 * qp).sqrt();
        let dd = match aspect {
            Aspect::Oblique { cos1, .. } => {
                let (s, c) = lat0.sin_cos();
                shape.msfn(s, c) / (rq * cos1)
            }
            _ => 1.0,
        };
        Laea {
            shape,
            aspect,
            qp,
            rq,
            dd,
            lat0,
        }
    }

    pub fn forward(&self, lam: f64, phi: f64) -> Option<(f64, f64)> {
        let (sinlam, coslam) = lam.sin_cos();
        let q = self.shape.qsfn(phi.sin());
        match self.aspect {
            Aspect::Oblique { sin1, cos1 } => {
                let sinb = (q / self.qp).clamp(-1.0, 1.0);
                let cosb = (1.0 - sinb * sinb).sqrt();
                let b = 1.0 + sin1 * sinb + cos1 * cosb * coslam;
                if b.abs() < EPS10 {
                    return None;
                }
                let b = self.rq * (2.0 / b).sqrt();
                Some((
                    b * self.dd * cosb * sinlam,
                    b / self.dd * (cos1 * sinb - sin1 * cosb * coslam),
                ))
            }
            Aspect::North | Aspect::South => {
                let north = self.aspect == Aspect::North;
                let r = if north { self.qp - q } else { self.qp + q };
                let beyond = if north {
                    phi + FRAC_PI_2
                } else {
                    phi - FRAC_PI_2
                };
                if beyond.abs() < EPS10 {
                    return None; // the opposite pole
                }
                let rho = r.max(0.0).sqrt();
                Some((rho * sinlam, if north { -rho } else { rho } * coslam))
            }
        }
    }

    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        match self.aspect {
            Aspect::Oblique { sin1, cos1 } => {
                let x = x / self.dd;
                let y = y * self.dd;
                let rho = x.hypot(y);
                if rho < EPS10 {
                    return Some((0.0, self.lat0));
                }
                let s = 0.5 * rho / self.rq;
                if s > 1.0 + 1e-12 {
                    return None;
                }
                let ce = 2.0 * s.min(1.0).asin();
                let (sinc, cosc) = ce.sin_cos();
                let sinb = cosc * sin1 + y * sinc * cos1 / rho;
                let lam = (x * sinc).atan2(rho * cos1 * cosc - y * sin1 * sinc);
                Some((lam, self.shape.phi_from_q(sinb * self.qp)))
            }
            Aspect::North | Aspect::South => {
                let north = self.aspect == Aspect::North;
                let rho2 = x * x + y * y;
                if rho2 > 2.0 * self.qp * (1.0 + 1e-12) {
                    return None;
                }
                let q = if north {
                    self.qp - rho2
                } else {
                    rho2 - self.qp
                };
                let lam = if north { x.atan2(-y) } else { x.atan2(y) };
                Some((lam, self.shape.phi_from_q(q)))
            }
        }
    }
}
