//! Picture files of the report (photos, scans, drawings): recognising PNG, JPEG and SVG
//! and reading their pixel size, so every renderer can place them at the right ratio.

use std::sync::Arc;

use crate::model::{Image, ImageFormat};

/// Reads a picture file, or says why it cannot be used.
pub fn load(name: &str, bytes: Arc<Vec<u8>>) -> Result<Image, String> {
    let (format, (width, height)) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        (ImageFormat::Png, png_size(&bytes)?)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        (ImageFormat::Jpeg, jpeg_size(&bytes)?)
    } else if looks_like_svg(&bytes) {
        (ImageFormat::Svg, svg_size(&bytes)?)
    } else {
        return Err("不是 PNG、JPEG 或 SVG 图片".into());
    };
    if width == 0 || height == 0 {
        return Err("图片尺寸为 0".into());
    }
    Ok(Image::File {
        name: name.to_string(),
        bytes,
        format,
        width,
        height,
    })
}

fn png_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let field = |at: usize| -> Result<u32, String> {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| "PNG 文件不完整".to_string())
    };
    if bytes.get(12..16) != Some(b"IHDR") {
        return Err("PNG 文件缺少 IHDR 块".into());
    }
    Ok((field(16)?, field(20)?))
}

fn jpeg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let mut at = 2;
    while at + 9 < bytes.len() {
        if bytes[at] != 0xFF {
            at += 1;
            continue;
        }
        let marker = bytes[at + 1];
        let length = u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        // SOF0–SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let height = u16::from_be_bytes([bytes[at + 5], bytes[at + 6]]) as u32;
            let width = u16::from_be_bytes([bytes[at + 7], bytes[at + 8]]) as u32;
            return Ok((width, height));
        }
        at += 2 + length;
    }
    Err("JPEG 文件中找不到图像尺寸".into())
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    String::from_utf8_lossy(head).contains("<svg")
}

fn svg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let tree = resvg::usvg::Tree::from_data(bytes, &resvg::usvg::Options::default())
        .map_err(|e| format!("SVG 无法解析：{e}"))?;
    let size = tree.size();
    Ok((size.width().round() as u32, size.height().round() as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused() {
        assert!(load("x.png", Arc::new(b"not an image".to_vec())).is_err());
        assert!(load("x.png", Arc::new(b"\x89PNG\r\n\x1a\n".to_vec())).is_err());
    }

    #[test]
    fn svg_size_is_read() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"></svg>"#;
        match load("a.svg", Arc::new(svg.to_vec())).unwrap() {
            Image::File { width, height, .. } => assert_eq!((width, height), (40, 30)),
            other => panic!("{other:?}"),
        }
    }
}
