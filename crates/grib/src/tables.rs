//! Code tables: parameters (ecCodes `shortName`, `paramId`, CF names),
//! level types, time units, centres and packings.
//!
//! Only the common parameters are named here; others get a name built from
//! their codes (`param_<discipline>_<category>_<number>` for GRIB2,
//! `param_t<table>_<indicator>` for GRIB1) with the codes as attributes.

/// What a parameter is called.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    /// ecCodes `shortName`.
    pub short_name: &'static str,
    /// cfgrib's variable name (`cfVarName`): the short name, with a leading
    /// number moved to the end (`2t` → `t2m`, `10u` → `u10`).
    pub var_name: &'static str,
    /// ecCodes `paramId`.
    pub param_id: u32,
    /// Long name.
    pub name: &'static str,
    /// Units as ecCodes writes them.
    pub units: &'static str,
    /// CF standard name, where one applies.
    pub standard_name: Option<&'static str>,
}

const fn p(
    short_name: &'static str,
    var_name: &'static str,
    param_id: u32,
    name: &'static str,
    units: &'static str,
    standard_name: Option<&'static str>,
) -> Param {
    Param {
        short_name,
        var_name,
        param_id,
        name,
        units,
        standard_name,
    }
}

const T: Param = p("t", "t", 130, "Temperature", "K", Some("air_temperature"));
const T2M: Param = p(
    "2t",
    "t2m",
    167,
    "2 metre temperature",
    "K",
    Some("air_temperature"),
);
const U: Param = p(
    "u",
    "u",
    131,
    "U component of wind",
    "m s**-1",
    Some("eastward_wind"),
);
const V: Param = p(
    "v",
    "v",
    132,
    "V component of wind",
    "m s**-1",
    Some("northward_wind"),
);
const U10: Param = p(
    "10u",
    "u10",
    165,
    "10 metre U wind component",
    "m s**-1",
    Some("eastward_wind"),
);
const V10: Param = p(
    "10v",
    "v10",
    166,
    "10 metre V wind component",
    "m s**-1",
    Some("northward_wind"),
);
const U100: Param = p(
    "100u",
    "u100",
    228246,
    "100 metre U wind component",
    "m s**-1",
    Some("eastward_wind"),
);
const V100: Param = p(
    "100v",
    "v100",
    228247,
    "100 metre V wind component",
    "m s**-1",
    Some("northward_wind"),
);
const Q: Param = p(
    "q",
    "q",
    133,
    "Specific humidity",
    "kg kg**-1",
    Some("specific_humidity"),
);
const R: Param = p(
    "r",
    "r",
    157,
    "Relative humidity",
    "%",
    Some("relative_humidity"),
);
const R2: Param = p(
    "2r",
    "r2",
    260242,
    "2 metre relative humidity",
    "%",
    Some("relative_humidity"),
);
const Z: Param = p(
    "z",
    "z",
    129,
    "Geopotential",
    "m**2 s**-2",
    Some("geopotential"),
);
const GH: Param = p(
    "gh",
    "gh",
    156,
    "Geopotential height",
    "gpm",
    Some("geopotential_height"),
);
const MSL: Param = p(
    "msl",
    "msl",
    151,
    "Mean sea level pressure",
    "Pa",
    Some("air_pressure_at_mean_sea_level"),
);
const PRMSL: Param = p(
    "prmsl",
    "prmsl",
    260074,
    "Pressure reduced to MSL",
    "Pa",
    Some("air_pressure_at_mean_sea_level"),
);
const SP: Param = p(
    "sp",
    "sp",
    134,
    "Surface pressure",
    "Pa",
    Some("surface_air_pressure"),
);
const PRES: Param = p("pres", "pres", 54, "Pressure", "Pa", Some("air_pressure"));
const W: Param = p(
    "w",
    "w",
    135,
    "Vertical velocity",
    "Pa s**-1",
    Some("lagrangian_tendency_of_air_pressure"),
);
const VO: Param = p(
    "vo",
    "vo",
    138,
    "Vorticity (relative)",
    "s**-1",
    Some("atmosphere_relative_vorticity"),
);
const D: Param = p(
    "d",
    "d",
    155,
    "Divergence",
    "s**-1",
    Some("divergence_of_wind"),
);
const D2M: Param = p(
    "2d",
    "d2m",
    168,
    "2 metre dewpoint temperature",
    "K",
    Some("dew_point_temperature"),
);
const DPT: Param = p(
    "dpt",
    "dpt",
    3017,
    "Dew point temperature",
    "K",
    Some("dew_point_temperature"),
);
const TMAX: Param = p(
    "tmax",
    "tmax",
    3015,
    "Maximum temperature",
    "K",
    Some("air_temperature"),
);
const TMIN: Param = p(
    "tmin",
    "tmin",
    3016,
    "Minimum temperature",
    "K",
    Some("air_temperature"),
);
const SKT: Param = p("skt", "skt", 235, "Skin temperature", "K", None);
const PT: Param = p(
    "pt",
    "pt",
    3,
    "Potential temperature",
    "K",
    Some("air_potential_temperature"),
);
const TP: Param = p(
    "tp",
    "tp",
    228228,
    "Total precipitation",
    "kg m**-2",
    Some("precipitation_amount"),
);
const TP_M: Param = p("tp", "tp", 228, "Total precipitation", "m", None);
const PRATE: Param = p(
    "prate",
    "prate",
    3059,
    "Precipitation rate",
    "kg m**-2 s**-1",
    Some("precipitation_flux"),
);
const PWAT: Param = p("pwat", "pwat", 3054, "Precipitable water", "kg m**-2", None);
const TCC: Param = p(
    "tcc",
    "tcc",
    228164,
    "Total cloud cover",
    "%",
    Some("cloud_area_fraction"),
);
const TCC_1: Param = p(
    "tcc",
    "tcc",
    164,
    "Total cloud cover",
    "(0 - 1)",
    Some("cloud_area_fraction"),
);
const SST: Param = p(
    "sst",
    "sst",
    34,
    "Sea surface temperature",
    "K",
    Some("sea_surface_temperature"),
);
const SWH: Param = p(
    "swh",
    "swh",
    140229,
    "Significant height of combined wind waves and swell",
    "m",
    Some("sea_surface_wave_significant_height"),
);
const SHWW: Param = p(
    "shww",
    "shww",
    140234,
    "Significant height of wind waves",
    "m",
    None,
);
const MWD: Param = p(
    "mwd",
    "mwd",
    140230,
    "Mean wave direction",
    "Degree true",
    None,
);
const MWP: Param = p("mwp", "mwp", 140232, "Mean wave period", "s", None);
const LSM: Param = p(
    "lsm",
    "lsm",
    172,
    "Land-sea mask",
    "(0 - 1)",
    Some("land_binary_mask"),
);
const CAPE: Param = p(
    "cape",
    "cape",
    59,
    "Convective available potential energy",
    "J kg**-1",
    Some("atmosphere_convective_available_potential_energy_wrt_surface"),
);
const BLH: Param = p(
    "blh",
    "blh",
    159,
    "Boundary layer height",
    "m",
    Some("atmosphere_boundary_layer_thickness"),
);
const SD: Param = p(
    "sd",
    "sd",
    141,
    "Snow depth",
    "m of water equivalent",
    Some("lwe_thickness_of_surface_snow_amount"),
);
const SDE: Param = p(
    "sde",
    "sde",
    3066,
    "Snow depth",
    "m",
    Some("surface_snow_thickness"),
);
const TCWV: Param = p(
    "tcwv",
    "tcwv",
    137,
    "Total column vertically-integrated water vapour",
    "kg m**-2",
    Some("lwe_thickness_of_atmosphere_mass_content_of_water_vapor"),
);
const CI: Param = p(
    "ci",
    "siconc",
    31,
    "Sea ice area fraction",
    "(0 - 1)",
    Some("sea_ice_area_fraction"),
);
const WS: Param = p("ws", "ws", 10, "Wind speed", "m s**-1", Some("wind_speed"));
const SI10: Param = p(
    "10si",
    "si10",
    207,
    "10 metre wind speed",
    "m s**-1",
    Some("wind_speed"),
);
const WDIR: Param = p(
    "wdir",
    "wdir",
    3031,
    "Wind direction",
    "Degree true",
    Some("wind_from_direction"),
);
const GUST: Param = p(
    "gust",
    "gust",
    260065,
    "Wind speed (gust)",
    "m s**-1",
    Some("wind_speed_of_gust"),
);
const ABSV: Param = p(
    "absv",
    "absv",
    3041,
    "Absolute vorticity",
    "s**-1",
    Some("atmosphere_absolute_vorticity"),
);
const NLWRS: Param = p(
    "nlwrs",
    "nlwrs",
    3112,
    "Net long-wave radiation flux (surface)",
    "W m**-2",
    None,
);
const NSWRS: Param = p(
    "nswrs",
    "nswrs",
    3111,
    "Net short-wave radiation flux (surface)",
    "W m**-2",
    None,
);
const SHTFL: Param = p(
    "shtfl",
    "shtfl",
    3122,
    "Sensible heat net flux",
    "W m**-2",
    None,
);
const LHTFL: Param = p(
    "lhtfl",
    "lhtfl",
    3121,
    "Latent heat net flux",
    "W m**-2",
    None,
);
const WTMP: Param = p(
    "wtmp",
    "wtmp",
    3080,
    "Water temperature",
    "K",
    Some("sea_water_temperature"),
);
const MASS_MIXRAT: Param = p(
    "mass_mixrat",
    "mass_mixrat",
    402000,
    "Mass mixing ratio",
    "kg kg**-1",
    None,
);

