//! Transverse Mercator: Krüger's series to sixth order in the third
//! flattening (Karney 2011, "Transverse Mercator with an accuracy of a few
//! nanometers"), the same method as PROJ's default (Poder/Engsager) and
//! accurate to well below a millimetre within 3 900 km of the central meridian.

use super::Complex;
use crate::ellipsoid::Shape;

/// Precomputed constants on the unit ellipsoid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tmerc {
    shape: Shape,
    /// Scale on the central meridian times the rectifying radius.
    k0a: f64,
    /// Krüger's α (forward) and β (inverse) coefficients.
    alpha: [f64; 6],
    beta: [f64; 6],
    /// ξ at the latitude of origin.
    xi0: f64,
}

impl Tmerc {
    pub fn new(shape: Shape, lat0: f64, k0: f64) -> Tmerc {
        let n = shape.n;
        let n2 = n * n;
        let n3 = n2 * n;
        let n4 = n3 * n;
        let n5 = n4 * n;
        let n6 = n5 * n;
        let rect = (1.0 + n2 / 4.0 + n4 / 64.0 + n6 / 256.0) / (1.0 + n);
        let alpha = [
            n / 2.0 - 2.0 / 3.0 * n2 + 5.0 / 16.0 * n3 + 41.0 / 180.0 * n4 - 127.0 / 288.0 * n5
                + 7891.0 / 37800.0 * n6,
            13.0 / 48.0 * n2 - 3.0 / 5.0 * n3 + 557.0 / 1440.0 * n4 + 281.0 / 630.0 * n5
                - 1_983_433.0 / 1_935_360.0 * n6,
            61.0 / 240.0 * n3 - 103.0 / 140.0 * n4
                + 15061.0 / 26880.0 * n5
                + 167_603.0 / 181_440.0 * n6,
            49561.0 / 161_280.0 * n4 - 179.0 / 168.0 * n5 + 6_601_661.0 / 7_257_600.0 * n6,
            34729.0 / 80640.0 * n5 - 3_418_889.0 / 1_995_840.0 * n6,
            212_378_941.0 / 319_334_400.0 * n6,
        ];
        let beta = [
            n / 2.0 - 2.0 / 3.0 * n2 + 37.0 / 96.0 * n3 - 1.0 / 360.0 * n4 - 81.0 / 512.0 * n5
                + 96199.0 / 604_800.0 * n6,
            1.0 / 48.0 * n2 + 1.0 / 15.0 * n3 - 437.0 / 1440.0 * n4 + 46.0 / 105.0 * n5
                - 1_118_711.0 / 3_870_720.0 * n6,
            17.0 / 480.0 * n3 - 37.0 / 840.0 * n4 - 209.0 / 4480.0 * n5 + 5569.0 / 90720.0 * n6,
            4397.0 / 161_280.0 * n4 - 11.0 / 504.0 * n5 - 830_251.0 / 7_257_600.0 * n6,
            4583.0 / 161_280.0 * n5 - 108_847.0 / 3_991_680.0 * n6,
            20_648_693.0 / 638_668_800.0 * n6,
        ];
        let chi0 = shape.conformal(lat0);
        let xi0 = chi0 + clenshaw_sin(&alpha, Complex::new(chi0, 0.0)).re;
        Tmerc {
            shape,
            k0a: k0 * rect,
            alpha,
            beta,
            xi0,
        }
    }

    /// `(λ − λ0, φ)` radians → unit-ellipsoid `(x, y)`.
    pub fn forward(&self, lam: f64, phi: f64) -> Option<(f64, f64)> {
        let (sinlam, coslam) = lam.sin_cos();
        let taup = self.shape.taupf(phi.tan());
        let xip = taup.atan2(coslam);
        let etap = (sinlam / taup.hypot(coslam)).asinh();
        let z = Complex::new(xip, etap);
        let s = clenshaw_sin(&self.alpha, z);
        let xi = xip + s.re;
        let eta = etap + s.im;
        Some((self.k0a * eta, self.k0a * (xi - self.xi0)))
    }

    /// Unit-ellipsoid `(x, y)` → `(λ − λ0, φ)` radians.
    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let xi = y / self.k0a + self.xi0;
        let eta = x / self.k0a;
        let s = clenshaw_sin(&self.beta, Complex::new(xi, eta));
        let xip = xi - s.re;
        let etap = eta - s.im;
        let (sinxip, cosxip) = xip.sin_cos();
        let sinhetap = etap.sinh();
        let taup = sinxip / sinhetap.hypot(cosxip);
        let lam = sinhetap.atan2(cosxip);
        let phi = self.shape.tauf(taup).atan();
        Some((lam, phi))
    }
}

/// `Σ c[j] sin(2 (j+1) z)` for complex `z`, by Clenshaw's recurrence.
fn clenshaw_sin(c: &[f64; 6], z: Complex) -> Complex {
    let two_z = z.scale(2.0);
    let (sin2z, cos2z) = two_z.sin_cos();
    let two_cos = cos2z.scale(2.0);
    let mut b1 = Complex::ZERO;
    let mut b2 = Complex::ZERO;
    for &ck in c.iter().rev() {
        let b0 = two_cos.mul(b1).sub(b2).add_re(ck);
        b2 = b1;
        b1 = b0;
    }
    b1.mul(sin2z)
}
