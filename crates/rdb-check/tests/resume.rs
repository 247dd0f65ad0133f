//! Resumable checks through the public API: whatever the offsets a check is cut at, and however many times, the
//! pieces end with the report and SHA-256 of one pass (a property test over cut offsets, on every fixture).

use std::path::Path;

use proptest::prelude::*;
use rdb_check::resume::{PauseAt, Progress};
use rdb_check::{Checkpoint, check_and_hash, check_and_hash_from};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rdb"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Checks `bytes` cut at each of `cuts` (fractions of its length, in any order), every checkpoint through JSON.
fn in_pieces(bytes: &[u8], cuts: &[f64]) -> Result<(rdb_check::Report, String), String> {
    let mut offsets: Vec<u64> = cuts
        .iter()
        .map(|f| (f * bytes.len() as f64) as u64)
        .collect();
    offsets.sort_unstable();
    let mut offsets = offsets.into_iter();
    let mut from: Option<Checkpoint> = None;
    loop {
        let start = from.as_ref().map_or(0, Checkpoint::read_from) as usize;
        let mut pause = PauseAt(offsets.next().unwrap_or(u64::MAX));
        match check_and_hash_from(&bytes[start..], from.as_ref(), &mut pause) {
            Ok(Progress::Finished(report, sha)) => return Ok((*report, sha)),
            Ok(Progress::Paused(c)) => {
                let json = serde_json::to_string(&*c).unwrap();
                from = Some(serde_json::from_str(&json).unwrap());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn any_cuts_give_the_one_pass_result(
        which in 0usize..64,
        cuts in proptest::collection::vec(0.0f64..1.0, 0..12),
    ) {
        let all = fixtures();
        let (name, bytes) = &all[which % all.len()];
        let once = check_and_hash(&bytes[..]).map_err(|e| e.to_string());
        prop_assert_eq!(in_pieces(bytes, &cuts), once, "{}", name);
    }
}
