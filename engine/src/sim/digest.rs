//! Determinism, checked: the same scenario and script give the same run,
//! byte for byte, wherever the engine runs.
//!
//! Linux is not deterministic (initial sequence numbers, IP IDs, timer
//! slack); the engine is by construction: no clock, no randomness, ordered
//! maps. We prove it the only way that counts, by comparing: [`run`] hashes
//! a script's transcript and its whole trace as JSON (FNV-1a, 64 bits), and
//! the browser test compares the wasm build's digest with the native one for
//! every built-in scenario.

use crate::shell::{run_script, Lab, ScriptError};
use crate::sim::scenario::{self, UnknownScenario};
use std::fmt;

/// What a run produced, summarised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    /// FNV-1a of the transcript, a NUL, then the trace as JSON.
    pub fnv: u64,
    pub events: usize,
    pub bytes: usize,
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:016x} {} events {} bytes",
            self.fnv, self.events, self.bytes
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Scenario(#[from] UnknownScenario),
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("serialising the trace: {0}")]
    Json(#[from] serde_json::Error),
}

/// 64-bit FNV-1a.
fn fnv1a(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// Run `script` from `scenario` and digest what it produced.
pub fn run(scenario_name: &str, script: &str) -> Result<Digest, DigestError> {
    let mut lab = Lab::new(scenario::load(scenario_name)?);
    let transcript = run_script(&mut lab, script)?;
    let trace = serde_json::to_vec(&lab.world.trace)?;
    let h = fnv1a(FNV_OFFSET, transcript.as_bytes());
    let h = fnv1a(h, &[0]);
    Ok(Digest {
        fnv: fnv1a(h, &trace),
        events: lab.world.trace.len(),
        bytes: transcript.len() + 1 + trace.len(),
    })
}

/// The script the determinism check runs on every scenario: a bit of
/// everything the tutorial does (ARP, ICMP, HTTP through the director, the
/// connection table, time passing).
pub const CHECK_SCRIPT: &str = "\
client# arping -c 1 -I eth0 192.168.150.100
client# ping -c 2 192.168.150.100
client# curl -s -m 3 http://192.168.150.100/
client# curl -s -m 3 http://192.168.150.100/
node01# ipvsadm -lnc
node02# ip route get 192.168.150.1
client# sleep 2
client# curl -s -m 3 http://192.168.150.12/
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn same_run_same_digest_and_a_change_shows() {
        let a = run("seed", CHECK_SCRIPT).expect("seed");
        assert_eq!(a, run("seed", CHECK_SCRIPT).expect("seed"));
        assert!(a.events > 50, "{a}");
        let b = run("seed", &format!("{CHECK_SCRIPT}client# sleep 1\n")).expect("seed");
        assert_ne!(a.fnv, b.fnv, "time passing changes the trace's clock");
    }
}
