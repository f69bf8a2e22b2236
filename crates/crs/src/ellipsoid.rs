//! The figure of the Earth and the auxiliary latitudes the projections use
//! (conformal, authalic, rectifying), in exact or series form accurate to
//! well below a millimetre.

/// An ellipsoid of revolution (or a sphere when `inv_flattening == 0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ellipsoid {
    /// Semi-major axis in metres.
    pub a: f64,
    /// Inverse flattening `a / (a - b)`; 0 for a sphere.
    pub inv_flattening: f64,
}

impl Ellipsoid {
    /// WGS 84.
    pub const WGS84: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        inv_flattening: 298.257_223_563,
    };
    /// GRS 1980 (ETRS89, NAD83, RGF93, GDA94).
    pub const GRS80: Ellipsoid = Ellipsoid {
        a: 6_378_137.0,
        inv_flattening: 298.257_222_101,
    };
    /// Airy 1830 (OSGB36).
    pub const AIRY: Ellipsoid = Ellipsoid {
        a: 6_377_563.396,
        inv_flattening: 299.324_964_6,
    };
    /// Clarke 1866 (NAD27).
    pub const CLARKE1866: Ellipsoid = Ellipsoid {
        a: 6_378_206.4,
        inv_flattening: 294.978_698_213_898,
    };
    /// International 1924 (Hayford; ED50).
    pub const INTL1924: Ellipsoid = Ellipsoid {
        a: 6_378_388.0,
        inv_flattening: 297.0,
    };
    /// Bessel 1841 (DHDN).
    pub const BESSEL1841: Ellipsoid = Ellipsoid {
        a: 6_377_397.155,
        inv_flattening: 299.152_812_8,
    };
    /// WGS 72.
    pub const WGS72: Ellipsoid = Ellipsoid {
        a: 6_378_135.0,
        inv_flattening: 298.26,
    };
    /// Krassowsky 1940 (Pulkovo 1942).
    pub const KRASSOWSKY1940: Ellipsoid = Ellipsoid {
        a: 6_378_245.0,
        inv_flattening: 298.3,
    };

    /// A sphere of radius `r`.
    pub fn sphere(r: f64) -> Ellipsoid {
        Ellipsoid {
            a: r,
            inv_flattening: 0.0,
        }
    }

    /// From the semi-axes `a` and `b` (metres).
    pub fn from_axes(a: f64, b: f64) -> Ellipsoid {
        if (a - b).abs() <= a * 1e-15 {
            Ellipsoid::sphere(a)
        } else {
            Ellipsoid {
                a,
                inv_flattening: a / (a - b),
            }
        }
    }

    /// Whether this is a sphere.
    pub fn is_sphere(&self) -> bool {
        self.inv_flattening == 0.0
    }

    /// Flattening.
    pub fn flattening(&self) -> f64 {
        if self.is_sphere() {
            0.0
        } else {
            1.0 / self.inv_flattening
        }
    }

    /// Semi-minor axis in metres.
    pub fn b(&self) -> f64 {
        self.a * (1.0 - self.flattening())
    }

    /// The well-known name and EPSG code of this ellipsoid, if it is one.
    pub fn known_name(&self) -> Option<(&'static str, u32)> {
        KNOWN
            .iter()
            .find(|(e, _, _)| self.approx_eq(e))
            .map(|&(_, n, c)| (n, c))
    }

    /// The ellipsoid of an EPSG ellipsoid code, with its name.
    pub fn from_epsg(code: u32) -> Option<(Ellipsoid, &'static str)> {
        KNOWN.iter().find(|k| k.2 == code).map(|&(e, n, _)| (e, n))
    }

    /// Equal to within 1 mm on the semi-major axis and 0.04 mm on the
    /// semi-minor one (WGS 84 and GRS 1980 differ by 0.105 mm there; files
    /// often round the semi-minor axis to 0.1 mm).
    pub fn approx_eq(&self, other: &Ellipsoid) -> bool {
        (self.a - other.a).abs() < 1e-3 && (self.b() - other.b()).abs() < 4e-5
    }

    /// The derived constants the projections use.
    pub fn shape(&self) -> Shape {
        Shape::new(self.flattening())
    }
}

/// The ellipsoids arco knows by name and EPSG code.
const KNOWN: [(Ellipsoid, &str, u32); 8] = [
    (Ellipsoid::WGS84, "WGS 84", 7030),
    (Ellipsoid::GRS80, "GRS 1980", 7019),
    (Ellipsoid::AIRY, "Airy 1830", 7001),
    (Ellipsoid::CLARKE1866, "Clarke 1866", 7008),
    (Ellipsoid::INTL1924, "International 1924", 7022),
    (Ellipsoid::BESSEL1841, "Bessel 1841", 7004),
    (Ellipsoid::WGS72, "WGS 72", 7043),
    (Ellipsoid::KRASSOWSKY1940, "Krassowsky 1940", 7024),
];

