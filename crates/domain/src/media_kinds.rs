//! Recognising media by its bytes (magic numbers), so the declared kind is checked, not
//! trusted, and the content type served later is the one the bytes really have.

use crate::message::MediaKind;

/// The content type of `bytes` if they really are of `kind`.
pub fn sniff(kind: MediaKind, bytes: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    let riff = |form: &[u8]| at(0, b"RIFF") && at(8, form);
    let ftyp_brand = || at(4, b"ftyp").then(|| bytes.get(8..12)).flatten();
    let is_matroska = at(0, &[0x1A, 0x45, 0xDF, 0xA3]);
    match kind {
        MediaKind::Image => {
            if at(0, b"\x89PNG\r\n\x1a\n") {
                Some("image/png")
            } else if at(0, &[0xFF, 0xD8, 0xFF]) {
                Some("image/jpeg")
            } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
                Some("image/gif")
            } else if riff(b"WEBP") {
                Some("image/webp")
            } else {
                None
            }
        }
        MediaKind::Audio => {
            if riff(b"WAVE") {
                Some("audio/wav")
            } else if at(0, b"ID3") || is_mpeg_audio_frame(bytes) {
                Some("audio/mpeg")
            } else if at(0, b"OggS") {
                Some("audio/ogg")
            } else if at(0, b"fLaC") {
                Some("audio/flac")
            } else if is_matroska {
                Some("audio/webm")
            } else if matches!(ftyp_brand(), Some(b"M4A " | b"M4B ")) {
                Some("audio/mp4")
            } else {
                None
            }
        }
        MediaKind::Video => {
            if is_matroska {
                Some("video/webm")
            } else if matches!(ftyp_brand(), Some(b"qt  ")) {
                Some("video/quicktime")
            } else if ftyp_brand().is_some_and(|brand| !matches!(brand, b"M4A " | b"M4B ")) {
                Some("video/mp4")
            } else {
                None
            }
        }
    }
}

/// An MPEG audio frame header: 11 sync bits, then a valid layer.
fn is_mpeg_audio_frame(bytes: &[u8]) -> bool {
    matches!(bytes, [0xFF, second, ..] if second & 0xE0 == 0xE0 && second & 0x06 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_signatures() {
        assert_eq!(
            sniff(MediaKind::Image, b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(
            sniff(MediaKind::Image, &[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(MediaKind::Image, b"GIF89a..."), Some("image/gif"));
        assert_eq!(
            sniff(MediaKind::Image, b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff(MediaKind::Image, b"hello world"), None);
        assert_eq!(sniff(MediaKind::Image, b""), None);
    }

    #[test]
    fn audio_and_video_are_told_apart() {
        assert_eq!(
            sniff(MediaKind::Audio, b"RIFF\0\0\0\0WAVEfmt "),
            Some("audio/wav")
        );
        assert_eq!(sniff(MediaKind::Audio, b"ID3\x04\0"), Some("audio/mpeg"));
        assert_eq!(
            sniff(MediaKind::Audio, &[0xFF, 0xFB, 0x90, 0x00]),
            Some("audio/mpeg")
        );
        assert_eq!(sniff(MediaKind::Audio, b"OggS\0\x02"), Some("audio/ogg"));
        assert_eq!(
            sniff(MediaKind::Audio, b"\0\0\0\x20ftypM4A \0"),
            Some("audio/mp4")
        );
        assert_eq!(
            sniff(MediaKind::Video, b"\0\0\0\x20ftypisom\0"),
            Some("video/mp4")
        );
        assert_eq!(
            sniff(MediaKind::Video, b"\0\0\0\x14ftypqt  "),
            Some("video/quicktime")
        );
        assert_eq!(
            sniff(MediaKind::Video, &[0x1A, 0x45, 0xDF, 0xA3, 0x01]),
            Some("video/webm")
        );
        assert_eq!(sniff(MediaKind::Video, b"\0\0\0\x20ftypM4A \0"), None);
        assert_eq!(sniff(MediaKind::Video, b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(sniff(MediaKind::Audio, b"\x89PNG\r\n\x1a\n"), None);
    }
}
