//! QR codes as PNG images, for authenticator apps to scan.

use qrcode::{Color, EcLevel, QrCode};
use whisper_domain::DomainError;

/// Pixels per QR module: large enough for a phone camera across a screen.
const MODULE_PIXELS: usize = 8;
/// The blank margin the QR specification asks for, in modules.
const QUIET_ZONE: usize = 4;

/// A black-on-white PNG of `text` as a QR code.
pub fn qr_png(text: &str) -> Result<Vec<u8>, DomainError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| DomainError::internal(format!("QR encoding: {e}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PIXELS;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (row, column) = (index / modules + QUIET_ZONE, index % modules + QUIET_ZONE);
        for y in row * MODULE_PIXELS..(row + 1) * MODULE_PIXELS {
            pixels[y * side + column * MODULE_PIXELS..y * side + (column + 1) * MODULE_PIXELS]
                .fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|_| DomainError::internal("QR code too large"))?;
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let failed = |e: png::EncodingError| DomainError::internal(format!("PNG encoding: {e}"));
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_decodes_back_to_the_text() {
        let uri = "otpauth://totp/Whisper:ada%40example.org?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Whisper";
        let png_bytes = qr_png(uri).unwrap();

        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        let (width, height) = (info.width as usize, info.height as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            pixels[y * width + x]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, uri);
    }
}