/// Eccentricity constants of an ellipsoid with unit semi-major axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Shape {
    /// First eccentricity squared.
    pub es: f64,
    /// First eccentricity.
    pub e: f64,
    /// `1 - es`.
    pub one_es: f64,
    /// Third flattening `f / (2 - f)`.
    pub n: f64,
}

impl Shape {
    fn new(f: f64) -> Shape {
        let es = f * (2.0 - f);
        Shape {
            es,
            e: es.sqrt(),
            one_es: 1.0 - es,
            n: f / (2.0 - f),
        }
    }

    /// `e * atanh(e * x)`, 0 on a sphere.
    fn eatanhe(&self, x: f64) -> f64 {
        if self.e > 0.0 {
            self.e * (self.e * x).atanh()
        } else {
            0.0
        }
    }

    /// tan χ (conformal latitude) from tan φ (Karney 2011, eq. 7).
    pub fn taupf(&self, tau: f64) -> f64 {
        if !tau.is_finite() {
            return tau;
        }
        let tau1 = tau.hypot(1.0);
        let sig = self.eatanhe(tau / tau1).sinh();
        sig.hypot(1.0) * tau - sig * tau1
    }

    /// tan φ from tan χ, by Newton's method (Karney 2011, eqs. 19–21).
    pub fn tauf(&self, taup: f64) -> f64 {
        if !taup.is_finite() || self.es == 0.0 {
            return taup;
        }
        const TOL: f64 = 1.5e-9; // sqrt(f64::EPSILON) / 10
        let e2m = self.one_es;
        let mut tau = if taup.abs() > 70.0 {
            taup * self.eatanhe(1.0).exp()
        } else {
            taup / e2m
        };
        let stol = TOL * taup.abs().max(1.0);
        for _ in 0..5 {
            let taupa = self.taupf(tau);
            let dtau = (taup - taupa) * (1.0 + e2m * tau * tau)
                / (e2m * tau.hypot(1.0) * taupa.hypot(1.0));
            tau += dtau;
            if dtau.is_nan() || dtau.abs() < stol {
                break;
            }
        }
        tau
    }

    /// The conformal latitude χ of φ.
    pub fn conformal(&self, phi: f64) -> f64 {
        if phi.abs() >= std::f64::consts::FRAC_PI_2 {
            return phi;
        }
        self.taupf(phi.tan()).atan()
    }

    /// φ from the conformal latitude χ.
    pub fn phi_from_conformal(&self, chi: f64) -> f64 {
        if chi.abs() >= std::f64::consts::FRAC_PI_2 {
            return chi;
        }
        self.tauf(chi.tan()).atan()
    }

    /// Snyder's `t = tan(π/4 − φ/2) / ((1 − e sin φ)/(1 + e sin φ))^(e/2)`
    /// (= exp(−ψ), ψ the isometric latitude).
    pub fn tsfn(&self, phi: f64) -> f64 {
        let es = self.e * phi.sin();
        (0.5 * (std::f64::consts::FRAC_PI_2 - phi)).tan()
            / ((1.0 - es) / (1.0 + es)).powf(0.5 * self.e)
    }

    /// φ from `t` (the inverse of [`Shape::tsfn`]).
    pub fn phi_from_ts(&self, ts: f64) -> f64 {
        if ts <= 0.0 {
            return std::f64::consts::FRAC_PI_2;
        }
        // sinh(ψ) with ψ = −ln t, written to keep precision for t near 1.
        let taup = 0.5 * (1.0 / ts - ts);
        self.tauf(taup).atan()
    }

    /// `m = cos φ / sqrt(1 − e² sin² φ)`.
    pub fn msfn(&self, sinphi: f64, cosphi: f64) -> f64 {
        cosphi / (1.0 - self.es * sinphi * sinphi).sqrt()
    }

    /// Snyder's authalic `q(φ)`; `2 sin φ` on a sphere.
    pub fn qsfn(&self, sinphi: f64) -> f64 {
        if self.e < 1e-7 {
            return 2.0 * sinphi;
        }
        let con = self.e * sinphi;
        self.one_es
            * (sinphi / (1.0 - con * con) - (0.5 / self.e) * ((1.0 - con) / (1.0 + con)).ln())
    }