/// A GRIB2 parameter by discipline, category and number; `level` is the
/// first fixed surface `(type, value)` for the names ecCodes gives only at
/// one level (`2t`, `10u`, `msl`, `sp`, ...).
pub(crate) fn grib2_param(
    discipline: u8,
    category: u8,
    number: u8,
    level: Option<(u8, f64)>,
) -> Option<Param> {
    let at = |t: u8, v: f64| level.is_some_and(|(lt, lv)| lt == t && (lv - v).abs() < 1e-9);
    let on = |t: u8| level.is_some_and(|(lt, _)| lt == t);
    Some(match (discipline, category, number) {
        (0, 0, 0) if at(103, 2.0) => T2M,
        (0, 0, 0) => T,
        (0, 0, 2) => PT,
        (0, 0, 4) => TMAX,
        (0, 0, 5) => TMIN,
        (0, 0, 6) if at(103, 2.0) => D2M,
        (0, 0, 6) => DPT,
        (0, 0, 17) => SKT,
        (0, 1, 0) => Q,
        (0, 1, 1) if at(103, 2.0) => R2,
        (0, 1, 1) => R,
        (0, 1, 3) => PWAT,
        (0, 1, 7) => PRATE,
        (0, 1, 8) => TP,
        (0, 1, 11) => SDE,
        (0, 2, 0) => WDIR,
        (0, 2, 1) if at(103, 10.0) => SI10,
        (0, 2, 1) => WS,
        (0, 2, 2) if at(103, 10.0) => U10,
        (0, 2, 2) if at(103, 100.0) => U100,
        (0, 2, 2) => U,
        (0, 2, 3) if at(103, 10.0) => V10,
        (0, 2, 3) if at(103, 100.0) => V100,
        (0, 2, 3) => V,
        (0, 2, 8) => W,
        (0, 2, 10) => ABSV,
        (0, 2, 12) => VO,
        (0, 2, 13) => D,
        (0, 2, 22) => GUST,
        (0, 3, 0) if on(1) => SP,
        (0, 3, 0) if on(101) => MSL,
        (0, 3, 0) => PRES,
        (0, 3, 1) => PRMSL,
        (0, 3, 4) => Z,
        (0, 3, 5) => GH,
        (0, 3, 18) => BLH,
        (0, 6, 1) => TCC,
        (0, 7, 6) => CAPE,
        (0, 20, 2) => MASS_MIXRAT,
        (2, 0, 0) => LSM,
        (10, 0, 3) => SWH,
        (10, 0, 5) => SHWW,
        (10, 3, 0) => SST,
        _ => return None,
    })
}

