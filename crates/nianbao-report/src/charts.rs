//! Charts drawn from the data as SVG with Chinese labels: students by 专业大类, the
//! structure of the full-time teachers, further education by route over the years, and
//! each indicator that a standard judges against its threshold. The same SVG is inlined
//! in HTML, handed to typst for the PDF and rasterised (resvg) for the Word document.

use std::fmt::Write as _;

use nianbao_core::indicator::IndicatorResult;
use nianbao_core::number;
use nianbao_core::{Dataset, Year};

use crate::model::Image;

/// The fonts a chart asks for, first the one Debian's fonts-noto-cjk installs.
pub const FONT_FAMILY: &str = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, SimHei, Microsoft YaHei, sans-serif";

const PALETTE: &[&str] = &[
    "#8b1a1a", "#d08c2b", "#3d6a8f", "#6b8e4e", "#7a5c99", "#3e9aa8", "#b55d5d", "#8c7a55",
];
const INK: &str = "#1f2328";
const MUTED: &str = "#59636e";
const GRID: &str = "#d8dee4";
const PASS: &str = "#2f7d4a";
const FAIL: &str = "#c0392b";

/// The charts a template may place with `chart("id")`.
pub const CHARTS: &[(&str, &str)] = &[
    ("students_by_category", "在校生按专业大类分布"),
    ("staff_structure", "专任教师学历、职称与年龄结构"),
    ("further_by_route", "近年毕业生升学途径"),
    ("standards", "办学条件重点指标与标准对照"),
    ("students_trend", "近年招生、在校生与毕业生人数"),
];

/// What charts are drawn from.
pub struct ChartData<'a> {
    pub data: &'a Dataset,
    pub year: Year,
    pub years: &'a [Year],
    pub indicators: &'a [IndicatorResult],
}

/// A drawn chart and its default caption.
pub struct Chart {
    pub caption: String,
    pub image: Image,
}

/// Draws the chart `id`, or says which data it lacks.
/// Whether a chart of this name exists.
pub fn exists(id: &str) -> bool {
    CHARTS.iter().any(|(c, _)| *c == id)
}

/// The names of every chart, for messages and the editor.
pub fn names() -> Vec<&'static str> {
    CHARTS.iter().map(|(c, _)| *c).collect()
}

pub fn draw(id: &str, input: &ChartData<'_>) -> Result<Chart, String> {
    let caption = CHARTS
        .iter()
        .find(|(c, _)| *c == id)
        .map(|(_, caption)| caption.to_string())
        .ok_or_else(|| {
            let known: Vec<&str> = CHARTS.iter().map(|(c, _)| *c).collect();
            format!("没有名为「{id}」的图表（可用：{}）", known.join("、"))
        })?;
    let svg = match id {
        "students_by_category" => students_by_category(input)?,
        "staff_structure" => staff_structure(input)?,
        "further_by_route" => further_by_route(input)?,
        "standards" => standards(input)?,
        _ => students_trend(input)?,
    };
    Ok(Chart {
        caption,
        image: Image::Chart {
            svg: svg.text,
            width: svg.width,
            height: svg.height,
        },
    })
}

struct Svg {
    text: String,
    width: f64,
    height: f64,
}

/// An SVG canvas that text and shapes are written into.
struct Canvas {
    body: String,
    width: f64,
}

impl Canvas {
    fn new(width: f64) -> Canvas {
        Canvas {
            body: String::new(),
            width,
        }
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
            w.max(0.0),
            h.max(0.0)
        );
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="{width}"/>"#
        );
    }

    /// Text; `anchor` is start, middle or end.
    fn text(
        &mut self,
        (x, y): (f64, f64),
        text: &str,
        size: f64,
        anchor: &str,
        fill: &str,
        bold: bool,
    ) {
        let weight = if bold { r#" font-weight="bold""# } else { "" };
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{weight}>{}</text>"#,
            escape(text)
        );
    }

    fn finish(self, height: f64) -> Svg {
        let text = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="{FONT_FAMILY}"><rect x="0" y="0" width="{w}" height="{height}" fill="#ffffff"/>{}</svg>"##,
            self.body,
            w = self.width,
        );
        Svg {
            text,
            width: self.width,
            height,
        }
    }
}

