//! Narrative templates: Markdown with minijinja bindings to the data. Every number in the
//! prose comes through a binding, and a binding to a fact that does not exist is an error
//! naming the template and line, never an empty string.
//!
//! Functions: `v("element", year?)`, `has("element", year?)`, `prev("element")`,
//! `ind("indicator")`, `major_sum("major.enrolled", category?)`, and the block placers
//! `table("staff")`, `chart("standards", caption?)`, `figure("images/x.png", "caption")`.
//! Filters: `num(decimals)`, `wan(decimals)` (元 → 万元), `pct(decimals)`,
//! `share(whole, decimals=)`, `change(before, unit)`, `growth(before, decimals)`,
//! `cn_date`. Without decimals a filter prints as the one number-format rule
//! ([`nianbao_core::number::Style`]) says, the rule the tables print with: `num` a count
//! whole and an amount with two decimals unless whole ("2,887", "4,181.30"), `pct` a
//! percentage as entered ("96.8%").
//!
//! Elements and indicators are named by their code or by their Chinese name
//! (`v("教职工总数")`, `ind("生师比")`), so a school's own text reads in its own words. An
//! unknown name is an error that lists the nearest known names. A binding whose fact has no
//! value in the year asked is a data gap: the render fails, and the gap is kept so the
//! caller can show it as a gap instead of as an error in the text.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use nianbao_core::indicator::IndicatorResult;
use nianbao_core::number::Style;
use nianbao_core::{Dataset, Definitions, Year};

use crate::charts::{self, ChartData};
use crate::content::Content;
use crate::error::ReportError;
use crate::format::{Kinds, year_change};
use crate::markdown;
use crate::model::{Block, Figure};
use crate::tables;

/// What the template functions read, shared by their closures.
struct Shared {
    data: Dataset,
    /// Element code → Chinese name.
    names: BTreeMap<String, String>,
    /// Chinese name → element code.
    codes: BTreeMap<String, String>,
    /// How each element's values print in tables.
    kinds: Kinds,
    year: Year,
    years: Vec<Year>,
    indicators: Vec<IndicatorResult>,
    content: Content,
    /// Blocks placed by the template being rendered, referred to by markers.
    placed: Mutex<Vec<Option<Block>>>,
    /// The data gaps met by the template being rendered.
    gaps: Mutex<Vec<String>>,
}

/// A template environment over one dataset and year.
pub struct Narrative {
    env: Environment<'static>,
    shared: Arc<Shared>,
    context: Value,
}

fn error(kind: ErrorKind, message: impl Into<String>) -> minijinja::Error {
    minijinja::Error::new(kind, message.into())
}

fn undefined(message: impl Into<String>) -> minijinja::Error {
    error(ErrorKind::UndefinedError, message)
}

impl Narrative {
    /// Builds the environment and registers every Markdown template of the content under
    /// the name errors will show.
    pub fn new(
        definitions: &Definitions,
        data: &Dataset,
        year: Year,
        years: &[Year],
        indicators: &[IndicatorResult],
        content: &Content,
        context: Value,
    ) -> Result<Narrative, ReportError> {
        let shared = Arc::new(Shared {
            data: data.clone(),
            names: definitions
                .elements
                .iter()
                .map(|e| (e.code.clone(), e.name.clone()))
                .collect(),
            codes: definitions
                .elements
                .iter()
                .map(|e| (e.name.clone(), e.code.clone()))
                .collect(),
            kinds: Kinds::new(definitions),
            year,
            years: years.to_vec(),
            indicators: indicators.to_vec(),
            content: content.clone(),
            placed: Mutex::new(Vec::new()),
            gaps: Mutex::new(Vec::new()),
        });
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_keep_trailing_newline(true);
        for (_, file) in content.under("") {
            if file.display.ends_with(".md") {
                env.add_template_owned(file.display.clone(), file.text()?.to_string())
                    .map_err(|e| ReportError::template(e, &file.display))?;
            }
        }
        add_functions(&mut env, &shared);
        add_filters(&mut env, &shared);
        Ok(Narrative {
            env,
            shared,
            context,
        })
    }

    /// Renders the template at content path `path` to blocks; `extra` is merged into the
    /// context (e.g. the section being written).
    pub fn render(&self, path: &str, extra: Value) -> Result<Vec<Block>, ReportError> {
        let file = self.shared.content.require(path, path)?;
        let text = self.render_text(&file.display, extra)?;
        self.blocks(&file.display, &text)
    }

    /// Renders a template string that belongs to `display` (a case body).
    pub fn render_str(
        &self,
        display: &str,
        source: &str,
        extra: Value,
    ) -> Result<Vec<Block>, ReportError> {
        self.reset();
        let ctx = minijinja::context! { ..extra, ..self.context.clone() };
        let text = self
            .env
            .render_named_str(display, source, ctx)
            .map_err(|e| ReportError::template(e, display))?;
        self.blocks(display, &text)
    }

