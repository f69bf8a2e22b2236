//! HDF5's Fletcher-32 checksum (filter 3).

/// HDF5's `H5_checksum_fletcher32`: Fletcher-32 over big-endian 16-bit words;
/// an odd trailing byte counts as the high byte of a last word.
pub fn fletcher32(data: &[u8]) -> u32 {
    let mut sum1: u32 = 0;
    let mut sum2: u32 = 0;
    // 360 words is the most that can be summed before the u32 sums could overflow.
    let words = data.len() / 2;
    for block in data[..words * 2].chunks(720) {
        for w in block.chunks_exact(2) {
            sum1 += (u32::from(w[0]) << 8) | u32::from(w[1]);
            sum2 += sum1;
        }
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    if data.len() % 2 == 1 {
        sum1 += u32::from(data[data.len() - 1]) << 8;
        sum2 += sum1;
        sum1 = (sum1 & 0xffff) + (sum1 >> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    }
    sum1 = (sum1 & 0xffff) + (sum1 >> 16);
    sum2 = (sum2 & 0xffff) + (sum2 >> 16);
    (sum2 << 16) | sum1
}

/// The checksum as HDF5 before 1.6.3 wrote it on little-endian machines
/// (bytes swapped within each 16-bit half); HDF5 still accepts it.
pub(crate) fn fletcher32_legacy(sum: u32) -> u32 {
    ((sum & 0x00ff_00ff) << 8) | ((sum >> 8) & 0x00ff_00ff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fletcher32_of_known_byte_strings() {
        // words 0x0102, 0x0304: sum1 = 0x0406, sum2 = 0x0102 + 0x0406 = 0x0508.
        assert_eq!(fletcher32(&[1, 2, 3, 4]), 0x0508_0406);
        // odd tail: sum1 = 0x0102 + 0x0300 = 0x0402, sum2 = 0x0102 + 0x0402 = 0x0504.
        assert_eq!(fletcher32(&[1, 2, 3]), 0x0504_0402);
        assert_eq!(fletcher32(&[]), 0);
        // "abcde": words 0x6162, 0x6364, tail 0x6500.
        // sum1: 0x6162, 0xC4C6, 0x129C6 -> reduced 0x29C7; sum2: 0x6162, 0x12628, ...
        let s1 = 0x6162u32 + 0x6364;
        let s2 = 0x6162u32 + s1;
        let t1 = s1 + 0x6500;
        let t2 = s2 + t1;
        let (r1, r2) = ((t1 & 0xffff) + (t1 >> 16), (t2 & 0xffff) + (t2 >> 16));
        let (r1, r2) = ((r1 & 0xffff) + (r1 >> 16), (r2 & 0xffff) + (r2 >> 16));
        assert_eq!(fletcher32(b"abcde"), (r2 << 16) | r1);
    }

    #[test]
    fn long_inputs_agree_with_fletcher_modulo_65535() {
        let data: Vec<u8> = (0..100_001u32).map(|i| (i * 7 + (i >> 9)) as u8).collect();
        let (mut a, mut b) = (0u64, 0u64);
        for w in data.chunks(2) {
            let word = (u64::from(w[0]) << 8) | u64::from(*w.get(1).unwrap_or(&0));
            a = (a + word) % 65535;
            b = (b + a) % 65535;
        }
        let s = fletcher32(&data);
        assert_eq!(
            (u64::from(s & 0xffff) % 65535, u64::from(s >> 16) % 65535),
            (a, b)
        );
    }

    #[test]
    fn legacy_checksum_swaps_bytes_in_each_half() {
        assert_eq!(fletcher32_legacy(0x0102_0304), 0x0201_0403);
    }
}
