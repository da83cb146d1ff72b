//! Time-based one-time passwords (RFC 6238): HMAC-SHA1, 6 digits, 30-second steps, and one
//! step of tolerance either side.

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng as _;
use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use whisper_domain::ports::TotpAlgorithm;
use whisper_domain::totp::TOTP_SECRET_BYTES;
use whisper_domain::{Email, TotpSecret};

/// Seconds per time step.
const STEP_SECONDS: u64 = 30;
/// Digits per code.
const DIGITS: usize = 6;
/// The issuer shown by authenticator apps, in the label and the `issuer` parameter.
const ISSUER: &str = "Whisper";

/// Characters percent-encoded in the account label: everything but unreserved ones
/// (RFC 3986), exactly as totp-rs encodes its labels.
const LABEL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// RFC 6238 TOTP as authenticator apps expect it (SHA-1, 6 digits, 30 s).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rfc6238Totp;

impl Rfc6238Totp {
    /// The TOTP algorithm; it holds no key of its own (each user's secret is its key).
    pub fn new() -> Self {
        Self
    }

    /// totp-rs' generator for `secret`; `None` for secrets under 128 bits, which RFC 4226 forbids.
    fn generator(secret: &TotpSecret) -> Option<Totp> {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_step_duration(STEP_SECONDS)
            .with_skew(1)
            .with_secret(secret.as_bytes().to_vec())
            .build()
            .ok()
    }
}

impl TotpAlgorithm for Rfc6238Totp {
    fn generate_secret(&self) -> TotpSecret {
        let mut bytes = vec![0u8; TOTP_SECRET_BYTES];
        rand::rng().fill(bytes.as_mut_slice());
        TotpSecret::from_bytes(bytes)
    }

    fn matching_step(&self, secret: &TotpSecret, code: &str, now: DateTime<Utc>) -> Option<u64> {
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let totp = Self::generator(secret)?;
        let current = u64::try_from(now.timestamp()).ok()? / STEP_SECONDS;
        let candidates = [
            current.checked_sub(1),
            Some(current),
            current.checked_add(1),
        ];
        candidates.into_iter().flatten().find(|&step| {
            let expected = totp.generate(step * STEP_SECONDS).to_string();
            bool::from(expected.as_bytes().ct_eq(code.as_bytes()))
        })
    }

