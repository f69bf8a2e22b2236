//! Evaluating a [`Definition`]: constants computed once, then per-point
//! forward (lon/lat → x/y) and inverse (x/y → lon/lat) without allocation.

mod azimuthal;
mod conic;
mod geos;
mod tmerc;

use crate::ellipsoid::{Ellipsoid, Shape};
use crate::method::{Definition, MercatorScale, Method};
use std::f64::consts::{FRAC_PI_2, PI};

/// Why a projection could not be set up (the caller names the mapping).
pub(crate) type SetupError = &'static str;

/// A definition with its constants precomputed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projector {
    /// Semi-major axis (metres): unit-ellipsoid results are scaled by it.
    a: f64,
    /// Central meridian, radians.
    lon0: f64,
    fe: f64,
    fn_: f64,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Identity,
    Rotated(Rotation),
    Tmerc(tmerc::Tmerc),
    Merc { shape: Shape, k0: f64 },
    WebMerc,
    Lcc(conic::Lcc),
    Aea(conic::Aea),
    Stere(azimuthal::Stere),
    Laea(azimuthal::Laea),
    Geos(geos::Geos),
    Sinu(Shape),
}

impl Projector {
    /// Longitude/latitude as they are (on WGS 84).
    pub fn identity() -> Projector {
        Projector {
            a: Ellipsoid::WGS84.a,
            lon0: 0.0,
            fe: 0.0,
            fn_: 0.0,
            kind: Kind::Identity,
        }
    }

    /// EPSG:3857.
    pub fn web_mercator() -> Projector {
        Projector {
            a: Ellipsoid::WGS84.a,
            lon0: 0.0,
            fe: 0.0,
            fn_: 0.0,
            kind: Kind::WebMerc,
        }
    }

    pub fn new(def: &Definition) -> Result<Projector, SetupError> {
        let e: Ellipsoid = def.ellipsoid;
        if !(e.a.is_finite() && e.a > 0.0) {
            return Err(
                "the semi-major axis (or earth_radius) must be a positive number of metres",
            );
        }
        if !(e.inv_flattening == 0.0 || e.inv_flattening > 1.0) {
            return Err("the inverse flattening must be greater than 1 (or 0 for a sphere)");
        }
        let shape = e.shape();
        let r = f64::to_radians;
        let mut p = Projector {
            a: e.a,
            lon0: 0.0,
            fe: 0.0,
            fn_: 0.0,
            kind: Kind::Identity,
        };
        let check_lat = |v: f64| -> Result<f64, SetupError> {
            if v.is_finite() && v.abs() <= 90.0 {
                Ok(r(v))
            } else {
                Err("latitudes must lie within [-90, 90] degrees")
            }
        };
        let check_k = |k: f64| -> Result<f64, SetupError> {
            if k.is_finite() && k > 0.0 {
                Ok(k)
            } else {
                Err("the scale factor must be a positive number")
            }
        };
        let mut set = |lon0: f64, fe: f64, fn_: f64| -> Result<(), SetupError> {
            if !(lon0.is_finite() && fe.is_finite() && fn_.is_finite()) {
                return Err(
                    "the longitude of origin, false easting and false northing must be finite",
                );
            }
            p.lon0 = r(lon0);
            p.fe = fe;
            p.fn_ = fn_;
            Ok(())
        };
        let kind = match def.method {
            Method::LonLat => Kind::Identity,
            Method::RotatedPole {
                pole_lat,
                pole_lon,
                north_pole_grid_lon,
            } => {
                let lat = check_lat(pole_lat)?;
                if !(pole_lon.is_finite() && north_pole_grid_lon.is_finite()) {
                    return Err("the pole longitudes must be finite");
                }
                Kind::Rotated(Rotation::new(lat, r(pole_lon), r(north_pole_grid_lon)))
            }
            Method::TransverseMercator {
                lat0,
                lon0,
                k0,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                Kind::Tmerc(tmerc::Tmerc::new(shape, check_lat(lat0)?, check_k(k0)?))
            }
            Method::Mercator {
                lon0,
                scale,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                let k0 = match scale {
                    MercatorScale::K0(k) => check_k(k)?,
                    MercatorScale::LatTs(t) => {
                        let t = check_lat(t)?;
                        if (t.abs() - FRAC_PI_2).abs() < 1e-10 {
                            return Err(
                                "the standard parallel of a Mercator projection cannot be a pole",
                            );
                        }
                        let (s, c) = t.sin_cos();
                        shape.msfn(s, c)
                    }
                };
                Kind::Merc { shape, k0 }
            }
            Method::WebMercator => Kind::WebMerc,
            Method::LambertConformal {
                lat0,
                lon0,
                lat1,
                lat2,
                k0,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                let lat1 = check_lat(lat1)?;
                let lat2 = match lat2 {
                    Some(v) => check_lat(v)?,
                    None => lat1,
                };
                Kind::Lcc(
                    conic::Lcc::new(shape, check_lat(lat0)?, lat1, lat2, check_k(k0)?).ok_or(
                        "the standard parallels must not be opposite (no cone), nor the equator",
                    )?,
                )
            }
            Method::AlbersEqualArea {
                lat0,
                lon0,
                lat1,
                lat2,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                Kind::Aea(
                    conic::Aea::new(shape, check_lat(lat0)?, check_lat(lat1)?, check_lat(lat2)?)
                        .ok_or("the standard parallels must not be opposite (no cone)")?,
                )
            }
            Method::PolarStereographic {
                north,
                lon0,
                lat_ts,
                k0,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                let lat_ts = lat_ts.map(check_lat).transpose()?;
                if let Some(ts) = lat_ts {
                    if (ts > 0.0) != north || ts == 0.0 {
                        return Err("the standard parallel of a polar stereographic projection must lie in the hemisphere of its pole");
                    }
                }
                let lat0 = if north { FRAC_PI_2 } else { -FRAC_PI_2 };
                Kind::Stere(azimuthal::Stere::new(shape, lat0, check_k(k0)?, lat_ts))
            }
            Method::Stereographic {
                lat0,
                lon0,
                k0,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                Kind::Stere(azimuthal::Stere::new(
                    shape,
                    check_lat(lat0)?,
                    check_k(k0)?,
                    None,
                ))
            }
            Method::LambertAzimuthalEqualArea {
                lat0,
                lon0,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                Kind::Laea(azimuthal::Laea::new(shape, check_lat(lat0)?))
            }
            Method::Geostationary {
                lon0,
                height,
                sweep_x,
                fe,
                fn_,
            } => {
                set(lon0, fe, fn_)?;
                if !(height.is_finite() && height > 0.0) {
                    return Err("perspective_point_height must be a positive number of metres");
                }
                Kind::Geos(geos::Geos::new(shape, height / e.a, sweep_x))
            }
            Method::Sinusoidal { lon0, fe, fn_ } => {
                set(lon0, fe, fn_)?;
                Kind::Sinu(shape)
            }
        };
        p.kind = kind;
        Ok(p)
    }