/// Escapes text for SVG and HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(ch),
        }
    }
    out
}

/// The width of a label in px at `size`: a CJK character is one em, others about half.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.56 } else { 1.0 })
        .sum::<f64>()
        * size
}

/// A round tick step for an axis with five divisions reaching `value` (1, 1.5, 2, 2.5 … × 10^k).
fn nice_step(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let raw = value / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    for step in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if step * magnitude >= raw {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// The axis maximum: five round steps at or above `value`.
fn nice_max(value: f64) -> f64 {
    5.0 * nice_step(value)
}

fn need(input: &ChartData<'_>, year: Year, code: &str) -> Result<f64, String> {
    input
        .data
        .value(year, code)
        .ok_or_else(|| format!("缺少 {year} 年度的数据项 {code}"))
}

fn students_by_category(input: &ChartData<'_>) -> Result<Svg, String> {
    let data = input.data;
    let mut rows: Vec<(String, f64)> = data
        .categories()
        .into_iter()
        .map(|c| {
            let sum = data
                .majors_in(c)
                .filter_map(|m| data.major_value(input.year, "major.enrolled", &m.name))
                .sum::<f64>();
            (c.to_string(), sum)
        })
        .filter(|(_, v)| *v > 0.0)
        .collect();
    if rows.is_empty() {
        return Err(format!("{} 年度没有各专业在校生人数", input.year));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let width = 680.0;
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.0, 13.0))
        .fold(0.0, f64::max)
        + 16.0;
    let value_w = 130.0;
    let bar_w = width - label_w - value_w - 10.0;
    let row_h = 30.0;
    let top = 34.0;
    let mut c = Canvas::new(width);
    c.text(
        (width / 2.0, 20.0),
        &format!("{} 年度在校生 {} 人", input.year, number::grouped(total, 0)),
        14.0,
        "middle",
        INK,
        true,
    );
    for (i, (name, value)) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h;
        c.text((label_w - 8.0, y + 19.0), name, 13.0, "end", INK, false);
        let w = bar_w * value / max;
        c.rect(
            label_w,
            y + 6.0,
            w,
            row_h - 12.0,
            PALETTE[i % PALETTE.len()],
        );
        c.text(
            (label_w + w + 6.0, y + 19.0),
            &format!(
                "{} 人（{}%）",
                number::grouped(*value, 0),
                number::fixed(100.0 * value / total, 1)
            ),
            12.0,
            "start",
            MUTED,
            false,
        );
    }
    Ok(c.finish(top + rows.len() as f64 * row_h + 10.0))
}

fn staff_structure(input: &ChartData<'_>) -> Result<Svg, String> {
    let y = input.year;
    let groups: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "学历",
            vec![
                ("硕士", "staff.full_time.degree.master"),
                ("本科", "staff.full_time.degree.bachelor"),
                ("本科以下", "staff.full_time.degree.below_bachelor"),
            ],
        ),
        (
            "职称",
            vec![
                ("正高级", "staff.full_time.title.senior"),
                ("副高级", "staff.full_time.title.associate_senior"),
                ("中级", "staff.full_time.title.intermediate"),
                ("初级", "staff.full_time.title.junior"),
            ],
        ),
        (
            "年龄",
            vec![
                ("30岁及以下", "staff.full_time.age.under_30"),
                ("31-40岁", "staff.full_time.age.from_31_to_40"),
                ("41-50岁", "staff.full_time.age.from_41_to_50"),
                ("51-60岁", "staff.full_time.age.from_51_to_60"),
                ("60岁以上", "staff.full_time.age.over_60"),
            ],
        ),
    ];
    let width = 680.0;
    let label_w = 56.0;
    let bar_w = width - label_w - 20.0;
    let mut c = Canvas::new(width);
    let total = need(input, y, "staff.full_time.total")?;
    c.text(
        (width / 2.0, 20.0),
        &format!("{y} 年度专任教师 {} 人", number::grouped(total, 0)),
        14.0,
        "middle",
        INK,
        true,
    );
    let mut top = 36.0;
    let mut drawn = 0;
    for (title, parts) in groups {
        let values: Vec<(&str, f64)> = parts
            .iter()
            .filter_map(|(name, code)| input.data.value(y, code).map(|v| (*name, v)))
            .filter(|(_, v)| *v > 0.0)
            .collect();
        let sum: f64 = values.iter().map(|v| v.1).sum();
        if sum <= 0.0 {
            continue;
        }
        drawn += 1;
        c.text((label_w - 10.0, top + 21.0), title, 13.0, "end", INK, true);
        let mut x = label_w;
        for (i, (_, value)) in values.iter().enumerate() {
            let w = bar_w * value / sum;
            c.rect(x, top + 4.0, w, 26.0, PALETTE[i % PALETTE.len()]);
            if w > 44.0 {
                c.text(
                    (x + w / 2.0, top + 22.0),
                    &format!("{}%", number::fixed(100.0 * value / sum, 1)),
                    11.0,
                    "middle",
                    "#ffffff",
                    false,
                );
            }
            x += w;
        }
        // Legend under the bar.
        let mut lx = label_w;
        for (i, (name, value)) in values.iter().enumerate() {
            let label = format!("{name} {}人", number::grouped(*value, 0));
            c.rect(lx, top + 40.0, 10.0, 10.0, PALETTE[i % PALETTE.len()]);
            c.text((lx + 14.0, top + 49.5), &label, 11.5, "start", MUTED, false);
            lx += 14.0 + text_width(&label, 11.5) + 16.0;
        }
        top += 72.0;
    }
    if drawn == 0 {
        return Err(format!("缺少 {y} 年度专任教师的学历、职称或年龄结构数据"));
    }
    Ok(c.finish(top + 4.0))
}

