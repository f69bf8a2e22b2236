//! Corrupt and truncated inputs: each must be an error naming the byte
//! offset, never a panic or a huge allocation.

use crate::support::*;
use arco_geotiff::Error;

/// The `Format` error's offset and message, or a failure.
fn format_error(bytes: &[u8]) -> (u64, String) {
    match open(bytes) {
        Err(e @ Error::Format { offset, .. }) => (offset, e.to_string()),
        Err(other) => panic!("expected a format error, got {other}"),
        Ok(_) => panic!("expected a format error, the file opened"),
    }
}

fn small(big: bool, be: bool) -> (Vec<u8>, Layout) {
    let mut tags = image_tags(6, 4, 16, 1);
    tags.push((278, V::Short(vec![3])));
    tags.extend(utm_tags());
    tags.push((42113, V::Ascii("0".into())));
    let mut ov = image_tags(3, 2, 16, 1);
    ov.push((254, V::Long(vec![1])));
    Tiff::new(big, be)
        .ifd(tags, vec![Some(vec![1; 36]), Some(vec![2; 12])], false)
        .ifd(ov, vec![Some(vec![3; 12])], false)
        .bytes()
}

#[test]
fn every_prefix_of_a_valid_file_is_an_error_naming_an_offset_never_a_panic() {
    for big in [false, true] {
        for be in [false, true] {
            let (bytes, layout) = small(big, be);
            assert!(open(&bytes).is_ok());
            for n in 0..bytes.len() {
                let (offset, msg) = format_error(&bytes[..n]);
                assert!(
                    msg.contains("mem.tif"),
                    "big {big} be {be} cut at {n}: {msg}"
                );
                if (n as u64) < layout.meta_end {
                    // The offset is where the missing bytes were expected:
                    // inside the metadata, and named in the message.
                    assert!(
                        offset < layout.meta_end && msg.contains(&format!("at byte {offset}")),
                        "big {big} be {be} cut at {n}: offset {offset}: {msg}"
                    );
                    assert!(
                        msg.contains("truncated") || msg.contains("TIFF byte-order mark"),
                        "big {big} be {be} cut at {n}: {msg}"
                    );
                } else {
                    assert!(
                        msg.contains("runs past the end of the file") && msg.contains("strip"),
                        "big {big} be {be} cut at {n}: {msg}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_truncated_ifd_names_the_ifd_and_its_offset() {
    let (bytes, _) = small(false, false);
    // The first IFD starts at byte 8 with a 2-byte count; cut inside its entries.
    let (offset, msg) = format_error(&bytes[..30]);
    assert_eq!(offset, 10);
    assert!(msg.contains("IFD 0 with"), "{msg}");
    assert!(msg.contains("the file is truncated"), "{msg}");
}

#[test]
fn a_wrong_magic_or_version_is_refused_at_the_start() {
    let (offset, msg) = format_error(b"XX*\0\x08\0\0\0");
    assert_eq!(offset, 0);
    assert!(
        msg.contains("byte-order mark") && msg.contains("58 58 2a 00"),
        "{msg}"
    );
    let (offset, msg) = format_error(b"II\x2c\0\x08\0\0\0");
    assert_eq!(offset, 2);
    assert!(msg.contains("TIFF version is 44"), "{msg}");
    let (offset, msg) = format_error(b"II+\0\x04\0\0\0\x10\0\0\0\0\0\0\0");
    assert_eq!(offset, 4);
    assert!(msg.contains("offset size of 8, not 4"), "{msg}");
}

#[test]
fn an_ifd_chain_that_loops_is_an_error() {
    let (mut bytes, _) = small(false, false);
    // Point the second IFD's next link back at the first IFD (byte 8).
    let second = {
        let n = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let link = 10 + 12 * n;
        u32::from_le_bytes(bytes[link..link + 4].try_into().unwrap()) as usize
    };
    let n2 = u16::from_le_bytes([bytes[second], bytes[second + 1]]) as usize;
    let link2 = second + 2 + 12 * n2;
    bytes[link2..link2 + 4].copy_from_slice(&8u32.to_le_bytes());
    let (offset, msg) = format_error(&bytes);
    assert_eq!(offset, link2 as u64);
    assert!(msg.contains("loops back to the IFD at byte 8"), "{msg}");
}

#[test]
fn a_huge_entry_count_is_refused_without_allocating() {
    let mut bytes = b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0".to_vec();
    bytes.extend(u64::MAX.to_le_bytes());
    bytes.extend([0u8; 64]);
    let (offset, msg) = format_error(&bytes);
    assert_eq!(offset, 16);
    assert!(msg.contains("claims") || msg.contains("truncated"), "{msg}");
}

#[test]
fn offsets_that_do_not_match_the_tile_grid_are_an_error() {
    let mut tags = image_tags(40, 40, 8, 1);
    tags.push((322, V::Short(vec![16])));
    tags.push((323, V::Short(vec![16])));
    // 3 x 3 tiles needed, 2 given.
    let (bytes, _) = Tiff::new(false, false)
        .ifd(tags, vec![Some(vec![0; 256]), Some(vec![0; 256])], true)
        .bytes();
    let (_, msg) = format_error(&bytes);
    assert!(msg.contains("needs 9 block offsets"), "{msg}");
    assert!(msg.contains("TileOffsets has 2"), "{msg}");
}

#[test]
fn a_missing_required_tag_is_named() {
    let mut tags = image_tags(4, 4, 8, 1);
    tags.retain(|(t, _)| *t != 257);
    let (bytes, _) = Tiff::new(false, false)
        .ifd(tags, vec![Some(vec![0; 16])], false)
        .bytes();
    let (offset, msg) = format_error(&bytes);
    assert_eq!(offset, 8);
    assert!(msg.contains("no ImageLength tag (257)"), "{msg}");
}
