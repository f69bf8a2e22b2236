//! GRIB messages (editions 1 and 2) decoded to the values of one field.
//!
//! A chunk is one message from its first byte through the end of the
//! field's data section (for a GRIB2 message holding several fields, the
//! bytes up to the end of the wanted field's section 7: the sections are
//! walked in order and the last complete field is decoded, so shared grid
//! sections and re-used bitmaps resolve as the standard says). Nothing
//! else is needed: the grid (number of points, scanning mode), the packing
//! and the bitmap all come from the message.
//!
//! Packings: GRIB2 simple (5.0), complex (5.2), complex with spatial
//! differencing (5.3), IEEE (5.4), JPEG 2000 (5.40), PNG (5.41) and CCSDS
//! (5.42); GRIB1 simple grid-point packing. Spherical harmonics, GRIB1
//! second-order packing, run-length packing (5.200) and predefined bitmaps
//! are reported as unsupported, never decoded wrongly.
//!
//! Output: `float32` (or `float64` when the chunk's type says so) in the
//! chunk's byte order; absent points are NaN. Regular 2-D grids are put in
//! row-major order along the file's own `i` and `j` directions: points
//! stored column by column (`jPointsAreConsecutive`) are transposed and
//! boustrophedonic rows (`alternativeRowScanning`) are turned round, so the
//! coordinates (`latitude` descending when the file scans from the north)
//! describe the values as stored.

mod unpack;

use crate::{Error, Result, Stage};
use arco_core::{DType, Endian};

/// Decode one GRIB message (see the module docs).
pub(crate) fn decode(src: &[u8], stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let ctx = stage.ctx;
    if src.len() < 8 || &src[..4] != b"GRIB" {
        return Err(stage.fail(format!(
            "the chunk does not start with a GRIB message (first bytes {})",
            hex(&src[..src.len().min(8)])
        )));
    }
    let field = match src[7] {
        1 => grib1(src, stage)?,
        2 => grib2(src, stage)?,
        e => {
            return Err(stage.fail(format!(
                "GRIB edition {e} at byte 7; only editions 1 and 2 exist"
            )))
        }
    };
    if ctx.elements != 0 && field.values.len() != ctx.elements {
        return Err(stage.fail(format!(
            "the message holds {} points but the variable's chunk has {} elements",
            field.values.len(),
            ctx.elements
        )));
    }
    write_values(&field.values, ctx.dtype, ctx.endian, stage)
}

/// The decoded field, in output order.
struct Field {
    values: Vec<f64>,
}

