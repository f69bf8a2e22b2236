//! HDF5 byte shuffle (filter 2) and its inverse.
//!
//! Shuffling stores byte 0 of every element, then byte 1 of every element,
//! and so on. A trailing remainder of bytes that does not make a whole element
//! is left in place, as HDF5 does.

/// Undo a byte shuffle of `src` with `element_size`-byte elements into `dst`.
///
/// `dst` must be as long as `src`; trailing bytes that do not fill a whole
/// element are copied unchanged.
pub fn unshuffle_into(src: &[u8], dst: &mut [u8], element_size: usize) {
    let len = src.len().min(dst.len());
    let (src, dst) = (&src[..len], &mut dst[..len]);
    if element_size <= 1 || len < element_size {
        dst.copy_from_slice(src);
        return;
    }
    let n = len / element_size;
    let body = n * element_size;
    match element_size {
        2 => unshuffle_fixed::<2>(src, dst, n),
        4 => unshuffle_fixed::<4>(src, dst, n),
        8 => unshuffle_fixed::<8>(src, dst, n),
        16 => unshuffle_fixed::<16>(src, dst, n),
        size => {
            for j in 0..size {
                let stream = &src[j * n..(j + 1) * n];
                for (out, &b) in dst[..body].chunks_exact_mut(size).zip(stream) {
                    out[j] = b;
                }
            }
        }
    }
    dst[body..].copy_from_slice(&src[body..]);
}

/// Undo a byte shuffle, returning a new buffer.
pub fn unshuffle(src: &[u8], element_size: usize) -> Vec<u8> {
    let mut out = vec![0u8; src.len()];
    unshuffle_into(src, &mut out, element_size);
    out
}

/// Byte-shuffle `src` with `element_size`-byte elements (the encoder, for
/// writers and tests).
pub fn shuffle(src: &[u8], element_size: usize) -> Vec<u8> {
    let mut out = src.to_vec();
    if element_size <= 1 || src.len() < element_size {
        return out;
    }
    let n = src.len() / element_size;
    for (i, elem) in src[..n * element_size]
        .chunks_exact(element_size)
        .enumerate()
    {
        for (j, &b) in elem.iter().enumerate() {
            out[j * n + i] = b;
        }
    }
    out
}

/// Transpose `N` byte streams of `n` bytes into `n` elements of `N` bytes,
/// 16 elements at a time so the inner loops have constant bounds and vectorise.
fn unshuffle_fixed<const N: usize>(src: &[u8], dst: &mut [u8], n: usize) {
    const B: usize = 16;
    let streams: [&[u8]; N] = std::array::from_fn(|j| &src[j * n..(j + 1) * n]);
    let blocks = n / B;
    for (b, out) in dst[..blocks * B * N].chunks_exact_mut(B * N).enumerate() {
        let base = b * B;
        let mut cols = [[0u8; B]; N];
        for (col, stream) in cols.iter_mut().zip(&streams) {
            col.copy_from_slice(&stream[base..base + B]);
        }
        for (i, elem) in out.chunks_exact_mut(N).enumerate() {
            for (j, byte) in elem.iter_mut().enumerate() {
                *byte = cols[j][i];
            }
        }
    }
    for i in blocks * B..n {
        for (j, stream) in streams.iter().enumerate() {
            dst[i * N + j] = stream[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unshuffle_inverts_shuffle_for_every_element_size_and_remainder() {
        for size in [1usize, 2, 3, 4, 5, 8, 12, 16] {
            for len in [0usize, 1, 7, 16, 33, 100, 515, 4099] {
                let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let s = shuffle(&data, size);
                assert_eq!(unshuffle(&s, size), data, "size {size} len {len}");
            }
        }
    }

    #[test]
    fn shuffle_groups_bytes_by_position_and_keeps_the_tail() {
        let data = [1u8, 2, 3, 4, 5, 6, 7];
        assert_eq!(shuffle(&data, 2), vec![1, 3, 5, 2, 4, 6, 7]);
    }
}