/// A GRIB1 parameter by centre, table version and indicator; `level` as
/// for [`grib2_param`] but with GRIB1 level types.
pub(crate) fn grib1_param(
    centre: u16,
    table: u8,
    indicator: u8,
    level: Option<(u8, f64)>,
) -> Option<Param> {
    let at = |t: u8, v: f64| level.is_some_and(|(lt, lv)| lt == t && (lv - v).abs() < 1e-9);
    if centre == 98 && (table == 128 || table == 228) {
        return Some(match indicator {
            3 => PT,
            31 => CI,
            34 => SST,
            59 => CAPE,
            129 => Z,
            130 => T,
            131 => U,
            132 => V,
            133 => Q,
            134 => SP,
            135 => W,
            137 => TCWV,
            138 => VO,
            141 => SD,
            151 => MSL,
            155 => D,
            156 => GH,
            157 => R,
            159 => BLH,
            164 => TCC_1,
            165 => U10,
            166 => V10,
            167 => T2M,
            168 => D2M,
            172 => LSM,
            228 => TP_M,
            235 => SKT,
            _ => return None,
        });
    }
    if centre == 98 && table == 140 {
        return Some(match indicator {
            229 => SWH,
            230 => MWD,
            232 => MWP,
            234 => SHWW,
            _ => return None,
        });
    }
    if table > 3 {
        return None;
    }
    // WMO table 2 (table versions 1 to 3).
    Some(match indicator {
        1 => PRES,
        2 => PRMSL,
        6 => Z,
        7 => GH,
        11 if at(105, 2.0) => T2M,
        11 => T,
        15 => TMAX,
        16 => TMIN,
        17 => DPT,
        31 => WDIR,
        32 => WS,
        33 if at(105, 10.0) => U10,
        33 => U,
        34 if at(105, 10.0) => V10,
        34 => V,
        39 => W,
        41 => ABSV,
        51 => Q,
        52 => R,
        54 => PWAT,
        59 => PRATE,
        61 => TP,
        66 => SDE,
        71 => TCC,
        80 => WTMP,
        81 => LSM,
        111 => NSWRS,
        112 => NLWRS,
        121 => LHTFL,
        122 => SHTFL,
        _ => return None,
    })
}

