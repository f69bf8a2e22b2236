//! Blosc1 frames as written by the HDF5 blosc plugin (filter 32001).
//!
//! A frame is a 16-byte header (version, versionlz, flags, typesize, nbytes,
//! blocksize, cbytes), then either the raw bytes (the "memcpyed" flag) or one
//! start offset per block followed by the blocks. A block is stored in
//! `typesize` splits or one, each split a 4-byte size and the compressed bytes
//! (raw when the size equals the split size). Blocks are byte- or bit-shuffled
//! before compression.

use crate::{Result, Stage};

const DOSHUFFLE: u8 = 0x01;
const MEMCPYED: u8 = 0x02;
const DOBITSHUFFLE: u8 = 0x04;
const DONT_SPLIT: u8 = 0x10;
const MAX_SPLITS: usize = 16;
const MIN_BUFFERSIZE: usize = 128;

fn le32(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Decode one blosc1 frame.
pub(crate) fn decode(src: &[u8], stage: Stage<'_, '_>) -> Result<Vec<u8>> {
    let short = || {
        stage.fail(format!(
            "the blosc frame is truncated ({} bytes)",
            src.len()
        ))
    };
    if src.len() < 16 {
        return Err(short());
    }
    let (version, flags, typesize) = (src[0], src[2], usize::from(src[3]).max(1));
    let nbytes = le32(src, 4).ok_or_else(short)?;
    let blocksize = le32(src, 8).ok_or_else(short)?;
    let cbytes = le32(src, 12).ok_or_else(short)?;
    if cbytes > src.len() {
        return Err(short());
    }
    if nbytes == 0 {
        return Ok(Vec::new());
    }
    if flags & MEMCPYED != 0 {
        return Ok(src.get(16..16 + nbytes).ok_or_else(short)?.to_vec());
    }
    if blocksize == 0 || nbytes > src.len().saturating_mul(1024).max(1 << 24) {
        return Err(stage.fail(format!(
            "implausible blosc header: {nbytes} bytes in blocks of {blocksize}"
        )));
    }
    let compformat = (flags & 0xe0) >> 5;
    let shuffled = flags & DOSHUFFLE != 0 && typesize > 1;
    let bitshuffled = !shuffled && flags & DOBITSHUFFLE != 0;
    let nblocks = nbytes.div_ceil(blocksize);
    let leftover = nbytes % blocksize;
    let mut out = vec![0u8; nbytes];
    let mut tmp = vec![0u8; blocksize];
    for (j, dest) in out.chunks_mut(blocksize).enumerate() {
        let bsize = dest.len();
        let leftover_block = j == nblocks - 1 && leftover > 0;
        let mut pos = le32(src, 16 + 4 * j).ok_or_else(short)?;
        let nsplits = if flags & DONT_SPLIT == 0
            && typesize <= MAX_SPLITS
            && blocksize / typesize >= MIN_BUFFERSIZE
            && !leftover_block
        {
            typesize
        } else {
            1
        };
        let neblock = bsize / nsplits;
        let target: &mut [u8] = if shuffled || bitshuffled {
            &mut tmp[..bsize]
        } else {
            &mut *dest
        };
        for part in target.chunks_exact_mut(neblock.max(1)).take(nsplits) {
            let clen = le32(src, pos).ok_or_else(short)?;
            pos += 4;
            let data = src.get(pos..pos + clen).ok_or_else(short)?;
            if clen == neblock {
                part.copy_from_slice(data);
            } else {
                inner(compformat, data, part, stage)?;
            }
            pos += clen;
        }
        if shuffled {
            crate::unshuffle_into(&tmp[..bsize], dest, typesize);
        } else if bitshuffled {
            bitunshuffle(&tmp[..bsize], dest, typesize, version);
        }
    }
    Ok(out)
}

/// Decompress one split with the frame's inner codec; it must fill `out` exactly.
fn inner(format: u8, data: &[u8], out: &mut [u8], stage: Stage<'_, '_>) -> Result<()> {
    let want = out.len();
    let n = match format {
        0 => blosclz(data, out).ok_or_else(|| stage.fail("blosclz block is corrupt"))?,
        1 => lz4_flex::block::decompress_into(data, out)
            .map_err(|e| stage.fail(format!("lz4 block inside blosc is corrupt ({e})")))?,
        3 => {
            let mut d = flate2::Decompress::new(true);
            d.decompress(data, out, flate2::FlushDecompress::Finish)
                .map_err(|e| stage.fail(format!("zlib block inside blosc is corrupt ({e})")))?;
            d.total_out() as usize
        }
        4 => zstd::bulk::decompress_to_buffer(data, out)
            .map_err(|e| stage.fail(format!("zstd block inside blosc is corrupt ({e})")))?,
        2 => return Err(stage.unsupported("blosc with the snappy codec")),
        other => return Err(stage.unsupported(format!("blosc with unknown codec format {other}"))),
    };
    if n != want {
        return Err(stage.fail(format!(
            "a blosc block decoded to {n} bytes, expected {want}"
        )));
    }
    Ok(())
}

/// BloscLZ (a FastLZ level-2 variant) decompression; `None` on corrupt input.
fn blosclz(input: &[u8], out: &mut [u8]) -> Option<usize> {
    const MAX_DISTANCE: usize = 8191;
    if input.is_empty() {
        return Some(0);
    }
    let mut ip = 1usize;
    let mut op = 0usize;
    let mut ctrl = usize::from(input[0] & 31);
    loop {
        if ctrl >= 32 {
            let mut len = (ctrl >> 5) - 1;
            let mut ofs = (ctrl & 31) << 8;
            if len == 6 {
                loop {
                    let code = *input.get(ip)?;
                    ip += 1;
                    len += usize::from(code);
                    if code != 255 {
                        break;
                    }
                }
            }
            let code = usize::from(*input.get(ip)?);
            ip += 1;
            let mut back = ofs + code; // distance minus one
            if code == 255 && ofs == 31 << 8 {
                let hi = usize::from(*input.get(ip)?);
                let lo = usize::from(*input.get(ip + 1)?);
                ip += 2;
                ofs = (hi << 8) + lo;
                back = ofs + MAX_DISTANCE;
            }
            let len = len + 3;
            if op + len > out.len() || back + 1 > op {
                return None;
            }
            let from = op - back - 1;
            if back == 0 {
                let b = out[from];
                out[op..op + len].fill(b);
            } else if back + 1 >= len {
                out.copy_within(from..from + len, op);
            } else {
                for k in 0..len {
                    out[op + k] = out[from + k];
                }
            }
            op += len;
        } else {
            let run = ctrl + 1;
            if op + run > out.len() || ip + run > input.len() {
                return None;
            }
            out[op..op + run].copy_from_slice(&input[ip..ip + run]);
            op += run;
            ip += run;
        }
        if ip >= input.len() {
            break;
        }
        ctrl = usize::from(input[ip]);
        ip += 1;
    }
    Some(op)
}

/// Undo blosc's bit shuffle: bit `b` of byte `k` of element `i` is stored in
/// bit-row `8k + b` at bit `i`. Frames of format version 2 bit-shuffle only
/// blocks whose element count is a multiple of 8; later versions bit-shuffle
/// the largest multiple of 8 and leave the rest as is.
fn bitunshuffle(src: &[u8], dst: &mut [u8], typesize: usize, version: u8) {
    let size = src.len() / typesize;
    let shuffled = if version <= 2 {
        if size.is_multiple_of(8) {
            size
        } else {
            0
        }
    } else {
        size - size % 8
    };
    let body = shuffled * typesize;
    dst[body..].copy_from_slice(&src[body..]);
    if shuffled == 0 {
        return;
    }
    let row = shuffled / 8;
    dst[..body].fill(0);
    for k in 0..typesize {
        for bit in 0..8 {
            let r = &src[(k * 8 + bit) * row..(k * 8 + bit + 1) * row];
            for (byte_i, &v) in r.iter().enumerate() {
                if v == 0 {
                    continue;
                }
                for t in 0..8 {
                    if (v >> t) & 1 != 0 {
                        dst[(byte_i * 8 + t) * typesize + k] |= 1 << bit;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_chunk, shuffle, ChunkContext};
    use arco_core::{CodecSpec, DType, Endian};

    fn header(flags: u8, typesize: u8, nbytes: usize, blocksize: usize) -> Vec<u8> {
        let mut h = vec![2u8, 1, flags, typesize];
        h.extend((nbytes as u32).to_le_bytes());
        h.extend((blocksize as u32).to_le_bytes());
        h.extend(0u32.to_le_bytes());
        h
    }

    fn finish(mut f: Vec<u8>) -> Vec<u8> {
        let n = f.len() as u32;
        f[12..16].copy_from_slice(&n.to_le_bytes());
        f
    }

    fn run(frame: &[u8]) -> crate::Result<Vec<u8>> {
        let ctx = ChunkContext {
            label: "blosc test",
            dtype: &DType::U8,
            endian: Endian::Little,
            elements: 0,
        };
        decode_chunk(frame, &[CodecSpec::Blosc { params: vec![] }], 0, &ctx)
    }

    /// An encoder for tests: byte shuffle + lz4, zlib or raw splits.
    fn encode(data: &[u8], typesize: usize, blocksize: usize, codec: u8, split: bool) -> Vec<u8> {
        let flags = DOSHUFFLE | (codec << 5) | if split { 0 } else { DONT_SPLIT };
        let mut f = header(flags, typesize as u8, data.len(), blocksize);
        let nblocks = data.len().div_ceil(blocksize);
        let starts = f.len();
        f.extend(vec![0u8; 4 * nblocks]);
        for (j, block) in data.chunks(blocksize).enumerate() {
            let at = f.len() as u32;
            f[starts + 4 * j..starts + 4 * j + 4].copy_from_slice(&at.to_le_bytes());
            let s = shuffle(block, typesize);
            let leftover = block.len() < blocksize;
            let nsplits = if split && !leftover && blocksize / typesize >= 128 {
                typesize
            } else {
                1
            };
            for part in s.chunks(s.len() / nsplits) {
                let c = match codec {
                    1 => lz4_flex::block::compress(part),
                    3 => {
                        use std::io::Write;
                        let mut e = flate2::write::ZlibEncoder::new(
                            Vec::new(),
                            flate2::Compression::new(5),
                        );
                        e.write_all(part).unwrap();
                        e.finish().unwrap()
                    }
                    _ => part.to_vec(),
                };
                let c = if c.len() >= part.len() {
                    part.to_vec()
                } else {
                    c
                };
                f.extend((c.len() as u32).to_le_bytes());
                f.extend(c);
            }
        }
        finish(f)
    }

    fn sample(n: usize) -> Vec<u8> {
        (0..n / 4)
            .flat_map(|i| ((i / 3) as u32).to_le_bytes())
            .collect()
    }

    #[test]
    fn blosc_frames_with_lz4_and_zlib_split_and_unsplit_round_trip() {
        let d = sample(10_000);
        for codec in [1u8, 3] {
            for split in [true, false] {
                for blocksize in [1024usize, 4096, 20_000] {
                    let f = encode(&d, 4, blocksize, codec, split);
                    assert_eq!(
                        run(&f).unwrap(),
                        d,
                        "codec {codec} split {split} bs {blocksize}"
                    );
                }
            }
        }
    }

    #[test]
    fn memcpyed_frames_are_copied() {
        let mut f = header(MEMCPYED, 1, 5, 5);
        f.extend([9, 8, 7, 6, 5]);
        assert_eq!(run(&finish(f)).unwrap(), vec![9, 8, 7, 6, 5]);
    }

    #[test]
    fn blosclz_literals_runs_and_matches() {
        // literal "abc", match len 3 distance 3 (ctrl: len-2=1 -> 1<<5, ofs 0; code 2),
        // run of 'c' len 4 (ctrl 2<<5, code 0).
        let input = [2u8, b'a', b'b', b'c', 1 << 5, 2, 2 << 5, 0];
        let mut out = [0u8; 10];
        assert_eq!(blosclz(&input, &mut out), Some(10));
        assert_eq!(&out, b"abcabccccc");
        // a match pointing before the start is corrupt
        let mut out = [0u8; 10];
        assert_eq!(blosclz(&[0, b'a', 1 << 5, 5], &mut out), None);
    }

    #[test]
    fn bitunshuffle_inverts_a_reference_bitshuffle() {
        let typesize = 2;
        let n = 16;
        let data: Vec<u8> = (0..n * typesize).map(|i| (i * 37 + 11) as u8).collect();
        let row = n / 8;
        let mut shuffled = vec![0u8; data.len()];
        for i in 0..n {
            for k in 0..typesize {
                for b in 0..8 {
                    if data[i * typesize + k] >> b & 1 == 1 {
                        shuffled[(k * 8 + b) * row + i / 8] |= 1 << (i % 8);
                    }
                }
            }
        }
        let mut out = vec![0u8; data.len()];
        bitunshuffle(&shuffled, &mut out, typesize, 2);
        assert_eq!(out, data);
    }

    #[test]
    fn snappy_frames_are_unsupported_and_truncated_frames_fail() {
        let mut f = header(2 << 5, 1, 200, 200);
        f.extend(20u32.to_le_bytes());
        f.extend(10u32.to_le_bytes());
        f.extend([0u8; 10]);
        let err = run(&finish(f)).unwrap_err().to_string();
        assert!(err.contains("snappy"), "{err}");
        assert!(run(&[2, 1, 0]).is_err());
    }
}
