//! Contract fuzzing in the test suite: `scripts/fuzz-api` runs schemathesis against the
//! served OpenAPI document of a fresh server (its own database, a signed-up user) and
//! fails on any server error, undocumented status, content type or schema mismatch.
//! A small bounded number of examples per operation keeps it to seconds; run the script
//! by hand with `--examples N --seed S` to search further.
//!
//! It lives in this package because Cargo builds and names the `whisper` binary
//! (`CARGO_BIN_EXE_whisper`) only for this package's tests: the script fuzzes exactly the
//! binary of this build, never a stale one, and builds nothing itself.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::path::Path;
use std::process::Command;

/// Examples per operation here: enough for every operation and the stateful links, and
/// deterministic, so CI sees the same cases every run.
const EXAMPLES: &str = "10";

#[test]
fn every_operation_answers_as_the_openapi_document_says() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("bash")
        .arg(repo.join("scripts/fuzz-api"))
        .args(["--examples", EXAMPLES])
        .env("WHISPER_BIN", env!("CARGO_BIN_EXE_whisper"))
        .current_dir(&repo)
        .output()
        .expect("bash runs scripts/fuzz-api");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/fuzz-api failed ({}); if python3, its venv module, curl or psql is missing, \
         run scripts/ensure-services.\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    assert!(stdout.contains("No issues found"), "{stdout}");
}