/// A level type: ecCodes `typeOfLevel` and the coordinate's attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LevelType {
    /// `typeOfLevel`, the name of the level coordinate.
    pub name: String,
    /// Whether the type has a value (`surface` has none worth a dimension
    /// but cfgrib keeps a scalar coordinate; both are kept).
    pub units: &'static str,
    /// CF attributes of the coordinate (long_name, positive, standard_name).
    pub long_name: String,
    /// `up` or `down` for vertical axes.
    pub positive: Option<&'static str>,
    /// CF standard name.
    pub standard_name: Option<&'static str>,
    /// cfgrib sorts pressure levels from the ground up (decreasing).
    pub decreasing: bool,
}

fn level(
    name: &str,
    units: &'static str,
    long_name: &str,
    positive: Option<&'static str>,
    standard_name: Option<&'static str>,
) -> LevelType {
    LevelType {
        name: name.to_string(),
        units,
        long_name: long_name.to_string(),
        positive,
        standard_name,
        decreasing: false,
    }
}

fn original(name: &str) -> LevelType {
    level(
        name,
        "1",
        &format!("original GRIB coordinate for key: level({name})"),
        None,
        None,
    )
}

/// GRIB2 table 4.5: the type of the first fixed surface (and the second,
/// for layers) to a level type; `pa` is the level's value in Pa for type
/// 100 (isobaricInhPa when whole hectopascals, else isobaricInPa).
pub(crate) fn grib2_level(first: u8, second: u8, pa: Option<f64>) -> LevelType {
    match first {
        1 => original("surface"),
        2 => original("cloudBase"),
        3 => original("cloudTop"),
        4 => original("isothermZero"),
        6 => original("maxWind"),
        7 => original("tropopause"),
        8 => original("nominalTop"),
        10 => original("entireAtmosphere"),
        100 => {
            if pa.is_some_and(|v| (v / 100.0).fract().abs() > 1e-9) {
                let mut l = level(
                    "isobaricInPa",
                    "Pa",
                    "pressure",
                    Some("down"),
                    Some("air_pressure"),
                );
                l.decreasing = true;
                l
            } else {
                let mut l = level(
                    "isobaricInhPa",
                    "hPa",
                    "pressure",
                    Some("down"),
                    Some("air_pressure"),
                );
                l.decreasing = true;
                l
            }
        }
        101 => original("meanSea"),
        102 => level(
            "heightAboveSea",
            "m",
            "height above mean sea level",
            Some("up"),
            Some("height_above_mean_sea_level"),
        ),
        103 if second == 103 => level(
            "heightAboveGroundLayer",
            "m",
            "height above the surface (layer)",
            Some("up"),
            Some("height"),
        ),
        103 => level(
            "heightAboveGround",
            "m",
            "height above the surface",
            Some("up"),
            Some("height"),
        ),
        104 => original("sigma"),
        105 => level(
            "hybrid",
            "1",
            "hybrid level",
            Some("down"),
            Some("atmosphere_hybrid_sigma_pressure_coordinate"),
        ),
        106 if second == 106 => level(
            "depthBelowLandLayer",
            "m",
            "soil depth (layer)",
            Some("down"),
            Some("depth"),
        ),
        106 => level(
            "depthBelowLand",
            "m",
            "soil depth",
            Some("down"),
            Some("depth"),
        ),
        107 => level(
            "theta",
            "K",
            "potential temperature",
            Some("up"),
            Some("air_potential_temperature"),
        ),
        108 => original("pressureFromGroundLayer"),
        109 => original("potentialVorticity"),
        111 => original("eta"),
        114 => original("snowLayer"),
        118 => original("hybridHeight"),
        150 if second == 150 => original("generalVerticalLayer"),
        150 => original("generalVertical"),
        151 => original("soil"),
        160 => level(
            "depthBelowSea",
            "m",
            "depth below sea level",
            Some("down"),
            Some("depth"),
        ),
        174 => original("iceTopOnWater"),
        _ => original(&format!("level_type_{first}")),
    }
}

