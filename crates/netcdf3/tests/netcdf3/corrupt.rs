//! Corrupt and hostile inputs: each must be a clear error, never a panic or a
//! huge allocation.

use crate::support::*;
use arco_netcdf3::Error;

/// The `Format` error's offset and message, or a failure.
fn format_error(bytes: &[u8]) -> (u64, String) {
    match open(bytes) {
        Err(e @ Error::Format { offset, .. }) => (offset, e.to_string()),
        Err(other) => panic!("expected a format error, got {other}"),
        Ok(_) => panic!("expected a format error, the file opened"),
    }
}

fn mixed(version: u8) -> TFile {
    TFile::new(version)
        .dim("x", 3)
        .dim("time", 0)
        .numrecs(3)
        .gatt(TAttr::text("title", b"t"))
        .var(TVar::new("a", NC_SHORT, &[0]).attr(TAttr::raw(
            "scale",
            NC_FLOAT,
            2f32.to_be_bytes().to_vec(),
        )))
        .var(TVar::new("t", NC_DOUBLE, &[1]))
        .var(TVar::new("s", NC_SHORT, &[1, 0]))
}

fn be32(out: &mut Vec<u8>, x: u32) {
    out.extend_from_slice(&x.to_be_bytes());
}

#[test]
fn a_wrong_magic_number_is_rejected_at_byte_zero() {
    let (mut bytes, _) = mixed(1).bytes();
    bytes[3] = 3;
    let (offset, msg) = format_error(&bytes);
    assert_eq!(offset, 0);
    assert!(
        msg.contains("mem.nc") && msg.contains("magic") && msg.contains("43 44 46 03"),
        "{msg}"
    );
    let (offset, msg) = format_error(b"\x89HDF\r\n\x1a\n\0\0\0\0");
    assert_eq!(offset, 0);
    assert!(msg.contains("magic"), "{msg}");
}

