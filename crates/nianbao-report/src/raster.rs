//! Rasterising for the Word document: SVG charts and pictures to PNG with resvg (Chinese
//! labels drawn with the system's CJK fonts), and JPEG to PNG.

use resvg::{tiny_skia, usvg};

use crate::error::ReportError;

/// Renders SVG to PNG at `scale`; returns the PNG and its pixel size.
pub fn svg_to_png(svg: &[u8], scale: f32) -> Result<(Vec<u8>, u32, u32), ReportError> {
    let options = usvg::Options {
        fontdb: crate::fonts::system(),
        font_family: "Noto Sans CJK SC".into(),
        ..usvg::Options::default()
    };
    let tree =
        usvg::Tree::from_data(svg, &options).map_err(|e| ReportError::Chart(e.to_string()))?;
    let size = tree
        .size()
        .to_int_size()
        .scale_by(scale)
        .ok_or_else(|| ReportError::Chart("图像尺寸无效".into()))?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| ReportError::Chart("图像尺寸无效".into()))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = encode_png(&pixmap)?;
    Ok((png, size.width(), size.height()))
}

/// Re-encodes a JPEG as PNG at its own size.
pub fn jpeg_to_png(
    jpeg: &[u8],
    width: u32,
    height: u32,
) -> Result<(Vec<u8>, u32, u32), ReportError> {
    let svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="{width}" height="{height}"><image width="{width}" height="{height}" xlink:href="data:image/jpeg;base64,{}"/></svg>"#,
        crate::html::base64(jpeg)
    );
    svg_to_png(svg.as_bytes(), 1.0)
}

/// PNG with fast compression: the Word file is zipped again anyway, and the default
/// compression level costs far more time than it saves bytes on flat-coloured charts.
fn encode_png(pixmap: &tiny_skia::Pixmap) -> Result<Vec<u8>, ReportError> {
    // tiny-skia keeps premultiplied colour; opaque pixels (all of a chart) are the same.
    let opaque = pixmap.pixels().iter().all(|p| p.alpha() == u8::MAX);
    let rgba: std::borrow::Cow<'_, [u8]> = if opaque {
        std::borrow::Cow::Borrowed(pixmap.data())
    } else {
        let mut rgba = Vec::with_capacity(pixmap.data().len());
        for pixel in pixmap.pixels() {
            let c = pixel.demultiply();
            rgba.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
        }
        std::borrow::Cow::Owned(rgba)
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Sub);
    let error = |e: png::EncodingError| ReportError::Chart(e.to_string());
    let mut writer = encoder.write_header().map_err(error)?;
    writer.write_image_data(&rgba).map_err(error)?;
    writer.finish().map_err(error)?;
    Ok(out)
}
