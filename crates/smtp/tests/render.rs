#![allow(clippy::unwrap_used, clippy::expect_used)]

use whisper_domain::{Email, OutgoingEmail, Username};
use whisper_smtp::{EmailRenderer, RenderedEmail};

const LINK: &str = "http://127.0.0.1:8000/api/v1/user/verify-email/complete/abc123/";

fn verify_email() -> OutgoingEmail {
    OutgoingEmail::VerifyEmail {
        to: Email::parse("ada@example.org").unwrap(),
        username: Username::parse("ada_lovelace").unwrap(),
        link: LINK.into(),
        expires_in_minutes: 10,
    }
}

fn rendered_verify_email() -> RenderedEmail {
    EmailRenderer::new()
        .unwrap()
        .render(&verify_email())
        .unwrap()
}

#[test]
fn the_verification_email_has_a_subject_and_both_parts_carry_link_name_and_expiry() {
    let rendered = rendered_verify_email();
    assert_eq!(rendered.subject, "Verify your email for Whisper");
    for part in [&rendered.text, &rendered.html] {
        assert!(part.contains("ada_lovelace"), "{part}");
        assert!(part.contains(LINK), "{part}");
        assert!(part.contains("10 minutes"), "{part}");
        assert!(part.contains("didn't sign up"), "{part}");
    }
}

#[test]
fn the_html_part_links_the_button_to_the_verification_url() {
    let rendered = rendered_verify_email();
    assert!(
        rendered.html.contains(&format!("href=\"{LINK}\"")),
        "{}",
        rendered.html
    );
    assert!(rendered.html.contains("Verify my email"));
}

#[test]
fn the_text_part_is_plain_text() {
    let rendered = rendered_verify_email();
    assert!(!rendered.text.contains('<'), "{}", rendered.text);
    assert!(rendered.text.lines().any(|line| line.trim() == LINK));
}

#[test]
fn the_html_part_escapes_what_it_inserts() {
    let renderer = EmailRenderer::new().unwrap();
    let rendered = renderer
        .render_verify_email(
            "<script>alert(1)</script>",
            "http://x/verify?a=1&b=\"2\"",
            5,
        )
        .unwrap();
    assert!(!rendered.html.contains("<script>"), "{}", rendered.html);
    assert!(
        rendered
            .html
            .contains("Hi &lt;script&gt;alert(1)&lt;/script&gt;,"),
        "{}",
        rendered.html
    );
    assert!(
        rendered
            .html
            .contains("href=\"http://x/verify?a=1&amp;b=&quot;2&quot;\""),
        "{}",
        rendered.html
    );
    // The text part is not HTML: nothing is escaped there.
    assert!(
        rendered.text.contains("<script>alert(1)</script>"),
        "{}",
        rendered.text
    );
    assert!(
        rendered.text.contains("http://x/verify?a=1&b=\"2\""),
        "{}",
        rendered.text
    );
}

#[test]
fn expiry_is_spelled_out_in_natural_units() {
    let renderer = EmailRenderer::new().unwrap();
    let hour = renderer.render_verify_email("ada", LINK, 60).unwrap();
    assert!(hour.text.contains("1 hour"), "{}", hour.text);
    let minute = renderer.render_verify_email("ada", LINK, 1).unwrap();
    assert!(minute.html.contains("1 minute."), "{}", minute.html);
}