/// Vertical bars grouped by year, one series per element.
fn grouped_bars(
    input: &ChartData<'_>,
    title: &str,
    series: &[(&str, &str)],
    unit: &str,
) -> Result<Svg, String> {
    let years: Vec<Year> = input
        .years
        .iter()
        .copied()
        .filter(|y| {
            series
                .iter()
                .any(|(_, code)| input.data.value(*y, code).is_some())
        })
        .collect();
    if years.is_empty() {
        let codes: Vec<&str> = series.iter().map(|s| s.1).collect();
        return Err(format!("各年度均没有 {} 的数据", codes.join("、")));
    }
    let max = years
        .iter()
        .flat_map(|y| series.iter().filter_map(|(_, c)| input.data.value(*y, c)))
        .fold(0.0, f64::max);
    let axis_max = nice_max(max * 1.08);
    let width = 680.0;
    let (left, right, top, plot_h) = (64.0, 16.0, 40.0, 220.0);
    let plot_w = width - left - right;
    let mut c = Canvas::new(width);
    c.text((width / 2.0, 20.0), title, 14.0, "middle", INK, true);
    for i in 0..=5 {
        let v = axis_max * i as f64 / 5.0;
        let y = top + plot_h - plot_h * i as f64 / 5.0;
        c.line(left, y, width - right, y, GRID, 1.0);
        c.text(
            (left - 6.0, y + 4.0),
            &number::grouped(v, 0),
            11.0,
            "end",
            MUTED,
            false,
        );
    }
    c.text(
        (left - 6.0, top - 10.0),
        &format!("（{unit}）"),
        11.0,
        "end",
        MUTED,
        false,
    );
    let group_w = plot_w / years.len() as f64;
    let bar_w = (group_w * 0.7 / series.len() as f64).min(46.0);
    for (g, year) in years.iter().enumerate() {
        let start = left + g as f64 * group_w + (group_w - bar_w * series.len() as f64) / 2.0;
        for (s, (_, code)) in series.iter().enumerate() {
            let Some(value) = input.data.value(*year, code) else {
                continue;
            };
            let h = plot_h * value / axis_max;
            let x = start + s as f64 * bar_w;
            c.rect(
                x + 2.0,
                top + plot_h - h,
                bar_w - 4.0,
                h,
                PALETTE[s % PALETTE.len()],
            );
            c.text(
                (x + bar_w / 2.0, top + plot_h - h - 4.0),
                &number::grouped(value, 0),
                10.5,
                "middle",
                INK,
                false,
            );
        }
        c.text(
            (left + (g as f64 + 0.5) * group_w, top + plot_h + 18.0),
            &format!("{year}年"),
            12.0,
            "middle",
            INK,
            false,
        );
    }
    c.line(left, top + plot_h, width - right, top + plot_h, INK, 1.0);
    let mut lx = left;
    let ly = top + plot_h + 36.0;
    for (s, (name, _)) in series.iter().enumerate() {
        c.rect(lx, ly, 11.0, 11.0, PALETTE[s % PALETTE.len()]);
        c.text((lx + 15.0, ly + 10.0), name, 12.0, "start", INK, false);
        lx += 15.0 + text_width(name, 12.0) + 22.0;
    }
    Ok(c.finish(ly + 22.0))
}