    /// `(lon, lat)` degrees → projected `(x, y)`; `None` outside the domain.
    #[inline]
    pub fn forward(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        let (x, y) = match &self.kind {
            Kind::Identity => return Some((lon, lat)),
            Kind::Rotated(rot) => return rot.forward(lon, lat),
            kind => {
                if lat.is_nan() || lat.abs() > 90.0 || !lon.is_finite() {
                    return None;
                }
                let lam = adjlon(lon.to_radians() - self.lon0);
                let phi = lat.to_radians();
                match kind {
                    Kind::Tmerc(t) => t.forward(lam, phi)?,
                    Kind::Merc { shape, k0 } => {
                        if (phi.abs() - FRAC_PI_2).abs() < 1e-10 {
                            return None;
                        }
                        (k0 * lam, k0 * shape.taupf(phi.tan()).asinh())
                    }
                    Kind::WebMerc => {
                        if (phi.abs() - FRAC_PI_2).abs() < 1e-10 {
                            return None;
                        }
                        (lam, phi.tan().asinh())
                    }
                    Kind::Lcc(l) => l.forward(lam, phi)?,
                    Kind::Aea(l) => l.forward(lam, phi)?,
                    Kind::Stere(s) => s.forward(lam, phi)?,
                    Kind::Laea(l) => l.forward(lam, phi)?,
                    Kind::Geos(g) => g.forward(lam, phi)?,
                    Kind::Sinu(shape) => {
                        let (s, c) = phi.sin_cos();
                        (lam * c / (1.0 - shape.es * s * s).sqrt(), shape.mlfn(phi))
                    }
                    Kind::Identity | Kind::Rotated(_) => return None,
                }
            }
        };
        let out = (self.a * x + self.fe, self.a * y + self.fn_);
        (out.0.is_finite() && out.1.is_finite()).then_some(out)
    }