/// GRIB1 table 3 level types.
pub(crate) fn grib1_level(t: u8) -> LevelType {
    match t {
        1 => original("surface"),
        2 => original("cloudBase"),
        3 => original("cloudTop"),
        4 => original("isothermZero"),
        6 => original("maxWind"),
        7 => original("tropopause"),
        8 => original("nominalTop"),
        100 => {
            let mut l = level(
                "isobaricInhPa",
                "hPa",
                "pressure",
                Some("down"),
                Some("air_pressure"),
            );
            l.decreasing = true;
            l
        }
        101 => original("isobaricLayer"),
        102 => original("meanSea"),
        103 => level(
            "heightAboveSea",
            "m",
            "height above mean sea level",
            Some("up"),
            Some("height_above_mean_sea_level"),
        ),
        105 => level(
            "heightAboveGround",
            "m",
            "height above the surface",
            Some("up"),
            Some("height"),
        ),
        106 => original("heightAboveGroundLayer"),
        107 => original("sigma"),
        108 => original("sigmaLayer"),
        109 => level(
            "hybrid",
            "1",
            "hybrid level",
            Some("down"),
            Some("atmosphere_hybrid_sigma_pressure_coordinate"),
        ),
        110 => original("hybridLayer"),
        111 => level(
            "depthBelowLand",
            "cm",
            "soil depth",
            Some("down"),
            Some("depth"),
        ),
        112 => original("depthBelowLandLayer"),
        113 => level(
            "theta",
            "K",
            "potential temperature",
            Some("up"),
            Some("air_potential_temperature"),
        ),
        117 => original("potentialVorticity"),
        160 => level(
            "depthBelowSea",
            "m",
            "depth below sea level",
            Some("down"),
            Some("depth"),
        ),
        200 => original("entireAtmosphere"),
        _ => original(&format!("level_type_{t}")),
    }
}

