//! Session tokens as JWTs signed with HS256.
//!
//! Claims: `sub`, `exp`, `iat`, `jti`, `token_type` (`"access"` / `"refresh"`) and `fam` (the
//! refresh family, when there is one). `iat` and `exp` are whole unix seconds, so a decoded
//! token's times are its encoded times truncated to the second.
//!
//! Decoding checks the signature, the algorithm (HS256 only: `none` and every other
//! algorithm are refused) and the shape of the claims, but not expiry: the domain judges
//! expiry against its own clock.

use chrono::DateTime;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use whisper_domain::ports::TokenCodec;
use whisper_domain::{
    DomainError, DomainResult, TokenClaims, TokenFamilyId, TokenId, TokenKind, UserId,
};

use crate::keys::{JWT_LABEL, MasterKey};

/// The claims as they travel.
#[derive(Debug, Serialize, Deserialize)]
struct WireClaims {
    sub: String,
    exp: i64,
    iat: i64,
    jti: String,
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fam: Option<String>,
}

impl WireClaims {
    fn from_domain(claims: &TokenClaims) -> Self {
        Self {
            sub: claims.subject.as_str().to_owned(),
            exp: claims.expires_at.timestamp(),
            iat: claims.issued_at.timestamp(),
            jti: claims.jti.as_str().to_owned(),
            token_type: claims.kind.as_str().to_owned(),
            fam: claims.family.as_ref().map(|id| id.as_str().to_owned()),
        }
    }

    fn into_domain(self) -> Option<TokenClaims> {
        let kind = match self.token_type.as_str() {
            "access" => TokenKind::Access,
            "refresh" => TokenKind::Refresh,
            _ => return None,
        };
        let family = match self.fam {
            Some(raw) => Some(TokenFamilyId::parse(&raw).ok()?),
            None => None,
        };
        Some(TokenClaims {
            subject: UserId::parse(&self.sub).ok()?,
            jti: TokenId::parse(&self.jti).ok()?,
            kind,
            family,
            issued_at: DateTime::from_timestamp(self.iat, 0)?,
            expires_at: DateTime::from_timestamp(self.exp, 0)?,
        })
    }
}

/// Signs and reads session JWTs with an HS256 key derived from the master key.
#[derive(Clone)]
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtCodec {
    /// A codec keyed by `master`'s "whisper/jwt" subkey.
    pub fn new(master: &MasterKey) -> Self {
        let key: [u8; 64] = master.derive(JWT_LABEL);
        // HS256 only: a token whose header names any other algorithm (or `none`) is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is the domain's decision, made with its clock; `exp` must still be present.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
        }
    }
}

impl TokenCodec for JwtCodec {
    fn encode(&self, claims: &TokenClaims) -> DomainResult<String> {
        // jsonwebtoken reads `exp` as unsigned seconds, so a token expiring before 1970 would
        // be signed yet never read back: a bug of the caller, refused here where it shows.
        if claims.expires_at.timestamp() < 0 {
            return Err(DomainError::internal(
                "a session token cannot expire before 1970",
            ));
        }
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &WireClaims::from_domain(claims),
            &self.encoding,
        )
        .map_err(|err| DomainError::internal(format!("signing a session token failed: {err}")))
    }

    fn decode(&self, token: &str) -> Option<TokenClaims> {
        jsonwebtoken::decode::<WireClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims
            .into_domain()
    }
}