#[test]
fn an_empty_file_is_a_truncation_error() {
    let (offset, msg) = format_error(b"");
    assert_eq!(offset, 0);
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn a_truncated_header_names_the_byte_offset() {
    let (bytes, layout) = mixed(1).bytes();
    // The header ends with the last variable's 4-byte data offset.
    let cut = layout.header_len as usize - 2;
    let (offset, msg) = format_error(&bytes[..cut]);
    assert_eq!(offset, layout.header_len - 4);
    assert!(msg.contains("mem.nc") && msg.contains("truncated"), "{msg}");
    assert!(
        msg.contains("variable data offset") && msg.contains(&format!("{cut} bytes long")),
        "{msg}"
    );

    // magic 0..4, numrecs 4..8, dimension tag 8..12, count 12..16,
    // name length 16..20, name "x" padded 20..24: the count no longer fits.
    let (offset, msg) = format_error(&bytes[..22]);
    assert_eq!(offset, 12);
    assert!(
        msg.contains("byte 12") && msg.contains("truncated"),
        "{msg}"
    );
    assert!(
        msg.contains("dimension list") && msg.contains("6 bytes"),
        "{msg}"
    );
}

#[test]
fn every_prefix_of_a_valid_file_is_an_error_never_a_panic() {
    for version in [1, 2, 5] {
        let (bytes, layout) = mixed(version).bytes();
        let full = open(&bytes).unwrap();
        // The last byte any chunk needs; trailing padding may be missing.
        let data_end = ["a", "t", "s"]
            .iter()
            .flat_map(|v| full.manifest(v).unwrap().chunks)
            .map(|c| c.offset + c.length)
            .max()
            .unwrap();
        assert!(data_end > layout.header_len);
        for n in 0..bytes.len() {
            let prefix = &bytes[..n];
            if (n as u64) < data_end {
                let (offset, msg) = format_error(prefix);
                if (n as u64) < layout.header_len {
                    assert!(
                        offset <= n as u64,
                        "CDF-{version} cut at {n}: offset {offset}: {msg}"
                    );
                    assert!(msg.contains("truncated"), "CDF-{version} cut at {n}: {msg}");
                } else {
                    assert!(
                        msg.contains("past the end of the file"),
                        "CDF-{version} cut at {n}: {msg}"
                    );
                }
            } else {
                assert!(
                    open(prefix).is_ok(),
                    "CDF-{version} cut at {n} in trailing padding"
                );
            }
        }
    }
}

#[test]
fn a_fixed_variable_whose_data_runs_past_the_end_names_it() {
    let f = TFile::new(2)
        .dim("x", 10)
        .var(TVar::new("first", NC_INT, &[0]))
        .var(TVar::new("second", NC_DOUBLE, &[0]));
    let (bytes, layout) = f.bytes();
    let (offset, msg) = format_error(&bytes[..bytes.len() - 1]);
    assert_eq!(offset, layout.begins[1]);
    assert!(
        msg.contains("'second'") && msg.contains("past the end") && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn a_record_variable_whose_last_record_is_cut_names_it() {
    let f = TFile::new(1)
        .dim("time", 0)
        .numrecs(10)
        .var(TVar::new("t", NC_DOUBLE, &[0]))
        .var(TVar::new("u", NC_FLOAT, &[0]));
    let (bytes, layout) = f.bytes();
    // Cut inside the last record's `u`.
    let (offset, msg) = format_error(&bytes[..bytes.len() - 2]);
    assert_eq!(offset, layout.begins[1]);
    assert!(msg.contains("'u'") && msg.contains("record 9"), "{msg}");
    // A header that claims more records than the file holds.
    let (mut bytes, _) = f.bytes();
    bytes[4..8].copy_from_slice(&11u32.to_be_bytes());
    let (_, msg) = format_error(&bytes);
    assert!(msg.contains("record 10"), "{msg}");
}

#[test]
fn absurd_counts_are_rejected_without_allocating() {
    // 2^31 - 1 dimensions in a 32-byte file.
    let mut b = b"CDF\x01".to_vec();
    be32(&mut b, 0);
    be32(&mut b, 0x0A);
    be32(&mut b, 0x7FFF_FFFF);
    b.resize(32, 0);
    let (offset, msg) = format_error(&b);
    assert_eq!(offset, 12);
    assert!(
        msg.contains("2147483647") && msg.contains("can hold"),
        "{msg}"
    );

    // 2^62 global attributes in a CDF-5 file.
    let mut b = b"CDF\x05".to_vec();
    b.extend_from_slice(&0u64.to_be_bytes());
    be32(&mut b, 0);
    b.extend_from_slice(&0u64.to_be_bytes());
    be32(&mut b, 0x0C);
    b.extend_from_slice(&(1u64 << 62).to_be_bytes());
    b.resize(64, 0);
    let (offset, msg) = format_error(&b);
    assert_eq!(offset, 28);
    assert!(msg.contains("can hold"), "{msg}");

    // An attribute with u32::MAX doubles.
    let mut b = b"CDF\x01".to_vec();
    be32(&mut b, 0);
    be32(&mut b, 0);
    be32(&mut b, 0);
    be32(&mut b, 0x0C);
    be32(&mut b, 1);
    be32(&mut b, 1);
    b.extend_from_slice(b"a\0\0\0");
    be32(&mut b, NC_DOUBLE);
    be32(&mut b, u32::MAX);
    b.resize(64, 0);
    let (offset, msg) = format_error(&b);
    assert_eq!(offset, 36);
    assert!(
        msg.contains("attribute 'a'") && msg.contains("4294967295"),
        "{msg}"
    );

    // A name of 2^32 - 1 bytes.
    let mut b = b"CDF\x01".to_vec();
    be32(&mut b, 0);
    be32(&mut b, 0x0A);
    be32(&mut b, 1);
    be32(&mut b, u32::MAX);
    b.resize(40, 0);
    let (offset, _) = format_error(&b);
    assert_eq!(offset, 16);

    // A variable of rank 2^31 in CDF-2.
    let mut b = b"CDF\x02".to_vec();
    for x in [0, 0, 0, 0, 0, 0x0B, 1, 1] {
        be32(&mut b, x);
    }
    b.extend_from_slice(b"v\0\0\0");
    be32(&mut b, 1 << 31);
    b.resize(64, 0);
    let (offset, msg) = format_error(&b);
    assert_eq!(offset, 40);
    assert!(msg.contains("variable rank"), "{msg}");
}

#[test]
fn a_dimension_id_out_of_range_is_rejected() {
    let f = TFile::new(1).dim("x", 2).var(TVar::new("v", NC_INT, &[0]));
    let (bytes, _) = f.bytes();
    let mut bad = f.clone();
    bad.vars[0].dimids = vec![5];
    let header = bad.header(&[f.layout().begins[0]]);
    let mut b = header.clone();
    b.extend_from_slice(&bytes[header.len()..]);
    let (_, msg) = format_error(&b);
    assert!(
        msg.contains("'v'") && msg.contains("dimension id 5"),
        "{msg}"
    );
}

#[test]
fn the_unlimited_dimension_must_come_first() {
    let f = TFile::new(1)
        .dim("x", 2)
        .dim("time", 0)
        .numrecs(1)
        .var(TVar::new("v", NC_INT, &[0, 1]));
    let (bytes, _) = f.bytes();
    let (_, msg) = format_error(&bytes);
    assert!(msg.contains("'v'") && msg.contains("unlimited"), "{msg}");
}

#[test]
fn two_unlimited_dimensions_are_rejected() {
    let f = TFile::new(1).dim("a", 0).dim("b", 0);
    let (bytes, _) = f.bytes();
    let (offset, msg) = format_error(&bytes);
    // magic, numrecs, tag, count, then "a" (4 + 4 bytes) and its length
    assert_eq!(offset, 28);
    assert!(
        msg.contains("'a'") && msg.contains("'b'") && msg.contains("unlimited"),
        "{msg}"
    );
}

#[test]
fn data_that_overlaps_the_header_is_rejected() {
    let f = TFile::new(1).dim("x", 2).var(TVar::new("v", NC_INT, &[0]));
    let (bytes, layout) = f.bytes();
    let mut b = f.header(&[8]);
    b.extend_from_slice(&bytes[layout.header_len as usize..]);
    let (_, msg) = format_error(&b);
    assert!(
        msg.contains("'v'") && msg.contains("inside the header"),
        "{msg}"
    );
}

#[test]
fn a_bad_list_tag_or_type_code_is_rejected() {
    let (mut bytes, _) = mixed(1).bytes();
    bytes[11] = 0x0B; // dimension list tag
    let (offset, msg) = format_error(&bytes);
    assert_eq!(offset, 8);
    assert!(msg.contains("dimension list"), "{msg}");

    let f = TFile::new(1).var(TVar::new("v", 12, &[]));
    let (bytes, _) = f.bytes();
    let (_, msg) = format_error(&bytes);
    assert!(msg.contains("unknown type code 12"), "{msg}");
}

/// xorshift64*: deterministic pseudo-random numbers without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn randomly_corrupted_headers_never_panic_and_never_point_outside_the_file() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for version in [1, 2, 5] {
        let (bytes, layout) = mixed(version).bytes();
        for _ in 0..3000 {
            let mut b = bytes.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(layout.header_len) as usize;
                b[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xFF,
                    2 => b[at].wrapping_add(1),
                    _ => rng.next() as u8,
                };
            }
            if rng.below(4) == 0 {
                b.truncate(rng.below(b.len() as u64 + 1) as usize);
            }
            let Ok(file) = open(&b) else { continue };
            for v in &file.dataset().root.variables {
                if let Ok(m) = file.manifest(&v.path) {
                    for c in &m.chunks {
                        assert!(
                            c.offset + c.length <= b.len() as u64,
                            "{:?} of {} past the end",
                            c.index,
                            v.path
                        );
                    }
                    assert_eq!(m.chunks.len() as u64, m.grid.chunk_count());
                }
            }
        }
    }
}