/// Seconds in one unit of GRIB2 table 4.4 (GRIB1 table 4 shares most codes;
/// `grib1` selects its own 13, 14 and 254).
pub(crate) fn time_unit_seconds(code: u8, grib1: bool) -> Option<f64> {
    Some(match (code, grib1) {
        (0, _) => 60.0,
        (1, _) => 3600.0,
        (2, _) => 86400.0,
        (10, _) => 3.0 * 3600.0,
        (11, _) => 6.0 * 3600.0,
        (12, _) => 12.0 * 3600.0,
        (13, false) => 1.0,
        (13, true) => 15.0 * 60.0,
        (14, true) => 30.0 * 60.0,
        (254, true) => 1.0,
        _ => return None,
    })
}

/// Centre abbreviation (as ecCodes writes `centre`) and description.
pub(crate) fn centre(code: u16) -> (String, Option<&'static str>) {
    let (abbr, name) = match code {
        7 => ("kwbc", "US National Weather Service - NCEP"),
        8 => ("8", "US National Weather Service - NWSTG"),
        34 => ("rjtd", "Japanese Meteorological Agency - Tokyo"),
        54 => ("cwao", "Canadian Meteorological Service - Montreal"),
        58 => ("fnmo", "US Navy - Fleet Numerical Oceanography Center"),
        74 => ("egrr", "UK Meteorological Office - Exeter"),
        78 => ("edzw", "Offenbach (RSMC)"),
        80 => ("cnmc", "Rome (RSMC)"),
        84 => ("lfpw", "Toulouse"),
        85 => ("lfpw", "Toulouse"),
        96 => ("96", "Athens"),
        98 => ("ecmf", "European Centre for Medium-Range Weather Forecasts"),
        161 => ("161", "US NOAA Office of Oceanic and Atmospheric Research"),
        215 => ("lssw", "Zurich"),
        _ => return (code.to_string(), None),
    };
    (abbr.to_string(), Some(name))
}

/// ecCodes `stepType` of GRIB2 table 4.10 (type of statistical processing).
pub(crate) fn step_type(code: u8) -> &'static str {
    match code {
        0 => "avg",
        1 => "accum",
        2 => "max",
        3 => "min",
        4 | 8 => "diff",
        5 => "rms",
        6 => "sd",
        7 => "cov",
        9 => "ratio",
        _ => "unknown",
    }
}

/// ecCodes `dataType` from GRIB2 table 1.4 (type of processed data).
pub(crate) fn data_type(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "an",
        1 => "fc",
        2 => "af",
        3 => "cf",
        4 => "pf",
        5 => "cp",
        6 => "sa",
        7 => "ra",
        _ => return None,
    })
}

/// ecCodes `dataType` from the MARS type of ECMWF's GRIB1 local definition.
pub(crate) fn mars_type(code: u8) -> Option<&'static str> {
    Some(match code {
        1 => "fg",
        2 => "an",
        3 => "ia",
        4 => "oi",
        9 => "fc",
        10 => "cf",
        11 => "pf",
        17 => "em",
        18 => "es",
        _ => return None,
    })
}

/// ecCodes `packingType` of a GRIB2 data representation template.
pub(crate) fn grib2_packing(template: u16) -> String {
    match template {
        0 => "grid_simple".into(),
        2 => "grid_complex".into(),
        3 => "grid_complex_spatial_differencing".into(),
        4 => "grid_ieee".into(),
        40 => "grid_jpeg".into(),
        41 => "grid_png".into(),
        42 => "grid_ccsds".into(),
        50 => "spectral_simple".into(),
        51 => "spectral_complex".into(),
        200 => "grid_run_length".into(),
        t => format!("template_5.{t}"),
    }
}