fn further_by_route(input: &ChartData<'_>) -> Result<Svg, String> {
    grouped_bars(
        input,
        "毕业生升学途径（人）",
        &[
            ("职教高考统招", "further.exam"),
            ("中高贯通", "further.through_college"),
            ("中本贯通", "further.through_undergraduate"),
            ("升入本科院校", "further.undergraduate"),
        ],
        "人",
    )
}

fn students_trend(input: &ChartData<'_>) -> Result<Svg, String> {
    grouped_bars(
        input,
        "招生、在校生与毕业生人数（人）",
        &[
            ("招生人数", "students.intake_total"),
            ("在校生人数", "students.enrolled_total"),
            ("毕业生人数", "students.graduates_total"),
        ],
        "人",
    )
}

fn standards(input: &ChartData<'_>) -> Result<Svg, String> {
    // One row per distinct (indicator, comparison, threshold).
    let mut rows: Vec<(&IndicatorResult, String, f64, bool)> = Vec::new();
    for indicator in input.indicators {
        if indicator.value.is_none() {
            continue;
        }
        for verdict in &indicator.verdicts {
            let op = verdict.op.symbol().replace(">=", "≥").replace("<=", "≤");
            if rows
                .iter()
                .any(|r| r.0.id == indicator.id && r.1 == op && r.2 == verdict.threshold)
            {
                continue;
            }
            rows.push((indicator, op, verdict.threshold, verdict.pass));
        }
    }
    if rows.is_empty() {
        return Err(format!("{} 年度没有可与标准对照的指标", input.year));
    }
    let width = 680.0;
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.0.name, 12.5))
        .fold(0.0, f64::max)
        + 14.0;
    let value_w = 200.0;
    let bar_w = width - label_w - value_w - 10.0;
    let row_h = 30.0;
    let top = 36.0;
    let mut c = Canvas::new(width);
    c.text(
        (width / 2.0, 20.0),
        &format!("{} 年度指标值（色条）与标准（竖线）", input.year),
        14.0,
        "middle",
        INK,
        true,
    );
    for (i, (indicator, op, threshold, pass)) in rows.iter().enumerate() {
        let value = indicator.value.unwrap_or_default();
        let y = top + i as f64 * row_h;
        let scale = value.max(*threshold) * 1.15;
        c.text(
            (label_w - 8.0, y + 19.0),
            &indicator.name,
            12.5,
            "end",
            INK,
            false,
        );
        c.rect(label_w, y + 7.0, bar_w, row_h - 14.0, "#eef1f4");
        let color = if *pass { PASS } else { FAIL };
        c.rect(label_w, y + 7.0, bar_w * value / scale, row_h - 14.0, color);
        let tx = label_w + bar_w * threshold / scale;
        c.line(tx, y + 3.0, tx, y + row_h - 3.0, INK, 2.0);
        let shown = number::grouped(value, indicator.decimals);
        let unit = if indicator.unit.is_empty() {
            String::new()
        } else {
            indicator.unit.clone()
        };
        c.text(
            (label_w + bar_w + 8.0, y + 19.0),
            &format!(
                "{shown}{unit}（标准{op}{}）{}",
                number::grouped(*threshold, number::printed_decimals(*threshold)),
                if *pass { "达标" } else { "未达标" }
            ),
            11.5,
            "start",
            if *pass { MUTED } else { FAIL },
            !*pass,
        );
    }
    Ok(c.finish(top + rows.len() as f64 * row_h + 8.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(2887.0), 3000.0);
        assert_eq!(nice_max(10418.0), 12500.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(nice_max(0.0), 5.0);
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