    /// Projected `(x, y)` → `(lon, lat)` degrees, longitude in [−180, 180];
    /// `None` outside the domain.
    #[inline]
    pub fn inverse(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let (lam, phi) = match &self.kind {
            Kind::Identity => return Some((x, y)),
            Kind::Rotated(rot) => return rot.inverse(x, y),
            kind => {
                if !(x.is_finite() && y.is_finite()) {
                    return None;
                }
                let u = (x - self.fe) / self.a;
                let v = (y - self.fn_) / self.a;
                match kind {
                    Kind::Tmerc(t) => t.inverse(u, v)?,
                    Kind::Merc { shape, k0 } => (u / k0, shape.tauf((v / k0).sinh()).atan()),
                    Kind::WebMerc => (u, v.sinh().atan()),
                    Kind::Lcc(l) => l.inverse(u, v)?,
                    Kind::Aea(l) => l.inverse(u, v)?,
                    Kind::Stere(s) => s.inverse(u, v)?,
                    Kind::Laea(l) => l.inverse(u, v)?,
                    Kind::Geos(g) => g.inverse(u, v)?,
                    Kind::Sinu(shape) => {
                        let phi = shape.inv_mlfn(v);
                        if phi.is_nan() || phi.abs() > FRAC_PI_2 + 1e-12 {
                            return None;
                        }
                        let c = phi.cos();
                        let lam = if c.abs() < 1e-14 {
                            0.0
                        } else {
                            let s = phi.sin();
                            u * (1.0 - shape.es * s * s).sqrt() / c
                        };
                        if lam.abs() > PI * (1.0 + 1e-12) {
                            return None; // outside the sinusoidal outline
                        }
                        (lam, phi.clamp(-FRAC_PI_2, FRAC_PI_2))
                    }
                    Kind::Identity | Kind::Rotated(_) => return None,
                }
            }
        };
        if !(lam.is_finite() && phi.is_finite()) {
            return None;
        }
        Some((adjlon(lam + self.lon0).to_degrees(), phi.to_degrees()))
    }
}

/// Wrap radians into [−π, π] (values just past ±π by rounding are kept).
#[inline]
pub(crate) fn adjlon(lon: f64) -> f64 {
    if lon.abs() <= PI + 1e-12 {
        return lon;
    }
    let t = lon + PI;
    t - 2.0 * PI * (t / (2.0 * PI)).floor() - PI
}

/// CF rotated pole: a rotation of the sphere of directions (the same on any
/// ellipsoid, as in PROJ's `ob_tran` with `o_proj=longlat`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rotation {
    sin_p: f64,
    cos_p: f64,
    /// `o_lon_p`: the true north pole's longitude on the rotated grid.
    lon_p: f64,
    /// `lon_0 = grid_north_pole_longitude + 180°`.
    lon0: f64,
}

impl Rotation {
    fn new(pole_lat: f64, pole_lon: f64, north_pole_grid_lon: f64) -> Rotation {
        let (sin_p, cos_p) = pole_lat.sin_cos();
        Rotation {
            sin_p,
            cos_p,
            lon_p: north_pole_grid_lon,
            lon0: pole_lon + PI,
        }
    }

    /// Geographic → rotated, degrees.
    fn forward(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        if lat.is_nan() || lat.abs() > 90.0 || !lon.is_finite() {
            return None;
        }
        let lam = lon.to_radians() - self.lon0;
        let (sinphi, cosphi) = lat.to_radians().sin_cos();
        let (sinlam, coslam) = lam.sin_cos();
        let rlon = (cosphi * sinlam).atan2(self.sin_p * cosphi * coslam + self.cos_p * sinphi)
            + self.lon_p;
        let rlat = (self.sin_p * sinphi - self.cos_p * cosphi * coslam)
            .clamp(-1.0, 1.0)
            .asin();
        Some((adjlon(rlon).to_degrees(), rlat.to_degrees()))
    }

    /// Rotated → geographic, degrees.
    fn inverse(&self, rlon: f64, rlat: f64) -> Option<(f64, f64)> {
        if rlat.is_nan() || rlat.abs() > 90.0 || !rlon.is_finite() {
            return None;
        }
        let lam = rlon.to_radians() - self.lon_p;
        let (sinphi, cosphi) = rlat.to_radians().sin_cos();
        let (sinlam, coslam) = lam.sin_cos();
        let lat = (self.sin_p * sinphi + self.cos_p * cosphi * coslam)
            .clamp(-1.0, 1.0)
            .asin();
        let lon =
            (cosphi * sinlam).atan2(self.sin_p * cosphi * coslam - self.cos_p * sinphi) + self.lon0;
        Some((adjlon(lon).to_degrees(), lat.to_degrees()))
    }
}

/// A complex number, for the Transverse Mercator series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Complex {
    pub re: f64,
    pub im: f64,
}

impl Complex {
    pub const ZERO: Complex = Complex { re: 0.0, im: 0.0 };

    pub fn new(re: f64, im: f64) -> Complex {
        Complex { re, im }
    }
    pub fn scale(self, k: f64) -> Complex {
        Complex::new(self.re * k, self.im * k)
    }
    pub fn add_re(self, k: f64) -> Complex {
        Complex::new(self.re + k, self.im)
    }
    pub fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
    pub fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
    /// `(sin z, cos z)`.
    pub fn sin_cos(self) -> (Complex, Complex) {
        let (s, c) = self.re.sin_cos();
        let (sh, ch) = (self.im.sinh(), self.im.cosh());
        (Complex::new(s * ch, c * sh), Complex::new(c * ch, -s * sh))
    }
}
