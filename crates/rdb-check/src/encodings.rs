//! Checks of the compact encodings stored inside RDB strings. Each returns the number of elements, or the broken rule
//! and the offset inside the encoded value.
//!
//! Sources: Redis `ziplist.c` (header and entry layout), `listpack.c` (entry encodings and backlen), `intset.c`,
//! `zipmap.c`.

/// An element count, or the offset inside the value and the broken rule.
pub type Check<T> = Result<T, (usize, String)>;

fn need(b: &[u8], at: usize, n: usize, what: &str) -> Check<()> {
    if at.checked_add(n).is_some_and(|end| end <= b.len()) {
        Ok(())
    } else {
        Err((at, format!("{what} runs past the end of the encoded value")))
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// A ziplist (`ziplist.c`): `<zlbytes u32><zltail u32><zllen u16> <entry>* 0xFF`; each entry is `<prevlen>
/// <encoding> <data>` and `prevlen` must equal the previous entry's size.
pub fn ziplist(b: &[u8]) -> Check<u64> {
    need(b, 0, 11, "ziplist header")?;
    let zlbytes = le32(b, 0) as usize;
    let zltail = le32(b, 4) as usize;
    let zllen = u16::from_le_bytes([b[8], b[9]]);
    if zlbytes != b.len() {
        return Err((
            0,
            format!("ziplist says {zlbytes} bytes but holds {}", b.len()),
        ));
    }
    if b[b.len() - 1] != 0xFF {
        return Err((b.len() - 1, "ziplist does not end in 0xFF".into()));
    }
    let mut at = 10;
    let mut prev_size = 0usize;
    let mut last = 10;
    let mut count = 0u64;
    while b[at] != 0xFF {
        let start = at;
        let prevlen = if b[at] < 254 {
            at += 1;
            usize::from(b[start])
        } else if b[at] == 254 {
            need(b, at, 5, "ziplist prevlen")?;
            at += 5;
            le32(b, start + 1) as usize
        } else {
            return Err((at, "invalid ziplist prevlen".into()));
        };
        if prevlen != prev_size {
            return Err((
                start,
                format!("ziplist prevlen {prevlen} but the previous entry is {prev_size} bytes"),
            ));
        }
        need(b, at, 1, "ziplist entry")?;
        let e = b[at];
        let (header, data) = match e >> 6 {
            0 => (1, usize::from(e & 0x3f)),
            1 => {
                need(b, at, 2, "ziplist string length")?;
                (2, (usize::from(e & 0x3f) << 8) | usize::from(b[at + 1]))
            }
            2 if e == 0x80 => {
                need(b, at, 5, "ziplist string length")?;
                (
                    5,
                    u32::from_be_bytes([b[at + 1], b[at + 2], b[at + 3], b[at + 4]]) as usize,
                )
            }
            2 => return Err((at, format!("invalid ziplist string encoding {e:#04x}"))),
            _ => match e {
                0xC0 => (1, 2),
                0xD0 => (1, 4),
                0xE0 => (1, 8),
                0xF0 => (1, 3),
                0xFE => (1, 1),
                0xF1..=0xFD => (1, 0),
                _ => return Err((at, format!("invalid ziplist integer encoding {e:#04x}"))),
            },
        };
        need(b, at, header + data, "ziplist entry")?;
        at += header + data;
        if at >= b.len() {
            return Err((start, "ziplist entry overruns the end marker".into()));
        }
        prev_size = at - start;
        last = start;
        count += 1;
    }
    if at != b.len() - 1 {
        return Err((at, "ziplist end marker before the end of the value".into()));
    }
    if zltail != last {
        return Err((
            4,
            format!("ziplist tail offset {zltail} but the last entry is at {last}"),
        ));
    }
    if zllen != u16::MAX && u64::from(zllen) != count {
        return Err((8, format!("ziplist says {zllen} entries but holds {count}")));
    }
    Ok(count)
}

/// Bytes of a listpack entry's backlen for an entry of `len` bytes (`listpack.c` `lpEncodeBacklen`).
pub(crate) fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// A listpack (`listpack.c`): `<total u32><count u16> (<encoding+data><backlen>)* 0xFF`, where backlen encodes the
/// entry's own size so the list can be walked backwards.
pub fn listpack(b: &[u8]) -> Check<u64> {
    need(b, 0, 7, "listpack header")?;
    let total = le32(b, 0) as usize;
    let num = u16::from_le_bytes([b[4], b[5]]);
    if total != b.len() {
        return Err((
            0,
            format!("listpack says {total} bytes but holds {}", b.len()),
        ));
    }
    if b[b.len() - 1] != 0xFF {
        return Err((b.len() - 1, "listpack does not end in 0xFF".into()));
    }
    let mut at = 6;
    let mut count = 0u64;
    loop {
        // Fast path: a 7-bit integer or a string under 64 bytes (almost every entry of a small collection), whose
        // one-byte backlen is its size. Anything else, and every error, takes the general path below.
        if let Some(&e) = b.get(at)
            && e < 0xC0
        {
            let size = if e < 0x80 {
                1
            } else {
                1 + usize::from(e & 0x3f)
            };
            if b.get(at + size)
                .is_some_and(|&back| usize::from(back) == size)
            {
                at += size + 1;
                count += 1;
                continue;
            }
        }
        need(b, at, 1, "listpack entry")?;
        let e = b[at];
        if e == 0xFF {
            break;
        }
        let size = if e & 0x80 == 0 {
            1
        } else if e & 0xC0 == 0x80 {
            1 + usize::from(e & 0x3f)
        } else if e & 0xE0 == 0xC0 {
            2
        } else if e & 0xF0 == 0xE0 {
            need(b, at, 2, "listpack string length")?;
            2 + ((usize::from(e & 0x0f) << 8) | usize::from(b[at + 1]))
        } else {
            match e {
                0xF0 => {
                    need(b, at, 5, "listpack string length")?;
                    5 + le32(b, at + 1) as usize
                }
                0xF1 => 3,
                0xF2 => 4,
                0xF3 => 5,
                0xF4 => 9,
                _ => return Err((at, format!("invalid listpack encoding {e:#04x}"))),
            }
        };
        let bl = backlen_size(size);
        need(b, at, size + bl, "listpack entry")?;
        // Entries under 128 bytes (almost all in a small collection) have a one-byte backlen: the size itself.
        if bl == 1 {
            if usize::from(b[at + size]) != size {
                return Err((
                    at + size,
                    format!(
                        "listpack backlen says {} but the entry is {size} bytes",
                        b[at + size]
                    ),
                ));
            }
            at += size + 1;
            count += 1;
            continue;
        }
        // Decode the backlen backwards, as lpDecodeBacklen does.
        let mut value = 0usize;
        let mut shift = 0;
        let mut p = at + size + bl - 1;
        loop {
            value |= usize::from(b[p] & 127) << shift;
            if b[p] & 128 == 0 {
                break;
            }
            shift += 7;
            if p == at + size {
                return Err((p, "listpack backlen runs into its entry".into()));
            }
            p -= 1;
        }
        if value != size || p != at + size {
            return Err((
                at + size,
                format!("listpack backlen says {value} but the entry is {size} bytes"),
            ));
        }
        at += size + bl;
        count += 1;
    }
    if at != b.len() - 1 {
        return Err((at, "listpack end marker before the end of the value".into()));
    }
    if num != u16::MAX && u64::from(num) != count {
        return Err((4, format!("listpack says {num} elements but holds {count}")));
    }
    Ok(count)
}

/// The index of the first value not greater than the one before it, if any.
#[inline]
fn first_not_ascending(mut values: impl Iterator<Item = i64>) -> Option<usize> {
    let mut prev = values.next()?;
    for (i, v) in values.enumerate() {
        if v <= prev {
            return Some(i + 1);
        }
        prev = v;
    }
    None
}

/// An intset (`intset.c`): `<encoding u32: 2|4|8><length u32><sorted integers>`.
pub fn intset(b: &[u8]) -> Check<u64> {
    need(b, 0, 8, "intset header")?;
    let enc = le32(b, 0) as usize;
    let len = le32(b, 4) as usize;
    if ![2, 4, 8].contains(&enc) {
        return Err((0, format!("invalid intset encoding {enc}")));
    }
    if len.checked_mul(enc).and_then(|n| n.checked_add(8)) != Some(b.len()) {
        return Err((
            4,
            format!(
                "intset of {len} × {enc} bytes does not fill {} bytes",
                b.len()
            ),
        ));
    }
    // One loop per width (not a match per element): small intsets are checked by the million.
    let body = &b[8..];
    let unordered = match enc {
        2 => first_not_ascending(
            body.chunks_exact(2)
                .map(|c| i64::from(i16::from_le_bytes([c[0], c[1]]))),
        ),
        4 => first_not_ascending(
            body.chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        _ => first_not_ascending(
            body.chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        ),
    };
    if let Some(i) = unordered {
        return Err((8 + i * enc, "intset is not strictly ascending".into()));
    }
    Ok(len as u64)
}

/// A zipmap (`zipmap.c`, Redis < 2.6): `<zmlen u8> (<len><key><len><free u8><value><free bytes>)* 0xFF`.
/// Returns the number of key/value pairs.
pub fn zipmap(b: &[u8]) -> Check<u64> {
    need(b, 0, 2, "zipmap header")?;
    let zmlen = b[0];
    let mut at = 1;
    let mut pairs = 0u64;
    let read_len = |at: &mut usize| -> Check<Option<usize>> {
        need(b, *at, 1, "zipmap length")?;
        match b[*at] {
            0xFF => Ok(None),
            254 => {
                need(b, *at, 5, "zipmap length")?;
                let n = le32(b, *at + 1) as usize;
                *at += 5;
                Ok(Some(n))
            }
            n => {
                *at += 1;
                Ok(Some(usize::from(n)))
            }
        }
    };
    while let Some(klen) = read_len(&mut at)? {
        need(b, at, klen, "zipmap key")?;
        at += klen;
        let Some(vlen) = read_len(&mut at)? else {
            return Err((at, "zipmap key without a value".into()));
        };
        need(b, at, 1 + vlen, "zipmap value")?;
        let free = usize::from(b[at]);
        need(b, at, 1 + vlen + free, "zipmap value")?;
        at += 1 + vlen + free;
        pairs += 1;
    }
    if at != b.len() - 1 {
        return Err((at, "zipmap end marker before the end of the value".into()));
    }
    if zmlen < 254 && u64::from(zmlen) != pairs {
        return Err((0, format!("zipmap says {zmlen} pairs but holds {pairs}")));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lp(entries: &[&[u8]]) -> Vec<u8> {
        // Small strings only (6-bit length encoding).
        let mut body = Vec::new();
        for e in entries {
            let size = 1 + e.len();
            body.push(0x80 | e.len() as u8);
            body.extend_from_slice(e);
            body.push(size as u8);
        }
        let total = 6 + body.len() + 1;
        let mut out = (total as u32).to_le_bytes().to_vec();
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend(body);
        out.push(0xFF);
        out
    }

    #[test]
    fn listpack_counts_and_checks_backlen() {
        let good = lp(&[b"a", b"bc"]);
        assert_eq!(listpack(&good), Ok(2));
        let mut bad = good.clone();
        bad[8] = 9; // backlen of the first entry
        assert!(listpack(&bad).unwrap_err().1.contains("backlen"));
        let mut short = good.clone();
        short[4] = 3;
        assert!(listpack(&short).unwrap_err().1.contains("3 elements"));
    }

    #[test]
    fn intset_must_be_sorted_and_sized() {
        let mut b = vec![2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 5, 0];
        assert_eq!(intset(&b), Ok(2));
        b[10] = 0;
        assert!(intset(&b).is_err());
        assert!(intset(&b[..11]).is_err());
        // Every width, signed order: the first value not above the one before it is named by its offset.
        let set = |enc: usize, values: &[i64]| {
            let mut b = Vec::new();
            b.extend((enc as u32).to_le_bytes());
            b.extend((values.len() as u32).to_le_bytes());
            for v in values {
                b.extend(&v.to_le_bytes()[..enc]);
            }
            b
        };
        for enc in [2, 4, 8] {
            assert_eq!(intset(&set(enc, &[-300, -1, 0, 7, 300])), Ok(5), "{enc}");
            assert_eq!(intset(&set(enc, &[])), Ok(0), "{enc}");
            for (values, bad) in [
                (&[1, 2, 2, 3][..], 2),
                (&[-1, 5, 4][..], 2),
                (&[3, -3][..], 1),
            ] {
                let e = intset(&set(enc, values)).unwrap_err();
                assert_eq!(
                    e,
                    (8 + bad * enc, "intset is not strictly ascending".into()),
                    "{enc} {values:?}"
                );
            }
        }
    }

    #[test]
    fn truncated_values_never_panic() {
        let good = lp(&[b"hello", b"world"]);
        for n in 0..good.len() {
            let _ = listpack(&good[..n]);
            let _ = ziplist(&good[..n]);
            let _ = zipmap(&good[..n]);
            let _ = intset(&good[..n]);
        }
    }
}
