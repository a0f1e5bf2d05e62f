//! Photos uploaded for the report (a typical case's pictures): checked and prepared before
//! they are stored. Only real JPEG and PNG images are accepted, within a file size and a
//! pixel count checked from the header before anything is decoded; the camera's EXIF
//! orientation is applied, the picture is scaled down to what a printed page needs, and it
//! is encoded again as JPEG, which leaves every piece of metadata (GPS position, camera,
//! time) behind.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

/// How large an upload may be, and how large the prepared picture is.
#[derive(Debug, Clone, Copy)]
pub struct PhotoLimits {
    /// The largest file accepted.
    pub max_bytes: usize,
    /// The widest or tallest picture accepted, in pixels.
    pub max_side: u32,
    /// The most pixels accepted (width × height).
    pub max_pixels: u64,
    /// The longest side of the prepared picture: 1,600 px is 270 dpi across a page's text.
    pub output_side: u32,
}

impl Default for PhotoLimits {
    fn default() -> PhotoLimits {
        PhotoLimits {
            max_bytes: 10 * 1024 * 1024,
            max_side: 12_000,
            max_pixels: 50_000_000,
            output_side: 1_600,
        }
    }
}

/// A prepared photo: JPEG bytes without metadata, and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("图片文件过大（{size} 字节）：请上传不超过 {limit} MB 的 JPEG 或 PNG 照片")]
    TooLarge { size: usize, limit: usize },
    #[error("文件不是图片：请上传 JPEG 或 PNG 格式的照片")]
    NotAnImage,
    #[error("不支持 {0} 格式的图片：请上传 JPEG 或 PNG 格式的照片")]
    Unsupported(String),
    #[error(
        "图片尺寸过大（{width}×{height} 像素）：宽和高都不得超过 {max_side} 像素，总像素不得超过 {max_megapixels} 百万"
    )]
    TooManyPixels {
        width: u32,
        height: u32,
        max_side: u32,
        max_megapixels: u64,
    },
    #[error("图片文件已损坏，无法读取：{0}")]
    Broken(String),
    #[error("图片无法转换：{0}")]
    Encode(String),
}

/// Checks and prepares an uploaded photo.
pub fn prepare(bytes: &[u8], limits: &PhotoLimits) -> Result<Photo, PhotoError> {
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes / 1024 / 1024,
        });
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png) => {}
        Some(other) => return Err(PhotoError::Unsupported(format!("{other:?}"))),
        None => return Err(PhotoError::NotAnImage),
    }
    let too_many = |width, height| PhotoError::TooManyPixels {
        width,
        height,
        max_side: limits.max_side,
        max_megapixels: limits.max_pixels / 1_000_000,
    };
    let check_size = |width: u32, height: u32| {
        if width == 0 || height == 0 {
            return Err(PhotoError::Broken("宽或高为 0".into()));
        }
        if width > limits.max_side
            || height > limits.max_side
            || u64::from(width) * u64::from(height) > limits.max_pixels
        {
            return Err(too_many(width, height));
        }
        Ok(())
    };
    // The size the file's header claims, read before the decoder touches anything else.
    let (width, height) = picture_size("upload", bytes).map_err(PhotoError::Broken)?;
    check_size(width, height)?;
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    let mut decode_limits = image::Limits::default();
    decode_limits.max_image_width = Some(limits.max_side);
    decode_limits.max_image_height = Some(limits.max_side);
    // Four bytes a pixel, twice over for the decoder's working copy.
    decode_limits.max_alloc = Some(limits.max_pixels * 8);
    decoder
        .set_limits(decode_limits)
        .map_err(|_| too_many(width, height))?;
    let orientation = decoder
        .orientation()
        .map_err(|e| PhotoError::Broken(e.to_string()))?;
    let mut picture =
        DynamicImage::from_decoder(decoder).map_err(|e| PhotoError::Broken(e.to_string()))?;
    picture.apply_orientation(orientation);
    if picture.width().max(picture.height()) > limits.output_side {
        picture = picture.resize(limits.output_side, limits.output_side, FilterType::Triangle);
    }
    let rgb = flatten(&picture);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&rgb)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(Photo {
        jpeg,
        width: rgb.width(),
        height: rgb.height(),
    })
}