impl std::fmt::Debug for JwtCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtCodec(HS256, ..)")
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::{Duration, TimeZone as _, Utc};
    use serde_json::json;

    use super::*;
    use crate::test_keys::master;

    fn claims(kind: TokenKind, family: Option<TokenFamilyId>) -> TokenClaims {
        let issued_at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        TokenClaims {
            subject: UserId::generate(),
            jti: TokenId::generate(),
            kind,
            family,
            issued_at,
            expires_at: issued_at + Duration::minutes(15),
        }
    }

    fn codec(byte: u8) -> JwtCodec {
        JwtCodec::new(&master(byte))
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    /// A token with the given header and payload, signed HS256 with `key` when given.
    fn forged(header: serde_json::Value, payload: serde_json::Value, key: Option<&[u8]>) -> String {
        use hmac::{Hmac, KeyInit, Mac};
        let signing_input = format!("{}.{}", b64(&header), b64(&payload));
        let signature = match key {
            Some(key) => {
                let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
                mac.update(signing_input.as_bytes());
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            }
            None => String::new(),
        };
        format!("{signing_input}.{signature}")
    }

    fn payload_of(claims: &TokenClaims) -> serde_json::Value {
        serde_json::to_value(WireClaims::from_domain(claims)).unwrap()
    }

    fn jwt_key(byte: u8) -> [u8; 64] {
        master(byte).derive(JWT_LABEL)
    }

    #[test]
    fn access_token_round_trips_all_claims() {
        let jwt = codec(1);
        let original = claims(TokenKind::Access, None);
        let token = jwt.encode(&original).unwrap();
        assert_eq!(jwt.decode(&token), Some(original));
    }

    #[test]
    fn refresh_token_round_trips_its_family() {
        let jwt = codec(1);
        let original = claims(TokenKind::Refresh, Some(TokenFamilyId::generate()));
        let token = jwt.encode(&original).unwrap();
        assert_eq!(jwt.decode(&token), Some(original));
    }

    #[test]
    fn decoded_times_are_whole_seconds() {
        let jwt = codec(1);
        let mut original = claims(TokenKind::Access, None);
        original.issued_at += Duration::milliseconds(750);
        original.expires_at += Duration::milliseconds(250);
        let decoded = jwt.decode(&jwt.encode(&original).unwrap()).unwrap();
        assert_eq!(
            decoded.issued_at.timestamp(),
            original.issued_at.timestamp()
        );
        assert_eq!(
            decoded.expires_at.timestamp(),
            original.expires_at.timestamp()
        );
        assert_eq!(decoded.issued_at.timestamp_subsec_nanos(), 0);
        assert_eq!(decoded.expires_at.timestamp_subsec_nanos(), 0);
    }

    #[test]
    fn token_carries_the_documented_claims_and_header() {
        let jwt = codec(1);
        let original = claims(TokenKind::Refresh, Some(TokenFamilyId::generate()));
        let token = jwt.encode(&original).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(header["alg"], "HS256");
        assert_eq!(
            payload,
            json!({
                "sub": original.subject.as_str(),
                "exp": 1_700_000_900,
                "iat": 1_700_000_000,
                "jti": original.jti.as_str(),
                "token_type": "refresh",
                "fam": original.family.as_ref().unwrap().as_str(),
            })
        );
    }

    #[test]
    fn access_token_without_family_has_no_fam_claim() {
        let jwt = codec(1);
        let token = jwt.encode(&claims(TokenKind::Access, None)).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert!(payload.get("fam").is_none());
    }

    #[test]
    fn token_signed_with_another_key_is_refused() {
        let token = codec(1).encode(&claims(TokenKind::Access, None)).unwrap();
        assert_eq!(codec(2).decode(&token), None);
    }

    #[test]
    fn expired_token_still_decodes() {
        let jwt = codec(1);
        let mut original = claims(TokenKind::Access, None);
        original.issued_at = Utc.timestamp_opt(1_000_000_000, 0).unwrap();
        original.expires_at = original.issued_at + Duration::minutes(15);
        assert!(original.expires_at < Utc::now());
        let token = jwt.encode(&original).unwrap();
        assert_eq!(jwt.decode(&token), Some(original));
    }

    #[test]
    fn token_with_a_changed_payload_is_refused() {
        let jwt = codec(1);
        let token = jwt.encode(&claims(TokenKind::Access, None)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let mut payload = payload_of(&claims(TokenKind::Access, None));
        payload["token_type"] = json!("refresh");
        let tampered = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
        assert_eq!(jwt.decode(&tampered), None);
    }

    #[test]
    fn unsigned_alg_none_token_is_refused() {
        let jwt = codec(1);
        let payload = payload_of(&claims(TokenKind::Access, None));
        for alg in ["none", "None", "NONE"] {
            let token = forged(json!({"alg": alg, "typ": "JWT"}), payload.clone(), None);
            assert_eq!(jwt.decode(&token), None, "{alg}");
        }
    }

    #[test]
    fn hs384_token_is_refused_even_with_the_right_key() {
        let jwt = codec(1);
        let payload = payload_of(&claims(TokenKind::Access, None));
        let key = jwt_key(1);
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS384),
            &payload,
            &EncodingKey::from_secret(&key),
        )
        .unwrap();
        assert_eq!(jwt.decode(&token), None);
        // The same claims signed HS256 with that key are accepted: only the algorithm differs.
        let genuine = forged(json!({"alg": "HS256", "typ": "JWT"}), payload, Some(&key));
        assert!(jwt.decode(&genuine).is_some());
    }

    #[test]
    fn hs256_token_with_a_header_claiming_another_algorithm_is_refused() {
        let jwt = codec(1);
        let payload = payload_of(&claims(TokenKind::Access, None));
        let token = forged(
            json!({"alg": "HS512", "typ": "JWT"}),
            payload,
            Some(&jwt_key(1)),
        );
        assert_eq!(jwt.decode(&token), None);
    }

    #[test]
    fn unknown_token_type_is_refused() {
        let jwt = codec(1);
        let mut payload = payload_of(&claims(TokenKind::Access, None));
        payload["token_type"] = json!("admin");
        let token = forged(json!({"alg": "HS256"}), payload, Some(&jwt_key(1)));
        assert_eq!(jwt.decode(&token), None);
    }

    #[test]
    fn ids_that_do_not_parse_are_refused() {
        let jwt = codec(1);
        for (claim, value) in [
            ("sub", json!("short")),
            ("jti", json!("not a valid token id!")),
            ("fam", json!("x")),
            ("sub", json!(42)),
        ] {
            let mut payload =
                payload_of(&claims(TokenKind::Refresh, Some(TokenFamilyId::generate())));
            payload[claim] = value;
            let token = forged(json!({"alg": "HS256"}), payload, Some(&jwt_key(1)));
            assert_eq!(jwt.decode(&token), None, "{claim}");
        }
    }

    #[test]
    fn token_missing_a_claim_is_refused() {
        let jwt = codec(1);
        for claim in ["sub", "exp", "iat", "jti", "token_type"] {
            let mut payload = payload_of(&claims(TokenKind::Access, None));
            payload.as_object_mut().unwrap().remove(claim);
            let token = forged(json!({"alg": "HS256"}), payload, Some(&jwt_key(1)));
            assert_eq!(jwt.decode(&token), None, "{claim}");
        }
    }

    /// Found by the `token_props` property test: such a token was signed, then refused.
    #[test]
    fn a_token_expiring_before_1970_is_refused_at_signing_not_after() {
        let jwt = codec(1);
        let mut original = claims(TokenKind::Access, None);
        original.issued_at = Utc.timestamp_opt(0, 0).unwrap();
        original.expires_at = Utc.timestamp_opt(-1, 0).unwrap();
        assert!(matches!(
            jwt.encode(&original),
            Err(DomainError::Internal(_))
        ));
        original.expires_at = Utc.timestamp_opt(0, 0).unwrap();
        let token = jwt.encode(&original).unwrap();
        assert_eq!(jwt.decode(&token), Some(original));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let jwt = codec(1);
        for token in ["", "abc", "a.b", "a.b.c", "a.b.c.d", "..", "Bearer x.y.z"] {
            assert_eq!(jwt.decode(token), None, "{token:?}");
        }
    }
}
