//! The digest's one picture: the weekly mean score as bars, drawn into an
//! RGB buffer and encoded as a small PNG for an inline (CID) part. It has no
//! text on purpose: mail clients block or rescale images, so the numbers
//! are in the table next to it, and no font has to be shipped.

use super::period::Week;
use plotters::prelude::*;

pub const WIDTH: u32 = 480;
pub const HEIGHT: u32 = 120;
const BAR: RGBColor = RGBColor(147, 197, 253);
const LATEST: RGBColor = RGBColor(37, 99, 235);
const GRID: RGBColor = RGBColor(229, 231, 235);

/// Drawing or encoding failed.
#[derive(Debug, thiserror::Error)]
#[error("could not draw the digest chart: {0}")]
pub struct ChartError(String);

/// The trend as a PNG: one bar per week on a 0–100 scale, the last week darker.
///
/// # Errors
/// A plotting or encoding failure (neither depends on the data).
pub fn trend_png(trend: &[(Week, Option<f64>)]) -> Result<Vec<u8>, ChartError> {
    let fail = |e: &dyn std::fmt::Display| ChartError(e.to_string());
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        let weeks = trend.len().max(1) as f64;
        let mut chart =
            ChartBuilder::on(&root).margin(6).build_cartesian_2d(0f64..weeks, 0f64..100f64).map_err(|e| fail(&e))?;
        let grid = [25.0, 50.0, 75.0, 100.0].map(|y| PathElement::new(vec![(0.0, y), (weeks, y)], GRID));
        chart.draw_series(grid).map_err(|e| fail(&e))?;
        let last = trend.len().saturating_sub(1);
        let bars = trend.iter().enumerate().filter_map(|(i, (_, score))| {
            let x = i as f64;
            let colour = if i == last { LATEST } else { BAR };
            score.map(|s| Rectangle::new([(x + 0.15, 0.0), (x + 0.85, s.clamp(0.0, 100.0))], colour.filled()))
        });
        chart.draw_series(bars).map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| fail(&e))?;
    writer.write_image_data(&rgb).map_err(|e| fail(&e))?;
    writer.finish().map_err(|e| fail(&e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_is_a_small_png_whose_bars_follow_the_scores() {
        let week: Week = "2026-W47".parse().unwrap();
        let trend = vec![(week.previous(), Some(20.0)), (week, Some(90.0))];
        let png_bytes = trend_png(&trend).unwrap();
        assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(png_bytes.len() < 8 * 1024, "{} bytes", png_bytes.len());
        let decoder = png::Decoder::new(png_bytes.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut buf).unwrap();
        let pixel = |x: u32, y: u32| {
            let i = ((y * WIDTH + x) * 3) as usize;
            (buf[i], buf[i + 1], buf[i + 2])
        };
        // About 64 on the scale (clear of the grid lines): the 90 bar (right) is filled, the 20 bar (left) is not.
        let y = HEIGHT * 3 / 8;
        assert_eq!(pixel(WIDTH * 3 / 4, y), (LATEST.0, LATEST.1, LATEST.2));
        assert_eq!(pixel(WIDTH / 4, y), (255, 255, 255));
        assert_eq!(pixel(WIDTH / 4, HEIGHT - 10), (BAR.0, BAR.1, BAR.2));
    }
}
