//! The elements of the compact encodings, one by one, for the key walk's digests (`keys`). Each function runs over a
//! value its checker in `encodings` has already accepted, so it only decodes; it still never indexes past the value
//! (a short read ends the walk early instead of panicking).
//!
//! Sources: Redis `ziplist.c` (`zipEntrySafe`, the `ZIP_STR_*` / `ZIP_INT_*` encodings), `listpack.c` (`lpGet`: the
//! 7-bit, 13-bit, 16/24/32/64-bit integer and 6/12/32-bit string encodings), `intset.c`, `zipmap.c`.

/// One element of a compact encoding: its bytes, or an integer (listpacks, ziplists and intsets store numbers as
/// integers; Redis hands them out as their decimal text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A string element.
    Bytes(&'a [u8]),
    /// An integer element.
    Int(i64),
}

fn le(b: &[u8]) -> i64 {
    let mut x = [0u8; 8];
    x[..b.len()].copy_from_slice(b);
    let v = i64::from_le_bytes(x);
    // Sign-extend from the width read.
    let shift = 64 - 8 * b.len() as u32;
    if shift == 64 {
        0
    } else {
        (v << shift) >> shift
    }
}

/// Every element of a listpack (`listpack.c` `lpGet`), in order.
pub fn listpack<'a>(b: &'a [u8], mut each: impl FnMut(Entry<'a>)) {
    let mut at = 6;
    while let Some(&e) = b.get(at) {
        if e == 0xFF {
            return;
        }
        let (size, entry) = if e & 0x80 == 0 {
            (1, Some(Entry::Int(i64::from(e))))
        } else if e & 0xC0 == 0x80 {
            let n = usize::from(e & 0x3f);
            (1 + n, b.get(at + 1..at + 1 + n).map(Entry::Bytes))
        } else if e & 0xE0 == 0xC0 {
            let v = b.get(at + 1).map(|&lo| {
                let raw = (i64::from(e & 0x1f) << 8) | i64::from(lo);
                // 13-bit two's complement.
                if raw >= 1 << 12 { raw - (1 << 13) } else { raw }
            });
            (2, v.map(Entry::Int))
        } else if e & 0xF0 == 0xE0 {
            let n = b
                .get(at + 1)
                .map_or(0, |&lo| (usize::from(e & 0x0f) << 8) | usize::from(lo));
            (2 + n, b.get(at + 2..at + 2 + n).map(Entry::Bytes))
        } else {
            match e {
                0xF0 => {
                    let n = b
                        .get(at + 1..at + 5)
                        .map_or(0, |l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize);
                    (5 + n, b.get(at + 5..at + 5 + n).map(Entry::Bytes))
                }
                0xF1..=0xF4 => {
                    let w = match e {
                        0xF1 => 2,
                        0xF2 => 3,
                        0xF3 => 4,
                        _ => 8,
                    };
                    (1 + w, b.get(at + 1..at + 1 + w).map(|x| Entry::Int(le(x))))
                }
                _ => return,
            }
        };
        let Some(entry) = entry else { return };
        each(entry);
        at += size + crate::encodings::backlen_size(size);
    }
}

/// Every element of a ziplist (`ziplist.c`), in order.
pub fn ziplist<'a>(b: &'a [u8], mut each: impl FnMut(Entry<'a>)) {
    let mut at = 10;
    while let Some(&p) = b.get(at) {
        if p == 0xFF {
            return;
        }
        at += if p < 254 { 1 } else { 5 };
        let Some(&e) = b.get(at) else { return };
        let (size, entry) = match e >> 6 {
            0 => {
                let n = usize::from(e & 0x3f);
                (1 + n, b.get(at + 1..at + 1 + n).map(Entry::Bytes))
            }
            1 => {
                let n = b
                    .get(at + 1)
                    .map_or(0, |&lo| (usize::from(e & 0x3f) << 8) | usize::from(lo));
                (2 + n, b.get(at + 2..at + 2 + n).map(Entry::Bytes))
            }
            2 => {
                let n = b
                    .get(at + 1..at + 5)
                    .map_or(0, |l| u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize);
                (5 + n, b.get(at + 5..at + 5 + n).map(Entry::Bytes))
            }
            _ => {
                let w = match e {
                    0xC0 => 2,
                    0xD0 => 4,
                    0xE0 => 8,
                    0xF0 => 3,
                    0xFE => 1,
                    _ => 0,
                };
                if w == 0 {
                    // 0xF1–0xFD: an immediate 0–12 (the low four bits minus one).
                    (1, Some(Entry::Int(i64::from(e & 0x0f) - 1)))
                } else {
                    (1 + w, b.get(at + 1..at + 1 + w).map(|x| Entry::Int(le(x))))
                }
            }
        };
        let Some(entry) = entry else { return };
        each(entry);
        at += size;
    }
}