/// The pixel size of a picture file the report can show (PNG, JPEG or SVG), or why it
/// cannot be shown.
pub fn picture_size(name: &str, bytes: &[u8]) -> Result<(u32, u32), String> {
    match crate::image::load(name, std::sync::Arc::new(bytes.to_vec()))? {
        crate::model::Image::File { width, height, .. } => Ok((width, height)),
        crate::model::Image::Chart { width, height, .. } => Ok((width as u32, height as u32)),
    }
}

/// The picture as RGB, transparent areas laid on white (JPEG has no transparency).
fn flatten(picture: &DynamicImage) -> image::RgbImage {
    if !picture.color().has_alpha() {
        return picture.to_rgb8();
    }
    let rgba = picture.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (x, y, pixel) in rgba.enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        let over = |c: u8| {
            let alpha = u16::from(a);
            ((u16::from(c) * alpha + 255 * (255 - alpha)) / 255) as u8
        };
        rgb.put_pixel(x, y, image::Rgb([over(r), over(g), over(b)]));
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbaImage::from_pixel(width, height, image::Rgba([200, 30, 30, 128]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_png_becomes_a_jpeg_scaled_to_the_page() {
        let limits = PhotoLimits {
            output_side: 100,
            ..PhotoLimits::default()
        };
        let photo = prepare(&png(400, 200), &limits).unwrap();
        assert_eq!((photo.width, photo.height), (100, 50));
        assert_eq!(&photo.jpeg[..2], &[0xFF, 0xD8], "JPEG magic");
        let small = prepare(&png(40, 20), &limits).unwrap();
        assert_eq!(
            (small.width, small.height),
            (40, 20),
            "small pictures keep their size"
        );
    }

    /// A JPEG 40×20 px with an EXIF block saying "rotate 90° clockwise to view" and a
    /// camera make that must not survive.
    fn rotated_jpeg() -> Vec<u8> {
        let picture = image::RgbImage::from_pixel(40, 20, image::Rgb([10, 120, 60]));
        let mut plain = Vec::new();
        JpegEncoder::new_with_quality(&mut plain, 90)
            .encode_image(&picture)
            .unwrap();
        // TIFF header (big-endian), one IFD entry: Orientation (0x0112) = 6, then a Make
        // tag (0x010F) holding "SECRETCAM".
        let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend_from_slice(&[0, 2]);
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        let make_offset: u32 = 8 + 2 + 24 + 4;
        tiff.extend_from_slice(&[0x01, 0x0F, 0, 2, 0, 0, 0, 10]);
        tiff.extend_from_slice(&make_offset.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0]);
        tiff.extend_from_slice(b"SECRETCAM\0");
        let mut segment = b"Exif\0\0".to_vec();
        segment.extend_from_slice(&tiff);
        let length = (segment.len() + 2) as u16;
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(&segment);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn the_camera_orientation_is_applied_and_metadata_is_dropped() {
        let original = rotated_jpeg();
        assert!(original.windows(9).any(|w| w == b"SECRETCAM"));
        let photo = prepare(&original, &PhotoLimits::default()).unwrap();
        assert_eq!((photo.width, photo.height), (20, 40), "turned upright");
        assert!(!photo.jpeg.windows(4).any(|w| w == b"Exif"), "no EXIF left");
        assert!(!photo.jpeg.windows(9).any(|w| w == b"SECRETCAM"));
    }

    #[test]
    fn what_is_not_a_photo_is_refused_before_decoding() {
        let limits = PhotoLimits::default();
        assert!(matches!(
            prepare(b"%PDF-1.7 hello", &limits),
            Err(PhotoError::NotAnImage)
        ));
        let tight = PhotoLimits {
            max_bytes: 10,
            ..limits
        };
        assert!(matches!(
            prepare(&png(4, 4), &tight),
            Err(PhotoError::TooLarge { .. })
        ));
        let narrow = PhotoLimits {
            max_side: 100,
            ..limits
        };
        let err = prepare(&png(200, 10), &narrow).unwrap_err();
        assert!(matches!(err, PhotoError::TooManyPixels { .. }), "{err}");
        let mut broken = png(50, 50);
        broken.truncate(60);
        assert!(prepare(&broken, &limits).is_err());
    }
}