    fn reset(&self) {
        if let Ok(mut placed) = self.shared.placed.lock() {
            placed.clear();
        }
        if let Ok(mut gaps) = self.shared.gaps.lock() {
            gaps.clear();
        }
    }

    /// The data gaps the last render met (facts without a value, indicators that cannot
    /// be computed), in order; empty when the render failed for another reason.
    pub fn take_gaps(&self) -> Vec<String> {
        self.shared
            .gaps
            .lock()
            .map(|mut g| std::mem::take(&mut *g))
            .unwrap_or_default()
    }

    fn render_text(&self, display: &str, extra: Value) -> Result<String, ReportError> {
        self.reset();
        let template = self
            .env
            .get_template(display)
            .map_err(|e| ReportError::template(e, display))?;
        let ctx = minijinja::context! { ..extra, ..self.context.clone() };
        template
            .render(ctx)
            .map_err(|e| ReportError::template(e, display))
    }

    fn blocks(&self, display: &str, text: &str) -> Result<Vec<Block>, ReportError> {
        let mut placed = self
            .shared
            .placed
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        let content = &self.shared.content;
        let mut missing: Option<String> = None;
        let mut picture = |path: &str, caption: &str| -> Result<Block, String> {
            if content.get(path).is_none() {
                missing = Some(path.to_string());
            }
            picture_block(content, path, caption)
        };
        let result = markdown::to_blocks(text, &mut placed, &mut picture);
        result.map_err(|message| match missing {
            Some(image) => ReportError::MissingImage {
                file: display.to_string(),
                image,
            },
            None => ReportError::Content {
                file: display.to_string(),
                message,
            },
        })
    }

    /// The figure block of a picture in the content, or an error naming `asked_by`.
    pub fn picture(&self, asked_by: &str, path: &str, caption: &str) -> Result<Block, ReportError> {
        picture_block(&self.shared.content, path, caption).map_err(|message| {
            if self.shared.content.get(path).is_none() {
                ReportError::MissingImage {
                    file: asked_by.to_string(),
                    image: path.to_string(),
                }
            } else {
                ReportError::Content {
                    file: asked_by.to_string(),
                    message,
                }
            }
        })
    }
}

/// A figure from a picture file of the content.
fn picture_block(content: &Content, path: &str, caption: &str) -> Result<Block, String> {
    let file = content
        .get(path)
        .ok_or_else(|| format!("图片文件 {path} 不存在"))?;
    if caption.trim().is_empty() {
        return Err(format!("图片 {path} 没有图题"));
    }
    let image = crate::image::load(path, file.bytes.clone())
        .map_err(|e| format!("图片 {}：{e}", file.display))?;
    Ok(Block::Figure(Box::new(Figure {
        number: 0,
        caption: caption.trim().to_string(),
        image,
    })))
}

fn place(shared: &Shared, block: Block) -> String {
    match shared.placed.lock() {
        Ok(mut placed) => {
            placed.push(Some(block));
            markdown::marker(placed.len() - 1)
        }
        Err(_) => String::new(),
    }
}

fn resolve_year(at: Option<i64>, default: Year) -> Result<Year, minijinja::Error> {
    match at {
        None => Ok(default),
        Some(y) => Year::new(y).map_err(|e| error(ErrorKind::InvalidOperation, e.to_string())),
    }
}

/// The names closest to `wanted`, for an error message: at most three, nearest first.
pub(crate) fn nearest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = names
        .map(|name| (strsim::levenshtein(wanted, name), name))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, name)| name).collect()
}

fn unknown_name(kind: &str, wanted: &str, near: Vec<&str>) -> minijinja::Error {
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!("；相近的有：{}", near.join("、"))
    };
    error(
        ErrorKind::UndefinedError,
        format!("没有名为「{wanted}」的{kind}{hint}"),
    )
}

/// The element code a text names, by code or by Chinese name.
fn element_code<'a>(shared: &'a Shared, wanted: &str) -> Result<&'a str, minijinja::Error> {
    if let Some((code, _)) = shared.names.get_key_value(wanted) {
        return Ok(code);
    }
    if let Some(code) = shared.codes.get(wanted.trim()) {
        return Ok(code);
    }
    Err(unknown_name(
        "数据项",
        wanted,
        nearest(wanted, shared.codes.keys().map(String::as_str)),
    ))
}

/// Records a data gap and returns the error that stops the render.
fn gap(shared: &Shared, message: String) -> minijinja::Error {
    if let Ok(mut gaps) = shared.gaps.lock() {
        gaps.push(message.clone());
    }
    undefined(message)
}