    /// φ from the authalic `q`, by Newton's method (Snyder 3-16); `q` is
    /// clamped to the pole's value.
    pub fn phi_from_q(&self, q: f64) -> f64 {
        let qp = self.qsfn(1.0);
        let ratio = (q / qp).clamp(-1.0, 1.0);
        let mut phi = ratio.asin();
        if self.e < 1e-7 || (ratio.abs() - 1.0).abs() < 1e-15 {
            return phi;
        }
        for _ in 0..15 {
            let (s, c) = phi.sin_cos();
            if c.abs() < 1e-14 {
                break;
            }
            let con = self.e * s;
            let com = 1.0 - con * con;
            let dphi = 0.5 * com * com / c
                * (q / self.one_es - s / com + (0.5 / self.e) * ((1.0 - con) / (1.0 + con)).ln());
            phi += dphi;
            if dphi.abs() < 1e-15 {
                break;
            }
        }
        phi
    }

    /// Meridian distance from the equator to φ on the unit ellipsoid
    /// (Helmert's series in n, error O(n⁵) ≈ 1e-14).
    pub fn mlfn(&self, phi: f64) -> f64 {
        let n = self.n;
        let n2 = n * n;
        let n3 = n2 * n;
        let n4 = n2 * n2;
        (1.0 / (1.0 + n))
            * ((1.0 + n2 / 4.0 + n4 / 64.0) * phi - (1.5 * n - 3.0 / 16.0 * n3) * (2.0 * phi).sin()
                + (15.0 / 16.0 * n2 - 15.0 / 64.0 * n4) * (4.0 * phi).sin()
                - 35.0 / 48.0 * n3 * (6.0 * phi).sin()
                + 315.0 / 512.0 * n4 * (8.0 * phi).sin())
    }

    /// φ from the meridian distance on the unit ellipsoid (inverse of
    /// [`Shape::mlfn`], through the rectifying latitude).
    pub fn inv_mlfn(&self, m: f64) -> f64 {
        let n = self.n;
        let n2 = n * n;
        let n3 = n2 * n;
        let n4 = n2 * n2;
        let mu = m * (1.0 + n) / (1.0 + n2 / 4.0 + n4 / 64.0);
        mu + (1.5 * n - 27.0 / 32.0 * n3) * (2.0 * mu).sin()
            + (21.0 / 16.0 * n2 - 55.0 / 32.0 * n4) * (4.0 * mu).sin()
            + 151.0 / 96.0 * n3 * (6.0 * mu).sin()
            + 1097.0 / 512.0 * n4 * (8.0 * mu).sin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformal_latitude_round_trips_on_wgs84() {
        let s = Ellipsoid::WGS84.shape();
        for deg in [-89.999, -60.0, -1.0, 0.0, 0.5, 45.0, 80.0, 89.9999] {
            let phi = f64::to_radians(deg);
            let back = s.phi_from_conformal(s.conformal(phi));
            assert!((back - phi).abs() < 1e-14, "{deg}: {back} vs {phi}");
        }
    }

    #[test]
    fn authalic_q_inverts_including_near_the_poles() {
        let s = Ellipsoid::GRS80.shape();
        for deg in [-89.99, -45.0, 0.0, 10.0, 52.0, 89.99] {
            let phi = f64::to_radians(deg);
            let back = s.phi_from_q(s.qsfn(phi.sin()));
            assert!((back - phi).abs() < 1e-12, "{deg}: {back} vs {phi}");
        }
    }

    #[test]
    fn meridian_distance_matches_the_known_quarter_meridian_of_wgs84() {
        // The WGS 84 quarter meridian is 10 001 965.729 m.
        let s = Ellipsoid::WGS84.shape();
        let q = s.mlfn(std::f64::consts::FRAC_PI_2) * Ellipsoid::WGS84.a;
        assert!((q - 10_001_965.729).abs() < 1e-3, "{q}");
        for deg in [-80.0, -12.0, 0.0, 33.0, 89.0] {
            let phi = f64::to_radians(deg);
            assert!((s.inv_mlfn(s.mlfn(phi)) - phi).abs() < 1e-13);
        }
    }

    #[test]
    fn an_ellipsoid_given_by_its_axes_has_the_right_flattening() {
        let e = Ellipsoid::from_axes(6_378_137.0, 6_356_752.314_245);
        assert!(e.approx_eq(&Ellipsoid::WGS84));
        assert_eq!(e.known_name(), Some(("WGS 84", 7030)));
        assert!(Ellipsoid::from_axes(6_371_000.0, 6_371_000.0).is_sphere());
    }
}