fn write_values(
    values: &[f64],
    dtype: &DType,
    endian: Endian,
    stage: Stage<'_, '_>,
) -> Result<Vec<u8>> {
    match dtype {
        DType::F32 => {
            let mut out = Vec::with_capacity(values.len() * 4);
            for &v in values {
                let x = v as f32;
                out.extend_from_slice(&match endian {
                    Endian::Little => x.to_le_bytes(),
                    Endian::Big => x.to_be_bytes(),
                });
            }
            Ok(out)
        }
        DType::F64 => {
            let mut out = Vec::with_capacity(values.len() * 8);
            for &v in values {
                out.extend_from_slice(&match endian {
                    Endian::Little => v.to_le_bytes(),
                    Endian::Big => v.to_be_bytes(),
                });
            }
            Ok(out)
        }
        other => Err(stage.fail(format!(
            "GRIB fields decode to float32 or float64, not {other}"
        ))),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Big-endian unsigned integer of `n` bytes at `at`.
fn be(b: &[u8], at: usize, n: usize) -> u64 {
    b[at..at + n]
        .iter()
        .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Sign-and-magnitude integer of `n` bytes at `at` (GRIB's signed integers).
fn signed(b: &[u8], at: usize, n: usize) -> i64 {
    let raw = be(b, at, n);
    let sign = 1u64 << (8 * n - 1);
    if raw & sign != 0 {
        -((raw & (sign - 1)) as i64)
    } else {
        raw as i64
    }
}

/// IBM System/360 single precision float (GRIB1 reference values).
fn ibm_float(b: &[u8], at: usize) -> f64 {
    let sign = if b[at] & 0x80 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from(b[at] & 0x7f) - 64;
    let mant = be(b, at + 1, 3) as f64;
    if mant == 0.0 {
        return 0.0;
    }
    sign * mant * 16f64.powi(exp) / 16_777_216.0
}

/// How the stored order of a 2-D grid maps to the output order.
#[derive(Debug, Clone, Copy)]
struct Scan {
    ni: usize,
    nj: usize,
    /// The scanning mode flags (GRIB2 table 3.4, GRIB1 table 8 share the bits).
    flags: u8,
}

/// Put stored values into row-major `(j, i)` order.
fn reorder(values: Vec<f64>, scan: Scan) -> Vec<f64> {
    let j_consecutive = scan.flags & 0x20 != 0;
    let alternate = scan.flags & 0x10 != 0;
    let (ni, nj) = (scan.ni, scan.nj);
    if (!j_consecutive && !alternate) || values.len() != ni * nj {
        return values;
    }
    let mut out = vec![f64::NAN; values.len()];
    for (k, v) in values.into_iter().enumerate() {
        let (row, col) = if j_consecutive {
            let (col, row) = (k / nj, k % nj);
            if alternate && col % 2 == 1 {
                (nj - 1 - row, col)
            } else {
                (row, col)
            }
        } else {
            let (row, col) = (k / ni, k % ni);
            if alternate && row % 2 == 1 {
                (row, ni - 1 - col)
            } else {
                (row, col)
            }
        };
        out[row * ni + col] = v;
    }
    out
}

/// Spread `packed` over `points` positions by the bitmap (NaN where a bit is 0).
fn apply_bitmap(
    packed: Vec<f64>,
    bitmap: Option<&[u8]>,
    points: usize,
    stage: Stage<'_, '_>,
) -> Result<Vec<f64>> {
    let Some(bits) = bitmap else {
        if packed.len() != points {
            return Err(stage.fail(format!(
                "the data section holds {} values for a grid of {points} points and there is no bitmap",
                packed.len()
            )));
        }
        return Ok(packed);
    };
    if bits.len() * 8 < points {
        return Err(stage.fail(format!(
            "the bitmap has {} bits for a grid of {points} points (truncated message?)",
            bits.len() * 8
        )));
    }
    let mut out = Vec::with_capacity(points);
    let mut it = packed.into_iter();
    let mut used = 0usize;
    for k in 0..points {
        if bits[k / 8] & (0x80 >> (k % 8)) != 0 {
            used += 1;
            out.push(it.next().ok_or_else(|| {
                stage.fail(format!(
                    "the bitmap marks more points present than the {} values the data section holds",
                    used - 1
                ))
            })?);
        } else {
            out.push(f64::NAN);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- GRIB2

/// The sections of one GRIB2 field.
struct Grib2Field<'a> {
    sec3: &'a [u8],
    sec5: &'a [u8],
    bitmap: Option<&'a [u8]>,
    sec7: &'a [u8],
}

fn grib2(src: &[u8], stage: Stage<'_, '_>) -> Result<Field> {
    if src.len() < 16 {
        return Err(stage.fail(format!(
            "section 0 needs 16 bytes and the chunk has {} (truncated message)",
            src.len()
        )));
    }
    let total = be(src, 8, 8);
    let end = usize::try_from(total).unwrap_or(usize::MAX).min(src.len());
    let mut pos = 16usize;
    let mut sec3: Option<&[u8]> = None;
    let mut sec5: Option<&[u8]> = None;
    let mut bitmap: Option<&[u8]> = None;
    let mut defined_bitmap: Option<&[u8]> = None;
    let mut field: Option<Grib2Field<'_>> = None;
    loop {
        if pos == end || (pos + 4 <= end && &src[pos..pos + 4] == b"7777") {
            break;
        }
        if pos + 5 > end {
            return Err(stage.fail(format!(
                "a section header at byte {pos} is cut off by the end of the chunk at byte {end} (truncated message)"
            )));
        }
        let len = be(src, pos, 4) as usize;
        let num = src[pos + 4];
        if len < 5 || pos.saturating_add(len) > end {
            return Err(stage.fail(format!(
                "section {num} at byte {pos} declares {len} bytes, past the end of the message at byte {end} (truncated or corrupt message)"
            )));
        }
        let sec = &src[pos..pos + len];
        match num {
            3 => sec3 = Some(sec),
            5 => sec5 = Some(sec),
            6 => {
                let indicator = *sec.get(5).ok_or_else(|| {
                    stage.fail(format!("section 6 at byte {pos} is shorter than 6 bytes"))
                })?;
                bitmap = match indicator {
                    0 => {
                        defined_bitmap = Some(&sec[6..]);
                        defined_bitmap
                    }
                    254 => Some(defined_bitmap.ok_or_else(|| {
                        stage.fail(format!(
                            "section 6 at byte {pos} re-uses a previous bitmap (indicator 254) but none was defined"
                        ))
                    })?),
                    255 => None,
                    n => {
                        return Err(Error::Unsupported {
                            context: stage.ctx.label.to_string(),
                            codec: format!("GRIB2 predefined bitmap {n}"),
                            hint: "predefined bitmaps are centre-specific; convert the file with \
                                   `grib_set -s bitmapPresent=1` or `cdo copy` to write the bitmap out"
                                .into(),
                        })
                    }
                };
            }
            7 => {
                let (Some(s3), Some(s5)) = (sec3, sec5) else {
                    return Err(stage.fail(format!(
                        "the data section at byte {pos} comes before a grid (3) and data representation (5) section"
                    )));
                };
                field = Some(Grib2Field {
                    sec3: s3,
                    sec5: s5,
                    bitmap,
                    sec7: sec,
                });
            }
            1 | 2 | 4 => {}
            n => {
                return Err(stage.fail(format!(
                    "byte {pos} starts a section numbered {n}; GRIB2 sections are 1 to 7 (corrupt message)"
                )))
            }
        }
        pos += len;
    }
    let f = field.ok_or_else(|| {
        stage.fail(format!(
            "no data section (7) before byte {pos}: the message is truncated or holds no field"
        ))
    })?;
    decode_grib2_field(&f, stage)
}

/// The number of points and, for regular 2-D grids, the scan, from section 3.
fn grib2_grid(sec3: &[u8], stage: Stage<'_, '_>) -> Result<(usize, Option<Scan>)> {
    if sec3.len() < 14 {
        return Err(stage.fail(format!(
            "section 3 has {} bytes, fewer than its 14-byte header",
            sec3.len()
        )));
    }
    let points = be(sec3, 6, 4) as usize;
    let template = be(sec3, 12, 2);
    let scan_at = match template {
        0 | 1 | 40 | 41 => Some(71),
        10 => Some(59),
        20 | 30 => Some(64),
        50..=53 => {
            return Err(Error::Unsupported {
                context: stage.ctx.label.to_string(),
                codec: "GRIB2 spherical harmonic coefficients (grid template 3.50)".into(),
                hint: "spectral fields must be transformed to a grid first, for example \
                       with `mir` or `cdo sp2gp`"
                    .into(),
            })
        }
        _ => None,
    };
    let scan = match scan_at {
        Some(at) if sec3.len() > at => {
            let ni = be(sec3, 30, 4);
            let nj = be(sec3, 34, 4);
            if ni == 0xFFFF_FFFF || nj == 0xFFFF_FFFF || (ni * nj) as usize != points {
                None
            } else {
                Some(Scan {
                    ni: ni as usize,
                    nj: nj as usize,
                    flags: sec3[at],
                })
            }
        }
        _ => None,
    };
    Ok((points, scan))
}

fn decode_grib2_field(f: &Grib2Field<'_>, stage: Stage<'_, '_>) -> Result<Field> {
    let (points, scan) = grib2_grid(f.sec3, stage)?;
    let s5 = f.sec5;
    if s5.len() < 11 {
        return Err(stage.fail(format!(
            "section 5 has {} bytes, fewer than its 11-byte header",
            s5.len()
        )));
    }
    let n = be(s5, 5, 4) as usize;
    let template = be(s5, 9, 2) as u16;
    let data = &f.sec7[5..];
    let packed = unpack::grib2(template, s5, data, n, stage)?;
    let values = apply_bitmap(packed, f.bitmap, points, stage)?;
    Ok(Field {
        values: match scan {
            Some(s) => reorder(values, s),
            None => values,
        },
    })
}

// ---------------------------------------------------------------- GRIB1

/// Total length of a GRIB1 message starting at `msg`, from the indicator
/// section and, for messages over 8 MiB (ECMWF's large-message coding),
/// the binary data section's length field. `None` when `msg` is too short
/// to tell.
pub(crate) fn grib1_length(msg: &[u8]) -> Option<u64> {
    let len = be(msg.get(..8)?, 4, 3);
    if len & 0x80_0000 == 0 {
        return Some(len);
    }
    // Large message: the real length is 120 times the stored one, less the
    // padding the binary data section's (also scaled) length records.
    let mut pos = 8usize;
    let pds_len = be(msg.get(pos..pos + 3)?, 0, 3) as usize;
    let flags = *msg.get(pos + 7)?;
    pos += pds_len;
    if flags & 0x80 != 0 {
        pos += be(msg.get(pos..pos + 3)?, 0, 3) as usize;
    }
    if flags & 0x40 != 0 {
        pos += be(msg.get(pos..pos + 3)?, 0, 3) as usize;
    }
    let bds_len = be(msg.get(pos..pos + 3)?, 0, 3);
    let total = (len & 0x7f_ffff) * 120;
    if bds_len < 120 {
        Some(total.saturating_sub(bds_len) + 4)
    } else {
        Some(total)
    }
}

fn grib1(src: &[u8], stage: Stage<'_, '_>) -> Result<Field> {
    let short = |what: &str, at: usize| {
        stage.fail(format!(
            "the {what} at byte {at} is cut off by the end of the chunk at byte {} (truncated message)",
            src.len()
        ))
    };
    let total = grib1_length(src).ok_or_else(|| short("message header", 0))? as usize;
    if total > src.len() {
        return Err(stage.fail(format!(
            "the message declares {total} bytes but the chunk has {} (truncated message)",
            src.len()
        )));
    }
    let src = &src[..total];
    let mut pos = 8usize;
    let sec = |pos: usize, what: &str| -> Result<&[u8]> {
        let head = src.get(pos..pos + 3).ok_or_else(|| short(what, pos))?;
        let len = be(head, 0, 3) as usize;
        if len < 3 {
            return Err(stage.fail(format!("the {what} at byte {pos} declares {len} bytes")));
        }
        src.get(pos..pos + len).ok_or_else(|| short(what, pos))
    };
    let pds = sec(pos, "product definition section")?;
    if pds.len() < 28 {
        return Err(stage.fail(format!(
            "the product definition section at byte {pos} has {} bytes, fewer than 28",
            pds.len()
        )));
    }
    let flags = pds[7];
    let d = signed(pds, 26, 2);
    pos += pds.len();
    let gds = if flags & 0x80 != 0 {
        let g = sec(pos, "grid description section")?;
        pos += g.len();
        Some(g)
    } else {
        None
    };
    let bms = if flags & 0x40 != 0 {
        let b = sec(pos, "bitmap section")?;
        pos += b.len();
        if b.len() < 6 {
            return Err(stage.fail(format!("the bitmap section at byte {pos} is too short")));
        }
        if be(b, 4, 2) != 0 {
            return Err(Error::Unsupported {
                context: stage.ctx.label.to_string(),
                codec: format!("GRIB1 predefined bitmap {}", be(b, 4, 2)),
                hint: "predefined bitmaps are centre-specific; rewrite the file with the \
                       bitmap included (`grib_copy` with ecCodes or `cdo copy`)"
                    .into(),
            });
        }
        Some(&b[6..])
    } else {
        None
    };
    let bds_at = pos;
    let head = src
        .get(bds_at..bds_at + 11)
        .ok_or_else(|| short("binary data section", bds_at))?;
    // The large-message coding scales the section's length too: it ends
    // where the message's end marker begins.
    let bds_end = if be(src, 4, 3) & 0x80_0000 != 0 {
        total.saturating_sub(4)
    } else {
        bds_at + be(head, 0, 3) as usize
    };
    let bds = src
        .get(bds_at..bds_end)
        .ok_or_else(|| short("binary data section", bds_at))?;
    let bflags = bds[3];
    if bflags & 0x80 != 0 {
        return Err(Error::Unsupported {
            context: stage.ctx.label.to_string(),
            codec: "GRIB1 spherical harmonic coefficients (spectral packing)".into(),
            hint: "spectral fields must be transformed to a grid first, for example with \
                   `mir` or `cdo sp2gp`"
                .into(),
        });
    }
    if bflags & 0x40 != 0 {
        return Err(Error::Unsupported {
            context: stage.ctx.label.to_string(),
            codec: "GRIB1 second-order (complex) grid-point packing".into(),
            hint: "repack the file with simple packing: \
                   `grib_set -r -s packingType=grid_simple in.grib out.grib`"
                .into(),
        });
    }
    let unused_bits = usize::from(bflags & 0x0f);
    let e = signed(bds, 4, 2);
    let r = ibm_float(bds, 6);
    let nbits = usize::from(bds[10]);
    let (points, scan) = grib1_grid(gds, stage)?;
    let n = match bms {
        Some(bits) => (0..points)
            .filter(|&k| bits.get(k / 8).is_some_and(|b| b & (0x80 >> (k % 8)) != 0))
            .count(),
        None => points,
    };
    let data = &bds[11..];
    let available = (data.len() * 8).saturating_sub(unused_bits);
    if nbits > 0 && available / nbits < n {
        return Err(stage.fail(format!(
            "the binary data section at byte {bds_at} holds {} values of {nbits} bits, fewer than the {n} points it must cover",
            available / nbits
        )));
    }
    let packed = unpack::simple(data, r, e, d, nbits, n, stage)?;
    let values = apply_bitmap(packed, bms, points, stage)?;
    Ok(Field {
        values: match scan {
            Some(s) => reorder(values, s),
            None => values,
        },
    })
}

/// Number of points and the scan of a GRIB1 grid description section.
fn grib1_grid(gds: Option<&[u8]>, stage: Stage<'_, '_>) -> Result<(usize, Option<Scan>)> {
    let Some(g) = gds else {
        return Err(Error::Unsupported {
            context: stage.ctx.label.to_string(),
            codec: "GRIB1 message without a grid description section".into(),
            hint: "the grid is one of the centre's predefined (catalogued) grids; rewrite \
                   the file with the grid described, for example with `cdo copy`"
                .into(),
        });
    };
    if g.len() < 10 {
        return Err(stage.fail(format!(
            "the grid description section has {} bytes, fewer than 10",
            g.len()
        )));
    }
    let rep = g[5];
    if rep == 50 || rep == 60 || rep == 70 || rep == 80 {
        return Err(Error::Unsupported {
            context: stage.ctx.label.to_string(),
            codec: "GRIB1 spherical harmonic coefficients".into(),
            hint: "spectral fields must be transformed to a grid first, for example with \
                   `mir` or `cdo sp2gp`"
                .into(),
        });
    }
    let ni = be(g, 6, 2) as usize;
    let nj = be(g, 8, 2) as usize;
    if ni == 0xFFFF {
        // Reduced grid: the points per row follow the vertical coordinates.
        let nv = usize::from(g[3]);
        let pvl = usize::from(g[4]);
        if pvl == 0 || pvl == 255 {
            return Err(
                stage.fail("a reduced grid (Ni missing) without the list of points per row")
            );
        }
        let at = pvl - 1 + 4 * nv;
        let pl = g.get(at..at + 2 * nj).ok_or_else(|| {
            stage.fail(format!(
                "the list of points per row at byte {at} of the grid description runs past its end"
            ))
        })?;
        let points = (0..nj).map(|k| be(pl, 2 * k, 2) as usize).sum();
        return Ok((points, None));
    }
    let two_d = matches!(rep, 0 | 1 | 3 | 4 | 5 | 10);
    let scan = if two_d && g.len() > 27 {
        Some(Scan {
            ni,
            nj,
            flags: g[27],
        })
    } else {
        None
    };
    Ok((ni * nj, scan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibm_floats_decode_as_the_standard_s_examples() {
        // 0x42640000 = 100.0 ; 0xC276A000 = -118.625
        assert_eq!(ibm_float(&[0x42, 0x64, 0x00, 0x00], 0), 100.0);
        assert_eq!(ibm_float(&[0xC2, 0x76, 0xA0, 0x00], 0), -118.625);
        assert_eq!(ibm_float(&[0, 0, 0, 0], 0), 0.0);
    }

    #[test]
    fn sign_and_magnitude_integers_are_not_twos_complement() {
        assert_eq!(signed(&[0x80, 0x02], 0, 2), -2);
        assert_eq!(signed(&[0x00, 0x02], 0, 2), 2);
        assert_eq!(signed(&[0xff, 0xff], 0, 2), -32767);
    }

    #[test]
    fn column_major_and_boustrophedon_scans_come_out_row_major() {
        // 3 columns (i) x 2 rows (j); wanted row-major: [0 1 2 ; 3 4 5]
        let want: Vec<f64> = (0..6).map(f64::from).collect();
        let column_major = vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0];
        let s = Scan {
            ni: 3,
            nj: 2,
            flags: 0x20,
        };
        assert_eq!(reorder(column_major, s), want);
        let boustrophedon = vec![0.0, 1.0, 2.0, 5.0, 4.0, 3.0];
        let s = Scan {
            ni: 3,
            nj: 2,
            flags: 0x10,
        };
        assert_eq!(reorder(boustrophedon, s), want);
        let both = vec![0.0, 3.0, 4.0, 1.0, 2.0, 5.0];
        let s = Scan {
            ni: 3,
            nj: 2,
            flags: 0x30,
        };
        assert_eq!(reorder(both, s), want);
        // direction flags alone keep the stored order
        let s = Scan {
            ni: 3,
            nj: 2,
            flags: 0xC0,
        };
        assert_eq!(reorder(want.clone(), s), want);
    }

    #[test]
    fn large_grib1_messages_use_the_scaled_length() {
        // indicator with the large flag: stored 0x800000 | 1000 -> 120000,
        // less the 30 the BDS length records, plus 4.
        let mut m = vec![b'G', b'R', b'I', b'B', 0x80, 0x03, 0xE8, 1];
        let mut pds = vec![0u8; 28];
        pds[2] = 28;
        m.extend(&pds);
        m.extend([0, 0, 30]);
        assert_eq!(grib1_length(&m), Some(120_000 - 30 + 4));
        m[4] = 0;
        assert_eq!(grib1_length(&m), Some(0x03E8));
    }
}