fn value_of(shared: &Shared, wanted: &str, at: Year) -> Result<f64, minijinja::Error> {
    let code = element_code(shared, wanted)?;
    let name = shared.names.get(code).map_or(code, String::as_str);
    shared
        .data
        .value(at, code)
        .ok_or_else(|| gap(shared, format!("「{name}」在 {at} 年度没有数据")))
}

fn add_functions(env: &mut Environment<'static>, shared: &Arc<Shared>) {
    let s = shared.clone();
    env.add_function("v", move |code: String, at: Option<i64>| {
        value_of(&s, &code, resolve_year(at, s.year)?)
    });
    let s = shared.clone();
    env.add_function("has", move |wanted: String, at: Option<i64>| {
        let code = element_code(&s, &wanted)?;
        Ok::<bool, minijinja::Error>(s.data.value(resolve_year(at, s.year)?, code).is_some())
    });
    let s = shared.clone();
    env.add_function("prev", move |code: String| {
        let before = s
            .year
            .back(1)
            .ok_or_else(|| gap(&s, format!("{} 年度没有上一年度", s.year)))?;
        value_of(&s, &code, before)
    });
    let s = shared.clone();
    env.add_function("ind", move |id: String| {
        let wanted = id.trim();
        let indicator = s
            .indicators
            .iter()
            .find(|i| i.id == wanted || i.name == wanted)
            .ok_or_else(|| {
                unknown_name(
                    "指标",
                    wanted,
                    nearest(wanted, s.indicators.iter().map(|i| i.name.as_str())),
                )
            })?;
        if indicator.value.is_none() {
            return Err(gap(
                &s,
                format!(
                    "指标「{}」在 {} 年度无法计算：缺少数据（{}）",
                    indicator.name, s.year, indicator.formula_names
                ),
            ));
        }
        Ok(Value::from_serialize(indicator))
    });
    let s = shared.clone();
    env.add_function(
        "major_sum",
        move |code: String, category: Option<String>| -> Result<f64, minijinja::Error> {
            let code = element_code(&s, &code)?.to_string();
            let majors: Vec<_> = s
                .data
                .majors
                .iter()
                .filter(|m| category.as_deref().is_none_or(|c| m.category == c))
                .collect();
            if majors.is_empty() {
                return Err(gap(
                    &s,
                    format!("没有专业大类为「{}」的专业", category.unwrap_or_default()),
                ));
            }
            let values: Vec<f64> = majors
                .iter()
                .filter_map(|m| s.data.major_value(s.year, &code, &m.name))
                .collect();
            if values.is_empty() {
                let name = s.names.get(&code).cloned().unwrap_or(code);
                return Err(gap(
                    &s,
                    format!("{} 年度没有各专业的「{name}」数据", s.year),
                ));
            }
            Ok(values.iter().sum())
        },
    );
    let s = shared.clone();
    env.add_function(
        "table",
        move |id: String| -> Result<String, minijinja::Error> {
            let table = match id.as_str() {
                "staff" => tables::staff_table(&s.data, &s.kinds, &s.years, 0),
                "students" => tables::students_table(&s.data, &s.kinds, &s.years, 0),
                "further" => tables::further_table(&s.data, &s.kinds, &s.years, 0),
                other => {
                    return Err(undefined(format!(
                        "没有名为「{other}」的表格（可用：staff、students、further）"
                    )));
                }
            };
            if table.rows.is_empty() {
                return Err(gap(&s, format!("表格「{}」没有任何数据行", table.caption)));
            }
            Ok(place(&s, Block::Table(Box::new(table))))
        },
    );
    let s = shared.clone();
    env.add_function(
        "chart",
        move |id: String, caption: Option<String>| -> Result<String, minijinja::Error> {
            let input = ChartData {
                data: &s.data,
                year: s.year,
                years: &s.years,
                indicators: &s.indicators,
            };
            if !charts::exists(&id) {
                return Err(undefined(format!(
                    "没有名为「{id}」的图表（可用：{}）",
                    charts::names().join("、")
                )));
            }
            let chart = charts::draw(&id, &input).map_err(|message| gap(&s, message))?;
            let figure = Figure {
                number: 0,
                caption: caption.unwrap_or(chart.caption),
                image: chart.image,
            };
            Ok(place(&s, Block::Figure(Box::new(figure))))
        },
    );
    let s = shared.clone();
    env.add_function(
        "figure",
        move |path: String, caption: String| -> Result<String, minijinja::Error> {
            let block = picture_block(&s.content, &path, &caption).map_err(undefined)?;
            Ok(place(&s, block))
        },
    );
}

/// The style a filter prints in: the decimals asked for (`num(2)`), else its default from
/// the one number-format rule ([`Style`]), so text prints a figure as the tables do.
fn style(asked: Option<u32>, default: Style) -> Style {
    match asked {
        Some(d) => Style::exactly(d.min(6)),
        None => default,
    }
}

