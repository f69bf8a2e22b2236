//! A minimal writer for numpy's `.npy` format (version 1.0).

use arco_core::Values;
use std::io::Write;

/// What to write: numeric values, datetimes (ns since the Unix epoch) or strings.
pub enum NpyData<'a> {
    /// Numeric or boolean values.
    Values(&'a Values),
    /// `datetime64[ns]`; `None` is NaT.
    DateTimeNs(&'a [Option<i64>]),
}

fn descr_and_bytes(data: &NpyData<'_>) -> anyhow::Result<(String, Vec<u8>)> {
    fn le<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        let mut out = Vec::with_capacity(v.len() * N);
        for x in v {
            out.extend_from_slice(&f(*x));
        }
        out
    }
    Ok(match data {
        NpyData::DateTimeNs(v) => (
            "<M8[ns]".into(),
            le(v, |x: Option<i64>| x.unwrap_or(i64::MIN).to_le_bytes()),
        ),
        NpyData::Values(values) => match values {
            Values::Bool(v) => ("|b1".into(), v.iter().map(|b| u8::from(*b)).collect()),
            Values::I8(v) => ("|i1".into(), le(v, i8::to_le_bytes)),
            Values::U8(v) => ("|u1".into(), v.to_vec()),
            Values::I16(v) => ("<i2".into(), le(v, i16::to_le_bytes)),
            Values::U16(v) => ("<u2".into(), le(v, u16::to_le_bytes)),
            Values::I32(v) => ("<i4".into(), le(v, i32::to_le_bytes)),
            Values::U32(v) => ("<u4".into(), le(v, u32::to_le_bytes)),
            Values::I64(v) => ("<i8".into(), le(v, i64::to_le_bytes)),
            Values::U64(v) => ("<u8".into(), le(v, u64::to_le_bytes)),
            Values::F32(v) => ("<f4".into(), le(v, f32::to_le_bytes)),
            Values::F64(v) => ("<f8".into(), le(v, f64::to_le_bytes)),
            Values::Str(v) => {
                let width = v
                    .iter()
                    .map(|s| s.chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(1);
                let mut out = Vec::with_capacity(v.len() * width * 4);
                for s in v {
                    let mut n = 0;
                    for c in s.chars() {
                        out.extend_from_slice(&(c as u32).to_le_bytes());
                        n += 1;
                    }
                    for _ in n..width {
                        out.extend_from_slice(&0u32.to_le_bytes());
                    }
                }
                (format!("<U{width}"), out)
            }
            other => anyhow::bail!(
                "{} values cannot be written as .npy; use --json",
                other.type_name()
            ),
        },
    })
}

/// Write `data` with `shape` as a `.npy` file.
pub fn write(path: &std::path::Path, shape: &[u64], data: &NpyData<'_>) -> anyhow::Result<()> {
    let (descr, body) = descr_and_bytes(data)?;
    let shape_text = match shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // magic (6) + version (2) + header length (2) + header + '\n' is a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let header_len = u16::try_from(header.len())?;
    let tmp = path.with_extension("npy.partial");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        f.write_all(b"\x93NUMPY\x01\x00")?;
        f.write_all(&header_len.to_le_bytes())?;
        f.write_all(header.as_bytes())?;
        f.write_all(&body)?;
        f.flush()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}