    fn provisioning_uri(&self, secret: &TotpSecret, account: &Email) -> String {
        // The same URI totp-rs' `Totp::to_url` builds for these settings (a test proves it),
        // assembled here because an `Email` can always be labelled, so no error path is needed.
        let account = utf8_percent_encode(account.as_str(), LABEL_ENCODE);
        let secret = Secret::from(secret.as_bytes()).to_base32();
        format!("otpauth://totp/{ISSUER}:{account}?secret={secret}&issuer={ISSUER}")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    /// The RFC 6238 appendix B SHA-1 secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(RFC_SECRET.to_vec())
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    /// RFC 6238 appendix B, SHA-1 rows: (time, 8-digit code). 6-digit codes are the last six.
    const RFC_VECTORS: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn codes_match_the_rfc_6238_sha1_test_vectors() {
        let totp = Rfc6238Totp::new();
        for (time, code8) in RFC_VECTORS {
            let code6 = &code8[2..];
            let step = time as u64 / 30;
            assert_eq!(
                totp.matching_step(&rfc_secret(), code6, at(time)),
                Some(step),
                "T={time}"
            );
        }
        assert_eq!(totp.matching_step(&rfc_secret(), "287082", at(59)), Some(1));
    }

    #[test]
    fn codes_of_the_previous_and_next_step_are_accepted_with_their_own_step() {
        let totp = Rfc6238Totp::new();
        let time = 1_111_111_109;
        let step = time as u64 / 30;
        // The code of `step`, checked from one step later (it is the previous step's code)
        // and one step earlier (it is the next step's code).
        assert_eq!(
            totp.matching_step(&rfc_secret(), "081804", at(time + 30)),
            Some(step)
        );
        assert_eq!(
            totp.matching_step(&rfc_secret(), "081804", at(time - 30)),
            Some(step)
        );
        assert_eq!(
            totp.matching_step(&rfc_secret(), "081804", at(time)),
            Some(step)
        );
    }

    #[test]
    fn codes_two_steps_away_are_refused() {
        let totp = Rfc6238Totp::new();
        let time = 1_111_111_109;
        assert_eq!(
            totp.matching_step(&rfc_secret(), "081804", at(time + 60)),
            None
        );
        assert_eq!(
            totp.matching_step(&rfc_secret(), "081804", at(time - 60)),
            None
        );
    }

    #[test]
    fn code_of_the_first_step_is_accepted_at_time_zero() {
        // Step 0 has no previous step; the window must not underflow.
        let totp = Rfc6238Totp::new();
        assert_eq!(totp.matching_step(&rfc_secret(), "287082", at(0)), Some(1));
    }

    #[test]
    fn codes_that_are_not_exactly_six_ascii_digits_are_refused() {
        let totp = Rfc6238Totp::new();
        for code in [
            "",
            "28708",
            "2870822",
            "94287082",
            "28708a",
            "+87082",
            " 87082",
            "287082 ",
            "-87082",
            "２８７０８２",
            "28 082",
        ] {
            assert_eq!(
                totp.matching_step(&rfc_secret(), code, at(59)),
                None,
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_wrong_code_is_refused() {
        let totp = Rfc6238Totp::new();
        assert_eq!(totp.matching_step(&rfc_secret(), "287083", at(59)), None);
    }

    #[test]
    fn times_before_the_epoch_match_nothing() {
        let totp = Rfc6238Totp::new();
        assert_eq!(totp.matching_step(&rfc_secret(), "287082", at(-1)), None);
    }

    #[test]
    fn secrets_too_short_for_the_rfc_match_nothing() {
        let totp = Rfc6238Totp::new();
        let short = TotpSecret::from_bytes(vec![1; 15]);
        // The code that secret would give, were it allowed.
        let code = Builder::new()
            .with_secret(short.as_bytes().to_vec())
            .build_noncompliant()
            .generate(59)
            .to_string();
        assert_eq!(totp.matching_step(&short, &code, at(59)), None);
    }

    #[test]
    fn generated_secrets_are_160_random_bits() {
        let totp = Rfc6238Totp::new();
        let a = totp.generate_secret();
        let b = totp.generate_secret();
        assert_eq!(a.as_bytes().len(), 20);
        assert_eq!(b.as_bytes().len(), 20);
        assert_ne!(a, b);
    }

    #[test]
    fn generated_secret_codes_round_trip() {
        let totp = Rfc6238Totp::new();
        let secret = totp.generate_secret();
        let now = at(1_700_000_000);
        let code = Rfc6238Totp::generator(&secret)
            .unwrap()
            .generate(1_700_000_000)
            .to_string();
        assert_eq!(
            totp.matching_step(&secret, &code, now),
            Some(1_700_000_000 / 30)
        );
    }

    #[test]
    fn provisioning_uri_has_the_documented_format() {
        let totp = Rfc6238Totp::new();
        let email = Email::parse("alice+chat@example.com").unwrap();
        let uri = totp.provisioning_uri(&rfc_secret(), &email);
        assert_eq!(
            uri,
            "otpauth://totp/Whisper:alice%2Bchat%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Whisper"
        );
    }

    #[test]
    fn provisioning_uri_secret_is_32_base32_chars_decoding_to_the_secret() {
        let totp = Rfc6238Totp::new();
        let secret = totp.generate_secret();
        let email = Email::parse("bob@example.org").unwrap();
        let uri = totp.provisioning_uri(&secret, &email);
        let encoded = uri
            .split_once("secret=")
            .and_then(|(_, rest)| rest.split('&').next())
            .unwrap();
        assert_eq!(encoded.len(), 32);
        assert!(
            encoded
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
        let decoded = Secret::try_from_base32(encoded).unwrap();
        assert_eq!(decoded.as_bytes(), secret.as_bytes());
    }

    #[test]
    fn provisioning_uri_matches_totp_rs_and_reads_back_with_our_settings() {
        let totp = Rfc6238Totp::new();
        let secret = totp.generate_secret();
        for address in [
            "bob@example.org",
            "o'hara+x@mail.example.co.uk",
            "a.b_c-d~e@x-y.example",
            "weird!#$%&*/=?^`{|}@example.com",
        ] {
            let email = Email::parse(address).unwrap();
            let ours = totp.provisioning_uri(&secret, &email);
            let theirs = Builder::new()
                .with_secret(secret.as_bytes().to_vec())
                .with_account_name(email.as_str())
                .with_issuer(Some(ISSUER))
                .build()
                .unwrap()
                .to_url()
                .unwrap();
            assert_eq!(ours, theirs);
            let parsed = Totp::from_url(&ours).unwrap();
            assert_eq!(parsed.account_name(), email.as_str());
            assert_eq!(parsed.issuer(), Some(ISSUER));
            assert_eq!(parsed.algorithm(), Algorithm::SHA1);
            assert_eq!(parsed.digits(), 6);
            assert_eq!(parsed.step(), 30);
            assert_eq!(parsed.secret().as_bytes(), secret.as_bytes());
        }
    }
}