fn add_filters(env: &mut Environment<'static>, shared: &Arc<Shared>) {
    env.add_filter("num", |value: f64, d: Option<u32>| {
        style(d, Style::NUMBER).format(value)
    });
    env.add_filter("wan", |value: f64, d: Option<u32>| {
        style(d, Style::AMOUNT).format(value / 10_000.0)
    });
    env.add_filter("pct", |value: f64, d: Option<u32>| {
        format!("{}%", style(d, Style::PERCENT).format(value))
    });
    let s = shared.clone();
    env.add_filter(
        "share",
        move |part: f64, whole: f64, kwargs: Kwargs| -> Result<String, minijinja::Error> {
            let d: Option<u32> = kwargs.get("decimals")?;
            kwargs.assert_all_used()?;
            if whole == 0.0 {
                return Err(gap(&s, "占比的分母为 0，无法计算".to_string()));
            }
            Ok(format!(
                "{}%",
                style(d, Style::COMPUTED_PERCENT).format(100.0 * part / whole)
            ))
        },
    );
    env.add_filter("change", |now: f64, before: f64, unit: Option<String>| {
        year_change(now, before, unit.as_deref().unwrap_or("人"))
    });
    let s = shared.clone();
    env.add_filter(
        "growth",
        move |now: f64, before: f64, d: Option<u32>| -> Result<String, minijinja::Error> {
            if before == 0.0 {
                return Err(gap(&s, "上一年度为 0，无法计算增幅".to_string()));
            }
            let rate = 100.0 * (now - before) / before;
            let shown = style(d, Style::COMPUTED_PERCENT).format(rate.abs());
            if shown.trim_start_matches(['0', '.']).is_empty() {
                Ok("与上年持平".into())
            } else if rate > 0.0 {
                Ok(format!("同比增长{shown}%"))
            } else {
                Ok(format!("同比下降{shown}%"))
            }
        },
    );
    env.add_filter("cn_date", |date: String| crate::format::chinese_date(&date));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn narrative(template: &str) -> Result<Vec<Block>, ReportError> {
        let mut data = Dataset::default();
        let y = Year::new(2025).unwrap();
        let before = Year::new(2024).unwrap();
        data.set(
            nianbao_core::FactKey::school(y, "students.intake_total"),
            3211.0,
        );
        data.set(
            nianbao_core::FactKey::school(before, "students.intake_total"),
            3435.0,
        );
        data.set(
            nianbao_core::FactKey::school(y, "funding.personnel"),
            8382.74,
        );
        data.set(
            nianbao_core::FactKey::school(before, "funding.personnel"),
            7173.0,
        );
        let definitions = Definitions::builtin().unwrap();
        let mut content = Content::default();
        content.insert("t.md", "sections/t.md", template.as_bytes().to_vec());
        let n = Narrative::new(
            &definitions,
            &data,
            y,
            &[before, y],
            &[],
            &content,
            Value::from(()),
        )?;
        n.render("t.md", minijinja::context! { year => 2025 })
    }

    fn text(blocks: &[Block]) -> String {
        blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph(p) => p.text(),
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn bindings_format_numbers() {
        let blocks = narrative(
            "招生 {{ v(\"students.intake_total\") | num }} 人，{{ v(\"students.intake_total\") | change(prev(\"students.intake_total\")) }}；\
             人员经费 {{ v(\"funding.personnel\") | num(2) }} 万元，{{ v(\"funding.personnel\") | growth(prev(\"funding.personnel\"), 2) }}，\
             占 {{ 1 | share(4) }}，{{ 12.345 | pct(2) }}，{{ 123456 | wan }} 万元。",
        )
        .unwrap();
        assert_eq!(
            text(&blocks),
            "招生 3,211 人，同比减少224人；人员经费 8,382.74 万元，同比增长16.87%，占 25.0%，12.35%，12.35 万元。"
        );
    }

    #[test]
    fn a_missing_fact_is_an_error_with_file_and_line() {
        let err = narrative("第一行\n{{ v(\"staff.total\") }}")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("sections/t.md:2:"), "{err}");
        assert!(err.contains("教职工总数"), "{err}");
        let err = narrative("{{ v(\"no.such\") }}").unwrap_err().to_string();
        assert!(err.contains("no.such"), "{err}");
        let err = narrative("\n\n{{ nothing }}").unwrap_err().to_string();
        assert!(err.starts_with("sections/t.md:3:"), "{err}");
    }

    #[test]
    fn a_missing_picture_names_the_template() {
        let err = narrative("{{ figure(\"images/none.png\", \"图\") }}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sections/t.md"), "{err}");
        assert!(err.contains("images/none.png"), "{err}");
        let err = narrative("![大门](images/none.png)")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("sections/t.md") && err.contains("images/none.png"),
            "{err}"
        );
    }
}