/// Every member of an intset (`intset.c`), ascending.
pub fn intset(b: &[u8], mut each: impl FnMut(Entry<'_>)) {
    let Some(enc) = b
        .get(..4)
        .map(|e| u32::from_le_bytes([e[0], e[1], e[2], e[3]]) as usize)
    else {
        return;
    };
    if ![2, 4, 8].contains(&enc) {
        return;
    }
    for c in b.get(8..).unwrap_or_default().chunks_exact(enc) {
        each(Entry::Int(le(c)));
    }
}

/// Every key and value of a zipmap (`zipmap.c`), alternately.
pub fn zipmap<'a>(b: &'a [u8], mut each: impl FnMut(Entry<'a>)) {
    let mut at = 1;
    let len = |at: &mut usize| -> Option<usize> {
        match *b.get(*at)? {
            0xFF => None,
            254 => {
                let l = b.get(*at + 1..*at + 5)?;
                *at += 5;
                Some(u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize)
            }
            n => {
                *at += 1;
                Some(usize::from(n))
            }
        }
    };
    while let Some(klen) = len(&mut at) {
        let Some(key) = b.get(at..at + klen) else {
            return;
        };
        at += klen;
        let Some(vlen) = len(&mut at) else { return };
        let free = b.get(at).map_or(0, |&f| usize::from(f));
        let Some(value) = b.get(at + 1..at + 1 + vlen) else {
            return;
        };
        each(Entry::Bytes(key));
        each(Entry::Bytes(value));
        at += 1 + vlen + free;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: impl FnOnce(&mut dyn FnMut(Entry<'_>))) -> Vec<String> {
        let mut out = Vec::new();
        f(&mut |e| {
            out.push(match e {
                Entry::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                Entry::Int(i) => format!("#{i}"),
            });
        });
        out
    }

    #[test]
    fn listpack_integers_of_every_width_and_strings_decode() {
        // 7-bit 5; 13-bit -2 (0x1FFE); 16-bit -300; 24-bit 70000; 32-bit -1; 64-bit 2^40; "ab".
        let mut body: Vec<u8> = Vec::new();
        let mut entry = |bytes: &[u8]| {
            body.extend_from_slice(bytes);
            body.push(bytes.len() as u8);
        };
        entry(&[5]);
        entry(&[0xC0 | 0x1F, 0xFE]);
        let mut e16 = vec![0xF1];
        e16.extend((-300i16).to_le_bytes());
        entry(&e16);
        let mut e24 = vec![0xF2];
        e24.extend(&70000i32.to_le_bytes()[..3]);
        entry(&e24);
        let mut e32 = vec![0xF3];
        e32.extend((-1i32).to_le_bytes());
        entry(&e32);
        let mut e64 = vec![0xF4];
        e64.extend((1i64 << 40).to_le_bytes());
        entry(&e64);
        entry(&[0x82, b'a', b'b']);
        let mut lp = ((6 + body.len() + 1) as u32).to_le_bytes().to_vec();
        lp.extend(7u16.to_le_bytes());
        lp.extend(body);
        lp.push(0xFF);
        assert_eq!(crate::encodings::listpack(&lp), Ok(7));
        let got = collect(|f| listpack(&lp, f));
        assert_eq!(
            got,
            [
                "#5",
                "#-2",
                "#-300",
                "#70000",
                "#-1",
                "#1099511627776",
                "ab"
            ]
        );
    }

    #[test]
    fn ziplist_immediates_integers_and_strings_decode() {
        // Entries: immediate 12 (0xFD), int8 -5, int24 -70000, "xy".
        let entries: [&[u8]; 4] = [
            &[0xFD],
            &[0xFE, (-5i8) as u8],
            &[0xF0, 0x90, 0xEE, 0xFE],
            &[0x02, b'x', b'y'],
        ];
        let mut body = Vec::new();
        let mut prev = 0u8;
        let mut last = 10;
        for e in entries {
            last = 10 + body.len();
            body.push(prev);
            body.extend_from_slice(e);
            prev = (1 + e.len()) as u8;
        }
        let total = 10 + body.len() + 1;
        let mut zl = (total as u32).to_le_bytes().to_vec();
        zl.extend((last as u32).to_le_bytes());
        zl.extend(4u16.to_le_bytes());
        zl.extend(body);
        zl.push(0xFF);
        assert_eq!(crate::encodings::ziplist(&zl), Ok(4));
        assert_eq!(
            collect(|f| ziplist(&zl, f)),
            ["#12", "#-5", "#-70000", "xy"]
        );
    }

    #[test]
    fn intset_and_zipmap_decode_and_truncation_never_panics() {
        let mut is = vec![4, 0, 0, 0, 2, 0, 0, 0];
        is.extend((-7i32).to_le_bytes());
        is.extend(9i32.to_le_bytes());
        assert_eq!(collect(|f| intset(&is, f)), ["#-7", "#9"]);
        let zm = [1u8, 1, b'k', 2, 0, b'v', b'w', 0xFF];
        assert_eq!(crate::encodings::zipmap(&zm), Ok(1));
        assert_eq!(collect(|f| zipmap(&zm, f)), ["k", "vw"]);
        for n in 0..is.len() {
            let _ = collect(|f| intset(&is[..n], f));
            let _ = collect(|f| listpack(&is[..n], f));
            let _ = collect(|f| ziplist(&is[..n], f));
            let _ = collect(|f| zipmap(&zm[..n.min(zm.len())], f));
        }
    }
}
